//! Arbitrary bytes as a backup: peek, open with a fixed key set, decrypt. Must never panic or
//! allocate without bound (run with -rss_limit_mb).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_core::archive;
use strongroom_core::crypto::{KeySet, MasterKey};

fuzz_target!(|data: &[u8]| {
    let keys = KeySet::single(
        "fuzz-station",
        MasterKey::from_bytes(zeroize::Zeroizing::new([7u8; 32])),
    );
    let _ = archive::peek_header(data);
    if let Ok(r) = archive::Reader::open(data, &keys) {
        let _ = r.decrypt_to(std::io::sink());
    }
});
