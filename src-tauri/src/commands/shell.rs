//! The window's shell: who and what this app is, the workstation check, job cancellation.

use strongroom_core::error::PublicError;
use strongroom_core::progress::ProgressEvent;
use strongroom_core::workstation::{self, AppInfo, WorkstationReport};
use tauri::ipc::Channel;
use tauri::State;

use super::{blocking, public};
use crate::AppState;

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
    let job = state.start_job("workstation-check");
    let result = blocking(move || {
        let sink = move |e: ProgressEvent| {
            // A closed window drops the channel; the job still finishes cleanly.
            let _ = on_progress.send(e);
        };
        workstation::check(&home, &sink, &job)
    })
    .await;
    state.finish_job("workstation-check");
    result
}

/// Cancels the running job with this id, if any; returns whether there was one.
#[tauri::command]
#[specta::specta]
pub fn cancel_job(state: State<'_, AppState>, job: String) -> bool {
    state.cancel_job(&job)
}
