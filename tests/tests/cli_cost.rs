//! `strongroom cost` through the real binary on a local station: the estimate is made from the
//! real sizes in the registry (the good backups `backup list` shows, the documents' total).

use serde_json::Value;
use strongroom_tests::cli::{run_with_stdin, Keys, Run, Station, PASSPHRASE};
use strongroom_tests::services;

fn json(st: &Station, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let r = Run::from(st.command(&all).output().unwrap());
    assert_eq!(r.code, 0, "strongroom {args:?} failed: {}", r.stderr);
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}): {}", r.stdout))
}

#[test]
fn cost_prices_the_real_backup_and_document_sizes() {
    if services::keyring().is_none() {
        return;
    }
    let st = Station::new();
    let r = run_with_stdin(
        st.command(&[
            "--json",
            "init",
            "--passphrase-stdin",
            "--station",
            "Northgate",
        ]),
        &format!("{PASSPHRASE}\n"),
    );
    assert_eq!(r.code, 0, "init failed: {}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let _keys = Keys(v["station"].as_str().unwrap().to_string());

    json(
        &st,
        &[
            "case",
            "add",
            "--number",
            "2026-000001",
            "--title",
            "Burglary at the mill",
        ],
    );
    let file = st.home().join("statement.txt");
    std::fs::write(&file, "Witness statement, page 1.\n".repeat(500)).unwrap();
    let docs = json(
        &st,
        &[
            "doc",
            "add",
            "--case",
            "2026-000001",
            file.to_str().unwrap(),
        ],
    );
    let doc_bytes: u64 = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["size"].as_u64().unwrap())
        .sum();
    assert_eq!(doc_bytes, 27 * 500);
    json(&st, &["backup", "create"]);
    json(&st, &["backup", "create"]);

    let list = json(&st, &["backup", "list"]);
    let backup_bytes: u64 = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["verified"] == true)
        .map(|b| b["size"].as_u64().unwrap())
        .sum();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert!(backup_bytes > 2048, "{list}");

    let c = json(&st, &["cost"]);
    assert_eq!(c["provider"], "none", "{c}");
    assert_eq!(c["currency"], "USD");
    assert!(!c["as_of"].as_str().unwrap().is_empty(), "{c}");
    let items = c["items"].as_array().unwrap();
    let by = |what: &str| {
        items
            .iter()
            .find(|i| i["what"] == what)
            .unwrap_or_else(|| panic!("no {what} in {c}"))
            .clone()
    };
    let recent = by("backups (recent)");
    assert_eq!(recent["bytes"].as_u64().unwrap(), backup_bytes, "{c}");
    let gb = recent["gb"].as_f64().unwrap();
    assert!(
        (gb - backup_bytes as f64 / (1u64 << 30) as f64).abs() < 1e-6,
        "{c}"
    );
    assert_eq!(by("backups (archive)")["bytes"], 0);
    assert_eq!(by("documents")["bytes"].as_u64().unwrap(), doc_bytes, "{c}");
    for i in items {
        assert_eq!(i["price_per_gb_month"], 0.0, "local disk: {c}");
        assert_eq!(i["monthly"], 0.0);
    }
    assert_eq!(c["total_monthly"], 0.0);
    assert!(c["note"].as_str().unwrap().contains("local disk"), "{c}");

    // Human text: a small table with a total line.
    let r = Run::from(st.command(&["cost"]).output().unwrap());
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("documents") && r.stdout.contains("total"),
        "{}",
        r.stdout
    );
}
