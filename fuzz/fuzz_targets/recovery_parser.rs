//! Arbitrary bytes as a recovery file. `inspect` must never panic; `open` runs only when the
//! parameters are the minimum (64 MiB), so a claimed 1 GiB Argon2 memory does not slow fuzzing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_core::crypto::{recovery, KdfParams};
use strongroom_core::secrets::Sensitive;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = recovery::inspect(data) {
        if info.kdf == KdfParams::default() {
            let _ = recovery::open(data, &Sensitive::new("fuzz-Passphrase-1!".to_string()));
        }
    }
});
