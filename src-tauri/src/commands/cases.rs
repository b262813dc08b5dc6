//! The case registry: list, search, create, edit, delete; a case's detail; legal holds.

use strongroom_core::error::PublicError;
use strongroom_core::jobs::holds::{self, HoldResult};
use strongroom_core::registry::cases::{self, Case, CaseChanges, CaseDetail, CaseFilter, NewCase};
use tauri::State;

use super::{blocking, public};
use crate::AppState;

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

/// A case with its documents and holds.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn case_detail(state: State<'_, AppState>, number: String) -> Result<CaseDetail, PublicError> {
    state
        .with_registry(|r| cases::detail(&r.db(), number.trim()))
        .map_err(public)
}

/// Changes a case's details after validation.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn update_case(
    state: State<'_, AppState>,
    number: String,
    changes: CaseChanges,
) -> Result<Case, PublicError> {
    let actor = state.actor().map_err(public)?;
    state
        .with_registry(|r| r.write(|tx| cases::update(tx, number.trim(), &changes, &actor)))
        .map_err(public)
}

/// Deletes a case (a reason is required and audited; a held case is refused).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn delete_case(
    state: State<'_, AppState>,
    number: String,
    reason: String,
) -> Result<(), PublicError> {
    let actor = state.actor().map_err(public)?;
    state
        .with_registry(|r| r.write(|tx| cases::delete(tx, number.trim(), &reason, &actor)))
        .map_err(public)
}

/// Sets (`on`) or releases a legal hold on a case: in the registry always, and object by object
/// where the documents store has holds.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn set_hold(
    state: State<'_, AppState>,
    number: String,
    on: bool,
    reason: Option<String>,
) -> Result<HoldResult, PublicError> {
    let ctx = state.context().map_err(public)?;
    blocking(move || {
        let reason = reason.as_deref().filter(|r| !r.trim().is_empty());
        if on {
            holds::set(&ctx, number.trim(), reason)
        } else {
            holds::release(&ctx, number.trim(), reason)
        }
    })
    .await
}
