//! Compiling one static library per variant, every exported symbol renamed with the
//! variant's prefix through a generated, force-included header (see `rename.rs`).

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{Config, Variant};
use crate::rename;

/// The C files of liblmdb that make up the library.
pub const LIBRARY_SOURCES: [&str; 2] = ["mdb.c", "midl.c"];

/// What dependents (and the C tests) need to compile against a built variant.
pub struct Built {
    pub variant: Variant,
    pub liblmdb: PathBuf,
    pub prefix_header: PathBuf,
    pub lib_name: String,
}

pub fn compile(cfg: &Config, variant: &Variant, liblmdb: &Path) -> Result<Built, String> {
    let sources: Vec<String> = LIBRARY_SOURCES
        .iter()
        .map(|f| fs::read_to_string(liblmdb.join(f)).map_err(|e| format!("cannot read {f}: {e}")))
        .collect::<Result<_, _>>()?;
    let names = rename::defined_functions(sources.iter().map(String::as_str));
    if !names.contains("mdb_env_open") {
        return Err(format!(
            "found no LMDB function definitions in {}; is it a liblmdb tree?",
            liblmdb.display()
        ));
    }
    let prefix_header = liblmdb.join("hedge_prefix.h");
    fs::write(&prefix_header, rename::prefix_header(variant.prefix, &names))
        .map_err(|e| format!("cannot write {}: {e}", prefix_header.display()))?;

    let mut build = cc::Build::new();
    build.include(liblmdb).warnings(false).flag_if_supported("-pthread");
    // The warning set of liblmdb's own Makefile, so our patches are held to upstream's bar.
    for flag in ["-W", "-Wall", "-Wno-unused-parameter", "-Wbad-function-cast", "-Wuninitialized"] {
        build.flag_if_supported(flag);
    }
    if build.get_compiler().is_like_msvc() {
        build.flag(format!("/FI{}", prefix_header.display()));
    } else {
        build.flag("-include").flag(prefix_header.display().to_string());
    }
    for (name, value) in &cfg.defines {
        build.define(name, value.as_deref());
    }
    if cfg.asan {
        build.flag("-fsanitize=address").flag("-fno-omit-frame-pointer");
    }
    for file in LIBRARY_SOURCES {
        build.file(liblmdb.join(file));
    }
    let lib_name = format!("{}lmdb", variant.prefix);
    build.try_compile(&lib_name).map_err(|e| format!("compiling LMDB ({lib_name}) failed: {e}"))?;
    if cfg.asan && !build.get_compiler().is_like_msvc() {
        // The instrumented objects call into the compiler's ASan runtime; Rust's stable
        // toolchain does not link it by itself. It must be loaded first, so run such
        // binaries with ASAN_OPTIONS=verify_asan_link_order=0 or LD_PRELOAD=libasan.so.
        println!("cargo:rustc-link-lib=dylib=asan");
    }
    Ok(Built { variant: variant.clone(), liblmdb: liblmdb.to_path_buf(), prefix_header, lib_name })
}
