//! The `backups` table: the catalogue of backups this station made. A backup is `pending` while
//! it is written, `complete` once sealed and stored, `failed` otherwise; only a complete backup
//! that has been verified counts as good ([`Backup::is_good`]). The backup jobs write the audit
//! events (BACKUP_CREATED, BACKUP_VERIFIED, …); this module only keeps the catalogue.
//!
//! A backup is held while any case it contains is under legal hold: a case is taken to be in a
//! backup when it was created before the backup was (and still exists, which a hold guarantees).

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::cases::conversion;
use super::{sql, timestamp, Db, Tx};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum BackupState {
    Pending,
    Complete,
    Failed,
}

impl BackupState {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupState::Pending => "pending",
            BackupState::Complete => "complete",
            BackupState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => BackupState::Pending,
            "complete" => BackupState::Complete,
            "failed" => BackupState::Failed,
            other => {
                return Err(Error::Registry {
                    detail: format!("unknown backup state `{other}`"),
                })
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Backup {
    pub id: String,
    pub station: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub created_at: OffsetDateTime,
    pub size: u64,
    pub sha256: Option<String>,
    pub local_path: Option<String>,
    pub cloud_key: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub verified_at: Option<OffsetDateTime>,
    pub cases: u64,
    pub documents: u64,
    pub audit_records: u64,
    pub schema_version: i64,
    pub key_id: String,
    pub state: BackupState,
    /// Why it failed, for a failed backup.
    pub detail: Option<String>,
    /// Whether a case it contains is under legal hold (retention must keep it).
    pub held: bool,
}

impl Backup {
    /// Complete and verified: the only backups a restore or a health check may rely on.
    pub fn is_good(&self) -> bool {
        self.state == BackupState::Complete && self.verified_at.is_some()
    }
}

/// What `begin` records before the backup is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBackup {
    pub id: String,
    pub station: String,
    pub created_at: OffsetDateTime,
    pub cases: u64,
    pub documents: u64,
    pub audit_records: u64,
    pub schema_version: i64,
    pub key_id: String,
}

const HELD: &str = "EXISTS (SELECT 1 FROM legal_holds h JOIN cases c ON c.id = h.case_id
                    WHERE h.released_at IS NULL AND c.created_at <= b.created_at)";

fn columns() -> String {
    format!(
        "b.id, b.station, b.created_at, b.size, b.sha256, b.local_path, b.cloud_key, b.verified_at, \
         b.cases, b.documents, b.audit_records, b.schema_version, b.key_id, b.state, b.detail, {HELD}"
    )
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Backup> {
    let verified: Option<String> = r.get(7)?;
    Ok(Backup {
        id: r.get(0)?,
        station: r.get(1)?,
        created_at: timestamp::parse(&r.get::<_, String>(2)?).map_err(|e| conversion(2, e))?,
        size: r.get::<_, i64>(3)?.unsigned_abs(),
        sha256: r.get(4)?,
        local_path: r.get(5)?,
        cloud_key: r.get(6)?,
        verified_at: verified
            .map(|t| timestamp::parse(&t))
            .transpose()
            .map_err(|e| conversion(7, e))?,
        cases: r.get::<_, i64>(8)?.unsigned_abs(),
        documents: r.get::<_, i64>(9)?.unsigned_abs(),
        audit_records: r.get::<_, i64>(10)?.unsigned_abs(),
        schema_version: r.get(11)?,
        key_id: r.get(12)?,
        state: BackupState::parse(&r.get::<_, String>(13)?).map_err(|e| conversion(13, e))?,
        detail: r.get(14)?,
        held: r.get(15)?,
    })
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Records a backup about to be written (state `pending`).
pub fn begin(tx: &Tx<'_>, new: &NewBackup) -> Result<Backup> {
    tx.conn()
        .execute(
            "INSERT INTO backups (id, station, created_at, cases, documents, audit_records, schema_version, key_id, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending')",
            params![
                new.id,
                new.station,
                timestamp::format(new.created_at),
                int(new.cases),
                int(new.documents),
                int(new.audit_records),
                new.schema_version,
                new.key_id
            ],
        )
        .map_err(|e| match sql(e) {
            Error::Invalid { code: "constraint_violated", .. } => Error::AlreadyExists {
                what: format!("backup {}", new.id),
            },
            other => other,
        })?;
    require(tx, &new.id)
}

/// Marks a backup complete: sealed, `size` bytes with this SHA-256, stored at `local_path`.
pub fn complete(
    tx: &Tx<'_>,
    id: &str,
    size: u64,
    sha256: &str,
    local_path: Option<&str>,
) -> Result<Backup> {
    let n = tx
        .conn()
        .execute(
            "UPDATE backups SET state = 'complete', size = ?2, sha256 = ?3, local_path = ?4, detail = NULL WHERE id = ?1",
            params![id, int(size), sha256, local_path],
        )
        .map_err(sql)?;
    found(n, id)?;
    require(tx, id)
}

/// Marks a backup failed, with a reason (a message without secrets).
pub fn fail(tx: &Tx<'_>, id: &str, detail: &str) -> Result<()> {
    let n = tx
        .conn()
        .execute(
            "UPDATE backups SET state = 'failed', verified_at = NULL, detail = ?2 WHERE id = ?1",
            params![id, detail],
        )
        .map_err(sql)?;
    found(n, id)
}

/// Records a successful verification of a complete backup.
pub fn mark_verified(tx: &Tx<'_>, id: &str, at: OffsetDateTime) -> Result<()> {
    let n = tx
        .conn()
        .execute(
            "UPDATE backups SET verified_at = ?2 WHERE id = ?1",
            params![id, timestamp::format(at)],
        )
        .map_err(sql)?;
    found(n, id)
}

/// Records (or, with `None`, forgets) the cloud copy's object key.
pub fn set_cloud_key(tx: &Tx<'_>, id: &str, key: Option<&str>) -> Result<()> {
    let n = tx
        .conn()
        .execute(
            "UPDATE backups SET cloud_key = ?2 WHERE id = ?1",
            params![id, key],
        )
        .map_err(sql)?;
    found(n, id)
}

/// Records (or, with `None`, forgets) the local copy's path.
pub fn set_local_path(tx: &Tx<'_>, id: &str, path: Option<&str>) -> Result<()> {
    let n = tx
        .conn()
        .execute(
            "UPDATE backups SET local_path = ?2 WHERE id = ?1",
            params![id, path],
        )
        .map_err(sql)?;
    found(n, id)
}

/// Removes a backup from the catalogue (retention deleted every copy). Refused for a held
/// backup (`backup_held`).
pub fn remove(tx: &Tx<'_>, id: &str) -> Result<()> {
    let b = require(tx, id)?;
    if b.held {
        return Err(Error::Invalid {
            code: "backup_held",
            field: "backup",
            message: format!("backup {id} contains a case under legal hold and must be kept"),
        });
    }
    tx.conn()
        .execute("DELETE FROM backups WHERE id = ?1", params![id])
        .map_err(sql)?;
    Ok(())
}

pub fn get(db: &Db<'_>, id: &str) -> Result<Option<Backup>> {
    db.conn()
        .query_row(
            &format!("SELECT {} FROM backups b WHERE b.id = ?1", columns()),
            params![id],
            from_row,
        )
        .optional()
        .map_err(sql)
}

pub fn require(db: &Db<'_>, id: &str) -> Result<Backup> {
    get(db, id)?.ok_or_else(|| Error::NotFound {
        what: format!("backup {id}"),
    })
}

/// Every catalogued backup, newest first.
pub fn list(db: &Db<'_>) -> Result<Vec<Backup>> {
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {} FROM backups b ORDER BY b.created_at DESC, b.id",
            columns()
        ))
        .map_err(sql)?;
    let rows = stmt.query_map([], from_row).map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// The good backups (complete and verified), newest first.
pub fn good(db: &Db<'_>) -> Result<Vec<Backup>> {
    Ok(list(db)?.into_iter().filter(Backup::is_good).collect())
}

/// The numbers of the held cases a backup contains.
pub fn holding_cases(db: &Db<'_>, id: &str) -> Result<Vec<String>> {
    let mut stmt = db
        .conn()
        .prepare_cached(
            "SELECT c.number FROM backups b JOIN cases c ON c.created_at <= b.created_at
             JOIN legal_holds h ON h.case_id = c.id AND h.released_at IS NULL
             WHERE b.id = ?1 ORDER BY c.number",
        )
        .map_err(sql)?;
    let rows = stmt
        .query_map(params![id], |r| r.get::<_, String>(0))
        .map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

fn found(n: usize, id: &str) -> Result<()> {
    if n == 0 {
        Err(Error::NotFound {
            what: format!("backup {id}"),
        })
    } else {
        Ok(())
    }
}
