//! Tauri commands: state → one core call → `{code, message}` on error.

use strongroom_core::error::PublicError;
use strongroom_core::progress::ProgressEvent;
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
