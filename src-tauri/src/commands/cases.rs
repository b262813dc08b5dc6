//! The case registry: list, search, create.

use strongroom_core::error::PublicError;
use strongroom_core::registry::cases::{self, Case, CaseFilter, NewCase};
use tauri::State;

use super::public;
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
