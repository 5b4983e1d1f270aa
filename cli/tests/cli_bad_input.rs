//! Every command on a missing path, a file that is not LMDB's, a truncated data file and a
//! damaged page: a message that says what is wrong and what to do, exit status 1, never a
//! panic or a signal. And malformed dumps given to `load`.

mod common;

use std::path::{Path, PathBuf};

use common::*;

use hedge::EnvOpenOptions;

const PAGE: u64 = 4096;

/// The cases, each a path to give as ENV and the words its message must contain.
struct Cases {
    _dir: tempfile::TempDir,
    dump: Vec<u8>,
    cases: Vec<(&'static str, PathBuf, &'static str)>,
}

fn copy_env(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    std::fs::copy(from.join("data.mdb"), to.join("data.mdb")).unwrap();
}

/// Whether hedge's own check finds the environment at `dir` damaged.
fn damaged(dir: &Path) -> bool {
    // SAFETY (tests): nothing else uses these files; Env::check reads pages itself.
    let env = unsafe { EnvOpenOptions::new().open(dir) }.unwrap();
    let report = env.check().unwrap();
    env.prepare_for_closing().wait();
    !report.is_ok()
}

fn cases() -> Cases {
    let dir = tempfile::tempdir().unwrap();
    let valid = dir.path().join("valid");
    std::fs::create_dir(&valid).unwrap();
    write_env(&valid, &samples());
    let dump = ok(cmd(hedge(), argv!["dump", "-a", &valid]), b"");

    let not_lmdb = dir.path().join("not-lmdb");
    std::fs::create_dir(&not_lmdb).unwrap();
    std::fs::write(not_lmdb.join("data.mdb"), "just some text, not an LMDB file\n".repeat(2000)).unwrap();
    let not_lmdb_file = dir.path().join("notes.txt");
    std::fs::write(&not_lmdb_file, "a plain text file\n".repeat(500)).unwrap();

    let truncated = dir.path().join("truncated");
    copy_env(&valid, &truncated);
    let data = truncated.join("data.mdb");
    let len = std::fs::metadata(&data).unwrap().len();
    std::fs::File::options().write(true).open(&data).unwrap().set_len(len / 2 / PAGE * PAGE).unwrap();

    // The first page whose damage the check sees (a page in use): its header kept, its
    // node offsets and contents overwritten.
    let pages = len / PAGE;
    let damaged_env = (2..pages)
        .find_map(|page| {
            let candidate = dir.path().join(format!("damaged-{page}"));
            copy_env(&valid, &candidate);
            let file = std::fs::File::options().write(true).open(candidate.join("data.mdb")).unwrap();
            std::os::unix::fs::FileExt::write_all_at(&file, &[0xa5; PAGE as usize - 10], page * PAGE + 10)
                .unwrap();
            drop(file);
            damaged(&candidate).then_some(candidate)
        })
        .expect("damaging some page is noticed");

    let cases = vec![
        ("missing", dir.path().join("no-such-env"), "no such file or directory"),
        ("not LMDB (directory)", not_lmdb, "not an LMDB environment"),
        ("not LMDB (file)", not_lmdb_file, "not an LMDB environment"),
        (
            "empty directory",
            {
                let d = dir.path().join("empty");
                std::fs::create_dir(&d).unwrap();
                d
            },
            "without data.mdb",
        ),
        ("truncated", truncated, "truncated"),
        ("damaged page", damaged_env, "damaged"),
    ];
    Cases { _dir: dir, dump, cases }
}

#[test]
fn every_command_on_bad_environments_fails_with_a_message_that_says_what_to_do() {
    let Cases { _dir: dir, dump, cases } = cases();
    let mut checked = 0;
    for (case, env, words) in &cases {
        let dest = dir.path().join(format!("copy of {case}"));
        let commands = [
            argv!["space", env],
            argv!["space", "--json", env],
            argv!["stat", env],
            argv!["check", env],
            argv!["readers", env],
            argv!["copy", env, &dest],
            argv!["copy", "--compact", env, &dest],
            argv!["dump", env],
            argv!["dump", "-a", "-p", env],
            argv!["load", env],
        ];
        for args in commands {
            let shown = format!("hedge {args:?} ({case})");
            let out = run(cmd(hedge(), args.clone()), &dump);
            let (stdout, stderr) =
                (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            if args[0] == "readers" && *case == "damaged page" {
                // The reader table is in the lock file: a damaged data page does not matter.
                assert!(out.status.success(), "{shown}: {stderr}");
                continue;
            }
            if args[0] == "load" && (*case == "missing" || *case == "empty directory") {
                // load creates a new environment there.
                assert!(out.status.success(), "{shown}: {stderr}");
                continue;
            }
            assert_eq!(out.status.code(), Some(1), "{shown}: stdout {stdout} stderr {stderr}");
            let message = if args[0] == "check" && *case == "damaged page" { stdout } else { stderr };
            assert!(message.contains(words), "{shown}: expected {words:?} in {message}");
            if args[0] != "check" || *case != "damaged page" {
                assert!(message.starts_with("hedge: "), "{shown}: {message}");
                assert_eq!(message.lines().count(), 1, "{shown}: one line: {message}");
            }
            assert!(!dest.exists(), "{shown}: a failed copy leaves nothing behind");
            checked += 1;
        }
    }
    assert_eq!(checked, cases.len() * 10 - 3);
}

#[test]
fn load_refuses_malformed_dumps_and_loads_nothing_of_a_broken_section() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("env");
    let header = "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n";
    let bad: [(&str, String, &str); 7] = [
        ("empty input", String::new(), "input is empty"),
        ("prose", "hello, world\n".into(), "input line 1"),
        ("odd hex", format!("{header} 6b6\n 00\nDATA=END\n"), "input line 5"),
        ("not hex", format!("{header} zz\n 00\nDATA=END\n"), "input line 5"),
        ("no DATA=END", format!("{header} 6b\n 00\n"), "incomplete"),
        ("a key without its value", format!("{header} 6b\nDATA=END\n"), "input line 6"),
        ("a later version", "VERSION=4\nHEADER=END\nDATA=END\n".into(), "VERSION=4"),
    ];
    for (case, input, words) in bad {
        let out = run(cmd(hedge(), argv!["load", &env]), input.as_bytes());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{case}: {stderr}");
        assert!(stderr.contains(words), "{case}: expected {words:?} in {stderr}");
    }
    // What the broken sections held was not committed.
    if env.join("data.mdb").exists() {
        let dumped = ok(cmd(hedge(), argv!["dump", &env]), b"");
        assert!(!String::from_utf8_lossy(&dumped).contains(" 6b\n"), "{}", String::from_utf8_lossy(&dumped));
    }
}

#[test]
fn dump_to_a_file_never_overwrites_and_copy_needs_a_new_or_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    write_env(dir.path(), &samples());
    let existing = dir.path().join("existing.txt");
    std::fs::write(&existing, "keep me").unwrap();
    let out = run(cmd(hedge(), argv!["dump", "-o", &existing, dir.path()]), b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    let out = run(cmd(hedge(), argv!["copy", dir.path(), &existing]), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a file"));
    // An empty directory is fine; a dump to a new file equals the one on stdout.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    ok(cmd(hedge(), argv!["copy", dir.path(), &empty]), b"");
    let file = dir.path().join("dump.txt");
    ok(cmd(hedge(), argv!["dump", "-a", "-o", &file, dir.path()]), b"");
    assert_eq!(std::fs::read(&file).unwrap(), ok(cmd(hedge(), argv!["dump", "-a", dir.path()]), b""));
    // A database that is not there, in an environment with and without named databases.
    let unnamed_only = dir.path().join("unnamed-only");
    std::fs::create_dir(&unnamed_only).unwrap();
    write_env(&unnamed_only, &[Sample { name: None, flags: hedge::DatabaseFlags::empty(), entries: vec![] }]);
    for env in [dir.path(), &unnamed_only] {
        for args in [argv!["dump", env, "nosuch"], argv!["stat", env, "nosuch"]] {
            let out = run(cmd(hedge(), args), b"");
            assert_eq!(out.status.code(), Some(1));
            assert!(String::from_utf8_lossy(&out.stderr).contains("no database named \"nosuch\""));
        }
    }
    let out = run(cmd(hedge(), argv!["dump", "--all", &unnamed_only]), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no named databases"));
    // Command lines that do not parse: status 2, as clap reports them.
    let out = run(cmd(hedge(), argv!["dump", "-a", dir.path(), "plain"]), b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn load_says_what_it_waits_for_while_another_writer_holds_the_lock_then_loads() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    // SAFETY (tests): the files are only touched through LMDB.
    let env = unsafe { EnvOpenOptions::new().open(dir.path()) }.unwrap();
    let wtxn = env.write_txn().unwrap();
    let mut child = cmd(hedge(), argv!["load", dir.path()])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let dump = b"VERSION=3\nformat=print\ntype=btree\nHEADER=END\n k\n v\nDATA=END\n";
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), dump).unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("waiting for the write lock"), "{line}");
    wtxn.commit().unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(status.success(), "{rest}");
    assert!(rest.contains("loaded 1 entry"), "{rest}");
}

#[test]
fn a_dump_whose_reader_stops_early_ends_quietly() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let entries = (0..200u32).map(|i| (i.to_be_bytes().to_vec(), vec![7; 5000])).collect();
    write_env(dir.path(), &[Sample { name: None, flags: hedge::DatabaseFlags::empty(), entries }]);
    let mut child = cmd(hedge(), argv!["dump", dir.path()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0; 10];
    stdout.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"VERSION=3\n");
    drop(stdout); // as `| head` does
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}
