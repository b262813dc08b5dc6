//! Checks what is read against the SHA-256 recorded when it was written.

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Passes bytes through to `out` while hashing them.
pub(crate) struct HashingWriter<'a> {
    out: &'a mut (dyn Write + Send),
    hasher: Sha256,
    pub(crate) written: u64,
}

impl<'a> HashingWriter<'a> {
    pub(crate) fn new(out: &'a mut (dyn Write + Send)) -> Self {
        Self {
            out,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    pub(crate) fn write_chunk(&mut self, chunk: &[u8]) -> Result<()> {
        self.hasher.update(chunk);
        self.written += chunk.len() as u64;
        self.out
            .write_all(chunk)
            .map_err(|e| Error::io("written", "the download target", e))
    }

    /// Flushes and compares with `expected` (when there is one).
    pub(crate) fn finish(self, store: &str, key: &str, expected: Option<&str>) -> Result<String> {
        self.out
            .flush()
            .map_err(|e| Error::io("written", "the download target", e))?;
        let actual = hex::encode(self.hasher.finalize());
        if let Some(expected) = expected {
            if !expected.eq_ignore_ascii_case(&actual) {
                return Err(Error::HashMismatch {
                    store: store.to_string(),
                    key: key.to_string(),
                    expected: expected.to_ascii_lowercase(),
                    actual,
                });
            }
        }
        Ok(actual)
    }
}

/// The SHA-256 a whole-object read must match: the caller's, else the recorded one.
/// Ranged reads are not checked.
pub(crate) fn expected_sha<'a>(
    opts: &'a super::GetOptions,
    recorded: Option<&'a str>,
) -> Option<&'a str> {
    if opts.range.is_some() {
        return None;
    }
    opts.expected_sha256.as_deref().or(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_is_a_verification_failure() {
        let mut buf = Vec::new();
        let mut w = HashingWriter::new(&mut buf);
        w.write_chunk(b"abc").unwrap();
        let e = w.finish("memory", "k", Some(&"0".repeat(64))).unwrap_err();
        assert_eq!(e.code(), "hash_mismatch");
        assert!(e.is_verification_failure());
        let mut buf = Vec::new();
        let mut w = HashingWriter::new(&mut buf);
        w.write_chunk(b"abc").unwrap();
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(w.finish("memory", "k", Some(sha)).unwrap(), sha);
        assert_eq!(buf, b"abc");
    }
}
