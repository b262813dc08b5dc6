//! Tauri commands, one module per area: state → one core call → `{code, message}` on error.
//! Long jobs run on the blocking pool, stream progress through a `Channel` and are cancelled by
//! their job id.

pub mod audit;
pub mod backups;
pub mod cases;
pub mod documents;
pub mod health;
pub mod settings;
pub mod shell;
pub mod station;

use strongroom_core::error::PublicError;

pub(crate) fn public(e: strongroom_core::Error) -> PublicError {
    e.to_public()
}

/// Runs blocking core work off the async runtime; a panic in it becomes an `internal` error.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> strongroom_core::Result<T> + Send + 'static,
) -> Result<T, PublicError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| public(strongroom_core::Error::Internal(e.to_string())))?
        .map_err(public)
}
