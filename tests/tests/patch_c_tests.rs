//! The C test programs that come with the patches (`mtest*.c` added by `patches/series`),
//! built by this crate's build script against the patched and the pristine library: each
//! must pass on the patched library and fail on the pristine one, which shows that the
//! tests test the patches.

use std::process::Command;

/// Runs one C test program in a fresh directory and checks its outcome.
fn run_c_test(name: &str, exe: &str, must_pass: bool) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(exe).arg(dir.path().join("db")).output().unwrap_or_else(|e| panic!("{exe}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout.lines().rfind(|l| l.contains(" passed, ")).unwrap_or("(no summary line)");
    println!("{name}: {summary}");
    if must_pass {
        assert!(out.status.success(), "{name} failed on the patched library:\n{stdout}\n{stderr}");
        assert!(summary.ends_with(" 0 failed"), "{summary}");
    } else {
        assert!(
            !out.status.success(),
            "{name} passed on the pristine library, so it does not test its patch:\n{stdout}"
        );
        assert!(!summary.ends_with(" 0 failed"), "{summary}");
    }
}

include!(env!("HEDGE_TESTS_CTESTS_RS"));
