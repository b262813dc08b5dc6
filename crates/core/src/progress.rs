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
        if event.stage != "upload" && event.stage != "download" {
            return self.all.inner.report(event);
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
        self.all
            .inner
            .stage(&event.stage, sum, Some(self.all.total));
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
}
