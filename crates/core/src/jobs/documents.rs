//! Case documents: upload to the documents store and download with the SHA-256 checked.
//!
//! A document is stored under a key made of its case number and its content's SHA-256
//! (`cases/<case-number>/<sha256>`), never of its file name: the name the officer gave is kept
//! in the registry only, cleaned of path separators and control characters. The same content
//! in the same case is recognised and neither uploaded nor recorded twice. Uploads go through
//! the registry's upload queue, so an upload cut short by a crash continues on the next run.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::upload_queue::RegistryJournal;
use super::{block_on, Context, JobLock};
use crate::audit::{self, AuditEvent, EventType, Outcome};
use crate::progress::{Cancel, Combined, Item, Progress};
use crate::registry::cases;
use crate::registry::documents::{self, Document, NewDocument};
use crate::registry::Registry;
use crate::storage::{
    validate_key, Destinations, GetOptions, ObjectMetadata, ObjectStore, PutOptions,
};
use crate::{Error, Result};

/// Longest document name kept in the registry, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// The store key of a document: derived from the case and the content, never from a name.
pub fn document_key(case_number: &str, sha256: &str) -> Result<String> {
    let key = format!("cases/{case_number}/{sha256}");
    validate_key(&key)?;
    Ok(key)
}

/// The name recorded for a file: its last path component, with path separators and control
/// characters replaced by `_`, surrounding white space removed and at most
/// [`MAX_NAME_CHARS`] characters. `document_name_invalid` when nothing usable is left.
pub fn document_name(path: &Path) -> Result<String> {
    let invalid = || Error::Invalid {
        code: "document_name_invalid",
        field: "name",
        message: format!(
            "{} has no usable file name; give the path of a file",
            path.display()
        ),
    };
    let raw = path.file_name().ok_or_else(invalid)?.to_string_lossy();
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_control() || c == '/' || c == '\\' {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name: String = cleaned.trim().chars().take(MAX_NAME_CHARS).collect();
    if name.is_empty() || name == "." || name == ".." {
        return Err(invalid());
    }
    Ok(name)
}

/// The media type of a file, from its first bytes, else its extension, else whether it reads
/// as text.
pub fn media_type(head: &[u8], name: &str) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"II*\0", "image/tiff"),
        (b"MM\0*", "image/tiff"),
        (b"{\\rtf", "application/rtf"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "application/x-ole-storage",
        ),
        (b"ID3", "audio/mpeg"),
        (b"\x1f\x8b", "application/gzip"),
        (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    ];
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let by_ext = by_extension(&ext);
    if let Some((_, t)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        // Office files are OLE or ZIP containers: the extension says which.
        if *t == "application/x-ole-storage" {
            return by_ext.unwrap_or("application/x-ole-storage");
        }
        return t;
    }
    if head.starts_with(b"PK\x03\x04") {
        return by_ext
            .filter(|t| t.contains("openxml") || t.contains("opendocument") || t.contains("zip"))
            .unwrap_or("application/zip");
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" {
        match &head[8..12] {
            b"WAVE" => return "audio/wav",
            b"AVI " => return "video/x-msvideo",
            b"WEBP" => return "image/webp",
            _ => {}
        }
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b"qt  " => "video/quicktime",
            b"heic" | b"heix" | b"mif1" => "image/heic",
            _ => "video/mp4",
        };
    }
    if let Some(t) = by_ext {
        return t;
    }
    if !head.contains(&0) && std::str::from_utf8(head).is_ok() {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

fn by_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "htm" | "html" => "text/html",
        "eml" => "message/rfc822",
        "msg" => "application/vnd.ms-outlook",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "ppt" => "application/vnd.ms-powerpoint",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "zip" => "application/zip",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "tif" | "tiff" => "image/tiff",
        "heic" => "image/heic",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "avi" => "video/x-msvideo",
        _ => return None,
    })
}

/// SHA-256 (lower-case hex), size and first bytes of a file, reporting `hash` progress.
fn hash_file(
    path: &Path,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<(String, u64, Vec<u8>)> {
    let mut f = File::open(path).map_err(|e| Error::io("opened", path, e))?;
    let total = f.metadata().map_err(|e| Error::io("read", path, e))?.len();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut head = Vec::new();
    let mut done = 0u64;
    progress.stage("hash", 0, Some(total));
    loop {
        cancel.check()?;
        let n = f.read(&mut buf).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        if head.len() < 512 {
            let take = (512 - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
        done += n as u64;
        progress.stage("hash", done, Some(total));
    }
    Ok((hex::encode(hasher.finalize()), done, head))
}

/// The file at `path`, absolute, checked to be a regular file.
fn source_file(path: &Path) -> Result<PathBuf> {
    let abs = std::fs::canonicalize(path).map_err(|e| Error::io("opened", path, e))?;
    let md = std::fs::metadata(&abs).map_err(|e| Error::io("read", path, e))?;
    if !md.is_file() {
        return Err(Error::Invalid {
            code: "document_not_a_file",
            field: "file",
            message: format!(
                "{} is not a regular file; give the path of a file",
                path.display()
            ),
        });
    }
    Ok(abs)
}

/// How many documents travel at once: enough to hide the round trips of small files (rclone's
/// default is 4 too) without crowding a backup off the link.
const IN_FLIGHT: usize = 4;
/// How many documents of a case folder are fetched at once: a download waits on the store's
/// first byte more than an upload does and writes nothing back, so more of them overlap (the
/// aws CLI runs 10).
const DOWNLOADS_IN_FLIGHT: usize = 8;

/// What `add` does with one file, decided before anything is uploaded.
enum Plan {
    /// The case already holds this content.
    Existing(Document),
    /// An earlier file of the same call has the same content.
    SameAs(usize),
    Upload {
        sha256: String,
        size: u64,
        head: Vec<u8>,
        key: String,
    },
}

/// Uploads `files` as documents of case `case_number` and records each (DOCUMENT_UPLOADED).
/// Returns one document per file, in order; a file whose content the case already holds
/// returns the existing document and is not uploaded again. Every file is hashed first; then
/// up to [`IN_FLIGHT`] uploads run at once and each document is recorded as soon as it and the
/// files before it are stored (ids follow the order of `files`), so a crash keeps what was
/// done. An upload interrupted earlier (crash, kill,
/// network) continues from the parts already stored.
///
/// Progress stages: `hash` (per file), `upload` (bytes of all uploads together), `file`
/// (done = files finished, total = files), `resumed`, `duplicate` (done = document id).
pub fn add(
    ctx: &Context,
    case_number: &str,
    files: &[PathBuf],
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<Document>> {
    let _lock = JobLock::acquire(&ctx.home)?;
    let mut registry = ctx.registry()?;
    let case = registry.read(|db| cases::require(db, case_number))?;
    // Check every file before uploading any, so a typo fails the whole command early.
    let sources = files
        .iter()
        .map(|f| Ok((source_file(f)?, document_name(f)?)))
        .collect::<Result<Vec<_>>>()?;
    let destinations = ctx.destinations()?;
    let store = destinations.documents;
    let journal = Arc::new(RegistryJournal::open_in(&ctx.home)?);
    let total = sources.len() as u64;

    let mut plans = Vec::with_capacity(sources.len());
    let mut first_with: HashMap<String, usize> = HashMap::new();
    for (i, (source, _)) in sources.iter().enumerate() {
        cancel.check()?;
        let (sha256, size, head) = hash_file(
            source,
            &Item {
                inner: progress,
                index: i,
            },
            cancel,
        )?;
        if let Some(existing) =
            registry.read(|db| documents::find_by_hash(db, &case.number, &sha256))?
        {
            tracing::info!(case = %case.number, id = existing.id, "the case already holds this content");
            progress.stage("duplicate", existing.id.unsigned_abs(), None);
            plans.push(Plan::Existing(existing));
        } else if let Some(&j) = first_with.get(&sha256) {
            plans.push(Plan::SameAs(j));
        } else {
            first_with.insert(sha256.clone(), i);
            let key = document_key(&case.number, &sha256)?;
            plans.push(Plan::Upload {
                sha256,
                size,
                head,
                key,
            });
        }
    }

    let upload_bytes = plans
        .iter()
        .map(|p| match p {
            Plan::Upload { size, .. } => *size,
            _ => 0,
        })
        .sum();
    let combined = Combined::new(progress, plans.len(), upload_bytes);
    let mut recorded: Vec<Option<Document>> = vec![None; plans.len()];
    let mut finished = (total as usize - first_with.len()) as u64;
    progress.stage("file", finished, Some(total));
    // The uploads in the order their documents are recorded.
    let order: Vec<usize> = plans
        .iter()
        .enumerate()
        .filter_map(|(i, p)| matches!(p, Plan::Upload { .. }).then_some(i))
        .collect();
    // Once an upload fails, the ones after it that have not begun are skipped and only the
    // files before it are recorded; one already under way may be stored but is not recorded
    // (the next run finds it by its hash).
    let failed_at = AtomicUsize::new(usize::MAX);
    block_on(async {
        let uploads = plans.iter().enumerate().filter_map(|(i, plan)| {
            let Plan::Upload {
                sha256,
                size,
                head,
                key,
            } = plan
            else {
                return None;
            };
            let (source, name) = &sources[i];
            // What the registry records once the object is stored.
            let doc = NewDocument {
                case: case.number.clone(),
                name: name.clone(),
                key: key.clone(),
                size: *size,
                sha256: sha256.clone(),
                media_type: media_type(head, name).to_string(),
                version_id: None,
            };
            let opts = PutOptions {
                metadata: ObjectMetadata {
                    sha256: Some(sha256.clone()),
                    station: Some(ctx.station.id.clone()),
                    created: Some(crate::registry::timestamp::format(
                        crate::registry::timestamp::now(),
                    )),
                    case_number: Some(case.number.clone()),
                },
                if_not_exists: true,
                tier: None,
                journal: Some(journal.clone()),
                part_size: None,
            };
            let part = combined.part(i);
            let (store, failed_at) = (store.as_ref(), &failed_at);
            Some(async move {
                if i > failed_at.load(Ordering::Relaxed) {
                    return (i, Err(Error::Cancelled));
                }
                let out = store_document(store, key, source, sha256, &opts, &part, cancel).await;
                if out.is_err() {
                    failed_at.fetch_min(i, Ordering::Relaxed);
                }
                (i, out.map(|version_id| NewDocument { version_id, ..doc }))
            })
        });
        // Unordered, so one large file does not hold up the three beside it; the results are
        // recorded in the files' order (ids follow it), each run of finished ones in one
        // transaction.
        let mut running = futures::stream::iter(uploads).buffer_unordered(IN_FLIGHT);
        let mut stored: HashMap<usize, Result<NewDocument>> = HashMap::new();
        let mut next = 0;
        while let Some((i, out)) = running.next().await {
            stored.insert(i, out);
            let mut ready = Vec::new();
            let mut failure = None;
            while let Some(out) = order.get(next).and_then(|i| stored.remove(i)) {
                match out {
                    Ok(doc) => ready.push((order[next], doc)),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
                next += 1;
            }
            let docs = if ready.is_empty() {
                Vec::new()
            } else {
                registry.write(|tx| {
                    ready
                        .iter()
                        .map(|(i, doc)| {
                            documents::add(tx, doc, &ctx.actor).map(|(d, _new)| (*i, d))
                        })
                        .collect::<Result<Vec<_>>>()
                })?
            };
            if !docs.is_empty() {
                finished += docs.len() as u64;
                for (i, doc) in docs {
                    recorded[i] = Some(doc);
                }
                progress.stage("file", finished, Some(total));
            }
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok::<(), Error>(())
    })??;

    let mut added = Vec::with_capacity(plans.len());
    for (i, plan) in plans.into_iter().enumerate() {
        let doc = match plan {
            Plan::Existing(doc) => Some(doc),
            Plan::SameAs(j) => recorded[j].clone(),
            Plan::Upload { .. } => recorded[i].clone(),
        };
        added.push(doc.ok_or_else(|| {
            Error::Internal(format!("document {i} of the batch was not recorded"))
        })?);
    }
    Ok(added)
}

/// Puts one document; an object already at its key with the same SHA-256 is the same document
/// (content-addressed), stored by an earlier run. Returns the store's version id.
async fn store_document(
    store: &dyn ObjectStore,
    key: &str,
    source: &Path,
    sha256: &str,
    opts: &PutOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Option<String>> {
    match store.put_file(key, source, opts, progress, cancel).await {
        Ok(out) => {
            if out.parts_resumed > 0 {
                progress.stage("resumed", u64::from(out.parts_resumed), None);
            }
            Ok(out.version_id)
        }
        Err(Error::AlreadyExists { .. }) => {
            let info = store.head(key).await?;
            match info.metadata.sha256.as_deref() {
                Some(found) if found.eq_ignore_ascii_case(sha256) => {
                    progress.stage("already_stored", info.size, Some(info.size));
                    Ok(info.version_id)
                }
                found => Err(Error::HashMismatch {
                    store: store.describe(),
                    key: key.to_string(),
                    expected: sha256.to_string(),
                    actual: found.unwrap_or("none recorded").to_string(),
                }),
            }
        }
        Err(e) => Err(e),
    }
}

/// A writer that hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The temp file a download is written to beside its target: `<prefix><pid>-<random>`. The
/// process id lets a later download remove what a killed one left (kill -9 runs no cleanup).
const DOWNLOAD_PREFIX: &str = ".strongroom-download-";

/// Removes download temp files in `dir` whose writing process is gone. Where process ids
/// cannot be checked (no /proc), nothing is removed.
fn remove_stale_downloads(dir: &Path) {
    let proc_fs = Path::new("/proc/self");
    if !proc_fs.exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DOWNLOAD_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        let is_file = e.file_type().is_ok_and(|t| t.is_file());
        if !alive && is_file {
            match std::fs::remove_file(e.path()) {
                Ok(()) => {
                    tracing::info!(path = %e.path().display(), "removed the temp file of an interrupted download")
                }
                Err(err) => {
                    tracing::warn!(path = %e.path().display(), error = %err, "could not remove an interrupted download")
                }
            }
        }
    }
}

/// Refuses to write at `out_path` when it is a symbolic link or a folder.
fn check_out_path(out_path: &Path) -> Result<()> {
    let Ok(md) = std::fs::symlink_metadata(out_path) else {
        return Ok(());
    };
    if md.file_type().is_symlink() {
        return Err(Error::Invalid {
            code: "out_path_symlink",
            field: "out",
            message: format!(
                "{} is a symbolic link; Strongroom does not write through links, give another path",
                out_path.display()
            ),
        });
    }
    if md.is_dir() {
        return Err(Error::Invalid {
            code: "out_path_directory",
            field: "out",
            message: format!(
                "{} is a folder; give the path of a file to write",
                out_path.display()
            ),
        });
    }
    Ok(())
}

/// A download in a temp file beside its target, with the SHA-256 of what arrived — or the
/// store's error (e.g. `not_found`) for the caller to handle.
type Fetched = (tempfile::NamedTempFile, Result<String>);

fn download_temp(dir: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&format!("{DOWNLOAD_PREFIX}{}-", std::process::id()))
        .tempfile_in(dir)
        .map_err(|e| Error::io("created", dir, e))
}

async fn fetch(
    store: &dyn ObjectStore,
    doc: &Document,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<Fetched> {
    let tmp = download_temp(dir)?;
    let opts = GetOptions {
        range: None,
        expected_sha256: Some(doc.sha256.clone()),
    };
    // The store hashes what arrives and refuses (`hash_mismatch`) anything but this SHA-256.
    let mut out = tmp.as_file();
    let got = store.get_to(&doc.key, &opts, &mut out, progress).await;
    Ok((tmp, got.map(|_| doc.sha256.clone())))
}

/// The document store lost `doc` (a new workstation, a deleted folder): its sealed copy in the
/// backups destination, checked the same way; `store_error` when there is none.
fn fetch_sealed(
    ctx: &Context,
    dest: &Destinations,
    doc: &Document,
    dir: &Path,
    store_error: Error,
) -> Result<Fetched> {
    let tmp = download_temp(dir)?;
    let mut writer = HashingWriter {
        inner: tmp.as_file(),
        hasher: Sha256::new(),
    };
    let hashed = match super::sealed_documents::unseal(ctx, dest, doc, &mut writer) {
        Ok(true) => Ok(hex::encode(writer.hasher.finalize())),
        Ok(false) => Err(store_error),
        Err(e) => Err(e),
    };
    Ok((tmp, hashed))
}

/// Whether a download is synced to disk file by file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    /// One document asked for: synced before it is moved into place.
    EachFile,
    /// A case folder: copies of what the store keeps, left to the OS like `cp` or `rclone`
    /// would (an fsync and a synced commit per file were 40% of a 1,000-document download);
    /// their audit records are made durable together at the end.
    AtEnd,
}

/// Where a fetched document is put, where it came from and how it is synced.
struct Placement<'a> {
    out_path: &'a Path,
    /// Unsealed from its copy in the backups destination rather than read from the store.
    from_sealed: bool,
    sync: Sync,
}

/// Checks a fetched document against the registry's SHA-256 (`hash_mismatch`, and nothing
/// written at `out_path`, when it differs), moves it into place and records
/// DOCUMENT_DOWNLOADED (a failure outcome when the check fails).
fn deliver(
    ctx: &Context,
    registry: &mut Registry,
    store: &str,
    doc: &Document,
    (tmp, hashed): Fetched,
    Placement {
        out_path,
        from_sealed,
        sync,
    }: Placement<'_>,
) -> Result<()> {
    let checked = hashed.and_then(|actual| {
        if actual == doc.sha256 {
            Ok(())
        } else {
            Err(Error::HashMismatch {
                store: store.to_string(),
                key: doc.key.clone(),
                expected: doc.sha256.clone(),
                actual,
            })
        }
    });
    let event = AuditEvent::new(EventType::DocumentDownloaded)
        .case(&doc.case)
        .resource(doc.key.clone());
    if let Err(e) = checked {
        drop(tmp);
        let failure = event.outcome(Outcome::Failure).details(json!({
            "id": doc.id,
            "code": e.code(),
        }));
        if let Err(audit_err) = registry.write(|tx| audit::append(tx, &ctx.actor, &failure)) {
            tracing::warn!(error = %audit_err, "could not record the failed download");
        }
        return Err(e);
    }
    if sync == Sync::EachFile {
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io("written", tmp.path(), e))?;
    }
    tmp.persist(out_path)
        .map_err(|e| Error::io("written", out_path, e.error))?;
    registry.write(|tx| {
        audit::append(
            tx,
            &ctx.actor,
            &event.details(json!({
                "id": doc.id,
                "sha256": doc.sha256,
                "size": doc.size,
                "from": if from_sealed { "sealed copy in the backups destination" } else { "documents store" },
            })),
        )
    })?;
    Ok(())
}

/// Downloads document `id` to `out_path`: into a temp file beside it, checked against the
/// SHA-256 in the registry (`hash_mismatch`, exit 4, and nothing written at `out_path` when it
/// differs), then renamed into place. Refuses an `out_path` that is a symbolic link or a
/// folder. Falls back to the document's sealed copy when the store has lost it. Records
/// DOCUMENT_DOWNLOADED (a failure outcome when the check fails).
pub fn get(ctx: &Context, id: i64, out_path: &Path, progress: &dyn Progress) -> Result<Document> {
    let _lock = JobLock::acquire(&ctx.home)?;
    let mut registry = ctx.registry()?;
    let doc = registry.read(|db| documents::require(db, id))?;
    check_out_path(out_path)?;
    let dir = match out_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    remove_stale_downloads(&dir);
    let dest = ctx.destinations()?;
    let store = dest.documents.describe();
    let (tmp, hashed) = block_on(fetch(dest.documents.as_ref(), &doc, &dir, progress))??;
    let (fetched, from_sealed) = match hashed {
        Err(e) if e.code() == "not_found" && super::sealed_documents::wanted(&dest) => {
            drop(tmp);
            (fetch_sealed(ctx, &dest, &doc, &dir, e)?, true)
        }
        other => ((tmp, other), false),
    };
    deliver(
        ctx,
        &mut registry,
        &store,
        &doc,
        fetched,
        Placement {
            out_path,
            from_sealed,
            sync: Sync::EachFile,
        },
    )?;
    Ok(doc)
}

/// A document downloaded by [`get_case`] and where it was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Downloaded {
    #[serde(flatten)]
    pub document: Document,
    pub path: PathBuf,
}

/// File names for the documents of one case in one folder: each recorded name cleaned again
/// for this file system and made portable ([`portable_name`]); a name already taken (ignoring
/// case, also by a renamed one) gets the document id, and a counter if need be, before its
/// extension, so two documents never land in one file. Every name fits in 255 bytes.
fn folder_names(docs: &[Document]) -> Vec<String> {
    let mut used: HashSet<String> = HashSet::new();
    docs.iter()
        .map(|d| {
            let base = document_name(Path::new(&d.name))
                .ok()
                .filter(|n| !n.starts_with(DOWNLOAD_PREFIX))
                .map(|n| portable_name(&n))
                .unwrap_or_else(|| format!("document-{}", d.id));
            let (stem, ext) = match base.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 => {
                    (stem.to_string(), format!(".{ext}"))
                }
                _ => (base.clone(), String::new()),
            };
            let mut name = fit_name(&stem, &ext);
            let mut n = 0u32;
            while !used.insert(name.to_lowercase()) {
                n += 1;
                let suffix = if n == 1 {
                    format!("-{}{ext}", d.id)
                } else {
                    format!("-{}-{n}{ext}", d.id)
                };
                name = fit_name(&stem, &suffix);
            }
            name
        })
        .collect()
}

/// Longest file name written by a folder download, in bytes (most file systems' limit).
const MAX_FILE_NAME_BYTES: usize = 255;

/// `stem` cut (at a character boundary) so that `stem + suffix` fits in
/// [`MAX_FILE_NAME_BYTES`].
fn fit_name(stem: &str, suffix: &str) -> String {
    let room = MAX_FILE_NAME_BYTES.saturating_sub(suffix.len());
    let mut end = stem.len().min(room);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &stem[..end])
}

/// A name every desktop file system can hold as written: the characters Windows refuses
/// (`<>:"|?*`, where `:` would even open an NTFS alternate data stream) become `_`; a device
/// name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, whatever the extension) gets a leading `_`; a
/// trailing dot (which Windows drops) gets a `_` after it.
fn portable_name(name: &str) -> String {
    let mut n: String = name
        .chars()
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    let stem = n
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && matches!(stem.as_bytes()[3], b'1'..=b'9'));
    if device {
        n.insert(0, '_');
    }
    if n.ends_with('.') {
        n.push('_');
    }
    n
}

/// Downloads every document of case `case_number` into the folder `out_dir` (made when
/// missing), up to [`DOWNLOADS_IN_FLIGHT`] at once, each checked and recorded as [`get`]
/// does. Stops at the first failure; what was delivered before it stays. Refuses an `out_dir`
/// that is a symbolic link or not a folder, and never writes through a link inside it.
///
/// Progress stages: `download` (bytes of all downloads together), `file` (done = files).
pub fn get_case(
    ctx: &Context,
    case_number: &str,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<Vec<Downloaded>> {
    let _lock = JobLock::acquire(&ctx.home)?;
    let mut registry = ctx.registry()?;
    // One synced commit for the whole folder instead of one per document; every record
    // survives a crash of the process meanwhile.
    registry.relaxed_commits()?;
    let fetched = fetch_case(ctx, &mut registry, case_number, out_dir, progress);
    let synced = registry.durable_commits();
    let fetched = fetched?;
    synced?;
    Ok(fetched)
}

fn fetch_case(
    ctx: &Context,
    registry: &mut Registry,
    case_number: &str,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<Vec<Downloaded>> {
    let case = registry.read(|db| cases::require(db, case_number))?;
    let docs = registry.read(|db| documents::for_case(db, case.id))?;
    match std::fs::symlink_metadata(out_dir) {
        Ok(md) if md.file_type().is_symlink() => {
            return Err(Error::Invalid {
                code: "out_path_symlink",
                field: "out",
                message: format!(
                    "{} is a symbolic link; Strongroom does not write through links, give another folder",
                    out_dir.display()
                ),
            })
        }
        Ok(md) if !md.is_dir() => {
            return Err(Error::Invalid {
                code: "out_path_not_directory",
                field: "out",
                message: format!(
                    "{} is not a folder; give the folder to download the case's documents into",
                    out_dir.display()
                ),
            })
        }
        Ok(_) => {}
        Err(_) => std::fs::create_dir_all(out_dir).map_err(|e| Error::io("created", out_dir, e))?,
    }
    remove_stale_downloads(out_dir);
    let paths: Vec<PathBuf> = folder_names(&docs)
        .into_iter()
        .map(|n| out_dir.join(n))
        .collect();
    for p in &paths {
        check_out_path(p)?;
    }
    let dest = ctx.destinations()?;
    let store = dest.documents.describe();
    let total = docs.len() as u64;
    let combined = Combined::new(progress, docs.len(), docs.iter().map(|d| d.size).sum());
    let mut lost = Vec::new();
    let mut finished = 0u64;
    progress.stage("file", 0, Some(total));
    block_on(async {
        let fetches = docs.iter().enumerate().map(|(i, doc)| {
            let (part, store) = (combined.part(i), dest.documents.as_ref());
            async move { (i, fetch(store, doc, out_dir, &part).await) }
        });
        // In the order they finish: a slow one does not hold back the delivery of the rest.
        let mut running = futures::stream::iter(fetches).buffer_unordered(DOWNLOADS_IN_FLIGHT);
        while let Some((i, fetched)) = running.next().await {
            let (tmp, hashed) = fetched?;
            match hashed {
                Err(e) if e.code() == "not_found" && super::sealed_documents::wanted(&dest) => {
                    // Unsealing runs its own I/O; it waits until the store's downloads are done.
                    drop(tmp);
                    lost.push((i, e));
                }
                other => {
                    deliver(
                        ctx,
                        registry,
                        &store,
                        &docs[i],
                        (tmp, other),
                        Placement {
                            out_path: &paths[i],
                            from_sealed: false,
                            sync: Sync::AtEnd,
                        },
                    )?;
                    finished += 1;
                    progress.stage("file", finished, Some(total));
                }
            }
        }
        Ok::<(), Error>(())
    })??;
    for (i, e) in lost {
        let fetched = fetch_sealed(ctx, &dest, &docs[i], out_dir, e)?;
        deliver(
            ctx,
            registry,
            &store,
            &docs[i],
            fetched,
            Placement {
                out_path: &paths[i],
                from_sealed: true,
                sync: Sync::AtEnd,
            },
        )?;
        finished += 1;
        progress.stage("file", finished, Some(total));
    }
    Ok(docs
        .into_iter()
        .zip(paths)
        .map(|(document, path)| Downloaded { document, path })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_separators_and_control_characters() {
        assert_eq!(
            document_name(Path::new("/tmp/..\\..\\etc\\passwd")).unwrap(),
            ".._.._etc_passwd"
        );
        assert_eq!(
            document_name(Path::new("/tmp/a\nb\u{7}c\u{202e}.pdf")).unwrap(),
            "a_b_c\u{202e}.pdf"
        );
        assert_eq!(
            document_name(Path::new(&"x".repeat(4000))).unwrap().len(),
            MAX_NAME_CHARS
        );
        for bad in ["/", "/tmp/..", "  "] {
            assert_eq!(
                document_name(Path::new(bad)).unwrap_err().code(),
                "document_name_invalid",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn folder_names_are_portable_distinct_and_short_enough() {
        assert_eq!(portable_name("CON"), "_CON");
        assert_eq!(portable_name("nul.txt"), "_nul.txt");
        assert_eq!(portable_name("Com7.tar.gz"), "_Com7.tar.gz");
        assert_eq!(portable_name("COM0"), "COM0");
        assert_eq!(portable_name("console.txt"), "console.txt");
        assert_eq!(portable_name("a:b?.txt"), "a_b_.txt");
        assert_eq!(portable_name("end."), "end._");
        let doc = |id: i64, name: &str| Document {
            id,
            case: "2026-000001".into(),
            name: name.to_string(),
            key: String::new(),
            size: 0,
            sha256: String::new(),
            media_type: String::new(),
            added_by: String::new(),
            added_at: time::OffsetDateTime::UNIX_EPOCH,
            version_id: None,
        };
        let long = format!("{}.txt", "a".repeat(251));
        let names = folder_names(&[
            doc(1, "Report.txt"),
            doc(2, "report-3.txt"),
            doc(3, "report.txt"),
            doc(4, &long),
            doc(5, &long),
        ]);
        assert_eq!(names[..3], ["Report.txt", "report-3.txt", "report-3-2.txt"]);
        assert_eq!(names[3], long);
        assert!(
            names[4].ends_with("-5.txt") && names[4].len() == 255,
            "{}",
            names[4]
        );
        let distinct: HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(distinct.len(), names.len());
    }

    #[test]
    fn keys_come_from_case_and_content_only() {
        let sha = "ab".repeat(32);
        assert_eq!(
            document_key("2026-000123", &sha).unwrap(),
            format!("cases/2026-000123/{sha}")
        );
    }

    #[test]
    fn media_types_from_content_then_extension() {
        assert_eq!(media_type(b"%PDF-1.7 ...", "scan.bin"), "application/pdf");
        assert_eq!(media_type(b"\x89PNG\r\n\x1a\n....", "x"), "image/png");
        assert_eq!(
            media_type(b"PK\x03\x04....", "report.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(media_type(b"PK\x03\x04....", "bundle"), "application/zip");
        assert_eq!(media_type(b"a,b\n1,2\n", "list.csv"), "text/csv");
        assert_eq!(media_type(b"plain words", "notes"), "text/plain");
        assert_eq!(
            media_type(b"\0\x01\x02", "blob"),
            "application/octet-stream"
        );
    }
}
