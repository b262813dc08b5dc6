//! `init`: a new station. Creates the home and its registry, the station's first master key in
//! the OS keyring, and the recovery file (every master key sealed under the recovery passphrase)
//! in every backup destination, so a new workstation can read the backups after a disaster.

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;

use super::block_on;
use crate::audit::{self, Actor, AuditEvent, EventType};
use crate::config::Settings;
use crate::crypto::{recovery, KdfParams, KeyStore};
use crate::paths::Home;
use crate::registry::Registry;
use crate::secrets::{Keyring, Sensitive};
use crate::station::Station;
use crate::storage::{open_destinations, PutOptions};
use crate::{validate, Error, Result};

/// What `init` made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InitOutcome {
    pub station: String,
    pub home: String,
    pub key_id: String,
    /// Where the recovery file was stored, e.g. `local folder /…/backups`, `s3://bucket`.
    pub recovery_copies: Vec<String>,
}

/// The display name of a station created without `--station`.
pub const DEFAULT_STATION_NAME: &str = "Strongroom station";

/// Initialises `home` as a new station named `name`. Refuses an initialised home and a weak
/// passphrase (`passphrase_weak`). On any failure after the key was made, the key is removed
/// again and the home stays uninitialised, so `init` can simply be run again.
pub fn init(
    home: &Home,
    name: Option<&str>,
    passphrase: &Sensitive<String>,
    kdf: KdfParams,
    officer: Option<String>,
) -> Result<InitOutcome> {
    if Station::load(home)?.is_some() {
        return Err(Error::AlreadyExists {
            what: format!(
                "a station in {} (this home is already initialised; use another --home)",
                home.root().display()
            ),
        });
    }
    validate::passphrase(passphrase.expose())?;
    home.create_dirs()?;
    let settings = Settings::load(home)?;
    settings.validate()?;
    let station = Station::new(
        name.filter(|n| !n.trim().is_empty())
            .unwrap_or(DEFAULT_STATION_NAME),
    );
    let keys = KeyStore::for_station(&station.id);
    let key = keys.create()?;
    let made = (|| -> Result<Vec<String>> {
        let sealed = recovery::seal(&keys.key_set()?, passphrase, kdf)?;
        let copies = store_recovery_file(home, &settings, &station, sealed)?;
        let mut reg = Registry::open_in(home)?;
        station.save(home)?;
        let actor = Actor::new(&station, "cli").with_officer(officer);
        reg.write(|tx| {
            audit::append(
                tx,
                &actor,
                &AuditEvent::new(EventType::StationInitialised)
                    .resource(format!("station/{}", station.id))
                    .details(json!({ "name": station.name, "recovery_copies": copies })),
            )?;
            audit::append(
                tx,
                &actor,
                &AuditEvent::new(EventType::KeyCreated)
                    .resource(format!("key/{}", key.id()))
                    .details(json!({ "key_id": key.id().to_hex() })),
            )
        })?;
        Ok(copies)
    })();
    match made {
        Ok(copies) => Ok(InitOutcome {
            station: station.id,
            home: home.root().display().to_string(),
            key_id: key.id().to_hex(),
            recovery_copies: copies,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(home.station_file());
            if let Err(cleanup) = keys.remove_all() {
                tracing::warn!(error = %cleanup, "could not remove the key of a failed init");
            }
            Err(e)
        }
    }
}

/// Stores the sealed recovery file under [`recovery::file_name`] in the local backups folder and
/// in the cloud backups store when enabled. Returns where it went.
pub fn store_recovery_file(
    home: &Home,
    settings: &Settings,
    station: &Station,
    sealed: Vec<u8>,
) -> Result<Vec<String>> {
    let dest = open_destinations(settings, &Keyring::for_station(&station.id), home)?;
    let name = recovery::file_name(&station.id);
    let data = Bytes::from(sealed);
    let mut stores = vec![dest.local_backups.clone()];
    if dest.cloud.is_some() {
        stores.push(dest.backups.clone());
    }
    let mut copies = Vec::new();
    for store in stores {
        block_on(store.put_bytes(&name, data.clone(), &PutOptions::default()))??;
        copies.push(store.describe());
    }
    Ok(copies)
}
