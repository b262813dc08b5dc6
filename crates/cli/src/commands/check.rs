//! `strongroom check`: the station's health; exit 3 on a CRITICAL finding.

use std::process::ExitCode;

use strongroom_core::jobs::Context;
use strongroom_core::monitor::{self, Severity};
use strongroom_core::paths::Home;
use strongroom_core::Result;

use crate::output::{Output, EXIT_CRITICAL};

pub fn run(home: &Home, out: &Output) -> Result<ExitCode> {
    let ctx = Context::open(home, "cli", std::env::var("STRONGROOM_OFFICER").ok())?;
    let h = monitor::check(&ctx, time::OffsetDateTime::now_utc())?;
    out.result(&h, || {
        let mut s = format!("Status: {}", h.status.to_uppercase());
        for f in &h.findings {
            let sev = match f.severity {
                Severity::Info => "info",
                Severity::Warning => "WARNING",
                Severity::Critical => "CRITICAL",
            };
            s.push_str(&format!("\n  {sev} {}: {}", f.code, f.message));
        }
        s
    });
    Ok(if h.is_critical() {
        ExitCode::from(EXIT_CRITICAL)
    } else {
        ExitCode::SUCCESS
    })
}
