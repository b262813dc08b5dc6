//! One module per command group; each takes the home and the output and calls one core API.
pub mod audit;
pub mod case;
pub mod info;
pub mod registry;
// --- documents, holds, storage ---
pub mod doc;
pub mod hold;
pub mod storage;
// --- station, keys, backups, health ---
pub mod backup;
pub mod check;
pub mod cost;
pub mod passphrase;
pub mod station;
