//! Progress of long jobs on stderr, never stdout: one plain line per stage and per tenth done
//! (a scheduler's log stays short), or JSON lines with --json.
#![allow(clippy::print_stderr)]

use std::sync::Mutex;

use strongroom_core::progress::{Progress, ProgressEvent};

pub struct StderrProgress {
    json: bool,
    last: Mutex<(String, u64)>,
}

impl StderrProgress {
    pub fn new(json: bool) -> Self {
        Self {
            json,
            last: Mutex::new((String::new(), u64::MAX)),
        }
    }
}

impl Progress for StderrProgress {
    fn report(&self, e: ProgressEvent) {
        let tenth = match e.total {
            Some(t) if t > 0 => e.done.saturating_mul(10) / t,
            _ => 0,
        };
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.0 == e.stage && last.1 == tenth {
            return;
        }
        *last = (e.stage.clone(), tenth);
        if self.json {
            if let Ok(s) = serde_json::to_string(&e) {
                eprintln!("{s}");
            }
        } else {
            match e.total {
                Some(t) if t > 0 => eprintln!("{}: {}%", e.stage, tenth * 10),
                _ => eprintln!("{}…", e.stage),
            }
        }
    }
}
