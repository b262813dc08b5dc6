//! `backup restore`: verify every chunk BEFORE touching anything, check the restored database,
//! keep a safety copy of the live registry, carry the audit records made after the backup
//! forward, swap atomically, reopen, and audit SYSTEM_RECOVERY. `--to PATH` writes the restored
//! database elsewhere and touches nothing live.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde_json::json;

use super::backup::{fetch, locate};
use super::{Context, JobLock};
use crate::archive::{self, Reader};
use crate::audit::{self, Actor, AuditEvent, AuditFilter, AuditRecord, EventType, Outcome};
use crate::crypto::KeyStore;
use crate::progress::{Cancel, Progress};
use crate::registry::{audit_log, backups, timestamp, IntegrityCheck, Registry, SCHEMA_VERSION};
use crate::{Error, Result};

/// What `backup restore` did (the CLI's JSON).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Restored {
    pub id: String,
    pub restored_to: String,
    pub cases: u64,
    pub documents: u64,
    pub elapsed_ms: u64,
    /// Audit records made after the backup and carried into the restored registry.
    pub carried_forward: u64,
    /// The copy of the registry as it was before the restore.
    pub safety_copy: Option<String>,
}

/// A backup decrypted into a checked database file under `<home>/tmp` (deleted on drop).
pub struct Unpacked {
    pub path: PathBuf,
    pub report: archive::VerifyReport,
}

impl Drop for Unpacked {
    fn drop(&mut self) {
        for p in sqlite_files(&self.path) {
            let _ = fs::remove_file(p);
        }
    }
}

fn sqlite_files(db: &Path) -> [PathBuf; 3] {
    let name = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    [
        db.to_path_buf(),
        db.with_file_name(format!("{name}-wal")),
        db.with_file_name(format!("{name}-shm")),
    ]
}

/// Fetches backup `id`, authenticates and decrypts it into `dir` (a temp file there, deleted
/// on any error), then checks the database: `PRAGMA integrity_check` (by opening it), a schema
/// this version understands, a registry snapshot.
pub fn unpack(
    ctx: &Context,
    id: &str,
    dir: &Path,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Unpacked> {
    let (source, _) = locate(ctx, id)?;
    let (file, temp) = fetch(ctx, &source, progress)?;
    let out = unpack_file(&file, id, dir, progress, cancel);
    if temp {
        let _ = fs::remove_file(&file);
    }
    out
}

fn unpack_file(
    file: &Path,
    id: &str,
    dir: &Path,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Unpacked> {
    fs::create_dir_all(dir).map_err(|e| Error::io("created", dir, e))?;
    let header = archive::peek_header(BufReader::new(
        File::open(file).map_err(|e| Error::io("opened", file, e))?,
    ))?;
    // The file must be the backup that was asked for: another backup put in its place (even
    // one validly sealed by a key this workstation holds) is never restored under its name.
    // The id is authenticated: it is part of the header every chunk is sealed over.
    if uuid::Uuid::parse_str(id).ok() != Some(header.backup_id) {
        return Err(Error::BackupCorrupt {
            detail: format!(
                "the file holds backup {} of station {}, not backup {id}",
                header.backup_id, header.station_id
            ),
        });
    }
    let keys = KeyStore::for_station(&header.station_id);
    let path = dir.join(format!("restore-{}.sqlite3", uuid::Uuid::new_v4()));
    let mut unpacked = Unpacked {
        path: path.clone(),
        report: {
            progress.stage("decrypt", 0, None);
            let input = BufReader::new(File::open(file).map_err(|e| Error::io("opened", file, e))?);
            let out = File::create(&path).map_err(|e| Error::io("created", &path, e))?;
            let mut w = BufWriter::new(out);
            let r = Reader::open(input, &keys).and_then(|r| {
                r.with_cancel(cancel.clone())
                    .without_document_list()
                    .decrypt_to(&mut w)
            });
            let r = r.and_then(|rep| {
                w.flush().map_err(|e| Error::io("written", &path, e))?;
                w.get_ref()
                    .sync_all()
                    .map_err(|e| Error::io("synced", &path, e))?;
                Ok(rep)
            });
            match r {
                Ok(rep) => rep,
                Err(e) => {
                    drop(w);
                    let _ = fs::remove_file(&path);
                    return Err(e);
                }
            }
        },
    };
    progress.stage(
        "decrypt",
        unpacked.report.plaintext_len,
        Some(unpacked.report.plaintext_len),
    );
    if unpacked.report.manifest.kind != archive::Manifest::REGISTRY_SNAPSHOT {
        return Err(Error::NotABackup {
            what: format!("backup {}", unpacked.report.backup_id),
            expected: "registry backup",
            detail: format!("it holds `{}`", unpacked.report.manifest.kind),
        });
    }
    let found = i64::from(unpacked.report.manifest.schema_version);
    if found > SCHEMA_VERSION {
        return Err(Error::RegistryTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    progress.stage("check", 0, None);
    // Opening runs the integrity check and refuses a newer schema.
    let reg = Registry::open(&unpacked.path)?;
    let schema = reg.schema_version()?;
    drop(reg);
    unpacked.report.manifest.schema_version = u32::try_from(schema).unwrap_or(0);
    Ok(unpacked)
}

/// Restores backup `id`. With `to`, the restored database is written to that path (which must
/// not be a symlink; an existing file is replaced atomically) and nothing live is touched.
pub fn restore(
    ctx: &Context,
    id: &str,
    reason: Option<&str>,
    to: Option<&Path>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Restored> {
    let started = Instant::now();
    let _lock = JobLock::acquire(&ctx.home)?;
    ctx.home.create_dirs()?;
    {
        let mut reg = ctx.registry()?;
        super::backup::clean_interrupted(ctx, &mut reg)?;
    }
    if let Some(target) = to {
        return restore_to(ctx, id, target, started, progress, cancel);
    }
    let unpacked = unpack(ctx, id, &ctx.home.tmp_dir(), progress, cancel)?;
    cancel.check()?;

    // A safety copy of the registry as it is now.
    let live_path = ctx.home.registry();
    let safety_dir = ctx.home.root().join("safety");
    fs::create_dir_all(&safety_dir).map_err(|e| Error::io("created", &safety_dir, e))?;
    let stamp = time_stamp();
    let safety = safety_dir.join(format!("registry-{stamp}.sqlite3"));
    // What the live log recorded after the backup is carried forward. `unpack` checked the
    // whole restored file already; what is written here is SQLite's own transaction.
    let mut restored = Registry::open_with(&unpacked.path, IntegrityCheck::Header)?;
    let tail = restored.read(|db| {
        Ok(audit::list(
            db,
            &AuditFilter {
                newest_first: true,
                limit: 1,
                ..AuditFilter::default()
            },
        )?
        .into_iter()
        .next())
    })?;
    let (to_carry, live_backups) = {
        let live = ctx.registry()?;
        progress.stage("safety_copy", 0, None);
        // Written under <home>/tmp first (cleaned by the next job if this one is killed), then
        // renamed into place: a file under safety/ is always a complete copy.
        let partial = ctx.home.tmp_dir().join(format!("safety-{stamp}.sqlite3"));
        live.snapshot_with_progress(&partial, progress)?;
        File::options()
            .write(true)
            .open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io("synced", &partial, e))?;
        fs::rename(&partial, &safety).map_err(|e| Error::io("moved", &safety, e))?;
        fsync_dir(&safety_dir);
        let to_carry = match &tail {
            Some(t) => live.read(|db| audit_log::after(db, t))?,
            None => live.read(|db| audit::list(db, &AuditFilter::default()))?,
        };
        (to_carry, live.read(backups::list)?)
    };
    let carried = to_carry.len() as u64;
    restored.write(|tx| {
        for r in &to_carry {
            carry_forward(tx, r)?;
        }
        // The backup catalogue too: the backups made after this one (and this one itself,
        // catalogued after its snapshot) stay known, so they can still be restored and pruned.
        for b in &live_backups {
            if backups::get(tx, &b.id)?.is_none() {
                catalogue_again(tx, b)?;
            }
        }
        Ok(())
    })?;
    let counts = restored.counts()?;
    drop(restored);
    {
        let f = File::options()
            .write(true)
            .open(&unpacked.path)
            .map_err(|e| Error::io("opened", &unpacked.path, e))?;
        f.sync_all()
            .map_err(|e| Error::io("synced", &unpacked.path, e))?;
    }
    cancel.check()?;

    // Swap: no stale -wal/-shm may survive beside the new file.
    progress.stage("swap", 0, None);
    for p in sqlite_files(&live_path).iter().skip(1) {
        match fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("removed", p, e)),
        }
    }
    fs::rename(&unpacked.path, &live_path).map_err(|e| Error::io("moved", &live_path, e))?;
    fsync_dir(ctx.home.root());
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    let mut live = ctx.registry()?;
    live.write(|tx| {
        audit::append(
            tx,
            &ctx.actor,
            &AuditEvent::new(EventType::SystemRecovery)
                .resource(format!("backup/{id}"))
                .details(json!({
                    "backup_id": id,
                    "backup_created_at": timestamp::format(unpacked.report.created_at),
                    "backup_station": unpacked.report.station_id,
                    "elapsed_ms": elapsed_ms,
                    "verified": true,
                    "reason": reason.unwrap_or(""),
                    "carried_forward": carried,
                    "safety_copy": safety.display().to_string(),
                    "cases": counts.cases,
                    "documents": counts.documents,
                })),
        )
    })?;
    progress.stage("swap", 1, Some(1));
    Ok(Restored {
        id: id.to_string(),
        restored_to: live_path.display().to_string(),
        cases: counts.cases,
        documents: counts.documents,
        elapsed_ms,
        carried_forward: carried,
        safety_copy: Some(safety.display().to_string()),
    })
}

fn restore_to(
    ctx: &Context,
    id: &str,
    target: &Path,
    started: Instant,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Restored> {
    if fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::Invalid {
            code: "restore_target_symlink",
            field: "to",
            message: format!(
                "{} is a symbolic link; give the path of a plain file",
                target.display()
            ),
        });
    }
    if target.is_dir() {
        return Err(Error::Invalid {
            code: "restore_target_invalid",
            field: "to",
            message: format!("{} is a folder; give a file path", target.display()),
        });
    }
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if fs::canonicalize(target).ok().as_deref()
        == fs::canonicalize(ctx.home.registry()).ok().as_deref()
        && target.exists()
    {
        return Err(Error::Invalid {
            code: "restore_target_invalid",
            field: "to",
            message: "--to names the live registry; run the restore without --to instead".into(),
        });
    }
    // Decrypt next to the target so the final rename is atomic. The folder's name carries the
    // process id, so a later restore removes what a killed one left (a partial, plain copy of
    // the registry must not stay in the officer's folder).
    remove_stale_scratch(&dir);
    let scratch = dir.join(format!(
        "{SCRATCH_PREFIX}{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    let result = (|| -> Result<_> {
        let unpacked = unpack(ctx, id, &scratch, progress, cancel)?;
        let counts = {
            // `unpack` checked every page already.
            let r = Registry::open_with(&unpacked.path, IntegrityCheck::Header)?;
            r.counts()?
        };
        for p in sqlite_files(&unpacked.path).iter().skip(1) {
            let _ = fs::remove_file(p);
        }
        fs::rename(&unpacked.path, target).map_err(|e| Error::io("moved", target, e))?;
        fsync_dir(&dir);
        Ok(counts)
    })();
    let _ = fs::remove_dir_all(&scratch);
    let counts = result?;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut live = ctx.registry()?;
    live.write(|tx| {
        audit::append(
            tx,
            &ctx.actor,
            &AuditEvent::new(EventType::SystemRecovery)
                .resource(format!("backup/{id}"))
                .details(json!({
                    "backup_id": id,
                    "restored_to": target.display().to_string(),
                    "live_registry_touched": false,
                    "elapsed_ms": elapsed_ms,
                    "verified": true,
                })),
        )
    })?;
    Ok(Restored {
        id: id.to_string(),
        restored_to: target.display().to_string(),
        cases: counts.cases,
        documents: counts.documents,
        elapsed_ms,
        carried_forward: 0,
        safety_copy: None,
    })
}

/// The scratch folder of a `restore --to`, beside its target: `<prefix><pid>-<uuid>`.
const SCRATCH_PREFIX: &str = ".strongroom-restore-";

/// Removes the scratch folders in `dir` of restores whose process is gone (kill -9 runs no
/// cleanup). Where process ids cannot be checked (no /proc), nothing is removed.
fn remove_stale_scratch(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(SCRATCH_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        if !alive && e.file_type().is_ok_and(|t| t.is_dir()) {
            match fs::remove_dir_all(e.path()) {
                Ok(()) => {
                    tracing::info!(path = %e.path().display(), "removed the scratch folder of an interrupted restore")
                }
                Err(err) => {
                    tracing::warn!(path = %e.path().display(), error = %err, "could not remove an interrupted restore's scratch folder")
                }
            }
        }
    }
}

fn carry_forward(tx: &crate::registry::Tx<'_>, r: &AuditRecord) -> Result<()> {
    let event = EventType::parse(&r.event)?;
    let outcome = Outcome::parse(&r.outcome).unwrap_or(Outcome::Success);
    let actor = Actor {
        station: r.station.clone(),
        component: r.component.clone(),
        os_user: r.os_user.clone(),
        officer: Some(r.officer.clone()).filter(|o| !o.is_empty()),
    };
    let mut ev = AuditEvent::new(event)
        .outcome(outcome)
        .resource(r.resource.clone())
        .details(json!({
            "carried_forward": {
                "seq": r.seq,
                "time": r.time,
                "hash": r.hash,
                "prev_hash": r.prev_hash,
            },
            "original": r.details_json(),
        }));
    if !r.case_number.is_empty() {
        ev.case_number = Some(r.case_number.clone());
    }
    let at = timestamp::parse(&r.time)?;
    audit::append_at(tx, &actor, &ev, at)?;
    Ok(())
}

fn catalogue_again(tx: &crate::registry::Tx<'_>, b: &backups::Backup) -> Result<()> {
    backups::begin(
        tx,
        &backups::NewBackup {
            id: b.id.clone(),
            station: b.station.clone(),
            created_at: b.created_at,
            cases: b.cases,
            documents: b.documents,
            audit_records: b.audit_records,
            schema_version: b.schema_version,
            key_id: b.key_id.clone(),
        },
    )?;
    match b.state {
        backups::BackupState::Complete => {
            backups::complete(
                tx,
                &b.id,
                b.size,
                b.sha256.as_deref().unwrap_or_default(),
                b.local_path.as_deref(),
            )?;
            if let Some(at) = b.verified_at {
                backups::mark_verified(tx, &b.id, at)?;
            }
        }
        backups::BackupState::Failed | backups::BackupState::Pending => {
            backups::fail(tx, &b.id, b.detail.as_deref().unwrap_or("failed"))?;
        }
    }
    if b.cloud_key.is_some() {
        backups::set_cloud_key(tx, &b.id, b.cloud_key.as_deref())?;
    }
    Ok(())
}

fn time_stamp() -> String {
    timestamp::now()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "now".into())
}

fn fsync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}
