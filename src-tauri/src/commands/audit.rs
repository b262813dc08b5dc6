//! The audit log: filtered pages of records, the chain check, export through the save dialog.

use strongroom_core::audit::{self, AuditFilter, AuditRecord, ExportFormat, VerifyReport};
use strongroom_core::error::PublicError;
use strongroom_core::jobs::audit_export::{self, Exported};
use tauri::{State, WebviewWindow};

use super::{blocking, public};
use crate::AppState;

/// One page of the audit log, newest first; `event` and `case_number` narrow it when given.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn list_audit(
    state: State<'_, AppState>,
    event: Option<String>,
    case_number: Option<String>,
    limit: u32,
    offset: u32,
) -> Result<Vec<AuditRecord>, PublicError> {
    let blank_is_none =
        |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let filter = AuditFilter {
        event: blank_is_none(event),
        case: blank_is_none(case_number),
        limit,
        offset,
        newest_first: true,
        ..AuditFilter::default()
    };
    state
        .with_registry(|r| audit::list(&r.db(), &filter))
        .map_err(public)
}

/// Recomputes the whole hash chain of the audit log.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn verify_audit(state: State<'_, AppState>) -> Result<VerifyReport, PublicError> {
    state
        .with_registry(|r| audit::verify(&r.db()))
        .map_err(public)
}

/// Asks where to save (native dialog) and exports the whole log there. None: cancelled.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn export_audit(
    state: State<'_, AppState>,
    window: WebviewWindow,
    format: ExportFormat,
) -> Result<Option<Exported>, PublicError> {
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
    };
    let Some(target) = rfd::AsyncFileDialog::new()
        .set_title("Export the audit log")
        .set_file_name(format!("strongroom-audit.{ext}"))
        .add_filter(ext.to_uppercase(), &[ext])
        .set_parent(&window)
        .save_file()
        .await
    else {
        return Ok(None);
    };
    let path = target.path().to_path_buf();
    let actor = state.actor().map_err(public)?;
    let home = state.home.clone();
    blocking(move || {
        let mut reg = strongroom_core::registry::Registry::open_live(&home)?;
        audit_export::export(&mut reg, &actor, format, &path)
    })
    .await
    .map(Some)
}
