//! The `documents` table: what was uploaded for each case, where it is stored and its SHA-256.
//! The upload itself is a job (`jobs/`); this records the result. A document of a case under
//! legal hold can be neither changed nor deleted (`case_held`, enforced by a trigger too).

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::cases::{self, conversion};
use super::{sql, timestamp, Db, Tx};
use crate::audit::{self, Actor, AuditEvent, EventType};
use crate::{Error, Result};

/// One stored document of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Document {
    pub id: i64,
    /// The case number it belongs to.
    pub case: String,
    /// The file name the officer gave it, verbatim (never used to build a path or key).
    pub name: String,
    /// The object key in the documents store.
    pub key: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub media_type: String,
    pub added_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub added_at: OffsetDateTime,
    /// The store's version id, where the store keeps versions.
    pub version_id: Option<String>,
}

/// What `add` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub case: String,
    pub name: String,
    pub key: String,
    pub size: u64,
    pub sha256: String,
    pub media_type: String,
    pub version_id: Option<String>,
}

const COLUMNS: &str = "d.id, c.number, d.original_name, d.stored_key, d.size, d.sha256, \
                       d.media_type, d.added_by, d.added_at, d.version_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document {
        id: r.get(0)?,
        case: r.get(1)?,
        name: r.get(2)?,
        key: r.get(3)?,
        size: r.get::<_, i64>(4)?.unsigned_abs(),
        sha256: r.get(5)?,
        media_type: r.get(6)?,
        added_by: r.get(7)?,
        added_at: timestamp::parse(&r.get::<_, String>(8)?).map_err(|e| conversion(8, e))?,
        version_id: r.get(9)?,
    })
}

fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> Error {
    Error::Invalid {
        code,
        field,
        message: message.into(),
    }
}

/// Checks the fields of a new document record.
pub fn validate(doc: &NewDocument) -> Result<()> {
    let name_len = doc.name.chars().count();
    if name_len == 0 || name_len > 1024 {
        return Err(invalid(
            "document_name_invalid",
            "name",
            "a document name must be 1 to 1024 characters",
        ));
    }
    if doc.key.is_empty() || doc.key.len() > 1024 {
        return Err(invalid(
            "document_key_invalid",
            "key",
            "a document's store key must be 1 to 1024 bytes",
        ));
    }
    if doc.sha256.len() != 64
        || !doc
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(invalid(
            "sha256_invalid",
            "sha256",
            "a SHA-256 must be 64 lower-case hex digits",
        ));
    }
    if doc.media_type.is_empty() || doc.media_type.len() > 255 || !doc.media_type.contains('/') {
        return Err(invalid(
            "media_type_invalid",
            "media_type",
            "a media type looks like application/pdf",
        ));
    }
    i64::try_from(doc.size)
        .map_err(|_| invalid("size_invalid", "size", "the size is too large"))?;
    Ok(())
}

/// The document of `case` with this content, if the case already has it (duplicate uploads
/// are recognised by their SHA-256).
pub fn find_by_hash(db: &Db<'_>, case: &str, sha256: &str) -> Result<Option<Document>> {
    db.conn()
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM documents d JOIN cases c ON c.id = d.case_id
                 WHERE c.number = ?1 AND d.sha256 = ?2"
            ),
            params![case, sha256],
            from_row,
        )
        .optional()
        .map_err(sql)
}

/// Records an uploaded document and DOCUMENT_UPLOADED. When the case already has this content,
/// returns the existing record and records nothing (`Ok((doc, false))`).
pub fn add(tx: &Tx<'_>, doc: &NewDocument, actor: &Actor) -> Result<(Document, bool)> {
    validate(doc)?;
    let case = cases::require(tx, &doc.case)?;
    if let Some(existing) = find_by_hash(tx, &case.number, &doc.sha256)? {
        return Ok((existing, false));
    }
    tx.conn()
        .execute(
            "INSERT INTO documents (case_id, original_name, stored_key, size, sha256, media_type, added_by, added_at, version_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                case.id,
                doc.name,
                doc.key,
                i64::try_from(doc.size).unwrap_or(i64::MAX),
                doc.sha256,
                doc.media_type,
                actor.display_name(),
                timestamp::format(timestamp::now()),
                doc.version_id,
            ],
        )
        .map_err(sql)?;
    let id = tx.conn().last_insert_rowid();
    let stored = require(tx, id)?;
    audit::append(
        tx,
        actor,
        &AuditEvent::new(EventType::DocumentUploaded)
            .case(&case.number)
            .resource(format!("document/{id}"))
            .details(json!({ "name": stored.name, "size": stored.size, "sha256": stored.sha256, "key": stored.key })),
    )?;
    Ok((stored, true))
}

/// Deletes a document record (after the job removed the object) and records DOCUMENT_DELETED.
/// Refused while its case is under legal hold (`case_held`).
pub fn delete(tx: &Tx<'_>, id: i64, reason: &str, actor: &Actor) -> Result<Document> {
    let reason = crate::validate::reason(Some(reason))?;
    let doc = require(tx, id)?;
    tx.conn()
        .execute("DELETE FROM documents WHERE id = ?1", params![id])
        .map_err(sql)?;
    audit::append(
        tx,
        actor,
        &AuditEvent::new(EventType::DocumentDeleted)
            .case(&doc.case)
            .resource(format!("document/{id}"))
            .details(
                json!({ "name": doc.name, "sha256": doc.sha256, "key": doc.key, "reason": reason }),
            ),
    )?;
    Ok(doc)
}

pub fn get(db: &Db<'_>, id: i64) -> Result<Option<Document>> {
    db.conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM documents d JOIN cases c ON c.id = d.case_id WHERE d.id = ?1"),
            params![id],
            from_row,
        )
        .optional()
        .map_err(sql)
}

/// The document with this id, or `not_found`.
pub fn require(db: &Db<'_>, id: i64) -> Result<Document> {
    get(db, id)?.ok_or_else(|| Error::NotFound {
        what: format!("document {id}"),
    })
}

/// The documents of a case (by row id), oldest first.
pub fn for_case(db: &Db<'_>, case_id: i64) -> Result<Vec<Document>> {
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM documents d JOIN cases c ON c.id = d.case_id
             WHERE d.case_id = ?1 ORDER BY d.id"
        ))
        .map_err(sql)?;
    let rows = stmt.query_map(params![case_id], from_row).map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// Every document, by id.
/// Up to `limit` documents with an id above `after`, by id: a long walk over every document
/// that writes between pages holds one page at a time.
pub fn page_after(db: &Db<'_>, after: i64, limit: u32) -> Result<Vec<Document>> {
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM documents d JOIN cases c ON c.id = d.case_id \
             WHERE d.id > ?1 ORDER BY d.id LIMIT ?2"
        ))
        .map_err(sql)?;
    let rows = stmt
        .query_map(rusqlite::params![after, limit], from_row)
        .map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// Bytes of every document together.
pub fn total_size(db: &Db<'_>) -> Result<u64> {
    let n: i64 = db
        .conn()
        .query_row(
            "SELECT COALESCE(SUM(d.size), 0) FROM documents d JOIN cases c ON c.id = d.case_id",
            [],
            |r| r.get(0),
        )
        .map_err(sql)?;
    Ok(n.unsigned_abs())
}

/// Calls `f` with every document, by id, one row at a time (a backup's manifest names every
/// document without holding them all).
pub fn for_each<E: From<crate::Error>>(
    db: &Db<'_>,
    mut f: impl FnMut(Document) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM documents d JOIN cases c ON c.id = d.case_id ORDER BY d.id"
        ))
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        f(from_row(row).map_err(sql)?)?;
    }
    Ok(())
}

pub fn count(db: &Db<'_>) -> Result<u64> {
    let n: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))
        .map_err(sql)?;
    Ok(n.unsigned_abs())
}
