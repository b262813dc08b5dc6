//! Progress of a job as plain lines on stderr (never stdout, which carries the result): one
//! line when a stage starts, then at most one per 10% of it, and one at its end.
#![allow(clippy::print_stderr)]

use std::sync::Mutex;

use strongroom_core::progress::{Progress, ProgressEvent};

#[derive(Default)]
pub struct StderrLines {
    last: Mutex<Option<(String, u64)>>,
}

impl StderrLines {
    pub fn new() -> Self {
        Self::default()
    }
}

fn tenths(done: u64, total: Option<u64>) -> u64 {
    match total {
        Some(t) if t > 0 => done.saturating_mul(10) / t,
        _ => 0,
    }
}

impl Progress for StderrLines {
    fn report(&self, e: ProgressEvent) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let step = tenths(e.done, e.total);
        let new_stage = last.as_ref().map(|(s, _)| s != &e.stage).unwrap_or(true);
        let advanced = last.as_ref().is_some_and(|(_, t)| step > *t);
        if !new_stage && !advanced {
            return;
        }
        *last = Some((e.stage.clone(), step));
        match e.total {
            Some(t) => eprintln!("{}: {} / {}", e.stage, e.done, t),
            None => eprintln!("{}: {}", e.stage, e.done),
        }
    }
}
