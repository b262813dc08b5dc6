//! First run: name the station and officer, make the master key and the recovery file; or
//! recover this workstation from the recovery file of a lost one.

use strongroom_core::crypto::KdfParams;
use strongroom_core::error::PublicError;
use strongroom_core::jobs::keys::{self, RecoverOutcome};
use strongroom_core::jobs::station_init::{self, InitOutcome};
use strongroom_core::secrets::Sensitive;
use strongroom_core::validate::{self, PassphraseReport};
use tauri::State;

use super::{blocking, public};
use crate::AppState;

/// The live strength meter and checklist of a recovery passphrase (the passphrase is not kept).
#[tauri::command]
#[specta::specta]
pub fn passphrase_strength(passphrase: String) -> PassphraseReport {
    let passphrase = Sensitive::new(passphrase);
    validate::passphrase_report(passphrase.expose())
}

/// Initialises the station: key in the OS keyring, recovery file in the backups destination.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn init_station(
    state: State<'_, AppState>,
    station: String,
    officer: Option<String>,
    passphrase: String,
) -> Result<InitOutcome, PublicError> {
    let passphrase = Sensitive::new(passphrase);
    state.set_officer(officer.clone()).map_err(public)?;
    let home = state.home.clone();
    let officer = state.officer();
    blocking(move || {
        station_init::init(
            &home,
            Some(&station),
            &passphrase,
            KdfParams::default(),
            officer,
        )
    })
    .await
}

/// Recovers the master key of a lost workstation's station from its recovery file in the
/// configured backups destination.
#[tauri::command]
#[specta::specta]
#[tracing::instrument(skip_all)]
pub async fn recover_station(
    state: State<'_, AppState>,
    officer: Option<String>,
    passphrase: String,
) -> Result<RecoverOutcome, PublicError> {
    let passphrase = Sensitive::new(passphrase);
    state.set_officer(officer).map_err(public)?;
    let home = state.home.clone();
    let officer = state.officer();
    blocking(move || keys::recover(&home, &passphrase, None, officer)).await
}

/// The officer's name remembered on this workstation (audit records carry it).
#[tauri::command]
#[specta::specta]
pub fn set_officer(state: State<'_, AppState>, officer: Option<String>) -> Result<(), PublicError> {
    state.set_officer(officer).map_err(public)
}
