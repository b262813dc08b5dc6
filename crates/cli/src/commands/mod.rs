//! One module per command group; each takes the home and the output and calls one core API.
pub mod audit;
pub mod case;
pub mod info;
pub mod registry;
// --- documents, holds, storage (feat/documents) ---
pub mod doc;
pub mod hold;
pub mod progress;
pub mod storage;
// --- backup jobs (issue 6): init, keys, backup, check ---
pub mod backup;
pub mod check;
pub mod passphrase;
pub mod station;
