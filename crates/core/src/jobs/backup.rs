//! `backup create`, `backup list`, `backup verify`: the backup workflow of the operations guide.
//!
//! create: clean what an interrupted job left → consistent snapshot of the live registry (SQLite
//! online backup) → compress + encrypt into a temp file (the snapshot is checked page by page
//! meanwhile) → fsync while the file is re-read and authenticated → rename into the backups
//! folder → catalogue complete → what the re-read found (BACKUP_VERIFIED or BACKUP_FAILED) →
//! upload to the cloud when enabled, resumable (BACKUP_CLOUD_SUCCESS or
//! BACKUP_CLOUD_FAILED; backups not yet in the cloud are retried by the next run) → retention.
//! A backup is catalogued `pending` until it is complete; only complete + verified backups are
//! good, and only good backups are listed.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{block_on, Context, JobLock};
use crate::archive::{self, DocumentEntry, Manifest, WriteParams, Writer, MAX_HEADER_LEN};
use crate::audit::{self, AuditEvent, EventType, Outcome};
use crate::crypto::KeyStore;
use crate::jobs::RegistryJournal;
use crate::progress::{Cancel, Progress};
use crate::registry::backups::{self, Backup, BackupState, NewBackup};
use crate::registry::{documents, timestamp, Registry};
use crate::storage::{GetOptions, ObjectMetadata, ObjectStore, PutOptions, BACKUP_PREFIX};
use crate::{Error, Result};

/// File suffix of a backup.
pub const BACKUP_SUFFIX: &str = ".srb";

/// What `backup create` made (the CLI's JSON).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Created {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub created_at: OffsetDateTime,
    pub size: u64,
    pub sha256: String,
    pub local_path: String,
    pub cloud_key: Option<String>,
    pub verified: bool,
    /// Cases, documents and audit records it holds.
    pub counts: archive::Counts,
    /// Why the cloud upload failed, when it did (the local backup is kept).
    pub cloud_error: Option<String>,
    /// What retention deleted afterwards.
    pub pruned: Vec<String>,
    /// Documents of the local folder newly sealed into the backups destination.
    pub documents_sealed: u32,
    /// Why sealing documents failed, when it did (the next backup tries again).
    pub sealing_error: Option<String>,
}

/// One line of `backup list` (local or remote).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Listing {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub created_at: OffsetDateTime,
    pub size: u64,
    pub station: String,
    pub local: bool,
    pub cloud: bool,
    pub verified: bool,
    pub held: bool,
    /// Cases it holds (local catalogue only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cases: Option<u64>,
    /// The object key in the cloud store (remote listing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// What `backup verify` found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Verified {
    pub id: String,
    pub ok: bool,
    pub detail: String,
    /// The stable code of the fault, when not ok.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The metadata every stored copy of backup `b` carries (the cloud copy, the archive copy).
pub(crate) fn object_metadata(b: &Backup) -> ObjectMetadata {
    ObjectMetadata {
        sha256: b.sha256.clone(),
        station: Some(b.station.clone()),
        created: Some(timestamp::format(b.created_at)),
        case_number: None,
    }
}

/// The object key of a backup, in the local folder and the cloud alike:
/// `backups/<station id>/<UTC time>-<backup id>.srb` (the station id is a UUID; nothing
/// user-typed). The prefix scopes the retention lifecycle rules ([`BACKUP_PREFIX`]).
pub fn object_key(station: &str, created_at: OffsetDateTime, id: &str) -> String {
    let t = created_at
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "00000000T000000Z".into());
    let station: String = station
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{BACKUP_PREFIX}{station}/{t}-{id}{BACKUP_SUFFIX}")
}

/// The backup id named by an object key made by [`object_key`].
pub fn id_of_key(key: &str) -> Option<&str> {
    let stem = key.strip_suffix(BACKUP_SUFFIX)?;
    let id = stem.get(stem.len().checked_sub(36)?..)?;
    uuid::Uuid::parse_str(id).ok().map(|_| id)
}

/// Removes what an interrupted job left: temp files in `<home>/tmp`, and catalogue rows still
/// `pending` (their file was never completed) become `failed`. Call with the job lock held.
pub fn clean_interrupted(ctx: &Context, reg: &mut Registry) -> Result<u32> {
    let mut cleaned = 0;
    let tmp = ctx.home.tmp_dir();
    if let Ok(entries) = fs::read_dir(&tmp) {
        for e in entries.flatten() {
            let p = e.path();
            let r = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
            match r {
                Ok(()) => cleaned += 1,
                Err(err) => {
                    tracing::warn!(path = %p.display(), error = %err, "stale temp file not removed")
                }
            }
        }
    }
    let pending: Vec<Backup> = reg.read(|db| {
        Ok(backups::list(db)?
            .into_iter()
            .filter(|b| b.state == BackupState::Pending)
            .collect())
    })?;
    for b in pending {
        // The file may have been renamed into place just before the interruption.
        let file = ctx
            .home
            .backups_dir()
            .join(object_key(&b.station, b.created_at, &b.id));
        let _ = fs::remove_file(&file);
        reg.write(|tx| backups::fail(tx, &b.id, "interrupted before it was complete"))?;
        cleaned += 1;
    }
    // Complete but never verified: the job stopped between storing and verifying it.
    let unverified: Vec<Backup> = reg.read(|db| {
        Ok(backups::list(db)?
            .into_iter()
            .filter(|b| b.state == BackupState::Complete && b.verified_at.is_none())
            .collect())
    })?;
    let keys = KeyStore::for_station(&ctx.station.id);
    for b in unverified {
        let checked = match b.local_path.as_deref() {
            Some(p) => verify_file(Path::new(p), &keys, b.sha256.as_deref()).map(|_| ()),
            None => Err(Error::NotFound {
                what: "the local copy".into(),
            }),
        };
        reg.write(|tx| match &checked {
            Ok(()) => backups::mark_verified(tx, &b.id, timestamp::now()),
            Err(e) => backups::fail(tx, &b.id, &e.to_string()),
        })?;
        cleaned += 1;
    }
    if cleaned > 0 {
        tracing::info!(cleaned, "cleaned what an interrupted job left");
    }
    Ok(cleaned)
}

fn fsync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Checks the whole snapshot page by page (`registry_corrupt` naming the live registry when it
/// fails) and reads its schema version and counts; the snapshot stays open for the manifest's
/// document list.
fn inspect_snapshot(ctx: &Context, snap_path: &Path) -> Result<(i64, archive::Counts, Registry)> {
    let snap = Registry::open_snapshot(snap_path).map_err(|e| match e {
        Error::RegistryCorrupt { detail, .. } => Error::RegistryCorrupt {
            path: ctx.home.registry().display().to_string(),
            detail: format!("its snapshot fails the integrity check: {detail}"),
        },
        other => other,
    })?;
    let c = snap.counts()?;
    let schema = snap.schema_version()?;
    let counts = archive::Counts {
        cases: c.cases,
        documents: c.documents,
        audit_records: c.audit_records,
    };
    Ok((schema, counts, snap))
}

/// A registry snapshot's manifest as it is sealed: serialises like [`Manifest`], its
/// documents read from the snapshot one row at a time (100,000 documents would otherwise be
/// held two or three times over, about 60 MB).
#[derive(Serialize)]
struct SnapshotManifest<'a> {
    kind: &'static str,
    schema_version: u32,
    counts: &'a archive::Counts,
    documents: SnapshotDocuments<'a>,
}

struct SnapshotDocuments<'a> {
    snap: &'a Registry,
    /// Why reading the documents failed, when it did (the serialiser only carries text).
    failed: std::cell::RefCell<Option<Error>>,
}

impl Serialize for SnapshotDocuments<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = s.serialize_seq(None)?;
        let mut stopped = None;
        let read = self.snap.read(|db| {
            documents::for_each(db, |d| {
                let entry = DocumentEntry {
                    case: d.case,
                    store_key: d.key,
                    version_id: d.version_id,
                    sha256: d.sha256,
                    size: d.size,
                };
                seq.serialize_element(&entry).map_err(|e| {
                    stopped = Some(e);
                    Error::Internal("the manifest could not be written".into())
                })
            })
        });
        if let Some(e) = stopped {
            return Err(e);
        }
        if let Err(e) = read {
            let text = e.to_string();
            *self.failed.borrow_mut() = Some(e);
            return Err(S::Error::custom(text));
        }
        seq.end()
    }
}

/// Compresses and encrypts the snapshot into `part_path`; the caller finishes the writer with
/// the manifest.
fn encrypt_snapshot(
    snap_path: &Path,
    part_path: &Path,
    master: &crate::crypto::MasterKey,
    params: WriteParams,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Writer<BufWriter<File>>> {
    let file = File::create(part_path).map_err(|e| Error::io("created", part_path, e))?;
    let mut w = Writer::new(BufWriter::new(file), master, params)?;
    let total = fs::metadata(snap_path).map(|m| m.len()).ok();
    let mut input = File::open(snap_path).map_err(|e| Error::io("opened", snap_path, e))?;
    let mut buf = vec![0u8; 1024 * 1024];
    let mut done = 0u64;
    loop {
        cancel.check()?;
        let n = std::io::Read::read(&mut input, &mut buf)
            .map_err(|e| Error::io("read", snap_path, e))?;
        if n == 0 {
            break;
        }
        w.write_all(&buf[..n])
            .map_err(|e| Error::io("written", part_path, e))?;
        done += n as u64;
        progress.stage("encrypt", done, total);
    }
    Ok(w)
}

/// Makes a backup of the station's registry (the whole workflow; see the module docs).
pub fn create(
    ctx: &Context,
    local_only: bool,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Created> {
    let _lock = JobLock::acquire(&ctx.home)?;
    ctx.home.create_dirs()?;
    let mut reg = ctx.registry()?;
    clean_interrupted(ctx, &mut reg)?;
    let keys = KeyStore::for_station(&ctx.station.id);
    let master = keys.current()?;
    let params = WriteParams::new(&ctx.station.id);
    let id = params.backup_id.to_string();
    let created_at = params.created_at;
    let tmp = ctx.home.tmp_dir();

    // 1. A consistent snapshot of the live registry, while it stays in use.
    progress.stage("snapshot", 0, None);
    let snap_path = tmp.join(format!("snapshot-{id}.sqlite3"));
    reg.snapshot_with_progress(&snap_path, progress)?;
    cancel.check()?;

    // 2. Compress + encrypt the snapshot into a temp file while a second thread checks the
    // whole snapshot page by page and reads what the manifest names (both only read it, and
    // the manifest is needed only when the file is finished): a damaged registry is never
    // backed up, and the check costs no wall time of its own.
    let part_path = tmp.join(format!("backup-{id}.partial"));
    let sealed = std::thread::scope(|scope| {
        let inspection = scope.spawn(|| inspect_snapshot(ctx, &snap_path));
        let writer = encrypt_snapshot(&snap_path, &part_path, &master, params, progress, cancel);
        let inspected = inspection
            .join()
            .map_err(|_| Error::Internal("the snapshot check stopped unexpectedly".into()))?;
        let (schema, counts, snap) = inspected?;
        Ok::<_, Error>((writer?, schema, counts, snap))
    });
    let (writer, schema, counts, snap) = match sealed {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(&snap_path);
            let _ = fs::remove_file(&part_path);
            return Err(e);
        }
    };
    reg.write(|tx| {
        backups::begin(
            tx,
            &NewBackup {
                id: id.clone(),
                station: ctx.station.id.clone(),
                created_at,
                cases: counts.cases,
                documents: counts.documents,
                audit_records: counts.audit_records,
                schema_version: schema,
                key_id: master.id().to_hex(),
            },
        )
    })?;

    let result = (|| -> Result<_> {
        // 3. The trailer with the manifest; fsync, and meanwhile re-read and authenticate
        // every byte of what was written (the same file, before it is renamed into the
        // backups folder).
        let manifest = SnapshotManifest {
            kind: Manifest::REGISTRY_SNAPSHOT,
            schema_version: u32::try_from(schema).unwrap_or(0),
            counts: &counts,
            documents: SnapshotDocuments {
                snap: &snap,
                failed: Default::default(),
            },
        };
        let summary = writer
            .finish_with(&manifest)
            .map_err(|e| manifest.documents.failed.take().unwrap_or(e))?;
        drop(manifest);
        drop(snap);
        let _ = fs::remove_file(&snap_path);
        progress.stage("verify", 0, Some(summary.file_len));
        let (synced, verified) = std::thread::scope(|scope| {
            let synced = scope.spawn(|| {
                File::options()
                    .write(true)
                    .open(&part_path)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| Error::io("synced", &part_path, e))
            });
            let verified = verify_file(&part_path, &keys, Some(&summary.file_sha256));
            let synced = synced
                .join()
                .unwrap_or_else(|_| Err(Error::Internal("the fsync stopped unexpectedly".into())));
            (synced, verified)
        });
        synced?;
        let key = object_key(&ctx.station.id, created_at, &id);
        let final_path = ctx.home.backups_dir().join(&key);
        if let Some(dir) = final_path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("created", dir, e))?;
        }
        fs::rename(&part_path, &final_path).map_err(|e| Error::io("moved", &final_path, e))?;
        if let Some(dir) = final_path.parent() {
            fsync_dir(dir);
        }
        let local_path = final_path.display().to_string();
        reg.write(|tx| {
            backups::complete(
                tx,
                &id,
                summary.file_len,
                &summary.file_sha256,
                Some(&local_path),
            )?;
            audit::append(
                tx,
                &ctx.actor,
                &AuditEvent::new(EventType::BackupCreated)
                    .resource(format!("backup/{id}"))
                    .details(json!({
                        "size": summary.file_len,
                        "sha256": summary.file_sha256,
                        "cases": counts.cases,
                        "documents": counts.documents,
                        "audit_records": counts.audit_records,
                        "key_id": master.id().to_hex(),
                    })),
            )
        })?;
        Ok((summary, key, final_path, verified))
    })();
    let (summary, key, final_path, verified) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(&snap_path);
            let _ = fs::remove_file(tmp.join(format!("backup-{id}.partial")));
            let detail = e.to_string();
            let _ = reg.write(|tx| {
                backups::fail(tx, &id, &detail)?;
                audit::append(
                    tx,
                    &ctx.actor,
                    &AuditEvent::new(EventType::BackupFailed)
                        .outcome(Outcome::Failure)
                        .resource(format!("backup/{id}"))
                        .details(json!({ "stage": "create", "code": e.code(), "detail": detail })),
                )
            });
            return Err(e);
        }
    };

    // 4. What the re-read found.
    reg.write(|tx| match &verified {
        Ok(_) => {
            backups::mark_verified(tx, &id, timestamp::now())?;
            audit::append(
                tx,
                &ctx.actor,
                &AuditEvent::new(EventType::BackupVerified)
                    .resource(format!("backup/{id}"))
                    .details(json!({ "copy": "local", "size": summary.file_len })),
            )
            .map(|_| ())
        }
        Err(e) => {
            backups::fail(tx, &id, &e.to_string())?;
            audit::append(
                tx,
                &ctx.actor,
                &AuditEvent::new(EventType::BackupFailed)
                    .outcome(Outcome::Failure)
                    .resource(format!("backup/{id}"))
                    .details(
                        json!({ "stage": "verify", "code": e.code(), "detail": e.to_string() }),
                    ),
            )
            .map(|_| ())
        }
    })?;
    progress.stage("verify", summary.file_len, Some(summary.file_len));
    verified?;

    // 5. The cloud copy, and any earlier backup that did not reach the cloud yet.
    let mut cloud_key = None;
    let mut cloud_error = None;
    if !local_only {
        let dest = ctx.destinations()?;
        if dest.cloud.is_some() {
            match upload_pending(ctx, &mut reg, &dest.backups, progress, cancel) {
                Ok(uploaded) => {
                    if uploaded.contains(&id) {
                        cloud_key = Some(key.clone());
                    }
                }
                Err(e) => cloud_error = Some(e.to_string()),
            }
            let row = reg.read(|db| backups::require(db, &id))?;
            if row.cloud_key.is_some() {
                // Audited either way; a failed copy is tried again by the next backup.
                if let Err(e) = super::archive_copy::ensure_monthly_copy(
                    ctx,
                    &mut reg,
                    &dest.backups,
                    &row,
                    progress,
                    cancel,
                ) {
                    tracing::warn!(error = %e, "the archive copy was not made");
                }
                cloud_key = row.cloud_key;
            } else if cloud_error.is_none() {
                cloud_error = Some("the cloud copy was not made".into());
            }
        }
    }

    // Documents kept in the local folder get a sealed copy in the backups destination.
    let (documents_sealed, sealing_error) = match ctx.destinations().and_then(|dest| {
        super::sealed_documents::seal_missing(ctx, &mut reg, &dest, progress, cancel)
    }) {
        Ok(n) => (n, None),
        Err(e) => {
            tracing::warn!(error = %e, "documents were not sealed into the backups destination");
            (0, Some(e.to_string()))
        }
    };

    // 6. Retention.
    let pruned = match super::retention::prune_with(ctx, &mut reg, false) {
        Ok(r) => r.deleted,
        Err(e) => {
            tracing::warn!(error = %e, "retention after the backup failed");
            Vec::new()
        }
    };
    Ok(Created {
        id,
        created_at,
        size: summary.file_len,
        sha256: summary.file_sha256,
        local_path: final_path.display().to_string(),
        cloud_key,
        verified: true,
        counts,
        cloud_error,
        pruned,
        documents_sealed,
        sealing_error,
    })
}

/// Authenticates every byte of a backup file (and its SHA-256 when known), in one pass.
pub fn verify_file(
    path: &Path,
    keys: &KeyStore,
    sha256: Option<&str>,
) -> Result<archive::VerifyReport> {
    use sha2::{Digest, Sha256};
    let file = File::open(path).map_err(|e| Error::io("opened", path, e))?;
    let mut hash = Sha256::new();
    let mut input = BufReader::with_capacity(
        1024 * 1024,
        Hashing {
            inner: file,
            hash: &mut hash,
        },
    );
    let report = archive::verify(&mut input, keys)?;
    // Whatever follows the final chunk is refused by `verify`; read to the end all the same,
    // so the hash is the whole file's.
    std::io::copy(&mut input, &mut std::io::sink()).map_err(|e| Error::io("read", path, e))?;
    drop(input);
    if let Some(expected) = sha256 {
        let actual = hex::encode(hash.finalize());
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(Error::BackupCorrupt {
                detail: format!("its SHA-256 is {actual}, the catalogue recorded {expected}"),
            });
        }
    }
    Ok(report)
}

/// A reader that hashes what passes through it.
struct Hashing<'a, R> {
    inner: R,
    hash: &'a mut sha2::Sha256,
}

impl<R: std::io::Read> std::io::Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Uploads every good backup of this station that is not in the cloud yet, oldest first,
/// resuming interrupted uploads from the journal. Audits BACKUP_CLOUD_SUCCESS / _FAILED per
/// backup. Returns the ids uploaded; the first failure ends the run with its error.
pub fn upload_pending(
    ctx: &Context,
    reg: &mut Registry,
    store: &Arc<dyn ObjectStore>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<String>> {
    let mut todo: Vec<Backup> = reg.read(|db| {
        Ok(backups::good(db)?
            .into_iter()
            .filter(|b| b.cloud_key.is_none() && b.local_path.is_some())
            .collect())
    })?;
    todo.reverse();
    // The registry's upload queue: an interrupted cloud upload resumes on the next run.
    let journal = Arc::new(RegistryJournal::open_in(&ctx.home)?);
    let mut done = Vec::new();
    for b in todo {
        let Some(path) = b.local_path.as_deref().map(PathBuf::from) else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        let key = object_key(&b.station, b.created_at, &b.id);
        let opts = PutOptions {
            metadata: object_metadata(&b),
            if_not_exists: true,
            journal: Some(journal.clone()),
            ..PutOptions::default()
        };
        progress.stage("upload", 0, Some(b.size));
        let put = block_on(store.put_file(&key, &path, &opts, progress, cancel))?;
        let put = match put {
            Err(e) if e.code() == "already_exists" => {
                // An earlier run stored it but was stopped before recording it: same bytes?
                let head = block_on(store.head(&key))??;
                if head.metadata.sha256.is_some() && head.metadata.sha256 == b.sha256 {
                    Ok(())
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        };
        match put {
            Ok(()) => {
                reg.write(|tx| {
                    backups::set_cloud_key(tx, &b.id, Some(&key))?;
                    audit::append(
                        tx,
                        &ctx.actor,
                        &AuditEvent::new(EventType::BackupCloudSuccess)
                            .resource(format!("backup/{}", b.id))
                            .details(
                                json!({ "store": store.describe(), "key": key, "size": b.size }),
                            ),
                    )
                })?;
                done.push(b.id.clone());
            }
            Err(e) => {
                reg.write(|tx| {
                    audit::append(
                        tx,
                        &ctx.actor,
                        &AuditEvent::new(EventType::BackupCloudFailed)
                            .outcome(Outcome::Failure)
                            .resource(format!("backup/{}", b.id))
                            .details(json!({
                                "store": store.describe(),
                                "code": e.code(),
                                "detail": e.to_string(),
                                "kept_locally": true,
                            })),
                    )
                })?;
                return Err(e);
            }
        }
    }
    Ok(done)
}

/// The good backups of the local catalogue, newest first.
pub fn list_local(ctx: &Context) -> Result<Vec<Listing>> {
    let reg = ctx.registry()?;
    let rows = reg.read(backups::good)?;
    Ok(rows
        .into_iter()
        .map(|b| Listing {
            local: b
                .local_path
                .as_deref()
                .is_some_and(|p| Path::new(p).is_file()),
            cloud: b.cloud_key.is_some(),
            verified: b.verified_at.is_some(),
            held: b.held,
            id: b.id,
            created_at: b.created_at,
            size: b.size,
            station: b.station,
            cases: Some(b.cases),
            key: None,
        })
        .collect())
}

/// What the backups store holds (the cloud when enabled), every station's: read from each
/// object's header (no key needed), newest first.
pub fn list_remote(ctx: &Context) -> Result<Vec<Listing>> {
    let dest = ctx.destinations()?;
    let reg = ctx.registry()?;
    let catalogue = reg.read(backups::list)?;
    let objects = block_on(dest.backups.list_all(""))??;
    let mut out = Vec::new();
    for o in objects
        .into_iter()
        .filter(|o| o.key.ends_with(BACKUP_SUFFIX))
    {
        let header = match read_header(&dest.backups, &o.key, o.size) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(key = %o.key, error = %e, "not a readable backup; skipped");
                continue;
            }
        };
        let id = header.backup_id.to_string();
        let known = catalogue.iter().find(|b| b.id == id);
        out.push(Listing {
            local: known
                .and_then(|b| b.local_path.as_deref())
                .is_some_and(|p| Path::new(p).is_file()),
            cloud: dest.cloud.is_some(),
            verified: known.is_some_and(Backup::is_good),
            held: known.is_some_and(|b| b.held),
            cases: known.map(|b| b.cases),
            id,
            created_at: header.created_at,
            size: o.size,
            station: header.station_id,
            key: Some(o.key),
        });
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    Ok(out)
}

fn read_header(store: &Arc<dyn ObjectStore>, key: &str, size: u64) -> Result<archive::Header> {
    let end = size.min(MAX_HEADER_LEN as u64);
    let mut buf = Vec::new();
    block_on(store.get_to(
        key,
        &GetOptions {
            range: Some(0..end),
            expected_sha256: None,
        },
        &mut buf,
        &crate::progress::NoProgress,
    ))??;
    archive::peek_header(&buf[..])
}

/// Where a backup can be read: the local file when present, else the cloud object.
#[derive(Debug, Clone)]
pub enum Source {
    Local {
        path: PathBuf,
        sha256: Option<String>,
    },
    Cloud {
        key: String,
    },
}

/// Finds a backup by id: in the catalogue (local copy first), else in the backups store.
pub fn locate(ctx: &Context, id: &str) -> Result<(Source, Option<Backup>)> {
    let reg = ctx.registry()?;
    let row = reg.read(|db| backups::get(db, id))?;
    if let Some(b) = &row {
        if let Some(p) = b.local_path.as_deref().filter(|p| Path::new(p).is_file()) {
            return Ok((
                Source::Local {
                    path: PathBuf::from(p),
                    sha256: b.sha256.clone(),
                },
                row.clone(),
            ));
        }
        if let Some(k) = &b.cloud_key {
            return Ok((Source::Cloud { key: k.clone() }, row.clone()));
        }
    }
    let dest = ctx.destinations()?;
    let objects = block_on(dest.backups.list_all(""))??;
    // The regular copy before an archive copy of the same backup (which may take hours to read).
    let mut matching: Vec<_> = objects
        .into_iter()
        .filter(|o| id_of_key(&o.key) == Some(id))
        .collect();
    matching.sort_by_key(|o| !o.key.starts_with(BACKUP_PREFIX));
    match matching.into_iter().next() {
        Some(o) => Ok((Source::Cloud { key: o.key }, row)),
        None => Err(Error::NotFound {
            what: format!("backup {id} (see `strongroom backup list --remote`)"),
        }),
    }
}

/// Brings a backup into a file under `<home>/tmp` (downloaded and checked against its recorded
/// SHA-256 when it is in the cloud; an archived object is `object_archived` after a restore from
/// the archive was requested). Returns the path and whether it is a temp copy to delete.
pub fn fetch(ctx: &Context, source: &Source, progress: &dyn Progress) -> Result<(PathBuf, bool)> {
    match source {
        Source::Local { path, .. } => Ok((path.clone(), false)),
        Source::Cloud { key } => {
            let dest = ctx.destinations()?;
            let head = block_on(dest.backups.head(key))??;
            if head.tier.is_some_and(|t| t.is_archive()) {
                let wait = std::time::Duration::from_secs(
                    u64::from(ctx.settings.cloud.archive_wait_minutes) * 60,
                );
                wait_for_archive(dest.backups.as_ref(), key, wait, progress)?;
            }
            ctx.home.create_dirs()?;
            let tmp = ctx
                .home
                .tmp_dir()
                .join(format!("download-{}.srb", uuid::Uuid::new_v4()));
            let got = (|| -> Result<()> {
                let file = File::create(&tmp).map_err(|e| Error::io("created", &tmp, e))?;
                let mut w = BufWriter::new(file);
                progress.stage("download", 0, Some(head.size));
                block_on(
                    dest.backups
                        .get_to(key, &GetOptions::default(), &mut w, progress),
                )??;
                w.flush().map_err(|e| Error::io("written", &tmp, e))?;
                Ok(())
            })();
            match got {
                Ok(()) => Ok((tmp, true)),
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    Err(e)
                }
            }
        }
    }
}

/// Asks the store to bring an archived backup back (7 days, standard speed) unless that was
/// asked already, then polls its status with growing pauses (1 s doubling to 1 min) for at most
/// `wait`. `object_archived` when it is still not readable then: the request stands, and a later
/// run finds it done.
pub fn wait_for_archive(
    store: &dyn ObjectStore,
    key: &str,
    wait: std::time::Duration,
    progress: &dyn Progress,
) -> Result<()> {
    use crate::storage::{RestoreSpeed, RestoreStatus};
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_secs(1);
    let mut requested = false;
    loop {
        match block_on(store.restore_status(key))?? {
            RestoreStatus::NotArchived | RestoreStatus::Available { .. } => return Ok(()),
            RestoreStatus::Archived if !requested => {
                block_on(store.request_restore(key, 7, RestoreSpeed::Standard))??;
                tracing::info!(key, "restore from the archive requested");
                requested = true;
                continue;
            }
            RestoreStatus::Archived | RestoreStatus::InProgress => requested = true,
        }
        let waited = start.elapsed();
        progress.stage("archive_restore", waited.as_secs(), Some(wait.as_secs()));
        if waited >= wait {
            return Err(Error::ObjectArchived {
                store: store.describe(),
                key: key.to_string(),
            });
        }
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(std::time::Duration::from_secs(60));
    }
}

/// Authenticates every byte of a backup (the local copy, or the cloud copy when there is no
/// local one). A fault is reported in the result (`ok: false`), not as an error, so the caller
/// can print it; the CLI then exits 4.
pub fn verify(ctx: &Context, id: &str, progress: &dyn Progress) -> Result<Verified> {
    let (source, row) = locate(ctx, id)?;
    let keys = KeyStore::for_station(&ctx.station.id);
    let fetched = fetch(ctx, &source, progress);
    let outcome = fetched.and_then(|(path, temp)| {
        let sha = match &source {
            Source::Local { sha256, .. } => sha256.clone(),
            Source::Cloud { .. } => None,
        };
        let r = verify_file_any(&path, &keys, sha.as_deref());
        if temp {
            let _ = fs::remove_file(&path);
        }
        r
    });
    let where_ = match &source {
        Source::Local { .. } => "local copy",
        Source::Cloud { .. } => "cloud copy",
    };
    let result = match &outcome {
        Ok(r) => Verified {
            id: id.to_string(),
            ok: true,
            detail: format!(
                "{where_}: every byte authenticated ({} bytes, {} chunks, {} cases)",
                r.file_len, r.chunks, r.manifest.counts.cases
            ),
            code: None,
        },
        Err(e) => Verified {
            id: id.to_string(),
            ok: false,
            detail: format!("{where_}: {e}"),
            code: Some(e.code().to_string()),
        },
    };
    let mut reg = ctx.registry()?;
    reg.write(|tx| {
        if let Some(b) = &row {
            if result.ok {
                backups::mark_verified(tx, id, timestamp::now())?;
            } else if b.state == BackupState::Complete {
                // No longer good: restores, checks and retention stop relying on it.
                backups::fail(tx, id, &result.detail)?;
            }
        }
        let ev = if result.ok {
            AuditEvent::new(EventType::BackupVerified)
        } else {
            AuditEvent::new(EventType::BackupFailed).outcome(Outcome::Failure)
        };
        audit::append(
            tx,
            &ctx.actor,
            &ev.resource(format!("backup/{id}"))
                .details(json!({ "stage": "verify", "copy": where_, "detail": result.detail })),
        )
    })?;
    match outcome {
        Err(e) if !e.is_verification_failure() && e.code() != "key_missing" => Err(e),
        _ => Ok(result),
    }
}

/// [`verify_file`] with any station's keys (a backup made by a recovered station).
fn verify_file_any(
    path: &Path,
    own: &KeyStore,
    sha256: Option<&str>,
) -> Result<archive::VerifyReport> {
    let header = archive::peek_header(BufReader::new(
        File::open(path).map_err(|e| Error::io("opened", path, e))?,
    ))?;
    if header.station_id == own.station_id() {
        verify_file(path, own, sha256)
    } else {
        verify_file(path, &KeyStore::for_station(&header.station_id), sha256)
    }
}
