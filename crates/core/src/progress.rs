//! Progress of long jobs. The core owns the trait; the app forwards it into a typed Tauri
//! channel and the CLI into a bar (or JSON lines) on stderr. Jobs also poll [`Cancel`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;

/// One step of a job's progress. `total` is `None` while it is not known yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProgressEvent {
    /// A short machine name of the current stage, e.g. `snapshot`, `encrypt`, `upload`.
    pub stage: String,
    pub done: u64,
    pub total: Option<u64>,
    /// When a job works on several items (the files of one upload), which one this event is
    /// about and how far that item is; `done`/`total` are then the whole job's.
    pub item: Option<ItemProgress>,
}

/// How far one item of a multi-item job is (its index in the order the caller gave).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ItemProgress {
    pub index: u32,
    pub done: u64,
    pub total: Option<u64>,
}

/// Receives progress from a job. Implementations must be cheap: jobs call this often.
pub trait Progress: Send + Sync {
    fn report(&self, event: ProgressEvent);

    /// Convenience for the common case.
    fn stage(&self, stage: &str, done: u64, total: Option<u64>) {
        self.report(ProgressEvent {
            stage: stage.to_string(),
            done,
            total,
            item: None,
        });
    }
}

/// Progress that goes nowhere, for callers that do not watch.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _event: ProgressEvent) {}
}

impl<F> Progress for F
where
    F: Fn(ProgressEvent) + Send + Sync,
{
    fn report(&self, event: ProgressEvent) {
        self(event)
    }
}

/// Several transfers running at once reported as one: their `upload` and `download` bytes are
/// summed against the total of all of them, so a bar moves steadily instead of jumping between
/// files. Other stages pass through.
pub struct Combined<'a> {
    inner: &'a dyn Progress,
    total: u64,
    done: std::sync::Mutex<Vec<u64>>,
}

impl<'a> Combined<'a> {
    pub fn new(inner: &'a dyn Progress, parts: usize, total: u64) -> Self {
        Combined {
            inner,
            total,
            done: std::sync::Mutex::new(vec![0; parts]),
        }
    }

    /// The progress of transfer `index`.
    pub fn part(&self, index: usize) -> CombinedPart<'_> {
        CombinedPart { all: self, index }
    }
}

/// One transfer of a [`Combined`].
pub struct CombinedPart<'a> {
    all: &'a Combined<'a>,
    index: usize,
}

impl Progress for CombinedPart<'_> {
    fn report(&self, event: ProgressEvent) {
        let item = Some(ItemProgress {
            index: u32::try_from(self.index).unwrap_or(u32::MAX),
            done: event.done,
            total: event.total,
        });
        if event.stage != "upload" && event.stage != "download" {
            return self.all.inner.report(ProgressEvent { item, ..event });
        }
        let sum = {
            let Ok(mut done) = self.all.done.lock() else {
                return;
            };
            if let Some(d) = done.get_mut(self.index) {
                *d = event.done;
            }
            done.iter().sum()
        };
        self.all.inner.report(ProgressEvent {
            stage: event.stage,
            done: sum,
            total: Some(self.all.total),
            item,
        });
    }
}

/// The progress of item `index` of a multi-item job: every event is tagged with the item and
/// passed on unchanged otherwise (e.g. the hashing of one file of an upload).
pub struct Item<'a> {
    pub inner: &'a dyn Progress,
    pub index: usize,
}

impl Progress for Item<'_> {
    fn report(&self, event: ProgressEvent) {
        let item = Some(ItemProgress {
            index: u32::try_from(self.index).unwrap_or(u32::MAX),
            done: event.done,
            total: event.total,
        });
        self.inner.report(ProgressEvent { item, ..event });
    }
}

/// A cancellation flag shared between the caller and a job. Jobs check it between steps and
/// stop with [`crate::Error::Cancelled`], leaving nothing half-done behind.
#[derive(Debug, Default, Clone)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once cancelled, for use with `?` between steps.
    pub fn check(&self) -> crate::Result<()> {
        if self.is_cancelled() {
            Err(crate::Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn closures_receive_events() {
        let seen = Mutex::new(Vec::new());
        let sink = |e: ProgressEvent| seen.lock().unwrap().push(e);
        sink.stage("encrypt", 5, Some(10));
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].stage, "encrypt");
        assert_eq!(seen[0].total, Some(10));
    }

    #[test]
    fn cancel_is_shared_between_clones() {
        let c = Cancel::new();
        let job_side = c.clone();
        assert!(job_side.check().is_ok());
        c.cancel();
        assert_eq!(job_side.check().unwrap_err().code(), "cancelled");
    }

    #[test]
    fn combined_sums_the_bytes_of_concurrent_transfers() {
        let seen = std::sync::Mutex::new(Vec::new());
        let sink = |e: ProgressEvent| seen.lock().unwrap().push((e.stage, e.done, e.total));
        let all = Combined::new(&sink, 2, 300);
        all.part(0).stage("upload", 100, Some(100));
        all.part(1).stage("upload", 50, Some(200));
        all.part(1).stage("upload", 200, Some(200));
        all.part(0).stage("resumed", 1, None);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![
                ("upload".to_string(), 100, Some(300)),
                ("upload".to_string(), 150, Some(300)),
                ("upload".to_string(), 300, Some(300)),
                ("resumed".to_string(), 1, None),
            ]
        );
    }

    #[test]
    fn combined_and_item_events_say_which_item_and_how_far_it_is() {
        let seen = std::sync::Mutex::new(Vec::new());
        let sink = |e: ProgressEvent| seen.lock().unwrap().push(e);
        let all = Combined::new(&sink, 2, 300);
        all.part(1).stage("upload", 50, Some(200));
        Item {
            inner: &sink,
            index: 0,
        }
        .stage("hash", 7, Some(100));
        let seen = seen.lock().unwrap().clone();
        let upload = seen[0].item.expect("the upload event names its item");
        assert_eq!(
            (upload.index, upload.done, upload.total),
            (1, 50, Some(200))
        );
        assert_eq!((seen[0].done, seen[0].total), (50, Some(300)));
        let hash = seen[1].item.expect("the hash event names its item");
        assert_eq!((hash.index, hash.done, hash.total), (0, 7, Some(100)));
    }
}
