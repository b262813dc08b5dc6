//! The app's figures for the station benchmark (`make bench`), measured by the end-to-end
//! harness on the real window under the X display: cold start to an interactive dashboard (from
//! launching tauri-driver to the dashboard showing the keyring's state), and the first render of
//! the cases list with 10,000 cases in the registry (from the click on "Cases" to the first
//! rows painted, timed inside the page). Three rounds, medians; prints a table and writes
//! `<target>/bench/app.json`.
//!
//! usage: app_timings   (inside scripts/with-services.sh, which provides the display and keyring)
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use strongroom_core::audit::Actor;
use strongroom_core::paths::Home;
use strongroom_core::registry::cases::{self, NewCase};
use strongroom_core::registry::Registry;
use strongroom_core::station::Station;
use strongroom_tests::app::{bin_dir, AppSession};

const CASES: usize = 10_000;
const ROUNDS: usize = 3;

/// Clicks "Cases" and resolves, after the next frame, with the milliseconds until 100 case rows
/// are in the page.
const FIRST_RENDER: &str = r#"
const done = arguments[arguments.length - 1];
const t0 = performance.now();
document.querySelector('[data-testid="nav-cases"]').click();
(function poll() {
  if (document.querySelectorAll('[data-testid="case-row"]').length >= 100) {
    requestAnimationFrame(() => done(performance.now() - t0));
  } else {
    requestAnimationFrame(poll);
  }
})();
"#;

/// Rows shown, then "Show more cases" clicked.
const SHOW_MORE: &str = r#"
const n = document.querySelectorAll('[data-testid="case-row"]').length;
document.querySelector('[data-testid="case-more"]').click();
return n;
"#;

/// Waits (up to 5 s) for more than 100 rows and gives their number.
const MORE_ROWS: &str = r#"
const done = arguments[arguments.length - 1];
const t0 = performance.now();
(function poll() {
  const n = document.querySelectorAll('[data-testid="case-row"]').length;
  if (n > 100 || performance.now() - t0 > 5000) done(n); else requestAnimationFrame(poll);
})();
"#;

fn seed(station_home: &Path) {
    let home = Home::at(station_home);
    // A named station, so the app opens on its screens rather than the first-run wizard (the
    // cases list needs no key).
    home.create_dirs().expect("home folders");
    let station = Station::new("Bench station");
    station.save(&home).expect("station file");
    let actor = Actor::new(&station, "bench");
    let mut reg = Registry::open_in(&home).expect("the app's registry");
    reg.write(|tx| {
        for i in 0..CASES {
            cases::create(
                tx,
                &NewCase {
                    number: format!("2026-{i:06}"),
                    title: format!("Burglary at {} Mill Lane, unit {}", i % 400, i % 17),
                    description: format!("Reported by caller {i}; statement taken at the desk."),
                    ..Default::default()
                },
                &actor,
            )?;
        }
        Ok(())
    })
    .expect("seed the cases");
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[s.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut cold = Vec::new();
    let mut first_render = Vec::new();
    for round in 1..=ROUNDS {
        let app = AppSession::start(&[]).await;
        // A new home opens on the first-run wizard: the window is interactive then.
        app.by_testid("first-run-station").await;
        cold.push(app.started.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        seed(&app.home.path().join("station"));
        let seeded = t.elapsed();
        // Reloaded, the window finds the station and opens on its dashboard.
        app.client.refresh().await.expect("reload the window");
        let reachable = app.text_of("info-keyring").await;
        assert_eq!(reachable, "reachable", "the app did not reach the keyring");
        let ms = app
            .client
            .execute_async(FIRST_RENDER, vec![])
            .await
            .expect("the timing script runs")
            .as_f64()
            .expect("milliseconds");
        first_render.push(ms);
        // The first page is a page: the rest is one click away.
        let shown = app
            .client
            .execute(SHOW_MORE, vec![])
            .await
            .expect("the show-more script runs");
        assert_eq!(shown.as_u64(), Some(100), "the first page of cases");
        let more = app
            .client
            .execute_async(MORE_ROWS, vec![])
            .await
            .expect("the show-more script runs");
        assert_eq!(
            more.as_u64(),
            Some(200),
            "Show more cases adds the next page"
        );
        println!(
            "round {round}: cold start {:.0} ms, cases list first render {ms:.0} ms ({CASES} cases seeded in {seeded:.1?})",
            cold[round - 1]
        );
        app.close().await;
    }
    let (c, f) = (median(&cold), median(&first_render));
    println!();
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("| app ({build} build, Xvfb) | median | target | met |");
    println!("|---|---|---|---|");
    println!(
        "| cold start to an interactive window (the first-run wizard) | {c:.0} ms | < 1500 ms | {} |",
        if c < 1500.0 { "yes" } else { "NO" }
    );
    println!(
        "| cases list first render, {CASES} cases | {f:.0} ms | < 300 ms | {} |",
        if f < 300.0 { "yes" } else { "NO" }
    );
    let dir = bin_dir().parent().expect("target dir").join("bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let json = serde_json::json!({
        "bench": "app", "build": build, "rounds": ROUNDS, "cases": CASES,
        "cold_start_ms": cold, "cold_start_median_ms": c,
        "cases_first_render_ms": first_render, "cases_first_render_median_ms": f,
    });
    let path = dir.join("app.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&json).expect("json")).expect("write");
    println!("written: {}", path.display());
}
