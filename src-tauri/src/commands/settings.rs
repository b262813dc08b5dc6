//! Settings: the provider and its fields (the settings file, which never holds a secret), the
//! credentials (to and from the OS keyring only: the screen learns whether one is stored, never
//! its value), "Test connection", "Prepare destination" (the plan first), the recovery
//! passphrase and key rotation.

use serde::Serialize;
use strongroom_core::config::Settings;
use strongroom_core::error::PublicError;
use strongroom_core::jobs::credentials::{self, SecretStatus};
use strongroom_core::jobs::destination::{self, Plan, Prepared, Tested};
use strongroom_core::jobs::key_rotation::{self, Resealed};
use strongroom_core::jobs::settings::{self, SettingsSaved};
use strongroom_core::jobs::Context;
use strongroom_core::secrets::Sensitive;
use tauri::State;

use super::{blocking, public};
use crate::AppState;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct SettingsView {
    /// As the settings file has them (the environment's overrides are not shown as saved).
    pub settings: Settings,
    pub secrets: Vec<SecretStatus>,
    /// Where the settings file is.
    pub path: String,
    pub officer: Option<String>,
}

/// The settings context: works before `init` too (a destination is tested before the first
/// recovery file is written into it).
fn setup(state: &AppState) -> strongroom_core::Result<Context> {
    Context::open_for_setup(&state.home, "app", state.officer())
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub fn get_settings(state: State<'_, AppState>) -> Result<SettingsView, PublicError> {
    let ctx = setup(&state).map_err(public)?;
    Ok(SettingsView {
        settings: settings::stored(&state.home).map_err(public)?,
        secrets: credentials::status(&ctx).map_err(public)?,
        path: state.home.settings().display().to_string(),
        officer: state.officer(),
    })
}

/// Validates and saves the settings (audited as SETTINGS_CHANGED).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: Settings,
) -> Result<SettingsSaved, PublicError> {
    let ctx = state.context().map_err(public)?;
    blocking(move || settings::update(&ctx, &settings)).await
}

/// Stores a cloud secret (e.g. `aws_secret_access_key`) in the OS keyring (audited by name).
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, fields(name = %name))]
pub async fn set_secret(
    state: State<'_, AppState>,
    name: String,
    value: String,
) -> Result<Vec<SecretStatus>, PublicError> {
    let value = Sensitive::new(value);
    let ctx = state.context().map_err(public)?;
    blocking(move || {
        credentials::set(&ctx, &name, &value)?;
        credentials::status(&ctx)
    })
    .await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all, fields(name = %name))]
pub async fn delete_secret(
    state: State<'_, AppState>,
    name: String,
) -> Result<Vec<SecretStatus>, PublicError> {
    let ctx = state.context().map_err(public)?;
    blocking(move || {
        credentials::delete(&ctx, &name)?;
        credentials::status(&ctx)
    })
    .await
}

/// Probes both destinations with the saved settings and the keyring's credentials.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn test_destination(state: State<'_, AppState>) -> Result<Tested, PublicError> {
    let ctx = setup(&state).map_err(public)?;
    blocking(move || destination::test(&ctx)).await
}

/// What "Prepare destination" would set, before it sets anything.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn plan_destination(state: State<'_, AppState>) -> Result<Plan, PublicError> {
    let ctx = setup(&state).map_err(public)?;
    blocking(move || destination::plan(&ctx)).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn prepare_destination(state: State<'_, AppState>) -> Result<Prepared, PublicError> {
    let ctx = setup(&state).map_err(public)?;
    blocking(move || destination::prepare(&ctx)).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn change_passphrase(
    state: State<'_, AppState>,
    current: String,
    replacement: String,
) -> Result<Resealed, PublicError> {
    let (current, new) = (Sensitive::new(current), Sensitive::new(replacement));
    let ctx = state.context().map_err(public)?;
    blocking(move || key_rotation::change_passphrase(&ctx, &current, &new)).await
}

#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn rotate_key(
    state: State<'_, AppState>,
    passphrase: String,
) -> Result<Resealed, PublicError> {
    let passphrase = Sensitive::new(passphrase);
    let ctx = state.context().map_err(public)?;
    blocking(move || key_rotation::rotate(&ctx, &passphrase)).await
}
