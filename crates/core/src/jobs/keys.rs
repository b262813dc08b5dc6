//! `keys recover`: on a new workstation, find the station's recovery file in the configured
//! backup destination, open it with the recovery passphrase and put the keys in the OS keyring.
//! The home then acts as that station (its `station.json` names the recovered station id).

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::block_on;
use crate::audit::{self, Actor, AuditEvent, EventType};
use crate::config::Settings;
use crate::crypto::{recovery, KeySet, KeyStore};
use crate::paths::Home;
use crate::registry::Registry;
use crate::secrets::{Keyring, Sensitive};
use crate::station::{Station, UNREGISTERED_ID};
use crate::storage::{open_destinations, ObjectStore};
use crate::{Error, Result};

const RECOVERY_PREFIX: &str = "strongroom-recovery-";

/// What `keys recover` did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RecoverOutcome {
    /// The current key of the recovered station.
    pub key_id: String,
    pub station: String,
    /// How many keys were put in the keyring.
    pub keys: usize,
    /// Where the recovery file was read.
    pub source: String,
}

/// Recovers the master keys of the station whose recovery file is in the configured backup
/// destination (the cloud when enabled, else the home's backups folder). With several stations'
/// files there, `station_id` picks one; otherwise every file is tried with the passphrase.
pub fn recover(
    home: &Home,
    passphrase: &Sensitive<String>,
    station_id: Option<&str>,
    officer: Option<String>,
) -> Result<RecoverOutcome> {
    home.create_dirs()?;
    let settings = Settings::load(home)?;
    let existing = Station::load(home)?;
    if let (Some(st), Some(wanted)) = (&existing, station_id) {
        if st.id != wanted {
            return Err(Error::Invalid {
                code: "station_mismatch",
                field: "station_id",
                message: format!(
                    "this home already belongs to station {}; recover station {wanted} into a new --home",
                    st.id
                ),
            });
        }
    }
    let ring_id = existing
        .as_ref()
        .map(|s| s.id.clone())
        .or_else(|| station_id.map(str::to_string))
        .unwrap_or_else(|| UNREGISTERED_ID.to_string());
    let dest = open_destinations(&settings, &Keyring::for_station(&ring_id), home)?;
    let mut stores: Vec<Arc<dyn ObjectStore>> = vec![dest.backups.clone()];
    if dest.cloud.is_some() {
        stores.push(dest.local_backups.clone());
    }
    let wanted = station_id.or(existing.as_ref().map(|s| s.id.as_str()));
    let (set, source) = find_and_open(&stores, passphrase, wanted)?;
    let ids = KeyStore::for_station(&set.station_id).import(&set)?;
    let station = match existing {
        Some(s) => s,
        None => {
            let s = Station {
                id: set.station_id.clone(),
                name: format!("station {}", short(&set.station_id)),
            };
            s.save(home)?;
            s
        }
    };
    let mut reg = Registry::open_in(home)?;
    let actor = Actor::new(&station, "cli").with_officer(officer);
    reg.write(|tx| {
        audit::append(
            tx,
            &actor,
            &AuditEvent::new(EventType::KeyRecovery)
                .resource(format!("station/{}", station.id))
                .details(json!({
                    "keys": ids.iter().map(|k| k.to_hex()).collect::<Vec<_>>(),
                    "current": set.current.to_hex(),
                    "source": source,
                })),
        )
    })?;
    Ok(RecoverOutcome {
        key_id: set.current.to_hex(),
        station: station.id,
        keys: ids.len(),
        source,
    })
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn find_and_open(
    stores: &[Arc<dyn ObjectStore>],
    passphrase: &Sensitive<String>,
    station_id: Option<&str>,
) -> Result<(KeySet, String)> {
    let mut tried = 0usize;
    let mut opened: Vec<(KeySet, String)> = Vec::new();
    let mut searched = Vec::new();
    for store in stores {
        searched.push(store.describe());
        let names: Vec<String> = match station_id {
            Some(id) => vec![recovery::file_name(id)],
            None => block_on(store.list_all(RECOVERY_PREFIX))??
                .into_iter()
                .map(|o| o.key)
                .filter(|k| k.ends_with(".srk"))
                .collect(),
        };
        for name in names {
            let bytes = match block_on(store.get_bytes(&name))? {
                Ok(b) => b,
                Err(e) if e.code() == "not_found" => continue,
                Err(e) => return Err(e),
            };
            tried += 1;
            match recovery::open(&bytes, passphrase) {
                Ok(set) => {
                    let source = format!("{}/{name}", store.describe());
                    if !opened.iter().any(|(s, _)| s.station_id == set.station_id) {
                        opened.push((set, source));
                    }
                }
                Err(Error::WrongPassphrase) => continue,
                Err(e) => return Err(e),
            }
        }
        if !opened.is_empty() {
            break;
        }
    }
    match opened.len() {
        0 if tried == 0 => Err(Error::NotFound {
            what: format!(
                "a recovery file (strongroom-recovery-….srk) in {}; check the backup destination in the settings",
                searched.join(" or ")
            ),
        }),
        0 => Err(Error::WrongPassphrase),
        1 => Ok(opened.remove(0)),
        _ => Err(Error::Invalid {
            code: "station_ambiguous",
            field: "station_id",
            message: format!(
                "the passphrase opens the recovery files of several stations ({}); choose one with --station-id",
                opened
                    .iter()
                    .map(|(s, _)| s.station_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}
