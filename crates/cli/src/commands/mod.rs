//! One module per command group; each takes the home and the output and calls one core API.
pub mod info;
