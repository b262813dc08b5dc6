//! The backup file format: one self-contained file per backup — a header, a sequence of
//! AES-256-GCM sealed chunks of zstd-compressed content, and a sealed trailer with the
//! manifest. Written and read in constant memory. Byte-exact spec: `docs/FORMAT.md`.
//!
//! ```text
//! let mut w = Writer::new(&mut file, &keys.current()?, WriteParams::new(&station.id))?;
//! std::io::copy(&mut snapshot, &mut w)?;
//! let summary = w.finish(&Manifest::registry_snapshot(schema, counts))?;
//! let report = verify(File::open(path)?, &keys)?;          // authenticates every byte
//! let report = Reader::open(File::open(path)?, &keys)?.decrypt_to(&mut restored)?;
//! ```

mod frame;
mod header;
mod manifest;
mod pool;
mod reader;
mod writer;

pub use header::{
    CompressionKind, Header, FORMAT_VERSION, MAGIC, MAX_CHUNK_SIZE, MAX_HEADER_LEN, MIN_CHUNK_SIZE,
};
pub use manifest::{ContentKind, Counts, DocumentEntry, Manifest};
pub use reader::{peek_header, verify, Reader, VerifyReport};
pub use writer::{
    Compression, Summary, WriteParams, Writer, DEFAULT_CHUNK_SIZE, DEFAULT_ZSTD_LEVEL,
    MAX_ZSTD_LEVEL,
};

/// Seals everything `input` yields into a backup on `out`.
pub fn write(
    input: &mut impl std::io::Read,
    out: impl std::io::Write,
    master: &crate::crypto::MasterKey,
    params: WriteParams,
    manifest: &Manifest,
) -> crate::Result<Summary> {
    let mut w = Writer::new(out, master, params)?;
    std::io::copy(input, &mut w).map_err(|e| crate::Error::io("copied into", "the backup", e))?;
    w.finish(manifest)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;
