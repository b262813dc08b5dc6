//! Tauri commands: state → one core call → `{code, message}` on error.

use strongroom_core::audit::{self, AuditFilter, AuditRecord, VerifyReport};
use strongroom_core::error::PublicError;
use strongroom_core::progress::ProgressEvent;
use strongroom_core::registry::cases::{self, Case, CaseFilter, NewCase};
use strongroom_core::workstation::{self, AppInfo, WorkstationReport};
use tauri::ipc::Channel;
use tauri::State;

use crate::AppState;

fn public(e: strongroom_core::Error) -> PublicError {
    e.to_public()
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, PublicError> {
    workstation::app_info(&state.home).map_err(public)
}

/// Checks that this workstation can hold backups; progress streams through `on_progress`.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn check_workstation(
    state: State<'_, AppState>,
    on_progress: Channel<ProgressEvent>,
) -> Result<WorkstationReport, PublicError> {
    let home = state.home.clone();
    let cancel = state.start_job();
    tauri::async_runtime::spawn_blocking(move || {
        let sink = move |e: ProgressEvent| {
            // A closed window drops the channel; the job still finishes cleanly.
            let _ = on_progress.send(e);
        };
        workstation::check(&home, &sink, &cancel)
    })
    .await
    .map_err(|e| public(strongroom_core::Error::Internal(e.to_string())))?
    .map_err(public)
}

/// Cancels the running job, if any; returns whether there was one.
#[tauri::command]
#[specta::specta]
pub fn cancel_job(state: State<'_, AppState>) -> bool {
    state.cancel_running()
}

/// Cases matching the filter (full-text query, status), newest first, one page.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn list_cases(
    state: State<'_, AppState>,
    filter: CaseFilter,
) -> Result<Vec<Case>, PublicError> {
    state
        .with_registry(|r| cases::list(&r.db(), &filter))
        .map_err(public)
}

/// Creates a case after validation; a rejected field comes back in `PublicError.field`.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn create_case(state: State<'_, AppState>, new_case: NewCase) -> Result<Case, PublicError> {
    let actor = state.actor().map_err(public)?;
    state
        .with_registry(|r| r.write(|tx| cases::create(tx, &new_case, &actor)))
        .map_err(public)
}

/// One page of the audit log, newest first.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn list_audit(
    state: State<'_, AppState>,
    limit: u32,
    offset: u32,
) -> Result<Vec<AuditRecord>, PublicError> {
    let filter = AuditFilter {
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
