//! The station's identity: a stable id (used to scope its keyring entries and name its backups)
//! and a human name. Kept in `station.json` in the home; contains no secret.

use serde::{Deserialize, Serialize};

use crate::paths::Home;
use crate::{Error, Result};

/// The station id used before a home is initialised.
pub const UNREGISTERED_ID: &str = "unregistered";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    /// Random, assigned once at `init`; never changes.
    pub id: String,
    /// What officers call the station, e.g. "Northgate".
    pub name: String,
}

impl Station {
    pub fn new(name: &str) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.trim().to_string(),
        }
    }

    /// The stand-in identity of a home that has no station yet (before `strongroom init`):
    /// id `unregistered`, so audit records made then are plainly marked as such.
    pub fn unregistered() -> Self {
        Self {
            id: UNREGISTERED_ID.to_string(),
            name: "unregistered station".to_string(),
        }
    }

    /// The station of this home, or [`Station::unregistered`] before `init`.
    pub fn load_or_unregistered(home: &Home) -> Result<Self> {
        Ok(Self::load(home)?.unwrap_or_else(Self::unregistered))
    }

    /// The station of this home, or `None` before `init`.
    pub fn load(home: &Home) -> Result<Option<Self>> {
        let path = home.station_file();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Config {
                    message: format!(
                        "{} is damaged ({e}); restore it from a backup",
                        path.display()
                    ),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    pub fn save(&self, home: &Home) -> Result<()> {
        let path = home.station_file();
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::Internal(e.to_string()))?;
        std::fs::write(&path, json).map_err(|e| Error::io("written", &path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_round_trips_through_its_file() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        assert_eq!(Station::load(&home).unwrap(), None);
        let s = Station::new("  Northgate ");
        s.save(&home).unwrap();
        let back = Station::load(&home).unwrap().unwrap();
        assert_eq!(back, s);
        assert_eq!(back.name, "Northgate");
    }
}
