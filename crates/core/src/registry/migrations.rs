//! Versioned schema migrations, applied in order when the registry is opened. The version lives
//! in `PRAGMA user_version`. A migration is never edited once released: add a new one.
//!
//! The schema repeats the rules of `validate.rs` as CHECK constraints, foreign keys and
//! triggers, so a write that bypasses the core (another SQLite client, a script) still cannot
//! break them. Triggers raise the same rule codes the core uses (e.g. `case_held`).

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::sql;
use crate::{Error, Result};

/// Control characters (U+0001..U+001F, U+007F) as a GLOB class body.
macro_rules! ctl {
    () => {
        "char(1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,127)"
    };
}
/// The same without tab, line feed and carriage return (allowed in multi-line text).
macro_rules! ctl_text {
    () => {
        "char(1,2,3,4,5,6,7,8,11,12,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,127)"
    };
}

const V1: &str = concat!(
    r#"
CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE
                  CHECK (length(number) BETWEEN 1 AND 40 AND number NOT GLOB '*[^0-9A-Za-z./_-]*'),
    title         TEXT NOT NULL
                  CHECK (length(trim(title)) > 0 AND length(title) <= 200
                         AND title NOT GLOB ('*[' || "#,
    ctl!(),
    r#" || ']*')),
    description   TEXT NOT NULL DEFAULT ''
                  CHECK (length(description) <= 10000
                         AND description NOT GLOB ('*[' || "#,
    ctl_text!(),
    r#" || ']*')),
    officer       TEXT
                  CHECK (officer IS NULL OR (length(officer) BETWEEN 2 AND 100
                         AND officer NOT GLOB '*[0-9]*' AND officer NOT GLOB ' *'
                         AND officer NOT GLOB '* ' AND officer NOT GLOB ('*[' || "#,
    ctl!(),
    r#" || ']*'))),
    badge         TEXT
                  CHECK (badge IS NULL OR (length(badge) BETWEEN 1 AND 16
                         AND badge NOT GLOB '*[^0-9A-Za-z-]*' AND badge NOT GLOB '-*')),
    status        TEXT NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'under_investigation', 'closed', 'archived')),
    status_reason TEXT CHECK (status_reason IS NULL OR length(status_reason) <= 1000),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL
);
CREATE INDEX cases_status ON cases(status);
CREATE INDEX cases_updated ON cases(updated_at);

-- The status state machine: open → under_investigation → closed → archived; closed may be
-- reopened (open / under_investigation) with a reason; archived is final.
CREATE TRIGGER cases_status_machine BEFORE UPDATE OF status ON cases
WHEN NEW.status IS NOT OLD.status AND NOT (
       (OLD.status = 'open' AND NEW.status = 'under_investigation')
    OR (OLD.status = 'under_investigation' AND NEW.status = 'closed')
    OR (OLD.status = 'closed' AND NEW.status IN ('archived', 'open', 'under_investigation')))
BEGIN
    SELECT RAISE(ABORT, 'status_transition_invalid');
END;
CREATE TRIGGER cases_reopen_needs_reason BEFORE UPDATE OF status ON cases
WHEN OLD.status = 'closed' AND NEW.status IN ('open', 'under_investigation')
     AND (NEW.status_reason IS NULL OR length(trim(NEW.status_reason)) = 0)
BEGIN
    SELECT RAISE(ABORT, 'reason_required');
END;

CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id) ON DELETE RESTRICT,
    original_name TEXT NOT NULL CHECK (length(original_name) BETWEEN 1 AND 1024),
    stored_key    TEXT NOT NULL CHECK (length(stored_key) BETWEEN 1 AND 1024),
    size          INTEGER NOT NULL CHECK (size >= 0),
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    media_type    TEXT NOT NULL CHECK (length(media_type) BETWEEN 1 AND 255),
    added_by      TEXT NOT NULL,
    added_at      TEXT NOT NULL,
    version_id    TEXT,
    UNIQUE (case_id, sha256)
);
CREATE INDEX documents_key ON documents(stored_key);

CREATE TABLE legal_holds (
    id             INTEGER PRIMARY KEY,
    case_id        INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    reason         TEXT CHECK (reason IS NULL OR (length(trim(reason)) > 0 AND length(reason) <= 1000)),
    set_by         TEXT NOT NULL,
    set_at         TEXT NOT NULL,
    released_at    TEXT,
    released_by    TEXT,
    release_reason TEXT,
    CHECK ((released_at IS NULL AND released_by IS NULL AND release_reason IS NULL)
        OR (released_at IS NOT NULL AND released_by IS NOT NULL
            AND length(trim(release_reason)) > 0 AND length(release_reason) <= 1000))
);
CREATE UNIQUE INDEX legal_holds_one_active ON legal_holds(case_id) WHERE released_at IS NULL;
CREATE TRIGGER legal_holds_only_release BEFORE UPDATE ON legal_holds
WHEN OLD.released_at IS NOT NULL OR NEW.case_id IS NOT OLD.case_id
     OR NEW.reason IS NOT OLD.reason OR NEW.set_by IS NOT OLD.set_by OR NEW.set_at IS NOT OLD.set_at
BEGIN
    SELECT RAISE(ABORT, 'hold_immutable');
END;
CREATE TRIGGER legal_holds_active_stays BEFORE DELETE ON legal_holds
WHEN OLD.released_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'case_held');
END;

-- A held case and its documents can be neither deleted nor changed.
CREATE TRIGGER cases_delete_rules BEFORE DELETE ON cases
BEGIN
    SELECT RAISE(ABORT, 'case_held') WHERE EXISTS
        (SELECT 1 FROM legal_holds WHERE case_id = OLD.id AND released_at IS NULL);
    SELECT RAISE(ABORT, 'case_has_documents') WHERE EXISTS
        (SELECT 1 FROM documents WHERE case_id = OLD.id);
END;
CREATE TRIGGER documents_held_no_delete BEFORE DELETE ON documents
WHEN EXISTS (SELECT 1 FROM legal_holds WHERE case_id = OLD.case_id AND released_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'case_held');
END;
CREATE TRIGGER documents_held_no_change BEFORE UPDATE ON documents
WHEN EXISTS (SELECT 1 FROM legal_holds WHERE case_id IN (OLD.case_id, NEW.case_id) AND released_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'case_held');
END;

CREATE TABLE uploads (
    id                 TEXT PRIMARY KEY CHECK (length(id) > 0),
    store              TEXT NOT NULL CHECK (length(store) > 0),
    object_key         TEXT NOT NULL CHECK (length(object_key) BETWEEN 1 AND 1024),
    source_path        TEXT NOT NULL CHECK (length(source_path) > 0),
    case_id            INTEGER REFERENCES cases(id) ON DELETE CASCADE,
    total_size         INTEGER NOT NULL CHECK (total_size >= 0),
    part_size          INTEGER NOT NULL CHECK (part_size > 0),
    sha256             TEXT CHECK (sha256 IS NULL OR (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
    provider_upload_id TEXT,
    parts_done         TEXT NOT NULL DEFAULT '[]'
                       CHECK (json_valid(parts_done) AND json_type(parts_done) = 'array'),
    state              TEXT NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'uploading', 'completed', 'failed', 'cancelled')),
    last_error         TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX uploads_state ON uploads(state);

CREATE TABLE backups (
    id             TEXT PRIMARY KEY CHECK (length(id) > 0),
    station        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    size           INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
    sha256         TEXT CHECK (sha256 IS NULL OR (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
    local_path     TEXT,
    cloud_key      TEXT,
    verified_at    TEXT,
    cases          INTEGER NOT NULL DEFAULT 0 CHECK (cases >= 0),
    documents      INTEGER NOT NULL DEFAULT 0 CHECK (documents >= 0),
    audit_records  INTEGER NOT NULL DEFAULT 0 CHECK (audit_records >= 0),
    schema_version INTEGER NOT NULL,
    key_id         TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'complete', 'failed')),
    detail         TEXT,
    CHECK (state <> 'complete' OR sha256 IS NOT NULL),
    CHECK (verified_at IS NULL OR state = 'complete')
);
CREATE INDEX backups_created ON backups(created_at);

-- The audit log: append-only and hash-chained (see audit.rs for the canonical form).
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    time        TEXT NOT NULL,
    station     TEXT NOT NULL,
    component   TEXT NOT NULL,
    event       TEXT NOT NULL CHECK (length(event) > 0 AND event NOT GLOB '*[^A-Z_]*'),
    os_user     TEXT NOT NULL,
    officer     TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'warning', 'critical')),
    resource    TEXT NOT NULL DEFAULT '',
    case_number TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL CHECK (json_valid(details)),
    prev_hash   TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash        TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
);
CREATE INDEX audit_time ON audit(time);
CREATE INDEX audit_event ON audit(event);
CREATE INDEX audit_case ON audit(case_number) WHERE case_number <> '';
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit_append_only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit_append_only');
END;
CREATE TRIGGER audit_links_to_last BEFORE INSERT ON audit
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit)
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1),
                                   '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
    SELECT RAISE(ABORT, 'audit_chain_link');
END;

-- Full-text search over cases (FTS5, external content).
CREATE VIRTUAL TABLE cases_fts USING fts5(
    number, title, description, content = 'cases', content_rowid = 'id', tokenize = 'unicode61'
);
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_fts(rowid, number, title, description)
    VALUES (NEW.id, NEW.number, NEW.title, NEW.description);
END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_fts(cases_fts, rowid, number, title, description)
    VALUES ('delete', OLD.id, OLD.number, OLD.title, OLD.description);
END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF number, title, description ON cases BEGIN
    INSERT INTO cases_fts(cases_fts, rowid, number, title, description)
    VALUES ('delete', OLD.id, OLD.number, OLD.title, OLD.description);
    INSERT INTO cases_fts(rowid, number, title, description)
    VALUES (NEW.id, NEW.number, NEW.title, NEW.description);
END;
"#
);

/// The migrations in order; `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn user_version(conn: &Connection) -> Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sql)
}

/// Brings the schema up to [`SCHEMA_VERSION`]; refuses a newer one.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(Error::RegistryTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    // IMMEDIATE: a second process opening the same fresh file waits, then sees the new version.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql)?;
    let mut version = user_version(&tx)?;
    if version > SCHEMA_VERSION {
        return Err(Error::RegistryTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    while version < SCHEMA_VERSION {
        let idx = usize::try_from(version).map_err(|_| Error::RegistryCorrupt {
            path: path.display().to_string(),
            detail: format!("schema version {version} is not valid"),
        })?;
        tx.execute_batch(MIGRATIONS[idx]).map_err(sql)?;
        version += 1;
        tx.pragma_update(None, "user_version", version)
            .map_err(sql)?;
        tracing::info!(version, path = %path.display(), "registry schema migrated");
    }
    tx.commit().map_err(sql)
}
