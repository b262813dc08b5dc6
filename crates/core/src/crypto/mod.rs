//! Keys and the primitives the backup format is built from: the station's master key and its
//! id, AES-256-GCM key wrapping, the OS-keyring key store, and the Argon2id-protected recovery
//! file. The byte formats are specified in `docs/FORMAT.md`.

mod aead;
mod key_store;
mod master_key;
pub mod recovery;

pub(crate) use aead::{chunk_cipher, random_data_key, ChunkCipher, TAG_LEN};
pub use aead::{unwrap_data_key, wrap_data_key, DataKey, WRAPPED_KEY_LEN};
pub use key_store::{KeySet, KeyStore, MasterKeys};
pub use master_key::{KeyId, MasterKey, KEY_LEN};
pub use recovery::{KdfParams, RecoveryInfo};
