//! The recovery file: every master key of a station, sealed with AES-256-GCM under a key derived
//! from the recovery passphrase with Argon2id. It is stored beside the backups in every
//! destination; with it and the passphrase a new workstation can read every backup.
//! Byte layout: `docs/FORMAT.md`, "Recovery file".
//!
//! The caller validates the passphrase against the station's policy (`validate::passphrase`)
//! before [`seal`] or [`rewrap`]; this module only derives keys from it.

use std::io::Read;

use argon2::{Algorithm, Argon2, Params, Version};
use rand::{CryptoRng, RngCore};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::aead::{open_secret, seal_vec, TAG_LEN};
use super::key_store::KeySet;
use super::master_key::{KeyId, MasterKey, KEY_LEN};
use crate::secrets::Sensitive;
use crate::{Error, Result};

/// The first 8 bytes of every recovery file.
pub const MAGIC: &[u8; 8] = b"SRRECOV\x01";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// The largest recovery file read (a file longer than this is not one).
pub const MAX_FILE_LEN: usize = 64 * 1024;
/// KDF identifier: Argon2id, version 0x13.
const KDF_ARGON2ID: u8 = 1;
const SALT_LEN: usize = 16;
const MAX_KEYS: usize = 1024;
const MAX_STATION_LEN: usize = 256;

/// The recommended file name of a station's recovery file in a destination.
pub fn file_name(station_id: &str) -> String {
    format!("strongroom-recovery-{station_id}.srk")
}

/// Argon2id cost parameters, recorded in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KdfParams {
    /// Memory in KiB: at least 65,536 (64 MiB), at most 1,048,576 (1 GiB).
    pub m_cost_kib: u32,
    /// Passes: 3 to 64.
    pub t_cost: u32,
    /// Lanes: 1 to 16.
    pub parallelism: u32,
}

impl KdfParams {
    pub const MIN_M_COST_KIB: u32 = 64 * 1024;
    pub const MAX_M_COST_KIB: u32 = 1024 * 1024;
    pub const MIN_T_COST: u32 = 3;
    pub const MAX_T_COST: u32 = 64;
    pub const MAX_PARALLELISM: u32 = 16;

    fn check(&self) -> std::result::Result<(), String> {
        if !(Self::MIN_M_COST_KIB..=Self::MAX_M_COST_KIB).contains(&self.m_cost_kib) {
            return Err(format!(
                "Argon2id memory {} KiB is out of bounds",
                self.m_cost_kib
            ));
        }
        if !(Self::MIN_T_COST..=Self::MAX_T_COST).contains(&self.t_cost) {
            return Err(format!("Argon2id passes {} are out of bounds", self.t_cost));
        }
        if !(1..=Self::MAX_PARALLELISM).contains(&self.parallelism) {
            return Err(format!(
                "Argon2id lanes {} are out of bounds",
                self.parallelism
            ));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane (about a quarter of a second here).
    fn default() -> Self {
        Self {
            m_cost_kib: Self::MIN_M_COST_KIB,
            t_cost: 3,
            parallelism: 1,
        }
    }
}

/// What a recovery file says about itself without the passphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryInfo {
    pub version: u16,
    pub kdf: KdfParams,
    pub station_id: String,
    pub created_at: OffsetDateTime,
    pub current: KeyId,
    pub key_count: u16,
}

/// A parsed, still sealed, recovery file.
struct Parsed<'a> {
    info: RecoveryInfo,
    salt: &'a [u8],
    /// Every byte before the nonce: the associated data.
    aad: &'a [u8],
    /// nonce || ciphertext || tag
    sealed: &'a [u8],
}

/// Seals every key of `keys` under `passphrase` (which the caller has validated).
pub fn seal(keys: &KeySet, passphrase: &Sensitive<String>, kdf: KdfParams) -> Result<Vec<u8>> {
    seal_with(
        keys,
        passphrase,
        kdf,
        OffsetDateTime::now_utc(),
        &mut rand::rngs::OsRng,
    )
}

pub(crate) fn seal_with<R: RngCore + CryptoRng>(
    keys: &KeySet,
    passphrase: &Sensitive<String>,
    kdf: KdfParams,
    created_at: OffsetDateTime,
    rng: &mut R,
) -> Result<Vec<u8>> {
    kdf.check().map_err(|m| Error::Invalid {
        code: "kdf_params_invalid",
        field: "kdf",
        message: m,
    })?;
    if keys.keys.is_empty() || keys.keys.len() > MAX_KEYS || keys.current_key().is_none() {
        return Err(Error::Internal(
            "a recovery file needs 1 to 1024 keys including the current one".into(),
        ));
    }
    let station = keys.station_id.as_bytes();
    if station.is_empty() || station.len() > MAX_STATION_LEN {
        return Err(Error::Internal("station id must be 1 to 256 bytes".into()));
    }
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);

    let mut out = Vec::with_capacity(128 + keys.keys.len() * 48);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.push(KDF_ARGON2ID);
    out.extend_from_slice(&kdf.m_cost_kib.to_be_bytes());
    out.extend_from_slice(&kdf.t_cost.to_be_bytes());
    out.extend_from_slice(&kdf.parallelism.to_be_bytes());
    out.push(SALT_LEN as u8);
    out.extend_from_slice(&salt);
    out.extend_from_slice(&(station.len() as u16).to_be_bytes());
    out.extend_from_slice(station);
    out.extend_from_slice(&created_at.unix_timestamp().to_be_bytes());
    out.extend_from_slice(&keys.current.0);
    out.extend_from_slice(&(keys.keys.len() as u16).to_be_bytes());

    let mut plain = Zeroizing::new(Vec::with_capacity(keys.keys.len() * 48));
    for k in &keys.keys {
        plain.extend_from_slice(&k.id().0);
        plain.extend_from_slice(k.expose());
    }
    let kek = derive(passphrase, &salt, &kdf)?;
    let sealed = seal_vec(&kek, &plain, &out, rng);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a recovery file: the station's keys, or `wrong_passphrase`.
pub fn open(file: &[u8], passphrase: &Sensitive<String>) -> Result<KeySet> {
    let p = parse(file)?;
    let kek = derive(passphrase, p.salt, &p.info.kdf)?;
    let n = p.info.key_count as usize;
    let mut plain = Zeroizing::new(vec![0u8; n * 48]);
    open_secret(&kek, p.sealed, p.aad, &mut plain).ok_or(Error::WrongPassphrase)?;
    let mut keys = Vec::with_capacity(n);
    for rec in plain.chunks_exact(48) {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&rec[16..]);
        let key = MasterKey::from_bytes(bytes);
        if key.id().0 != rec[..16] {
            return Err(not_recovery("a key does not match its id"));
        }
        keys.push(key);
    }
    let set = KeySet {
        station_id: p.info.station_id,
        current: p.info.current,
        keys,
    };
    if set.current_key().is_none() {
        return Err(not_recovery("the current key is not among the keys"));
    }
    Ok(set)
}

/// Re-seals the keys of `file` under a new passphrase (validated by the caller), with a fresh
/// salt and the same or stronger KDF costs. Backups are untouched: they name master keys, which
/// do not change.
pub fn rewrap(
    file: &[u8],
    old: &Sensitive<String>,
    new: &Sensitive<String>,
    kdf: Option<KdfParams>,
) -> Result<Vec<u8>> {
    let info = inspect(file)?;
    let keys = open(file, old)?;
    seal(&keys, new, kdf.unwrap_or(info.kdf))
}

/// Reads the public part of a recovery file (no passphrase needed).
pub fn inspect(file: &[u8]) -> Result<RecoveryInfo> {
    parse(file).map(|p| p.info)
}

/// Reads a recovery file from `r`, refusing more than [`MAX_FILE_LEN`] bytes.
pub fn read_bounded(r: impl Read) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(MAX_FILE_LEN as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("read", "the recovery file", e))?;
    if buf.len() > MAX_FILE_LEN {
        return Err(not_recovery("it is larger than any recovery file"));
    }
    Ok(buf)
}

fn derive(
    passphrase: &Sensitive<String>,
    salt: &[u8],
    kdf: &KdfParams,
) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let params = Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.parallelism, Some(KEY_LEN))
        .map_err(|e| Error::Internal(format!("Argon2id parameters: {e}")))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(passphrase.expose().as_bytes(), salt, out.as_mut())
        .map_err(|e| Error::Internal(format!("Argon2id: {e}")))?;
    Ok(out)
}

fn not_recovery(detail: &str) -> Error {
    Error::NotABackup {
        what: "the file".into(),
        expected: "recovery file",
        detail: detail.into(),
    }
}

/// A cursor over the file that never reads past its end.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() - self.pos < n {
            return Err(not_recovery("it ends too early"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().unwrap_or([0; 2]),
        ))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().unwrap_or([0; 4]),
        ))
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(
            self.take(8)?.try_into().unwrap_or([0; 8]),
        ))
    }
}

fn parse(file: &[u8]) -> Result<Parsed<'_>> {
    if file.len() > MAX_FILE_LEN {
        return Err(not_recovery("it is larger than any recovery file"));
    }
    if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
        return Err(not_recovery(
            "its first bytes are not the recovery file marker",
        ));
    }
    let mut c = Cursor { buf: file, pos: 8 };
    let version = c.u16()?;
    if version > VERSION {
        return Err(Error::FormatUnsupported {
            what: "recovery file",
            version,
        });
    }
    if version == 0 {
        return Err(not_recovery("format version 0"));
    }
    if c.u8()? != KDF_ARGON2ID {
        return Err(not_recovery("unknown key derivation function"));
    }
    let kdf = KdfParams {
        m_cost_kib: c.u32()?,
        t_cost: c.u32()?,
        parallelism: c.u32()?,
    };
    kdf.check().map_err(|m| not_recovery(&m))?;
    let salt_len = c.u8()? as usize;
    if !(16..=64).contains(&salt_len) {
        return Err(not_recovery("salt length out of bounds"));
    }
    let salt = c.take(salt_len)?;
    let station_len = c.u16()? as usize;
    if station_len == 0 || station_len > MAX_STATION_LEN {
        return Err(not_recovery("station id length out of bounds"));
    }
    let station_id = std::str::from_utf8(c.take(station_len)?)
        .map_err(|_| not_recovery("station id is not UTF-8"))?
        .to_string();
    let created_at = OffsetDateTime::from_unix_timestamp(c.i64()?)
        .map_err(|_| not_recovery("creation time out of range"))?;
    let mut current = [0u8; 16];
    current.copy_from_slice(c.take(16)?);
    let key_count = c.u16()?;
    if key_count == 0 || key_count as usize > MAX_KEYS {
        return Err(not_recovery("key count out of bounds"));
    }
    let aad_end = c.pos;
    let sealed_len = 12 + key_count as usize * 48 + TAG_LEN;
    let sealed = c.take(sealed_len)?;
    if c.pos != file.len() {
        return Err(not_recovery("it has bytes after its end"));
    }
    Ok(Parsed {
        info: RecoveryInfo {
            version,
            kdf,
            station_id,
            created_at,
            current: KeyId(current),
            key_count,
        },
        salt,
        aad: &file[..aad_end],
        sealed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> Sensitive<String> {
        Sensitive::new(s.to_string())
    }

    fn two_keys() -> KeySet {
        let a = MasterKey::generate();
        let b = MasterKey::generate();
        KeySet {
            station_id: "station-r".into(),
            current: b.id(),
            keys: vec![a, b],
        }
    }

    #[test]
    fn recovery_round_trips_and_rewraps_without_changing_keys() {
        let keys = two_keys();
        let file = seal(&keys, &pass("Corr3ct-Horse!"), KdfParams::default()).unwrap();
        let info = inspect(&file).unwrap();
        assert_eq!(info.station_id, "station-r");
        assert_eq!(info.current, keys.current);
        assert_eq!(info.key_count, 2);
        assert_eq!(info.kdf, KdfParams::default());

        let back = open(&file, &pass("Corr3ct-Horse!")).unwrap();
        assert_eq!(back.keys, keys.keys);
        assert_eq!(back.current, keys.current);

        let e = open(&file, &pass("corr3ct-Horse!")).unwrap_err();
        assert_eq!(e.code(), "wrong_passphrase");

        let re = rewrap(
            &file,
            &pass("Corr3ct-Horse!"),
            &pass("N3w-Passphrase#"),
            None,
        )
        .unwrap();
        assert_ne!(re, file);
        assert_eq!(open(&re, &pass("N3w-Passphrase#")).unwrap().keys, keys.keys);
        assert_eq!(
            open(&re, &pass("Corr3ct-Horse!")).unwrap_err().code(),
            "wrong_passphrase"
        );
        let e = rewrap(&file, &pass("wrong"), &pass("N3w-Passphrase#"), None).unwrap_err();
        assert_eq!(e.code(), "wrong_passphrase");
    }

    #[test]
    fn a_changed_byte_anywhere_is_refused() {
        let keys = two_keys();
        let file = seal(&keys, &pass("Corr3ct-Horse!"), KdfParams::default()).unwrap();
        // A flip in the KDF parameters would make the test slow; those are covered by parse
        // bounds. Flip one byte in each other field.
        for pos in [0usize, 9, 10, 24, 45, 60, file.len() - 30, file.len() - 1] {
            let mut bad = file.clone();
            bad[pos] ^= 0x10;
            let e = open(&bad, &pass("Corr3ct-Horse!")).unwrap_err();
            assert!(
                ["wrong_passphrase", "not_a_backup", "format_unsupported"].contains(&e.code()),
                "byte {pos}: {}",
                e.code()
            );
        }
        assert_eq!(
            inspect(&file[..file.len() - 1]).unwrap_err().code(),
            "not_a_backup"
        );
        assert_eq!(inspect(&[]).unwrap_err().code(), "not_a_backup");
        let mut newer = file.clone();
        newer[9] = 2;
        assert_eq!(inspect(&newer).unwrap_err().code(), "format_unsupported");
    }

    #[test]
    fn weak_or_absurd_kdf_costs_are_refused() {
        let keys = two_keys();
        let weak = KdfParams {
            m_cost_kib: 1024,
            ..KdfParams::default()
        };
        assert!(seal(&keys, &pass("x"), weak).is_err());
        let file = seal(&keys, &pass("Corr3ct-Horse!"), KdfParams::default()).unwrap();
        let mut huge = file.clone();
        huge[11..15].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(inspect(&huge).unwrap_err().code(), "not_a_backup");
    }
}
