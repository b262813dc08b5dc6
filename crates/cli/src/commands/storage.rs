//! `strongroom storage prepare|test`: configure and probe the documents and backup destinations.

use std::process::ExitCode;

use clap::Subcommand;
use strongroom_core::jobs::{credentials, destination, Context};
use strongroom_core::paths::Home;
use strongroom_core::storage::{PrepareReport, TestReport};
use strongroom_core::Result;

use super::passphrase;
use crate::output::Output;

#[derive(Subcommand, Debug)]
pub enum StorageCommand {
    /// Creates and configures the destinations (bucket/container, versioning, lifecycle, …).
    Prepare,
    /// Checks the destinations: what works, and exactly what is wrong (exit 1 on a failure).
    Test,
    /// Cloud secrets in the OS keyring (never in a file): set, delete, list.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretCommand {
    /// Stores a secret (e.g. aws_secret_access_key) in the OS keyring; the value is read from
    /// stdin with --stdin, or typed with echo off. Never from an argument.
    Set {
        name: String,
        #[arg(long)]
        stdin: bool,
    },
    /// Removes a secret from the OS keyring.
    Delete { name: String },
    /// Which secrets are stored (never their values) and which the environment overrides.
    List,
}

fn prepare_text(label: &str, r: &PrepareReport) -> String {
    let mut lines = vec![format!("{label}: {}", r.store)];
    for s in &r.steps {
        lines.push(format!("  {:<11} {}", s.outcome, s.what));
    }
    if let Some(p) = &r.management_policy {
        lines.push(
            "  lifecycle management policy for an administrator to apply (az storage account management-policy create --policy @policy.json):"
                .into(),
        );
        lines.push(serde_json::to_string_pretty(p).unwrap_or_default());
    }
    lines.join("\n")
}

fn test_text(label: &str, r: &TestReport) -> String {
    let mut lines = vec![format!(
        "{label}: {} — {}",
        r.store,
        if r.ok { "works" } else { "NOT working" }
    )];
    for c in &r.checks {
        let mark = if c.ok { "ok  " } else { "FAIL" };
        match &c.detail {
            Some(d) => lines.push(format!("  {mark} {}: {d}", c.name)),
            None => lines.push(format!("  {mark} {}", c.name)),
        }
    }
    lines.join("\n")
}

fn secret(home: &Home, out: &Output, command: SecretCommand) -> Result<ExitCode> {
    let ctx = Context::open(home, "cli", std::env::var("STRONGROOM_OFFICER").ok())?;
    let (name, action) = match &command {
        SecretCommand::Set { name, stdin } => {
            let value = passphrase::read_secret(*stdin, name)?;
            credentials::set(&ctx, name, &value)?;
            (name.clone(), "stored in the OS keyring")
        }
        SecretCommand::Delete { name } => {
            credentials::delete(&ctx, name)?;
            (name.clone(), "removed from the OS keyring")
        }
        SecretCommand::List => {
            let all = credentials::status(&ctx)?;
            out.result(&all, || {
                all.iter()
                    .map(|s| {
                        format!(
                            "{:<34} {}{}",
                            s.name,
                            if s.stored { "stored" } else { "not stored" },
                            if s.from_environment {
                                " (the environment overrides it)"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            return Ok(ExitCode::SUCCESS);
        }
    };
    let r = serde_json::json!({ "name": name, "action": action });
    out.result(&r, || format!("{name}: {action}"));
    Ok(ExitCode::SUCCESS)
}

pub fn run(home: &Home, out: &Output, command: StorageCommand) -> Result<ExitCode> {
    // Prepare and test work before `init` too: the backups destination must exist for init's
    // recovery file.
    let setup = || Context::open_for_setup(home, "cli", std::env::var("STRONGROOM_OFFICER").ok());
    match command {
        StorageCommand::Secret { command } => secret(home, out, command),
        StorageCommand::Prepare => {
            let r = destination::prepare(&setup()?)?;
            out.result(&r, || {
                format!(
                    "{}\n{}",
                    prepare_text("documents", &r.documents),
                    prepare_text("backups", &r.backups)
                )
            });
            Ok(ExitCode::SUCCESS)
        }
        StorageCommand::Test => {
            let r = destination::test(&setup()?)?;
            out.result(&r, || {
                format!(
                    "{}\n{}",
                    test_text("documents", &r.documents),
                    test_text("backups", &r.backups)
                )
            });
            let code = match r.failed() {
                None => ExitCode::SUCCESS,
                Some(t) => out.problem(
                    t.problem.as_deref().unwrap_or("store_error"),
                    t.message
                        .as_deref()
                        .unwrap_or("the destination does not work"),
                ),
            };
            Ok(code)
        }
    }
}
