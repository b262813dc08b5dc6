//! `check`: the station's health. Each finding has a severity and a stable code:
//! BACKUP_MISSING (no good backup at all, or none today after the configured hour),
//! BACKUP_SIZE_SUSPICIOUS (under 1 KB, or far below the recent median), CLOUD_COPY_MISSING,
//! VERIFICATION_STALE, DRILL_STALE / DRILL_NEVER, AUDIT_CHAIN_BROKEN, KEY_UNREACHABLE.
//! CRITICAL findings are audited (the CLI exits 3).

use serde::Serialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::audit::{self, AuditEvent, AuditFilter, EventType, Outcome};
use crate::crypto::KeyStore;
use crate::jobs::Context;
use crate::registry::{backups, timestamp};
use crate::Result;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Finding {
    pub severity: Severity,
    pub code: String,
    pub message: String,
}

/// The result of `check` (the CLI's JSON): `status` is `ok`, `warning` or `critical`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Health {
    pub status: String,
    pub findings: Vec<Finding>,
}

impl Health {
    pub fn is_critical(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Critical)
    }
}

/// A backup smaller than this is suspicious.
pub const MIN_BACKUP_SIZE: u64 = 1024;
/// Verification older than this is stale.
pub const VERIFICATION_MAX_AGE_DAYS: i64 = 7;
/// A drill older than this is stale.
pub const DRILL_MAX_AGE_DAYS: i64 = 30;

fn finding(severity: Severity, code: &str, message: impl Into<String>) -> Finding {
    Finding {
        severity,
        code: code.to_string(),
        message: message.into(),
    }
}

/// Runs every check at `now` and audits the critical findings.
pub fn check(ctx: &Context, now: OffsetDateTime) -> Result<Health> {
    let mut reg = ctx.registry()?;
    // Every page of the registry first (commands open it with the header check only). When it
    // is damaged nothing read from it can be trusted, and recording the finding in it could
    // fail or make things worse: the damage is the report.
    if let Err(e) = reg.quick_check() {
        tracing::error!(code = e.code(), "the registry file is damaged");
        return Ok(Health {
            status: "critical".into(),
            findings: vec![finding(
                Severity::Critical,
                "REGISTRY_CORRUPT",
                format!(
                    "the registry file is damaged ({}): keep a copy of the file, then restore the newest verified backup with `strongroom backup restore ID`",
                    e.code()
                ),
            )],
        });
    }
    let mut f = Vec::new();
    let good = reg.read(backups::good)?;

    // Is there a backup, and today's after the due hour?
    match good.first() {
        None => f.push(finding(
            Severity::Critical,
            "BACKUP_MISSING",
            "there is no verified backup of this station: run `strongroom backup create` now",
        )),
        Some(newest) => {
            let today = now.date();
            let due = now.hour() >= ctx.settings.schedule.due_by_hour_utc;
            if due && newest.created_at.date() < today {
                f.push(finding(
                    Severity::Critical,
                    "BACKUP_MISSING",
                    format!(
                        "no verified backup today (due by {:02}:00 UTC); the newest is from {}: check the scheduled backup and run `strongroom backup create`",
                        ctx.settings.schedule.due_by_hour_utc,
                        timestamp::format(newest.created_at)
                    ),
                ));
            }
            // Size.
            if newest.size < MIN_BACKUP_SIZE {
                f.push(finding(
                    Severity::Warning,
                    "BACKUP_SIZE_SUSPICIOUS",
                    format!("the newest backup is only {} bytes", newest.size),
                ));
            } else {
                let mut recent: Vec<u64> = good.iter().skip(1).take(10).map(|b| b.size).collect();
                if recent.len() >= 3 {
                    recent.sort_unstable();
                    let median = recent[recent.len() / 2];
                    if newest.size.saturating_mul(2) < median {
                        f.push(finding(
                            Severity::Warning,
                            "BACKUP_SIZE_SUSPICIOUS",
                            format!(
                                "the newest backup ({} bytes) is less than half the recent median ({median} bytes): were cases lost?",
                                newest.size
                            ),
                        ));
                    }
                }
            }
            // Cloud copy.
            if ctx.settings.effective_provider() != crate::config::CloudProvider::None
                && newest.cloud_key.is_none()
            {
                f.push(finding(
                    Severity::Warning,
                    "CLOUD_COPY_MISSING",
                    "the newest backup is not in the cloud yet; the next `strongroom backup create` retries the upload",
                ));
            }
            // Verification age.
            let last_verified = good.iter().filter_map(|b| b.verified_at).max();
            if let Some(v) = last_verified {
                if now - v > Duration::days(VERIFICATION_MAX_AGE_DAYS) {
                    f.push(finding(
                        Severity::Warning,
                        "VERIFICATION_STALE",
                        format!(
                            "no backup was verified since {}: run `strongroom backup verify ID`",
                            timestamp::format(v)
                        ),
                    ));
                }
            }
        }
    }

    // Restore drills.
    let last_drill = reg.read(|db| {
        Ok(audit::list(
            db,
            &AuditFilter {
                event: Some(EventType::RestoreDrill.as_str().to_string()),
                outcome: Some(Outcome::Success),
                newest_first: true,
                limit: 1,
                ..AuditFilter::default()
            },
        )?
        .into_iter()
        .next())
    })?;
    match last_drill {
        None => f.push(finding(
            Severity::Info,
            "DRILL_NEVER",
            "no restore drill has passed yet: run `strongroom backup drill`",
        )),
        Some(r) => {
            let t = timestamp::parse(&r.time)?;
            if now - t > Duration::days(DRILL_MAX_AGE_DAYS) {
                f.push(finding(
                    Severity::Warning,
                    "DRILL_STALE",
                    format!(
                        "the last passing restore drill was {}: run `strongroom backup drill`",
                        r.time
                    ),
                ));
            }
        }
    }

    // The audit chain.
    let chain = reg.read(audit::verify)?;
    if !chain.ok {
        f.push(finding(
            Severity::Critical,
            "AUDIT_CHAIN_BROKEN",
            format!(
                "the audit log has been altered at record {}: keep this registry as evidence and report it",
                chain.first_bad.unwrap_or(0)
            ),
        ));
    }

    // The master key.
    if let Err(e) = KeyStore::for_station(&ctx.station.id).current() {
        f.push(finding(
            Severity::Critical,
            "KEY_UNREACHABLE",
            format!("the master key cannot be read ({}): {e}", e.code()),
        ));
    }

    let worst = f.iter().map(|x| x.severity).max();
    let status = match worst {
        Some(Severity::Critical) => "critical",
        Some(Severity::Warning) => "warning",
        _ => "ok",
    }
    .to_string();
    let critical: Vec<&Finding> = f
        .iter()
        .filter(|x| x.severity == Severity::Critical)
        .collect();
    if !critical.is_empty() && chain.ok {
        reg.write(|tx| {
            for c in &critical {
                let ev = if c.code == "BACKUP_MISSING" {
                    EventType::BackupMissing
                } else {
                    EventType::HealthCheck
                };
                audit::append(
                    tx,
                    &ctx.actor,
                    &AuditEvent::new(ev)
                        .outcome(Outcome::Critical)
                        .resource(format!("station/{}", ctx.station.id))
                        .details(json!({ "code": c.code, "message": c.message })),
                )?;
            }
            Ok(())
        })?;
    }
    Ok(Health {
        status,
        findings: f,
    })
}
