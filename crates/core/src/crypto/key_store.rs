//! Where master keys live: the OS keyring ([`KeyStore`]), or in memory after a recovery
//! ([`KeySet`]). Both answer "which key has this id" for the archive reader ([`MasterKeys`]).
//!
//! Keyring entries (scoped by station through [`Keyring::for_station`]):
//! `master-key/<key id>` holds a key as 64 hex digits; `master-key/current` the id of the key
//! that seals new backups; `master-key/ids` the comma-separated ids of every key (the keyring
//! cannot list its entries). Only key material is secret; the ids are not.

use tracing::info;

use super::master_key::{KeyId, MasterKey};
use crate::secrets::{Keyring, Sensitive};
use crate::{Error, Result};

const CURRENT: &str = "master-key/current";
const IDS: &str = "master-key/ids";

fn key_entry(id: &KeyId) -> String {
    format!("master-key/{id}")
}

/// The master keys a reader may use, and the station they belong to.
pub trait MasterKeys {
    /// The station whose keys these are.
    fn station_id(&self) -> &str;
    /// The key with this id, or `None` when there is none.
    fn master_key(&self, id: &KeyId) -> Result<Option<MasterKey>>;
}

/// A station's master keys held in memory, e.g. as opened from its recovery file.
#[derive(Clone, Debug)]
pub struct KeySet {
    pub station_id: String,
    /// The key that seals new backups; always one of `keys`.
    pub current: KeyId,
    pub keys: Vec<MasterKey>,
}

impl KeySet {
    /// A set of one key, which is current.
    pub fn single(station_id: &str, key: MasterKey) -> Self {
        Self {
            station_id: station_id.to_string(),
            current: key.id(),
            keys: vec![key],
        }
    }

    pub fn current_key(&self) -> Option<&MasterKey> {
        self.keys.iter().find(|k| k.id() == self.current)
    }

    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(MasterKey::id).collect()
    }
}

impl MasterKeys for KeySet {
    fn station_id(&self) -> &str {
        &self.station_id
    }
    fn master_key(&self, id: &KeyId) -> Result<Option<MasterKey>> {
        Ok(self.keys.iter().find(|k| k.id() == *id).cloned())
    }
}

/// The station's master keys in the OS keyring.
#[derive(Debug, Clone)]
pub struct KeyStore {
    station_id: String,
    ring: Keyring,
}

impl KeyStore {
    pub fn for_station(station_id: &str) -> Self {
        Self {
            station_id: station_id.to_string(),
            ring: Keyring::for_station(station_id),
        }
    }

    pub fn station_id(&self) -> &str {
        &self.station_id
    }

    /// Makes the station's first master key and makes it current. Refuses (`already_exists`)
    /// when the station already has a current key: a key is never replaced silently.
    pub fn create(&self) -> Result<MasterKey> {
        if self.current_id()?.is_some() {
            return Err(Error::AlreadyExists {
                what: "a master key for this station".into(),
            });
        }
        let key = MasterKey::generate();
        self.store(&key)?;
        self.ring.set(CURRENT, &Sensitive::new(key.id().to_hex()))?;
        info!(key_id = %key.id(), "master key created");
        Ok(key)
    }

    /// Makes a new master key current. Older keys stay in the keyring so the backups they
    /// sealed stay readable. Needs an existing current key (`not_initialised` otherwise).
    pub fn rotate(&self) -> Result<MasterKey> {
        let old = self.current_id()?.ok_or(Error::NotInitialised)?;
        let key = MasterKey::generate();
        self.store(&key)?;
        self.ring.set(CURRENT, &Sensitive::new(key.id().to_hex()))?;
        info!(old_key_id = %old, key_id = %key.id(), "master key rotated");
        Ok(key)
    }

    /// The id of the current key, or `None` before [`KeyStore::create`].
    pub fn current_id(&self) -> Result<Option<KeyId>> {
        match self.ring.get(CURRENT)? {
            None => Ok(None),
            Some(v) => v.expose().parse().map(Some).map_err(|_| damaged(CURRENT)),
        }
    }

    /// The key that seals new backups: `not_initialised` before `create`, `key_missing` when
    /// the current key's entry is gone.
    pub fn current(&self) -> Result<MasterKey> {
        let id = self.current_id()?.ok_or(Error::NotInitialised)?;
        self.load(&id)
    }

    /// The key with this id, or `key_missing`.
    pub fn load(&self, id: &KeyId) -> Result<MasterKey> {
        self.get(id)?.ok_or_else(|| Error::KeyMissing {
            key_id: id.to_hex(),
        })
    }

    /// The key with this id, or `None`.
    pub fn get(&self, id: &KeyId) -> Result<Option<MasterKey>> {
        let name = key_entry(id);
        let Some(v) = self.ring.get(&name)? else {
            return Ok(None);
        };
        let key = MasterKey::from_keyring_value(v.expose()).ok_or_else(|| damaged(&name))?;
        if key.id() != *id {
            return Err(damaged(&name));
        }
        Ok(Some(key))
    }

    /// The ids of every key of this station, oldest first.
    pub fn ids(&self) -> Result<Vec<KeyId>> {
        let Some(v) = self.ring.get(IDS)? else {
            return Ok(Vec::new());
        };
        v.expose()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.parse().map_err(|_| damaged(IDS)))
            .collect()
    }

    /// Every key of this station, with the current one marked: what a recovery file holds.
    pub fn key_set(&self) -> Result<KeySet> {
        let current = self.current_id()?.ok_or(Error::NotInitialised)?;
        let mut keys = Vec::new();
        for id in self.ids()? {
            keys.push(self.load(&id)?);
        }
        if !keys.iter().any(|k| k.id() == current) {
            keys.push(self.load(&current)?);
        }
        Ok(KeySet {
            station_id: self.station_id.clone(),
            current,
            keys,
        })
    }

    /// Puts recovered keys into this station's keyring (on a new workstation after
    /// `keys recover`). Keys already present are kept; the set's current key becomes current
    /// unless the station already has a current key of its own, which is never replaced.
    /// Returns the ids that were added.
    pub fn import(&self, set: &KeySet) -> Result<Vec<KeyId>> {
        let mut added = Vec::new();
        for key in &set.keys {
            if self.get(&key.id())?.is_none() {
                self.store(key)?;
                added.push(key.id());
            }
        }
        if self.current_id()?.is_none() {
            if set.current_key().is_none() {
                return Err(Error::Internal(
                    "a key set without its current key cannot be imported".into(),
                ));
            }
            self.ring
                .set(CURRENT, &Sensitive::new(set.current.to_hex()))?;
        }
        info!(added = added.len(), "master keys imported");
        Ok(added)
    }

    /// Removes every master key of this station from the keyring. Destructive: backups sealed
    /// by these keys become unreadable unless a recovery file is kept. For tests and for
    /// decommissioning a station.
    pub fn remove_all(&self) -> Result<()> {
        for id in self.ids()? {
            self.ring.delete(&key_entry(&id))?;
        }
        if let Some(id) = self.current_id()? {
            self.ring.delete(&key_entry(&id))?;
        }
        self.ring.delete(CURRENT)?;
        self.ring.delete(IDS)
    }

    fn store(&self, key: &MasterKey) -> Result<()> {
        self.ring
            .set(&key_entry(&key.id()), &key.to_keyring_value())?;
        let mut ids = self.ids()?;
        if !ids.contains(&key.id()) {
            ids.push(key.id());
        }
        let list: Vec<String> = ids.iter().map(KeyId::to_hex).collect();
        self.ring.set(IDS, &Sensitive::new(list.join(",")))
    }
}

impl MasterKeys for KeyStore {
    fn station_id(&self) -> &str {
        &self.station_id
    }
    fn master_key(&self, id: &KeyId) -> Result<Option<MasterKey>> {
        self.get(id)
    }
}

fn damaged(entry: &str) -> Error {
    Error::KeyringUnavailable {
        detail: format!(
            "the keyring entry {entry} is damaged; recover the keys with `strongroom keys recover`"
        ),
    }
}
