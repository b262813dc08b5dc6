//! The format's promises, each tested: round trips of every interesting size, every single-bit
//! flip and every truncation detected, chunks swapped, duplicated and dropped detected, the
//! wrong key, another station's key, newer formats and files that are no backup at all.

use std::io::Write;

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;
use crate::crypto::{KeySet, MasterKey};

const STATION: &str = "station-test";

fn keys() -> (MasterKey, KeySet) {
    let k = MasterKey::generate();
    (k.clone(), KeySet::single(STATION, k))
}

fn params(chunk_size: u32, compression: Compression) -> WriteParams {
    WriteParams {
        chunk_size,
        compression,
        ..WriteParams::new(STATION)
    }
}

fn manifest() -> Manifest {
    Manifest {
        kind: Manifest::REGISTRY_SNAPSHOT.into(),
        schema_version: 3,
        counts: Counts {
            cases: 12,
            documents: 1,
            audit_records: 40,
        },
        documents: vec![DocumentEntry {
            case: "2026-000123".into(),
            store_key: "cases/2026-000123/ab12".into(),
            version_id: Some("v1".into()),
            sha256: "00".repeat(32),
            size: 1234,
        }],
    }
}

fn seal(data: &[u8], master: &MasterKey, p: WriteParams) -> (Vec<u8>, Summary) {
    let mut out = Vec::new();
    let mut w = Writer::new(&mut out, master, p).unwrap();
    // Uneven writes exercise the staging buffer.
    for piece in data.chunks(70_001) {
        w.write_all(piece).unwrap();
    }
    let s = w.finish(&manifest()).unwrap();
    (out, s)
}

fn open(file: &[u8], keys: &KeySet) -> crate::Result<(Vec<u8>, VerifyReport)> {
    let mut plain = Vec::new();
    let r = Reader::open(file, keys)?.decrypt_to(&mut plain)?;
    Ok((plain, r))
}

fn code(file: &[u8], keys: &KeySet) -> &'static str {
    match open(file, keys) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

/// Semi-compressible bytes, like a database page full of records.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 3 == 0 {
                b'a' + (x % 26) as u8
            } else {
                x as u8
            }
        })
        .collect()
}

/// Byte offsets where each frame (chunk) starts, and the file length at the end.
fn frame_starts(file: &[u8]) -> Vec<usize> {
    let h = peek_header(file).unwrap();
    let mut at = h.len();
    let mut starts = Vec::new();
    while at < file.len() {
        starts.push(at);
        let len = u32::from_be_bytes(file[at + 1..at + 5].try_into().unwrap()) as usize;
        at += 5 + len;
    }
    assert_eq!(at, file.len());
    starts
}

#[test]
fn round_trips_every_interesting_size() {
    let (m, ks) = keys();
    let cs = MIN_CHUNK_SIZE as usize;
    for compression in [Compression::None, Compression::Zstd { level: 1 }] {
        for len in [0, 1, cs - 1, cs, cs + 1, 3 * cs + 17] {
            let plain = data(len, len as u64);
            let (file, summary) = seal(&plain, &m, params(cs as u32, compression));
            let (back, report) = open(&file, &ks).unwrap();
            assert_eq!(back, plain, "{compression:?} {len}");
            assert_eq!(report.plaintext_len, len as u64);
            assert_eq!(report.plaintext_sha256, hex::encode(Sha256::digest(&plain)));
            assert_eq!(report.manifest, manifest());
            assert_eq!(summary.file_len, file.len() as u64);
            assert_eq!(summary.file_sha256, hex::encode(Sha256::digest(&file)));
            assert_eq!(summary.chunks, report.chunks);
            assert_eq!(report.file_len, file.len() as u64);
            if compression == Compression::None {
                // Content chunks: ceil(len / cs); then one trailer chunk.
                assert_eq!(summary.chunks, len.div_ceil(cs) as u64 + 1, "{len}");
                assert_eq!(summary.stored_len, len as u64);
            }
        }
    }
}

#[test]
fn round_trips_several_megabytes_with_the_defaults_and_compresses() {
    let (m, ks) = keys();
    let plain: Vec<u8> = (0..6 * 1024 * 1024 + 123)
        .map(|i: usize| b"case 2026-000123 statement of witness; "[i % 39])
        .collect();
    let (file, summary) = seal(&plain, &m, WriteParams::new(STATION));
    assert!(
        file.len() < plain.len() / 20,
        "compressed to {}",
        file.len()
    );
    let report = verify(&file[..], &ks).unwrap();
    assert_eq!(report.plaintext_len, plain.len() as u64);
    assert_eq!(report.plaintext_sha256, summary.plaintext_sha256);
    let (back, _) = open(&file, &ks).unwrap();
    assert!(back == plain);

    let random = data(5 * 1024 * 1024 + 7, 9);
    let (file, summary) = seal(&random, &m, WriteParams::new(STATION));
    assert!(summary.chunks > 5);
    assert_eq!(open(&file, &ks).unwrap().0, random);
}

#[test]
fn header_is_readable_without_keys_and_names_key_and_station() {
    let (m, _) = keys();
    let p = params(MIN_CHUNK_SIZE, Compression::default());
    let id = p.backup_id;
    let (file, s) = seal(b"hello", &m, p);
    let h = peek_header(&file[..]).unwrap();
    assert_eq!(h.backup_id, id);
    assert_eq!(h.station_id, STATION);
    assert_eq!(h.key_id, m.id());
    assert_eq!(h.format_version, FORMAT_VERSION);
    assert_eq!(h.compression, CompressionKind::Zstd);
    assert_eq!(h.created_at, s.created_at);
    assert_eq!(&file[..8], MAGIC);
}

#[test]
fn every_single_bit_flip_is_detected() {
    let (m, ks) = keys();
    let (file, _) = seal(&data(300, 1), &m, params(MIN_CHUNK_SIZE, Compression::None));
    assert_eq!(code(&file, &ks), "ok");
    let mut codes = std::collections::BTreeMap::new();
    for byte in 0..file.len() {
        for bit in 0..8 {
            let mut bad = file.clone();
            bad[byte] ^= 1 << bit;
            let c = code(&bad, &ks);
            assert_ne!(c, "ok", "flip of bit {bit} of byte {byte} went unnoticed");
            *codes.entry(c).or_insert(0) += 1;
        }
    }
    // Flips in the sealed parts are authentication failures.
    assert!(codes["backup_corrupt"] > file.len() * 6, "{codes:?}");
}

#[test]
fn truncation_anywhere_is_detected_as_truncation() {
    let (m, ks) = keys();
    let cs = MIN_CHUNK_SIZE as usize;
    let (file, _) = seal(
        &data(5 * cs + 100, 2),
        &m,
        params(cs as u32, Compression::None),
    );
    let starts = frame_starts(&file);
    assert_eq!(starts.len(), 7, "6 content chunks and the trailer");
    assert_eq!(code(&[], &ks), "not_a_backup");
    for &b in &starts {
        for cut in [b - 1, b, b + 1, b + 5, b + 100] {
            assert_eq!(code(&file[..cut], &ks), "backup_truncated", "cut at {cut}");
        }
    }
    for cut in (1..file.len()).step_by(97).chain([file.len() - 1, 3, 40]) {
        assert_eq!(code(&file[..cut], &ks), "backup_truncated", "cut at {cut}");
    }
}

fn frames(file: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let starts = frame_starts(file);
    let head = file[..starts[0]].to_vec();
    let mut out = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(file.len());
        out.push(file[s..e].to_vec());
    }
    (head, out)
}

fn join(head: &[u8], fr: &[Vec<u8>]) -> Vec<u8> {
    let mut v = head.to_vec();
    for f in fr {
        v.extend_from_slice(f);
    }
    v
}

#[test]
fn swapped_duplicated_and_dropped_chunks_are_detected() {
    let (m, ks) = keys();
    let cs = MIN_CHUNK_SIZE as usize;
    let (file, _) = seal(
        &data(4 * cs + 1, 3),
        &m,
        params(cs as u32, Compression::None),
    );
    let (head, fr) = frames(&file);
    assert_eq!(fr.len(), 6);

    let mut swapped = fr.clone();
    swapped.swap(1, 2);
    assert_eq!(code(&join(&head, &swapped), &ks), "backup_reordered");

    let mut dup = fr.clone();
    dup.insert(2, fr[1].clone());
    assert_eq!(code(&join(&head, &dup), &ks), "backup_reordered");

    let mut dropped = fr.clone();
    dropped.remove(2);
    assert_eq!(code(&join(&head, &dropped), &ks), "backup_reordered");

    // The last content chunk dropped: the trailer arrives early.
    let mut no_last = fr.clone();
    no_last.remove(4);
    assert_eq!(code(&join(&head, &no_last), &ks), "backup_reordered");

    // The trailer dropped, or content after the trailer, or the trailer twice.
    assert_eq!(code(&join(&head, &fr[..5]), &ks), "backup_truncated");
    let mut twice = fr.clone();
    twice.push(fr[5].clone());
    assert_eq!(code(&join(&head, &twice), &ks), "backup_corrupt");

    // A chunk from another backup of the same station and key does not fit.
    let (other, _) = seal(
        &data(4 * cs + 1, 4),
        &m,
        params(cs as u32, Compression::None),
    );
    let (_, ofr) = frames(&other);
    let mut mixed = fr.clone();
    mixed[2] = ofr[2].clone();
    assert_eq!(code(&join(&head, &mixed), &ks), "backup_corrupt");
}

#[test]
fn the_wrong_key_and_another_stations_key_are_told_apart() {
    let (m, ks) = keys();
    let (file, _) = seal(
        b"evidence",
        &m,
        params(MIN_CHUNK_SIZE, Compression::default()),
    );
    // Same station, but the key is not held (e.g. rotated away and lost).
    let other = KeySet::single(STATION, MasterKey::generate());
    let e = Reader::open(&file[..], &other).err().unwrap();
    assert_eq!(e.code(), "key_missing");
    assert!(e.to_string().contains(&m.id().to_hex()));
    assert!(!e.is_verification_failure());
    // Another station's keys.
    let foreign = KeySet::single("station-other", MasterKey::generate());
    let e = Reader::open(&file[..], &foreign).err().unwrap();
    assert_eq!(e.code(), "backup_foreign_key");
    assert!(e.is_verification_failure());
    // The right keys.
    assert_eq!(code(&file, &ks), "ok");
    // A key with the right id cannot be forged, but a header edited to another station
    // fails to unwrap the data key.
    let mut edited = file.clone();
    let at = 61;
    edited[at] ^= 0x01;
    assert_eq!(code(&edited, &ks), "backup_corrupt");
}

#[test]
fn newer_formats_and_non_backups_are_refused_clearly() {
    let (m, ks) = keys();
    let (file, _) = seal(b"x", &m, params(MIN_CHUNK_SIZE, Compression::default()));
    let mut newer = file.clone();
    newer[9] = 2;
    assert_eq!(code(&newer, &ks), "format_unsupported");
    assert_eq!(
        peek_header(&newer[..]).unwrap_err().code(),
        "format_unsupported"
    );
    assert_eq!(code(b"", &ks), "not_a_backup");
    assert_eq!(code(b"PK\x03\x04 a zip file", &ks), "not_a_backup");
    assert_eq!(code(&[0u8; 4096], &ks), "not_a_backup");
    assert_eq!(code(b"SRBA", &ks), "backup_truncated");
    // A header claiming a 4 GiB chunk is refused before anything is allocated.
    let mut huge = file.clone();
    huge[54..58].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(code(&huge, &ks), "backup_corrupt");
    // A frame claiming 4 GiB.
    let starts = frame_starts(&file);
    let mut big_frame = file.clone();
    big_frame[starts[0] + 1..starts[0] + 5].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(code(&big_frame, &ks), "backup_corrupt");
}

#[test]
fn an_unfinished_writer_leaves_a_file_that_reads_as_truncated() {
    let (m, ks) = keys();
    let mut out = Vec::new();
    {
        let mut w = Writer::new(&mut out, &m, params(MIN_CHUNK_SIZE, Compression::None)).unwrap();
        w.write_all(&data(3 * MIN_CHUNK_SIZE as usize, 5)).unwrap();
        // dropped without finish: a crash mid-backup
    }
    assert_eq!(code(&out, &ks), "backup_truncated");
}

#[test]
fn output_failures_and_cancellation_are_errors_not_panics() {
    let (m, ks) = keys();
    let (file, _) = seal(
        &data(200_000, 6),
        &m,
        params(MIN_CHUNK_SIZE, Compression::default()),
    );
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let e = Reader::open(&file[..], &ks)
        .unwrap()
        .decrypt_to(Full)
        .unwrap_err();
    assert_eq!(e.code(), "io_error");
    let e = Writer::new(Full, &m, WriteParams::new(STATION))
        .err()
        .unwrap();
    assert_eq!(e.code(), "io_error");

    let cancel = crate::progress::Cancel::new();
    cancel.cancel();
    let e = Reader::open(&file[..], &ks)
        .unwrap()
        .with_cancel(cancel)
        .decrypt_to(std::io::sink())
        .unwrap_err();
    assert_eq!(e.code(), "cancelled");
}

#[test]
fn out_of_range_parameters_are_refused() {
    let (m, _) = keys();
    for p in [
        params(1024, Compression::None),
        params(MAX_CHUNK_SIZE + 1, Compression::None),
        params(MIN_CHUNK_SIZE, Compression::Zstd { level: 22 }),
        WriteParams {
            station_id: String::new(),
            ..WriteParams::new(STATION)
        },
    ] {
        assert!(Writer::new(Vec::new(), &m, p).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_content_round_trips(
        plain in proptest::collection::vec(any::<u8>(), 0..40_000),
        chunk_size in 4096u32..12_000,
        zstd in any::<bool>(),
    ) {
        let (m, ks) = keys();
        let c = if zstd { Compression::Zstd { level: 3 } } else { Compression::None };
        let (file, _) = seal(&plain, &m, params(chunk_size, c));
        let (back, report) = open(&file, &ks).unwrap();
        prop_assert_eq!(back, plain);
        prop_assert_eq!(report.manifest, manifest());
    }

    /// Hostile input: random bytes, or a real backup with random bytes overwritten, inserted
    /// or cut, never panics and never passes as a backup.
    #[test]
    fn hostile_input_never_panics(
        noise in proptest::collection::vec(any::<u8>(), 0..3000),
        at in any::<prop::sample::Index>(),
        mode in 0u8..4,
    ) {
        let (m, ks) = keys();
        let (file, _) = seal(&data(9000, 7), &m, params(MIN_CHUNK_SIZE, Compression::default()));
        let pos = at.index(file.len());
        let bad = match mode {
            0 => noise.clone(),
            1 => { let mut f = file.clone(); for (i, b) in noise.iter().enumerate().take(64) { let p = (pos + i) % f.len(); f[p] ^= b | 1; } f }
            2 => { let mut f = file[..pos].to_vec(); f.extend_from_slice(&noise); f.extend_from_slice(&file[pos..]); f }
            _ => { let mut f = MAGIC.to_vec(); f.extend_from_slice(&noise); f }
        };
        if bad != file {
            let r = open(&bad, &ks);
            prop_assert!(r.is_err());
            let _ = peek_header(&bad[..]);
            let _ = verify(&bad[..], &ks);
        }
    }
}

/// A manifest naming `n` documents: its trailer spans many chunks of the smallest size.
fn manifest_of(n: usize) -> Manifest {
    Manifest {
        documents: (0..n)
            .map(|i| DocumentEntry {
                case: format!("2026-{i:06}"),
                store_key: format!("cases/2026-{i:06}/{i:x}"),
                version_id: None,
                sha256: format!("{i:064x}"),
                size: i as u64,
            })
            .collect(),
        ..manifest()
    }
}

#[test]
fn a_trailer_of_many_chunks_is_read_as_it_streams_in_with_or_without_its_document_list() {
    let (m, ks) = keys();
    let big = manifest_of(2_000);
    let plain = data(3 * MIN_CHUNK_SIZE as usize + 5, 4);
    let mut file = Vec::new();
    let mut w = Writer::new(&mut file, &m, params(MIN_CHUNK_SIZE, Compression::None)).unwrap();
    w.write_all(&plain).unwrap();
    let summary = w.finish(&big).unwrap();
    // 4 content chunks, then a trailer of about 300 KB in 4 KiB chunks.
    assert!(summary.chunks > 60, "{} chunks", summary.chunks);

    let (back, report) = open(&file, &ks).unwrap();
    assert_eq!(back, plain);
    assert_eq!(report.manifest, big, "decrypt_to keeps the document list");
    assert_eq!(report.chunks, summary.chunks);
    assert_eq!(report.file_len, file.len() as u64);

    let skim = verify(&file[..], &ks).unwrap();
    assert!(skim.manifest.documents.is_empty(), "verify drops the list");
    assert_eq!(skim.manifest.counts, big.counts);
    assert_eq!(skim.manifest.kind, big.kind);
    assert_eq!(skim.chunks, summary.chunks);
    assert_eq!(skim.plaintext_sha256, report.plaintext_sha256);

    // Cut in the middle of the trailer, or one trailer chunk dropped: refused either way.
    let cut = &file[..file.len() - 10_000];
    for r in [verify(cut, &ks).map(|_| ()), open(cut, &ks).map(|_| ())] {
        assert_eq!(r.unwrap_err().code(), "backup_truncated");
    }
    let starts = frame_starts(&file);
    let (a, b) = (starts[starts.len() - 3], starts[starts.len() - 2]);
    let dropped = [&file[..a], &file[b..]].concat();
    for r in [
        verify(&dropped[..], &ks).map(|_| ()),
        open(&dropped, &ks).map(|_| ()),
    ] {
        let code = r.unwrap_err().code();
        assert!(
            code == "backup_reordered" || code == "backup_corrupt",
            "{code}"
        );
    }
}
