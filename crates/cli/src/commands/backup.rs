//! `strongroom backup create|list|verify|restore|drill|prune`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use strongroom_core::jobs::{backup, drill, restore, retention, Context};
use strongroom_core::paths::Home;
use strongroom_core::progress::Cancel;
use strongroom_core::registry::timestamp;
use strongroom_core::Result;

use crate::output::{Output, EXIT_VERIFY_FAILED};
use crate::progress::StderrProgress;

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Snapshot → compress → encrypt → local file → verify → cloud upload → retention.
    Create {
        /// Keep this backup local: no cloud upload.
        #[arg(long)]
        local_only: bool,
    },
    /// The good (complete and verified) backups of this station, newest first.
    List {
        /// What the backups destination holds instead (any station's).
        #[arg(long)]
        remote: bool,
    },
    /// Reads and authenticates every byte of a backup; exit 4 on any fault.
    Verify { id: String },
    /// Replaces the live registry with a backup (verified first; a safety copy is kept).
    Restore {
        id: String,
        /// Confirms the restore (required).
        #[arg(long)]
        yes: bool,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
        /// Writes the restored database here instead; nothing live is touched.
        #[arg(long, value_name = "PATH")]
        to: Option<PathBuf>,
    },
    /// Restores the newest good backup (or ID) into a scratch place and checks it.
    Drill { id: Option<String> },
    /// Deletes backups older than the retention days, except held ones.
    Prune {
        /// Say what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn context(home: &Home) -> Result<Context> {
    Context::open(home, "cli", std::env::var("STRONGROOM_OFFICER").ok())
}

fn mib(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1_000_000.0)
}

pub fn run(home: &Home, out: &Output, cmd: BackupCommand) -> Result<ExitCode> {
    let progress = StderrProgress::new(out.is_json());
    let cancel = Cancel::new();
    match cmd {
        BackupCommand::Create { local_only } => {
            let ctx = context(home)?;
            let c = backup::create(&ctx, local_only, &progress, &cancel)?;
            out.result(&c, || {
                let mut s = format!(
                    "Backup {} created {} · {} cases · {} · verified\n  local: {}",
                    c.id,
                    timestamp::format(c.created_at),
                    c.counts.cases,
                    mib(c.size),
                    c.local_path
                );
                if let Some(k) = &c.cloud_key {
                    s.push_str(&format!("\n  cloud: {k}"));
                }
                if let Some(e) = &c.cloud_error {
                    s.push_str(&format!(
                        "\n  cloud upload FAILED (kept locally; the next run retries): {e}"
                    ));
                }
                if c.documents_sealed > 0 {
                    s.push_str(&format!(
                        "\n  documents sealed into the backups destination: {}",
                        c.documents_sealed
                    ));
                }
                if let Some(e) = &c.sealing_error {
                    s.push_str(&format!(
                        "\n  documents NOT sealed (the next backup retries): {e}"
                    ));
                }
                if !c.pruned.is_empty() {
                    s.push_str(&format!("\n  retention deleted: {}", c.pruned.join(", ")));
                }
                s
            });
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::List { remote } => {
            let ctx = context(home)?;
            let rows = if remote {
                backup::list_remote(&ctx)?
            } else {
                backup::list_local(&ctx)?
            };
            out.result(&rows, || {
                if rows.is_empty() {
                    return "No backups.".into();
                }
                rows.iter()
                    .map(|b| {
                        let mut tags = vec![mib(b.size)];
                        if let Some(c) = b.cases {
                            tags.insert(0, format!("{c} cases"));
                        }
                        if b.verified {
                            tags.push("verified".into());
                        }
                        if b.local {
                            tags.push("local".into());
                        }
                        if b.cloud {
                            tags.push("in cloud".into());
                        }
                        if b.held {
                            tags.push("held".into());
                        }
                        format!(
                            "{}  {}  station {}  {}",
                            b.id,
                            timestamp::format(b.created_at),
                            b.station,
                            tags.join(" · ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Verify { id } => {
            let ctx = context(home)?;
            let v = backup::verify(&ctx, &id, &progress)?;
            out.result(&v, || {
                format!(
                    "backup {}: {} — {}",
                    v.id,
                    if v.ok { "OK" } else { "FAILED" },
                    v.detail
                )
            });
            Ok(if v.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_VERIFY_FAILED)
            })
        }
        BackupCommand::Restore {
            id,
            yes,
            reason,
            to,
        } => {
            if !yes {
                return Ok(out.usage(
                    "restore_not_confirmed",
                    "a restore replaces the live case registry (a safety copy is kept); add --yes to confirm, or --to PATH to restore into another file",
                ));
            }
            let ctx = context(home)?;
            let r = restore::restore(
                &ctx,
                &id,
                reason.as_deref(),
                to.as_deref(),
                &progress,
                &cancel,
            )?;
            out.result(&r, || {
                let mut s = format!(
                    "Backup {} restored to {} in {} ms: {} cases, {} documents.",
                    r.id, r.restored_to, r.elapsed_ms, r.cases, r.documents
                );
                if let Some(sc) = &r.safety_copy {
                    s.push_str(&format!(
                        "\nThe registry as it was is kept at {sc}; {} later audit record(s) were carried forward.",
                        r.carried_forward
                    ));
                }
                s
            });
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Drill { id } => {
            let ctx = context(home)?;
            let d = drill::drill(&ctx, id.as_deref(), &progress, &cancel)?;
            out.result(&d, || {
                let mut s = format!(
                    "Restore drill of backup {}: {}",
                    d.id,
                    if d.ok { "PASSED" } else { "FAILED" }
                );
                for c in &d.checks {
                    s.push_str(&format!(
                        "\n  [{}] {}: {}",
                        if c.ok { "ok" } else { "FAIL" },
                        c.name,
                        c.detail
                    ));
                }
                s
            });
            Ok(if d.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_VERIFY_FAILED)
            })
        }
        BackupCommand::Prune { dry_run } => {
            let ctx = context(home)?;
            let p = retention::prune(&ctx, dry_run)?;
            out.result(&p, || {
                let mut s = format!(
                    "{} {} backup(s); kept {}.",
                    if dry_run { "Would delete" } else { "Deleted" },
                    p.deleted.len(),
                    p.kept.len()
                );
                for d in &p.deleted {
                    s.push_str(&format!("\n  deleted {d}"));
                }
                for (id, why) in &p.reasons {
                    s.push_str(&format!("\n  kept {id}: {why}"));
                }
                s
            });
            Ok(ExitCode::SUCCESS)
        }
    }
}
