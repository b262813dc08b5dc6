//! AES-256-GCM as the format uses it: wrapping a backup's data key under a master key, and
//! sealing the chunks of a backup under the data key with a nonce built from the chunk's index
//! and flags (see `docs/FORMAT.md`, "Chunks").

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::master_key::{MasterKey, KEY_LEN};

/// The random key that seals the chunks of one backup (never reused by another backup).
pub type DataKey = Zeroizing<[u8; KEY_LEN]>;

/// Length of a wrapped data key: nonce (12) || encrypted key (32) || tag (16).
pub const WRAPPED_KEY_LEN: usize = 12 + KEY_LEN + 16;

/// Length of a GCM tag.
pub(crate) const TAG_LEN: usize = 16;

pub(crate) fn random_data_key<R: RngCore + CryptoRng>(rng: &mut R) -> DataKey {
    let mut k = Zeroizing::new([0u8; KEY_LEN]);
    rng.fill_bytes(k.as_mut());
    k
}

/// Seals `data_key` under `master` with a random nonce, binding `aad` (the backup header up to
/// the wrapped key): `nonce || ciphertext || tag`.
pub fn wrap_data_key<R: RngCore + CryptoRng>(
    master: &MasterKey,
    data_key: &DataKey,
    aad: &[u8],
    rng: &mut R,
) -> [u8; WRAPPED_KEY_LEN] {
    seal_secret::<KEY_LEN, WRAPPED_KEY_LEN>(master.expose(), data_key, aad, rng)
}

/// Opens a data key wrapped by [`wrap_data_key`]; `None` when the master key or `aad` differ or
/// a byte was changed.
pub fn unwrap_data_key(
    master: &MasterKey,
    wrapped: &[u8; WRAPPED_KEY_LEN],
    aad: &[u8],
) -> Option<DataKey> {
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    open_secret(master.expose(), wrapped, aad, out.as_mut())?;
    Some(out)
}

/// `nonce(12) || AES-256-GCM(key, nonce, aad, secret) || tag(16)` with a random nonce.
fn seal_secret<const N: usize, const OUT: usize>(
    key: &[u8; KEY_LEN],
    secret: &[u8; N],
    aad: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> [u8; OUT] {
    let mut out = [0u8; OUT];
    let sealed = seal_vec(key, secret, aad, rng);
    out.copy_from_slice(&sealed);
    out
}

/// Seals a secret of any length: `nonce(12) || ciphertext || tag(16)`.
pub(crate) fn seal_vec(
    key: &[u8; KEY_LEN],
    secret: &[u8],
    aad: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(12 + secret.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(secret);
    let tag = cipher
        .encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, &mut out[12..])
        .expect("a secret shorter than 64 GiB always seals");
    out.extend_from_slice(&tag);
    out
}

/// Opens `nonce || ciphertext || tag` into `out` (which must be `sealed.len() - 28` long).
pub(crate) fn open_secret(
    key: &[u8; KEY_LEN],
    sealed: &[u8],
    aad: &[u8],
    out: &mut [u8],
) -> Option<()> {
    if sealed.len() < 12 + TAG_LEN || out.len() != sealed.len() - 12 - TAG_LEN {
        return None;
    }
    let cipher = Aes256Gcm::new(key.into());
    let (nonce, rest) = sealed.split_at(12);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    out.copy_from_slice(ct);
    let ok = cipher
        .decrypt_in_place_detached(Nonce::from_slice(nonce), aad, out, Tag::from_slice(tag))
        .is_ok();
    if !ok {
        zeroize::Zeroize::zeroize(out);
        return None;
    }
    Some(())
}

/// Seals and opens the chunks of one backup under its data key.
pub(crate) struct ChunkCipher {
    aead: Aes256Gcm,
}

pub(crate) fn chunk_cipher(data_key: &DataKey) -> ChunkCipher {
    ChunkCipher {
        aead: Aes256Gcm::new(data_key.as_ref().into()),
    }
}

impl ChunkCipher {
    /// The nonce of chunk `index` with `flags`: `index` as u64 big-endian, three zero bytes,
    /// then the flags byte. Unique per chunk under one data key; binds position and kind.
    pub(crate) fn nonce(index: u64, flags: u8) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..8].copy_from_slice(&index.to_be_bytes());
        n[11] = flags;
        n
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(&self, index: u64, flags: u8, aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        let nonce = Self::nonce(index, flags);
        let tag = self
            .aead
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, buf)
            .expect("a chunk shorter than 64 GiB always seals");
        tag.into()
    }

    /// Authenticates and decrypts `buf` in place. On failure `buf` is left unchanged.
    pub(crate) fn open(
        &self,
        index: u64,
        flags: u8,
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> bool {
        let nonce = Self::nonce(index, flags);
        self.aead
            .decrypt_in_place_detached(Nonce::from_slice(&nonce), aad, buf, Tag::from_slice(tag))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_key_opens_only_with_its_master_key_and_aad() {
        let m = MasterKey::generate();
        let other = MasterKey::generate();
        let dk = random_data_key(&mut rand::rngs::OsRng);
        let w = wrap_data_key(&m, &dk, b"header", &mut rand::rngs::OsRng);
        assert_eq!(unwrap_data_key(&m, &w, b"header").unwrap(), dk);
        assert!(unwrap_data_key(&other, &w, b"header").is_none());
        assert!(unwrap_data_key(&m, &w, b"headeR").is_none());
        let mut flipped = w;
        flipped[20] ^= 1;
        assert!(unwrap_data_key(&m, &flipped, b"header").is_none());
    }

    #[test]
    fn chunk_nonce_binds_index_and_flags() {
        let dk = random_data_key(&mut rand::rngs::OsRng);
        let c = chunk_cipher(&dk);
        let mut buf = b"chunk payload".to_vec();
        let tag = c.seal(7, 0, b"aad", &mut buf);
        let sealed = buf.clone();
        assert!(!c.open(8, 0, b"aad", &mut buf, &tag));
        assert!(!c.open(7, 1, b"aad", &mut buf, &tag));
        assert_eq!(buf, sealed, "a failed open leaves the ciphertext unchanged");
        assert!(c.open(7, 0, b"aad", &mut buf, &tag));
        assert_eq!(buf, b"chunk payload");
        assert_eq!(
            ChunkCipher::nonce(1, 3),
            [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3]
        );
    }
}
