//! The app's queue of document uploads that have not finished, kept in `<home>/app/uploads.json`
//! so that they survive an app restart: the officer sees them again and resumes them (the
//! store continues from the parts already sent). Only paths and the case number are kept.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strongroom_core::paths::Home;
use strongroom_core::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct QueuedUpload {
    /// The job id the UI gave the upload.
    pub job: String,
    pub case: String,
    pub files: Vec<PathBuf>,
}

fn path(home: &Home) -> PathBuf {
    home.root().join("app").join("uploads.json")
}

/// The unfinished uploads (none when the file is absent or unreadable: the queue is a
/// convenience; the registry's own upload journal is what makes an upload resumable).
pub fn load(home: &Home) -> Vec<QueuedUpload> {
    std::fs::read(path(home))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save(home: &Home, queue: &[QueuedUpload]) -> Result<()> {
    let p = path(home);
    let dir = p.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("created", dir, e))?;
    let tmp = dir.join("uploads.json.tmp");
    let text = serde_json::to_vec_pretty(queue).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(&tmp, text).map_err(|e| Error::io("written", &tmp, e))?;
    std::fs::rename(&tmp, &p).map_err(|e| Error::io("written", &p, e))
}

/// Adds (or replaces) the upload `item.job`.
pub fn put(home: &Home, item: QueuedUpload) -> Result<()> {
    let mut q = load(home);
    q.retain(|u| u.job != item.job);
    q.push(item);
    save(home, &q)
}

/// Removes the upload `job` (finished or given up).
pub fn remove(home: &Home, job: &str) -> Result<()> {
    let mut q = load(home);
    let before = q.len();
    q.retain(|u| u.job != job);
    if q.len() == before {
        return Ok(());
    }
    save(home, &q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_survives_a_restart_and_forgets_finished_uploads() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        assert!(load(&home).is_empty());
        let a = QueuedUpload {
            job: "upload-1".into(),
            case: "2026-000001".into(),
            files: vec![PathBuf::from("/tmp/a.pdf")],
        };
        put(&home, a.clone()).unwrap();
        put(
            &home,
            QueuedUpload {
                job: "upload-2".into(),
                ..a.clone()
            },
        )
        .unwrap();
        assert_eq!(load(&home).len(), 2, "read back as a new process would");
        remove(&home, "upload-1").unwrap();
        assert_eq!(
            load(&home),
            vec![QueuedUpload {
                job: "upload-2".into(),
                ..a
            }]
        );
    }
}
