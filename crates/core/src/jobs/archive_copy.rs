//! Archive copies, the long-term half of the retention policy: with `cloud.archive_monthly`,
//! the first good backup of each calendar month (UTC) that reaches the cloud is stored once more
//! under `archive/<station id>/<YYYY-MM>/`, straight into the archive tier (S3 GLACIER, Azure
//! Archive). Retention never deletes them; the lifecycle rule that `storage prepare` sets on
//! that prefix expires them after `cloud.archive_years` (default 7). Each copy is audited as
//! BACKUP_CLOUD_SUCCESS (or BACKUP_CLOUD_FAILED) with `"copy": "archive"`; a failed copy is
//! tried again by the next backup, since its month still holds none.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use time::OffsetDateTime;

use super::backup::BACKUP_SUFFIX;
use super::{block_on, Context, RegistryJournal};
use crate::audit::{self, AuditEvent, EventType, Outcome};
use crate::progress::{Cancel, Progress};
use crate::registry::backups::Backup;
use crate::registry::Registry;
use crate::storage::{ObjectStore, PutOptions, Tier, ARCHIVE_PREFIX};
use crate::Result;

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// `archive/<station>/<YYYY-MM>/` of the month `at` falls in.
pub fn month_prefix(station: &str, at: OffsetDateTime) -> String {
    format!(
        "{ARCHIVE_PREFIX}{}/{:04}-{:02}/",
        clean(station),
        at.year(),
        u8::from(at.month())
    )
}

/// The archive copy's key: the month's prefix, the backup's UTC time and id.
pub fn archive_key(station: &str, at: OffsetDateTime, id: &str) -> String {
    let t = at
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "00000000T000000Z".into());
    format!(
        "{}{t}-{}{BACKUP_SUFFIX}",
        month_prefix(station, at),
        clean(id)
    )
}

/// Makes the archive copy of `b` when the policy is on and its month has none yet. Returns
/// the key of the copy made.
pub fn ensure_monthly_copy(
    ctx: &Context,
    reg: &mut Registry,
    store: &Arc<dyn ObjectStore>,
    b: &Backup,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Option<String>> {
    if !ctx.settings.cloud.archive_monthly {
        return Ok(None);
    }
    let Some(path) = b
        .local_path
        .as_deref()
        .map(Path::new)
        .filter(|p| p.is_file())
    else {
        return Ok(None);
    };
    let prefix = month_prefix(&b.station, b.created_at);
    if !block_on(store.list_page(&prefix, None, 1))??
        .objects
        .is_empty()
    {
        return Ok(None);
    }
    let key = archive_key(&b.station, b.created_at, &b.id);
    let opts = PutOptions {
        metadata: super::backup::object_metadata(b),
        if_not_exists: true,
        tier: Some(Tier::Archive),
        journal: Some(Arc::new(RegistryJournal::open_in(&ctx.home)?)),
        part_size: None,
    };
    progress.stage("archive_copy", 0, Some(b.size));
    let put = block_on(store.put_file(&key, path, &opts, progress, cancel))?;
    let years = ctx.settings.cloud.archive_years;
    let event = match &put {
        Ok(_) => AuditEvent::new(EventType::BackupCloudSuccess).details(json!({
            "copy": "archive", "store": store.describe(), "key": key, "size": b.size,
            "tier": "archive", "kept_years": years,
        })),
        Err(e) => AuditEvent::new(EventType::BackupCloudFailed)
            .outcome(Outcome::Failure)
            .details(json!({
                "copy": "archive", "store": store.describe(), "key": key,
                "code": e.code(), "detail": e.to_string(),
            })),
    }
    .resource(format!("backup/{}", b.id));
    reg.write(|tx| audit::append(tx, &ctx.actor, &event))?;
    put.map(|_| Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_group_by_month_and_carry_nothing_typed_by_a_user() {
        let at = time::macros::datetime!(2026-12-03 03:00:00 UTC);
        assert_eq!(month_prefix("st-1", at), "archive/st-1/2026-12/");
        assert_eq!(
            archive_key("st-1/../x", at, "id-1"),
            "archive/st-1x/2026-12/20261203T030000Z-id-1.srb"
        );
    }
}
