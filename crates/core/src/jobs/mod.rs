//! The workflows of the operations guide, over the registry, the archive format and the stores.
//! Every job reports progress through [`crate::progress::Progress`], stops on
//! [`crate::progress::Cancel`], writes its audit events, and runs one at a time per home.

mod context;
mod lock;

pub use context::{block_on, Context};
pub use lock::JobLock;

// --- Documents, upload queue and legal holds ---
pub mod audit_export;
pub mod credentials;
pub mod documents;
pub mod holds;
pub mod upload_queue;

pub use upload_queue::RegistryJournal;
// --- station, keys, backup, restore, drill, retention ---
pub mod archive_copy;
pub mod backup;
pub mod drill;
pub mod key_rotation;
pub mod keys;
pub mod restore;
pub mod retention;
pub mod schedule;
pub mod sealed_documents;
pub mod station_init;
// --- settings and destinations (the app's Settings screen, `storage prepare|test`) ---
pub mod destination;
pub mod settings;
