//! Every symbol the static libraries export carries the variant's prefix, so hedge links
//! next to any other LMDB (heed's lmdb-master-sys, a system liblmdb) without a clash or,
//! worse, a silent mix of two LMDBs.

use std::process::Command;

use hedge_tests::built;

/// Names of the global symbols defined by an archive, read with `nm` (binutils).
fn defined_globals(archive: &str) -> Vec<String> {
    let out = Command::new("nm")
        .args(["--defined-only", "--extern-only", "--format=posix", archive])
        .output()
        .expect("running `nm` (binutils, installed with gcc) to list the library's symbols");
    assert!(out.status.success(), "nm {archive}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        // posix format: "name type value size"; member headers end with ':'.
        .filter(|line| !line.ends_with(':') && !line.is_empty())
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect()
}

fn assert_all_prefixed(archive: &str, prefix: &str) {
    let symbols = defined_globals(archive);
    assert!(symbols.iter().any(|s| s == &format!("{prefix}mdb_env_open")), "{archive}: {symbols:?}");
    assert!(symbols.iter().any(|s| s == &format!("{prefix}mdb_midl_alloc")), "{archive}: {symbols:?}");
    let stray: Vec<&String> = symbols.iter().filter(|s| !s.starts_with(prefix)).collect();
    assert!(stray.is_empty(), "{archive} exports symbols without the prefix {prefix}: {stray:?}");
}

#[test]
fn the_patched_library_exports_only_hedge_symbols() {
    assert_all_prefixed(built::PATCHED_LIB, hedge_lmdb_sys::SYMBOL_PREFIX);
}

#[test]
fn the_pristine_library_exports_only_its_own_symbols() {
    assert_all_prefixed(built::PRISTINE_LIB, hedge_lmdb_sys::pristine::SYMBOL_PREFIX);
}
