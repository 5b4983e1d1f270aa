//! `hedge dump`, `hedge load` and `hedge stat` against upstream's `mdb_dump`, `mdb_load` and
//! `mdb_stat`, built from the pinned pristine LMDB source: byte-identical dumps, each side
//! loads the other's, round trips keep every entry, and `stat` prints the same numbers.

mod common;

use std::ffi::OsString;
use std::path::PathBuf;

use common::*;

use hedge::types::Bytes;
use hedge::{CommitOrAbort, Database, EnvOpenOptions};

fn sample_env() -> (tempfile::TempDir, PathBuf, Vec<Sample>) {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("env");
    std::fs::create_dir(&env).unwrap();
    let samples = samples();
    write_env(&env, &samples);
    (dir, env, samples)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `["dump"] + args`.
fn hedge_dump(args: &[OsString]) -> Vec<OsString> {
    let mut all = argv!["dump"];
    all.extend_from_slice(args);
    all
}

#[test]
fn hedge_dump_is_byte_identical_to_mdb_dump() {
    let (_dir, env, samples) = sample_env();
    let mut compared = 0;
    for print in [argv![], argv!["-p"]] {
        // The unnamed database (named databases' records included), then every named one.
        for all in [argv![], argv!["-a"]] {
            let args = [print.clone(), all, argv![&env]].concat();
            let upstream_out = ok(cmd(upstream("mdb_dump"), args.clone()), b"");
            let hedge_out = ok(cmd(hedge(), hedge_dump(&args)), b"");
            assert!(upstream_out.len() > 200, "a real dump: {}", text(&upstream_out));
            assert_eq!(text(&hedge_out), text(&upstream_out), "{args:?}");
            compared += 1;
        }
        for sample in &samples {
            let name = sample.name.unwrap();
            let upstream_out =
                ok(cmd(upstream("mdb_dump"), [print.clone(), argv!["-s", name, &env]].concat()), b"");
            let hedge_out = ok(cmd(hedge(), hedge_dump(&[print.clone(), argv![&env, name]].concat())), b"");
            assert_eq!(text(&hedge_out), text(&upstream_out), "{name} {print:?}");
            compared += 1;
        }
    }
    assert_eq!(compared, 4 + 2 * samples.len());
}

#[test]
fn a_dump_of_only_the_unnamed_database_matches_too() {
    let dir = tempfile::tempdir().unwrap();
    let samples = vec![Sample {
        name: None,
        flags: hedge::DatabaseFlags::DUP_SORT,
        entries: vec![
            (b"k".to_vec(), b"1".to_vec()),
            (b"k".to_vec(), b"2".to_vec()),
            (b"l".to_vec(), vec![0; 400]),
        ],
    }];
    write_env(dir.path(), &samples);
    for print in [argv![], argv!["-p"]] {
        let args = [print, argv![dir.path()]].concat();
        let upstream_out = ok(cmd(upstream("mdb_dump"), args.clone()), b"");
        let hedge_out = ok(cmd(hedge(), hedge_dump(&args)), b"");
        assert_eq!(text(&hedge_out), text(&upstream_out));
        assert!(text(&hedge_out).contains("duplicates=1\ndupsort=1\n"));
    }
}

#[test]
fn mdb_load_loads_hedge_dumps_and_hedge_load_loads_mdb_dumps() {
    let (dir, env, samples) = sample_env();
    let expected = read_env(&env, &samples);
    let original = ok(cmd(upstream("mdb_dump"), argv!["-a", &env]), b"");
    for (i, print) in [argv![], argv!["-p"]].into_iter().enumerate() {
        // hedge dump -> mdb_load.
        let dump = ok(cmd(hedge(), hedge_dump(&[argv!["-a"], print.clone(), argv![&env]].concat())), b"");
        let by_upstream = dir.path().join(format!("upstream-loaded-{i}"));
        std::fs::create_dir(&by_upstream).unwrap();
        ok(cmd(upstream("mdb_load"), argv![&by_upstream]), &dump);
        assert_eq!(read_env(&by_upstream, &samples), expected, "mdb_load of hedge dump -a {print:?}");

        // mdb_dump -> hedge load (into a directory it creates).
        let dump = ok(cmd(upstream("mdb_dump"), [argv!["-a"], print.clone(), argv![&env]].concat()), b"");
        let by_hedge = dir.path().join(format!("hedge-loaded-{i}"));
        ok(cmd(hedge(), argv!["load", &by_hedge]), &dump);
        assert_eq!(read_env(&by_hedge, &samples), expected, "hedge load of mdb_dump -a {print:?}");

        // Both loaded environments dump as the original does.
        for loaded in [&by_upstream, &by_hedge] {
            assert_eq!(text(&ok(cmd(upstream("mdb_dump"), argv!["-a", loaded]), b"")), text(&original));
        }
    }
}

#[test]
fn hedge_load_into_a_named_database_and_without_overwriting() {
    let (dir, env, _) = sample_env();
    let dump = ok(cmd(upstream("mdb_dump"), argv!["-s", "plain", &env]), b"");
    let target = dir.path().join("renamed");
    ok(cmd(hedge(), argv!["load", &target, "copy of plain"]), &dump);
    let renamed = ok(cmd(upstream("mdb_dump"), argv!["-s", "copy of plain", &target]), b"");
    assert_eq!(text(&renamed).replace("database=copy of plain", "database=plain"), text(&dump));

    // -N keeps what is there.
    let one = b"VERSION=3\nformat=print\ntype=btree\nHEADER=END\n key0000\n changed\nDATA=END\n";
    let out = run(cmd(hedge(), argv!["load", "-N", &target, "copy of plain"]), one);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("1 existing kept"), "{}", text(&out.stderr));
    assert_eq!(ok(cmd(upstream("mdb_dump"), argv!["-s", "copy of plain", &target]), b""), renamed);
    // Without it, the value is replaced.
    ok(cmd(hedge(), argv!["load", &target, "copy of plain"]), one);
    let after = ok(cmd(hedge(), argv!["dump", "-p", &target, "copy of plain"]), b"");
    assert!(text(&after).contains(" key0000\n changed\n"));
}

/// `mdb_stat -e` prints "Number of readers used" from a high-water mark of the reader table
/// that each run of either tool raises when another process keeps the table alive.
fn without_reader_count(out: &[u8]) -> String {
    text(out).lines().filter(|l| !l.contains("Number of readers used")).collect::<Vec<_>>().join("\n")
}

#[test]
fn hedge_stat_prints_what_mdb_stat_prints() {
    let (_dir, env, samples) = sample_env();
    // Free pages too: rewrite values, three times.
    {
        // SAFETY (tests): the files are only touched through LMDB.
        let hedge_env = unsafe { EnvOpenOptions::new().max_dbs(16).open(&env) }.unwrap();
        let rtxn = hedge_env.read_txn().unwrap();
        let plain: Database<Bytes, Bytes> = hedge_env
            .open_databases_and_commit(rtxn, |o, r| {
                o.open_database(r, Some("plain")).map(CommitOrAbort::<_, ()>::Commit)
            })
            .unwrap()
            .unwrap_commit()
            .unwrap();
        for round in 0..3u8 {
            let mut wtxn = hedge_env.write_txn().unwrap();
            for i in 0..100u32 {
                plain.put(&mut wtxn, format!("key{:04}", i * 3).as_bytes(), &[round; 2000]).unwrap();
            }
            wtxn.commit().unwrap();
        }
        hedge_env.prepare_for_closing().wait();
    }
    let upstream_out = ok(cmd(upstream("mdb_stat"), argv!["-efra", &env]), b"");
    let hedge_out = ok(cmd(hedge(), argv!["stat", &env]), b"");
    assert_eq!(text(&hedge_out), text(&upstream_out));
    assert!(!text(&hedge_out).contains("Free pages: 0\n"), "{}", text(&hedge_out));
    for sample in &samples {
        assert!(text(&hedge_out).contains(&format!("Status of {}\n", sample.name.unwrap())));
    }

    // One named database.
    let upstream_out = ok(cmd(upstream("mdb_stat"), argv!["-efr", "-s", "dups", &env]), b"");
    let hedge_out = ok(cmd(hedge(), argv!["stat", &env, "dups"]), b"");
    assert_eq!(text(&hedge_out), text(&upstream_out));

    // With a reader of this process in the table (pid, thread, snapshot).
    // SAFETY (tests): as above.
    let hedge_env = unsafe { EnvOpenOptions::new().read_txn_without_tls().max_dbs(16).open(&env) }.unwrap();
    let rtxn = hedge_env.read_txn().unwrap();
    let upstream_out = ok(cmd(upstream("mdb_stat"), argv!["-efra", &env]), b"");
    let hedge_out = ok(cmd(hedge(), argv!["stat", &env]), b"");
    assert_eq!(without_reader_count(&hedge_out), without_reader_count(&upstream_out));
    let mine = format!("{:>10} ", std::process::id());
    let line = text(&hedge_out).lines().find(|l| l.starts_with(&mine)).map(str::to_owned);
    assert!(line.is_some_and(|l| l.ends_with(&format!(" {}", rtxn.id()))), "{}", text(&hedge_out));
}

#[test]
fn copies_hold_the_same_data_and_a_compacted_copy_is_no_larger() {
    let (dir, env, samples) = sample_env();
    let expected = ok(cmd(upstream("mdb_dump"), argv!["-a", &env]), b"");
    for compact in [false, true] {
        let dest = dir.path().join(format!("copy-{compact}"));
        let args = [argv!["copy", &env, &dest], if compact { argv!["--compact"] } else { argv![] }].concat();
        ok(cmd(hedge(), args.clone()), b"");
        assert_eq!(text(&ok(cmd(upstream("mdb_dump"), argv!["-a", &dest]), b"")), text(&expected));
        assert_eq!(read_env(&dest, &samples), read_env(&env, &samples));
        let copied = std::fs::metadata(dest.join("data.mdb")).unwrap().len();
        assert!(copied <= std::fs::metadata(env.join("data.mdb")).unwrap().len());
        // A second copy onto it is refused, and leaves it as it was.
        let again = run(cmd(hedge(), args), b"");
        assert_eq!(again.status.code(), Some(1));
        assert!(text(&again.stderr).contains("not empty"), "{}", text(&again.stderr));
        assert_eq!(std::fs::metadata(dest.join("data.mdb")).unwrap().len(), copied);
    }
}

#[test]
fn loading_into_an_existing_environment_keeps_its_larger_map_and_grows_a_smaller_one() {
    let dir = tempfile::tempdir().unwrap();
    let map_size = |env: &std::path::Path| {
        let out = text(&ok(cmd(hedge(), argv!["stat", env]), b""));
        out.lines().find_map(|l| l.strip_prefix("  Map size: ")).unwrap().parse::<u64>().unwrap()
    };
    let dump = |map: u64| {
        format!("VERSION=3\nformat=print\ntype=btree\nmapsize={map}\nHEADER=END\n k\n v\nDATA=END\n")
    };
    let bulky = |map: u64, from: u32| {
        let mut text = format!("VERSION=3\nformat=bytevalue\ntype=btree\nmapsize={map}\nHEADER=END\n");
        for i in from..from + 1000 {
            text.push_str(&format!(" {i:08x}\n {}\n", "ab".repeat(2000)));
        }
        text + "DATA=END\n"
    };
    let env = dir.path().join("env");
    ok(cmd(hedge(), argv!["load", &env]), bulky(64 << 20, 0).as_bytes());
    assert_eq!(map_size(&env), 64 << 20, "a new environment takes the dump's map size");
    // A dump from a small environment adds to it: the environment's map is kept (with the
    // dump's, LMDB would map only what the file holds, and run out of room).
    ok(cmd(hedge(), argv!["load", &env]), bulky(1 << 20, 1000).as_bytes());
    assert_eq!(map_size(&env), 64 << 20, "a smaller map in the dump does not shrink it");
    ok(cmd(hedge(), argv!["load", &env]), dump(128 << 20).as_bytes());
    assert_eq!(map_size(&env), 128 << 20, "a larger one grows it");
    let load_with_map = |size: u64| {
        ok(cmd(hedge(), argv!["load", "--map-size", size.to_string(), &env]), dump(1 << 20).as_bytes())
    };
    load_with_map(256 << 20);
    assert_eq!(map_size(&env), 256 << 20, "--map-size is taken as given");
    // LMDB itself never stores a smaller map size than the file's.
    load_with_map(32 << 20);
    assert_eq!(map_size(&env), 256 << 20);
}
