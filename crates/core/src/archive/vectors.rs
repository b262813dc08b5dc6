//! The committed test vectors in `crates/core/tests/vectors/` (see its README): a tiny backup,
//! the recovery file holding its key, the passphrase and the expected plaintext. They are made
//! by a seeded path of the real writer, so this test proves both that the committed files still
//! decrypt and that the writer still produces them byte for byte (the format did not drift).
//! Regenerate (only when the format version changes): `STRONGROOM_WRITE_VECTORS=1 cargo test
//! -p strongroom-core vectors`.

use std::io::Write;
use std::path::PathBuf;

use rand::SeedableRng;
use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::crypto::{recovery, KdfParams, KeySet, MasterKey};
use crate::secrets::Sensitive;

const STATION: &str = "vector-station-0001";
const PASSPHRASE: &str = "Correct-Horse-Battery-9";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn plaintext() -> Vec<u8> {
    // Text with a pseudo-random hex column: compresses to about half, so the content spans
    // two 4 KiB chunks after zstd.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::new();
    for i in 0..300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(
            format!(
                "case 2026-{i:06} | exhibit {x:016x}{:016x} | sealed\n",
                x.rotate_left(29)
            )
            .as_bytes(),
        );
    }
    out
}

fn manifest() -> Manifest {
    Manifest {
        kind: Manifest::REGISTRY_SNAPSHOT.into(),
        schema_version: 1,
        counts: Counts {
            cases: 300,
            documents: 1,
            audit_records: 2,
        },
        documents: vec![DocumentEntry {
            case: "2026-000007".into(),
            store_key: "documents/2026-000007/5f1c".into(),
            version_id: None,
            sha256: "5f1c".repeat(16),
            size: 4096,
        }],
    }
}

/// (backup, recovery file) from a fixed seed.
fn generate() -> (Vec<u8>, Vec<u8>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5354_524f_4e47);
    let old = MasterKey::generate_with(&mut rng);
    let current = MasterKey::generate_with(&mut rng);
    let keys = KeySet {
        station_id: STATION.into(),
        current: current.id(),
        keys: vec![old, current.clone()],
    };
    let params = WriteParams {
        station_id: STATION.into(),
        backup_id: Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef),
        created_at: datetime!(2026-12-03 03:00:00 UTC),
        chunk_size: MIN_CHUNK_SIZE,
        compression: Compression::Zstd { level: 3 },
        threads: 0,
    };
    let mut backup = Vec::new();
    let mut w = Writer::new_with_rng(&mut backup, &current, params, &mut rng).unwrap();
    w.write_all(&plaintext()).unwrap();
    w.finish(&manifest()).unwrap();
    let rec = recovery::seal_with(
        &keys,
        &Sensitive::new(PASSPHRASE.to_string()),
        KdfParams::default(),
        datetime!(2026-12-03 02:59:00 UTC),
        &mut rng,
    )
    .unwrap();
    (backup, rec)
}

#[test]
fn committed_vectors_decrypt_and_the_writer_still_produces_them() {
    let (backup, rec) = generate();
    let d = dir();
    if std::env::var("STRONGROOM_WRITE_VECTORS").as_deref() == Ok("1") {
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("backup.srb"), &backup).unwrap();
        std::fs::write(d.join("recovery.srk"), &rec).unwrap();
        std::fs::write(d.join("plaintext.txt"), plaintext()).unwrap();
        std::fs::write(d.join("passphrase.txt"), PASSPHRASE).unwrap();
    }
    let c_backup = std::fs::read(d.join("backup.srb")).unwrap();
    let c_rec = std::fs::read(d.join("recovery.srk")).unwrap();
    let c_plain = std::fs::read(d.join("plaintext.txt")).unwrap();
    let c_pass = std::fs::read_to_string(d.join("passphrase.txt")).unwrap();

    // The committed files, read with nothing but the passphrase.
    let keys = recovery::open(&c_rec, &Sensitive::new(c_pass.trim_end().to_string())).unwrap();
    assert_eq!(keys.station_id, STATION);
    assert_eq!(keys.keys.len(), 2);
    let mut out = Vec::new();
    let report = Reader::open(&c_backup[..], &keys)
        .unwrap()
        .decrypt_to(&mut out)
        .unwrap();
    assert_eq!(out, c_plain);
    assert_eq!(report.manifest, manifest());
    assert_eq!(report.key_id, keys.current);
    assert!(report.chunks >= 3, "two content chunks and a trailer");

    // The writer reproduces them exactly.
    assert_eq!(c_plain, plaintext());
    assert!(backup == c_backup, "the backup writer's output changed");
    assert!(rec == c_rec, "the recovery file writer's output changed");
}
