//! The station dataset, generated and never downloaded: a registry of cases, document records
//! and their audit trail with case-file prose that compresses about 3x, the documents
//! themselves (mostly incompressible, like scanned PDFs), and the day-to-day change of 1% of
//! the rows. Deterministic: the same seed gives the same rows.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::json;
use strongroom_core::audit::{self, Actor, AuditEvent, EventType};
use strongroom_core::paths::Home;
use strongroom_core::registry::cases::{self, CaseChanges, NewCase};
use strongroom_core::registry::documents::{self, NewDocument};
use strongroom_core::registry::Registry;
use strongroom_core::station::Station;

/// A small, fast, seeded generator (xorshift64*): the bench needs repeatable bytes, not secrecy.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Prose from a vocabulary of 4,000 made-up words picked with a skewed (Zipf-like)
/// distribution, with the numbers case files are full of (references, times, phone numbers).
pub struct Prose {
    rng: Rng,
    words: Vec<String>,
}

impl Prose {
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let common = b"etaoinshrdlcumwfgypb";
        let all = b"etaoinshrdlcumwfgypbvkjxqz";
        let lengths = [2, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11];
        let mut words = Vec::with_capacity(4000);
        while words.len() < 4000 {
            let n = lengths[rng.below(lengths.len() as u64) as usize];
            let w: String = (0..n)
                .map(|_| {
                    let set: &[u8] = if rng.unit() < 0.8 { common } else { all };
                    set[rng.below(set.len() as u64) as usize] as char
                })
                .collect();
            words.push(w);
        }
        Prose { rng, words }
    }

    fn word(&mut self) -> &str {
        let u = self.rng.unit();
        let i = ((u * u * u) * self.words.len() as f64) as usize;
        &self.words[i.min(self.words.len() - 1)]
    }

    /// About `chars` characters of prose ending in a reference line.
    pub fn text(&mut self, chars: usize) -> String {
        let mut s = String::with_capacity(chars + 80);
        while s.len() < chars {
            let w = self.word().to_string();
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&w);
        }
        let r = &mut self.rng;
        s.push_str(&format!(
            ". Ref {}-{:06} at {:02}:{:02}, caller 0{}.",
            2000 + r.below(27),
            r.below(1_000_000),
            r.below(24),
            r.below(60),
            1_000_000_000 + r.below(9_000_000_000)
        ));
        s
    }

    pub fn title(&mut self) -> String {
        let mut t = self.text(40);
        t.truncate(120);
        t
    }

    pub fn name(&mut self) -> String {
        let cap = |w: String| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        };
        let first = self.word().to_string();
        let last = self.word().to_string();
        format!("{} {}", cap(first), cap(last))
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

/// What a registry holds after [`fill`].
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RegistryStats {
    pub cases: u64,
    pub documents: u64,
    pub audit_records: u64,
    pub bytes: u64,
}

fn actor(home: &Home) -> Actor {
    let station = Station::load(home)
        .expect("station file")
        .expect("an initialised home");
    Actor::new(&station, "bench").with_officer(Some("Records Officer Bench".into()))
}

fn file_size(reg: &Path) -> u64 {
    std::fs::metadata(reg).map(|m| m.len()).unwrap_or(0)
}

/// Fills the registry of `home` (initialised by `strongroom init`) through the core's own
/// writes — validation, full-text index and audit chain included — until it holds about
/// `target_bytes`: each case has a description of 200–2,600 characters, a third of them a
/// document record, and every case three audited updates.
pub fn fill(home: &Home, target_bytes: u64, seed: u64) -> RegistryStats {
    let actor = actor(home);
    let mut reg = Registry::open_in(home).expect("open registry");
    let path = home.registry();
    let mut prose = Prose::new(seed);
    let mut n = 0u64;
    while file_size(&path) < target_bytes {
        reg.write(|tx| {
            for _ in 0..2000 {
                n += 1;
                let number = format!("2026-{n:06}");
                let len = 200 + prose.rng().below(2400) as usize;
                cases::create(
                    tx,
                    &NewCase {
                        number: number.clone(),
                        title: prose.title(),
                        description: prose.text(len),
                        officer: Some(prose.name()),
                        badge: Some(format!("B{:05}", n % 100_000)),
                        status: None,
                    },
                    &actor,
                )?;
                if n.is_multiple_of(3) {
                    let sha = format!("{:016x}", prose.rng().next()).repeat(4);
                    documents::add(
                        tx,
                        &NewDocument {
                            case: number.clone(),
                            name: format!("statement-{n}.pdf"),
                            key: format!("cases/{number}/{sha}"),
                            size: 50_000 + prose.rng().below(2_000_000),
                            sha256: sha,
                            media_type: "application/pdf".into(),
                            version_id: None,
                        },
                        &actor,
                    )?;
                }
                for _ in 0..3 {
                    let note = prose.text(120);
                    audit::append(
                        tx,
                        &actor,
                        &AuditEvent::new(EventType::CaseUpdated)
                            .case(&number)
                            .details(json!({ "field": "notes", "note": note })),
                    )?;
                }
            }
            Ok(())
        })
        .expect("write a batch of cases");
    }
    let counts = reg.counts().expect("counts");
    drop(reg);
    RegistryStats {
        cases: counts.cases,
        documents: counts.documents,
        audit_records: counts.audit_records,
        bytes: file_size(&path),
    }
}

/// One day at the station: 1% of the cases get a new description (audited) and 1% new cases
/// arrive.
pub fn change_one_percent(home: &Home, day: u64, generated_cases: u64) {
    let actor = actor(home);
    let mut reg = Registry::open_in(home).expect("open registry");
    let total = generated_cases;
    let mut prose = Prose::new(1000 + day);
    let changes = (total / 100).max(1);
    reg.write(|tx| {
        for _ in 0..changes {
            let id = 1 + prose.rng().below(total);
            let len = 300 + prose.rng().below(3700) as usize;
            cases::update(
                tx,
                &format!("2026-{id:06}"),
                &CaseChanges {
                    description: Some(prose.text(len)),
                    ..Default::default()
                },
                &actor,
            )?;
        }
        for i in 0..changes {
            let len = 300 + prose.rng().below(3700) as usize;
            cases::create(
                tx,
                &NewCase {
                    number: format!("2027-{:06}", day * 10_000 + i),
                    title: prose.title(),
                    description: prose.text(len),
                    officer: Some(prose.name()),
                    badge: None,
                    status: None,
                },
                &actor,
            )?;
        }
        Ok(())
    })
    .expect("a day of changes");
}

/// `count` documents of 50 KB–2 MB (about 350 KB on average) in `dir`: nine in ten random
/// bytes (scans, photos), one in ten text. Returns their total size.
pub fn documents(dir: &Path, count: usize, seed: u64) -> u64 {
    std::fs::create_dir_all(dir).expect("documents dir");
    let mut rng = Rng::new(seed);
    let mut prose = Prose::new(seed ^ 0xD0C5);
    let mut total = 0u64;
    let mut buf = Vec::new();
    for i in 0..count {
        let u = rng.unit();
        let size = (50_000.0 * 40f64.powf(u.powf(1.7))) as usize;
        buf.clear();
        let name = if i % 10 == 9 {
            while buf.len() < size {
                buf.extend_from_slice(prose.text(2000).as_bytes());
                buf.push(b'\n');
            }
            buf.truncate(size);
            format!("statement-{i:04}.txt")
        } else {
            buf.extend_from_slice(b"%PDF-1.7\n");
            while buf.len() < size {
                buf.extend_from_slice(&rng.next().to_le_bytes());
            }
            buf.truncate(size);
            format!("scan-{i:04}.pdf")
        };
        let mut f = BufWriter::new(File::create(dir.join(name)).expect("create document"));
        f.write_all(&buf).expect("write document");
        f.flush().expect("flush document");
        total += size as u64;
    }
    total
}
