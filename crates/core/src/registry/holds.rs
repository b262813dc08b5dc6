//! The `legal_holds` table. A case has at most one hold in force; while it is, neither the case
//! nor its documents can be deleted or changed (triggers enforce it). A hold is set and released
//! with a reason, both audited (LEGAL_HOLD_SET, LEGAL_HOLD_RELEASED); released holds stay on
//! record. Holds on store objects and backups are applied by the jobs.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::cases::{self, conversion};
use super::{sql, timestamp, Db, Tx};
use crate::audit::{self, Actor, AuditEvent, EventType};
use crate::{validate, Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LegalHold {
    pub id: i64,
    /// The case number held.
    pub case: String,
    /// Why it was set, when a reason was given.
    pub reason: Option<String>,
    pub set_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub set_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub released_at: Option<OffsetDateTime>,
    pub released_by: Option<String>,
    pub release_reason: Option<String>,
}

impl LegalHold {
    pub fn is_active(&self) -> bool {
        self.released_at.is_none()
    }
}

const COLUMNS: &str = "h.id, c.number, h.reason, h.set_by, h.set_at, h.released_at, \
                       h.released_by, h.release_reason";

fn from_row(r: &Row<'_>) -> rusqlite::Result<LegalHold> {
    let released: Option<String> = r.get(5)?;
    Ok(LegalHold {
        id: r.get(0)?,
        case: r.get(1)?,
        reason: r.get(2)?,
        set_by: r.get(3)?,
        set_at: timestamp::parse(&r.get::<_, String>(4)?).map_err(|e| conversion(4, e))?,
        released_at: released
            .map(|t| timestamp::parse(&t))
            .transpose()
            .map_err(|e| conversion(5, e))?,
        released_by: r.get(6)?,
        release_reason: r.get(7)?,
    })
}

/// Puts a case under legal hold, with an optional reason (`hold_exists` when it already is),
/// and records LEGAL_HOLD_SET.
pub fn set(tx: &Tx<'_>, case: &str, reason: Option<&str>, actor: &Actor) -> Result<LegalHold> {
    let reason = match reason {
        Some(r) if !r.trim().is_empty() => Some(validate::reason(Some(r))?),
        _ => None,
    };
    let c = cases::require(tx, case)?;
    if active(tx, case)?.is_some() {
        return Err(Error::Invalid {
            code: "hold_exists",
            field: "case",
            message: format!("case {case} is already under legal hold"),
        });
    }
    tx.conn()
        .execute(
            "INSERT INTO legal_holds (case_id, reason, set_by, set_at) VALUES (?1, ?2, ?3, ?4)",
            params![
                c.id,
                reason,
                actor.display_name(),
                timestamp::format(timestamp::now())
            ],
        )
        .map_err(sql)?;
    let hold = active(tx, case)?.ok_or_else(|| Error::Internal("hold not stored".into()))?;
    audit::append(
        tx,
        actor,
        &AuditEvent::new(EventType::LegalHoldSet)
            .case(case)
            .resource(format!("hold/{}", hold.id))
            .details(json!({ "reason": reason })),
    )?;
    Ok(hold)
}

/// Releases the hold in force on a case, with a reason (`reason_required`), and records
/// LEGAL_HOLD_RELEASED. `hold_not_found` when the case is not held.
pub fn release(tx: &Tx<'_>, case: &str, reason: Option<&str>, actor: &Actor) -> Result<LegalHold> {
    let reason = validate::reason(reason)?;
    cases::require(tx, case)?;
    let hold = active(tx, case)?.ok_or_else(|| Error::Invalid {
        code: "hold_not_found",
        field: "case",
        message: format!("case {case} is not under legal hold"),
    })?;
    tx.conn()
        .execute(
            "UPDATE legal_holds SET released_at = ?2, released_by = ?3, release_reason = ?4 WHERE id = ?1",
            params![
                hold.id,
                timestamp::format(timestamp::now()),
                actor.display_name(),
                reason
            ],
        )
        .map_err(sql)?;
    audit::append(
        tx,
        actor,
        &AuditEvent::new(EventType::LegalHoldReleased)
            .case(case)
            .resource(format!("hold/{}", hold.id))
            .details(json!({ "reason": reason })),
    )?;
    get(tx, hold.id)?.ok_or_else(|| Error::Internal("hold vanished".into()))
}

pub fn get(db: &Db<'_>, id: i64) -> Result<Option<LegalHold>> {
    db.conn()
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM legal_holds h JOIN cases c ON c.id = h.case_id WHERE h.id = ?1"
            ),
            params![id],
            from_row,
        )
        .optional()
        .map_err(sql)
}

/// The hold in force on a case, if any.
pub fn active(db: &Db<'_>, case: &str) -> Result<Option<LegalHold>> {
    db.conn()
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM legal_holds h JOIN cases c ON c.id = h.case_id
                 WHERE c.number = ?1 AND h.released_at IS NULL"
            ),
            params![case],
            from_row,
        )
        .optional()
        .map_err(sql)
}

/// Every hold of a case (by row id), newest first.
pub fn for_case(db: &Db<'_>, case_id: i64) -> Result<Vec<LegalHold>> {
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM legal_holds h JOIN cases c ON c.id = h.case_id
             WHERE h.case_id = ?1 ORDER BY h.id DESC"
        ))
        .map_err(sql)?;
    let rows = stmt.query_map(params![case_id], from_row).map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// Every hold in force, oldest first.
pub fn all_active(db: &Db<'_>) -> Result<Vec<LegalHold>> {
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM legal_holds h JOIN cases c ON c.id = h.case_id
             WHERE h.released_at IS NULL ORDER BY h.id"
        ))
        .map_err(sql)?;
    let rows = stmt.query_map([], from_row).map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}
