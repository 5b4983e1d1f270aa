//! hedge's environments and transactions: heed 0.23's behaviour, plus hedge's rules for
//! nested read transactions (any TLS mode, leaked children never abort the process).

use std::io;
use std::time::Duration;

use hedge::{env_closing_event, EnvFlags, EnvOpenOptions, Error, MdbError};

#[test]
fn one_env_per_path_and_closing_events() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY (tests): the env files are only touched through hedge.
    let env = unsafe { EnvOpenOptions::new().open(dir.path()) }.unwrap();
    let again = unsafe { EnvOpenOptions::new().open(dir.path()) };
    assert!(matches!(again, Err(Error::EnvAlreadyOpened)), "{again:?}");
    let clone = env.clone();
    let event = env.prepare_for_closing();
    assert!(!event.wait_timeout(Duration::from_millis(10)), "a clone still holds it open");
    drop(clone);
    assert!(event.wait_timeout(Duration::from_secs(5)));
    assert!(env_closing_event(dir.path()).is_none());
    let reopened = unsafe { EnvOpenOptions::new().open(dir.path()) }.unwrap();
    assert_eq!(reopened.path(), dir.path().canonicalize().unwrap());
}

#[test]
fn bad_open_arguments_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = unsafe { EnvOpenOptions::new().map_size(10_000).open(dir.path()) }.unwrap_err();
    match err {
        Error::Io(e) => {
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(e.to_string().contains("multiple of the system page size"), "{e}");
        }
        other => panic!("expected an InvalidInput error, got {other:?}"),
    }
    let missing = unsafe { EnvOpenOptions::new().open(dir.path().join("missing")) }.unwrap_err();
    assert!(matches!(&missing, Error::Io(e) if e.kind() == io::ErrorKind::NotFound), "{missing:?}");

    let not_lmdb = dir.path().join("not-lmdb");
    std::fs::write(&not_lmdb, vec![0x5a; 64 * 1024]).unwrap();
    let err = unsafe { EnvOpenOptions::new().flags(EnvFlags::NO_SUB_DIR).open(&not_lmdb) }.unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::Invalid)), "{err:?}");
    // The failed open released the path.
    assert!(env_closing_event(&not_lmdb).is_none());
}

#[test]
fn write_txns_commit_abort_and_nest() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().open(dir.path()) }.unwrap();
    let base = env.info().last_txn_id;
    let wtxn = env.write_txn().unwrap();
    assert_eq!(wtxn.id(), base + 1, "a write txn works on the next snapshot");
    wtxn.commit().unwrap();
    env.write_txn().unwrap().abort();
    drop(env.write_txn().unwrap());

    let mut parent = env.write_txn().unwrap();
    env.nested_write_txn(&mut parent).unwrap().commit().unwrap();
    env.nested_write_txn(&mut parent).unwrap().abort();
    parent.commit().unwrap();
    // Commits that write nothing do not create a snapshot (LMDB).
    assert_eq!(env.info().last_txn_id, base);
    assert_eq!(env.read_txn().unwrap().id(), base);
    assert!(env.max_key_size() >= 511);
    assert!(env.max_readers() >= 1);
}

#[test]
fn nested_readers_work_whatever_the_tls_mode_and_move_to_threads() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().open(dir.path()) }.unwrap(); // WithTls
    let wtxn = env.write_txn().unwrap();
    let id = wtxn.id();
    if !hedge_tests::nested_readers_available(&wtxn) {
        return;
    }
    let children: Vec<_> = (0..8).map(|_| wtxn.nested_read_txn().unwrap()).collect();
    std::thread::scope(|s| {
        for child in children {
            s.spawn(move || assert_eq!(child.id(), id));
        }
    });
    wtxn.commit().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().read_txn_without_tls().open(dir.path()) }.unwrap();
    let wtxn = env.write_txn().unwrap();
    let child = env.nested_read_txn(&wtxn).unwrap();
    assert_eq!(child.id(), wtxn.id());
    drop(child);
    wtxn.commit().unwrap();
}

#[test]
fn a_leaked_nested_reader_makes_commit_fail_without_aborting_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().read_txn_without_tls().open(dir.path()) }.unwrap();
    let wtxn = env.write_txn().unwrap();
    if !hedge_tests::nested_readers_available(&wtxn) {
        return;
    }
    std::mem::forget(wtxn.nested_read_txn().unwrap());
    let err = wtxn.commit().unwrap_err();
    assert!(matches!(err, Error::Mdb(MdbError::BadTxn)), "{err:?}");
    assert!(err.to_string().contains("has a child"), "{err}");
    // The process goes on, and committed state stays readable.
    assert_eq!(env.read_txn().unwrap().id(), env.info().last_txn_id);
}

#[test]
fn the_linked_lmdb_is_the_one_the_features_chose() {
    assert_eq!(hedge::PATCHED_LMDB, !cfg!(feature = "pristine-lmdb"));
    // Either way the behaviour follows: upstream refuses read-only children.
    let dir = tempfile::tempdir().unwrap();
    let env = unsafe { EnvOpenOptions::new().open(dir.path()) }.unwrap();
    let wtxn = env.write_txn().unwrap();
    assert_eq!(wtxn.nested_read_txn().is_ok(), hedge::PATCHED_LMDB);
}
