//! The `audit` table: storage of the hash-chained audit log. The record model, the canonical
//! form and the chain verification are in `crate::audit`; writes go through
//! [`crate::audit::append`]. UPDATE and DELETE are rejected by triggers, and an INSERT must link
//! to the last record (next sequence number, previous hash).

use rusqlite::{params, OptionalExtension, Row};
use time::OffsetDateTime;

use super::{sql, timestamp, Db, Tx};
use crate::audit::{AuditFilter, AuditRecord};
use crate::Result;

const COLUMNS: &str = "seq, time, station, component, event, os_user, officer, outcome, resource, \
                       case_number, details, prev_hash, hash";

fn from_row(r: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.get::<_, i64>(0)?,
        time: r.get(1)?,
        station: r.get(2)?,
        component: r.get(3)?,
        event: r.get(4)?,
        os_user: r.get(5)?,
        officer: r.get(6)?,
        outcome: r.get(7)?,
        resource: r.get(8)?,
        case_number: r.get(9)?,
        details: r.get(10)?,
        prev_hash: r.get(11)?,
        hash: r.get(12)?,
    })
}

/// The last record's sequence number and hash, if any.
pub fn last(db: &Db<'_>) -> Result<Option<(i64, String)>> {
    use rusqlite::OptionalExtension;
    db.conn()
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)
}

/// The highest sequence number ever handed out (SQLite's AUTOINCREMENT high-water mark), which
/// survives the deletion of the last records.
pub fn high_water(db: &Db<'_>) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    db.conn()
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'audit'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)
}

/// Inserts a finished record (hash computed by `crate::audit`).
pub(crate) fn insert(tx: &Tx<'_>, rec: &AuditRecord) -> Result<()> {
    tx.conn()
        .execute(
            &format!(
                "INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ),
            params![
                rec.seq,
                rec.time,
                rec.station,
                rec.component,
                rec.event,
                rec.os_user,
                rec.officer,
                rec.outcome,
                rec.resource,
                rec.case_number,
                rec.details,
                rec.prev_hash,
                rec.hash
            ],
        )
        .map_err(sql)?;
    Ok(())
}

/// Calls `f` for every record in sequence order, streaming (constant memory).
pub fn for_each(db: &Db<'_>, mut f: impl FnMut(AuditRecord) -> Result<()>) -> Result<()> {
    let mut stmt = db
        .conn()
        .prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"))
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        f(from_row(row).map_err(sql)?)?;
    }
    Ok(())
}

fn time_text(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(timestamp::format)
}

/// Records matching the filter, oldest first (or newest first), one page.
pub fn list(db: &Db<'_>, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
    let mut out = Vec::new();
    filtered(db, f, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// The records after `tail` (a record of another copy of this log): those after the same
/// record (same sequence number and hash) when this log holds it, else those later in time.
/// Reads only what follows, so a restore never loads a whole log into memory.
pub fn after(db: &Db<'_>, tail: &AuditRecord) -> Result<Vec<AuditRecord>> {
    let same: Option<String> = db
        .conn()
        .query_row(
            "SELECT hash FROM audit WHERE seq = ?1",
            params![tail.seq],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let (clause, arg): (&str, rusqlite::types::Value) = if same.as_deref() == Some(&tail.hash) {
        ("seq > ?1", rusqlite::types::Value::Integer(tail.seq))
    } else {
        ("time > ?1", rusqlite::types::Value::Text(tail.time.clone()))
    };
    let mut stmt = db
        .conn()
        .prepare(&format!(
            "SELECT {COLUMNS} FROM audit WHERE {clause} ORDER BY seq"
        ))
        .map_err(sql)?;
    let rows = stmt.query_map(params![arg], from_row).map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// Streams the records matching the filter (its paging included) to `f`.
pub fn filtered(
    db: &Db<'_>,
    f: &AuditFilter,
    mut each: impl FnMut(AuditRecord) -> Result<()>,
) -> Result<()> {
    let order = if f.newest_first { "DESC" } else { "ASC" };
    let limit: i64 = if f.limit == 0 { -1 } else { i64::from(f.limit) };
    let mut stmt = db
        .conn()
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit
             WHERE (?1 IS NULL OR time >= ?1) AND (?2 IS NULL OR time < ?2)
               AND (?3 IS NULL OR event = ?3) AND (?4 IS NULL OR case_number = ?4)
               AND (?5 IS NULL OR outcome = ?5)
             ORDER BY seq {order} LIMIT ?6 OFFSET ?7"
        ))
        .map_err(sql)?;
    let mut rows = stmt
        .query(params![
            time_text(f.from),
            time_text(f.to),
            f.event,
            f.case,
            f.outcome.map(|o| o.as_str()),
            limit,
            f.offset
        ])
        .map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        each(from_row(row).map_err(sql)?)?;
    }
    Ok(())
}

pub fn count(db: &Db<'_>) -> Result<u64> {
    let n: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .map_err(sql)?;
    Ok(n.unsigned_abs())
}
