//! `strongroom init` and `strongroom keys recover`: a new station, and a station's keys on a
//! new workstation.

use std::process::ExitCode;

use clap::Subcommand;
use strongroom_core::crypto::KdfParams;
use strongroom_core::jobs::{keys, station_init};
use strongroom_core::paths::Home;
use strongroom_core::Result;

use super::passphrase;
use crate::output::Output;

fn officer() -> Option<String> {
    std::env::var("STRONGROOM_OFFICER").ok()
}

pub fn init(
    home: &Home,
    out: &Output,
    passphrase_stdin: bool,
    station: Option<String>,
) -> Result<ExitCode> {
    let pass = passphrase::read(passphrase_stdin, "Recovery passphrase")?;
    let made = station_init::init(
        home,
        station.as_deref(),
        &pass,
        KdfParams::default(),
        officer(),
    )?;
    out.result(&made, || {
        format!(
            "Station {} initialised in {}\nMaster key {} is in the OS keyring.\nRecovery file stored in: {}\nKeep the recovery passphrase somewhere safe: without it a new workstation cannot read the backups.",
            made.station,
            made.home,
            made.key_id,
            made.recovery_copies.join(", ")
        )
    });
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// On a new workstation: reads the recovery file from the configured backup destination,
    /// opens it with the recovery passphrase and stores the keys in the OS keyring.
    Recover {
        /// Read the passphrase from the first line of standard input.
        #[arg(long)]
        passphrase_stdin: bool,
        /// The station to recover, when the destination holds several stations' files.
        #[arg(long)]
        station_id: Option<String>,
    },
}

pub fn keys(home: &Home, out: &Output, cmd: KeysCommand) -> Result<ExitCode> {
    match cmd {
        KeysCommand::Recover {
            passphrase_stdin,
            station_id,
        } => {
            let pass = passphrase::read(passphrase_stdin, "Recovery passphrase")?;
            let r = keys::recover(home, &pass, station_id.as_deref(), officer())?;
            out.result(&serde_json::json!({ "key_id": r.key_id, "station": r.station, "keys": r.keys }), || {
                format!(
                    "Recovered {} key(s) of station {} from {}; current key {}.\nThis home now acts as that station: list its backups with `strongroom backup list --remote`.",
                    r.keys, r.station, r.source, r.key_id
                )
            });
            Ok(ExitCode::SUCCESS)
        }
    }
}
