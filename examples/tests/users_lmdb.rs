//! The examples (and, through the same build, hedge's doctests) must run on the LMDB that
//! users of the published crates get. Cargo unifies features within one invocation, so a
//! `cargo test --workspace` that includes hedge-tests (which asks for MDB_IDL_LOGN 10) would
//! build them a different LMDB; `.ci/test` tests hedge-tests in a run of its own.

#[test]
fn the_examples_link_the_lmdb_users_get() {
    assert_eq!(
        hedge_lmdb_sys::MDB_IDL_LOGN,
        16,
        "this build's LMDB was configured by another package's features (hedge-tests sets \
         MDB_IDL_LOGN 10): run the tests with `.ci/test`, which builds each crate with the LMDB \
         it means to test, not with one `cargo test --workspace`"
    );
    assert_eq!(
        hedge_lmdb_sys::PATCH_SERIES.len(),
        series_len(),
        "the patched library, with the whole series"
    );
    // hedge's `pristine-lmdb` feature (which hedge-tests turns on in a run of its own) would
    // link the unpatched library instead.
    assert!(hedge::PATCHED_LMDB == hedge_lmdb_sys::PATCHED, "hedge links the unpatched LMDB in this build");
}

fn series_len() -> usize {
    let series = include_str!("../../patches/series");
    series.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).count()
}
