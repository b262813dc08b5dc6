//! The production upload journal: the registry's `uploads` table (see
//! [`crate::registry::uploads`]), so a multipart upload interrupted by a crash, a kill or a
//! network failure continues after a restart from the parts the store already confirmed.
//!
//! An [`UploadRecord`] maps one-to-one to a row: destination → `store`, key → `object_key`,
//! source → `source_path`, total/part size, sha256, upload id → `provider_upload_id`,
//! parts done → `parts_done`, started → `created_at`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::paths::Home;
use crate::registry::{timestamp, uploads, Registry};
use crate::storage::journal::{PartDone, UploadJournal, UploadRecord};
use crate::{Error, Result};

/// An [`UploadJournal`] over the registry's `uploads` table. Holds its own connection to the
/// registry file (a [`Registry`] is not `Sync`), so stores may call it from any task.
#[derive(Debug)]
pub struct RegistryJournal {
    registry: Mutex<Registry>,
}

impl RegistryJournal {
    /// Opens a connection of its own on the registry at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self {
            registry: Mutex::new(Registry::open(path)?),
        })
    }

    /// The journal of a station home.
    pub fn open_in(home: &Home) -> Result<Self> {
        Self::open(home.registry())
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn to_record(up: uploads::Upload) -> UploadRecord {
    UploadRecord {
        destination: up.store,
        key: up.object_key,
        source: PathBuf::from(up.source_path),
        total_size: up.total_size,
        part_size: up.part_size,
        sha256: up.sha256.unwrap_or_default(),
        upload_id: up.provider_upload_id.unwrap_or_default(),
        parts_done: up
            .parts_done
            .into_iter()
            .map(|p| PartDone {
                part: p.part,
                etag: p.etag,
                size: p.size,
            })
            .collect(),
        started: timestamp::format(up.created_at),
    }
}

impl UploadJournal for RegistryJournal {
    fn start(&self, record: &UploadRecord) -> Result<()> {
        let source = record.source.to_str().ok_or_else(|| Error::Invalid {
            code: "path_invalid",
            field: "source",
            message: format!(
                "the file {} has a name that is not valid Unicode; rename it and try again",
                record.source.display()
            ),
        })?;
        let started = timestamp::parse(&record.started).unwrap_or_else(|_| timestamp::now());
        let sha = record.sha256.to_ascii_lowercase();
        self.lock().write(|tx| {
            uploads::remove_for_key(tx, &record.destination, &record.key)?;
            let up = uploads::enqueue_at(
                tx,
                &uploads::NewUpload {
                    store: record.destination.clone(),
                    object_key: record.key.clone(),
                    source_path: source.to_string(),
                    case_id: None,
                    total_size: record.total_size,
                    part_size: record.part_size,
                    sha256: (!sha.is_empty()).then_some(sha),
                },
                started,
            )?;
            uploads::set_provider_upload_id(
                tx,
                &up.id,
                (!record.upload_id.is_empty()).then_some(record.upload_id.as_str()),
            )?;
            for p in &record.parts_done {
                uploads::record_part(
                    tx,
                    &up.id,
                    &uploads::UploadPart {
                        part: p.part,
                        etag: p.etag.clone(),
                        size: p.size,
                    },
                )?;
            }
            Ok(())
        })
    }

    fn part_done(&self, destination: &str, key: &str, part: &PartDone) -> Result<()> {
        self.lock().write(|tx| {
            let up = uploads::find_open(tx, destination, key)?
                .ok_or_else(|| Error::Internal(format!("no upload of {key} is recorded")))?;
            uploads::record_part(
                tx,
                &up.id,
                &uploads::UploadPart {
                    part: part.part,
                    etag: part.etag.clone(),
                    size: part.size,
                },
            )?;
            Ok(())
        })
    }

    fn find(&self, destination: &str, key: &str) -> Result<Option<UploadRecord>> {
        self.lock()
            .read(|db| uploads::find_open(db, destination, key))
            .map(|o| o.map(to_record))
    }

    fn finish(&self, destination: &str, key: &str) -> Result<()> {
        self.lock()
            .write(|tx| uploads::remove_for_key(tx, destination, key).map(|_| ()))
    }

    fn unfinished(&self) -> Result<Vec<UploadRecord>> {
        Ok(self
            .lock()
            .read(uploads::open)?
            .into_iter()
            .map(to_record)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> UploadRecord {
        UploadRecord {
            destination: "s3://docs".into(),
            key: "cases/2026-000001/abc".into(),
            source: "/tmp/evidence.pdf".into(),
            total_size: 100,
            part_size: 10,
            sha256: "ab".repeat(32),
            upload_id: "upload-1".into(),
            parts_done: vec![],
            started: "2026-12-03T10:00:00.000000Z".into(),
        }
    }

    fn part(n: u32, etag: &str) -> PartDone {
        PartDone {
            part: n,
            etag: etag.into(),
            size: 10,
        }
    }

    #[test]
    fn records_survive_a_new_connection_and_map_every_field() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("registry.sqlite3");
        let j = RegistryJournal::open(&path).unwrap();
        assert!(j.find("s3://docs", &record().key).unwrap().is_none());
        j.start(&record()).unwrap();
        j.part_done("s3://docs", &record().key, &part(2, "e2"))
            .unwrap();
        j.part_done("s3://docs", &record().key, &part(1, "e1"))
            .unwrap();
        j.part_done("s3://docs", &record().key, &part(2, "e2b"))
            .unwrap();
        drop(j);

        // A new process: a fresh connection finds the same upload.
        let j = RegistryJournal::open(&path).unwrap();
        let r = j.find("s3://docs", &record().key).unwrap().unwrap();
        let want = UploadRecord {
            parts_done: vec![part(1, "e1"), part(2, "e2b")],
            ..record()
        };
        assert_eq!(r, want);
        assert!(r.matches(
            "s3://docs",
            &record().key,
            Path::new("/tmp/evidence.pdf"),
            100,
            &"AB".repeat(32)
        ));
        assert_eq!(j.unfinished().unwrap(), vec![want]);
        // Another destination with the same key is another upload.
        assert!(j.find("az://docs", &record().key).unwrap().is_none());

        // Starting again replaces the record.
        j.start(&UploadRecord {
            upload_id: "upload-2".into(),
            ..record()
        })
        .unwrap();
        let r = j.find("s3://docs", &record().key).unwrap().unwrap();
        assert_eq!(r.upload_id, "upload-2");
        assert!(r.parts_done.is_empty());
        assert_eq!(j.unfinished().unwrap().len(), 1);

        j.finish("s3://docs", &record().key).unwrap();
        assert!(j.find("s3://docs", &record().key).unwrap().is_none());
        assert!(j.unfinished().unwrap().is_empty());
        assert!(j
            .part_done("s3://docs", &record().key, &part(1, "x"))
            .is_err());
    }

    #[test]
    fn the_journal_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RegistryJournal>();
    }
}
