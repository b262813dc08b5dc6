//! The dashboard: the station's health at a glance (`check`), the recent backups for the size
//! chart, the next scheduled backup, the last drill and the monthly cost estimate.

use serde::Serialize;
use strongroom_core::audit::{self, AuditFilter};
use strongroom_core::cost::{self, CostEstimate};
use strongroom_core::error::PublicError;
use strongroom_core::jobs::schedule;
use strongroom_core::monitor::{self, Health};
use strongroom_core::registry::backups::{self, Backup};
use strongroom_core::registry::timestamp;
use strongroom_core::Result;
use tauri::State;

use super::{blocking, public};
use crate::AppState;

/// How many backups the dashboard's chart shows.
const CHART_BACKUPS: usize = 30;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Dashboard {
    pub health: Health,
    /// The newest catalogued backups (good or not), newest first.
    pub backups: Vec<Backup>,
    /// When the app's scheduler runs the next backup (RFC 3339, UTC); None when the app's
    /// scheduler is off (`schedule.in_app = false`: a system scheduler runs the backups).
    pub next_backup: Option<String>,
    /// The time of the newest RESTORE_DRILL record, and whether it succeeded.
    pub last_drill: Option<String>,
    pub last_drill_ok: Option<bool>,
    /// Bytes of every good backup kept on this workstation.
    pub stored_bytes: u64,
    pub cost: CostEstimate,
}

pub(crate) fn dashboard_of(ctx: &strongroom_core::jobs::Context) -> Result<Dashboard> {
    let now = time::OffsetDateTime::now_utc();
    let health = monitor::check(ctx, now)?;
    let reg = ctx.registry()?;
    let all = reg.read(backups::list)?;
    let last_good = all.iter().find(|b| b.is_good()).map(|b| b.created_at);
    let next = schedule::next_run(&ctx.settings.schedule, last_good, now);
    let drill = reg.read(|db| {
        audit::list(
            db,
            &AuditFilter {
                event: Some("RESTORE_DRILL".into()),
                newest_first: true,
                limit: 1,
                ..AuditFilter::default()
            },
        )
    })?;
    let stored_bytes = all.iter().filter(|b| b.is_good()).map(|b| b.size).sum();
    let cost = cost::estimate(&reg, &ctx.settings, now)?;
    Ok(Dashboard {
        health,
        backups: all.into_iter().take(CHART_BACKUPS).collect(),
        next_backup: ctx
            .settings
            .schedule
            .in_app
            .then(|| timestamp::format(next)),
        last_drill: drill.first().map(|r| r.time.clone()),
        last_drill_ok: drill.first().map(|r| r.outcome == "success"),
        stored_bytes,
        cost,
    })
}

/// Runs `check` (CRITICAL findings are audited) and gathers what the dashboard shows.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn dashboard(state: State<'_, AppState>) -> Result<Dashboard, PublicError> {
    let ctx = state.context().map_err(public)?;
    blocking(move || dashboard_of(&ctx)).await
}
