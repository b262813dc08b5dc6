//! An auditor re-verifies an export outside the app: the Python in the canonical-form comment
//! of `crates/core/src/audit.rs` (copied here verbatim) checks every hash and link of a CSV and
//! a JSON export made by the real binary, and catches an edited row.

use std::process::Command;

use strongroom_tests::cli::Station;

const VERIFY_PY: &str = r#"
import csv, hashlib, json, sys
FIELDS = ["seq","time","station","component","event","os_user","officer","outcome",
          "resource","case_number","details","prev_hash"]
def record_hash(r):
    b = b"strongroom-audit-v1\n"
    for f in FIELDS:
        v = str(r[f]).encode("utf-8")
        b += f.encode() + b":" + str(len(v)).encode() + b":" + v + b"\n"
    return hashlib.sha256(b).hexdigest()
path = sys.argv[1]
if path.endswith(".json"):
    records = json.load(open(path, encoding="utf-8"))["records"]
else:
    records = list(csv.DictReader(open(path, encoding="utf-8", newline="")))
prev = "0" * 64
for i, r in enumerate(records, start=1):
    if int(r["seq"]) != i or r["prev_hash"] != prev or record_hash(r) != r["hash"]:
        print("BAD", i)
        sys.exit(1)
    prev = r["hash"]
print("OK", len(records))
"#;

fn python_verify(path: &std::path::Path) -> (bool, String) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(VERIFY_PY)
        .arg(path)
        .output()
        .expect("python3 is installed (scripts/with-services.sh needs it too)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

#[test]
fn exports_reverify_with_the_documented_python() {
    let st = Station::new();
    // Text that stresses the canonical form: quotes, commas, new lines, non-ASCII.
    st.json(&[
        "case",
        "add",
        "--number",
        "2026-000001",
        "--title",
        "Théft, \"quoted\" <b>",
        "--description",
        "line1\nline2",
    ]);
    st.json(&[
        "case",
        "add",
        "--number",
        "2026-000002",
        "--title",
        "Bike 🚲",
    ]);
    st.json(&[
        "case",
        "delete",
        "2026-000002",
        "--reason",
        "dup, see 2026-000001",
    ]);

    for format in ["json", "csv"] {
        let path = st.dir.path().join(format!("audit.{format}"));
        st.json(&[
            "audit",
            "export",
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ]);
        let (ok, said) = python_verify(&path);
        assert!(ok, "{format}: {said}");
        assert!(said.starts_with("OK "), "{said}");

        // An auditor's copy with one edited value no longer verifies.
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("CASE_DELETED", "CASE_UPDATED", 1);
        assert_ne!(text, edited);
        let bad = st.dir.path().join(format!("edited.{format}"));
        std::fs::write(&bad, edited).unwrap();
        let (ok, said) = python_verify(&bad);
        assert!(!ok, "{format}: {said}");
        assert_eq!(said, "BAD 3", "{format}");
    }
}
