//! `backup prune`: backups older than the retention days (settings, default 30) are deleted
//! from the local folder and the cloud, except held ones (a case they contain is under legal
//! hold). Each deletion is audited (BACKUP_DELETED); the audit log itself is never touched.

use std::path::Path;

use serde::Serialize;
use serde_json::json;
use time::Duration;

use super::{block_on, Context, JobLock};
use crate::audit::{self, AuditEvent, EventType};
use crate::registry::{backups, timestamp, Registry};
use crate::Result;

/// What retention did (the CLI's JSON): backup ids.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Pruned {
    pub deleted: Vec<String>,
    pub kept: Vec<String>,
    /// Why each kept backup was kept, by id.
    #[serde(skip)]
    pub reasons: Vec<(String, String)>,
}

/// Applies retention (takes the job lock).
pub fn prune(ctx: &Context, dry_run: bool) -> Result<Pruned> {
    let _lock = JobLock::acquire(&ctx.home)?;
    let mut reg = ctx.registry()?;
    prune_with(ctx, &mut reg, dry_run)
}

/// Applies retention with the job lock already held (the end of `backup create`).
pub fn prune_with(ctx: &Context, reg: &mut Registry, dry_run: bool) -> Result<Pruned> {
    let days = ctx.settings.cloud.retention_days.max(1);
    let cutoff = timestamp::now() - Duration::days(i64::from(days));
    let all = reg.read(backups::list)?;
    let mut out = Pruned::default();
    let dest = if all
        .iter()
        .any(|b| b.cloud_key.is_some() && b.created_at < cutoff)
    {
        Some(ctx.destinations()?)
    } else {
        None
    };
    for b in all {
        if b.state == backups::BackupState::Pending {
            continue;
        }
        if b.created_at >= cutoff {
            out.reasons
                .push((b.id.clone(), format!("newer than {days} days")));
            out.kept.push(b.id);
            continue;
        }
        if b.held {
            let cases = reg.read(|db| backups::holding_cases(db, &b.id))?;
            out.reasons
                .push((b.id.clone(), format!("held for case {}", cases.join(", "))));
            out.kept.push(b.id);
            continue;
        }
        if dry_run {
            out.deleted.push(b.id);
            continue;
        }
        if let (Some(key), Some(d)) = (&b.cloud_key, &dest) {
            block_on(d.backups.delete(key))??;
        }
        if let Some(p) = &b.local_path {
            match std::fs::remove_file(Path::new(p)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(crate::Error::io("removed", p, e)),
            }
        }
        reg.write(|tx| {
            backups::remove(tx, &b.id)?;
            audit::append(
                tx,
                &ctx.actor,
                &AuditEvent::new(EventType::BackupDeleted)
                    .resource(format!("backup/{}", b.id))
                    .details(json!({
                        "reason": format!("retention: older than {days} days"),
                        "created_at": timestamp::format(b.created_at),
                        "local_path": b.local_path,
                        "cloud_key": b.cloud_key,
                    })),
            )
        })?;
        out.deleted.push(b.id);
    }
    Ok(out)
}
