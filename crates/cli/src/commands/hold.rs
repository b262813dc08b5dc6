//! `strongroom hold set|release`: legal hold on a case and its documents.

use std::process::ExitCode;

use clap::Subcommand;
use strongroom_core::jobs::holds::HoldResult;
use strongroom_core::jobs::{self, Context};
use strongroom_core::paths::Home;
use strongroom_core::Result;

use crate::output::{Output, EXIT_FAILURE};

#[derive(Subcommand, Debug)]
pub enum HoldCommand {
    /// Puts a case and its documents under legal hold.
    Set {
        #[arg(long)]
        case: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Releases the legal hold on a case (a reason is required).
    Release {
        #[arg(long)]
        case: String,
        /// Why the hold ends (required; recorded in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
}

fn human(r: &HoldResult, verb: &str) -> String {
    let mut lines = vec![format!(
        "case {}: legal hold {verb} in the registry",
        r.hold.case
    )];
    if let Some(p) = &r.unsupported_by {
        lines.push(format!(
            "{p} ({}) has no object-level legal holds: only the registry hold applies to the documents",
            r.store
        ));
    }
    if !r.objects.is_empty() {
        lines.push(format!(
            "{} document object(s) {verb} in {}",
            r.objects.len(),
            r.store
        ));
    }
    for f in &r.failed {
        lines.push(format!(
            "NOT {verb}: {} — error[{}]: {}",
            f.key, f.code, f.message
        ));
    }
    lines.join("\n")
}

pub fn run(home: &Home, out: &Output, command: HoldCommand) -> Result<ExitCode> {
    let ctx = Context::open(home, "cli", std::env::var("STRONGROOM_OFFICER").ok())?;
    let (r, verb) = match command {
        HoldCommand::Set { case, reason } => {
            (jobs::holds::set(&ctx, &case, reason.as_deref())?, "set")
        }
        HoldCommand::Release { case, reason } => (
            jobs::holds::release(&ctx, &case, reason.as_deref())?,
            "released",
        ),
    };
    out.result(&r, || human(&r, verb));
    Ok(if r.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}
