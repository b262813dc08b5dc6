//! `strongroom audit list|verify|export`: the hash-chained audit log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use strongroom_core::audit::{self, AuditFilter, EventType, ExportFormat, Outcome};
use strongroom_core::jobs::audit_export;
use strongroom_core::paths::Home;
use strongroom_core::registry::timestamp;
use strongroom_core::Result;

use super::registry::{actor, open};
use crate::output::Output;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Lists audit records, oldest first (filters combine).
    List {
        /// From this time (inclusive), e.g. 2026-12-01T00:00:00Z.
        #[arg(long)]
        from: Option<String>,
        /// Until this time (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// An event name, e.g. CASE_CREATED.
        #[arg(long)]
        event: Option<String>,
        /// A case number.
        #[arg(long = "case")]
        case_number: Option<String>,
        /// success, failure, warning or critical.
        #[arg(long)]
        outcome: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// Newest first.
        #[arg(long)]
        newest_first: bool,
    },
    /// Recomputes the hash chain; exits 4 when it is broken.
    Verify,
    /// Writes every record with its hash to a CSV or JSON file.
    Export {
        /// csv or json.
        #[arg(long)]
        format: String,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(home: &Home, out: &Output, cmd: AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::List {
            from,
            to,
            event,
            case_number,
            outcome,
            limit,
            offset,
            newest_first,
        } => {
            let filter = AuditFilter {
                from: from.as_deref().map(timestamp::parse).transpose()?,
                to: to.as_deref().map(timestamp::parse).transpose()?,
                event: event
                    .as_deref()
                    .map(|e| EventType::parse(e).map(|e| e.as_str().to_string()))
                    .transpose()?,
                case: case_number,
                outcome: outcome.as_deref().map(Outcome::parse).transpose()?,
                limit,
                offset,
                newest_first,
            };
            let reg = open(home)?;
            let records = audit::list(&reg.db(), &filter)?;
            out.result(&records, || {
                if records.is_empty() {
                    return "no audit records".to_string();
                }
                records
                    .iter()
                    .map(|r| {
                        format!(
                            "{:>6}  {}  {:<22} {:<8} {:<24} {}",
                            r.seq,
                            r.time,
                            r.event,
                            r.outcome,
                            r.resource,
                            if r.officer.is_empty() {
                                r.os_user.clone()
                            } else {
                                format!("{} ({})", r.os_user, r.officer)
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify => {
            let reg = open(home)?;
            let report = audit::verify(&reg.db())?;
            out.result(&report, || {
                if report.ok {
                    format!("audit chain intact: {} records verified", report.events)
                } else {
                    format!(
                        "audit chain BROKEN at record {}: {}",
                        report.first_bad.unwrap_or(0),
                        report.detail.as_deref().unwrap_or("")
                    )
                }
            });
            report.into_result()?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Export { format, out: path } => {
            let format = ExportFormat::parse(&format)?;
            let actor = actor(home)?;
            let mut reg = open(home)?;
            let result = audit_export::export(&mut reg, &actor, format, &path)?;
            out.result(&result, || {
                format!(
                    "exported {} audit records to {}",
                    result.events, result.path
                )
            });
            Ok(ExitCode::SUCCESS)
        }
    }
}
