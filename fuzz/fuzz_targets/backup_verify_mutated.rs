//! A real backup (made once with a fixed key) mutated by the fuzzer: the input is a list of
//! (offset u16, xor byte) pairs, then a cut length. Verify must fail cleanly on every change.
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongroom_core::archive::{self, Compression, Manifest, WriteParams, MIN_CHUNK_SIZE};
use strongroom_core::crypto::{KeySet, MasterKey};

fn keys() -> KeySet {
    KeySet::single(
        "fuzz-station",
        MasterKey::from_bytes(zeroize::Zeroizing::new([7u8; 32])),
    )
}

fn backup() -> &'static Vec<u8> {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let k = keys();
        let mut out = Vec::new();
        let params = WriteParams {
            chunk_size: MIN_CHUNK_SIZE,
            compression: Compression::Zstd { level: 1 },
            ..WriteParams::new("fuzz-station")
        };
        let mut w = archive::Writer::new(&mut out, k.current_key().unwrap(), params).unwrap();
        let text: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        w.write_all(&text).unwrap();
        w.finish(&Manifest::registry_snapshot(1, Default::default()))
            .unwrap();
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let mut file = backup().clone();
    for pair in data.chunks_exact(3) {
        let at = u16::from_be_bytes([pair[0], pair[1]]) as usize % file.len();
        file[at] ^= pair[2];
    }
    if data.len() % 3 == 1 {
        let cut = data[data.len() - 1] as usize * 37 % file.len();
        file.truncate(cut);
    }
    let r = archive::verify(&file[..], &keys());
    // Two flips of one byte cancel out: only a file that differs must fail.
    assert_eq!(r.is_ok(), file == *backup(), "verify accepted a changed backup");
});
