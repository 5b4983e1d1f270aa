//! Build script of hedge-lmdb-sys.
//!
//! config → locate and verify the pristine LMDB tree → copy it into `OUT_DIR` (once per
//! variant) → apply `patches/series` (less the patches `HEDGE_LMDB_SKIP_PATCHES` names) to
//! the patched copy → compile each copy under its own symbol prefix → bindings → metadata
//! for dependents (`DEP_HEDGE_LMDB_*`).
//!
//! Everything it reads is inside the crate (`vendor/`, `patches/`, `lmdb/`, `bindings/`) or
//! named by `LMDB_SRC_DIR`; it runs no other program but the C compiler and needs no network.
//! Nothing is ever written outside `OUT_DIR`. With `DOCS_RS` set it only writes the
//! bindings and build information that the docs need.

mod bindings;
mod compile;
mod config;
mod patch;
mod pin;
mod rename;
mod source;

use std::fs;
use std::path::{Path, PathBuf};

use config::Config;
use pin::{Checksums, Pin};

fn main() {
    if let Err(message) = run() {
        eprintln!("\nerror: hedge-lmdb-sys cannot build LMDB.\n{message}\n");
        std::process::exit(1);
    }
}

fn read(path: &Path) -> Result<String, String> {
    println!("cargo:rerun-if-changed={}", path.display());
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn warn(message: &str) {
    for line in message.lines() {
        println!("cargo:warning={line}");
    }
}

fn run() -> Result<(), String> {
    let cfg = Config::from_env()?;
    let pin = Pin::parse(&read(&cfg.in_crate("vendor/lmdb.pin"))?)?;
    let sums = Checksums::parse(&read(&cfg.in_crate("vendor/SHA256SUMS"))?)?;
    let mut series = load_series(&cfg.in_crate("patches"))?;
    let skipped = skip_patches(&cfg, &mut series)?;

    if cfg.docs_only {
        // docs.rs: the committed bindings are the API; nothing to locate, verify or compile.
        bindings::write(&cfg, None, &cfg.variants)?;
        return write_build_info(
            &cfg,
            &pin,
            "none: a documentation build (DOCS_RS), no C compiled",
            &series,
            &skipped,
        );
    }

    let located = source::locate(&cfg, &pin)?;
    let verified = check_source(&cfg, &located, &sums)?;
    // For the crate's own tests of the verification and patch steps on the real tree.
    println!("cargo:rustc-env=HEDGE_LMDB_LOCATED_TREE={}", located.liblmdb.display());
    println!("cargo:rustc-env=HEDGE_LMDB_TREE_VERIFIED={}", u8::from(verified));

    let mut built = Vec::new();
    for variant in &cfg.variants {
        let tree = cfg.out_dir.join("src").join(variant.prefix.trim_end_matches('_'));
        let liblmdb = tree.join(pin.get("upstream_subdir")?);
        copy_tree(&located.liblmdb, &liblmdb)?;
        if variant.patched && !cfg.prepatched {
            for (name, patch) in &series {
                patch
                    .apply(&tree)
                    .map_err(|e| format!("{e}\n(while building {name} into {})", tree.display()))?;
            }
        }
        built.push(compile::compile(&cfg, variant, &liblmdb)?);
    }

    let patched = built.iter().find(|b| b.variant.patched).ok_or("no patched variant configured")?;
    bindings::write(&cfg, Some(&patched.liblmdb.join("lmdb.h")), &cfg.variants)?;
    write_build_info(&cfg, &pin, &located.described_as, &series, &skipped)?;
    export_metadata(&cfg, &built);
    Ok(())
}

/// Whether the tree may be built; `Ok(true)` when it matched the pin exactly.
fn check_source(cfg: &Config, located: &source::Located, sums: &Checksums) -> Result<bool, String> {
    if cfg.prepatched {
        if cfg.variants.iter().any(|v| !v.patched) {
            return Err(
                "LMDB_SRC_PREPATCHED=1 cannot build the `pristine` feature: there is no pristine tree. \
                        Disable the feature or unset LMDB_SRC_PREPATCHED."
                    .into(),
            );
        }
        warn(&format!(
            "building {} as already patched (LMDB_SRC_PREPATCHED): checksums not checked, patches/series not applied",
            located.described_as
        ));
        return Ok(false);
    }
    match pin::verify_tree(&located.liblmdb, sums) {
        Ok(()) => Ok(true),
        Err(e) if cfg.unverified => {
            warn(&format!(
                "LMDB_SRC_UNVERIFIED=1: building {} although it is not the pinned source:",
                located.described_as
            ));
            warn(&e.to_string());
            Ok(false)
        }
        Err(e) => Err(format!("{e}\n(source: {})", located.described_as)),
    }
}

/// Reads and parses every patch of `patches/series`, so a malformed patch fails the build
/// before anything is compiled.
fn load_series(dir: &Path) -> Result<Vec<(String, patch::Patch)>, String> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let series = read(&dir.join("series"))?;
    patch::parse_series(&series)
        .into_iter()
        .map(|name| {
            let text = read(&dir.join(&name)).map_err(|e| format!("{e}\n(patches/series names {name})"))?;
            let parsed = patch::Patch::parse(&format!("patches/{name}"), &text).map_err(|e| e.to_string())?;
            Ok((name, parsed))
        })
        .collect()
}

/// Takes the patches named by `HEDGE_LMDB_SKIP_PATCHES` out of `series` and returns their
/// names; a build that leaves patches out says so on every build (`cargo:warning`), so that
/// nobody ships one unknowingly.
fn skip_patches(cfg: &Config, series: &mut Vec<(String, patch::Patch)>) -> Result<Vec<String>, String> {
    let Some(list) = &cfg.skip_patches else { return Ok(Vec::new()) };
    let names: Vec<String> = series.iter().map(|(n, _)| n.clone()).collect();
    let skipped = patch::skipped(config::SKIP_PATCHES, list, &names)?;
    if skipped.is_empty() {
        return Ok(skipped);
    }
    if cfg.prepatched {
        return Err(format!(
            "{}={list:?} cannot leave patches out of a tree built as already patched (LMDB_SRC_PREPATCHED). \
             Unset one of the two.",
            config::SKIP_PATCHES
        ));
    }
    series.retain(|(name, _)| !skipped.contains(name));
    warn(&format!(
        "{}: building LMDB WITHOUT {} of patches/series (not the library hedge ships): {}",
        config::SKIP_PATCHES,
        if skipped.len() == 1 { "this patch" } else { "these patches" },
        skipped.join(", ")
    ));
    Ok(skipped)
}

/// Copies the regular files of a `liblmdb` directory (not its subdirectories, which in a
/// checkout hold only build products) into a fresh directory.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let io = |what: &str, path: &Path, e: std::io::Error| format!("cannot {what} {}: {e}", path.display());
    if to.exists() {
        fs::remove_dir_all(to).map_err(|e| io("remove", to, e))?;
    }
    fs::create_dir_all(to).map_err(|e| io("create", to, e))?;
    for entry in fs::read_dir(from).map_err(|e| io("list", from, e))? {
        let entry = entry.map_err(|e| io("list", from, e))?;
        if entry.file_type().map_err(|e| io("stat", &entry.path(), e))?.is_file() {
            fs::copy(entry.path(), to.join(entry.file_name())).map_err(|e| io("copy", &entry.path(), e))?;
        }
    }
    Ok(())
}

fn write_build_info(
    cfg: &Config,
    pin: &Pin,
    source: &str,
    series: &[(String, patch::Patch)],
    skipped: &[String],
) -> Result<(), String> {
    let names: Vec<String> = series.iter().map(|(n, _)| format!("{n:?}")).collect();
    let skipped: Vec<String> = skipped.iter().map(|n| format!("{n:?}")).collect();
    let idl_logn = cfg
        .defines
        .iter()
        .find(|(n, _)| n == "MDB_IDL_LOGN")
        .and_then(|(_, v)| v.clone())
        .unwrap_or_else(|| "16".into());
    let text = format!(
        "/// The patch files of `patches/series` applied to the patched library, in order.\n\
         pub const PATCH_SERIES: &[&str] = &[{}];\n\
         /// The patch files of `patches/series` left out of this build by `HEDGE_LMDB_SKIP_PATCHES`\n\
         /// (empty in a normal build).\n\
         pub const SKIPPED_PATCHES: &[&str] = &[{}];\n\
         /// The upstream LMDB commit the library is built from (`vendor/lmdb.pin`).\n\
         pub const UPSTREAM_COMMIT: &str = {:?};\n\
         /// Where the source tree came from for this build.\n\
         pub const SOURCE: &str = {:?};\n\
         /// `MDB_IDL_LOGN` the libraries were compiled with (dirty list and page-list size).\n\
         pub const MDB_IDL_LOGN: u32 = {};\n",
        if cfg.prepatched { String::new() } else { names.join(", ") },
        skipped.join(", "),
        pin.get("upstream_commit")?,
        source,
        idl_logn,
    );
    fs::write(cfg.out_dir.join("build_info.rs"), text).map_err(|e| format!("cannot write build_info.rs: {e}"))
}

/// `cargo:KEY=VALUE` lines, seen by dependents' build scripts as `DEP_HEDGE_LMDB_KEY`, so
/// that they can compile C code (the patches' test programs) against a variant.
fn export_metadata(cfg: &Config, built: &[compile::Built]) {
    println!("cargo:root={}", cfg.out_dir.display());
    let defines: Vec<String> = cfg
        .defines
        .iter()
        .map(|(n, v)| v.as_ref().map_or_else(|| n.clone(), |v| format!("{n}={v}")))
        .collect();
    println!("cargo:defines={}", defines.join(" "));
    for b in built {
        let key = if b.variant.name.is_empty() { "patched" } else { b.variant.name };
        let lib: PathBuf = cfg.out_dir.join(format!("lib{}.a", b.lib_name));
        println!("cargo:{key}_liblmdb={}", b.liblmdb.display());
        println!("cargo:{key}_prefix_header={}", b.prefix_header.display());
        println!("cargo:{key}_lib={}", lib.display());
    }
}
