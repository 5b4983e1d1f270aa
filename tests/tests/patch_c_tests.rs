//! The C test programs of the patch series (the `mtest*.c` each patch adds) and hedge's own
//! C suites (`tests/c/`), built by this crate's build script against the patched and the
//! pristine library: each must pass on the patched library and fail on the pristine one
//! (which shows that it tests its patch), except where the build script says why not.

use std::process::Command;

/// Runs one C test program in a fresh, existing directory and checks its outcome. The
/// upstream-style programs abort on the first failure; the suites also print a
/// "N passed, M failed" summary, which is checked too.
fn run_c_test(name: &str, exe: &str, must_pass: bool) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    std::fs::create_dir(&db).unwrap();
    let out = Command::new(exe).arg(&db).output().unwrap_or_else(|e| panic!("{exe}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout.lines().rfind(|l| l.contains(" passed, "));
    println!("{name}: {}", summary.unwrap_or("(no summary line)"));
    if must_pass {
        assert!(out.status.success(), "{name} failed:\n{stdout}\n{stderr}");
        if let Some(summary) = summary {
            assert!(summary.ends_with(" 0 failed"), "{summary}");
        }
    } else {
        assert!(
            !out.status.success(),
            "{name} passed on the pristine library, so it does not test its patch:\n{stdout}"
        );
    }
}

include!(env!("HEDGE_TESTS_CTESTS_RS"));
