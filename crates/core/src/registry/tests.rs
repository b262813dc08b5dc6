use proptest::prelude::*;
use rusqlite::params;

use super::*;
use crate::audit::{self, Actor, AuditFilter};
use crate::registry::cases::{CaseChanges, CaseFilter, NewCase};
use crate::station::Station;
use crate::validate::CaseStatus;

fn actor() -> Actor {
    Actor::new(&Station::unregistered(), "test").with_officer(Some("Jane O'Neil".into()))
}

fn fresh() -> (tempfile::TempDir, Registry) {
    let t = tempfile::tempdir().unwrap();
    let reg = Registry::open(t.path().join("registry.sqlite3")).unwrap();
    (t, reg)
}

fn new_case(number: &str) -> NewCase {
    NewCase {
        number: number.into(),
        title: format!("Burglary {number}"),
        description: "Rear window forced.".into(),
        officer: Some("Jane O'Neil".into()),
        badge: Some("PC-4471".into()),
        status: None,
    }
}

fn add(reg: &mut Registry, number: &str) -> cases::Case {
    reg.write(|tx| cases::create(tx, &new_case(number), &actor()))
        .unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T>) -> &'static str {
    r.unwrap_err().code()
}

/// A raw connection to the same file, as another SQLite client would use it.
fn raw(reg: &Registry) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(reg.path()).unwrap();
    c.pragma_update(None, "foreign_keys", true).unwrap();
    c
}

fn raw_code(r: rusqlite::Result<usize>) -> &'static str {
    sql(r.unwrap_err()).code()
}

#[test]
fn open_creates_the_schema_with_wal_and_foreign_keys() {
    let (_t, reg) = fresh();
    assert_eq!(reg.schema_version().unwrap(), SCHEMA_VERSION);
    let mode: String = reg
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = reg
        .conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    let busy: i64 = reg
        .conn
        .pragma_query_value(None, "busy_timeout", |r| r.get(0))
        .unwrap();
    assert_eq!(busy, 10_000);
    assert_eq!(
        reg.counts().unwrap(),
        Counts {
            cases: 0,
            documents: 0,
            audit_records: 0
        }
    );
}

#[test]
fn reopening_keeps_data_and_version() {
    let (t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    drop(reg);
    let reg = Registry::open(t.path().join("registry.sqlite3")).unwrap();
    assert_eq!(reg.counts().unwrap().cases, 1);
    assert_eq!(reg.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn open_in_creates_the_home() {
    let t = tempfile::tempdir().unwrap();
    let home = Home::at(t.path().join("a/b/home"));
    let reg = Registry::open_in(&home).unwrap();
    assert_eq!(reg.path(), home.registry());
    assert!(home.registry().is_file());
    assert!(home.backups_dir().is_dir());
}

#[test]
fn a_newer_registry_is_refused() {
    let (t, reg) = fresh();
    reg.conn
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(reg);
    let err = Registry::open(t.path().join("registry.sqlite3")).unwrap_err();
    assert_eq!(err.code(), "registry_too_new");
    assert!(err.to_string().contains("newer version"), "{err}");
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("registry.sqlite3");
    std::fs::write(
        &p,
        b"this is not a database at all, it is text ".repeat(200),
    )
    .unwrap();
    let err = Registry::open(&p).unwrap_err();
    assert_eq!(err.code(), "registry_corrupt");
    assert!(err.to_string().contains("restore it from"), "{err}");
    assert!(err.is_verification_failure());
}

#[test]
fn a_damaged_page_is_detected_at_open() {
    let (t, mut reg) = fresh();
    reg.write(|tx| {
        for i in 0..400 {
            cases::create(tx, &new_case(&format!("2026-{i:06}")), &actor())?;
        }
        Ok(())
    })
    .unwrap();
    reg.conn
        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(reg);
    let p = t.path().join("registry.sqlite3");
    let mut bytes = std::fs::read(&p).unwrap();
    assert!(bytes.len() > 40 * 4096, "{}", bytes.len());
    // Scribble over a few pages in the middle (not the header).
    for b in &mut bytes[8 * 4096..12 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&p, &bytes).unwrap();
    let err = Registry::open(&p).unwrap_err();
    assert_eq!(err.code(), "registry_corrupt", "{err}");
    // The fast open does not read every page; the check run later finds the damage.
    if let Ok(reg) = Registry::open_with(&p, IntegrityCheck::Header) {
        assert_eq!(reg.quick_check().unwrap_err().code(), "registry_corrupt");
    }
}

#[test]
fn the_fast_open_still_refuses_a_file_that_is_not_a_database() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("registry.sqlite3");
    std::fs::write(&p, vec![0x42u8; 8192]).unwrap();
    assert_eq!(
        Registry::open_with(&p, IntegrityCheck::Header)
            .unwrap_err()
            .code(),
        "registry_corrupt"
    );
}

#[test]
fn create_validates_every_field() {
    let (_t, mut reg) = fresh();
    let a = actor();
    let cases = [
        (
            NewCase {
                number: "12".into(),
                ..new_case("x")
            },
            "case_number_invalid",
        ),
        (
            NewCase {
                title: " ".into(),
                ..new_case("2026-000001")
            },
            "title_required",
        ),
        (
            NewCase {
                title: "t".repeat(201),
                ..new_case("2026-000001")
            },
            "title_too_long",
        ),
        (
            NewCase {
                description: "d".repeat(10_001),
                ..new_case("2026-000001")
            },
            "description_too_long",
        ),
        (
            NewCase {
                officer: Some("R2D2".into()),
                ..new_case("2026-000001")
            },
            "officer_name_invalid",
        ),
        (
            NewCase {
                badge: Some("PC 1".into()),
                ..new_case("2026-000001")
            },
            "badge_number_invalid",
        ),
    ];
    for (c, expected) in cases {
        assert_eq!(
            code(reg.write(|tx| cases::create(tx, &c, &a))),
            expected,
            "{c:?}"
        );
    }
    assert_eq!(reg.counts().unwrap().cases, 0);
    assert_eq!(
        reg.counts().unwrap().audit_records,
        0,
        "rejections write nothing"
    );
}

#[test]
fn case_numbers_are_unique() {
    let (_t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    let err = reg
        .write(|tx| cases::create(tx, &new_case("2026-000001"), &actor()))
        .unwrap_err();
    assert_eq!(err.code(), "case_number_taken");
    // The schema says so too.
    let c = raw(&reg);
    let r = c.execute(
        "INSERT INTO cases (number, title, created_at, updated_at, created_by) VALUES ('2026-000001', 't', 'x', 'x', 'x')",
        [],
    );
    assert_eq!(raw_code(r), "case_number_taken");
}

#[test]
fn free_text_is_stored_verbatim() {
    let (_t, mut reg) = fresh();
    let nasty = NewCase {
        title: "<script>alert('x')</script> & \"quotes\"; DROP TABLE cases;--".into(),
        description: "Robert'); DROP TABLE cases;--\n<b>bold</b> \u{202e}rtl ünïcødé 🚓".into(),
        ..new_case("2026-000042")
    };
    let c = reg.write(|tx| cases::create(tx, &nasty, &actor())).unwrap();
    assert_eq!(c.title, nasty.title);
    assert_eq!(c.description, nasty.description);
    let back = cases::require(&reg.db(), "2026-000042").unwrap();
    assert_eq!(back.title, nasty.title);
    assert_eq!(back.description, nasty.description);
    assert_eq!(reg.counts().unwrap().cases, 1);
}

#[test]
fn identifiers_are_trimmed() {
    let (_t, mut reg) = fresh();
    let c = reg
        .write(|tx| {
            cases::create(
                tx,
                &NewCase {
                    number: " 2026-000009 ".into(),
                    officer: Some("  Li Wei ".into()),
                    badge: Some(" ".into()),
                    ..new_case("x")
                },
                &actor(),
            )
        })
        .unwrap();
    assert_eq!(c.number, "2026-000009");
    assert_eq!(c.officer.as_deref(), Some("Li Wei"));
    assert_eq!(c.badge, None);
    assert_eq!(c.status, CaseStatus::Open);
    // created_by names the OS user and the officer.
    assert_eq!(c.created_by, actor().display_name());
    assert!(c.created_by.ends_with("(Jane O'Neil)"), "{}", c.created_by);
}

#[test]
fn case_writes_are_audited_in_the_same_transaction() {
    let (_t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    reg.write(|tx| {
        cases::update(
            tx,
            "2026-000001",
            &CaseChanges {
                title: Some("Aggravated burglary".into()),
                ..Default::default()
            },
            &actor(),
        )
    })
    .unwrap();
    reg.write(|tx| {
        cases::set_status(
            tx,
            "2026-000001",
            CaseStatus::UnderInvestigation,
            None,
            &actor(),
        )
    })
    .unwrap();
    reg.write(|tx| cases::delete(tx, "2026-000001", "entered in error", &actor()))
        .unwrap();
    let events: Vec<String> = audit::list(&reg.db(), &AuditFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    assert_eq!(
        events,
        [
            "CASE_CREATED",
            "CASE_UPDATED",
            "CASE_UPDATED",
            "CASE_DELETED"
        ]
    );
    let recs = audit::list(&reg.db(), &AuditFilter::default()).unwrap();
    assert!(recs.iter().all(|r| r.case_number == "2026-000001"));
    assert_eq!(recs[0].officer, "Jane O'Neil");
    assert_eq!(recs[1].details_json()["changed"][0], "title");
    assert_eq!(
        recs[2].details_json()["status"]["to"],
        "under_investigation"
    );
    assert_eq!(recs[3].details_json()["reason"], "entered in error");
    assert!(audit::verify(&reg.db()).unwrap().ok);

    // A write that fails after its audit record rolls both back.
    let before = reg.counts().unwrap();
    let r: Result<()> = reg.write(|tx| {
        cases::create(tx, &new_case("2026-000002"), &actor())?;
        Err(Error::Cancelled)
    });
    assert_eq!(r.unwrap_err().code(), "cancelled");
    assert_eq!(reg.counts().unwrap(), before);
}

#[test]
fn update_validates_and_clears() {
    let (_t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    let a = actor();
    assert_eq!(
        code(reg.write(|tx| cases::update(
            tx,
            "2026-000001",
            &CaseChanges {
                title: Some(String::new()),
                ..Default::default()
            },
            &a
        ))),
        "title_required"
    );
    let c = reg
        .write(|tx| {
            cases::update(
                tx,
                "2026-000001",
                &CaseChanges {
                    badge: Some(None),
                    ..Default::default()
                },
                &a,
            )
        })
        .unwrap();
    assert_eq!(c.badge, None);
    assert_eq!(
        code(reg.write(|tx| cases::update(tx, "2026-999999", &CaseChanges::default(), &a))),
        "not_found"
    );
    // No change, no audit record.
    let n = reg.counts().unwrap().audit_records;
    reg.write(|tx| cases::update(tx, "2026-000001", &CaseChanges::default(), &a))
        .unwrap();
    assert_eq!(reg.counts().unwrap().audit_records, n);
}

#[test]
fn status_machine_in_core_and_schema() {
    use CaseStatus::*;
    let (_t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    let a = actor();
    let set = |reg: &mut Registry, to, why: Option<&str>| {
        reg.write(|tx| cases::set_status(tx, "2026-000001", to, why, &a))
    };
    assert_eq!(
        code(set(&mut reg, Closed, None)),
        "status_transition_invalid"
    );
    set(&mut reg, UnderInvestigation, None).unwrap();
    set(&mut reg, Closed, None).unwrap();
    assert_eq!(code(set(&mut reg, Open, None)), "reason_required");
    let c = set(&mut reg, Open, Some("new witness")).unwrap();
    assert_eq!(c.status, Open);
    assert_eq!(c.status_reason.as_deref(), Some("new witness"));

    // The schema enforces the same machine for writes that bypass the core.
    let c = raw(&reg);
    let upd = |to: &str, reason: Option<&str>| {
        c.execute(
            "UPDATE cases SET status = ?1, status_reason = ?2 WHERE number = '2026-000001'",
            params![to, reason],
        )
    };
    assert_eq!(raw_code(upd("archived", None)), "status_transition_invalid");
    assert_eq!(raw_code(upd("reopened", None)), "status_transition_invalid");
    upd("under_investigation", None).unwrap();
    upd("closed", None).unwrap();
    assert_eq!(raw_code(upd("open", None)), "reason_required");
    assert_eq!(raw_code(upd("open", Some("   "))), "reason_required");
    upd("archived", None).unwrap();
    assert_eq!(
        raw_code(upd("open", Some("please"))),
        "status_transition_invalid"
    );
}

/// Every (from, to) pair, with and without a reason: the schema's triggers give the same
/// verdict as `validate::status_transition`.
#[test]
fn schema_status_machine_matches_the_core_one() {
    let (_t, mut reg) = fresh();
    let c = raw(&reg);
    let mut n = 0;
    for from in CaseStatus::ALL {
        for to in CaseStatus::ALL {
            for why in [None, Some("new evidence")] {
                n += 1;
                let number = format!("2026-{n:06}");
                reg.write(|tx| {
                    cases::create(
                        tx,
                        &NewCase {
                            status: Some(from),
                            ..new_case(&number)
                        },
                        &actor(),
                    )
                })
                .unwrap();
                let core = crate::validate::status_transition(from, to, why);
                let db = c.execute(
                    "UPDATE cases SET status = ?2, status_reason = ?3 WHERE number = ?1",
                    params![number, to.as_str(), why],
                );
                match (&core, db) {
                    (Ok(()), Ok(1)) => {}
                    (Err(e), Err(d)) => assert_eq!(e.code(), sql(d).code(), "{from}->{to} {why:?}"),
                    (core, db) => panic!("{from}->{to} {why:?}: core {core:?}, schema {db:?}"),
                }
            }
        }
    }
}

#[test]
fn schema_checks_reject_bad_rows_written_directly() {
    let (_t, reg) = fresh();
    let c = raw(&reg);
    let ins = |number: &str, title: &str, officer: Option<&str>, badge: Option<&str>| {
        c.execute(
            "INSERT INTO cases (number, title, officer, badge, created_at, updated_at, created_by)
             VALUES (?1, ?2, ?3, ?4, 'x', 'x', 'x')",
            params![number, title, officer, badge],
        )
    };
    assert!(ins("2026-000001", "ok", Some("Jane Doe"), Some("PC-1")).is_ok());
    for (n, t, o, b) in [
        ("", "t", None, None),
        ("has space", "t", None, None),
        ("2026-000002", "", None, None),
        ("2026-000003", &"t".repeat(201), None, None),
        ("2026-000004", "two\nlines", None, None),
        ("2026-000005", "t", Some("R2D2"), None),
        ("2026-000006", "t", Some(" Jane"), None),
        ("2026-000007", "t", None, Some("PC 1")),
        ("2026-000008", "t", None, Some("-1")),
    ] {
        assert_eq!(
            raw_code(ins(n, t, o, b)),
            "constraint_violated",
            "{n:?} {t:?} {o:?} {b:?}"
        );
    }
    let bad_doc = c.execute(
        "INSERT INTO documents (case_id, original_name, stored_key, size, sha256, media_type, added_by, added_at)
         VALUES (1, 'a.pdf', 'k', 1, 'NOTHEX', 'application/pdf', 'u', 'x')",
        [],
    );
    assert_eq!(raw_code(bad_doc), "constraint_violated");
    let orphan = c.execute(
        "INSERT INTO documents (case_id, original_name, stored_key, size, sha256, media_type, added_by, added_at)
         VALUES (99, 'a.pdf', 'k', 1, ?1, 'application/pdf', 'u', 'x')",
        params!["a".repeat(64)],
    );
    assert_eq!(raw_code(orphan), "reference_invalid");
    let bad_parts = c.execute(
        "INSERT INTO uploads (id, store, object_key, source_path, total_size, part_size, parts_done, created_at, updated_at)
         VALUES ('u1', 'documents', 'k', '/p', 1, 1, 'not json', 'x', 'x')",
        [],
    );
    assert_eq!(raw_code(bad_parts), "constraint_violated");
    let complete_without_hash = c.execute(
        "INSERT INTO backups (id, station, created_at, schema_version, key_id, state)
         VALUES ('b1', 's', 'x', 1, 'k', 'complete')",
        [],
    );
    assert_eq!(raw_code(complete_without_hash), "constraint_violated");
}

fn doc(case: &str, n: u8) -> documents::NewDocument {
    documents::NewDocument {
        case: case.into(),
        name: format!("scan {n}.pdf"),
        key: format!("cases/{case}/{n:064x}"),
        size: 1000 + u64::from(n),
        sha256: format!("{n:064x}"),
        media_type: "application/pdf".into(),
        version_id: None,
    }
}

#[test]
fn documents_are_recorded_once_per_content() {
    let (_t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    let (d, new) = reg
        .write(|tx| documents::add(tx, &doc("2026-000001", 1), &actor()))
        .unwrap();
    assert!(new);
    assert_eq!(d.case, "2026-000001");
    assert_eq!(d.size, 1001);
    let (again, new) = reg
        .write(|tx| {
            documents::add(
                tx,
                &documents::NewDocument {
                    name: "same content.pdf".into(),
                    ..doc("2026-000001", 1)
                },
                &actor(),
            )
        })
        .unwrap();
    assert!(!new);
    assert_eq!(again.id, d.id);
    assert_eq!(reg.counts().unwrap().documents, 1);
    let detail = cases::detail(&reg.db(), "2026-000001").unwrap();
    assert_eq!(detail.documents, vec![d.clone()]);
    let json = serde_json::to_value(&detail).unwrap();
    assert_eq!(json["number"], "2026-000001");
    assert_eq!(json["documents"][0]["sha256"], d.sha256);
    assert_eq!(
        code(reg.write(|tx| documents::add(
            tx,
            &documents::NewDocument {
                sha256: "xyz".into(),
                ..doc("2026-000001", 2)
            },
            &actor()
        ))),
        "sha256_invalid"
    );
    assert_eq!(
        code(reg.write(|tx| documents::add(tx, &doc("2026-000404", 2), &actor()))),
        "not_found"
    );
    // A case with documents cannot be deleted until they are.
    assert_eq!(
        code(reg.write(|tx| cases::delete(tx, "2026-000001", "duplicate", &actor()))),
        "case_has_documents"
    );
    reg.write(|tx| documents::delete(tx, d.id, "wrong case", &actor()))
        .unwrap();
    reg.write(|tx| cases::delete(tx, "2026-000001", "duplicate", &actor()))
        .unwrap();
}

#[test]
fn a_held_case_and_its_documents_cannot_be_deleted() {
    let (_t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    let (d, _) = reg
        .write(|tx| documents::add(tx, &doc("2026-000001", 1), &actor()))
        .unwrap();
    let hold = reg
        .write(|tx| holds::set(tx, "2026-000001", Some("litigation 44/2026"), &actor()))
        .unwrap();
    assert!(hold.is_active());
    assert_eq!(hold.reason.as_deref(), Some("litigation 44/2026"));
    assert!(cases::require(&reg.db(), "2026-000001").unwrap().held);
    assert_eq!(
        code(reg.write(|tx| holds::set(tx, "2026-000001", None, &actor()))),
        "hold_exists"
    );
    assert_eq!(
        code(reg.write(|tx| documents::delete(tx, d.id, "tidy", &actor()))),
        "case_held"
    );
    assert_eq!(
        code(reg.write(|tx| cases::delete(tx, "2026-000001", "tidy", &actor()))),
        "case_held"
    );

    // Bypassing the core: the triggers refuse too.
    let c = raw(&reg);
    assert_eq!(
        raw_code(c.execute("DELETE FROM documents WHERE id = ?1", params![d.id])),
        "case_held"
    );
    assert_eq!(
        raw_code(c.execute(
            "UPDATE documents SET sha256 = ?2 WHERE id = ?1",
            params![d.id, "b".repeat(64)]
        )),
        "case_held"
    );
    assert_eq!(
        raw_code(c.execute("DELETE FROM cases WHERE number = '2026-000001'", [])),
        "case_held"
    );
    assert_eq!(
        raw_code(c.execute("DELETE FROM legal_holds", [])),
        "case_held"
    );
    assert_eq!(
        raw_code(c.execute("UPDATE legal_holds SET reason = 'changed'", [])),
        "hold_immutable"
    );
    drop(c);

    assert_eq!(
        code(reg.write(|tx| holds::release(tx, "2026-000001", None, &actor()))),
        "reason_required"
    );
    let released = reg
        .write(|tx| holds::release(tx, "2026-000001", Some("case settled"), &actor()))
        .unwrap();
    assert!(!released.is_active());
    assert_eq!(released.release_reason.as_deref(), Some("case settled"));
    assert_eq!(
        code(reg.write(|tx| holds::release(tx, "2026-000001", Some("x"), &actor()))),
        "hold_not_found"
    );
    reg.write(|tx| documents::delete(tx, d.id, "tidy", &actor()))
        .unwrap();
    let events: Vec<String> = audit::list(&reg.db(), &AuditFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect();
    assert_eq!(
        events,
        [
            "CASE_CREATED",
            "DOCUMENT_UPLOADED",
            "LEGAL_HOLD_SET",
            "LEGAL_HOLD_RELEASED",
            "DOCUMENT_DELETED"
        ]
    );
}

#[test]
fn listing_filters_and_pages() {
    let (_t, mut reg) = fresh();
    for i in 1..=25 {
        add(&mut reg, &format!("2026-{i:06}"));
    }
    reg.write(|tx| {
        cases::set_status(
            tx,
            "2026-000003",
            CaseStatus::UnderInvestigation,
            None,
            &actor(),
        )
    })
    .unwrap();
    let db = reg.db();
    let page1 = cases::list(
        &db,
        &CaseFilter {
            limit: 10,
            ..Default::default()
        },
    )
    .unwrap();
    let page3 = cases::list(
        &db,
        &CaseFilter {
            limit: 10,
            offset: 20,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(page1.len(), 10);
    assert_eq!(page3.len(), 5);
    assert_eq!(
        page1[0].number, "2026-000003",
        "most recently updated first"
    );
    let ui = cases::list(
        &db,
        &CaseFilter {
            status: Some(CaseStatus::UnderInvestigation),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ui.len(), 1);
}

#[test]
fn full_text_search_finds_number_title_and_description() {
    let (_t, mut reg) = fresh();
    let a = actor();
    reg.write(|tx| {
        for (n, title, desc) in [
            (
                "2026-000001",
                "Burglary at the bakery",
                "Rear window forced",
            ),
            (
                "2026-000002",
                "Stolen bicycle",
                "Red racing bicycle taken from rack",
            ),
            (
                "2026-000003",
                "Criminal damage",
                "Graffiti on the bakery wall",
            ),
        ] {
            cases::create(
                tx,
                &NewCase {
                    number: n.into(),
                    title: title.into(),
                    description: desc.into(),
                    ..Default::default()
                },
                &a,
            )?;
        }
        Ok(())
    })
    .unwrap();
    fn numbers_in(reg: &Registry, q: &str) -> Vec<String> {
        let mut v: Vec<String> = reg
            .search_cases(q, 50)
            .unwrap()
            .into_iter()
            .map(|c| c.number)
            .collect();
        v.sort();
        v
    }
    let numbers = |q: &str| numbers_in(&reg, q);
    assert_eq!(numbers("bakery"), ["2026-000001", "2026-000003"]);
    assert_eq!(numbers("bicyc"), ["2026-000002"]);
    assert_eq!(numbers("2026-000002"), ["2026-000002"]);
    assert_eq!(numbers("graffiti bakery"), ["2026-000003"]);
    assert!(numbers("\"unbalanced AND (").is_empty());
    assert!(numbers("").is_empty());
    // The index follows updates and deletes.
    reg.write(|tx| {
        cases::update(
            tx,
            "2026-000002",
            &CaseChanges {
                title: Some("Stolen tricycle".into()),
                description: Some(String::new()),
                ..Default::default()
            },
            &a,
        )
    })
    .unwrap();
    assert!(numbers_in(&reg, "bicycle").is_empty());
    assert_eq!(numbers_in(&reg, "tricycle"), ["2026-000002"]);
    reg.write(|tx| cases::delete(tx, "2026-000003", "duplicate", &a))
        .unwrap();
    assert_eq!(numbers_in(&reg, "bakery"), ["2026-000001"]);
}

#[test]
fn search_of_many_cases_is_fast() {
    let (_t, mut reg) = fresh();
    let a = actor();
    reg.write(|tx| {
        for i in 0..5_000 {
            cases::create(
                tx,
                &NewCase {
                    number: format!("2026-{i:06}"),
                    title: format!("Case {i} theft from vehicle in district {}", i % 17),
                    description: format!("Reported by caller {i}; window smashed."),
                    ..Default::default()
                },
                &a,
            )?;
        }
        Ok(())
    })
    .unwrap();
    let t = std::time::Instant::now();
    let hits = reg.search_cases("district 7 vehicle", 50).unwrap();
    let took = t.elapsed();
    assert_eq!(hits.len(), 50);
    assert!(took < std::time::Duration::from_millis(500), "{took:?}");
}

#[test]
fn snapshot_is_consistent_while_in_use() {
    let (t, mut reg) = fresh();
    for i in 1..=50 {
        add(&mut reg, &format!("2026-{i:06}"));
    }
    // Another connection holds an open write transaction with uncommitted rows.
    let other = raw(&reg);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    other
        .execute(
            "INSERT INTO cases (number, title, created_at, updated_at, created_by) VALUES ('2026-999999', 'uncommitted', 'x', 'x', 'x')",
            [],
        )
        .unwrap();
    let snap = t.path().join("snap.sqlite3");
    let seen = std::sync::Mutex::new(0u64);
    reg.snapshot_with_progress(&snap, &|e: crate::progress::ProgressEvent| {
        assert_eq!(e.stage, "snapshot");
        *seen.lock().unwrap() += 1;
    })
    .unwrap();
    other.execute_batch("COMMIT").unwrap();
    assert!(*seen.lock().unwrap() >= 1);
    assert!(!t.path().join("snap.sqlite3-wal").exists());
    let copy = Registry::open(&snap).unwrap();
    assert_eq!(copy.counts().unwrap().cases, 50);
    assert_eq!(copy.counts().unwrap().audit_records, 50);
    assert!(audit::verify(&copy.db()).unwrap().ok);
    assert_eq!(reg.counts().unwrap().cases, 51);
    assert_eq!(reg.snapshot_to(&snap).unwrap_err().code(), "already_exists");
}

#[test]
fn a_read_transaction_sees_one_snapshot() {
    let (t, reg) = fresh();
    let mut other = Registry::open(t.path().join("registry.sqlite3")).unwrap();
    let (before, after) = reg
        .read(|db| {
            let before = cases::count(db)?;
            other.write(|tx| cases::create(tx, &new_case("2026-000001"), &actor()))?;
            Ok((before, cases::count(db)?))
        })
        .unwrap();
    assert_eq!((before, after), (0, 0));
    assert_eq!(cases::count(&reg.db()).unwrap(), 1);
}

#[test]
fn uploads_queue_survives_reopen() {
    let (t, mut reg) = fresh();
    let up = reg
        .write(|tx| {
            uploads::enqueue(
                tx,
                &uploads::NewUpload {
                    store: "documents".into(),
                    object_key: "cases/2026-000001/abc".into(),
                    source_path: "/tmp/scan.pdf".into(),
                    case_id: None,
                    total_size: 20 << 20,
                    part_size: 8 << 20,
                    sha256: Some("c".repeat(64)),
                },
            )
        })
        .unwrap();
    assert_eq!(up.state, uploads::UploadState::Pending);
    reg.write(|tx| uploads::set_provider_upload_id(tx, &up.id, Some("mpu-1")))
        .unwrap();
    for (part, size) in [(2u32, 8u64 << 20), (1, 8 << 20), (2, 8 << 20)] {
        reg.write(|tx| {
            uploads::record_part(
                tx,
                &up.id,
                &uploads::UploadPart {
                    part,
                    etag: format!("etag-{part}"),
                    size,
                },
            )
        })
        .unwrap();
    }
    drop(reg);
    let mut reg = Registry::open(t.path().join("registry.sqlite3")).unwrap();
    let open = uploads::open(&reg.db()).unwrap();
    assert_eq!(open.len(), 1);
    let u = &open[0];
    assert_eq!(u.provider_upload_id.as_deref(), Some("mpu-1"));
    assert_eq!(
        u.parts_done.iter().map(|p| p.part).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(u.bytes_done(), 16 << 20);
    assert_eq!(u.state, uploads::UploadState::Uploading);
    reg.write(|tx| uploads::set_state(tx, &u.id, uploads::UploadState::Completed, None))
        .unwrap();
    assert!(uploads::open(&reg.db()).unwrap().is_empty());
    reg.write(|tx| uploads::remove(tx, &u.id)).unwrap();
    assert_eq!(
        code(reg.write(|tx| uploads::remove(tx, &u.id))),
        "not_found"
    );
}

#[test]
fn backup_catalogue_and_holds() {
    let (_t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    let created = timestamp::now() + time::Duration::seconds(1);
    let nb = |id: &str| backups::NewBackup {
        id: id.into(),
        station: "st-1".into(),
        created_at: created,
        cases: 1,
        documents: 0,
        audit_records: 1,
        schema_version: SCHEMA_VERSION,
        key_id: "key-1".into(),
    };
    reg.write(|tx| backups::begin(tx, &nb("b1"))).unwrap();
    assert_eq!(
        code(reg.write(|tx| backups::begin(tx, &nb("b1")))),
        "already_exists"
    );
    reg.write(|tx| backups::begin(tx, &nb("b2"))).unwrap();
    let b = reg
        .write(|tx| backups::complete(tx, "b1", 4096, &"d".repeat(64), Some("/x/b1.srb")))
        .unwrap();
    assert_eq!(b.state, backups::BackupState::Complete);
    assert!(!b.is_good(), "not verified yet");
    reg.write(|tx| backups::mark_verified(tx, "b1", timestamp::now()))
        .unwrap();
    reg.write(|tx| backups::fail(tx, "b2", "disk full"))
        .unwrap();
    assert_eq!(
        code(reg.write(|tx| backups::mark_verified(tx, "b2", timestamp::now()))),
        "constraint_violated"
    );
    let good = backups::good(&reg.db()).unwrap();
    assert_eq!(
        good.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["b1"]
    );

    reg.write(|tx| holds::set(tx, "2026-000001", None, &actor()))
        .unwrap();
    let b1 = backups::require(&reg.db(), "b1").unwrap();
    assert!(b1.held);
    assert_eq!(
        backups::holding_cases(&reg.db(), "b1").unwrap(),
        ["2026-000001"]
    );
    assert_eq!(
        code(reg.write(|tx| backups::remove(tx, "b1"))),
        "backup_held"
    );
    reg.write(|tx| holds::release(tx, "2026-000001", Some("done"), &actor()))
        .unwrap();
    reg.write(|tx| backups::remove(tx, "b1")).unwrap();
    assert_eq!(backups::list(&reg.db()).unwrap().len(), 1);
}

#[test]
fn two_processes_opening_a_new_file_migrate_it_once() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("registry.sqlite3");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            std::thread::spawn(move || Registry::open(&p).map(|r| r.schema_version().unwrap()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
}

#[test]
fn two_connections_write_one_after_the_other() {
    let (t, mut a) = fresh();
    let mut b = Registry::open(t.path().join("registry.sqlite3")).unwrap();
    let h = std::thread::spawn(move || {
        for i in 0..50 {
            b.write(|tx| cases::create(tx, &new_case(&format!("2026-1{i:05}")), &actor()))
                .unwrap();
        }
    });
    for i in 0..50 {
        a.write(|tx| cases::create(tx, &new_case(&format!("2026-2{i:05}")), &actor()))
            .unwrap();
    }
    h.join().unwrap();
    assert_eq!(a.counts().unwrap().cases, 100);
    let report = audit::verify(&a.db()).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 100);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever a case's fields, the core and the schema agree: a case the core accepts is
    /// stored verbatim; one it rejects leaves nothing behind.
    #[test]
    fn core_and_schema_agree(
        number in "[0-9]{4}-[0-9]{6}|[0-9A-Za-z -]{0,12}",
        title in "\\PC{0,220}",
        description in "[\\PC\n]{0,50}",
        officer in proptest::option::of("[A-Za-z' .-]{0,12}|[A-Za-z]{1,5}[0-9]"),
        badge in proptest::option::of("[A-Za-z0-9 _-]{0,18}"),
    ) {
        let (_t, mut reg) = fresh();
        let new = NewCase { number, title, description, officer, badge, status: None };
        let expected = cases::validate_new(&reg.db(), &new);
        let got = reg.write(|tx| cases::create(tx, &new, &actor()));
        match (expected, got) {
            (Ok(()), Ok(c)) => {
                prop_assert_eq!(&c.title, &new.title);
                prop_assert_eq!(&c.description, &new.description);
                prop_assert_eq!(reg.counts().unwrap().audit_records, 1);
            }
            (Err(e), Err(g)) => {
                prop_assert_eq!(e.code(), g.code());
                prop_assert_eq!(reg.counts().unwrap().cases, 0);
            }
            (e, g) => prop_assert!(false, "validate {:?} vs create {:?}", e, g),
        }
    }
}

#[test]
fn the_integrity_check_leaves_check_constraints_enforced() {
    let (_t, reg) = fresh();
    reg.quick_check().unwrap();
    let bypass = reg.db().conn().execute(
        "INSERT INTO cases (number, title, created_at, updated_at, created_by)
         VALUES ('not a number!', 'Theft', 'x', 'x', 'x')",
        [],
    );
    assert!(bypass.is_err(), "a CHECK constraint was not enforced");
    let on: i64 = reg
        .db()
        .conn()
        .query_row("PRAGMA ignore_check_constraints", [], |r| r.get(0))
        .unwrap();
    assert_eq!(on, 0);
}

#[test]
fn a_damaged_search_index_is_found_by_the_full_check_not_at_open() {
    let (t, mut reg) = fresh();
    reg.write(|tx| {
        for i in 0..50 {
            cases::create(tx, &new_case(&format!("2026-{i:06}")), &actor())?;
        }
        Ok(())
    })
    .unwrap();
    reg.quick_check().unwrap();
    // Scramble the search index's own records (the pages themselves stay sound).
    reg.db()
        .conn()
        .execute(
            "UPDATE cases_fts_data SET block = zeroblob(length(block)) WHERE id > 10",
            [],
        )
        .unwrap();
    let err = reg.quick_check().unwrap_err();
    assert_eq!(err.code(), "registry_corrupt", "{err}");
    assert!(err.to_string().contains("cases_fts"), "{err}");
    drop(reg);
    let p = t.path().join("registry.sqlite3");
    // Opening, a backup's snapshot and a restored copy check the structure only.
    let reg = Registry::open(&p).unwrap();
    assert_eq!(reg.counts().unwrap().cases, 50);
    drop(reg);
    Registry::open_snapshot(&p).unwrap();
}

#[test]
fn documents_are_walked_a_page_at_a_time_and_summed() {
    let (_t, mut reg) = fresh();
    add(&mut reg, "2026-000001");
    add(&mut reg, "2026-000002");
    for (case, n) in [("2026-000001", 1), ("2026-000002", 2), ("2026-000001", 3)] {
        reg.write(|tx| documents::add(tx, &doc(case, n), &actor()))
            .unwrap();
    }
    let first = reg.read(|db| documents::page_after(db, 0, 2)).unwrap();
    assert_eq!(first.len(), 2);
    assert!(first[0].id < first[1].id);
    let rest = reg
        .read(|db| documents::page_after(db, first[1].id, 2))
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].sha256, format!("{:064x}", 3));
    assert!(reg
        .read(|db| documents::page_after(db, rest[0].id, 2))
        .unwrap()
        .is_empty());
    assert_eq!(reg.read(documents::total_size).unwrap(), 1001 + 1002 + 1003);
}
