//! The append-only, hash-chained audit log.
//!
//! # Canonical form (what each record's hash covers)
//!
//! Each record has twelve fields, all text, taken exactly as stored and exported:
//! `seq` (decimal, 1, 2, 3, … without gaps), `time` (UTC, `2026-12-03T17:56:17.123456Z`),
//! `station`, `component`, `event`, `os_user`, `officer` (empty when not known), `outcome`,
//! `resource`, `case_number` (empty when none), `details` (the JSON text exactly as stored) and
//! `prev_hash` (the previous record's `hash`; 64 zeros for record 1).
//!
//! The canonical form is the UTF-8 bytes of the line `strongroom-audit-v1` followed by a line
//! feed, then for each field in the order above: the field name, `:`, the byte length of the
//! value in decimal, `:`, the value, and a line feed. The record's `hash` is the lower-case hex
//! SHA-256 of the canonical form. In Python:
//!
//! ```text
//! FIELDS = ["seq","time","station","component","event","os_user","officer","outcome",
//!           "resource","case_number","details","prev_hash"]
//! def record_hash(r):
//!     b = b"strongroom-audit-v1\n"
//!     for f in FIELDS:
//!         v = str(r[f]).encode("utf-8")
//!         b += f.encode() + b":" + str(len(v)).encode() + b":" + v + b"\n"
//!     return hashlib.sha256(b).hexdigest()
//! ```
//!
//! A chain verifies when, in `seq` order starting at 1, every `seq` is the previous plus one,
//! every `prev_hash` equals the previous record's `hash` (64 zeros for the first) and every
//! `hash` equals `record_hash` of the record. An export (`audit export`, CSV or JSON) carries all
//! twelve fields and the hash, so an auditor can re-verify it with the function above.
//!
//! What this proves: any edit, deletion, insertion or reordering of records made directly in
//! the database file breaks the chain at the first record touched (deleting the newest records
//! is caught by SQLite's AUTOINCREMENT high-water mark). An attacker who rewrites every later
//! record with fresh hashes can only be caught against a copy of the head kept elsewhere
//! ([`Anchor`], e.g. in each backup's manifest): [`verify_against`].
//!
//! Records are never pruned: the triggers reject DELETE, so backup retention cannot remove them.
//! Details must never hold a secret.

use std::fmt;
use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::registry::{audit_log, timestamp, Db, Tx};
use crate::station::Station;
use crate::{Error, Result};

/// The hash before the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The first line of the canonical form (and the export format's name).
pub const CANONICAL_VERSION: &str = "strongroom-audit-v1";

/// What happened. Names follow the operations guide (SCREAMING_SNAKE_CASE in the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    BackupCreated,
    BackupFailed,
    BackupCloudSuccess,
    BackupCloudFailed,
    BackupVerified,
    BackupMissing,
    BackupDeleted,
    SystemRecovery,
    RestoreDrill,
    DocumentUploaded,
    DocumentDownloaded,
    DocumentDeleted,
    LegalHoldSet,
    LegalHoldReleased,
    CredentialsChanged,
    SettingsChanged,
    KeyRecovery,
    CaseCreated,
    CaseUpdated,
    CaseDeleted,
    KeyCreated,
    KeyRotated,
    StationInitialised,
    AuditExported,
    HealthCheck,
}

impl EventType {
    pub const ALL: [EventType; 25] = [
        EventType::BackupCreated,
        EventType::BackupFailed,
        EventType::BackupCloudSuccess,
        EventType::BackupCloudFailed,
        EventType::BackupVerified,
        EventType::BackupMissing,
        EventType::BackupDeleted,
        EventType::SystemRecovery,
        EventType::RestoreDrill,
        EventType::DocumentUploaded,
        EventType::DocumentDownloaded,
        EventType::DocumentDeleted,
        EventType::LegalHoldSet,
        EventType::LegalHoldReleased,
        EventType::CredentialsChanged,
        EventType::SettingsChanged,
        EventType::KeyRecovery,
        EventType::CaseCreated,
        EventType::CaseUpdated,
        EventType::CaseDeleted,
        EventType::KeyCreated,
        EventType::KeyRotated,
        EventType::StationInitialised,
        EventType::AuditExported,
        EventType::HealthCheck,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::BackupCreated => "BACKUP_CREATED",
            EventType::BackupFailed => "BACKUP_FAILED",
            EventType::BackupCloudSuccess => "BACKUP_CLOUD_SUCCESS",
            EventType::BackupCloudFailed => "BACKUP_CLOUD_FAILED",
            EventType::BackupVerified => "BACKUP_VERIFIED",
            EventType::BackupMissing => "BACKUP_MISSING",
            EventType::BackupDeleted => "BACKUP_DELETED",
            EventType::SystemRecovery => "SYSTEM_RECOVERY",
            EventType::RestoreDrill => "RESTORE_DRILL",
            EventType::DocumentUploaded => "DOCUMENT_UPLOADED",
            EventType::DocumentDownloaded => "DOCUMENT_DOWNLOADED",
            EventType::DocumentDeleted => "DOCUMENT_DELETED",
            EventType::LegalHoldSet => "LEGAL_HOLD_SET",
            EventType::LegalHoldReleased => "LEGAL_HOLD_RELEASED",
            EventType::CredentialsChanged => "CREDENTIALS_CHANGED",
            EventType::SettingsChanged => "SETTINGS_CHANGED",
            EventType::KeyRecovery => "KEY_RECOVERY",
            EventType::CaseCreated => "CASE_CREATED",
            EventType::CaseUpdated => "CASE_UPDATED",
            EventType::CaseDeleted => "CASE_DELETED",
            EventType::KeyCreated => "KEY_CREATED",
            EventType::KeyRotated => "KEY_ROTATED",
            EventType::StationInitialised => "STATION_INITIALISED",
            EventType::AuditExported => "AUDIT_EXPORTED",
            EventType::HealthCheck => "HEALTH_CHECK",
        }
    }

    /// Parses an event name (any case); `event_invalid` otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        let up = s.trim().to_ascii_uppercase();
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == up)
            .ok_or_else(|| Error::Invalid {
                code: "event_invalid",
                field: "event",
                message: format!(
                    "`{s}` is not an audit event name (e.g. CASE_CREATED, BACKUP_CREATED)"
                ),
            })
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Warning,
    Critical,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Warning => "warning",
            Outcome::Critical => "critical",
        }
    }

    /// Parses an outcome name; `outcome_invalid` otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            "warning" => Ok(Outcome::Warning),
            "critical" => Ok(Outcome::Critical),
            _ => Err(Error::Invalid {
                code: "outcome_invalid",
                field: "outcome",
                message: "the outcome must be one of: success, failure, warning, critical".into(),
            }),
        }
    }
}

/// Who acts, from where and through what: every audit record names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The station id.
    pub station: String,
    /// What acted: `cli`, `app`, `scheduler`, …
    pub component: String,
    /// The operating-system user.
    pub os_user: String,
    /// The officer's name, when the officer has given it.
    pub officer: Option<String>,
}

impl Actor {
    /// The current OS user acting through `component` at `station`.
    pub fn new(station: &Station, component: &str) -> Self {
        Self {
            station: station.id.clone(),
            component: component.to_string(),
            os_user: os_user(),
            officer: None,
        }
    }

    pub fn with_officer(mut self, officer: Option<String>) -> Self {
        self.officer = officer.filter(|o| !o.trim().is_empty());
        self
    }

    /// `os_user` or `os_user (Officer Name)`, as stored in `created_by`/`added_by` columns.
    pub fn display_name(&self) -> String {
        match &self.officer {
            Some(o) => format!("{} ({o})", self.os_user),
            None => self.os_user.clone(),
        }
    }
}

/// The operating-system user running this process: `USER`/`USERNAME`/`LOGNAME`, else (on
/// Linux) the name of this process's uid in `/etc/passwd` or `uid:N`, else `unknown`.
pub fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(user_of_process)
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(unix)]
fn user_of_process() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    });
    Some(name.unwrap_or_else(|| format!("uid:{uid}")))
}

#[cfg(not(unix))]
fn user_of_process() -> Option<String> {
    None
}

/// An event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub event: EventType,
    pub outcome: Outcome,
    /// What it touched, e.g. `case/2026-000123`, `backup/<id>`, `document/12`.
    pub resource: String,
    /// The case concerned, for filtering by case.
    pub case_number: Option<String>,
    /// Structured details. Never a secret.
    pub details: serde_json::Value,
}

impl AuditEvent {
    /// A successful `event` with no resource and empty details.
    pub fn new(event: EventType) -> Self {
        Self {
            event,
            outcome: Outcome::Success,
            resource: String::new(),
            case_number: None,
            details: serde_json::json!({}),
        }
    }
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = resource.into();
        self
    }
    /// The case concerned; also sets the resource to `case/NUMBER` when none is set yet.
    pub fn case(mut self, number: &str) -> Self {
        self.case_number = Some(number.to_string());
        if self.resource.is_empty() {
            self.resource = format!("case/{number}");
        }
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// One stored record, exactly as hashed (see the canonical form at the top of this module).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditRecord {
    pub seq: i64,
    /// UTC, `2026-12-03T17:56:17.123456Z`.
    pub time: String,
    pub station: String,
    pub component: String,
    pub event: String,
    pub os_user: String,
    /// Empty when not known.
    pub officer: String,
    pub outcome: String,
    pub resource: String,
    /// Empty when none.
    pub case_number: String,
    /// JSON text, exactly as hashed.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// The canonical form of this record (everything but `hash`).
    pub fn canonical(&self) -> Vec<u8> {
        let seq = self.seq.to_string();
        let fields: [(&str, &str); 12] = [
            ("seq", &seq),
            ("time", &self.time),
            ("station", &self.station),
            ("component", &self.component),
            ("event", &self.event),
            ("os_user", &self.os_user),
            ("officer", &self.officer),
            ("outcome", &self.outcome),
            ("resource", &self.resource),
            ("case_number", &self.case_number),
            ("details", &self.details),
            ("prev_hash", &self.prev_hash),
        ];
        let mut out = Vec::with_capacity(256 + self.details.len());
        out.extend_from_slice(CANONICAL_VERSION.as_bytes());
        out.push(b'\n');
        for (name, value) in fields {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// The hash this record should carry.
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical()))
    }

    /// The details parsed as JSON (`null` if the stored text is not JSON).
    pub fn details_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null)
    }
}

/// Appends an event to the log inside the caller's transaction, chained to the last record.
pub fn append(tx: &Tx<'_>, actor: &Actor, event: &AuditEvent) -> Result<AuditRecord> {
    append_at(tx, actor, event, timestamp::now())
}

/// [`append`] with an explicit time (e.g. events carried forward by a restore).
pub fn append_at(
    tx: &Tx<'_>,
    actor: &Actor,
    event: &AuditEvent,
    at: OffsetDateTime,
) -> Result<AuditRecord> {
    let (seq, prev_hash) = match audit_log::last(tx)? {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut rec = AuditRecord {
        seq,
        time: timestamp::format(at),
        station: actor.station.clone(),
        component: actor.component.clone(),
        event: event.event.as_str().to_string(),
        os_user: actor.os_user.clone(),
        officer: actor.officer.clone().unwrap_or_default(),
        outcome: event.outcome.as_str().to_string(),
        resource: event.resource.clone(),
        case_number: event.case_number.clone().unwrap_or_default(),
        details: serde_json::to_string(&event.details)
            .map_err(|e| Error::Internal(e.to_string()))?,
        prev_hash,
        hash: String::new(),
    };
    rec.hash = rec.compute_hash();
    audit_log::insert(tx, &rec)?;
    tracing::debug!(seq, event = %event.event, "audit record appended");
    Ok(rec)
}

/// Which records `list` and `export` return. `limit` 0 means all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// From this time (inclusive); RFC 3339 in JSON.
    #[serde(with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    /// Until this time (exclusive); RFC 3339 in JSON.
    #[serde(with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
    /// An event name, e.g. `CASE_CREATED`.
    pub event: Option<String>,
    /// A case number.
    pub case: Option<String>,
    pub outcome: Option<Outcome>,
    pub limit: u32,
    pub offset: u32,
    pub newest_first: bool,
}

/// One page of records matching the filter.
pub fn list(db: &Db<'_>, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
    audit_log::list(db, filter)
}

/// The head of the chain: how many records and the last hash. Keep a copy elsewhere (a backup
/// manifest) to detect a wholesale rewrite later with [`verify_against`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Anchor {
    pub events: u64,
    pub hash: String,
}

/// The outcome of verifying the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VerifyReport {
    pub ok: bool,
    /// Records examined.
    pub events: u64,
    /// The sequence number of the first record that does not verify (or that is missing).
    pub first_bad: Option<u64>,
    /// What is wrong with it.
    pub detail: Option<String>,
    /// The head of the chain as found (valid only when `ok`).
    pub head: Option<Anchor>,
}

impl VerifyReport {
    /// `Ok(self)` when the chain verifies, else `audit_chain_broken` (CLI exit 4).
    pub fn into_result(self) -> Result<Self> {
        match self.first_bad {
            None => Ok(self),
            Some(first_bad) => Err(Error::AuditChainBroken {
                events: self.events,
                first_bad,
            }),
        }
    }
}

/// Checks records one at a time, in order; usable on the registry or on an export.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    events: u64,
    first_bad: Option<(u64, String)>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            events: 0,
            first_bad: None,
        }
    }
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next record (in `seq` order).
    pub fn push(&mut self, rec: &AuditRecord) {
        self.events += 1;
        if self.first_bad.is_some() {
            return;
        }
        let at = self.expected_seq.unsigned_abs();
        let problem = if rec.seq != self.expected_seq {
            Some(format!(
                "record {} is missing (found {} next)",
                self.expected_seq, rec.seq
            ))
        } else if rec.prev_hash != self.prev_hash {
            Some(format!(
                "record {} does not link to the record before it",
                rec.seq
            ))
        } else if rec.compute_hash() != rec.hash {
            Some(format!(
                "record {} was changed after it was written (hash mismatch)",
                rec.seq
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            self.first_bad = Some((at, p));
        }
        self.expected_seq += 1;
        self.prev_hash = rec.hash.clone();
    }

    /// Records that were handed out but are gone from the end (the AUTOINCREMENT high-water).
    fn check_tail(&mut self, high_water: Option<i64>) {
        if self.first_bad.is_none() {
            if let Some(hw) = high_water {
                let last = self.expected_seq - 1;
                if hw > last {
                    self.first_bad = Some((
                        (last + 1).unsigned_abs(),
                        format!("records {} to {hw} were removed from the end", last + 1),
                    ));
                }
            }
        }
    }

    pub fn finish(self) -> VerifyReport {
        let head = (self.events > 0 && self.first_bad.is_none()).then(|| Anchor {
            events: self.events,
            hash: self.prev_hash.clone(),
        });
        let (first_bad, detail) = match self.first_bad {
            Some((n, d)) => (Some(n), Some(d)),
            None => (None, None),
        };
        VerifyReport {
            ok: first_bad.is_none(),
            events: self.events,
            first_bad,
            detail,
            head,
        }
    }
}

/// Recomputes the whole chain of the registry's audit log (streaming). The report says whether
/// it holds and, if not, the first bad record; use [`VerifyReport::into_result`] for an error.
pub fn verify(db: &Db<'_>) -> Result<VerifyReport> {
    let mut v = ChainVerifier::new();
    audit_log::for_each(db, |rec| {
        v.push(&rec);
        Ok(())
    })?;
    v.check_tail(audit_log::high_water(db)?);
    let report = v.finish();
    if !report.ok {
        tracing::warn!(first_bad = ?report.first_bad, detail = ?report.detail, "audit chain broken");
    }
    Ok(report)
}

/// [`verify`], and also that the chain still contains `anchor` (a head recorded earlier, e.g. in
/// a backup): catches a rewrite of the whole chain after that point.
pub fn verify_against(db: &Db<'_>, anchor: &Anchor) -> Result<VerifyReport> {
    let mut v = ChainVerifier::new();
    let mut anchored = anchor.events == 0;
    audit_log::for_each(db, |rec| {
        if rec.seq.unsigned_abs() == anchor.events && rec.hash == anchor.hash {
            anchored = true;
        }
        v.push(&rec);
        Ok(())
    })?;
    v.check_tail(audit_log::high_water(db)?);
    let mut report = v.finish();
    if report.ok && !anchored {
        report.ok = false;
        report.first_bad = Some(anchor.events.max(1));
        report.detail = Some(format!(
            "record {} no longer has the hash recorded earlier: the log was rewritten",
            anchor.events
        ));
        report.head = None;
    }
    Ok(report)
}

/// The current head of the chain (`None` for an empty log).
pub fn head(db: &Db<'_>) -> Result<Option<Anchor>> {
    Ok(audit_log::last(db)?.map(|(seq, hash)| Anchor {
        events: seq.unsigned_abs(),
        hash,
    }))
}

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            _ => Err(Error::Invalid {
                code: "format_invalid",
                field: "format",
                message: "the export format must be csv or json".into(),
            }),
        }
    }
}

/// The CSV header of an export (the twelve hashed fields, then `hash`).
pub const CSV_HEADER: [&str; 13] = [
    "seq",
    "time",
    "station",
    "component",
    "event",
    "os_user",
    "officer",
    "outcome",
    "resource",
    "case_number",
    "details",
    "prev_hash",
    "hash",
];

/// Writes the records matching `filter` (all, with the default filter) to `out`, each with its
/// hash. JSON: `{"format":"strongroom-audit-v1","records":[…]}`; CSV: [`CSV_HEADER`] then one
/// row per record. Returns how many records were written. Streams: constant memory.
pub fn export(
    db: &Db<'_>,
    filter: &AuditFilter,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64> {
    let io = |e: std::io::Error| Error::io("written", "the audit export", e);
    let mut n = 0u64;
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER)
                .map_err(|e| Error::Internal(e.to_string()))?;
            audit_log::filtered(db, filter, |r| {
                n += 1;
                let seq = r.seq.to_string();
                w.write_record([
                    seq.as_str(),
                    &r.time,
                    &r.station,
                    &r.component,
                    &r.event,
                    &r.os_user,
                    &r.officer,
                    &r.outcome,
                    &r.resource,
                    &r.case_number,
                    &r.details,
                    &r.prev_hash,
                    &r.hash,
                ])
                .map_err(|e| Error::Internal(format!("could not write the CSV: {e}")))
            })?;
            w.flush().map_err(io)?;
        }
        ExportFormat::Json => {
            write!(
                out,
                "{{\"format\":\"{CANONICAL_VERSION}\",\"genesis_hash\":\"{GENESIS_HASH}\",\"records\":["
            )
            .map_err(io)?;
            audit_log::filtered(db, filter, |r| {
                if n > 0 {
                    out.write_all(b",\n").map_err(io)?;
                } else {
                    out.write_all(b"\n").map_err(io)?;
                }
                n += 1;
                serde_json::to_writer(&mut *out, &r).map_err(|e| Error::Internal(e.to_string()))
            })?;
            out.write_all(b"\n]}\n").map_err(io)?;
            out.flush().map_err(io)?;
        }
    }
    Ok(n)
}

/// Re-verifies an exported JSON document (as written by [`export`] without a filter) outside
/// the registry.
pub fn verify_json_export(json: &str) -> Result<VerifyReport> {
    #[derive(Deserialize)]
    struct Doc {
        records: Vec<AuditRecord>,
    }
    let doc: Doc = serde_json::from_str(json).map_err(|e| Error::Invalid {
        code: "export_invalid",
        field: "file",
        message: format!("the file is not an audit export ({e})"),
    })?;
    let mut v = ChainVerifier::new();
    for r in &doc.records {
        v.push(r);
    }
    Ok(v.finish())
}

#[cfg(test)]
mod tests;
