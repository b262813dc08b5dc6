//! `backup drill`: restore a backup into a scratch folder and run the checks a real restore
//! relies on, touching nothing live; RESTORE_DRILL records the result.

use serde::Serialize;
use serde_json::json;

use super::restore::unpack;
use super::{Context, JobLock};
use crate::audit::{self, AuditEvent, EventType, Outcome};
use crate::progress::{Cancel, Progress};
use crate::registry::{backups, Registry};
use crate::{Error, Result};

/// One check of a drill.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DrillCheck {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// What `backup drill` found (the CLI's JSON).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Drill {
    pub id: String,
    pub ok: bool,
    pub checks: Vec<DrillCheck>,
}

fn check(name: &str, ok: bool, detail: impl Into<String>) -> DrillCheck {
    DrillCheck {
        name: name.to_string(),
        ok,
        detail: detail.into(),
    }
}

/// Drills the newest good backup, or `id`.
pub fn drill(
    ctx: &Context,
    id: Option<&str>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Drill> {
    let _lock = JobLock::acquire(&ctx.home)?;
    let mut reg = ctx.registry()?;
    super::backup::clean_interrupted(ctx, &mut reg)?;
    let id = match id {
        Some(i) => i.to_string(),
        None => reg
            .read(backups::good)?
            .into_iter()
            .next()
            .map(|b| b.id)
            .ok_or_else(|| Error::NotFound {
                what: "a verified backup to drill (run `strongroom backup create` first)".into(),
            })?,
    };
    let scratch = ctx
        .home
        .tmp_dir()
        .join(format!("drill-{}", uuid::Uuid::new_v4()));
    let mut checks = Vec::new();
    match unpack(ctx, &id, &scratch, progress, cancel) {
        Err(e) => checks.push(check("decrypt", false, format!("{} ({})", e, e.code()))),
        Ok(u) => {
            checks.push(check(
                "decrypt",
                true,
                format!(
                    "every chunk authenticated ({} bytes of database)",
                    u.report.plaintext_len
                ),
            ));
            checks.push(check("integrity_check", true, "PRAGMA integrity_check: ok"));
            match Registry::open(&u.path) {
                Err(e) => checks.push(check("open", false, e.to_string())),
                Ok(restored) => {
                    let m = &u.report.manifest;
                    let schema = restored.schema_version().unwrap_or(-1);
                    checks.push(check(
                        "schema",
                        schema == i64::from(m.schema_version),
                        format!("schema {schema}, manifest says {}", m.schema_version),
                    ));
                    match restored.counts() {
                        Ok(c) => checks.push(check(
                            "counts",
                            c.cases == m.counts.cases
                                && c.documents == m.counts.documents
                                && c.audit_records == m.counts.audit_records,
                            format!(
                                "{} cases, {} documents, {} audit records; manifest says {}, {}, {}",
                                c.cases,
                                c.documents,
                                c.audit_records,
                                m.counts.cases,
                                m.counts.documents,
                                m.counts.audit_records
                            ),
                        )),
                        Err(e) => checks.push(check("counts", false, e.to_string())),
                    }
                    match restored.read(audit::verify) {
                        Ok(r) => checks.push(check(
                            "audit_chain",
                            r.ok,
                            match r.first_bad {
                                None => format!("{} records, chain intact", r.events),
                                Some(b) => format!("record {b} of {} does not match", r.events),
                            },
                        )),
                        Err(e) => checks.push(check("audit_chain", false, e.to_string())),
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let ok = checks.iter().all(|c| c.ok);
    reg.write(|tx| {
        audit::append(
            tx,
            &ctx.actor,
            &AuditEvent::new(EventType::RestoreDrill)
                .outcome(if ok {
                    Outcome::Success
                } else {
                    Outcome::Failure
                })
                .resource(format!("backup/{id}"))
                .details(json!({ "ok": ok, "checks": checks })),
        )
    })?;
    Ok(Drill { id, ok, checks })
}
