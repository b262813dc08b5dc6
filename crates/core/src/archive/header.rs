//! The backup header: what a backup is, who sealed it and with which key, readable without
//! keys, and authenticated (as associated data) by the wrapped data key and by every chunk.

use std::io::Read;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::crypto::{KeyId, WRAPPED_KEY_LEN};
use crate::{Error, Result};

/// The first 8 bytes of every backup file.
pub const MAGIC: &[u8; 8] = b"SRBACKUP";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bounds of the chunk size recorded in a header.
pub const MIN_CHUNK_SIZE: u32 = 4 * 1024;
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;
/// Longest station id (bytes of UTF-8).
pub const MAX_STATION_LEN: usize = 256;

/// Bytes before the station id: magic 8, version 2, header length 4, backup id 16, created 8,
/// key id 16, chunk size 4, compression 1, station length 2.
const FIXED_PREFIX: usize = 8 + 2 + 4 + 16 + 8 + 16 + 4 + 1 + 2;
/// Largest possible v1 header.
pub const MAX_HEADER_LEN: usize = FIXED_PREFIX + MAX_STATION_LEN + WRAPPED_KEY_LEN;

/// How the content is compressed before it is sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompressionKind {
    /// Stored as is (code 0).
    None,
    /// One zstd frame (code 1).
    Zstd,
}

impl CompressionKind {
    fn code(self) -> u8 {
        match self {
            CompressionKind::None => 0,
            CompressionKind::Zstd => 1,
        }
    }
}

/// The parsed header of a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub format_version: u16,
    pub backup_id: Uuid,
    pub created_at: OffsetDateTime,
    pub key_id: KeyId,
    pub chunk_size: u32,
    pub compression: CompressionKind,
    pub station_id: String,
    pub(crate) wrapped_key: [u8; WRAPPED_KEY_LEN],
    /// The exact header bytes: the associated data of every chunk.
    pub(crate) raw: Vec<u8>,
}

impl Header {
    /// Length of the header in bytes (the offset of the first chunk).
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The header bytes before the wrapped key's nonce: what the key wrapping authenticates.
    pub(crate) fn wrap_aad(&self) -> &[u8] {
        &self.raw[..self.raw.len() - WRAPPED_KEY_LEN]
    }

    /// Encodes a v1 header with a placeholder wrapped key; the caller wraps the data key over
    /// [`Header::wrap_aad`] and then calls [`Header::set_wrapped_key`].
    pub(crate) fn new_v1(
        backup_id: Uuid,
        created_at: OffsetDateTime,
        key_id: KeyId,
        chunk_size: u32,
        compression: CompressionKind,
        station_id: &str,
    ) -> Result<Self> {
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(Error::Internal(format!(
                "chunk size {chunk_size} is outside {MIN_CHUNK_SIZE}..={MAX_CHUNK_SIZE}"
            )));
        }
        let station = station_id.as_bytes();
        if station.is_empty() || station.len() > MAX_STATION_LEN {
            return Err(Error::Internal("station id must be 1 to 256 bytes".into()));
        }
        let len = FIXED_PREFIX + station.len() + WRAPPED_KEY_LEN;
        let mut raw = Vec::with_capacity(len);
        raw.extend_from_slice(MAGIC);
        raw.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        raw.extend_from_slice(&(len as u32).to_be_bytes());
        raw.extend_from_slice(backup_id.as_bytes());
        raw.extend_from_slice(&created_at.unix_timestamp().to_be_bytes());
        raw.extend_from_slice(&key_id.0);
        raw.extend_from_slice(&chunk_size.to_be_bytes());
        raw.push(compression.code());
        raw.extend_from_slice(&(station.len() as u16).to_be_bytes());
        raw.extend_from_slice(station);
        raw.extend_from_slice(&[0u8; WRAPPED_KEY_LEN]);
        debug_assert_eq!(raw.len(), len);
        Ok(Self {
            format_version: FORMAT_VERSION,
            backup_id,
            created_at: OffsetDateTime::from_unix_timestamp(created_at.unix_timestamp())
                .map_err(|e| Error::Internal(e.to_string()))?,
            key_id,
            chunk_size,
            compression,
            station_id: station_id.to_string(),
            wrapped_key: [0u8; WRAPPED_KEY_LEN],
            raw,
        })
    }

    pub(crate) fn set_wrapped_key(&mut self, wrapped: [u8; WRAPPED_KEY_LEN]) {
        let at = self.raw.len() - WRAPPED_KEY_LEN;
        self.raw[at..].copy_from_slice(&wrapped);
        self.wrapped_key = wrapped;
    }

    /// Reads and checks a header from the start of a backup. Reads at most
    /// [`MAX_HEADER_LEN`] bytes and never more than the header.
    pub fn read_from(r: &mut impl Read) -> Result<Self> {
        let mut magic = [0u8; 8];
        let got = read_up_to(r, &mut magic)?;
        if got == 0 {
            return Err(not_a_backup("it is empty"));
        }
        if magic[..got] != MAGIC[..got] {
            return Err(not_a_backup("its first bytes are not the backup marker"));
        }
        if got < magic.len() {
            return Err(truncated("the file ends inside the header"));
        }
        let mut fixed = [0u8; FIXED_PREFIX - 8];
        read_exact(r, &mut fixed, "the file ends inside the header")?;
        let version = u16::from_be_bytes([fixed[0], fixed[1]]);
        if version > FORMAT_VERSION {
            return Err(Error::FormatUnsupported {
                what: "backup",
                version,
            });
        }
        if version == 0 {
            return Err(not_a_backup("format version 0"));
        }
        let header_len = u32::from_be_bytes(fixed[2..6].try_into().unwrap_or_default()) as usize;
        let station_len =
            u16::from_be_bytes([fixed[FIXED_PREFIX - 10], fixed[FIXED_PREFIX - 9]]) as usize;
        if station_len == 0 || station_len > MAX_STATION_LEN {
            return Err(corrupt(
                "the station id length in the header is out of bounds",
            ));
        }
        if header_len != FIXED_PREFIX + station_len + WRAPPED_KEY_LEN {
            return Err(corrupt("the header length does not match its fields"));
        }
        let mut raw = Vec::with_capacity(header_len);
        raw.extend_from_slice(&magic);
        raw.extend_from_slice(&fixed);
        raw.resize(header_len, 0);
        read_exact(
            r,
            &mut raw[FIXED_PREFIX..],
            "the file ends inside the header",
        )?;

        let f = &raw;
        let backup_id = Uuid::from_bytes(f[14..30].try_into().unwrap_or_default());
        let created = i64::from_be_bytes(f[30..38].try_into().unwrap_or_default());
        let created_at = OffsetDateTime::from_unix_timestamp(created)
            .map_err(|_| corrupt("the creation time in the header is out of range"))?;
        let key_id = KeyId(f[38..54].try_into().unwrap_or_default());
        let chunk_size = u32::from_be_bytes(f[54..58].try_into().unwrap_or_default());
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(corrupt("the chunk size in the header is out of bounds"));
        }
        let compression = match f[58] {
            0 => CompressionKind::None,
            1 => CompressionKind::Zstd,
            _ => return Err(corrupt("unknown compression in the header")),
        };
        let station_id = std::str::from_utf8(&f[FIXED_PREFIX..FIXED_PREFIX + station_len])
            .map_err(|_| corrupt("the station id in the header is not UTF-8"))?
            .to_string();
        let mut wrapped_key = [0u8; WRAPPED_KEY_LEN];
        wrapped_key.copy_from_slice(&f[header_len - WRAPPED_KEY_LEN..]);
        Ok(Self {
            format_version: version,
            backup_id,
            created_at,
            key_id,
            chunk_size,
            compression,
            station_id,
            wrapped_key,
            raw,
        })
    }
}

/// Reads as many bytes as are there, up to `buf.len()`; returns how many.
pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read", "the backup", e)),
        }
    }
    Ok(n)
}

pub(crate) fn read_exact(r: &mut impl Read, buf: &mut [u8], when_short: &str) -> Result<()> {
    if read_up_to(r, buf)? < buf.len() {
        return Err(truncated(when_short));
    }
    Ok(())
}

pub(crate) fn not_a_backup(detail: &str) -> Error {
    Error::NotABackup {
        what: "the file".into(),
        expected: "backup",
        detail: detail.into(),
    }
}

pub(crate) fn truncated(detail: &str) -> Error {
    Error::BackupTruncated {
        detail: detail.into(),
    }
}

pub(crate) fn corrupt(detail: &str) -> Error {
    Error::BackupCorrupt {
        detail: detail.into(),
    }
}
