//! Secrets live in the OS keyring and nowhere else. [`Sensitive`] wraps a secret in memory:
//! it never prints its value (`Debug` and `Display` redact) and is zeroized when dropped.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Error, Result};

/// The keyring service under which every Strongroom secret is filed.
pub const SERVICE: &str = "strongroom";

/// A secret value in memory. Reading it takes a deliberate call to [`Sensitive::expose`].
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

impl<T: Zeroize> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Sensitive<String> {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The keyring entries of one station. Entries are scoped by the station id, so several homes
/// (and tests) can share one user keyring without seeing each other's secrets.
#[derive(Debug, Clone)]
pub struct Keyring {
    scope: String,
}

impl Keyring {
    pub fn for_station(station_id: &str) -> Self {
        Self {
            scope: station_id.to_string(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(SERVICE, &format!("{}/{}", self.scope, name)).map_err(map_err)
    }

    /// The secret stored under `name`, or `None` when there is none.
    pub fn get(&self, name: &str) -> Result<Option<Sensitive<String>>> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(Sensitive::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    pub fn set(&self, name: &str, value: &Sensitive<String>) -> Result<()> {
        self.entry(name)?
            .set_password(value.expose())
            .map_err(map_err)
    }

    /// Removes the secret; removing one that is not there is not an error.
    pub fn delete(&self, name: &str) -> Result<()> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    /// Whether the OS keyring answers at all (a read of an entry that need not exist).
    pub fn probe() -> Result<()> {
        Keyring::for_station("probe")
            .get("reachability")
            .map(|_| ())
    }
}

// The keyring's own errors never contain the secret, but may be long; keep the kind only.
fn map_err(e: keyring::Error) -> Error {
    let detail = match &e {
        keyring::Error::PlatformFailure(_) => "the platform keyring failed",
        keyring::Error::NoStorageAccess(_) => "the keyring is locked or absent",
        keyring::Error::BadEncoding(_) => "a stored secret is not valid text",
        keyring::Error::TooLong(..) => "a name or secret is too long for the keyring",
        keyring::Error::Invalid(..) => "an invalid keyring entry name",
        keyring::Error::Ambiguous(_) => "several keyring entries match",
        _ => "unknown keyring error",
    };
    Error::KeyringUnavailable {
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_never_prints_its_value() {
        let s = Sensitive::new("canary-SECRET-123".to_string());
        assert!(!format!("{s:?}").contains("canary"));
        assert!(!format!("{s}").contains("canary"));
        assert_eq!(s.expose(), "canary-SECRET-123");
    }

    #[test]
    fn sensitive_zeroizes_on_request() {
        let mut s = Sensitive::new(vec![1u8, 2, 3]);
        s.zeroize();
        assert!(s.expose().is_empty());
    }
}
