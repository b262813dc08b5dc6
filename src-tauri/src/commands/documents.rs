//! Case documents: files the officer drops on the window (or picks in the native dialog) are
//! uploaded with their SHA-256; downloads go where the officer says in the native save dialog,
//! checked against the recorded hash. The webview never names a file of its own choosing: an
//! upload takes only offered paths, a download only the dialog's answer.

use std::path::PathBuf;

use strongroom_core::error::PublicError;
use strongroom_core::jobs::documents;
use strongroom_core::progress::{NoProgress, ProgressEvent};
use strongroom_core::registry::documents::Document;
use strongroom_core::Error;
use tauri::ipc::Channel;
use tauri::{State, WebviewWindow};

use super::{blocking, public};
use crate::upload_queue::{self, QueuedUpload};
use crate::AppState;

/// Opens the native file picker; the chosen files become uploadable. None: cancelled.
#[tauri::command]
#[specta::specta]
pub async fn choose_files(
    state: State<'_, AppState>,
    window: WebviewWindow,
) -> Result<Option<Vec<String>>, PublicError> {
    let picked = rfd::AsyncFileDialog::new()
        .set_title("Add documents to the case")
        .set_parent(&window)
        .pick_files()
        .await;
    Ok(picked.map(|files| {
        let paths: Vec<PathBuf> = files.iter().map(|f| f.path().to_path_buf()).collect();
        state.offer(paths.clone());
        paths.iter().map(|p| p.display().to_string()).collect()
    }))
}

/// Uploads `files` (offered by a drop or the picker) to case `case_number` as job `job`; progress per
/// file and overall streams through `on_progress`. Cancelling the job pauses it: the upload is
/// queued (and survives a restart) and continues from the stored parts when started again.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, fields(files = files.len()))]
pub async fn upload_documents(
    state: State<'_, AppState>,
    job: String,
    case_number: String,
    files: Vec<String>,
    on_progress: Channel<ProgressEvent>,
) -> Result<Vec<Document>, PublicError> {
    let files: Vec<PathBuf> = files.into_iter().map(PathBuf::from).collect();
    if let Some(stranger) = files.iter().find(|f| !state.was_offered(f)) {
        return Err(public(Error::Invalid {
            code: "file_not_offered",
            field: "files",
            message: format!(
                "{} was not dropped on the window or chosen in the file dialog; add it that way",
                stranger.display()
            ),
        }));
    }
    let ctx = state.context().map_err(public)?;
    upload_queue::put(
        &state.home,
        QueuedUpload {
            job: job.clone(),
            case: case_number.clone(),
            files: files.clone(),
        },
    )
    .map_err(public)?;
    let cancel = state.start_job(&job);
    let result = blocking(move || {
        let sink = move |e: ProgressEvent| {
            let _ = on_progress.send(e);
        };
        documents::add(&ctx, case_number.trim(), &files, &sink, &cancel)
    })
    .await;
    state.finish_job(&job);
    // A paused (cancelled) or failed upload stays queued to be resumed; a finished one leaves.
    if result.is_ok() {
        upload_queue::remove(&state.home, &job).map_err(public)?;
    }
    result
}

/// Uploads that did not finish (paused, failed, or cut off by a closed app).
#[tauri::command]
#[specta::specta]
pub fn queued_uploads(state: State<'_, AppState>) -> Vec<QueuedUpload> {
    upload_queue::load(&state.home)
}

/// Gives up a queued upload (the store's unfinished parts are cleaned by the next job).
#[tauri::command]
#[specta::specta]
pub fn forget_upload(state: State<'_, AppState>, job: String) -> Result<(), PublicError> {
    state.cancel_job(&job);
    upload_queue::remove(&state.home, &job).map_err(public)
}

/// Asks where to save document `id` (native dialog) and downloads it there, hash checked.
/// None: the officer cancelled the dialog.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn save_document(
    state: State<'_, AppState>,
    window: WebviewWindow,
    id: i64,
) -> Result<Option<String>, PublicError> {
    let ctx = state.context().map_err(public)?;
    let doc = state
        .with_registry(|r| r.read(|db| strongroom_core::registry::documents::require(db, id)))
        .map_err(public)?;
    // The recorded name is cleaned again before it is offered as a file name.
    let suggested = documents::document_name(std::path::Path::new(&doc.name))
        .unwrap_or_else(|_| format!("document-{id}"));
    let Some(target) = rfd::AsyncFileDialog::new()
        .set_title("Save document")
        .set_file_name(suggested)
        .set_parent(&window)
        .save_file()
        .await
    else {
        return Ok(None);
    };
    let path = target.path().to_path_buf();
    let shown = path.display().to_string();
    blocking(move || documents::get(&ctx, id, &path, &NoProgress)).await?;
    Ok(Some(shown))
}
