//! Applying `patches/series` to a copy of the tree, without `git` or `patch` binaries.
//!
//! The patches are `git format-patch` files with unified diffs whose paths are relative to
//! the upstream repository root (`a/libraries/liblmdb/mdb.c`). Application is strict: every
//! context and removed line must match exactly (no fuzz); a hunk may move (offset), as
//! `git apply` allows, because patches of one series are developed independently. Anything
//! else is an error naming the patch, the file and the hunk.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// The patch files named by a `series` file, in order.
pub fn parse_series(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// The patches of `series` that `list` (the value of the knob `knob`: patch numbers such as
/// `0007` or `7`, or file names with or without `.patch`, separated by commas) leaves out, in
/// series order. A name that matches no patch, or more than one, is an error naming the knob
/// and the series: a typo must not build the full series while claiming to leave one out.
pub fn skipped(knob: &str, list: &str, series: &[String]) -> Result<Vec<String>, String> {
    // The leading number of a file name (`0007-...` → 7), or of a name that is only digits.
    let number = |s: &str| {
        let digits = s.split('-').next().unwrap_or("");
        digits.bytes().all(|b| b.is_ascii_digit()).then(|| digits.parse::<u64>().ok()).flatten()
    };
    let mut skip = vec![false; series.len()];
    for wanted in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let matches: Vec<usize> = (0..series.len())
            .filter(|&i| {
                let name = &series[i];
                wanted == name
                    || name.strip_suffix(".patch") == Some(wanted)
                    || (wanted.bytes().all(|b| b.is_ascii_digit()) && number(wanted) == number(name))
            })
            .collect();
        match matches.as_slice() {
            [i] => skip[*i] = true,
            found => {
                let what = if found.is_empty() { "matches no patch" } else { "matches more than one patch" };
                return Err(format!(
                    "{knob}={list:?}: `{wanted}` {what} of patches/series, which holds:\n  {}\n\
                     Name patches by number (`0007`) or file name, separated by commas.",
                    series.join("\n  ")
                ));
            }
        }
    }
    Ok(series.iter().zip(skip).filter(|(_, s)| *s).map(|(n, _)| n.clone()).collect())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Context(String),
    Remove(String),
    Add(String),
}

#[derive(Debug)]
struct Hunk {
    /// 1-based number of the hunk within its file, as `git apply` counts them.
    number: usize,
    /// Line of the `@@` header in the patch file (1-based).
    patch_line: usize,
    header: String,
    old_start: usize,
    lines: Vec<Line>,
}

#[derive(Debug)]
struct FileDiff {
    path: String,
    new_file: bool,
    deleted: bool,
    hunks: Vec<Hunk>,
}

/// A parsed patch: a name (for messages) and its file diffs.
#[derive(Debug)]
pub struct Patch {
    name: String,
    files: Vec<FileDiff>,
}

/// Why a patch could not be read or applied.
#[derive(Debug)]
pub struct PatchError {
    pub patch: String,
    pub file: Option<String>,
    pub hunk: Option<(usize, usize, String)>,
    pub reason: String,
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "patch {} does not apply", self.patch)?;
        if let Some(file) = &self.file {
            write!(f, " to {file}")?;
        }
        if let Some((number, patch_line, header)) = &self.hunk {
            write!(f, ": hunk #{number} (patch line {patch_line}, `{header}`)")?;
        }
        write!(
            f,
            ": {}.\nThe series is written against the commit in vendor/lmdb.pin. If the patch was edited, \
             regenerate it with `git format-patch` from a checkout of that commit; if LMDB_SRC_DIR points \
             at another tree, check that it is the pinned one (see vendor/README.md).",
            self.reason
        )
    }
}

fn strip_prefix_component(path: &str) -> &str {
    // `a/x` and `b/x` → `x`; git format-patch always writes these prefixes.
    path.split_once('/').map_or(path, |(_, rest)| rest)
}

fn parse_range(text: &str) -> Option<(usize, usize)> {
    let (start, count) = text.split_once(',').unwrap_or((text, "1"));
    Some((start.parse().ok()?, count.parse().ok()?))
}

impl Patch {
    pub fn parse(name: &str, text: &str) -> Result<Patch, PatchError> {
        let error = |file: Option<&str>, reason: String| PatchError {
            patch: name.to_string(),
            file: file.map(str::to_string),
            hunk: None,
            reason,
        };
        let lines: Vec<&str> = text.lines().collect();
        let mut files = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let Some(rest) = lines[i].strip_prefix("diff --git ") else {
                i += 1;
                continue;
            };
            let header_path = rest.split(' ').nth(1).map(strip_prefix_component).unwrap_or("").to_string();
            let mut diff = FileDiff { path: header_path, new_file: false, deleted: false, hunks: Vec::new() };
            i += 1;
            // Extended header lines up to the first hunk.
            while i < lines.len() && !lines[i].starts_with("@@") && !lines[i].starts_with("diff --git ") {
                let line = lines[i];
                if line.starts_with("new file mode") {
                    diff.new_file = true;
                } else if line.starts_with("deleted file mode") {
                    diff.deleted = true;
                } else if let Some(path) = line.strip_prefix("+++ ") {
                    if path != "/dev/null" {
                        diff.path = strip_prefix_component(path).to_string();
                    }
                } else if line.starts_with("rename ")
                    || line.starts_with("copy ")
                    || line.starts_with("Binary files")
                    || line.starts_with("GIT binary patch")
                {
                    return Err(error(
                        Some(&diff.path),
                        format!("`{line}`: renames, copies and binary diffs are not supported; write them as plain diffs"),
                    ));
                }
                i += 1;
            }
            while i < lines.len() && lines[i].starts_with("@@") {
                let patch_line = i + 1;
                let header = lines[i];
                let bad_header = || {
                    error(Some(&diff.path), format!("malformed hunk header `{header}` at line {patch_line}"))
                };
                let mut parts = header.split(' ');
                let (Some("@@"), Some(old), Some(new)) = (parts.next(), parts.next(), parts.next()) else {
                    return Err(bad_header());
                };
                let (old_start, mut old_left) =
                    old.strip_prefix('-').and_then(parse_range).ok_or_else(bad_header)?;
                let (_, mut new_left) = new.strip_prefix('+').and_then(parse_range).ok_or_else(bad_header)?;
                let mut hunk = Hunk {
                    number: diff.hunks.len() + 1,
                    patch_line,
                    header: header.to_string(),
                    old_start,
                    lines: Vec::new(),
                };
                i += 1;
                while old_left > 0 || new_left > 0 {
                    let Some(&line) = lines.get(i) else {
                        return Err(error(
                            Some(&diff.path),
                            format!("hunk at line {patch_line} is cut short"),
                        ));
                    };
                    // An empty line is a context line whose leading space was stripped by a mailer.
                    let (tag, body) =
                        if line.is_empty() { (' ', "") } else { (line.as_bytes()[0] as char, &line[1..]) };
                    let body = format!("{body}\n");
                    match tag {
                        ' ' if old_left > 0 && new_left > 0 => {
                            old_left -= 1;
                            new_left -= 1;
                            hunk.lines.push(Line::Context(body));
                        }
                        '-' if old_left > 0 => {
                            old_left -= 1;
                            hunk.lines.push(Line::Remove(body));
                        }
                        '+' if new_left > 0 => {
                            new_left -= 1;
                            hunk.lines.push(Line::Add(body));
                        }
                        '\\' => {}
                        _ => {
                            return Err(error(
                                Some(&diff.path),
                                format!(
                                    "line {} does not fit the counts of the hunk at line {patch_line}",
                                    i + 1
                                ),
                            ))
                        }
                    }
                    i += 1;
                    // "\ No newline at end of file" belongs to the line just read.
                    if lines.get(i).is_some_and(|l| l.starts_with('\\')) {
                        if let Some(Line::Context(s) | Line::Remove(s) | Line::Add(s)) = hunk.lines.last_mut()
                        {
                            s.pop();
                        }
                        i += 1;
                    }
                }
                diff.hunks.push(hunk);
            }
            if diff.path.is_empty() {
                return Err(error(None, "a `diff --git` section names no file".into()));
            }
            files.push(diff);
        }
        if files.is_empty() {
            return Err(error(None, "it contains no `diff --git` section".into()));
        }
        Ok(Patch { name: name.to_string(), files })
    }

    /// Applies the patch to the tree rooted at `root` (the upstream repository root). Every
    /// file is patched in memory first; nothing is written unless all hunks apply.
    pub fn apply(&self, root: &Path) -> Result<(), PatchError> {
        let mut results: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
        for diff in &self.files {
            let path = root.join(&diff.path);
            let error = |hunk: Option<&Hunk>, reason: String| PatchError {
                patch: self.name.clone(),
                file: Some(diff.path.clone()),
                hunk: hunk.map(|h| (h.number, h.patch_line, h.header.clone())),
                reason,
            };
            let original = match results.get(&path) {
                Some(Some(text)) => text.clone(),
                Some(None) => String::new(),
                None if diff.new_file => {
                    if path.exists() {
                        return Err(error(None, "it creates a file that already exists".into()));
                    }
                    String::new()
                }
                None => fs::read_to_string(&path)
                    .map_err(|e| error(None, format!("cannot read {}: {e}", path.display())))?,
            };
            let mut lines: Vec<String> = original.split_inclusive('\n').map(str::to_string).collect();
            // Hunks apply in order; `delta` tracks how far earlier hunks moved later lines, and
            // `floor` keeps a hunk from matching inside text an earlier hunk already produced.
            let mut delta: isize = 0;
            let mut floor = 0usize;
            for hunk in &diff.hunks {
                let old: Vec<&str> = hunk
                    .lines
                    .iter()
                    .filter_map(|l| match l {
                        Line::Context(s) | Line::Remove(s) => Some(s.as_str()),
                        Line::Add(_) => None,
                    })
                    .collect();
                let new: Vec<String> = hunk
                    .lines
                    .iter()
                    .filter_map(|l| match l {
                        Line::Context(s) | Line::Add(s) => Some(s.clone()),
                        Line::Remove(_) => None,
                    })
                    .collect();
                // A hunk with an empty old side inserts *after* line old_start.
                let stated = if old.is_empty() { hunk.old_start } else { hunk.old_start.saturating_sub(1) };
                let expected = (stated as isize + delta).max(0) as usize;
                let fits = |at: usize| {
                    at >= floor
                        && at + old.len() <= lines.len()
                        && lines[at..at + old.len()].iter().zip(&old).all(|(a, b)| a == b)
                };
                let at = (0..=lines.len())
                    .flat_map(|d| [expected.checked_add(d), expected.checked_sub(d).filter(|_| d > 0)])
                    .flatten()
                    .find(|&at| fits(at))
                    .ok_or_else(|| error(Some(hunk), describe_mismatch(&lines, expected, &old)))?;
                lines.splice(at..at + old.len(), new.iter().cloned());
                delta = at as isize + new.len() as isize - old.len() as isize - hunk.old_start as isize
                    + if old.is_empty() { 0 } else { 1 };
                floor = at + new.len();
            }
            let text: String = lines.concat();
            if diff.deleted {
                if !text.is_empty() {
                    return Err(error(None, "it deletes the file but leaves lines in it".into()));
                }
                results.insert(path, None);
            } else {
                results.insert(path, Some(text));
            }
        }
        for (path, text) in results {
            let io = |e: std::io::Error| PatchError {
                patch: self.name.clone(),
                file: Some(path.display().to_string()),
                hunk: None,
                reason: format!("cannot write the result: {e}"),
            };
            match text {
                Some(text) => {
                    if let Some(dir) = path.parent() {
                        fs::create_dir_all(dir).map_err(io)?;
                    }
                    fs::write(&path, text).map_err(io)?
                }
                None => fs::remove_file(&path).map_err(io)?,
            }
        }
        Ok(())
    }
}

/// Says where a hunk stopped matching at its stated position, for the error message.
fn describe_mismatch(lines: &[String], at: usize, old: &[&str]) -> String {
    for (k, want) in old.iter().enumerate() {
        match lines.get(at + k) {
            Some(have) if have == want => continue,
            Some(have) => {
                return format!(
                    "its text is found nowhere in the file; at the stated line {} the patch expects {:?} but the file has {:?}",
                    at + k + 1,
                    want.trim_end_matches('\n'),
                    have.trim_end_matches('\n')
                )
            }
            None => return format!("the file ends at line {} before the hunk's text", lines.len()),
        }
    }
    "its text matches only where an earlier hunk already changed the file".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n";

    fn tree(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("libraries/liblmdb")).unwrap();
        fs::write(dir.path().join("libraries/liblmdb/mdb.c"), text).unwrap();
        dir
    }

    fn read(dir: &tempfile::TempDir, file: &str) -> String {
        fs::read_to_string(dir.path().join("libraries/liblmdb").join(file)).unwrap()
    }

    const TWO_HUNKS: &str = "From 0000 Mon Sep 17 00:00:00 2001
From: A <a@example.org>
Subject: [PATCH] example

---
 libraries/liblmdb/mdb.c | 2 +-
 libraries/liblmdb/new.c | 2 ++

diff --git a/libraries/liblmdb/mdb.c b/libraries/liblmdb/mdb.c
index 1111111..2222222 100644
--- a/libraries/liblmdb/mdb.c
+++ b/libraries/liblmdb/mdb.c
@@ -1,3 +1,4 @@
 one
+one and a half
 two
 three
@@ -7,4 +8,4 @@ fn
 seven
-eight
+EIGHT
 nine
 ten
diff --git a/libraries/liblmdb/new.c b/libraries/liblmdb/new.c
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/libraries/liblmdb/new.c
@@ -0,0 +1,2 @@
+int main(void)
+{ return 0; }
-- 
2.47.3
";

    #[test]
    fn series_skips_comments_and_blank_lines() {
        assert_eq!(
            parse_series("# A\n0001-a.patch\n\n0002-b.patch  # B\n"),
            vec!["0001-a.patch", "0002-b.patch"]
        );
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    const SERIES: [&str; 3] = ["0001-lmdb-a.patch", "0002-lmdb-b.patch", "0010-lmdb-c.patch"];

    #[test]
    fn skipped_patches_by_number_or_file_name_in_series_order() {
        let series = names(&SERIES);
        let skip = |list: &str| skipped("KNOB", list, &series).unwrap();
        assert_eq!(skip(""), Vec::<String>::new());
        assert_eq!(skip(" , "), Vec::<String>::new());
        assert_eq!(skip("0002"), names(&["0002-lmdb-b.patch"]));
        assert_eq!(skip("2"), names(&["0002-lmdb-b.patch"]));
        assert_eq!(skip("0010-lmdb-c.patch, 0001"), names(&["0001-lmdb-a.patch", "0010-lmdb-c.patch"]));
        assert_eq!(skip("0010-lmdb-c,10"), names(&["0010-lmdb-c.patch"]));
    }

    #[test]
    fn a_skipped_name_outside_the_series_fails_naming_knob_and_series() {
        let series = names(&SERIES);
        for list in ["0007", "0001,0003-lmdb-b.patch", "lmdb-a", "0001-lmdb", "1-lmdb-a.patch"] {
            let err = skipped("HEDGE_LMDB_SKIP_PATCHES", list, &series).unwrap_err();
            assert!(err.starts_with(&format!("HEDGE_LMDB_SKIP_PATCHES={list:?}: `")), "{err}");
            assert!(err.contains("matches no patch of patches/series"), "{err}");
            assert!(
                err.contains("\n  0001-lmdb-a.patch\n  0002-lmdb-b.patch\n  0010-lmdb-c.patch\n"),
                "{err}"
            );
        }
        let twice = names(&["0001-a.patch", "0001-b.patch"]);
        let err = skipped("KNOB", "0001", &twice).unwrap_err();
        assert!(err.contains("`0001` matches more than one patch"), "{err}");
    }

    #[test]
    fn a_patch_applies_and_creates_files() {
        let dir = tree(BASE);
        let patch = Patch::parse("0001-example.patch", TWO_HUNKS).unwrap();
        patch.apply(dir.path()).unwrap();
        assert_eq!(
            read(&dir, "mdb.c"),
            "one\none and a half\ntwo\nthree\nfour\nfive\nsix\nseven\nEIGHT\nnine\nten\n"
        );
        assert_eq!(read(&dir, "new.c"), "int main(void)\n{ return 0; }\n");
    }

    #[test]
    fn hunks_apply_at_an_offset() {
        // Two lines inserted at the top (as an earlier patch of the series would do).
        let dir = tree(&format!("zero\nzero\n{BASE}"));
        Patch::parse("0001-example.patch", TWO_HUNKS).unwrap().apply(dir.path()).unwrap();
        assert!(read(&dir, "mdb.c").contains("seven\nEIGHT\nnine\n"));
        assert!(read(&dir, "mdb.c").starts_with("zero\nzero\none\none and a half\n"));
    }

    #[test]
    fn a_hunk_that_does_not_match_names_patch_file_and_hunk() {
        let dir = tree(&BASE.replace("eight", "ocho"));
        let err = Patch::parse("0002-broken.patch", TWO_HUNKS).unwrap().apply(dir.path()).unwrap_err();
        assert_eq!(err.patch, "0002-broken.patch");
        assert_eq!(err.file.as_deref(), Some("libraries/liblmdb/mdb.c"));
        assert_eq!(err.hunk.as_ref().map(|h| h.0), Some(2));
        let message = err.to_string();
        assert!(
            message.contains("patch 0002-broken.patch does not apply to libraries/liblmdb/mdb.c"),
            "{message}"
        );
        assert!(message.contains("hunk #2 (patch line 18, `@@ -7,4 +8,4 @@ fn`)"), "{message}");
        assert!(message.contains("expects \"eight\" but the file has \"ocho\""), "{message}");
        // Nothing was written: the first hunk, which did match, is not in the file.
        assert!(!read(&dir, "mdb.c").contains("one and a half"));
    }

    #[test]
    fn creating_an_existing_file_is_refused() {
        let dir = tree(BASE);
        fs::write(dir.path().join("libraries/liblmdb/new.c"), "x\n").unwrap();
        let err = Patch::parse("p", TWO_HUNKS).unwrap().apply(dir.path()).unwrap_err();
        assert!(err.to_string().contains("creates a file that already exists"), "{err}");
    }

    #[test]
    fn a_hunk_cut_short_is_a_parse_error() {
        let cut = &TWO_HUNKS[..TWO_HUNKS.find(" nine").unwrap()];
        let err = Patch::parse("p", cut).unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
    }

    #[test]
    fn a_file_without_diffs_is_refused() {
        let err = Patch::parse("notes.patch", "Subject: nothing\n\nno diff here\n").unwrap_err();
        assert!(err.to_string().contains("no `diff --git` section"), "{err}");
    }

    #[test]
    fn missing_newline_at_end_of_file_is_kept() {
        let dir = tree("a\nb");
        let patch = "diff --git a/libraries/liblmdb/mdb.c b/libraries/liblmdb/mdb.c
--- a/libraries/liblmdb/mdb.c
+++ b/libraries/liblmdb/mdb.c
@@ -1,2 +1,2 @@
 a
-b
\\ No newline at end of file
+c
\\ No newline at end of file
";
        Patch::parse("p", patch).unwrap().apply(dir.path()).unwrap();
        assert_eq!(read(&dir, "mdb.c"), "a\nc");
    }

    /// A diff of the real mdb.c (as located by this build) changing one line, with three
    /// lines of context on each side, as `git format-patch` would write it.
    fn real_mdb_patch(target: &str, context_edit: Option<(&str, &str)>) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let liblmdb = dir.path().join("libraries/liblmdb");
        fs::create_dir_all(&liblmdb).unwrap();
        let source = fs::read_to_string(Path::new(env!("HEDGE_LMDB_LOCATED_TREE")).join("mdb.c")).unwrap();
        fs::write(liblmdb.join("mdb.c"), &source).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        let at = lines.iter().position(|l| l.starts_with(target)).unwrap();
        let mut hunk = format!("@@ -{},7 +{},7 @@\n", at - 2, at - 2);
        for (i, line) in lines[at - 3..at + 4].iter().enumerate() {
            let line = match context_edit {
                Some((from, to)) if i != 3 => line.replace(from, to),
                _ => line.to_string(),
            };
            if i == 3 {
                hunk.push_str(&format!("-{line}\n+{line} /* changed */\n"));
            } else {
                hunk.push_str(&format!(" {line}\n"));
            }
        }
        let patch = format!(
            "Subject: [PATCH] test\n\n---\ndiff --git a/libraries/liblmdb/mdb.c b/libraries/liblmdb/mdb.c\n\
             --- a/libraries/liblmdb/mdb.c\n+++ b/libraries/liblmdb/mdb.c\n{hunk}-- \n2.47.3\n"
        );
        (dir, patch)
    }

    #[test]
    fn a_patch_of_the_real_mdb_c_applies() {
        let (dir, patch) = real_mdb_patch("mdb_page_get(MDB_cursor *mc", None);
        Patch::parse("0001-real.patch", &patch).unwrap().apply(dir.path()).unwrap();
        let text = read(&dir, "mdb.c");
        assert!(text
            .contains("mdb_page_get(MDB_cursor *mc, pgno_t pgno, MDB_page **ret, int *lvl) /* changed */\n"));
    }

    #[test]
    fn a_stale_patch_of_the_real_mdb_c_is_reported_with_its_hunk() {
        // The patch was written against a tree where the context said `mc_txn2`.
        let (dir, patch) = real_mdb_patch("mdb_page_get(MDB_cursor *mc", Some(("mc->mc_txn", "mc->mc_txn2")));
        let err = Patch::parse("0007-stale.patch", &patch).unwrap().apply(dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("patch 0007-stale.patch does not apply to libraries/liblmdb/mdb.c: hunk #1"),
            "{message}"
        );
        assert!(message.contains("mc_txn2"), "{message}");
    }
}
