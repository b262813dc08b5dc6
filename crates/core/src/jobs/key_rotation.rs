//! Changing the recovery passphrase and rotating the master key (the app's Settings screen).
//! Both re-seal the recovery file and store it wherever `init` stored it (the local backups
//! folder and the cloud backups store), so a new workstation can always recover. The current
//! passphrase is proved first by opening the stored recovery file: a mistyped passphrase never
//! replaces a working recovery file.

use serde::Serialize;
use serde_json::json;

use super::station_init::store_recovery_file;
use super::{block_on, Context, JobLock};
use crate::audit::{self, AuditEvent, EventType};
use crate::crypto::{recovery, KdfParams, KeyStore};
use crate::secrets::Sensitive;
use crate::storage::open_destinations;
use crate::{validate, Error, Result};

/// What a passphrase change or a rotation did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Resealed {
    /// The current master key id afterwards.
    pub key_id: String,
    /// Where the new recovery file was stored.
    pub recovery_copies: Vec<String>,
}

fn stored_recovery_file(ctx: &Context) -> Result<Vec<u8>> {
    let dest = open_destinations(&ctx.settings, &ctx.keyring, &ctx.home)?;
    block_on(
        dest.local_backups
            .get_bytes(&recovery::file_name(&ctx.station.id)),
    )?
}

/// Re-seals the recovery file under `new` (which must pass the policy) after `current` opened it.
pub fn change_passphrase(
    ctx: &Context,
    current: &Sensitive<String>,
    new: &Sensitive<String>,
) -> Result<Resealed> {
    let _lock = JobLock::acquire(&ctx.home)?;
    validate::passphrase(new.expose())?;
    let file = stored_recovery_file(ctx)?;
    let sealed = recovery::rewrap(&file, current, new, None)?;
    let copies = store_recovery_file(&ctx.home, &ctx.settings, &ctx.station, sealed)?;
    let key_id = KeyStore::for_station(&ctx.station.id)
        .current_id()?
        .ok_or(Error::NotInitialised)?
        .to_hex();
    ctx.registry()?.write(|tx| {
        audit::append(
            tx,
            &ctx.actor,
            &AuditEvent::new(EventType::CredentialsChanged)
                .resource("recovery/passphrase")
                .details(json!({ "name": "recovery_passphrase", "action": "changed", "recovery_copies": copies })),
        )
    })?;
    Ok(Resealed {
        key_id,
        recovery_copies: copies,
    })
}

/// Makes a new master key current (older keys stay, so older backups stay readable) and
/// re-seals the recovery file with every key under the recovery `passphrase`.
pub fn rotate(ctx: &Context, passphrase: &Sensitive<String>) -> Result<Resealed> {
    let _lock = JobLock::acquire(&ctx.home)?;
    // Proves the passphrase before anything changes.
    recovery::open(&stored_recovery_file(ctx)?, passphrase)?;
    let keys = KeyStore::for_station(&ctx.station.id);
    let old = keys.current_id()?.ok_or(Error::NotInitialised)?;
    let key = keys.rotate()?;
    let sealed = recovery::seal(&keys.key_set()?, passphrase, KdfParams::default())?;
    let copies = store_recovery_file(&ctx.home, &ctx.settings, &ctx.station, sealed)?;
    ctx.registry()?.write(|tx| {
        audit::append(
            tx,
            &ctx.actor,
            &AuditEvent::new(EventType::KeyRotated)
                .resource(format!("key/{}", key.id()))
                .details(json!({
                    "old_key_id": old.to_hex(),
                    "key_id": key.id().to_hex(),
                    "recovery_copies": copies,
                })),
        )
    })?;
    Ok(Resealed {
        key_id: key.id().to_hex(),
        recovery_copies: copies,
    })
}
