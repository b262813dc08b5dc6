//! The `cases` table. Every write here is validated (`validate.rs`) and records its audit event
//! (CASE_CREATED, CASE_UPDATED, CASE_DELETED) in the same transaction.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::{documents, holds, sql, timestamp, Db, Tx};
use crate::audit::{self, Actor, AuditEvent, EventType};
use crate::validate::{self, CaseStatus};
use crate::{Error, Result};

/// One case of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Case {
    pub id: i64,
    /// The agency's case number, e.g. `2026-000123`; unique.
    pub number: String,
    pub title: String,
    pub description: String,
    /// The officer in charge of the case.
    pub officer: Option<String>,
    pub badge: Option<String>,
    pub status: CaseStatus,
    /// Why the status last changed, when a reason was given (always for a reopening).
    pub status_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub updated_at: OffsetDateTime,
    /// Who created it (OS user, and officer name when known).
    pub created_by: String,
    /// Whether a legal hold is in force on the case.
    pub held: bool,
}

/// What `create` needs. Identifiers (number, officer, badge) are trimmed; free text is stored
/// as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewCase {
    pub number: String,
    pub title: String,
    pub description: String,
    pub officer: Option<String>,
    pub badge: Option<String>,
    /// Defaults to `open`.
    pub status: Option<CaseStatus>,
}

/// A change to a case's details; `None` leaves a field as it is. For `officer` and `badge`,
/// `Some(None)` clears the field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaseChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub officer: Option<Option<String>>,
    pub badge: Option<Option<String>>,
}

/// Which cases `list` returns. `limit` 0 means the default of 100.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    /// Full-text search terms (number, title, description); all must match (prefixes match).
    pub query: Option<String>,
    pub held: Option<bool>,
    pub limit: u32,
    pub offset: u32,
}

/// A case with its documents and legal holds (`case show`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: Case,
    pub documents: Vec<documents::Document>,
    pub holds: Vec<holds::LegalHold>,
}

const COLUMNS: &str = "c.id, c.number, c.title, c.description, c.officer, c.badge, c.status, \
     c.status_reason, c.created_at, c.updated_at, c.created_by, \
     EXISTS (SELECT 1 FROM legal_holds h WHERE h.case_id = c.id AND h.released_at IS NULL)";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Case> {
    let status: String = r.get(6)?;
    Ok(Case {
        id: r.get(0)?,
        number: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        officer: r.get(4)?,
        badge: r.get(5)?,
        status: CaseStatus::parse(&status).map_err(|e| conversion(6, e))?,
        status_reason: r.get(7)?,
        created_at: timestamp::parse(&r.get::<_, String>(8)?).map_err(|e| conversion(8, e))?,
        updated_at: timestamp::parse(&r.get::<_, String>(9)?).map_err(|e| conversion(9, e))?,
        created_by: r.get(10)?,
        held: r.get(11)?,
    })
}

pub(super) fn conversion(col: usize, e: Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Validates a new case against the registry's rules (all field rules, first failure wins).
pub fn validate_new(db: &Db<'_>, new: &NewCase) -> Result<()> {
    db.rules().case_number(new.number.trim())?;
    validate::title(&new.title)?;
    validate::description(&new.description)?;
    if let Some(o) = trimmed(&new.officer) {
        validate::officer_name(&o)?;
    }
    if let Some(b) = trimmed(&new.badge) {
        validate::badge_number(&b)?;
    }
    Ok(())
}

/// Creates a case (validated; `case_number_taken` when the number exists) and records
/// CASE_CREATED.
pub fn create(tx: &Tx<'_>, new: &NewCase, actor: &Actor) -> Result<Case> {
    validate_new(tx, new)?;
    let number = new.number.trim();
    if get(tx, number)?.is_some() {
        return Err(Error::Invalid {
            code: "case_number_taken",
            field: "number",
            message: format!("case {number} already exists; check the number"),
        });
    }
    let status = new.status.unwrap_or(CaseStatus::Open);
    let now = timestamp::format(timestamp::now());
    tx.conn()
        .execute(
            "INSERT INTO cases (number, title, description, officer, badge, status, created_at, updated_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
            params![
                number,
                new.title,
                new.description,
                trimmed(&new.officer),
                trimmed(&new.badge),
                status.as_str(),
                now,
                actor.display_name(),
            ],
        )
        .map_err(sql)?;
    let case = require(tx, number)?;
    audit::append(
        tx,
        actor,
        &AuditEvent::new(EventType::CaseCreated)
            .case(number)
            .details(json!({ "title": case.title, "status": case.status })),
    )?;
    Ok(case)
}

/// Changes a case's details (validated) and records CASE_UPDATED with the fields changed.
pub fn update(tx: &Tx<'_>, number: &str, changes: &CaseChanges, actor: &Actor) -> Result<Case> {
    let old = require(tx, number)?;
    let mut new = old.clone();
    let mut changed = Vec::new();
    if let Some(t) = &changes.title {
        validate::title(t)?;
        if *t != old.title {
            new.title = t.clone();
            changed.push("title");
        }
    }
    if let Some(d) = &changes.description {
        validate::description(d)?;
        if *d != old.description {
            new.description = d.clone();
            changed.push("description");
        }
    }
    if let Some(o) = &changes.officer {
        let o = trimmed(o);
        if let Some(o) = &o {
            validate::officer_name(o)?;
        }
        if o != old.officer {
            new.officer = o;
            changed.push("officer");
        }
    }
    if let Some(b) = &changes.badge {
        let b = trimmed(b);
        if let Some(b) = &b {
            validate::badge_number(b)?;
        }
        if b != old.badge {
            new.badge = b;
            changed.push("badge");
        }
    }
    if changed.is_empty() {
        return Ok(old);
    }
    tx.conn()
        .execute(
            "UPDATE cases SET title = ?2, description = ?3, officer = ?4, badge = ?5, updated_at = ?6
             WHERE id = ?1",
            params![
                old.id,
                new.title,
                new.description,
                new.officer,
                new.badge,
                timestamp::format(timestamp::now())
            ],
        )
        .map_err(sql)?;
    audit::append(
        tx,
        actor,
        &AuditEvent::new(EventType::CaseUpdated)
            .case(&old.number)
            .details(json!({ "changed": changed })),
    )?;
    require(tx, number)
}

/// Moves a case along the status state machine (`status_transition_invalid`; a reopening needs
/// a reason, `reason_required`) and records CASE_UPDATED with the old and new status.
pub fn set_status(
    tx: &Tx<'_>,
    number: &str,
    to: CaseStatus,
    reason: Option<&str>,
    actor: &Actor,
) -> Result<Case> {
    let old = require(tx, number)?;
    validate::status_transition(old.status, to, reason)?;
    if old.status == to {
        return Ok(old);
    }
    let reason = match reason {
        Some(r) => Some(validate::reason(Some(r))?),
        None => None,
    };
    tx.conn()
        .execute(
            "UPDATE cases SET status = ?2, status_reason = ?3, updated_at = ?4 WHERE id = ?1",
            params![
                old.id,
                to.as_str(),
                reason,
                timestamp::format(timestamp::now())
            ],
        )
        .map_err(sql)?;
    audit::append(
        tx,
        actor,
        &AuditEvent::new(EventType::CaseUpdated)
            .case(&old.number)
            .details(json!({ "status": { "from": old.status, "to": to }, "reason": reason })),
    )?;
    require(tx, number)
}

/// Deletes a case with a reason. Refused while it is under legal hold (`case_held`) or still
/// has documents (`case_has_documents`). Records CASE_DELETED.
pub fn delete(tx: &Tx<'_>, number: &str, reason: &str, actor: &Actor) -> Result<()> {
    let reason = validate::reason(Some(reason))?;
    let case = require(tx, number)?;
    tx.conn()
        .execute("DELETE FROM cases WHERE id = ?1", params![case.id])
        .map_err(sql)?;
    audit::append(
        tx,
        actor,
        &AuditEvent::new(EventType::CaseDeleted)
            .case(&case.number)
            .details(json!({ "title": case.title, "reason": reason })),
    )?;
    Ok(())
}

/// The case with this number, if any.
pub fn get(db: &Db<'_>, number: &str) -> Result<Option<Case>> {
    db.conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM cases c WHERE c.number = ?1"),
            params![number],
            from_row,
        )
        .optional()
        .map_err(sql)
}

/// The case with this row id, if any.
pub fn get_by_id(db: &Db<'_>, id: i64) -> Result<Option<Case>> {
    db.conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM cases c WHERE c.id = ?1"),
            params![id],
            from_row,
        )
        .optional()
        .map_err(sql)
}

/// The case with this number, or `not_found`.
pub fn require(db: &Db<'_>, number: &str) -> Result<Case> {
    get(db, number)?.ok_or_else(|| Error::NotFound {
        what: format!("case {number}"),
    })
}

/// The case with its documents and its legal holds (newest first).
pub fn detail(db: &Db<'_>, number: &str) -> Result<CaseDetail> {
    let case = require(db, number)?;
    Ok(CaseDetail {
        documents: documents::for_case(db, case.id)?,
        holds: holds::for_case(db, case.id)?,
        case,
    })
}

/// Turns free text into an FTS5 query: each word becomes a quoted prefix term, so no input can
/// be a syntax error. `None` when there is nothing to search for.
fn fts_query(q: &str) -> Option<String> {
    let terms: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{t}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Cases matching the filter, most recently updated first (best match first with a query).
pub fn list(db: &Db<'_>, f: &CaseFilter) -> Result<Vec<Case>> {
    let limit = if f.limit == 0 { 100 } else { f.limit };
    let query = f.query.as_deref().and_then(fts_query);
    if let (Some(q), None, None) = (&query, f.status, f.held) {
        return search_page(db, q, limit, f.offset);
    }
    let mut sql_text = format!("SELECT {COLUMNS} FROM cases c");
    if query.is_some() {
        sql_text.push_str(" JOIN cases_fts ON cases_fts.rowid = c.id AND cases_fts MATCH ?1");
    }
    sql_text.push_str(" WHERE (?2 IS NULL OR c.status = ?2)");
    sql_text.push_str(
        " AND (?3 IS NULL OR ?3 = EXISTS (SELECT 1 FROM legal_holds h WHERE h.case_id = c.id AND h.released_at IS NULL))",
    );
    sql_text.push_str(if query.is_some() {
        " ORDER BY cases_fts.rank, c.updated_at DESC"
    } else {
        " ORDER BY c.updated_at DESC, c.id DESC"
    });
    sql_text.push_str(" LIMIT ?4 OFFSET ?5");
    let mut stmt = db.conn().prepare_cached(&sql_text).map_err(sql)?;
    let rows = stmt
        .query_map(
            params![
                query,
                f.status.map(CaseStatus::as_str),
                f.held,
                limit,
                f.offset
            ],
            from_row,
        )
        .map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// A page of full-text matches: FTS5 picks the page first (best match first, newest first
/// among equals), then only those rows are read from `cases`.
fn search_page(db: &Db<'_>, fts: &str, limit: u32, offset: u32) -> Result<Vec<Case>> {
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM (SELECT rowid AS rid, rank FROM cases_fts WHERE cases_fts MATCH ?1
                                    ORDER BY rank, rowid DESC LIMIT ?2 OFFSET ?3) m
             JOIN cases c ON c.id = m.rid ORDER BY m.rank, c.id DESC"
        ))
        .map_err(sql)?;
    let rows = stmt
        .query_map(params![fts, limit, offset], from_row)
        .map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// Full-text search over number, title and description, best match first.
pub fn search(db: &Db<'_>, query: &str, limit: u32) -> Result<Vec<Case>> {
    if fts_query(query).is_none() {
        return Ok(Vec::new());
    }
    list(
        db,
        &CaseFilter {
            query: Some(query.to_string()),
            limit,
            ..CaseFilter::default()
        },
    )
}

pub fn count(db: &Db<'_>) -> Result<u64> {
    let n: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))
        .map_err(sql)?;
    Ok(n.unsigned_abs())
}
