//! Legal hold on a case: always in the registry (so neither the case nor its documents can be
//! deleted and retention skips them; audited there), and on each of the case's documents in
//! the documents store where the store supports object-level holds (S3 Object Lock). Where it
//! does not (local folder, Azure Blob here), the result says so: never a silent no-op.
//!
//! Holds on the backups that contain the case are the backup jobs' part (`backups::holding_cases`).

use serde::Serialize;

use super::{block_on, Context, JobLock};
use crate::registry::holds::{self, LegalHold};
use crate::registry::{cases, documents};
use crate::storage::ObjectStore;
use crate::{Error, Result};

/// An object whose hold could not be changed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HoldFailure {
    pub key: String,
    pub code: String,
    pub message: String,
}

/// What setting or releasing a hold did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HoldResult {
    /// The registry's hold record (in force after `set`, released after `release`).
    pub hold: LegalHold,
    /// The documents store, as it describes itself (e.g. `s3://bucket`).
    pub store: String,
    /// Keys of the case's documents whose object-level hold was set (or released).
    pub objects: Vec<String>,
    /// The provider, when the documents store has no object-level holds: only the registry
    /// hold applies there.
    pub unsupported_by: Option<String>,
    /// Objects the store refused or failed on (the registry hold still applies).
    pub failed: Vec<HoldFailure>,
}

impl HoldResult {
    /// Whether every object the store could hold was held (an unsupported store is not a failure).
    pub fn complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Puts case `case` under legal hold (LEGAL_HOLD_SET), then holds its documents in the store.
pub fn set(ctx: &Context, case: &str, reason: Option<&str>) -> Result<HoldResult> {
    let _lock = JobLock::acquire(&ctx.home)?;
    let mut registry = ctx.registry()?;
    let hold = registry.write(|tx| holds::set(tx, case, reason, &ctx.actor))?;
    apply(ctx, &registry, hold, true)
}

/// Releases the legal hold on case `case`; a reason is required (`reason_required`)
/// (LEGAL_HOLD_RELEASED), then releases its documents' holds in the store.
pub fn release(ctx: &Context, case: &str, reason: Option<&str>) -> Result<HoldResult> {
    let _lock = JobLock::acquire(&ctx.home)?;
    let mut registry = ctx.registry()?;
    let hold = registry.write(|tx| holds::release(tx, case, reason, &ctx.actor))?;
    apply(ctx, &registry, hold, false)
}

fn apply(
    ctx: &Context,
    registry: &crate::registry::Registry,
    hold: LegalHold,
    on: bool,
) -> Result<HoldResult> {
    let keys: Vec<String> = registry.read(|db| {
        let c = cases::require(db, &hold.case)?;
        Ok(documents::for_case(db, c.id)?
            .into_iter()
            .map(|d| d.key)
            .collect())
    })?;
    let store = ctx.destinations()?.documents;
    let mut result = HoldResult {
        hold,
        store: store.describe(),
        objects: Vec::new(),
        unsupported_by: None,
        failed: Vec::new(),
    };
    block_on(hold_objects(store.as_ref(), &keys, on, &mut result))?;
    if !result.failed.is_empty() {
        tracing::warn!(
            failed = result.failed.len(),
            "some object-level holds could not be changed"
        );
    }
    Ok(result)
}

async fn hold_objects(store: &dyn ObjectStore, keys: &[String], on: bool, result: &mut HoldResult) {
    for key in keys {
        match store.set_legal_hold(key, on).await {
            Ok(()) => result.objects.push(key.clone()),
            Err(Error::Unsupported { provider, .. }) => {
                result.unsupported_by = Some(provider.to_string());
                return;
            }
            Err(e) => result.failed.push(HoldFailure {
                key: key.clone(),
                code: e.code().to_string(),
                message: e.to_string(),
            }),
        }
    }
}
