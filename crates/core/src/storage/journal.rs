//! The record of unfinished multipart uploads, so a put interrupted by a crash, a kill or a
//! network failure continues after a restart and never re-sends a finished part.
//!
//! The stores write to an [`UploadJournal`]; the registry's `uploads` table is the production
//! journal (added by the integrator), [`MemoryJournal`] and [`JsonFileJournal`] serve tests and
//! tools. One record per (destination, key).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One part (S3) or block (Azure) that the store has confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartDone {
    /// 1-based part number.
    pub part: u32,
    /// The S3 ETag of the part, or the Azure block id (base64).
    pub etag: String,
    pub size: u64,
}

/// A started upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The store, as [`super::ObjectStore::describe`] says it (e.g. `s3://bucket`).
    pub destination: String,
    pub key: String,
    /// The local file being uploaded.
    pub source: PathBuf,
    pub total_size: u64,
    pub part_size: u64,
    pub sha256: String,
    /// S3 upload id, or the Azure block-id prefix of this upload.
    pub upload_id: String,
    pub parts_done: Vec<PartDone>,
    /// RFC 3339 time the upload started.
    pub started: String,
}

impl UploadRecord {
    /// Whether this record continues an upload of the same file content to the same key.
    pub fn matches(
        &self,
        destination: &str,
        key: &str,
        source: &Path,
        size: u64,
        sha256: &str,
    ) -> bool {
        self.destination == destination
            && self.key == key
            && self.source == source
            && self.total_size == size
            && self.sha256.eq_ignore_ascii_case(sha256)
    }
}

/// Where uploads record their progress. Calls are short and synchronous (an SQLite row, a file).
pub trait UploadJournal: Send + Sync {
    /// Records a newly started upload, replacing any record for the same destination and key.
    fn start(&self, record: &UploadRecord) -> Result<()>;
    /// Records one confirmed part.
    fn part_done(&self, destination: &str, key: &str, part: &PartDone) -> Result<()>;
    /// The unfinished upload for this destination and key, if any.
    fn find(&self, destination: &str, key: &str) -> Result<Option<UploadRecord>>;
    /// Forgets the upload (completed or aborted).
    fn finish(&self, destination: &str, key: &str) -> Result<()>;
    /// Every unfinished upload (to resume or clean up).
    fn unfinished(&self) -> Result<Vec<UploadRecord>>;
}

type Table = BTreeMap<(String, String), UploadRecord>;

fn apply_part(table: &mut Table, destination: &str, key: &str, part: &PartDone) -> Result<()> {
    let rec = table
        .get_mut(&(destination.to_string(), key.to_string()))
        .ok_or_else(|| Error::Internal(format!("no upload of {key} is recorded")))?;
    rec.parts_done.retain(|p| p.part != part.part);
    rec.parts_done.push(part.clone());
    rec.parts_done.sort_by_key(|p| p.part);
    Ok(())
}

/// A journal in memory (lost when the process ends).
#[derive(Debug, Default)]
pub struct MemoryJournal {
    table: Mutex<Table>,
}

impl MemoryJournal {
    pub fn new() -> Self {
        Self::default()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl UploadJournal for MemoryJournal {
    fn start(&self, record: &UploadRecord) -> Result<()> {
        self.lock().insert(
            (record.destination.clone(), record.key.clone()),
            record.clone(),
        );
        Ok(())
    }
    fn part_done(&self, destination: &str, key: &str, part: &PartDone) -> Result<()> {
        apply_part(&mut self.lock(), destination, key, part)
    }
    fn find(&self, destination: &str, key: &str) -> Result<Option<UploadRecord>> {
        Ok(self
            .lock()
            .get(&(destination.to_string(), key.to_string()))
            .cloned())
    }
    fn finish(&self, destination: &str, key: &str) -> Result<()> {
        self.lock()
            .remove(&(destination.to_string(), key.to_string()));
        Ok(())
    }
    fn unfinished(&self) -> Result<Vec<UploadRecord>> {
        Ok(self.lock().values().cloned().collect())
    }
}

/// A journal in one JSON file, rewritten atomically (temp + fsync + rename) on every change,
/// so it survives a kill of the process.
#[derive(Debug)]
pub struct JsonFileJournal {
    path: PathBuf,
    lock: Mutex<()>,
}

impl JsonFileJournal {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    fn read(&self) -> Result<Table> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let list: Vec<UploadRecord> =
                    serde_json::from_slice(&bytes).map_err(|e| Error::Config {
                        message: format!(
                            "the upload journal {} is damaged ({e})",
                            self.path.display()
                        ),
                    })?;
                Ok(list
                    .into_iter()
                    .map(|r| ((r.destination.clone(), r.key.clone()), r))
                    .collect())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Table::new()),
            Err(e) => Err(Error::io("read", &self.path, e)),
        }
    }

    fn write(&self, table: &Table) -> Result<()> {
        use std::io::Write;
        let list: Vec<&UploadRecord> = table.values().collect();
        let json = serde_json::to_vec_pretty(&list).map_err(|e| Error::Internal(e.to_string()))?;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io("created", dir, e))?;
        tmp.write_all(&json)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| Error::io("written", tmp.path(), e))?;
        tmp.persist(&self.path)
            .map_err(|e| Error::io("written", &self.path, e.error))?;
        Ok(())
    }

    fn update(&self, f: impl FnOnce(&mut Table) -> Result<()>) -> Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut table = self.read()?;
        f(&mut table)?;
        self.write(&table)
    }
}

impl UploadJournal for JsonFileJournal {
    fn start(&self, record: &UploadRecord) -> Result<()> {
        self.update(|t| {
            t.insert(
                (record.destination.clone(), record.key.clone()),
                record.clone(),
            );
            Ok(())
        })
    }
    fn part_done(&self, destination: &str, key: &str, part: &PartDone) -> Result<()> {
        self.update(|t| apply_part(t, destination, key, part))
    }
    fn find(&self, destination: &str, key: &str) -> Result<Option<UploadRecord>> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self
            .read()?
            .remove(&(destination.to_string(), key.to_string())))
    }
    fn finish(&self, destination: &str, key: &str) -> Result<()> {
        self.update(|t| {
            t.remove(&(destination.to_string(), key.to_string()));
            Ok(())
        })
    }
    fn unfinished(&self) -> Result<Vec<UploadRecord>> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.read()?.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> UploadRecord {
        UploadRecord {
            destination: "s3://b".into(),
            key: "k".into(),
            source: "/tmp/src".into(),
            total_size: 100,
            part_size: 10,
            sha256: "ab".into(),
            upload_id: "u1".into(),
            parts_done: vec![],
            started: "2026-12-03T00:00:00Z".into(),
        }
    }

    fn exercise(j: &dyn UploadJournal) {
        assert!(j.find("s3://b", "k").unwrap().is_none());
        j.start(&record()).unwrap();
        j.part_done(
            "s3://b",
            "k",
            &PartDone {
                part: 2,
                etag: "e2".into(),
                size: 10,
            },
        )
        .unwrap();
        j.part_done(
            "s3://b",
            "k",
            &PartDone {
                part: 1,
                etag: "e1".into(),
                size: 10,
            },
        )
        .unwrap();
        j.part_done(
            "s3://b",
            "k",
            &PartDone {
                part: 2,
                etag: "e2b".into(),
                size: 10,
            },
        )
        .unwrap();
        let r = j.find("s3://b", "k").unwrap().unwrap();
        assert_eq!(
            r.parts_done.iter().map(|p| p.part).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(r.parts_done[1].etag, "e2b");
        assert!(r.matches("s3://b", "k", Path::new("/tmp/src"), 100, "AB"));
        assert!(!r.matches("s3://b", "k", Path::new("/tmp/src"), 101, "ab"));
        assert_eq!(j.unfinished().unwrap().len(), 1);
        j.finish("s3://b", "k").unwrap();
        assert!(j.find("s3://b", "k").unwrap().is_none());
        assert!(j
            .part_done(
                "s3://b",
                "k",
                &PartDone {
                    part: 1,
                    etag: "x".into(),
                    size: 1
                }
            )
            .is_err());
    }

    #[test]
    fn memory_journal_keeps_parts() {
        exercise(&MemoryJournal::new());
    }

    #[test]
    fn file_journal_keeps_parts_across_instances() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("uploads.json");
        exercise(&JsonFileJournal::new(&path));
        let j = JsonFileJournal::new(&path);
        j.start(&record()).unwrap();
        j.part_done(
            "s3://b",
            "k",
            &PartDone {
                part: 1,
                etag: "e1".into(),
                size: 10,
            },
        )
        .unwrap();
        let reopened = JsonFileJournal::new(&path);
        assert_eq!(
            reopened
                .find("s3://b", "k")
                .unwrap()
                .unwrap()
                .parts_done
                .len(),
            1
        );
    }
}
