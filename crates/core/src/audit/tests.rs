//! The audit log: append-only, and every kind of tampering made directly in the SQLite file
//! (with the triggers dropped first, as an attacker would) is caught by `verify`.

use proptest::prelude::*;
use rusqlite::{params, Connection};
use serde_json::json;

use super::*;
use crate::registry::Registry;

fn fresh_with(n: usize) -> (tempfile::TempDir, Registry) {
    let t = tempfile::tempdir().unwrap();
    let mut reg = Registry::open(t.path().join("registry.sqlite3")).unwrap();
    let actor = Actor::new(&Station::unregistered(), "test");
    reg.write(|tx| {
        for i in 0..n {
            append(
                tx,
                &actor,
                &AuditEvent::new(if i % 2 == 0 {
                    EventType::BackupCreated
                } else {
                    EventType::BackupVerified
                })
                .resource(format!("backup/b{i}"))
                .details(json!({ "i": i, "size": 1000 + i })),
            )?;
        }
        Ok(())
    })
    .unwrap();
    (t, reg)
}

/// The attacker's connection: straight to the file, triggers gone.
fn attacker(reg: &Registry) -> Connection {
    let c = Connection::open(reg.path()).unwrap();
    c.execute_batch(
        "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; DROP TRIGGER audit_links_to_last;",
    )
    .unwrap();
    c
}

fn verify_reg(reg: &Registry) -> VerifyReport {
    verify(&reg.db()).unwrap()
}

fn record(reg: &Registry, seq: i64) -> AuditRecord {
    list(
        &reg.db(),
        &AuditFilter {
            limit: 0,
            ..Default::default()
        },
    )
    .unwrap()
    .into_iter()
    .find(|r| r.seq == seq)
    .unwrap()
}

#[test]
fn an_untouched_chain_verifies() {
    let (_t, reg) = fresh_with(10);
    let r = verify_reg(&reg);
    assert!(r.ok, "{r:?}");
    assert_eq!(r.events, 10);
    assert_eq!(r.first_bad, None);
    let head = r.head.clone().unwrap();
    assert_eq!(head, super::head(&reg.db()).unwrap().unwrap());
    assert_eq!(head.events, 10);
    assert!(verify_against(&reg.db(), &head).unwrap().ok);
    assert!(r.into_result().is_ok());
}

#[test]
fn an_empty_log_verifies() {
    let (_t, reg) = fresh_with(0);
    let r = verify_reg(&reg);
    assert!(r.ok);
    assert_eq!(r.events, 0);
}

#[test]
fn records_are_chained_and_hashes_match_the_documented_form() {
    let (_t, reg) = fresh_with(3);
    let r1 = record(&reg, 1);
    let r2 = record(&reg, 2);
    assert_eq!(r1.prev_hash, GENESIS_HASH);
    assert_eq!(r2.prev_hash, r1.hash);
    // The canonical form, written out by hand as an outside auditor would.
    let mut canon = String::from("strongroom-audit-v1\n");
    for (k, v) in [
        ("seq", "1"),
        ("time", r1.time.as_str()),
        ("station", "unregistered"),
        ("component", "test"),
        ("event", "BACKUP_CREATED"),
        ("os_user", r1.os_user.as_str()),
        ("officer", ""),
        ("outcome", "success"),
        ("resource", "backup/b0"),
        ("case_number", ""),
        ("details", r#"{"i":0,"size":1000}"#),
        ("prev_hash", GENESIS_HASH),
    ] {
        canon.push_str(&format!("{k}:{}:{v}\n", v.len()));
    }
    assert_eq!(hex::encode(Sha256::digest(canon.as_bytes())), r1.hash);
    assert_eq!(r1.time.len(), 27);
}

#[test]
fn the_triggers_reject_update_and_delete() {
    let (_t, reg) = fresh_with(3);
    let c = Connection::open(reg.path()).unwrap();
    for stmt in [
        "UPDATE audit SET outcome = 'failure' WHERE seq = 2",
        "DELETE FROM audit WHERE seq = 3",
        "DELETE FROM audit",
    ] {
        let err = crate::registry::sql(c.execute(stmt, []).unwrap_err());
        assert_eq!(err.code(), "audit_append_only", "{stmt}");
    }
    // An insert that does not link to the last record is refused too.
    let r3 = record(&reg, 3);
    let err = c
        .execute(
            "INSERT INTO audit (seq, time, station, component, event, os_user, outcome, details, prev_hash, hash)
             VALUES (4, 'x', 's', 'c', 'CASE_CREATED', 'u', 'success', '{}', ?1, ?2)",
            params![GENESIS_HASH, "f".repeat(64)],
        )
        .unwrap_err();
    assert_eq!(crate::registry::sql(err).code(), "audit_append_only");
    let err = c
        .execute(
            "INSERT INTO audit (seq, time, station, component, event, os_user, outcome, details, prev_hash, hash)
             VALUES (9, 'x', 's', 'c', 'CASE_CREATED', 'u', 'success', '{}', ?1, ?2)",
            params![r3.hash, "f".repeat(64)],
        )
        .unwrap_err();
    assert_eq!(crate::registry::sql(err).code(), "audit_append_only");
    assert!(verify_reg(&reg).ok);
}

#[test]
fn an_edited_record_is_detected() {
    let (_t, reg) = fresh_with(10);
    attacker(&reg)
        .execute("UPDATE audit SET outcome = 'failure' WHERE seq = 4", [])
        .unwrap();
    let r = verify_reg(&reg);
    assert!(!r.ok);
    assert_eq!(r.first_bad, Some(4));
    assert_eq!(r.events, 10);
    let err = r.into_result().unwrap_err();
    assert_eq!(err.code(), "audit_chain_broken");
    assert!(err.is_verification_failure());
}

#[test]
fn an_edit_with_a_recomputed_hash_is_detected_at_the_next_record() {
    let (_t, reg) = fresh_with(10);
    let mut r4 = record(&reg, 4);
    r4.details = r#"{"i":3,"size":1}"#.into();
    r4.hash = r4.compute_hash();
    attacker(&reg)
        .execute(
            "UPDATE audit SET details = ?1, hash = ?2 WHERE seq = 4",
            params![r4.details, r4.hash],
        )
        .unwrap();
    assert_eq!(verify_reg(&reg).first_bad, Some(5));
}

#[test]
fn an_edited_time_or_user_is_detected() {
    for col in ["time", "station", "os_user", "event", "case_number"] {
        let (_t, reg) = fresh_with(5);
        attacker(&reg)
            .execute(
                &format!("UPDATE audit SET {col} = {col} || 'X' WHERE seq = 2"),
                [],
            )
            .unwrap();
        assert_eq!(verify_reg(&reg).first_bad, Some(2), "{col}");
    }
}

#[test]
fn a_deleted_record_is_detected() {
    let (_t, reg) = fresh_with(10);
    attacker(&reg)
        .execute("DELETE FROM audit WHERE seq = 6", [])
        .unwrap();
    let r = verify_reg(&reg);
    assert!(!r.ok);
    assert_eq!(r.first_bad, Some(6));
    assert_eq!(r.events, 9);
}

#[test]
fn deleting_the_newest_records_is_detected() {
    let (_t, reg) = fresh_with(10);
    attacker(&reg)
        .execute("DELETE FROM audit WHERE seq >= 9", [])
        .unwrap();
    let r = verify_reg(&reg);
    assert_eq!(r.first_bad, Some(9), "{r:?}");
}

#[test]
fn deleting_the_first_record_is_detected() {
    let (_t, reg) = fresh_with(5);
    attacker(&reg)
        .execute("DELETE FROM audit WHERE seq = 1", [])
        .unwrap();
    assert_eq!(verify_reg(&reg).first_bad, Some(1));
}

#[test]
fn an_inserted_record_is_detected() {
    // In the middle: renumber the later records to make room, then insert a forged one that
    // links correctly to its predecessor and carries a correct hash of its own.
    let (_t, reg) = fresh_with(10);
    let r5 = record(&reg, 5);
    let c = attacker(&reg);
    c.execute("UPDATE audit SET seq = seq + 1000 WHERE seq > 5", [])
        .unwrap();
    c.execute("UPDATE audit SET seq = seq - 999 WHERE seq > 1000", [])
        .unwrap();
    let mut forged = AuditRecord {
        seq: 6,
        time: r5.time.clone(),
        event: "BACKUP_DELETED".into(),
        prev_hash: r5.hash.clone(),
        details: "{}".into(),
        hash: String::new(),
        ..r5.clone()
    };
    forged.hash = forged.compute_hash();
    c.execute(
        "INSERT INTO audit (seq, time, station, component, event, os_user, officer, outcome, resource, case_number, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![forged.seq, forged.time, forged.station, forged.component, forged.event, forged.os_user,
                forged.officer, forged.outcome, forged.resource, forged.case_number, forged.details,
                forged.prev_hash, forged.hash],
    )
    .unwrap();
    let r = verify_reg(&reg);
    assert_eq!(r.events, 11);
    assert_eq!(r.first_bad, Some(7), "{r:?}");
}

#[test]
fn an_appended_record_with_a_wrong_hash_is_detected() {
    let (_t, reg) = fresh_with(4);
    let r4 = record(&reg, 4);
    attacker(&reg)
        .execute(
            "INSERT INTO audit (seq, time, station, component, event, os_user, outcome, details, prev_hash, hash)
             VALUES (5, ?1, 's', 'c', 'CASE_CREATED', 'u', 'success', '{}', ?2, ?3)",
            params![r4.time, r4.hash, "e".repeat(64)],
        )
        .unwrap();
    assert_eq!(verify_reg(&reg).first_bad, Some(5));
}

#[test]
fn reordered_records_are_detected() {
    let (_t, reg) = fresh_with(10);
    let c = attacker(&reg);
    // Swap records 3 and 7 by their sequence numbers.
    c.execute_batch(
        "UPDATE audit SET seq = -3 WHERE seq = 3;
         UPDATE audit SET seq = 3 WHERE seq = 7;
         UPDATE audit SET seq = 7 WHERE seq = -3;",
    )
    .unwrap();
    assert_eq!(verify_reg(&reg).first_bad, Some(3));
}

#[test]
fn swapped_contents_are_detected() {
    // Swap every column but seq between two adjacent rows (a reordering that keeps seq).
    let (_t, reg) = fresh_with(6);
    let a = record(&reg, 2);
    let b = record(&reg, 3);
    let c = attacker(&reg);
    c.execute(
        "UPDATE audit SET hash = ?1 WHERE seq = 3",
        params!["1".repeat(64)],
    )
    .unwrap();
    for (seq, r) in [(2, &b), (3, &a)] {
        c.execute(
            "UPDATE audit SET time = ?2, event = ?3, resource = ?4, details = ?5, prev_hash = ?6, hash = ?7 WHERE seq = ?1",
            params![seq, r.time, r.event, r.resource, r.details, r.prev_hash, r.hash],
        )
        .unwrap();
    }
    assert_eq!(verify_reg(&reg).first_bad, Some(2));
}

#[test]
fn a_rewritten_chain_is_caught_by_an_anchor() {
    let (_t, reg) = fresh_with(6);
    let anchor = head(&reg.db()).unwrap().unwrap();
    // Rewrite record 6 and recompute its hash: internally consistent (it is the last one).
    let mut r6 = record(&reg, 6);
    r6.outcome = "failure".into();
    r6.hash = r6.compute_hash();
    attacker(&reg)
        .execute(
            "UPDATE audit SET outcome = ?1, hash = ?2 WHERE seq = 6",
            params![r6.outcome, r6.hash],
        )
        .unwrap();
    assert!(verify_reg(&reg).ok, "undetectable without an anchor");
    let r = verify_against(&reg.db(), &anchor).unwrap();
    assert!(!r.ok);
    assert_eq!(r.first_bad, Some(6));
}

#[test]
fn list_filters_and_pages() {
    let (_t, mut reg) = fresh_with(0);
    let actor = Actor::new(&Station::unregistered(), "test");
    let t0 = crate::registry::timestamp::parse("2026-01-01T00:00:00Z").unwrap();
    reg.write(|tx| {
        for i in 0..30i64 {
            let ev = AuditEvent::new(if i % 3 == 0 {
                EventType::CaseCreated
            } else {
                EventType::BackupCreated
            })
            .outcome(if i % 5 == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            });
            let ev = if i % 3 == 0 {
                ev.case(&format!("2026-{:06}", i % 2))
            } else {
                ev
            };
            append_at(tx, &actor, &ev, t0 + time::Duration::days(i))?;
        }
        Ok(())
    })
    .unwrap();
    let db = reg.db();
    let all = list(&db, &AuditFilter::default()).unwrap();
    assert_eq!(all.len(), 30);
    let by_event = list(
        &db,
        &AuditFilter {
            event: Some("CASE_CREATED".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by_event.len(), 10);
    let by_case = list(
        &db,
        &AuditFilter {
            case: Some("2026-000000".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by_case.len(), 5);
    assert!(by_case.iter().all(|r| r.case_number == "2026-000000"));
    let failures = list(
        &db,
        &AuditFilter {
            outcome: Some(Outcome::Failure),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(failures.len(), 6);
    let window = list(
        &db,
        &AuditFilter {
            from: Some(t0 + time::Duration::days(10)),
            to: Some(t0 + time::Duration::days(20)),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        window.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (11..=20).collect::<Vec<_>>()
    );
    let page = list(
        &db,
        &AuditFilter {
            limit: 7,
            offset: 7,
            newest_first: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (17..=23).rev().collect::<Vec<_>>()
    );
}

#[test]
fn json_export_reverifies_outside_the_registry() {
    let (_t, reg) = fresh_with(12);
    let mut buf = Vec::new();
    let n = export(
        &reg.db(),
        &AuditFilter::default(),
        ExportFormat::Json,
        &mut buf,
    )
    .unwrap();
    assert_eq!(n, 12);
    let text = String::from_utf8(buf).unwrap();
    let report = verify_json_export(&text).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 12);
    // The export carries each record's hash; altering one in the file is caught.
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], CANONICAL_VERSION);
    assert_eq!(doc["records"][0]["hash"], record(&reg, 1).hash);
    let tampered = text.replacen("BACKUP_VERIFIED", "BACKUP_FAILED", 1);
    assert_eq!(verify_json_export(&tampered).unwrap().first_bad, Some(2));
}

#[test]
fn csv_export_has_every_field_and_hash() {
    let (_t, reg) = fresh_with(5);
    let mut buf = Vec::new();
    export(
        &reg.db(),
        &AuditFilter::default(),
        ExportFormat::Csv,
        &mut buf,
    )
    .unwrap();
    let mut rd = csv::Reader::from_reader(buf.as_slice());
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, CSV_HEADER);
    let mut v = ChainVerifier::new();
    let mut rows = 0;
    for row in rd.records() {
        let row = row.unwrap();
        let rec = AuditRecord {
            seq: row[0].parse().unwrap(),
            time: row[1].into(),
            station: row[2].into(),
            component: row[3].into(),
            event: row[4].into(),
            os_user: row[5].into(),
            officer: row[6].into(),
            outcome: row[7].into(),
            resource: row[8].into(),
            case_number: row[9].into(),
            details: row[10].into(),
            prev_hash: row[11].into(),
            hash: row[12].into(),
        };
        v.push(&rec);
        rows += 1;
    }
    assert_eq!(rows, 5);
    assert!(v.finish().ok);
}

#[test]
fn event_and_outcome_names() {
    for e in EventType::ALL {
        assert_eq!(EventType::parse(e.as_str()).unwrap(), e);
        assert_eq!(
            serde_json::to_value(e).unwrap(),
            serde_json::Value::String(e.as_str().into())
        );
    }
    assert_eq!(
        EventType::parse("case_created").unwrap(),
        EventType::CaseCreated
    );
    assert_eq!(
        EventType::parse("NOPE").unwrap_err().code(),
        "event_invalid"
    );
    assert_eq!(Outcome::parse("CRITICAL").unwrap(), Outcome::Critical);
    assert_eq!(Outcome::parse("meh").unwrap_err().code(), "outcome_invalid");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any single-field change to any record, or any deletion, is caught at that record.
    #[test]
    fn any_tampering_is_caught(n in 2usize..12, pick in 0usize..100, col in 0usize..5, delete in any::<bool>()) {
        let (_t, reg) = fresh_with(n);
        let seq = (pick % n) as i64 + 1;
        let c = attacker(&reg);
        if delete {
            c.execute("DELETE FROM audit WHERE seq = ?1", params![seq]).unwrap();
        } else {
            let column = ["time", "resource", "details", "outcome", "officer"][col];
            let value = match column {
                "details" => "{\"x\":1}",
                "outcome" => "failure",
                _ => "tampered",
            };
            c.execute(&format!("UPDATE audit SET {column} = ?1 WHERE seq = ?2"), params![value, seq]).unwrap();
        }
        let r = verify_reg(&reg);
        prop_assert!(!r.ok);
        prop_assert_eq!(r.first_bad, Some(seq as u64));
    }

    /// The canonical form is unambiguous: moving text between adjacent fields changes the hash.
    #[test]
    fn canonical_form_is_unambiguous(a in ".{0,8}", b in ".{0,8}", split in 0usize..8) {
        let joined = format!("{a}{b}");
        let cut = joined.char_indices().nth(split).map_or(joined.len(), |(i, _)| i);
        let base = AuditRecord {
            seq: 1, time: "t".into(), station: "s".into(), component: "c".into(),
            event: "E".into(), os_user: "u".into(), officer: a.clone(), outcome: "success".into(),
            resource: b.clone(), case_number: String::new(), details: "{}".into(),
            prev_hash: GENESIS_HASH.into(), hash: String::new(),
        };
        let moved = AuditRecord {
            officer: joined[..cut].to_string(),
            resource: joined[cut..].to_string(),
            ..base.clone()
        };
        prop_assert_eq!(base.compute_hash() == moved.compute_hash(), base.officer == moved.officer);
    }
}

#[test]
fn filters_come_from_the_app_as_json() {
    let f: AuditFilter = serde_json::from_value(json!({
        "from": "2026-12-01T00:00:00Z",
        "event": "CASE_CREATED",
        "outcome": "failure",
        "limit": 25
    }))
    .unwrap();
    assert_eq!(
        f.from,
        Some(crate::registry::timestamp::parse("2026-12-01T00:00:00Z").unwrap())
    );
    assert_eq!(f.to, None);
    assert_eq!(f.outcome, Some(Outcome::Failure));
    assert_eq!(f.limit, 25);
}
