//! Hands the paths the sys crate's build exported (`DEP_HEDGE_LMDB_*`) to the tests.

fn main() {
    for (dep, name) in
        [("DEP_HEDGE_LMDB_PATCHED_LIB", "PATCHED_LIB"), ("DEP_HEDGE_LMDB_PRISTINE_LIB", "PRISTINE_LIB")]
    {
        let value = std::env::var(dep)
            .unwrap_or_else(|_| panic!("{dep} not set: is hedge-lmdb-sys built with `pristine`?"));
        println!("cargo:rustc-env=HEDGE_TESTS_{name}={value}");
    }
}
