//! Backups: back up now, the list (this workstation's catalogue and the cloud's objects of every
//! station), verify, the restore wizard's preview and restore, restore to a file, drills.

use serde::Serialize;
use strongroom_core::error::PublicError;
use strongroom_core::jobs::backup::{self, Created, Listing, Source, Verified};
use strongroom_core::jobs::drill::{self, Drill};
use strongroom_core::jobs::restore::{self, Restored};
use strongroom_core::progress::ProgressEvent;
use strongroom_core::registry::backups::Backup;
use strongroom_core::registry::{cases, documents};
use strongroom_core::{Error, Result};
use tauri::ipc::Channel;
use tauri::{State, WebviewWindow};

use super::{blocking, public};
use crate::AppState;

/// The word the officer types to confirm a restore over the live registry.
pub const RESTORE_CONFIRMATION: &str = "RESTORE";

/// Both lists: the cloud's may fail (offline) without hiding the local one.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct BackupLists {
    pub local: Vec<Listing>,
    /// None when no cloud store is set up.
    pub remote: Option<Vec<Listing>>,
    /// Why the cloud could not be listed.
    pub remote_error: Option<PublicError>,
}

/// What the wizard shows before a restore: the backup and the registry it would replace.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct RestorePreview {
    pub id: String,
    /// Where it would be read from, e.g. the local file or the cloud object key.
    pub source: String,
    pub in_cloud_only: bool,
    /// The catalogue row, when this workstation made or knows the backup.
    pub backup: Option<Backup>,
    pub live_cases: u64,
    pub live_documents: u64,
}

/// Runs the whole backup workflow now; progress through `on_progress`, cancel with `backup`.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn backup_now(
    state: State<'_, AppState>,
    local_only: bool,
    on_progress: Channel<ProgressEvent>,
) -> Result<Created, PublicError> {
    let ctx = state.context().map_err(public)?;
    let cancel = state.start_job("backup");
    let result = blocking(move || {
        let sink = move |e: ProgressEvent| {
            let _ = on_progress.send(e);
        };
        backup::create(&ctx, local_only, &sink, &cancel)
    })
    .await;
    state.finish_job("backup");
    result
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn list_backups(state: State<'_, AppState>) -> Result<BackupLists, PublicError> {
    let ctx = state.context().map_err(public)?;
    blocking(move || {
        let local = backup::list_local(&ctx)?;
        let (remote, remote_error) =
            if ctx.settings.effective_provider() == strongroom_core::config::CloudProvider::None {
                (None, None)
            } else {
                match backup::list_remote(&ctx) {
                    Ok(r) => (Some(r), None),
                    Err(e) => (None, Some(e.to_public())),
                }
            };
        Ok(BackupLists {
            local,
            remote,
            remote_error,
        })
    })
    .await
}

/// Reads and authenticates every byte of backup `id`.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn verify_backup(
    state: State<'_, AppState>,
    id: String,
    on_progress: Channel<ProgressEvent>,
) -> Result<Verified, PublicError> {
    let ctx = state.context().map_err(public)?;
    blocking(move || {
        let sink = move |e: ProgressEvent| {
            let _ = on_progress.send(e);
        };
        backup::verify(&ctx, &id, &sink)
    })
    .await
}

fn preview(ctx: &strongroom_core::jobs::Context, id: &str) -> Result<RestorePreview> {
    let (source, backup) = backup::locate(ctx, id)?;
    let (source, in_cloud_only) = match source {
        Source::Local { path, .. } => (path.display().to_string(), false),
        Source::Cloud { key } => (key, true),
    };
    let reg = ctx.registry()?;
    let (live_cases, live_documents) =
        reg.read(|db| Ok((cases::count(db)?, documents::count(db)?)))?;
    Ok(RestorePreview {
        id: id.to_string(),
        source,
        in_cloud_only,
        backup,
        live_cases,
        live_documents,
    })
}

/// The wizard's preview of restoring backup `id`.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn preview_restore(
    state: State<'_, AppState>,
    id: String,
) -> Result<RestorePreview, PublicError> {
    let ctx = state.context().map_err(public)?;
    blocking(move || preview(&ctx, &id)).await
}

/// Restores backup `id` over the live registry (verified first; a safety copy is kept). The
/// officer must have typed [`RESTORE_CONFIRMATION`]; cancel with job `restore`.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn restore_backup(
    state: State<'_, AppState>,
    id: String,
    reason: String,
    confirmation: String,
    on_progress: Channel<ProgressEvent>,
) -> Result<Restored, PublicError> {
    if confirmation.trim() != RESTORE_CONFIRMATION {
        return Err(public(Error::Invalid {
            code: "restore_not_confirmed",
            field: "confirmation",
            message: format!(
                "type {RESTORE_CONFIRMATION} to confirm that the live registry is replaced"
            ),
        }));
    }
    let reason = strongroom_core::validate::reason(Some(&reason))
        .map_err(public)?
        .to_string();
    let ctx = state.context().map_err(public)?;
    let cancel = state.start_job("restore");
    let result = blocking(move || {
        let sink = move |e: ProgressEvent| {
            let _ = on_progress.send(e);
        };
        restore::restore(&ctx, &id, Some(&reason), None, &sink, &cancel)
    })
    .await;
    state.finish_job("restore");
    result
}

/// Restores backup `id` into a database file the officer names in the save dialog; nothing
/// live is touched. None: the dialog was cancelled.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn restore_to_file(
    state: State<'_, AppState>,
    window: WebviewWindow,
    id: String,
    on_progress: Channel<ProgressEvent>,
) -> Result<Option<Restored>, PublicError> {
    let ctx = state.context().map_err(public)?;
    let Some(target) = rfd::AsyncFileDialog::new()
        .set_title("Restore the backup to a file")
        .set_file_name(format!("registry-{id}.sqlite3"))
        .set_parent(&window)
        .save_file()
        .await
    else {
        return Ok(None);
    };
    let path = target.path().to_path_buf();
    let cancel = state.start_job("restore");
    let result = blocking(move || {
        let sink = move |e: ProgressEvent| {
            let _ = on_progress.send(e);
        };
        restore::restore(&ctx, &id, None, Some(&path), &sink, &cancel)
    })
    .await;
    state.finish_job("restore");
    result.map(Some)
}

/// A restore drill of backup `id` (the newest good one when None).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn drill_backup(
    state: State<'_, AppState>,
    id: Option<String>,
    on_progress: Channel<ProgressEvent>,
) -> Result<Drill, PublicError> {
    let ctx = state.context().map_err(public)?;
    let cancel = state.start_job("drill");
    let result = blocking(move || {
        let sink = move |e: ProgressEvent| {
            let _ = on_progress.send(e);
        };
        drill::drill(&ctx, id.as_deref(), &sink, &cancel)
    })
    .await;
    state.finish_job("drill");
    result
}
