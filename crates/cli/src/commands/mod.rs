//! One module per command group; each takes the home and the output and calls one core API.
pub mod audit;
pub mod case;
pub mod info;
pub mod registry;
// --- backup jobs (issue 6): init, keys, backup, check ---
pub mod backup;
pub mod check;
pub mod passphrase;
pub mod station;
