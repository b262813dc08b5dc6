//! An independent decryptor, written in Python from docs/FORMAT.md alone, opens the committed
//! test vectors: the spec is complete enough to read a backup without Strongroom's code.
//! Skips (with a note) when no Python with `cryptography` >= 44 is found
//! (`$STRONGROOM_PYTHON`, else `~/.cache/strongroom/venv/bin/python`).
#![allow(clippy::print_stderr)]

use std::path::PathBuf;
use std::process::Command;

#[test]
fn python_decryptor_written_from_the_spec_opens_the_vectors() {
    let python = std::env::var("STRONGROOM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/strongroom/venv/bin/python")
        });
    let usable = Command::new(&python)
        .args([
            "-c",
            "from cryptography.hazmat.primitives.kdf.argon2 import Argon2id",
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
        && Command::new("zstd").arg("--version").output().is_ok();
    if !usable {
        eprintln!(
            "skipped: no Python with cryptography>=44 and zstd at {}",
            python.display()
        );
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let out = tempfile::NamedTempFile::new().unwrap();
    let run = Command::new(&python)
        .arg(dir.join("decrypt.py"))
        .arg(dir.join("recovery.srk"))
        .arg(dir.join("passphrase.txt"))
        .arg(dir.join("backup.srb"))
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "decrypt.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let expected = std::fs::read(dir.join("plaintext.txt")).unwrap();
    assert_eq!(std::fs::read(out.path()).unwrap(), expected);
    let manifest: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(manifest["kind"], "registry_snapshot");
    assert_eq!(manifest["counts"]["cases"], 300);
}
