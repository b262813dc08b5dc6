//! The `uploads` table: the queue of resumable uploads. A job records each finished part as it
//! goes, so after a crash or restart it resumes from the parts done (with the provider's
//! multipart/block upload id) instead of starting over.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::cases::conversion;
use super::{sql, timestamp, Db, Tx};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    Pending,
    Uploading,
    Completed,
    Failed,
    Cancelled,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Pending => "pending",
            UploadState::Uploading => "uploading",
            UploadState::Completed => "completed",
            UploadState::Failed => "failed",
            UploadState::Cancelled => "cancelled",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => UploadState::Pending,
            "uploading" => UploadState::Uploading,
            "completed" => UploadState::Completed,
            "failed" => UploadState::Failed,
            "cancelled" => UploadState::Cancelled,
            other => {
                return Err(Error::Registry {
                    detail: format!("unknown upload state `{other}`"),
                })
            }
        })
    }
    /// Still to be (re)started by the queue.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            UploadState::Pending | UploadState::Uploading | UploadState::Failed
        )
    }
}

/// One part (S3) or block (Azure) that the store has accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPart {
    /// 1-based part number.
    pub part: u32,
    /// The S3 ETag or the Azure block id.
    pub etag: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upload {
    pub id: String,
    /// The store (destination) name, e.g. `documents` or `backups`.
    pub store: String,
    pub object_key: String,
    pub source_path: String,
    /// The case the upload belongs to, for document uploads.
    pub case_id: Option<i64>,
    pub total_size: u64,
    pub part_size: u64,
    pub sha256: Option<String>,
    pub provider_upload_id: Option<String>,
    pub parts_done: Vec<UploadPart>,
    pub state: UploadState,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Upload {
    /// Bytes already accepted by the store.
    pub fn bytes_done(&self) -> u64 {
        self.parts_done.iter().map(|p| p.size).sum()
    }
}

/// What `enqueue` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    pub store: String,
    pub object_key: String,
    pub source_path: String,
    pub case_id: Option<i64>,
    pub total_size: u64,
    pub part_size: u64,
    pub sha256: Option<String>,
}

const COLUMNS: &str =
    "id, store, object_key, source_path, case_id, total_size, part_size, sha256, \
                       provider_upload_id, parts_done, state, last_error, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Upload> {
    let parts: String = r.get(9)?;
    let parts_done = serde_json::from_str(&parts).map_err(|e| {
        conversion(
            9,
            Error::Registry {
                detail: format!("upload parts are not valid: {e}"),
            },
        )
    })?;
    Ok(Upload {
        id: r.get(0)?,
        store: r.get(1)?,
        object_key: r.get(2)?,
        source_path: r.get(3)?,
        case_id: r.get(4)?,
        total_size: r.get::<_, i64>(5)?.unsigned_abs(),
        part_size: r.get::<_, i64>(6)?.unsigned_abs(),
        sha256: r.get(7)?,
        provider_upload_id: r.get(8)?,
        parts_done,
        state: UploadState::parse(&r.get::<_, String>(10)?).map_err(|e| conversion(10, e))?,
        last_error: r.get(11)?,
        created_at: timestamp::parse(&r.get::<_, String>(12)?).map_err(|e| conversion(12, e))?,
        updated_at: timestamp::parse(&r.get::<_, String>(13)?).map_err(|e| conversion(13, e))?,
    })
}

fn to_i64(v: u64, field: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Invalid {
        code: "size_invalid",
        field,
        message: format!("the {field} is too large"),
    })
}

/// Queues an upload (state `pending`) and returns it with its new id.
pub fn enqueue(tx: &Tx<'_>, new: &NewUpload) -> Result<Upload> {
    enqueue_at(tx, new, timestamp::now())
}

/// Like [`enqueue`], with the time the upload started (a journal record keeps its own).
pub fn enqueue_at(tx: &Tx<'_>, new: &NewUpload, started: OffsetDateTime) -> Result<Upload> {
    if new.part_size == 0 {
        return Err(Error::Invalid {
            code: "size_invalid",
            field: "part_size",
            message: "the part size must be above zero".into(),
        });
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = timestamp::format(started);
    tx.conn()
        .execute(
            &format!(
                "INSERT INTO uploads ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, '[]', 'pending', NULL, ?9, ?9)"
            ),
            params![
                id,
                new.store,
                new.object_key,
                new.source_path,
                new.case_id,
                to_i64(new.total_size, "total_size")?,
                to_i64(new.part_size, "part_size")?,
                new.sha256,
                now
            ],
        )
        .map_err(sql)?;
    require(tx, &id)
}

pub fn get(db: &Db<'_>, id: &str) -> Result<Option<Upload>> {
    db.conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM uploads WHERE id = ?1"),
            params![id],
            from_row,
        )
        .optional()
        .map_err(sql)
}

pub fn require(db: &Db<'_>, id: &str) -> Result<Upload> {
    get(db, id)?.ok_or_else(|| Error::NotFound {
        what: format!("upload {id}"),
    })
}

/// Uploads still to be finished (pending, uploading or failed), oldest first.
pub fn open(db: &Db<'_>) -> Result<Vec<Upload>> {
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM uploads WHERE state IN ('pending', 'uploading', 'failed')
             ORDER BY created_at, id"
        ))
        .map_err(sql)?;
    let rows = stmt.query_map([], from_row).map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// The unfinished upload of `object_key` to `store` (the newest, should there be several).
pub fn find_open(db: &Db<'_>, store: &str, object_key: &str) -> Result<Option<Upload>> {
    db.conn()
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM uploads
                 WHERE store = ?1 AND object_key = ?2
                   AND state IN ('pending', 'uploading', 'failed')
                 ORDER BY created_at DESC, id DESC LIMIT 1"
            ),
            params![store, object_key],
            from_row,
        )
        .optional()
        .map_err(sql)
}

/// Removes every upload of `object_key` to `store`; returns how many there were.
pub fn remove_for_key(tx: &Tx<'_>, store: &str, object_key: &str) -> Result<usize> {
    tx.conn()
        .execute(
            "DELETE FROM uploads WHERE store = ?1 AND object_key = ?2",
            params![store, object_key],
        )
        .map_err(sql)
}

/// Remembers the provider's upload id (S3 multipart UploadId); state becomes `uploading`.
pub fn set_provider_upload_id(tx: &Tx<'_>, id: &str, upload_id: Option<&str>) -> Result<()> {
    let n = tx
        .conn()
        .execute(
            "UPDATE uploads SET provider_upload_id = ?2, state = 'uploading', last_error = NULL, updated_at = ?3 WHERE id = ?1",
            params![id, upload_id, timestamp::format(timestamp::now())],
        )
        .map_err(sql)?;
    found(n, id)
}

/// Records one accepted part (replacing an earlier record of the same part number).
pub fn record_part(tx: &Tx<'_>, id: &str, part: &UploadPart) -> Result<Upload> {
    let mut up = require(tx, id)?;
    up.parts_done.retain(|p| p.part != part.part);
    up.parts_done.push(part.clone());
    up.parts_done.sort_by_key(|p| p.part);
    let json = serde_json::to_string(&up.parts_done).map_err(|e| Error::Internal(e.to_string()))?;
    tx.conn()
        .execute(
            "UPDATE uploads SET parts_done = ?2, state = 'uploading', updated_at = ?3 WHERE id = ?1",
            params![id, json, timestamp::format(timestamp::now())],
        )
        .map_err(sql)?;
    require(tx, id)
}

/// Forgets the parts done (e.g. the provider expired the multipart upload).
pub fn reset_parts(tx: &Tx<'_>, id: &str) -> Result<()> {
    let n = tx
        .conn()
        .execute(
            "UPDATE uploads SET parts_done = '[]', provider_upload_id = NULL, updated_at = ?2 WHERE id = ?1",
            params![id, timestamp::format(timestamp::now())],
        )
        .map_err(sql)?;
    found(n, id)
}

/// Sets the state; `error` is kept as `last_error` (a message without secrets).
pub fn set_state(tx: &Tx<'_>, id: &str, state: UploadState, error: Option<&str>) -> Result<()> {
    let n = tx
        .conn()
        .execute(
            "UPDATE uploads SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1",
            params![
                id,
                state.as_str(),
                error,
                timestamp::format(timestamp::now())
            ],
        )
        .map_err(sql)?;
    found(n, id)
}

/// Removes an upload from the queue.
pub fn remove(tx: &Tx<'_>, id: &str) -> Result<()> {
    let n = tx
        .conn()
        .execute("DELETE FROM uploads WHERE id = ?1", params![id])
        .map_err(sql)?;
    found(n, id)
}

fn found(n: usize, id: &str) -> Result<()> {
    if n == 0 {
        Err(Error::NotFound {
            what: format!("upload {id}"),
        })
    } else {
        Ok(())
    }
}
