//! What the system says about a reader's process (Linux `/proc`; elsewhere nothing).

use std::path::Path;
use std::time::Duration;

/// Whether process `pid` exists (assumed where there is no `/proc`).
pub fn running(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// How long ago process `pid` started: an upper bound of how long its read transaction has
/// been open (LMDB does not record when a transaction began).
pub fn age(pid: u32) -> Option<Duration> {
    // The kernel counts process start times in USER_HZ ticks, 100 a second on every Linux
    // architecture.
    const TICKS_PER_SECOND: f64 = 100.0;
    let uptime: f64 =
        std::fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (in parentheses, which may hold anything): the state is
    // field 3, the start time field 22.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let started: f64 = after_name.split_whitespace().nth(22 - 3)?.parse().ok()?;
    Some(Duration::from_secs_f64((uptime - started / TICKS_PER_SECOND).max(0.0)))
}

/// A duration as people say it: `3 h`, `12 min`, `40 s`, `2 d`.
pub fn spoken(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_has_an_age() {
        assert!(running(std::process::id()));
        if Path::new("/proc/self/stat").exists() {
            assert!(age(std::process::id()).is_some());
        }
        assert!(!running(u32::MAX));
        assert_eq!(age(u32::MAX), None);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(spoken(Duration::from_secs(40)), "40 s");
        assert_eq!(spoken(Duration::from_secs(3 * 3600 + 5)), "3 h");
        assert_eq!(spoken(Duration::from_secs(12 * 60)), "12 min");
        assert_eq!(spoken(Duration::from_secs(5 * 86_400)), "5 d");
    }
}
