//! The station's master key: 256 random bits that wrap the data key of every backup.

use std::fmt;
use std::str::FromStr;

use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Length of a master key and of a data key, in bytes.
pub const KEY_LEN: usize = 32;

/// The public name of a master key: the first 16 bytes of
/// `SHA-256("strongroom/key-id/v1" || key)`, shown as 32 lowercase hex digits. It names the key
/// in backups, in the keyring and in the recovery file, and reveals nothing about the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 16]);

impl KeyId {
    pub const LEN: usize = 16;

    fn of(key: &[u8; KEY_LEN]) -> Self {
        let mut h = Sha256::new();
        h.update(b"strongroom/key-id/v1");
        h.update(key);
        let d = h.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&d[..16]);
        KeyId(id)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

impl FromStr for KeyId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let mut id = [0u8; 16];
        hex::decode_to_slice(s.trim(), &mut id).map_err(|_| Error::Invalid {
            code: "key_id_invalid",
            field: "key_id",
            message: "a key id is 32 hexadecimal digits".into(),
        })?;
        Ok(KeyId(id))
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A master key in memory: zeroized on drop, never printed (`Debug` shows only its id).
#[derive(Clone)]
pub struct MasterKey {
    id: KeyId,
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl MasterKey {
    /// A new random master key from the OS random source.
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rngs::OsRng)
    }

    pub(crate) fn generate_with<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill_bytes(bytes.as_mut());
        Self::from_bytes(bytes)
    }

    /// The key made of these bytes; its id is derived from them.
    pub fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        let id = KeyId::of(&bytes);
        Self { id, bytes }
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The raw key. Only the crypto and archive modules need it.
    pub(crate) fn expose(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    /// The object name of a sealed copy of the document whose SHA-256 is `sha256`:
    /// HMAC-SHA256 under this key, so a name tells nothing of the content to whoever lacks it.
    pub fn sealed_document_name(&self, sha256: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.bytes.as_ref())
            .expect("HMAC takes a key of any length");
        mac.update(b"strongroom/sealed-document-name/v1\0");
        mac.update(sha256.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The key as 64 hex digits, for the keyring entry (the only place it may be written).
    pub(crate) fn to_keyring_value(&self) -> crate::secrets::Sensitive<String> {
        crate::secrets::Sensitive::new(hex::encode(self.bytes.as_ref()))
    }

    /// Parses a keyring value written by [`MasterKey::to_keyring_value`].
    pub(crate) fn from_keyring_value(value: &str) -> Option<Self> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(value.trim(), bytes.as_mut()).ok()?;
        Some(Self::from_bytes(bytes))
    }
}

// The key bytes are `Zeroizing`, wiped when a `MasterKey` is dropped; the id is public.
impl zeroize::ZeroizeOnDrop for MasterKey {}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey {{ id: {}, key: <redacted> }}", self.id)
    }
}

impl PartialEq for MasterKey {
    fn eq(&self, other: &Self) -> bool {
        use subtle_eq::ct_eq;
        ct_eq(self.bytes.as_ref(), other.bytes.as_ref())
    }
}
impl Eq for MasterKey {}

mod subtle_eq {
    /// Constant-time comparison of two equal-length byte strings.
    pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let k = MasterKey::generate();
        let hexkey = hex::encode(k.expose());
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(&hexkey));
        assert!(dbg.contains(&k.id().to_hex()));
    }

    #[test]
    fn id_is_derived_from_the_key_and_round_trips() {
        let a = MasterKey::generate();
        let b = MasterKey::generate();
        assert_ne!(a.id(), b.id());
        let again = MasterKey::from_keyring_value(a.to_keyring_value().expose()).unwrap();
        assert_eq!(again.id(), a.id());
        assert_eq!(again, a);
        let parsed: KeyId = a.id().to_hex().parse().unwrap();
        assert_eq!(parsed, a.id());
        assert!("zz".parse::<KeyId>().is_err());
    }
}
