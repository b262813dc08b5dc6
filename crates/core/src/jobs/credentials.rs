//! Cloud secrets in the station's OS keyring, by name: stored, removed and listed (whether one is
//! stored, never its value). Each change is audited as CREDENTIALS_CHANGED with the secret's
//! name only. Settings files never hold a secret (see [`crate::config`]).

use serde::Serialize;
use serde_json::json;

use super::Context;
use crate::audit::{self, AuditEvent, EventType};
use crate::config::secret_names;
use crate::secrets::Sensitive;
use crate::{Error, Result};

/// The secrets a station may keep, with the environment variable that overrides each.
pub const SECRETS: [(&str, &str); 5] = [
    (secret_names::AWS_SECRET_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY"),
    (
        secret_names::AZURE_STORAGE_ACCOUNT_KEY,
        "AZURE_STORAGE_ACCOUNT_KEY",
    ),
    (
        secret_names::AZURE_STORAGE_CONNECTION_STRING,
        "AZURE_STORAGE_CONNECTION_STRING",
    ),
    (
        secret_names::AZURE_STORAGE_SAS_TOKEN,
        "AZURE_STORAGE_SAS_TOKEN",
    ),
    (secret_names::AZURE_CLIENT_SECRET, "AZURE_CLIENT_SECRET"),
];

/// Whether one secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SecretStatus {
    pub name: String,
    /// In the OS keyring.
    pub stored: bool,
    /// Given in the environment, which overrides the keyring.
    pub from_environment: bool,
}

fn known(name: &str) -> Result<&'static str> {
    SECRETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, _)| *n)
        .ok_or_else(|| Error::Invalid {
            code: "unknown_secret",
            field: "name",
            message: format!(
                "{name:?} is not a secret Strongroom keeps; use one of {}",
                SECRETS.map(|(n, _)| n).join(", ")
            ),
        })
}

fn audited(ctx: &Context, name: &str, action: &str) -> Result<()> {
    let mut reg = ctx.registry()?;
    reg.write(|tx| {
        audit::append(
            tx,
            &ctx.actor,
            &AuditEvent::new(EventType::CredentialsChanged)
                .resource(format!("secret/{name}"))
                .details(json!({ "name": name, "action": action, "store": "os keyring" })),
        )
    })?;
    Ok(())
}

/// Stores `value` under `name` in the station's keyring.
pub fn set(ctx: &Context, name: &str, value: &Sensitive<String>) -> Result<()> {
    let name = known(name)?;
    if value.expose().trim().is_empty() {
        return Err(Error::Invalid {
            code: "secret_empty",
            field: "value",
            message: format!("the value for {name} is empty; nothing was stored"),
        });
    }
    ctx.keyring.set(name, value)?;
    tracing::info!(name, "secret stored in the OS keyring");
    audited(ctx, name, "stored")
}

/// Removes `name` from the station's keyring (removing an absent one is not an error).
pub fn delete(ctx: &Context, name: &str) -> Result<()> {
    let name = known(name)?;
    ctx.keyring.delete(name)?;
    tracing::info!(name, "secret removed from the OS keyring");
    audited(ctx, name, "removed")
}

/// Which secrets are stored, and which the environment overrides.
pub fn status(ctx: &Context) -> Result<Vec<SecretStatus>> {
    SECRETS
        .iter()
        .map(|(name, var)| {
            Ok(SecretStatus {
                name: name.to_string(),
                stored: ctx.keyring.get(name)?.is_some(),
                from_environment: std::env::var_os(var).is_some_and(|v| !v.is_empty()),
            })
        })
        .collect()
}
