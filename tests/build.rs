//! Build script of the test suites.
//!
//! 1. Hands the paths the sys crate exported (`DEP_HEDGE_LMDB_*`) to the tests.
//! 2. Builds the C test programs twice, with the patched library sources and with the
//!    pristine ones, both with `MDB_IDL_LOGN=10` so that spill cases spill, and writes
//!    `ctests.rs`, one `#[test]` per program and library: the patched build must pass, the
//!    pristine one must fail (except where `PASSES_ON_PRISTINE` says why not). The programs
//!    are every `mtest*.c` the patch series adds to liblmdb (one small upstream-style test
//!    per patch) and hedge's own, larger suites in `tests/c/`.
//! 3. Builds upstream's own command-line tools (`mdb_dump`, `mdb_load`, `mdb_stat`,
//!    `mdb_copy`) from the pristine tree, as its Makefile would, for the interoperability
//!    tests of the `hedge` command (`cli/tests`); their directory is
//!    `hedge_tests::built::UPSTREAM_TOOLS`.
//! 4. Builds the power-loss recorder (`tests/c/power/recorder.c`: a workload over LMDB built
//!    into it with its file I/O logged) against the patched and the pristine sources, for
//!    `tests/tests/crash_power.rs`; Linux only (it names descriptors through `/proc`).

use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn dep(name: &str) -> String {
    env::var(format!("DEP_HEDGE_LMDB_{name}")).unwrap_or_else(|_| {
        panic!("DEP_HEDGE_LMDB_{name} is not set: hedge-lmdb-sys must be built with `pristine`")
    })
}

fn c_files(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("mtest") && n.ends_with(".c"))
        .collect()
}

/// Compiles `test` (from the patched tree) with the library sources of `lib_dir` into `exe`.
/// A test that builds the library into itself (`#include "mdb.c"`, to count what LMDB
/// copies and writes) is compiled alone, from a copy next to `exe`, so that its include
/// finds `lib_dir`'s sources rather than the patched ones beside the original. A line
/// `hedge-tests-cflags: FLAGS` in the source adds compiler flags for the whole program
/// (`alloc_suite.c` counts basic blocks with `-fsanitize-coverage=trace-pc`).
fn compile(test: &Path, lib_dir: &Path, defines: &[String], exe: &Path) {
    let source = fs::read_to_string(test).unwrap_or_else(|e| panic!("cannot read {}: {e}", test.display()));
    let includes_library = source.contains("#include \"mdb.c\"");
    let copy = exe.with_extension("c");
    fs::write(&copy, &source).unwrap();
    let compiler = cc::Build::new().opt_level(1).debug(true).warnings(false).get_compiler();
    let mut cmd = compiler.to_command();
    cmd.arg("-o").arg(exe).arg("-I").arg(lib_dir).arg("-pthread");
    // The suites' shared headers (tests/c/*.h), after the library's own directory.
    cmd.arg("-I").arg(test.parent().expect("a C test in a directory"));
    for d in defines {
        cmd.arg(format!("-D{d}"));
    }
    cmd.args(extra_cflags(&source));
    cmd.arg(&copy);
    if !includes_library {
        cmd.arg(lib_dir.join("mdb.c")).arg(lib_dir.join("midl.c"));
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run the C compiler: {e}"));
    if !out.status.success() {
        panic!("compiling {} failed:\n{}", test.display(), String::from_utf8_lossy(&out.stderr));
    }
}

/// The flags a C test asks for with a `hedge-tests-cflags:` line (up to the end of the line or
/// of its comment).
fn extra_cflags(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.split_once("hedge-tests-cflags:"))
        .flat_map(|(_, flags)| flags.split("*/").next().unwrap_or("").split_whitespace())
        .map(str::to_string)
        .collect()
}

/// Programs that pass on pristine LMDB too, and why that is right.
const PASSES_ON_PRISTINE: &[&str] = &[
    // Patch 0003 removes work (copies, zeroing): its mtest checks that overwrites in nested
    // txns keep their meaning, before and after. The work is counted by
    // tests/c/reserve_suite.c, which fails on pristine.
    "mtest_ovcopy",
    // Patch 0007 keeps the allocation policy (same pages, same file growth) and removes
    // repeated searches: its mtest checks that ranges which appear after a failed search are
    // still found, before and after. The work is counted by tests/c/alloc_suite.c, which
    // fails on pristine.
    "mtest_ovrun",
    // Patch 0008 changes how a txn finds its dirty pages, not what it finds: its mtest
    // changes the dirty list every way a write txn can and reads every value back, before
    // and after. The work is counted by tests/c/dirty_suite.c, which fails on pristine.
    "mtest_dindex",
];

/// Compiles upstream's tool `name` (`mdb_dump`, ...) from `lib_dir` into `out/name`, with
/// upstream's default configuration (none of the sys crate's defines).
fn compile_tool(name: &str, lib_dir: &Path, out: &Path) {
    let compiler = cc::Build::new().opt_level(1).warnings(false).get_compiler();
    let mut cmd = compiler.to_command();
    cmd.arg("-o").arg(out.join(name)).arg("-I").arg(lib_dir).arg("-pthread");
    for source in [format!("{name}.c"), "mdb.c".into(), "midl.c".into()] {
        cmd.arg(lib_dir.join(source));
    }
    let result = cmd.output().unwrap_or_else(|e| panic!("cannot run the C compiler: {e}"));
    if !result.status.success() {
        panic!("compiling upstream's {name} failed:\n{}", String::from_utf8_lossy(&result.stderr));
    }
}

fn main() {
    for (key, name) in [("PATCHED_LIB", "PATCHED_LIB"), ("PRISTINE_LIB", "PRISTINE_LIB")] {
        println!("cargo:rustc-env=HEDGE_TESTS_{name}={}", dep(key));
    }

    let patched = PathBuf::from(dep("PATCHED_LIBLMDB"));
    let pristine = PathBuf::from(dep("PRISTINE_LIBLMDB"));
    let defines: Vec<String> = dep("DEFINES")
        .split_whitespace()
        .filter(|d| !d.starts_with("MDB_IDL_LOGN="))
        .map(str::to_string)
        .chain(["MDB_IDL_LOGN=10".to_string()])
        .collect();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("ctests");
    fs::create_dir_all(&out).unwrap();

    let suites = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("c");
    println!("cargo:rerun-if-changed={}", suites.display());
    println!("cargo:rerun-if-changed={}", suites.join("blocks.h").display());
    let mut programs: Vec<(String, PathBuf)> = c_files(&patched)
        .difference(&c_files(&pristine))
        .map(|name| (name.clone(), patched.join(name)))
        .collect();
    let mut own: Vec<String> = fs::read_dir(&suites)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", suites.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".c"))
        .collect();
    own.sort();
    programs.extend(own.into_iter().map(|name| (name.clone(), suites.join(name))));
    for dir in [&patched, &pristine] {
        for file in ["mdb.c", "midl.c", "midl.h", "lmdb.h"] {
            println!("cargo:rerun-if-changed={}", dir.join(file).display());
        }
    }
    let mut tests = String::new();
    std::thread::scope(|s| {
        for (name, test) in &programs {
            println!("cargo:rerun-if-changed={}", test.display());
            let stem = name.trim_end_matches(".c").to_string();
            for (variant, lib_dir) in [("patched", &patched), ("pristine", &pristine)] {
                let exe = out.join(format!("{stem}-{variant}"));
                let (test, defines) = (test.clone(), &defines);
                s.spawn(move || compile(&test, lib_dir, defines, &exe));
                let must_pass = variant == "patched" || PASSES_ON_PRISTINE.contains(&stem.as_str());
                let expect = if must_pass { "passes" } else { "fails" };
                tests.push_str(&format!(
                    "#[test]\nfn {stem}_{expect}_on_{variant}() {{\n    \
                     run_c_test({stem:?}, {exe:?}, {must_pass});\n}}\n\n",
                    exe = out.join(format!("{stem}-{variant}")).display().to_string(),
                ));
            }
        }
    });
    fs::write(out.join("ctests.rs"), tests).unwrap();

    let tools = PathBuf::from(env::var("OUT_DIR").unwrap()).join("upstream-tools");
    fs::create_dir_all(&tools).unwrap();
    std::thread::scope(|s| {
        for name in ["mdb_dump", "mdb_load", "mdb_stat", "mdb_copy"] {
            println!("cargo:rerun-if-changed={}", pristine.join(format!("{name}.c")).display());
            let (pristine, tools) = (&pristine, &tools);
            s.spawn(move || compile_tool(name, pristine, tools));
        }
    });
    println!("cargo:rustc-env=HEDGE_TESTS_UPSTREAM_TOOLS={}", tools.display());

    let recorder = suites.join("power").join("recorder.c");
    let linux = env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    std::thread::scope(|s| {
        for (variant, lib_dir) in [("PATCHED", &patched), ("PRISTINE", &pristine)] {
            let exe = out.join(format!("power-recorder-{}", variant.to_lowercase()));
            println!("cargo:rustc-env=HEDGE_TESTS_POWER_RECORDER_{variant}={}", exe.display());
            if linux {
                let (recorder, defines) = (&recorder, &defines);
                s.spawn(move || compile(recorder, lib_dir, defines, &exe));
            }
        }
    });
    println!("cargo:rustc-env=HEDGE_TESTS_CTESTS_RS={}", out.join("ctests.rs").display());
}
