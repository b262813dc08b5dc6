//! `strongroom cost`: the monthly storage cost estimate from the real sizes and the dated prices.

use std::process::ExitCode;

use strongroom_core::cost;
use strongroom_core::jobs::Context;
use strongroom_core::paths::Home;
use strongroom_core::Result;

use crate::output::Output;

pub fn run(home: &Home, out: &Output) -> Result<ExitCode> {
    let ctx = Context::open(home, "cli", std::env::var("STRONGROOM_OFFICER").ok())?;
    let registry = ctx.registry()?;
    let e = cost::estimate(&registry, &ctx.settings, time::OffsetDateTime::now_utc())?;
    out.result(&e, || {
        let mut s = format!(
            "Monthly storage estimate — {} ({}), list prices as of {} ({})\n",
            e.provider, e.region, e.as_of, e.currency
        );
        s.push_str(&format!(
            "{:<18} {:>12} {:<30} {:>10} {:>10}\n",
            "what", "GB", "tier", "$/GB-mo", "monthly"
        ));
        for i in &e.items {
            s.push_str(&format!(
                "{:<18} {:>12.4} {:<30} {:>10.5} {:>10.4}\n",
                i.what, i.gb, i.tier, i.price_per_gb_month, i.monthly
            ));
        }
        s.push_str(&format!("{:<18} {:>65.4}", "total", e.total_monthly));
        s.push_str(&format!(
            "\nRetention {} days; requests and retrieval not included.",
            e.retention_days
        ));
        if let Some(n) = &e.note {
            s.push_str(&format!("\nNote: {n}"));
        }
        s
    });
    Ok(ExitCode::SUCCESS)
}
