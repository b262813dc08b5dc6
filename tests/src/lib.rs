//! Support for the end-to-end tests: the addresses of the services that `make test` started
//! (see scripts/with-services.sh), and paths to the built binaries.
//!
//! Under `make test` (STRONGROOM_TEST_SERVICES=1) a missing service is a test failure. A plain
//! `cargo test` outside it skips service tests with a note instead, so the unit tests stay usable.

pub mod app;
pub mod cli;
pub mod fault_proxy;
pub mod file_dialog;
pub mod os_drop;
pub mod services;
pub mod station;
