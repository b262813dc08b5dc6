//! The audit log: pages of records and the chain check.

use strongroom_core::audit::{self, AuditFilter, AuditRecord, VerifyReport};
use strongroom_core::error::PublicError;
use tauri::State;

use super::public;
use crate::AppState;

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
