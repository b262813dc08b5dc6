//! `storage prepare` and `storage test` over both destinations (documents and backups), shared
//! by the CLI and the app's Settings screen. `plan` says what `prepare` would set, before it
//! sets anything.

use serde::Serialize;

use super::{block_on, Context};
use crate::storage::{PrepareOptions, PrepareReport, TestReport};
use crate::Result;

/// What `prepare` would set on each destination.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Plan {
    pub documents_store: String,
    pub documents: PrepareOptions,
    pub backups_store: String,
    pub backups: PrepareOptions,
}

/// What `prepare` did on each destination.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Prepared {
    pub documents: PrepareReport,
    pub backups: PrepareReport,
    /// Where the station's recovery file was copied (an initialised station's backups
    /// destination must hold it, so a new workstation can recover from there).
    pub recovery_copied_to: Option<String>,
    /// Why that copy failed, when it did.
    pub recovery_copy_error: Option<String>,
}

/// What `test` found on each destination; `ok` only when both work.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Tested {
    pub ok: bool,
    pub documents: TestReport,
    pub backups: TestReport,
}

impl Tested {
    /// The first destination that failed, if any.
    pub fn failed(&self) -> Option<&TestReport> {
        [&self.documents, &self.backups].into_iter().find(|t| !t.ok)
    }
}

pub fn plan(ctx: &Context) -> Result<Plan> {
    let d = ctx.destinations()?;
    Ok(Plan {
        documents_store: d.documents.describe(),
        documents: PrepareOptions::for_documents(&ctx.settings),
        backups_store: d.backups.describe(),
        backups: PrepareOptions::for_backups(&ctx.settings),
    })
}

/// Creates and configures both destinations (bucket or container, versioning, lifecycle, …).
pub fn prepare(ctx: &Context) -> Result<Prepared> {
    let d = ctx.destinations()?;
    let docs_opts = PrepareOptions::for_documents(&ctx.settings);
    let backup_opts = PrepareOptions::for_backups(&ctx.settings);
    let (documents, backups) = block_on(async {
        Ok::<_, crate::Error>((
            d.documents.prepare(&docs_opts).await?,
            d.backups.prepare(&backup_opts).await?,
        ))
    })??;
    let (recovery_copied_to, recovery_copy_error) =
        if ctx.station.id == crate::station::UNREGISTERED_ID || d.cloud.is_none() {
            (None, None)
        } else {
            match super::settings::copy_recovery_file(ctx, &ctx.settings) {
                Ok(to) => (Some(to), None),
                Err(e) => (None, Some(format!("{e} ({})", e.code()))),
            }
        };
    Ok(Prepared {
        documents,
        backups,
        recovery_copied_to,
        recovery_copy_error,
    })
}

/// Probes both destinations: what works, and exactly what is wrong.
pub fn test(ctx: &Context) -> Result<Tested> {
    let d = ctx.destinations()?;
    let (documents, backups) =
        block_on(async { (d.documents.test().await, d.backups.test().await) })?;
    let (documents, backups) = (documents?, backups?);
    Ok(Tested {
        ok: documents.ok && backups.ok,
        documents,
        backups,
    })
}
