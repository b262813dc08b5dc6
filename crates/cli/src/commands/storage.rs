//! `strongroom storage prepare|test`: configure and probe the documents and backup destinations.

use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;
use strongroom_core::jobs::{block_on, Context};
use strongroom_core::paths::Home;
use strongroom_core::storage::{PrepareOptions, PrepareReport, TestReport};
use strongroom_core::Result;

use crate::output::Output;

#[derive(Subcommand, Debug)]
pub enum StorageCommand {
    /// Creates and configures the destinations (bucket/container, versioning, lifecycle, …).
    Prepare,
    /// Checks the destinations: what works, and exactly what is wrong (exit 1 on a failure).
    Test,
}

#[derive(Serialize)]
struct Prepared {
    documents: PrepareReport,
    backups: PrepareReport,
}

#[derive(Serialize)]
struct Tested {
    ok: bool,
    documents: TestReport,
    backups: TestReport,
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

pub fn run(home: &Home, out: &Output, command: StorageCommand) -> Result<ExitCode> {
    // Works before `init` too: the backups destination must exist for init's recovery file.
    let ctx = Context::open_for_setup(home, "cli", std::env::var("STRONGROOM_OFFICER").ok())?;
    let d = ctx.destinations()?;
    match command {
        StorageCommand::Prepare => {
            let docs_opts = PrepareOptions::for_documents(&ctx.settings);
            let backup_opts = PrepareOptions::for_backups(&ctx.settings);
            let r = block_on(async {
                let documents = d.documents.prepare(&docs_opts).await?;
                let backups = d.backups.prepare(&backup_opts).await?;
                Ok::<_, strongroom_core::Error>(Prepared { documents, backups })
            })??;
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
            let (documents, backups) =
                block_on(async { (d.documents.test().await, d.backups.test().await) })?;
            let r = Tested {
                ok: false,
                documents: documents?,
                backups: backups?,
            };
            let r = Tested {
                ok: r.documents.ok && r.backups.ok,
                ..r
            };
            out.result(&r, || {
                format!(
                    "{}\n{}",
                    test_text("documents", &r.documents),
                    test_text("backups", &r.backups)
                )
            });
            let failed = [&r.documents, &r.backups].into_iter().find(|t| !t.ok);
            let code = match failed {
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
