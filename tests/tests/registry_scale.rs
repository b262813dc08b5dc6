//! The registry at a realistic size: 100,000 cases (each with its audit record): search, list,
//! chain verification, snapshot and open all work at that size. The figures are printed for
//! the record only; speed is judged by `make bench` (the station benchmark), not by a test.

use std::time::{Duration, Instant};

use strongroom_core::audit::{self, Actor};
use strongroom_core::registry::cases::{self, CaseFilter, NewCase};
use strongroom_core::registry::{IntegrityCheck, Registry};
use strongroom_core::station::Station;

const CASES: usize = 100_000;
const WORDS: &[&str] = &[
    "theft",
    "vehicle",
    "burglary",
    "assault",
    "fraud",
    "criminal",
    "damage",
    "bicycle",
    "shop",
    "window",
    "garage",
    "harbour",
    "station",
    "market",
    "bakery",
    "warehouse",
    "school",
    "park",
];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn search_of_100k_cases_is_under_50ms() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("registry.sqlite3");
    let mut reg = Registry::open(&path).unwrap();
    let actor = Actor::new(&Station::unregistered(), "test");
    let start = Instant::now();
    for batch in 0..CASES / 10_000 {
        reg.write(|tx| {
            for i in batch * 10_000..(batch + 1) * 10_000 {
                let w = |k: usize| WORDS[(i * 7 + k * 13) % WORDS.len()];
                cases::create(
                    tx,
                    &NewCase {
                        number: format!("{}-{:06}", 2000 + i / 1_000_000, i % 1_000_000),
                        title: format!("{} {} at {} {}", w(0), w(1), w(2), i % 977),
                        description: format!(
                            "Reported by caller {i}. {} near the {} and the {}.",
                            w(3),
                            w(4),
                            w(5)
                        ),
                        ..Default::default()
                    },
                    &actor,
                )?;
            }
            Ok(())
        })
        .unwrap();
    }
    let insert = start.elapsed();

    let queries = [
        "bakery",
        "theft vehicle",
        "harbour 512",
        "2026",
        "wareh",
        "criminal damage school",
    ];
    let mut times = Vec::new();
    let mut hits = 0;
    for round in 0..5 {
        for q in queries {
            let t0 = Instant::now();
            hits += reg.search_cases(q, 50).unwrap().len();
            times.push(t0.elapsed());
            if round == 4 {
                eprintln!("search {q:?}: {:?}", t0.elapsed());
            }
        }
    }
    let search = median(times.clone());
    let worst = *times.iter().max().unwrap();
    assert!(hits > 0);

    let t0 = Instant::now();
    let page = cases::list(
        &reg.db(),
        &CaseFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .unwrap();
    let list = t0.elapsed();
    assert_eq!(page.len(), 100);

    let t0 = Instant::now();
    let report = audit::verify(&reg.db()).unwrap();
    let verify = t0.elapsed();
    assert!(report.ok);
    assert_eq!(report.events, CASES as u64);

    let t0 = Instant::now();
    reg.snapshot_to(t.path().join("snap.sqlite3")).unwrap();
    let snapshot = t0.elapsed();
    drop(reg);
    let size = std::fs::metadata(t.path().join("snap.sqlite3"))
        .unwrap()
        .len();

    let t0 = Instant::now();
    let reg = Registry::open(&path).unwrap();
    let open = t0.elapsed();
    assert_eq!(reg.counts().unwrap().cases, CASES as u64);
    drop(reg);
    let t0 = Instant::now();
    let reg = Registry::open_with(&path, IntegrityCheck::Header).unwrap();
    let open_fast = t0.elapsed();
    assert_eq!(reg.counts().unwrap().cases, CASES as u64);

    eprintln!(
        "registry scale ({CASES} cases, {:.1} MB): insert {:.0} cases/s; search median {:?} (worst {:?}); \
         list first page {:?}; audit verify {:?}; snapshot {:?}; open with quick_check {:?}; \
         open with header check {:?}",
        size as f64 / 1e6,
        CASES as f64 / insert.as_secs_f64(),
        search,
        worst,
        list,
        verify,
        snapshot,
        open,
        open_fast
    );
}
