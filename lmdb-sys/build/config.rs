//! Everything the build reads from its environment, read once and in one place, each knob
//! registered with `rerun-if-env-changed`.

use std::env;
use std::path::PathBuf;

/// One static library to build: the same LMDB tree, patched or not, under its own symbol
/// prefix so that several copies (and other LMDBs, e.g. heed's) can share one binary.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Module name on the Rust side (`""` for the crate root).
    pub name: &'static str,
    /// Prefix of every exported C symbol, e.g. `hedge_` → `hedge_mdb_env_open`.
    pub prefix: &'static str,
    /// Whether `patches/series` is applied.
    pub patched: bool,
}

pub const PATCHED: Variant = Variant { name: "", prefix: "hedge_", patched: true };
pub const PRISTINE: Variant = Variant { name: "pristine", prefix: "hedge_pristine_", patched: false };

/// The knob that leaves patches of the series out of the patched library.
pub const SKIP_PATCHES: &str = "HEDGE_LMDB_SKIP_PATCHES";

#[derive(Debug)]
pub struct Config {
    pub manifest_dir: PathBuf,
    pub out_dir: PathBuf,
    /// `LMDB_SRC_DIR`: build from this tree instead of the one the crate carries.
    pub src_dir: Option<PathBuf>,
    /// `LMDB_SRC_UNVERIFIED`: accept a tree that does not match `vendor/SHA256SUMS`.
    pub unverified: bool,
    /// `LMDB_SRC_PREPATCHED`: the tree already contains the series.
    pub prepatched: bool,
    /// `HEDGE_LMDB_SKIP_PATCHES`: patches of the series to leave out (numbers or file names,
    /// comma-separated), to measure or bisect one patch's effect. Checked against the series
    /// by `patch::skipped`.
    pub skip_patches: Option<String>,
    pub variants: Vec<Variant>,
    /// Preprocessor definitions shared by every variant.
    pub defines: Vec<(String, Option<String>)>,
    pub asan: bool,
    pub regenerate_bindings: bool,
    /// `DOCS_RS`: docs.rs builds documentation only, offline; no C is compiled.
    pub docs_only: bool,
}

fn feature(name: &str) -> bool {
    let var = format!("CARGO_FEATURE_{}", name.to_uppercase().replace('-', "_"));
    env::var_os(var).is_some()
}

/// An environment knob, tracked for reruns; the target-specific form
/// (`LMDB_SRC_DIR_x86_64_unknown_linux_gnu`) wins over the plain one, as in openssl-sys, so
/// that cross builds can point host and target at different trees.
fn knob(name: &str) -> Option<String> {
    let target = env::var("TARGET").unwrap_or_default().replace('-', "_");
    let specific = format!("{name}_{target}");
    println!("cargo:rerun-if-env-changed={specific}");
    println!("cargo:rerun-if-env-changed={name}");
    env::var(&specific).ok().or_else(|| env::var(name).ok()).filter(|v| !v.is_empty())
}

fn flag_knob(name: &str) -> bool {
    knob(name).is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// `MDB_IDL_LOGN` from the `mdb_idl_logn_N` features; the largest wins (as in
/// lmdb-master-sys), 16 being LMDB's own default.
fn idl_logn() -> u32 {
    (8..=16).rev().find(|n| feature(&format!("mdb_idl_logn_{n}"))).unwrap_or(16)
}

impl Config {
    pub fn from_env() -> Result<Config, String> {
        let path = |name: &str| {
            env::var_os(name)
                .map(PathBuf::from)
                .ok_or_else(|| format!("cargo did not set {name}; this build script must be run by cargo"))
        };
        let mut variants = vec![PATCHED];
        if feature("pristine") {
            variants.push(PRISTINE);
        }
        let mut defines = vec![("MDB_IDL_LOGN".to_string(), Some(idl_logn().to_string()))];
        if feature("posix-sem") {
            defines.push(("MDB_USE_POSIX_SEM".into(), None));
        }
        if feature("use-valgrind") {
            defines.push(("USE_VALGRIND".into(), None));
        }
        if feature("mdb-debug") {
            defines.push(("MDB_DEBUG".into(), Some("1".into())));
        }
        if feature("longer-keys") {
            // 0 means "as long as the page size allows"; lmdb.h documents it.
            defines.push(("MDB_MAXKEYSIZE".into(), Some("0".into())));
        }
        if env::var("PROFILE").as_deref() == Ok("release") {
            defines.push(("NDEBUG".into(), None));
        }
        Ok(Config {
            manifest_dir: path("CARGO_MANIFEST_DIR")?,
            out_dir: path("OUT_DIR")?,
            src_dir: knob("LMDB_SRC_DIR").map(PathBuf::from),
            unverified: flag_knob("LMDB_SRC_UNVERIFIED"),
            prepatched: flag_knob("LMDB_SRC_PREPATCHED"),
            skip_patches: knob(SKIP_PATCHES),
            variants,
            defines,
            asan: feature("asan"),
            regenerate_bindings: feature("bindgen"),
            docs_only: {
                // Set by docs.rs, whose builds have no network and need no library.
                println!("cargo:rerun-if-env-changed=DOCS_RS");
                env::var_os("DOCS_RS").is_some()
            },
        })
    }

    /// A file or directory of the crate itself. `patches/`, `vendor/` and `lmdb/` are in the
    /// package; in a git checkout they are symlinks to the repository's top-level
    /// directories (`lmdb/` to the tree `.ci/package-prep` writes), never paths above the crate.
    pub fn in_crate(&self, path: &str) -> PathBuf {
        self.manifest_dir.join(path)
    }
}
