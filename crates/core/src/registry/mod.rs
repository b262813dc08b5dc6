//! The station's case registry: one SQLite file (bundled SQLite, WAL, foreign keys on), opened
//! through [`Registry`]. All SQL of Strongroom lives under this folder, one module per table:
//! [`cases`], [`documents`], [`uploads`], [`backups`], [`holds`] and [`audit_log`].
//!
//! Reads take a [`Db`] (`registry.db()`); writes take a [`Tx`], which only exists inside
//! [`Registry::write`] (an IMMEDIATE transaction, committed when the closure returns `Ok`).
//! A `&Tx` can be passed wherever a `&Db` is expected.
//!
//! ```no_run
//! # use strongroom_core::registry::{Registry, cases};
//! # fn demo(home: &strongroom_core::paths::Home) -> strongroom_core::Result<()> {
//! let mut reg = Registry::open_in(home)?;
//! let n = cases::count(&reg.db())?;
//! # Ok(()) }
//! ```

pub mod audit_log;
pub mod backups;
pub mod cases;
pub mod documents;
pub mod holds;
mod migrations;
pub mod timestamp;
pub mod uploads;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use serde::Serialize;

use crate::paths::Home;
use crate::progress::Progress;
use crate::validate::Rules;
use crate::{Error, Result};

pub use migrations::SCHEMA_VERSION;

/// How long a write waits for another process's write to finish before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open case registry.
pub struct Registry {
    conn: Connection,
    path: PathBuf,
    rules: Rules,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("path", &self.path)
            .finish()
    }
}

/// Read access to the registry (a connection outside or inside a transaction).
#[derive(Clone, Copy)]
pub struct Db<'a> {
    conn: &'a Connection,
    rules: &'a Rules,
}

impl<'a> Db<'a> {
    pub(crate) fn conn(&self) -> &'a Connection {
        self.conn
    }
    /// The validation rules this registry was opened with.
    pub fn rules(&self) -> &'a Rules {
        self.rules
    }
}

/// Write access: only handed out inside [`Registry::write`]. Derefs to [`Db`] for reads.
pub struct Tx<'a> {
    db: Db<'a>,
}

impl<'a> Deref for Tx<'a> {
    type Target = Db<'a>;
    fn deref(&self) -> &Db<'a> {
        &self.db
    }
}

/// How many rows the main tables hold (a backup records these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub cases: u64,
    pub documents: u64,
    pub audit_records: u64,
}

/// How much of the file [`Registry::open_with`] checks before use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntegrityCheck {
    /// `PRAGMA quick_check`: every page is read (about 1 s per 100 MB on a 2-core machine).
    #[default]
    Quick,
    /// Only that the file is a SQLite database whose schema can be read (milliseconds); for
    /// callers that reopen often or must start fast, and run [`Registry::quick_check`] later.
    Header,
}

impl Registry {
    /// Opens (creating when missing) the registry at `path`: refuses a damaged file
    /// (`registry_corrupt`, the officer is told to restore from a backup) or one from a newer
    /// Strongroom (`registry_too_new`), then applies the pending schema migrations. Runs
    /// `PRAGMA quick_check`, which reads the whole file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, IntegrityCheck::Quick)
    }

    /// [`Registry::open`] with a choice of how much is checked first.
    pub fn open_with(path: impl AsRef<Path>, check: IntegrityCheck) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| open_error(&path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        match check {
            IntegrityCheck::Quick => check_structure(&path)?,
            IntegrityCheck::Header => {
                conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map_err(|e| open_error(&path, e))?;
            }
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| open_error(&path, e))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
            .map_err(|e| open_error(&path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "the registry could not switch to WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        let mut reg = Self {
            conn,
            path,
            rules: Rules::default(),
        };
        migrations::migrate(&mut reg.conn, &reg.path)?;
        tracing::debug!(path = %reg.path.display(), "registry open");
        Ok(reg)
    }

    /// Opens a snapshot (a registry copy no one writes) read-only and checks every page: the
    /// file is never modified, so another reader (the backup's encryption) may read it at the
    /// same time. `registry_too_new` for a snapshot of a newer schema.
    pub fn open_snapshot(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| open_error(&path, e))?;
        check_structure(&path)?;
        let found = migrations::user_version(&conn)?;
        if found > SCHEMA_VERSION {
            return Err(Error::RegistryTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Self {
            conn,
            path,
            rules: Rules::default(),
        })
    }

    /// The live registry of a station home (its folders made first), checked at the header
    /// only: commands open it often, and the whole file is checked where it matters (every
    /// backup's snapshot, every restored copy, `check`).
    pub fn open_live(home: &Home) -> Result<Self> {
        home.create_dirs()?;
        Self::open_with(home.registry(), IntegrityCheck::Header)
    }

    /// Opens the registry of a station home, creating the home's folders first.
    pub fn open_in(home: &Home) -> Result<Self> {
        home.create_dirs()?;
        Self::open(home.registry())
    }

    /// Uses the agency's rules (e.g. its case-number pattern) from now on.
    pub fn with_rules(mut self, rules: Rules) -> Self {
        self.rules = rules;
        self
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read access (each statement sees the latest committed state).
    pub fn db(&self) -> Db<'_> {
        Db {
            conn: &self.conn,
            rules: &self.rules,
        }
    }

    /// Runs `f` in one IMMEDIATE transaction: committed when `f` returns `Ok`, rolled back on
    /// `Err` (or a panic). Audit records written in `f` are part of the same transaction.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let out = f(&Tx {
            db: Db {
                conn: &tx,
                rules: &self.rules,
            },
        })?;
        tx.commit().map_err(sql)?;
        Ok(out)
    }

    /// Commits from now on survive a crash of the process but not a power loss
    /// (`synchronous=NORMAL` in WAL mode), until [`Registry::durable_commits`]: for a job
    /// that records many small events in a row.
    pub fn relaxed_commits(&self) -> Result<()> {
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)
    }

    /// Every commit synced again (`synchronous=FULL`), and those made since
    /// [`Registry::relaxed_commits`] synced now (a checkpoint syncs the log first).
    pub fn durable_commits(&self) -> Result<()> {
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(sql)
    }

    /// Runs `PRAGMA quick_check` on the open registry, the search index's records included
    /// (opening checks the structure only): `registry_corrupt` when it fails.
    pub fn quick_check(&self) -> Result<()> {
        check_integrity(&self.conn, &self.path)
    }

    /// Runs `f` in one read transaction: every statement in it sees the same snapshot, even
    /// while other connections write (e.g. a case and its documents read consistently).
    pub fn read<T>(&self, f: impl FnOnce(&Db<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.unchecked_transaction().map_err(sql)?;
        let out = f(&Db {
            conn: &tx,
            rules: &self.rules,
        });
        tx.rollback().map_err(sql)?;
        out
    }

    /// The schema version of this registry (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64> {
        migrations::user_version(&self.conn)
    }

    /// How many cases, documents and audit records the registry holds.
    pub fn counts(&self) -> Result<Counts> {
        let db = self.db();
        Ok(Counts {
            cases: cases::count(&db)?,
            documents: documents::count(&db)?,
            audit_records: audit_log::count(&db)?,
        })
    }

    /// Writes a consistent copy of the live registry to `dest` with SQLite's online backup API,
    /// while other connections keep reading and writing. `dest` must not exist yet. The file
    /// is not synced: sync it when it must survive a power loss.
    pub fn snapshot_to(&self, dest: impl AsRef<Path>) -> Result<()> {
        self.snapshot_with_progress(dest, &crate::progress::NoProgress)
    }

    /// [`Registry::snapshot_to`], reporting pages copied as stage `snapshot`.
    pub fn snapshot_with_progress(
        &self,
        dest: impl AsRef<Path>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let dest = dest.as_ref();
        if dest.exists() {
            return Err(Error::AlreadyExists {
                what: format!("the snapshot file {}", dest.display()),
            });
        }
        let result = self.copy_to(dest, progress);
        if result.is_err() {
            // Never leave a partial snapshot behind under the requested name.
            let _ = std::fs::remove_file(dest);
        }
        result
    }

    fn copy_to(&self, dest: &Path, progress: &dyn Progress) -> Result<()> {
        use rusqlite::backup::{Backup, StepResult};
        let mut out = Connection::open(dest).map_err(sql)?;
        // A snapshot is a scratch file read once and hashed as it is read: no journal and no
        // fsync of its 500 MB (the backup made from it is synced).
        out.pragma_update(None, "journal_mode", "off")
            .map_err(sql)?;
        out.pragma_update(None, "synchronous", "off").map_err(sql)?;
        {
            let backup = Backup::new(&self.conn, &mut out).map_err(sql)?;
            loop {
                match backup.step(1024).map_err(sql)? {
                    StepResult::Done => break,
                    StepResult::More => {}
                    StepResult::Busy | StepResult::Locked => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {}
                }
                let p = backup.progress();
                let total = u64::try_from(p.pagecount).unwrap_or(0);
                let left = u64::try_from(p.remaining).unwrap_or(0);
                progress.stage("snapshot", total.saturating_sub(left), Some(total));
            }
            let p = backup.progress();
            let total = u64::try_from(p.pagecount).unwrap_or(0);
            progress.stage("snapshot", total, Some(total));
        }
        // A snapshot is a single self-contained file: no -wal beside it.
        out.pragma_update(None, "journal_mode", "delete")
            .map_err(sql)?;
        out.close().map_err(|(_, e)| sql(e))?;
        Ok(())
    }

    /// Full-text search over case numbers, titles and descriptions (SQLite FTS5), best first.
    pub fn search_cases(&self, query: &str, limit: u32) -> Result<Vec<cases::Case>> {
        cases::search(&self.db(), query, limit)
    }
}

fn open_error(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            Error::RegistryCorrupt {
                path: path.display().to_string(),
                detail: "the file is not a readable SQLite database".into(),
            }
        }
        _ => sql(e),
    }
}

/// `PRAGMA quick_check` on a connection of its own, without the FTS5 module: every page and
/// b-tree is checked, the search index's own pages included, but not the encoding of every
/// record inside the search index. That walk decodes every position list of the index (about
/// 60% of the check's CPU on the benchmark registry: 1.5 s of a 4.3 s backup of 500 MB) and
/// can find only damage to derived data, which `INSERT INTO cases_fts(cases_fts)
/// VALUES('rebuild')` repairs from the cases; `check` still runs it ([`Registry::quick_check`]).
#[allow(unsafe_code)]
fn check_structure(path: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| open_error(path, e))?;
    // SAFETY: `handle()` is this open connection's own handle, used on this thread only while
    // `conn` lives; a null list drops every virtual-table module of this connection alone.
    let rc = unsafe { rusqlite::ffi::sqlite3_drop_modules(conn.handle(), std::ptr::null_mut()) };
    if rc != rusqlite::ffi::SQLITE_OK {
        return Err(Error::Internal(format!(
            "the integrity check could not be prepared (SQLite code {rc})"
        )));
    }
    check_integrity(&conn, path)
}

fn check_integrity(conn: &Connection, path: &Path) -> Result<()> {
    // The page and b-tree structure only: re-evaluating every CHECK constraint (the GLOBs over
    // each description) costs ten times as much (9.9 s instead of 0.9 s for 500 MB) and finds
    // nothing the structure check misses, as every write was checked when it was made.
    conn.pragma_update(None, "ignore_check_constraints", true)
        .map_err(|e| open_error(path, e))?;
    let rows = conn.prepare("PRAGMA quick_check(5)").and_then(|mut stmt| {
        stmt.query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
    });
    // Writes must be checked again whatever happened above.
    conn.pragma_update(None, "ignore_check_constraints", false)
        .map_err(|e| open_error(path, e))?;
    let rows = rows.map_err(|e| open_error(path, e))?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(Error::RegistryCorrupt {
            path: path.display().to_string(),
            detail: format!("integrity check: {}", rows.join("; ")),
        })
    }
}

/// Maps a SQLite error to the core's error. Constraint failures raised by the schema's
/// triggers carry a rule code as their message (`RAISE(ABORT, 'case_held')`) and come back as
/// the same [`Error::Invalid`] the validation layer would have returned.
pub(crate) fn sql(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let msg = msg.as_deref().unwrap_or("");
        match f.code {
            rusqlite::ErrorCode::ConstraintViolation => return constraint(msg),
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                return Error::Busy
            }
            rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => {
                return Error::RegistryCorrupt {
                    path: "registry.sqlite3".into(),
                    detail: msg.to_string(),
                }
            }
            _ => {}
        }
    }
    Error::Registry {
        detail: e.to_string(),
    }
}

/// The schema's own rule codes (trigger messages) and what field each concerns.
const TRIGGER_CODES: &[(&str, &str, &str)] = &[
    ("audit_append_only", "", ""),
    (
        "case_held",
        "case",
        "the case is under legal hold: it and its documents cannot be deleted until the hold is released",
    ),
    (
        "case_has_documents",
        "case",
        "the case still has documents; delete its documents first",
    ),
    (
        "status_transition_invalid",
        "status",
        "this status change is not allowed (open → under_investigation → closed → archived)",
    ),
    (
        "reason_required",
        "reason",
        "a reason is required for this change",
    ),
    (
        "hold_immutable",
        "hold",
        "a legal hold can only be released, never edited, and a released hold stays released",
    ),
    (
        "audit_chain_link",
        "",
        "an audit record must follow the last one",
    ),
];

fn constraint(msg: &str) -> Error {
    for (code, field, text) in TRIGGER_CODES {
        if msg == *code {
            if *code == "audit_append_only" || *code == "audit_chain_link" {
                return Error::AuditAppendOnly;
            }
            return Error::Invalid {
                code,
                field,
                message: (*text).to_string(),
            };
        }
    }
    if msg.contains("UNIQUE") && msg.contains("cases.number") {
        return Error::Invalid {
            code: "case_number_taken",
            field: "number",
            message: "a case with this number already exists; check the number".into(),
        };
    }
    if msg.contains("FOREIGN KEY") {
        return Error::Invalid {
            code: "reference_invalid",
            field: "",
            message: "the record refers to something that does not exist (or is still referred to)"
                .into(),
        };
    }
    Error::Invalid {
        code: "constraint_violated",
        field: "",
        message: format!("the registry refused the change ({msg})"),
    }
}

#[cfg(test)]
mod tests;
