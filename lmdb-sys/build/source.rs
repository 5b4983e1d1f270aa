//! Where the pristine LMDB tree comes from: `LMDB_SRC_DIR`, or the pinned carrier package
//! resolved in an isolated manifest (see vendor/README.md for why it is not a dependency).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::Config;
use crate::pin::Pin;

/// The `liblmdb` directory to build from, and the upstream path it corresponds to.
pub struct Located {
    pub liblmdb: PathBuf,
    pub described_as: String,
}

pub fn locate(cfg: &Config, pin: &Pin) -> Result<Located, String> {
    let subdir = pin.get("upstream_subdir")?;
    if let Some(dir) = &cfg.src_dir {
        // Either a repository root (OpenLDAP or LMDB checkout) or the liblmdb directory itself.
        let candidates = [dir.join(subdir), dir.clone()];
        let liblmdb = candidates.iter().find(|d| d.join("mdb.c").is_file()).ok_or_else(|| {
            format!(
                "LMDB_SRC_DIR={} contains neither {subdir}/mdb.c nor mdb.c; point it at an OpenLDAP/LMDB \
                 checkout or at its {subdir} directory, or unset it to use the pinned carrier",
                dir.display()
            )
        })?;
        println!("cargo:rerun-if-changed={}", liblmdb.display());
        return Ok(Located {
            liblmdb: liblmdb.clone(),
            described_as: format!("LMDB_SRC_DIR ({})", liblmdb.display()),
        });
    }
    let crate_dir = resolve_carrier(cfg, pin)?;
    Ok(Located {
        liblmdb: crate_dir.join(pin.get("carrier_subdir")?),
        described_as: format!(
            "{} {} from the cargo registry",
            pin.get("carrier_crate")?,
            pin.get("carrier_version")?
        ),
    })
}

/// The manifest that resolves the carrier; deterministic so that `carrier.lock` stays valid.
pub fn carrier_manifest(pin: &Pin) -> Result<String, String> {
    Ok(format!(
        "# Written by the build script of hedge-lmdb-sys to fetch the pinned LMDB source.\n\
         # Nothing here is compiled; see vendor/README.md.\n\
         [package]\nname = \"hedge-lmdb-carrier\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [lib]\npath = \"lib.rs\"\n\n\
         [dependencies]\n{} = {{ version = \"={}\", default-features = false }}\n\n\
         [workspace]\n",
        pin.get("carrier_crate")?,
        pin.get("carrier_version")?
    ))
}

fn resolve_carrier(cfg: &Config, pin: &Pin) -> Result<PathBuf, String> {
    let name = pin.get("carrier_crate")?;
    let version = pin.get("carrier_version")?;
    let dir = cfg.out_dir.join("carrier");
    let write = |file: &str, text: &[u8]| {
        fs::write(dir.join(file), text).map_err(|e| format!("cannot write {}: {e}", dir.join(file).display()))
    };
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write("Cargo.toml", carrier_manifest(pin)?.as_bytes())?;
    write("lib.rs", b"")?;
    let lock = cfg.manifest_dir.join("carrier.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    write("Cargo.lock", &fs::read(&lock).map_err(|e| format!("cannot read {}: {e}", lock.display()))?)?;

    // Online first (downloads into cargo's cache if needed), then offline, so that a build
    // with a warm cache works without a network.
    let mut failures = Vec::new();
    for offline in [false, true] {
        let mut cmd = Command::new(&cfg.cargo);
        cmd.args(["metadata", "--format-version", "1", "--locked", "--manifest-path"])
            .arg(dir.join("Cargo.toml"));
        if offline {
            cmd.arg("--offline");
        }
        match cmd.output() {
            Ok(out) if out.status.success() => return find_package(&out.stdout, name, version),
            Ok(out) => failures.push(String::from_utf8_lossy(&out.stderr).trim().to_string()),
            Err(e) => failures.push(format!("cannot run {}: {e}", cfg.cargo.display())),
        }
    }
    Err(format!(
        "cannot fetch the pinned LMDB source ({name} {version} from crates.io) with `cargo metadata`:\n  {}\n\
         It is downloaded into cargo's cache on the first build. Without a network, either run the first build \
         with one, or set LMDB_SRC_DIR to an OpenLDAP checkout at the commit in vendor/lmdb.pin.",
        failures.join("\n  ")
    ))
}

fn find_package(metadata: &[u8], name: &str, version: &str) -> Result<PathBuf, String> {
    let json: serde_json::Value =
        serde_json::from_slice(metadata).map_err(|e| format!("cannot parse `cargo metadata` output: {e}"))?;
    json["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name && p["version"] == version)
        .and_then(|p| p["manifest_path"].as_str())
        .and_then(|m| Path::new(m).parent().map(Path::to_path_buf))
        .ok_or_else(|| format!("`cargo metadata` did not report {name} {version}"))
}
