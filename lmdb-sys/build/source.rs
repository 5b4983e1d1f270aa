//! Where the pristine LMDB tree comes from: `LMDB_SRC_DIR`, or the tree this crate carries
//! in `lmdb/` (see vendor/README.md). Nothing is downloaded here: the build compiles what
//! it is given, so it works offline, from `cargo vendor`, and on docs.rs.

use std::path::PathBuf;

use crate::config::Config;
use crate::pin::Pin;

/// The `liblmdb` directory to build from, and the upstream path it corresponds to.
pub struct Located {
    pub liblmdb: PathBuf,
    pub described_as: String,
}

/// The directory the crate carries the pristine tree in (its `upstream_subdir` below it).
pub const BUNDLED: &str = "lmdb";

pub fn locate(cfg: &Config, pin: &Pin) -> Result<Located, String> {
    let subdir = pin.get("upstream_subdir")?;
    if let Some(dir) = &cfg.src_dir {
        // Either a repository root (OpenLDAP or LMDB checkout) or the liblmdb directory itself.
        let candidates = [dir.join(subdir), dir.clone()];
        let liblmdb = candidates.iter().find(|d| d.join("mdb.c").is_file()).ok_or_else(|| {
            format!(
                "LMDB_SRC_DIR={} contains neither {subdir}/mdb.c nor mdb.c; point it at an OpenLDAP/LMDB \
                 checkout or at its {subdir} directory, or unset it to build the tree this crate carries",
                dir.display()
            )
        })?;
        println!("cargo:rerun-if-changed={}", liblmdb.display());
        return Ok(Located {
            liblmdb: liblmdb.clone(),
            described_as: format!("LMDB_SRC_DIR ({})", liblmdb.display()),
        });
    }
    let liblmdb = cfg.in_crate(BUNDLED).join(subdir);
    println!("cargo:rerun-if-changed={}", liblmdb.display());
    if !liblmdb.join("mdb.c").is_file() {
        return Err(missing_tree_message(pin, &liblmdb)?);
    }
    Ok(Located {
        liblmdb,
        described_as: format!(
            "the pristine tree carried by hedge-lmdb-sys ({} {}, upstream {})",
            pin.get("carrier_crate")?,
            pin.get("carrier_version")?,
            pin.get("upstream_commit")?
        ),
    })
}

/// What to do when the crate carries no tree: only a git checkout that has not run
/// `.ci/package-prep` yet is in that state (a package always carries one).
fn missing_tree_message(pin: &Pin, expected: &std::path::Path) -> Result<String, String> {
    Ok(format!(
        "the pinned LMDB source is not there: {} has no mdb.c.\n\
         No LMDB source is committed to hedge's repository; the published package carries it. In a git \
         checkout, either:\n  \
         - run `.ci/package-prep` once (it fetches {} {} from crates.io into cargo's cache, checks every \
         file against vendor/SHA256SUMS and copies the tree to .lmdb-pristine/, where lmdb-sys/lmdb points; \
         `.ci/test` does this for you), or\n  \
         - without a network, set LMDB_SRC_DIR to an OpenLDAP/LMDB checkout at commit {} (or to its {} \
         directory, e.g. an unpacked {}-{}.crate's lmdb/{}); `LMDB_SRC_DIR=… .ci/package-prep` copies \
         it in for good.\n\
         See vendor/README.md.",
        expected.display(),
        pin.get("carrier_crate")?,
        pin.get("carrier_version")?,
        pin.get("upstream_commit")?,
        pin.get("upstream_subdir")?,
        pin.get("carrier_crate")?,
        pin.get("carrier_version")?,
        pin.get("upstream_subdir")?,
    ))
}
