//! Changing the station's settings from the app: validated, written atomically, audited as
//! SETTINGS_CHANGED (which sections changed, never a secret: the file holds none), and — when
//! the backups now go to another destination — the recovery file is copied there, so a new
//! workstation can recover from wherever the backups are.

use serde::Serialize;
use serde_json::json;

use super::{block_on, Context};
use crate::audit::{self, AuditEvent, EventType};
use crate::config::Settings;
use crate::crypto::recovery;
use crate::paths::Home;
use crate::storage::{open_destinations, PutOptions};
use crate::{Error, Result};

/// What `update` changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SettingsSaved {
    /// The sections that changed (`cloud`, `aws`, `azure`, `schedule`); empty: nothing did.
    pub changed: Vec<String>,
    /// Where the recovery file was copied because the backups destination changed.
    pub recovery_copied_to: Option<String>,
    /// Why that copy failed, when it did (the settings are saved all the same).
    pub recovery_copy_error: Option<String>,
}

/// The settings as the file has them, without the environment's overrides (what an editor
/// shows and saves back).
pub fn stored(home: &Home) -> Result<Settings> {
    Settings::load_with_env(home, &|_| None)
}

fn section_changes(old: &Settings, new: &Settings) -> Vec<String> {
    let mut changed = Vec::new();
    if old.cloud != new.cloud {
        changed.push("cloud".to_string());
    }
    if old.aws != new.aws {
        changed.push("aws".to_string());
    }
    if old.azure != new.azure {
        changed.push("azure".to_string());
    }
    if old.schedule != new.schedule {
        changed.push("schedule".to_string());
    }
    changed
}

/// Validates and saves `new` as the settings of the station of `ctx`.
pub fn update(ctx: &Context, new: &Settings) -> Result<SettingsSaved> {
    new.validate()?;
    let old = stored(&ctx.home)?;
    let changed = section_changes(&old, new);
    if changed.is_empty() {
        return Ok(SettingsSaved {
            changed,
            recovery_copied_to: None,
            recovery_copy_error: None,
        });
    }
    new.save(&ctx.home)?;
    let mut reg = ctx.registry()?;
    reg.write(|tx| {
        audit::append(
            tx,
            &ctx.actor,
            &AuditEvent::new(EventType::SettingsChanged)
                .resource("settings")
                .details(json!({
                    "changed": changed,
                    "provider": new.effective_provider(),
                    "retention_days": new.cloud.retention_days,
                })),
        )
    })?;
    tracing::info!(?changed, "settings saved");

    let (recovery_copied_to, recovery_copy_error) = if new.effective_provider()
        != crate::config::CloudProvider::None
        && (old.effective_provider() != new.effective_provider()
            || changed.iter().any(|c| c == "aws" || c == "azure"))
    {
        match copy_recovery_file(ctx, new) {
            Ok(to) => (Some(to), None),
            Err(e) => {
                tracing::warn!(code = e.code(), "the recovery file was not copied: {e}");
                (None, Some(format!("{e} ({})", e.code())))
            }
        }
    } else {
        (None, None)
    };
    Ok(SettingsSaved {
        changed,
        recovery_copied_to,
        recovery_copy_error,
    })
}

/// Copies the local recovery file into the backups destination of `settings`.
pub(crate) fn copy_recovery_file(ctx: &Context, settings: &Settings) -> Result<String> {
    let dest = open_destinations(settings, &ctx.keyring, &ctx.home)?;
    let name = recovery::file_name(&ctx.station.id);
    let data = block_on(dest.local_backups.get_bytes(&name))?.map_err(|e| match e {
        Error::NotFound { .. } => Error::NotFound {
            what: format!(
                "the recovery file {name} in the local backups folder (run `strongroom init` on this station)"
            ),
        },
        other => other,
    })?;
    block_on(
        dest.backups
            .put_bytes(&name, data.into(), &PutOptions::default()),
    )??;
    Ok(dest.backups.describe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_sections_that_differ_are_named() {
        let old = Settings::default();
        let mut new = old.clone();
        assert!(section_changes(&old, &new).is_empty());
        new.schedule.due_by_hour_utc = 9;
        new.cloud.retention_days = 45;
        assert_eq!(section_changes(&old, &new), vec!["cloud", "schedule"]);
    }
}
