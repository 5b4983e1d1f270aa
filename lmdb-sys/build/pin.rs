//! The upstream pin (`vendor/lmdb.pin`) and the checksums of the pristine tree
//! (`vendor/SHA256SUMS`), and the check of a tree against them.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::Path;

use sha2::{Digest, Sha256};

/// `key = value` lines of `vendor/lmdb.pin`.
#[derive(Debug)]
pub struct Pin {
    entries: BTreeMap<String, String>,
}

impl Pin {
    pub fn parse(text: &str) -> Result<Pin, String> {
        let mut entries = BTreeMap::new();
        for (no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line.split_once('=').ok_or_else(|| {
                format!("vendor/lmdb.pin:{}: expected `key = value`, found {line:?}", no + 1)
            })?;
            entries.insert(key.trim().to_string(), value.trim().to_string());
        }
        Ok(Pin { entries })
    }

    pub fn get(&self, key: &str) -> Result<&str, String> {
        self.entries
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("vendor/lmdb.pin has no `{key}` entry"))
    }
}

/// Expected SHA-256 of every file of the pristine `liblmdb` directory, by relative path.
#[derive(Debug)]
pub struct Checksums {
    pub files: Vec<(String, String)>,
}

impl Checksums {
    /// Parses `sha256sum` output: `<64 hex>  <path>` (or `<64 hex> *<path>`).
    pub fn parse(text: &str) -> Result<Checksums, String> {
        let mut files = Vec::new();
        for (no, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || format!("vendor/SHA256SUMS:{}: expected `<sha256>  <file>`, found {line:?}", no + 1);
            let (hash, name) = line.split_once(' ').ok_or_else(bad)?;
            let name = name.trim_start_matches(' ').trim_start_matches('*');
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
                return Err(bad());
            }
            files.push((name.to_string(), hash.to_ascii_lowercase()));
        }
        if files.is_empty() {
            return Err("vendor/SHA256SUMS lists no files".into());
        }
        Ok(Checksums { files })
    }
}

/// One file of a tree that does not match its pinned checksum.
#[derive(Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub file: String,
    pub expected: String,
    /// `None` when the file is missing or unreadable.
    pub actual: Option<String>,
}

/// Why a source tree was refused.
#[derive(Debug)]
pub struct VerifyError {
    pub tree: String,
    pub mismatches: Vec<Mismatch>,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the LMDB source tree {} is not the pinned upstream source ({} file(s) differ):",
            self.tree,
            self.mismatches.len()
        )?;
        for m in &self.mismatches {
            match &m.actual {
                Some(actual) => {
                    writeln!(f, "  {}: expected sha256 {}, found {}", m.file, m.expected, actual)?
                }
                None => writeln!(f, "  {}: expected sha256 {}, but the file is missing", m.file, m.expected)?,
            }
        }
        write!(
            f,
            "The patch series is written against vendor/lmdb.pin's commit. If LMDB_SRC_DIR points at \
             another commit on purpose, set LMDB_SRC_UNVERIFIED=1 to build it anyway \
             (see vendor/README.md); otherwise check out the pinned commit or unset LMDB_SRC_DIR."
        )
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks every pinned file of `dir` (a `liblmdb` directory). Files the pin does not list
/// are ignored: a checkout may hold build products.
pub fn verify_tree(dir: &Path, sums: &Checksums) -> Result<(), VerifyError> {
    let mismatches: Vec<Mismatch> = sums
        .files
        .iter()
        .filter_map(|(file, expected)| {
            let actual = fs::read(dir.join(file)).ok().map(|bytes| sha256_hex(&bytes));
            (actual.as_deref() != Some(expected.as_str())).then(|| Mismatch {
                file: file.clone(),
                expected: expected.clone(),
                actual,
            })
        })
        .collect();
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(VerifyError { tree: dir.display().to_string(), mismatches })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            fs::write(dir.path().join(name), content).unwrap();
        }
        dir
    }

    fn sums_for(files: &[(&str, &[u8])]) -> Checksums {
        let text: String =
            files.iter().map(|(name, content)| format!("{}  {}\n", sha256_hex(content), name)).collect();
        Checksums::parse(&text).unwrap()
    }

    #[test]
    fn a_matching_tree_is_accepted() {
        let files: &[(&str, &[u8])] = &[("mdb.c", b"int x;\n"), ("lmdb.h", b"/* h */\n")];
        let dir = tree_with(files);
        verify_tree(dir.path(), &sums_for(files)).unwrap();
    }

    #[test]
    fn a_modified_file_is_refused_with_both_hashes_and_the_opt_out() {
        let pinned: &[(&str, &[u8])] = &[("mdb.c", b"int x;\n"), ("lmdb.h", b"/* h */\n")];
        let dir = tree_with(&[("mdb.c", b"int y;\n"), ("lmdb.h", b"/* h */\n")]);
        let err = verify_tree(dir.path(), &sums_for(pinned)).unwrap_err();
        assert_eq!(
            err.mismatches,
            vec![Mismatch {
                file: "mdb.c".into(),
                expected: sha256_hex(b"int x;\n"),
                actual: Some(sha256_hex(b"int y;\n")),
            }]
        );
        let message = err.to_string();
        assert!(message.contains("mdb.c: expected sha256"), "{message}");
        assert!(message.contains(&sha256_hex(b"int y;\n")), "{message}");
        assert!(message.contains("LMDB_SRC_UNVERIFIED=1"), "{message}");
    }

    #[test]
    fn a_missing_file_is_refused() {
        let pinned: &[(&str, &[u8])] = &[("mdb.c", b"int x;\n"), ("midl.c", b"int z;\n")];
        let dir = tree_with(&pinned[..1]);
        let err = verify_tree(dir.path(), &sums_for(pinned)).unwrap_err();
        assert_eq!(err.mismatches.len(), 1);
        assert_eq!(err.mismatches[0].file, "midl.c");
        assert!(err.to_string().contains("midl.c: expected sha256"));
        assert!(err.to_string().contains("missing"));
    }

    #[test]
    fn the_committed_pin_parses_and_lists_the_compiled_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let sums = Checksums::parse(&fs::read_to_string(root.join("vendor/SHA256SUMS")).unwrap()).unwrap();
        for needed in ["mdb.c", "midl.c", "midl.h", "lmdb.h", "Makefile"] {
            assert!(sums.files.iter().any(|(f, _)| f == needed), "{needed} is not pinned");
        }
        let pin = Pin::parse(&fs::read_to_string(root.join("vendor/lmdb.pin")).unwrap()).unwrap();
        assert_eq!(pin.get("upstream_commit").unwrap(), "f20e41de09d97e4461946b7e26ec831d0c24fac7");
        assert_eq!(pin.get("carrier_version").unwrap(), "0.2.5");
    }

    #[test]
    fn malformed_checksum_lines_are_reported_with_their_line() {
        let err = Checksums::parse("abc  mdb.c\n").unwrap_err();
        assert!(err.contains("SHA256SUMS:1"), "{err}");
    }

    /// A scratch copy of the liblmdb tree this build located (the crate's own or LMDB_SRC_DIR).
    fn located_copy() -> tempfile::TempDir {
        let from = Path::new(env!("HEDGE_LMDB_LOCATED_TREE"));
        let dir = tempfile::tempdir().unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
            }
        }
        dir
    }

    fn committed_sums() -> Checksums {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Checksums::parse(&fs::read_to_string(root.join("vendor/SHA256SUMS")).unwrap()).unwrap()
    }

    fn edit(dir: &Path, file: &str, from: &str, to: &str) {
        let text = fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.contains(from), "{file} does not contain {from:?}");
        fs::write(dir.join(file), text.replacen(from, to, 1)).unwrap();
    }

    #[test]
    fn the_located_tree_verifies_exactly_when_the_build_said_so() {
        let copy = located_copy();
        let verified = env!("HEDGE_LMDB_TREE_VERIFIED") == "1";
        assert_eq!(verify_tree(copy.path(), &committed_sums()).is_ok(), verified);
    }

    #[test]
    fn a_corrupted_pinned_tree_is_refused() {
        let copy = located_copy();
        let mut bytes = fs::read(copy.path().join("mdb.c")).unwrap();
        bytes[1000] ^= 0x20;
        fs::write(copy.path().join("mdb.c"), bytes).unwrap();
        let err = verify_tree(copy.path(), &committed_sums()).unwrap_err();
        assert!(err.mismatches.iter().any(|m| m.file == "mdb.c" && m.actual.is_some()), "{err}");
        assert!(err.to_string().contains("is not the pinned upstream source"));
    }

    #[test]
    fn another_lmdb_version_is_refused_naming_every_changed_file() {
        let copy = located_copy();
        // What a neighbouring upstream release looks like: a version bump and a code change.
        edit(copy.path(), "lmdb.h", "#define MDB_VERSION_PATCH\t70", "#define MDB_VERSION_PATCH\t71");
        edit(copy.path(), "mdb.c", "mdb_txn_begin(", "mdb_txn_begin (");
        let err = verify_tree(copy.path(), &committed_sums()).unwrap_err();
        let files: Vec<&str> = err.mismatches.iter().map(|m| m.file.as_str()).collect();
        for changed in ["lmdb.h", "mdb.c"] {
            assert!(files.contains(&changed), "{changed} not reported: {err}");
        }
        assert!(!files.contains(&"midl.c"), "{err}");
    }
}
