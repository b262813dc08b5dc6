//! `strongroom case …` and `strongroom audit …` through the real binary on a fresh home
//! (no `init` needed): bad input exits 1 with the field's code, good input round-trips, and a
//! tampered audit log makes `audit verify` exit 4.

use strongroom_tests::cli::Station;

const NUMBER: &str = "2026-000123";

#[test]
fn bad_case_input_exits_1_with_the_field_code() {
    let st = Station::new();
    let long_title = "t".repeat(201);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--number", "12345", "--title", "Theft"],
            "case_number_invalid",
        ),
        (
            &["--number", "2026-00012x", "--title", "Theft"],
            "case_number_invalid",
        ),
        (&["--number", NUMBER, "--title", "   "], "title_required"),
        (
            &["--number", NUMBER, "--title", &long_title],
            "title_too_long",
        ),
        (
            &["--number", NUMBER, "--title", "Theft", "--officer", "R2-D2"],
            "officer_name_invalid",
        ),
        (
            &["--number", NUMBER, "--title", "Theft", "--badge", "PC 44"],
            "badge_number_invalid",
        ),
        (
            &["--number", NUMBER, "--title", "Theft", "--status", "solved"],
            "status_invalid",
        ),
    ];
    for (args, code) in cases {
        let mut all = vec!["case", "add"];
        all.extend_from_slice(args);
        let r = st.run(&all);
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        assert_eq!(r.error_code(), Some(*code), "{args:?}: {}", r.stderr);
        assert!(
            r.stdout.is_empty(),
            "{args:?}: nothing on stdout: {}",
            r.stdout
        );
    }
    // Nothing was stored, and nothing was audited.
    assert_eq!(st.json(&["case", "list"]), serde_json::json!([]));
    assert_eq!(st.json(&["audit", "list"]), serde_json::json!([]));
}

#[test]
fn errors_are_json_on_stderr_with_json() {
    let st = Station::new();
    let r = st.run(&["--json", "case", "add", "--number", "x", "--title", "Theft"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    let err: serde_json::Value = serde_json::from_str(r.stderr.trim()).unwrap();
    assert_eq!(err["error"]["code"], "case_number_invalid");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2026-000123"));
}

#[test]
fn usage_errors_exit_2() {
    let st = Station::new();
    let r = st.run(&["case", "add", "--title", "no number"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn a_good_case_round_trips_through_show_json() {
    let st = Station::new();
    let title = "Burglary <script>alert(1)</script> & \"quotes\"; DROP TABLE cases;--";
    let description = "Rear window forced.\nÜnïcødé 🚓 'single' \"double\"";
    let added = st.json(&[
        "case",
        "add",
        "--number",
        NUMBER,
        "--title",
        title,
        "--officer",
        "Jane O'Neil",
        "--badge",
        "PC-4471",
        "--description",
        description,
        "--status",
        "under_investigation",
    ]);
    assert_eq!(added["number"], NUMBER);
    let shown = st.json(&["case", "show", NUMBER]);
    for field in [
        "id",
        "number",
        "title",
        "description",
        "officer",
        "badge",
        "status",
        "created_at",
        "updated_at",
        "created_by",
        "held",
    ] {
        assert_eq!(shown[field], added[field], "{field}");
    }
    assert_eq!(shown["title"], title, "free text is stored verbatim");
    assert_eq!(shown["description"], description);
    assert_eq!(shown["officer"], "Jane O'Neil");
    assert_eq!(shown["badge"], "PC-4471");
    assert_eq!(shown["status"], "under_investigation");
    assert_eq!(shown["held"], false);
    assert_eq!(shown["documents"], serde_json::json!([]));

    // The same number again is refused.
    let r = st.run(&["case", "add", "--number", NUMBER, "--title", "Again"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.error_code(), Some("case_number_taken"));

    // An unknown case is not found.
    let r = st.run(&["case", "show", "2026-999999"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.error_code(), Some("not_found"));
}

#[test]
fn list_filters_and_searches() {
    let st = Station::new();
    for (n, t) in [
        ("2026-000001", "Stolen bicycle"),
        ("2026-000002", "Burglary at the bakery"),
        ("2026-000003", "Graffiti at the bakery"),
    ] {
        st.json(&["case", "add", "--number", n, "--title", t]);
    }
    st.json(&[
        "case",
        "status",
        "2026-000003",
        "--to",
        "under_investigation",
    ]);
    let all = st.json(&["case", "list"]);
    assert_eq!(all.as_array().unwrap().len(), 3);
    let bakery = st.json(&["case", "list", "--search", "bakery"]);
    let mut numbers: Vec<&str> = bakery
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["2026-000002", "2026-000003"]);
    let ui = st.json(&["case", "list", "--status", "under_investigation"]);
    assert_eq!(ui.as_array().unwrap().len(), 1);
    assert_eq!(ui[0]["number"], "2026-000003");
    let paged = st.json(&["case", "list", "--limit", "2", "--offset", "2"]);
    assert_eq!(paged.as_array().unwrap().len(), 1);
    // A reopening without a reason is refused with its code.
    st.json(&["case", "status", "2026-000003", "--to", "closed"]);
    let r = st.run(&["case", "status", "2026-000003", "--to", "open"]);
    assert_eq!(r.error_code(), Some("reason_required"), "{r:?}");
    let r = st.run(&["case", "status", "2026-000001", "--to", "archived"]);
    assert_eq!(r.error_code(), Some("status_transition_invalid"), "{r:?}");
}

#[test]
fn audit_records_case_events_under_the_unregistered_station() {
    let st = Station::new();
    st.json(&["case", "add", "--number", NUMBER, "--title", "Theft"]);
    st.json(&["case", "delete", NUMBER, "--reason", "entered twice"]);
    let records = st.json(&["audit", "list"]);
    let events: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["CASE_CREATED", "CASE_DELETED"]);
    assert_eq!(records[0]["station"], "unregistered");
    assert_eq!(records[0]["component"], "cli");
    assert_eq!(records[0]["case_number"], NUMBER);
    let by_event = st.json(&["audit", "list", "--event", "case_deleted"]);
    assert_eq!(by_event.as_array().unwrap().len(), 1);
    let r = st.run(&["audit", "list", "--from", "last tuesday"]);
    assert_eq!(r.error_code(), Some("time_invalid"));
    let verify = st.json(&["audit", "verify"]);
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["events"], 2);
    assert_eq!(verify["first_bad"], serde_json::Value::Null);
}

fn tamper(st: &Station, sql: &str) {
    let c = rusqlite::Connection::open(st.home().join("registry.sqlite3")).unwrap();
    c.execute_batch(
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;",
    )
    .unwrap();
    c.execute_batch(sql).unwrap();
}

#[test]
fn audit_verify_exits_4_when_the_chain_is_broken() {
    for (what, sql, first_bad) in [
        ("edit", "UPDATE audit SET outcome = 'failure' WHERE seq = 2", 2),
        ("delete", "DELETE FROM audit WHERE seq = 2", 2),
        (
            "reorder",
            "UPDATE audit SET seq = -1 WHERE seq = 1; UPDATE audit SET seq = 1 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -1;",
            1,
        ),
    ] {
        let st = Station::new();
        for i in 1..=4 {
            st.json(&["case", "add", "--number", &format!("2026-00000{i}"), "--title", "Theft"]);
        }
        tamper(&st, sql);
        let r = st.run(&["--json", "audit", "verify"]);
        assert_eq!(r.code, 4, "{what}: {r:?}");
        let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(report["ok"], false, "{what}");
        assert_eq!(report["first_bad"], first_bad, "{what}");
        let err: serde_json::Value = serde_json::from_str(r.stderr.trim()).unwrap();
        assert_eq!(err["error"]["code"], "audit_chain_broken", "{what}");
        let human = st.run(&["audit", "verify"]);
        assert_eq!(human.code, 4);
        assert_eq!(human.error_code(), Some("audit_chain_broken"));
    }
}

#[test]
fn audit_export_writes_verifiable_csv_and_json() {
    let st = Station::new();
    for i in 1..=3 {
        st.json(&[
            "case",
            "add",
            "--number",
            &format!("2026-00000{i}"),
            "--title",
            "Theft",
        ]);
    }
    let json_path = st.dir.path().join("audit.json");
    let res = st.json(&[
        "audit",
        "export",
        "--format",
        "json",
        "--out",
        json_path.to_str().unwrap(),
    ]);
    assert_eq!(res["events"], 3);
    let text = std::fs::read_to_string(&json_path).unwrap();
    let report = strongroom_core::audit::verify_json_export(&text).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 3);

    let csv_path = st.dir.path().join("audit.csv");
    let res = st.json(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!(res["events"], 4, "the JSON export itself was audited");
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",prev_hash,hash"));
    assert_eq!(lines.count(), 4);
    assert!(csv.contains("AUDIT_EXPORTED"));

    let r = st.run(&["audit", "export", "--format", "xml", "--out", "x"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.error_code(), Some("format_invalid"));
}

#[test]
fn a_damaged_registry_is_reported_with_exit_4() {
    let st = Station::new();
    std::fs::create_dir_all(st.home()).unwrap();
    std::fs::write(st.home().join("registry.sqlite3"), vec![0x5a; 64 * 1024]).unwrap();
    let r = st.run(&["case", "list"]);
    assert_eq!(r.error_code(), Some("registry_corrupt"), "{r:?}");
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("backup"), "{}", r.stderr);
}

#[test]
fn edit_changes_validated_fields_and_audits_them() {
    let st = Station::new();
    st.json(&[
        "case", "add", "--number", NUMBER, "--title", "Theft", "--badge", "PC-1",
    ]);
    let r = st.run(&["case", "edit", NUMBER, "--officer", "Agent 007"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.error_code(), Some("officer_name_invalid"));
    let c = st.json(&[
        "case",
        "edit",
        NUMBER,
        "--title",
        "Theft of a van",
        "--badge",
        "",
    ]);
    assert_eq!(c["title"], "Theft of a van");
    assert_eq!(c["badge"], serde_json::Value::Null);
    let updates = st.json(&["audit", "list", "--event", "CASE_UPDATED", "--case", NUMBER]);
    assert_eq!(updates.as_array().unwrap().len(), 1);
    let details: serde_json::Value =
        serde_json::from_str(updates[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["changed"], serde_json::json!(["title", "badge"]));
}

#[test]
fn an_initialised_station_names_itself_in_the_audit_log() {
    let st = Station::new();
    std::fs::create_dir_all(st.home()).unwrap();
    let station = strongroom_core::station::Station::new("Northgate");
    station
        .save(&strongroom_core::paths::Home::at(st.home()))
        .unwrap();
    st.json(&["case", "add", "--number", NUMBER, "--title", "Theft"]);
    let records = st.json(&["audit", "list"]);
    assert_eq!(records[0]["station"], station.id.as_str());
}
