//! Strongroom's domain: the case registry, the audit log, encrypted backups, storage and keys.
//!
//! The core knows nothing of Tauri, the CLI or the terminal: it never prints, it reports
//! progress through [`progress::Progress`] and failures through [`Error`], whose `code` is stable.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod archive;
pub mod audit;
pub mod config;
pub mod cost;
pub mod crypto;
pub mod error;
pub mod jobs;
pub mod monitor;
pub mod paths;
pub mod progress;
pub mod registry;
pub mod secrets;
pub mod station;
pub mod storage;
pub mod validate;
pub mod workstation;

pub use error::{Error, Result};

/// The version of this build, as shown by `--version` and the app's about box.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
