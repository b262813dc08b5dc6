//! `strongroom`: the CLI contract is in shared/CLI.md. Results go to stdout (human text or one
//! JSON document with --json), progress and errors to stderr. Exit codes: 0 success, 1 failure,
//! 2 usage, 3 CRITICAL finding, 4 verification failed.

mod commands;
mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use strongroom_core::paths::Home;

#[derive(Parser, Debug)]
#[command(
    name = "strongroom",
    version,
    about = "Encrypted, verified backups of a station's case registry"
)]
struct Cli {
    /// All state of one station lives under this folder.
    #[arg(long, global = true, env = "STRONGROOM_HOME", value_name = "DIR")]
    home: Option<PathBuf>,

    /// Print the result as one JSON document on stdout.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// What this station is: version, home, station id, keyring reachability.
    Info,
    /// The case registry: add, list and show cases.
    Case {
        #[command(subcommand)]
        command: commands::case::CaseCommand,
    },
    /// The tamper-evident audit log: list, verify the hash chain, export.
    Audit {
        #[command(subcommand)]
        command: commands::audit::AuditCommand,
    },
    // --- documents, holds, storage ---
    /// Case documents: upload to the documents store, download with the SHA-256 checked.
    Doc {
        #[command(subcommand)]
        command: commands::doc::DocCommand,
    },
    /// Legal hold on a case and its documents.
    Hold {
        #[command(subcommand)]
        command: commands::hold::HoldCommand,
    },
    /// The documents and backup destinations: prepare them, test the connection.
    Storage {
        #[command(subcommand)]
        command: commands::storage::StorageCommand,
    },
    // --- station, keys, backups, health ---
    /// Sets up this home as a new station: registry, master key, recovery file.
    Init {
        /// Read the recovery passphrase from the first line of standard input.
        #[arg(long)]
        passphrase_stdin: bool,
        /// The station's name, e.g. Northgate.
        #[arg(long, value_name = "NAME")]
        station: Option<String>,
    },
    /// The station's master keys: recover them on a new workstation.
    Keys {
        #[command(subcommand)]
        command: commands::station::KeysCommand,
    },
    /// Encrypted, verified backups: create, list, verify, restore, drill, prune.
    Backup {
        #[command(subcommand)]
        command: commands::backup::BackupCommand,
    },
    /// Health of the station's backups, audit log and keys; exit 3 on a CRITICAL finding.
    Check,
    /// The monthly storage cost estimate from the real sizes and the dated list prices.
    Cost,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let out = output::Output::new(cli.json);
    let result = Home::resolve(cli.home.as_deref()).and_then(|home| match cli.command {
        Command::Info => commands::info::run(&home, &out),
        Command::Case { command } => commands::case::run(&home, &out, command),
        Command::Audit { command } => commands::audit::run(&home, &out, command),
        Command::Doc { command } => commands::doc::run(&home, &out, command),
        Command::Hold { command } => commands::hold::run(&home, &out, command),
        Command::Storage { command } => commands::storage::run(&home, &out, command),
        Command::Init {
            passphrase_stdin,
            station,
        } => commands::station::init(&home, &out, passphrase_stdin, station),
        Command::Keys { command } => commands::station::keys(&home, &out, command),
        Command::Backup { command } => commands::backup::run(&home, &out, command),
        Command::Check => commands::check::run(&home, &out),
        Command::Cost => commands::cost::run(&home, &out),
    });
    match result {
        Ok(code) => code,
        Err(e) => out.error(&e),
    }
}

// Logs go to stderr and only when asked for (RUST_LOG), so stdout stays a clean result.
fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
    }
}
