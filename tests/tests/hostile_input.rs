//! Hostile input through the real `strongroom` binary: file names for `doc add`, download and
//! restore targets that are symbolic links, damaged and forged backup files, broken settings
//! files, case data full of SQL metacharacters (and proptest over the validation rules), and a
//! backups bucket full of foreign objects and odd keys. Each input is either accepted in a
//! sanitised form or refused with a stable `error[code]`; none makes the binary panic (exit
//! 101 / "panicked"), and nothing is written outside the places Strongroom owns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::Value;
use sha2::{Digest, Sha256};
use strongroom_tests::cli::{self, files_under, Initialised, Run};
use strongroom_tests::services;
use strongroom_tests::station::stand_in_init;

const CASE: &str = "2026-000123";

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// The binary neither panicked nor died of a signal.
fn no_panic(r: &Run, what: &str) {
    assert_ne!(r.code, 101, "{what}: the binary panicked: {r:?}");
    assert_ne!(r.code, -1, "{what}: the binary died of a signal: {r:?}");
    assert!(!r.stderr.contains("panicked"), "{what}: {r:?}");
}

/// A home made without `init` (no keyring needed), for the local document store and settings.
struct Plain {
    st: cli::Station,
}

impl Plain {
    fn new(settings: Option<&str>) -> Self {
        let st = cli::Station::new();
        stand_in_init(&st.home(), "Test", settings);
        Self { st }
    }

    fn dir(&self) -> &Path {
        self.st.dir.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.st.command(args);
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ENDPOINT_URL",
            "BACKUP_CLOUD_STORAGE_ENABLED",
            "BACKUP_CLOUD_PROVIDER",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "AZURE_STORAGE_CONNECTION_STRING",
            "AZURE_STORAGE_BLOB_ENDPOINT",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        let r = Run::from(self.command(args).output().expect("the binary runs"));
        no_panic(&r, &format!("{args:?}"));
        r
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!(r.code, 0, "strongroom {args:?} failed: {}", r.stderr);
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}): {}", r.stdout))
    }
}

/// Every path under `dir` (files and folders), relative to it.
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for e in walk(dir) {
        out.insert(e.strip_prefix(dir).unwrap().to_path_buf());
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.clone());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&p));
        }
    }
    out
}

/// Names that contain `marker` directly in `dir` (not recursive).
fn entries_with(dir: &Path, marker: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(marker))
        .collect()
}

/// The hostile file names tried by `doc add`, each with what the registry must record
/// (`None`: refused with `document_name_invalid`).
fn hostile_names() -> Vec<(String, Option<String>)> {
    let s = |x: &str| x.to_string();
    vec![
        // Traversal spelled with backslashes is one file name on Unix: it must stay a label.
        (
            s("..\\..\\evilmark-traversal.txt"),
            Some(s(".._.._evilmark-traversal.txt")),
        ),
        // Terminal escapes, BEL, tab, CR, DEL: control characters become `_`.
        (
            s("\u{1b}]0;evilmark\u{7}title.txt"),
            Some(s("_]0;evilmark_title.txt")),
        ),
        (s("tab\there.txt"), Some(s("tab_here.txt"))),
        (s("cr\rlf\n.txt"), Some(s("cr_lf_.txt"))),
        (s("del\u{7f}.txt"), Some(s("del_.txt"))),
        // Reserved Windows device names are ordinary labels here.
        (s("CON"), Some(s("CON"))),
        (s("NUL.txt"), Some(s("NUL.txt"))),
        (s("com1.pdf"), Some(s("com1.pdf"))),
        (s("LPT9.doc"), Some(s("LPT9.doc"))),
        (s("aux"), Some(s("aux"))),
        // Surrounding white space is trimmed; white space only is refused.
        (s("  padded.txt  "), Some(s("padded.txt"))),
        (s("   "), None),
        // Unicode look-alikes and a right-to-left override are kept as given.
        (s("p\u{0430}ypal.pdf"), Some(s("p\u{0430}ypal.pdf"))),
        (s("statement\u{2024}pdf"), Some(s("statement\u{2024}pdf"))),
        (
            s("invoice\u{202e}fdp.exe"),
            Some(s("invoice\u{202e}fdp.exe")),
        ),
        // The two normalisation forms of "café": two distinct names.
        (s("caf\u{e9}.txt"), Some(s("caf\u{e9}.txt"))),
        (s("cafe\u{301}.txt"), Some(s("cafe\u{301}.txt"))),
        // Names that differ only by case.
        (s("Report.txt"), Some(s("Report.txt"))),
        (s("report.txt"), Some(s("report.txt"))),
        (s("REPORT.TXT"), Some(s("REPORT.TXT"))),
        // The longest names a Linux file system allows: 255 bytes, ASCII and 3-byte UTF-8.
        (
            format!("{}.txt", "a".repeat(251)),
            Some(format!("{}.txt", "a".repeat(251))),
        ),
        ("日".repeat(85), Some("日".repeat(85))),
        // A name that looks like an option.
        (s("--help"), Some(s("--help"))),
    ]
}

#[test]
fn hostile_file_names_are_labels_the_keys_come_from_the_content_and_nothing_escapes() {
    let env = Plain::new(None);
    env.json(&["case", "add", "--number", CASE, "--title", "Hostile names"]);
    let input = env.dir().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let outside_before = tree(env.dir());
    let parent = env.dir().parent().unwrap().to_path_buf();

    let mut stored = Vec::new();
    for (i, (name, expected)) in hostile_names().into_iter().enumerate() {
        let path = input.join(&name);
        let content = format!("document {i} named {name:?}\n").into_bytes();
        std::fs::write(&path, &content).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        let r = env.run(&[
            "--json",
            "doc",
            "add",
            "--case",
            CASE,
            path.to_str().unwrap(),
        ]);
        match expected {
            None => {
                assert_eq!(r.code, 1, "{name:?}: {r:?}");
                assert_eq!(r.error_code(), None, "--json errors are JSON: {r:?}");
                let e: Value = serde_json::from_str(r.stderr.trim()).unwrap();
                assert_eq!(e["error"]["code"], "document_name_invalid", "{name:?}");
            }
            Some(want) => {
                assert_eq!(r.code, 0, "{name:?}: {r:?}");
                let docs: Value = serde_json::from_str(&r.stdout).unwrap();
                let d = &docs[0];
                let sha = sha_hex(&content);
                assert_eq!(d["name"], want.as_str(), "{name:?}: {d}");
                assert_eq!(d["sha256"], sha.as_str());
                // The key never derives from the name.
                assert_eq!(d["key"], format!("cases/{CASE}/{sha}").as_str(), "{d}");
                let recorded = d["name"].as_str().unwrap();
                assert!(!recorded.contains(['/', '\\']), "{recorded:?}");
                assert!(!recorded.chars().any(char::is_control), "{recorded:?}");
                assert!(recorded.chars().count() <= 255);
                stored.push((d["id"].as_i64().unwrap(), want, content));
            }
        }
    }

    // The human listing escapes what could drive a terminal.
    let human = env.run(&["case", "show", CASE]);
    assert_eq!(human.code, 0, "{human:?}");
    let listed = env.run(&[
        "doc",
        "add",
        "--case",
        CASE,
        input
            .join("\u{1b}]0;evilmark\u{7}title.txt")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(listed.code, 0, "{listed:?}");
    for out in [&human.stdout, &listed.stdout] {
        for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!out.contains(c), "{c:?} reaches the terminal: {out:?}");
        }
    }

    // The local documents store holds exactly cases/<case>/<sha256> for each document.
    let docs_dir = env.st.home().join("documents");
    let objects: BTreeSet<PathBuf> = files_under(&docs_dir)
        .into_iter()
        .map(|p| p.strip_prefix(&docs_dir).unwrap().to_path_buf())
        .filter(|p| !p.starts_with(".strongroom"))
        .collect();
    let expected: BTreeSet<PathBuf> = stored
        .iter()
        .map(|(_, _, c)| PathBuf::from(format!("cases/{CASE}/{}", sha_hex(c))))
        .collect();
    assert_eq!(objects, expected);

    // Nothing appeared outside the home: not beside it, not in the temp dir above it.
    let new_outside: Vec<_> = tree(env.dir())
        .difference(&outside_before)
        .filter(|p| !p.starts_with("home") && !p.starts_with("in"))
        .cloned()
        .collect();
    assert!(new_outside.is_empty(), "written outside: {new_outside:?}");
    for dir in [&parent, &input.parent().unwrap().to_path_buf()] {
        assert!(
            entries_with(dir, "evilmark").is_empty(),
            "{}",
            dir.display()
        );
    }

    // The whole case into one folder: every document once, as a plain file in that folder,
    // names that repeat ignoring case made distinct, each checked.
    let folder = env.dir().join("case-folder");
    let got = env.json(&[
        "doc",
        "get",
        "--case",
        CASE,
        "--out",
        folder.to_str().unwrap(),
    ]);
    assert_eq!(got.as_array().unwrap().len(), stored.len(), "{got}");
    let written = tree(&folder);
    assert_eq!(written.len(), stored.len(), "{written:?}");
    let lower: BTreeSet<String> = written
        .iter()
        .map(|p| p.to_string_lossy().to_lowercase())
        .collect();
    assert_eq!(lower.len(), stored.len(), "names collide ignoring case");
    for p in &written {
        assert_eq!(
            p.components().count(),
            1,
            "{p:?} is not directly in the folder"
        );
        assert!(folder.join(p).is_file());
    }
    for (id, _, content) in &stored {
        let entry = got
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == *id)
            .unwrap();
        let path = PathBuf::from(entry["path"].as_str().unwrap());
        assert!(path.starts_with(&folder), "{path:?}");
        assert_eq!(&std::fs::read(&path).unwrap(), content);
    }
}

#[test]
fn a_case_folder_download_never_puts_two_documents_in_one_file() {
    let env = Plain::new(None);
    env.json(&[
        "case",
        "add",
        "--number",
        CASE,
        "--title",
        "Colliding names",
    ]);
    let long = format!("{}.txt", "a".repeat(251));
    // (folder, name): the same long name twice, from two folders; a name that is another's
    // renamed form; names Windows cannot hold.
    let files = [
        ("one", "Report.txt"),
        ("one", "report-3.txt"),
        ("one", "report.txt"),
        ("one", long.as_str()),
        ("two", long.as_str()),
        ("one", "CON"),
        ("one", "nul.txt"),
        ("one", "a:b?.txt"),
        ("one", "end."),
    ];
    let mut contents = Vec::new();
    for (i, (dir, name)) in files.iter().enumerate() {
        let p = env.dir().join(dir).join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let content = format!("document {i}\n").into_bytes();
        std::fs::write(&p, &content).unwrap();
        let d = env.json(&["doc", "add", "--case", CASE, p.to_str().unwrap()]);
        assert_eq!(d[0]["id"], i as i64 + 1, "ids in order: {d}");
        contents.push(content);
    }
    let folder = env.dir().join("out");
    let got = env.json(&[
        "doc",
        "get",
        "--case",
        CASE,
        "--out",
        folder.to_str().unwrap(),
    ]);
    let paths: BTreeSet<String> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        paths.len(),
        files.len(),
        "two documents share a file: {got}"
    );
    let written: BTreeSet<String> = tree(&folder)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(written.len(), files.len(), "{written:?}");
    for name in [
        "_CON",
        "_nul.txt",
        "a_b_.txt",
        "end._",
        "report-3.txt",
        "Report.txt",
    ] {
        assert!(written.contains(name), "{name} not in {written:?}");
    }
    assert!(written.iter().all(|n| n.len() <= 255), "{written:?}");
    for d in got.as_array().unwrap() {
        let i = d["id"].as_u64().unwrap() as usize - 1;
        let bytes = std::fs::read(d["path"].as_str().unwrap()).unwrap();
        assert_eq!(bytes, contents[i], "{d}");
    }
}

#[test]
fn odd_paths_to_doc_add_are_refused_with_a_code() {
    let env = Plain::new(None);
    env.json(&["case", "add", "--number", CASE, "--title", "Odd paths"]);
    let sub = env.dir().join("in").join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(env.dir().join("in").join("plain.txt"), b"plain").unwrap();

    // A relative path climbing with ../ is the file it names, recorded by its last component.
    let mut cmd = env.command(&["--json", "doc", "add", "--case", CASE, "../plain.txt"]);
    cmd.current_dir(&sub);
    let r = Run::from(cmd.output().unwrap());
    no_panic(&r, "../plain.txt");
    assert_eq!(r.code, 0, "{r:?}");
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(d[0]["name"], "plain.txt");
    assert_eq!(
        d[0]["key"],
        format!("cases/{CASE}/{}", sha_hex(b"plain")).as_str()
    );

    let long = sub.join("x".repeat(4000));
    let deep = {
        // A path of about 4,000 characters made of 250-character folders.
        let mut p = env.dir().join("deep");
        while p.as_os_str().len() < 3700 {
            p = p.join("d".repeat(250));
        }
        std::fs::create_dir_all(&p).unwrap();
        let f = p.join("deep.txt");
        std::fs::write(&f, b"deep").unwrap();
        f
    };
    assert!(deep.as_os_str().len() > 3700);
    let r = env.run(&[
        "--json",
        "doc",
        "add",
        "--case",
        CASE,
        deep.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(d[0]["name"], "deep.txt");

    let cases: &[(&str, &[&str])] = &[
        (long.to_str().unwrap(), &["io_error"]),
        ("/", &["document_not_a_file", "document_name_invalid"]),
        ("..", &["document_not_a_file", "document_name_invalid"]),
        (sub.to_str().unwrap(), &["document_not_a_file"]),
        ("/dev/null", &["document_not_a_file"]),
        ("/nonexistent/evilmark", &["io_error"]),
    ];
    for (path, codes) in cases {
        let mut cmd = env.command(&["doc", "add", "--case", CASE, path]);
        cmd.current_dir(&sub);
        let r = Run::from(cmd.output().unwrap());
        no_panic(&r, path);
        assert_eq!(r.code, 1, "{path:.60}: {r:?}");
        let code = r.error_code().unwrap_or_default().to_string();
        assert!(codes.contains(&code.as_str()), "{path:.60}: {r:?}");
    }
    // A case that does not exist, and a case number that is SQL.
    let plain = env.dir().join("in").join("plain.txt");
    for case in ["2026-999999", "1' OR '1'='1"] {
        let r = env.run(&["doc", "add", "--case", case, plain.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            matches!(r.error_code(), Some("not_found" | "case_number_invalid")),
            "{r:?}"
        );
    }
    let docs_dir = env.st.home().join("documents");
    assert_eq!(
        files_under(&docs_dir)
            .iter()
            .filter(|p| !p
                .strip_prefix(&docs_dir)
                .unwrap()
                .starts_with(".strongroom"))
            .count(),
        2,
        "only the two good files were stored"
    );
}

#[test]
fn downloads_never_follow_a_symlink() {
    let env = Plain::new(None);
    env.json(&["case", "add", "--number", CASE, "--title", "Links"]);
    let f = env.dir().join("exhibit.txt");
    std::fs::write(&f, b"exhibit A").unwrap();
    let doc = env.json(&["doc", "add", "--case", CASE, f.to_str().unwrap()]);
    let id = doc[0]["id"].to_string();

    let precious = env.dir().join("precious");
    std::fs::write(&precious, b"keep me").unwrap();
    let to_file = env.dir().join("link-to-file");
    std::os::unix::fs::symlink(&precious, &to_file).unwrap();
    let dangling = env.dir().join("dangling");
    let dangling_target = env.dir().join("evilmark-created");
    std::os::unix::fs::symlink(&dangling_target, &dangling).unwrap();
    let elsewhere = env.dir().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let to_dir = env.dir().join("link-to-dir");
    std::os::unix::fs::symlink(&elsewhere, &to_dir).unwrap();

    for out in [&to_file, &dangling] {
        let r = env.run(&["doc", "get", &id, "--out", out.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{r:?}");
        assert_eq!(r.error_code(), Some("out_path_symlink"), "{r:?}");
    }
    let r = env.run(&[
        "doc",
        "get",
        "--case",
        CASE,
        "--out",
        to_dir.to_str().unwrap(),
    ]);
    assert_eq!(r.error_code(), Some("out_path_symlink"), "{r:?}");
    // A link inside the case folder, where a document would land.
    let folder = env.dir().join("folder");
    std::fs::create_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink(&precious, folder.join("exhibit.txt")).unwrap();
    let r = env.run(&[
        "doc",
        "get",
        "--case",
        CASE,
        "--out",
        folder.to_str().unwrap(),
    ]);
    assert_eq!(r.error_code(), Some("out_path_symlink"), "{r:?}");

    assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
    assert!(!dangling_target.exists());
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

/// What the live registry holds, as the officer sees it: every case, and whether the audit
/// chain verifies.
fn live_state(s: &Initialised) -> (Value, bool) {
    let cases = s.json(&["case", "list", "--limit", "1000"]);
    let v = s.run(&["--json", "audit", "verify"]);
    (cases, v.code == 0)
}

fn registry_integrity_ok(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok");
}

/// The codes a damaged or forged backup may be refused with.
const BACKUP_REFUSALS: &[&str] = &[
    "backup_corrupt",
    "backup_truncated",
    "backup_reordered",
    "backup_foreign_key",
    "format_unsupported",
    "not_a_backup",
    "key_missing",
];

/// Puts `bytes` where backup `id`'s local copy is and checks that `backup restore` and `backup
/// verify` refuse it with a stable code and exit 4, leaving the live registry as it was.
/// Returns the restore's code.
fn refused(
    s: &Initialised,
    id: &str,
    local: &Path,
    bytes: &[u8],
    what: &str,
    before: &(Value, bool),
) -> String {
    std::fs::write(local, bytes).unwrap();
    let started = Instant::now();
    let r = s.run(&["backup", "restore", id, "--yes", "--reason", "hostile test"]);
    no_panic(&r, what);
    let code = r.error_code().unwrap_or_default().to_string();
    assert!(
        BACKUP_REFUSALS.contains(&code.as_str()),
        "{what}: restore said {r:?}"
    );
    // Exit 4 for a file that fails verification; a format this version cannot read, or a key
    // this station does not hold, is exit 1 (update Strongroom / recover the keys).
    let exit = if matches!(code.as_str(), "format_unsupported" | "key_missing") {
        1
    } else {
        4
    };
    assert_eq!(r.code, exit, "{what}: restore exit code: {r:?}");
    assert!(r.stdout.is_empty(), "{what}: {}", r.stdout);
    let v = s.run(&["--json", "backup", "verify", id]);
    no_panic(&v, what);
    if code == "format_unsupported" {
        // Not a fault this version can judge: the error itself, exit 1.
        assert_eq!(v.code, 1, "{what}: verify exit code: {v:?}");
        let e: Value = serde_json::from_str(v.stderr.trim()).unwrap();
        assert_eq!(e["error"]["code"], "format_unsupported", "{what}");
    } else {
        assert_eq!(v.code, 4, "{what}: verify exit code: {v:?}");
        let verified: Value = serde_json::from_str(&v.stdout).unwrap();
        assert_eq!(verified["ok"], false, "{what}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{what}: took {:?}",
        started.elapsed()
    );
    assert_eq!(&live_state(s), before, "{what}: the live registry changed");
    assert_eq!(
        std::fs::read_dir(s.st.home().join("tmp")).unwrap().count(),
        0,
        "{what}: temp files left"
    );
    code
}

#[test]
fn damaged_and_forged_backup_files_are_refused_and_the_live_registry_stays() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    for (n, t) in [("2026-000001", "Burglary"), ("2026-000002", "Arson")] {
        s.json(&["case", "add", "--number", n, "--title", t]);
    }
    let b = s.json(&["backup", "create"]);
    let id = b["id"].as_str().unwrap().to_string();
    let local = PathBuf::from(b["local_path"].as_str().unwrap());
    let good = std::fs::read(&local).unwrap();
    // A later change, so that a wrongly successful restore would be visible.
    s.json(&["case", "add", "--number", "2026-000003", "--title", "After"]);
    let before = live_state(&s);
    assert!(before.1, "the audit chain verifies to begin with");
    let safety = s.st.home().join("safety");

    let header_len = u32::from_be_bytes(good[10..14].try_into().unwrap()) as usize;
    assert!(header_len > 121 && header_len < good.len());
    let mut tried: Vec<(String, Vec<u8>)> = Vec::new();
    // Cut short.
    for cut in [
        0,
        7,
        12,
        header_len - 1,
        header_len,
        header_len + 3,
        good.len() / 2,
        good.len() - 1,
    ] {
        tried.push((format!("truncated to {cut} bytes"), good[..cut].to_vec()));
    }
    // Extended.
    let mut ext = good.clone();
    ext.push(0);
    tried.push(("one zero byte appended".into(), ext));
    let mut ext = good.clone();
    ext.extend_from_slice(&good[header_len..]);
    tried.push(("its chunks appended again".into(), ext));
    // Bits flipped at chosen places: magic, version, header length, backup id, time, key id,
    // chunk size, compression, station id, wrapped key, first frame's flags and length, the
    // middle, the last tag.
    let mut places = vec![
        0,
        9,
        13,
        20,
        33,
        45,
        57,
        58,
        61,
        header_len - 10,
        header_len,
        header_len + 2,
        good.len() / 2,
        good.len() - 3,
    ];
    // … and at a few places picked by a seeded generator.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    places.extend((0..8).map(|_| rng.gen_range(0..good.len())));
    for at in places {
        let mut bad = good.clone();
        bad[at] ^= 1 << (at % 8);
        tried.push((format!("bit flipped at {at}"), bad));
    }
    // A newer format version.
    let mut newer = good.clone();
    newer[8..10].copy_from_slice(&2u16.to_be_bytes());
    tried.push(("format version 2".into(), newer));
    // Absurd sizes claimed: a 4 GiB header, 4 GiB chunks, a 4 GiB first frame.
    for (what, at) in [
        ("header length", 10),
        ("chunk size", 54),
        ("first frame length", header_len + 1),
    ] {
        let mut huge = good.clone();
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        tried.push((format!("{what} claims 4 GiB"), huge));
    }
    // Not a backup at all.
    let mut noise = vec![0u8; 64 * 1024];
    rng.fill_bytes(&mut noise);
    tried.push(("random bytes".into(), noise));
    tried.push(("a SQLite file".into(), std::fs::read(s.registry()).unwrap()));

    let mut codes = BTreeSet::new();
    for (what, bytes) in &tried {
        let code = refused(&s, &id, &local, bytes, what, &before);
        if what.starts_with("truncated to 0") {
            assert_eq!(code, "not_a_backup", "zero bytes");
        }
        if what == "format version 2" {
            assert_eq!(code, "format_unsupported");
        }
        if what.starts_with(&format!("truncated to {}", good.len() / 2)) {
            assert_eq!(code, "backup_truncated");
        }
        codes.insert(code);
    }
    eprintln!("{} damaged files refused with {codes:?}", tried.len());

    // A valid header followed by 10 GB of zeros (a sparse file): refused at once.
    {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&local)
            .unwrap();
        use std::io::Write;
        (&f).write_all(&good[..header_len]).unwrap();
        f.set_len(10_000_000_000).unwrap();
    }
    let started = Instant::now();
    let r = s.run(&["backup", "restore", &id, "--yes", "--reason", "sparse"]);
    no_panic(&r, "sparse");
    assert!(r.code == 4 || r.code == 1, "{r:?}");
    assert!(
        BACKUP_REFUSALS.contains(&r.error_code().unwrap_or_default()),
        "{r:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(live_state(&s), before);

    // No restore got as far as a safety copy.
    assert_eq!(
        std::fs::read_dir(&safety).map(|d| d.count()).unwrap_or(0),
        0
    );
    registry_integrity_ok(&s.registry());

    // The test can tell a good file from a bad one: the untouched file restores.
    std::fs::write(&local, &good).unwrap();
    let restored = s.json(&["backup", "restore", &id, "--yes", "--reason", "good copy"]);
    assert_eq!(restored["cases"], 2, "{restored}");
}

#[test]
fn another_stations_backup_put_in_place_of_ours_is_refused() {
    if services::keyring().is_none() {
        return;
    }
    let a = Initialised::new(&[]);
    a.json(&["case", "add", "--number", "2026-000001", "--title", "Ours"]);
    let ours = a.json(&["backup", "create"]);
    let id = ours["id"].as_str().unwrap().to_string();
    let local = PathBuf::from(ours["local_path"].as_str().unwrap());
    let before = live_state(&a);

    let theirs = {
        let b = Initialised::new(&[]);
        b.json(&[
            "case",
            "add",
            "--number",
            "2026-000777",
            "--title",
            "Theirs",
        ]);
        let made = b.json(&["backup", "create"]);
        let bytes = std::fs::read(made["local_path"].as_str().unwrap()).unwrap();
        // While station B's keys are on this workstation (e.g. recovered after a disaster),
        // its validly sealed backup must still not pass for backup `id` of station A.
        let code = refused(&a, &id, &local, &bytes, "station B's backup", &before);
        assert_eq!(code, "backup_corrupt", "a substituted backup");
        bytes
        // B's keys leave the keyring here.
    };
    let code = refused(
        &a,
        &id,
        &local,
        &theirs,
        "a foreign station's backup",
        &before,
    );
    assert!(
        matches!(
            code.as_str(),
            "backup_foreign_key" | "key_missing" | "backup_corrupt"
        ),
        "{code}"
    );
}

#[test]
fn damaged_and_forged_recovery_files_are_refused_on_a_new_workstation() {
    if services::keyring().is_none() {
        return;
    }
    let a = Initialised::new(&[]);
    let name = format!("strongroom-recovery-{}.srk", a.id);
    let good = std::fs::read(a.st.home().join("backups").join(&name)).unwrap();
    assert_eq!(&good[..7], b"SRRECOV");
    let salt = good[23] as usize;
    let station_len_at = 24 + salt;
    let count_at = 50 + salt + a.id.len();
    let mut tried: Vec<(String, Vec<u8>)> = vec![
        ("zero bytes".into(), Vec::new()),
        ("magic only".into(), good[..8].to_vec()),
        ("cut in half".into(), good[..good.len() / 2].to_vec()),
        ("one byte short".into(), good[..good.len() - 1].to_vec()),
        ("one byte more".into(), [&good[..], &[0u8]].concat()),
        (
            "64 KiB more".into(),
            [&good[..], &vec![0u8; 65536][..]].concat(),
        ),
    ];
    let mut set = |what: &str, at: usize, bytes: &[u8]| {
        let mut b = good.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        tried.push((what.to_string(), b));
    };
    set("format version 2", 8, &2u16.to_be_bytes());
    set("an unknown KDF", 10, &[9]);
    set("Argon2 memory 4 TiB", 11, &u32::MAX.to_be_bytes());
    set("Argon2 memory 1 KiB", 11, &1u32.to_be_bytes());
    set("Argon2 passes 4 billion", 15, &u32::MAX.to_be_bytes());
    set("Argon2 passes 1", 15, &1u32.to_be_bytes());
    set("Argon2 lanes 0", 19, &0u32.to_be_bytes());
    set("salt length 255", 23, &[255]);
    set(
        "station id length 65535",
        station_len_at,
        &u16::MAX.to_be_bytes(),
    );
    set("key count 65535", count_at, &u16::MAX.to_be_bytes());
    set("key count 0", count_at, &0u16.to_be_bytes());
    for at in [
        30,
        station_len_at + 3,
        count_at + 5,
        good.len() / 2,
        good.len() - 2,
    ] {
        let mut b = good.clone();
        b[at] ^= 0x10;
        tried.push((format!("bit flipped at {at}"), b));
    }
    let mut codes = BTreeSet::new();
    for (what, bytes) in &tried {
        let fresh = cli::Station::new();
        let dir = fresh.home().join("backups");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&name), bytes).unwrap();
        let started = Instant::now();
        let r = cli::run_with_stdin(
            fresh.command(&["keys", "recover", "--passphrase-stdin"]),
            &format!("{}\n", cli::PASSPHRASE),
        );
        no_panic(&r, what);
        assert_ne!(r.code, 0, "{what}: {r:?}");
        let code = r.error_code().unwrap_or_default().to_string();
        assert!(
            matches!(
                code.as_str(),
                "wrong_passphrase" | "not_a_backup" | "format_unsupported" | "not_found"
            ),
            "{what}: {r:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}: took {:?}",
            started.elapsed()
        );
        assert!(
            !fresh.home().join("station.json").exists(),
            "{what}: no station is made from a refused file"
        );
        codes.insert(code);
    }
    eprintln!(
        "{} damaged recovery files refused with {codes:?}",
        tried.len()
    );
    // The untouched file does recover the station on a new workstation.
    let fresh = cli::Station::new();
    let dir = fresh.home().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&name), &good).unwrap();
    let r = cli::run_with_stdin(
        fresh.command(&["--json", "keys", "recover", "--passphrase-stdin"]),
        &format!("{}\n", cli::PASSPHRASE),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(fresh.home().join("station.json").exists());
}

#[test]
fn restore_to_never_follows_a_symlink() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    s.json(&[
        "case",
        "add",
        "--number",
        "2026-000001",
        "--title",
        "Linked",
    ]);
    let b = s.json(&["backup", "create"]);
    let id = b["id"].as_str().unwrap();
    let dir = s.st.dir.path();
    let precious = dir.join("precious");
    std::fs::write(&precious, b"keep me").unwrap();
    let link = dir.join("restore-link");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let dangling = dir.join("restore-dangling");
    let target = dir.join("evilmark-restored");
    std::os::unix::fs::symlink(&target, &dangling).unwrap();
    let live = live_state(&s);
    for to in [&link, &dangling] {
        let r = s.run(&[
            "backup",
            "restore",
            id,
            "--yes",
            "--to",
            to.to_str().unwrap(),
        ]);
        no_panic(&r, "restore --to link");
        assert_eq!(r.code, 1, "{r:?}");
        assert_eq!(r.error_code(), Some("restore_target_symlink"), "{r:?}");
    }
    assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
    assert!(!target.exists());
    assert_eq!(live_state(&s), live);
    // The live registry itself, named by --to, is refused too.
    let r = s.run(&[
        "backup",
        "restore",
        id,
        "--yes",
        "--to",
        s.registry().to_str().unwrap(),
    ]);
    assert_eq!(r.error_code(), Some("restore_target_invalid"), "{r:?}");
}

#[test]
fn broken_settings_files_name_the_line_or_the_key() {
    // (file text, accepted codes, what the message must name)
    let cases: &[(&str, &str, &[&str])] = &[
        ("[cloud\nenabled = true\n", "config_invalid", &["line 1"]),
        (
            "[cloud]\nenabled = false\nretention = 5\n",
            "config_invalid",
            &["line 3", "retention"],
        ),
        (
            "[gcp]\nbucket = \"x\"\n",
            "config_invalid",
            &["line 1", "gcp"],
        ),
        (
            "[cloud]\nretention_days = \"thirty\"\n",
            "config_invalid",
            &["line 2"],
        ),
        (
            "[cloud]\nenabled = \"yes\"\n",
            "config_invalid",
            &["line 2"],
        ),
        (
            "[cloud]\nretention_days = -1\n",
            "config_invalid",
            &["line 2"],
        ),
        (
            "[cloud]\nretention_days = 99999999999\n",
            "config_invalid",
            &["line 2"],
        ),
        (
            "[cloud]\nretention_days = 0\n",
            "config_invalid",
            &["retention_days"],
        ),
        (
            "[schedule]\ndue_by_hour_utc = 300\n",
            "config_invalid",
            &["line 2"],
        ),
        (
            "[cloud]\nprovider = \"gcp\"\n",
            "config_invalid",
            &["line 2"],
        ),
        ("aws = 5\n", "config_invalid", &["line 1"]),
        (
            "[aws]\nregion = \"x\"\nregion = \"y\"\n",
            "config_invalid",
            &["line 3"],
        ),
        (
            "[aws]\nsecret_access_key = \"evilmark-s3cr3t\"\n",
            "config_invalid",
            &["line 2", "never kept in the settings file"],
        ),
        (
            "[aws]\nendpoint_url = \"http://s3.example.org\"\n",
            "insecure_endpoint",
            &["aws.endpoint_url", "http://s3.example.org"],
        ),
        (
            "[azure]\nblob_endpoint = \"http://192.168.1.4:10000/acct\"\n",
            "insecure_endpoint",
            &["azure.blob_endpoint"],
        ),
        (
            "[aws]\nendpoint_url = \"ftp://files.example.org\"\n",
            "config_invalid",
            &["aws.endpoint_url", "ftp"],
        ),
        (
            "[aws]\nendpoint_url = \"not a url\"\n",
            "config_invalid",
            &["aws.endpoint_url"],
        ),
        (
            "[cloud]\nenabled = true\nprovider = \"aws\"\n",
            "config_invalid",
            &["AWS_S3_BACKUP_BUCKET"],
        ),
    ];
    for (text, code, names) in cases {
        let env = Plain::new(Some(text));
        let r = env.run(&["backup", "list"]);
        assert_eq!(r.code, 1, "{text:?}: {r:?}");
        assert_eq!(r.error_code(), Some(*code), "{text:?}: {r:?}");
        for n in *names {
            assert!(r.stderr.contains(n), "{text:?}: no {n:?} in {}", r.stderr);
        }
        assert!(!r.stderr.contains("evilmark-s3cr3t"), "{}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "one line: {}", r.stderr);
    }
    // Not UTF-8, and a NUL byte: still a clear error, never a panic.
    for bytes in [
        &b"\xff\xfe[cloud]\n"[..],
        &b"[cloud]\nenabled = tr\0ue\n"[..],
    ] {
        let env = Plain::new(None);
        std::fs::write(env.st.home().join("settings.toml"), bytes).unwrap();
        let r = env.run(&["backup", "list"]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            matches!(r.error_code(), Some("config_invalid" | "io_error")),
            "{r:?}"
        );
    }
    // An environment value that is not loopback http names its variable.
    let env = Plain::new(None);
    let mut cmd = env.command(&["backup", "list"]);
    cmd.env("AWS_ENDPOINT_URL", "http://10.0.0.8:9000");
    let r = Run::from(cmd.output().unwrap());
    no_panic(&r, "AWS_ENDPOINT_URL");
    assert_eq!(r.error_code(), Some("insecure_endpoint"), "{r:?}");
    assert!(r.stderr.contains("AWS_ENDPOINT_URL"), "{}", r.stderr);
    // Loopback http is fine (emulators).
    let env = Plain::new(Some("[aws]\nendpoint_url = \"http://127.0.0.1:9000\"\n"));
    assert_eq!(env.run(&["backup", "list"]).code, 0);
}

/// Text full of what breaks naive SQL, shells and HTML.
const METACHARACTERS: &[&str] = &[
    "Robert'); DROP TABLE cases;--",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "1; DELETE FROM audit_log WHERE 1=1",
    "%_\\%\\_ LIKE '%'",
    "<script>alert(1)</script>",
    "$(rm -rf /) `id` ${HOME}",
    "NULL",
    "\u{0}? no: a NUL cannot be an argument",
    "😀 emoji, ʻokina, עברית, 中文",
    "back\\slash and \"quotes\" and 'single'",
    "-- comment /* block */",
];

#[test]
fn sql_metacharacters_are_stored_verbatim_and_read_back() {
    let st = cli::Station::new();
    let mut n = 0;
    for text in METACHARACTERS.iter().filter(|t| !t.contains('\u{0}')) {
        n += 1;
        let number = format!("2026-{:06}", 100 + n);
        let description = format!("{text}\nline two\twith a tab");
        // `--flag=VALUE`: a value may start with dashes.
        let made = st.json(&[
            "case",
            "add",
            "--number",
            &number,
            &format!("--title={text}"),
            &format!("--description={description}"),
        ]);
        assert_eq!(made["title"], *text);
        let shown = st.json(&["case", "show", &number]);
        let case = if shown["case"].is_object() {
            &shown["case"]
        } else {
            &shown
        };
        assert_eq!(case["title"], *text, "{shown}");
        assert_eq!(case["description"], description.as_str(), "{shown}");
        // Searching for it finds it (and nothing breaks).
        let r = st.run(&["--json", "case", "list", &format!("--search={text}")]);
        no_panic(&r, text);
        assert!(r.code == 0 || r.error_code().is_some(), "{r:?}");
    }
    let all = st.json(&["case", "list", "--limit", "1000"]);
    assert_eq!(all.as_array().unwrap().len(), n, "{all}");
    for text in METACHARACTERS.iter().filter(|t| !t.contains('\u{0}')) {
        assert!(
            all.as_array().unwrap().iter().any(|c| c["title"] == *text),
            "{text}"
        );
    }
    let v = st.run(&["--json", "audit", "verify"]);
    assert_eq!(v.code, 0, "{v:?}");
    // The audit log is still there and whole after "DELETE FROM audit_log".
    let events = st.json(&["audit", "list", "--limit", "1000"]);
    assert!(events.as_array().unwrap().len() >= n, "{events}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the title, an accepted one is one line of 1..=200 characters, not blank.
    #[test]
    fn accepted_titles_are_one_short_line(t in "\\PC{0,210}|[\\x00-\\x1f a-z]{0,12}") {
        use strongroom_core::validate;
        match validate::title(&t) {
            Ok(()) => {
                prop_assert!(!t.trim().is_empty());
                prop_assert!(t.chars().count() <= validate::TITLE_MAX);
                prop_assert!(!t.chars().any(char::is_control));
            }
            Err(e) => prop_assert!(
                matches!(e.code(), "title_required" | "title_too_long" | "title_invalid"),
                "{}", e.code()
            ),
        }
    }

    #[test]
    fn accepted_descriptions_have_no_control_but_line_breaks(d in "(\\PC|[\\x00-\\x1f]){0,64}") {
        use strongroom_core::validate;
        match validate::description(&d) {
            Ok(()) => prop_assert!(!d.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))),
            Err(e) => prop_assert!(matches!(e.code(), "description_too_long" | "description_invalid")),
        }
    }

    #[test]
    fn accepted_case_numbers_fit_the_pattern_and_the_envelope(n in "[0-9]{4}-[0-9]{6}|\\PC{0,44}") {
        use strongroom_core::validate::Rules;
        let rules = Rules::default();
        match rules.case_number(&n) {
            Ok(()) => {
                prop_assert_eq!(n.len(), 11);
                let shaped = n
                    .chars()
                    .enumerate()
                    .all(|(i, c)| (i == 4 && c == '-') || (i != 4 && c.is_ascii_digit()));
                prop_assert!(shaped, "{:?}", n);
            }
            Err(e) => prop_assert_eq!(e.code(), "case_number_invalid"),
        }
    }

    #[test]
    fn accepted_officer_names_and_badges_are_plain(
        name in "\\PC{0,110}|[A-Za-z][A-Za-z '\\-.]{0,20}",
        badge in "\\PC{0,20}|[A-Za-z0-9][A-Za-z0-9-]{0,18}",
    ) {
        use strongroom_core::validate;
        if validate::officer_name(&name).is_ok() {
            let len = name.chars().count();
            prop_assert!((2..=100).contains(&len));
            prop_assert!(name.chars().next().unwrap().is_alphabetic());
            prop_assert!(!name.contains("  ") && !name.ends_with(' '));
            prop_assert!(!name.chars().any(|c| c.is_control() || c.is_ascii_digit() || "<>;\"=/\\".contains(c)));
        } else {
            prop_assert_eq!(validate::officer_name(&name).unwrap_err().code(), "officer_name_invalid");
        }
        if validate::badge_number(&badge).is_ok() {
            prop_assert!(!badge.is_empty() && badge.len() <= 16);
            prop_assert!(badge.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
            prop_assert!(!badge.starts_with('-'));
        } else {
            prop_assert_eq!(validate::badge_number(&badge).unwrap_err().code(), "badge_number_invalid");
        }
    }

    #[test]
    fn statuses_come_only_from_the_whitelist(s in "\\PC{0,20}|open|closed|archived|under_investigation") {
        use strongroom_core::validate::CaseStatus;
        match CaseStatus::parse(&s) {
            Ok(st) => prop_assert_eq!(st.as_str(), s.trim().to_ascii_lowercase().replace([' ', '-'], "_")),
            Err(e) => prop_assert_eq!(e.code(), "status_invalid"),
        }
    }

    #[test]
    fn reasons_are_required_short_and_clean(r in "\\PC{0,40}|[\\x00-\\x1f ]{0,5}") {
        use strongroom_core::validate;
        match validate::reason(Some(&r)) {
            Ok(_) => {
                prop_assert!(!r.trim().is_empty());
                prop_assert!(!r.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')));
            }
            Err(e) => prop_assert!(matches!(e.code(), "reason_required" | "reason_too_long" | "reason_invalid"), "{}", e.code()),
        }
        prop_assert!(validate::reason(None).is_err());
    }
}

proptest! {
    // Each case runs the binary twice; a few dozen are enough next to the unit properties.
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Through the CLI: whatever the title and description, the case is either refused with a
    /// field code (and nothing stored) or stored and shown back byte for byte.
    #[test]
    fn any_case_text_is_refused_with_a_code_or_stored_verbatim(
        title in "[^\\x00]{0,60}",
        description in "[^\\x00]{0,120}",
    ) {
        let st = cli::Station::new();
        let r = {
            let out = st
                .command(&["--json", "case", "add", "--number", CASE, &format!("--title={title}"), &format!("--description={description}")])
                .output()
                .unwrap();
            Run::from(out)
        };
        no_panic(&r, "case add");
        if r.code == 0 {
            let shown = st.json(&["case", "show", CASE]);
            let case = if shown["case"].is_object() { &shown["case"] } else { &shown };
            prop_assert_eq!(case["title"].as_str().unwrap(), title.as_str());
            prop_assert_eq!(case["description"].as_str().unwrap(), description.as_str());
        } else {
            prop_assert_eq!(r.code, 1);
            let e: Value = serde_json::from_str(r.stderr.trim()).unwrap();
            let code = e["error"]["code"].as_str().unwrap().to_string();
            prop_assert!(code.starts_with("title_") || code.starts_with("description_"), "{}", code);
            prop_assert_eq!(st.json(&["case", "list"]), serde_json::json!([]));
        }
    }
}

#[test]
fn backup_list_remote_skips_foreign_objects_and_odd_keys() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    if services::keyring().is_none() {
        return;
    }
    let bucket = services::unique_name("hostile-list");
    let env: Vec<(String, String)> = [
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "aws"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_S3_BACKUP_BUCKET", bucket.as_str()),
        ("AWS_S3_DOCUMENTS_BUCKET", bucket.as_str()),
        ("AWS_ACCESS_KEY_ID", "strongroom-test"),
        ("AWS_SECRET_ACCESS_KEY", "strongroom-test-secret"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    {
        // The bucket exists before `init` puts the recovery file in it.
        let st = cli::Station::new();
        stand_in_init(&st.home(), "Prep", None);
        let mut cmd = st.command(&["storage", "prepare"]);
        cmd.envs(env.iter().cloned());
        let r = Run::from(cmd.output().unwrap());
        assert_eq!(r.code, 0, "{r:?}");
    }
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = Initialised::new(&envs);
    s.json(&["case", "add", "--number", CASE, "--title", "Listed"]);
    let made = s.json(&["backup", "create"]);
    let id = made["id"].as_str().unwrap().to_string();
    let real_key = made["cloud_key"].as_str().expect("uploaded").to_string();
    let real = std::fs::read(made["local_path"].as_str().unwrap()).unwrap();

    // Foreign objects, written straight to the bucket.
    let long_key = format!("backups/{}.srb", "k".repeat(1000));
    let mut odd: Vec<(String, Vec<u8>)> = vec![
        ("backups/evil.srb".into(), b"not a backup at all".to_vec()),
        ("backups/empty.srb".into(), Vec::new()),
        ("x.srb".into(), real[..40].to_vec()),
        ("../../escape.srb".into(), b"traversal".to_vec()),
        ("backups//double-slash.srb".into(), real.clone()),
        ("backups/back\\slash.srb".into(), b"x".to_vec()),
        ("backups/./dot.srb".into(), b"x".to_vec()),
        ("backups/sp ace %2F+&?.srb".into(), b"x".to_vec()),
        ("backups/备份-ünïcødé.srb".into(), b"x".to_vec()),
        (long_key, b"x".to_vec()),
        (".strongroom/tmp/x.srb".into(), b"x".to_vec()),
        (
            "backups/SRBACKUP-magic-only.srb".into(),
            b"SRBACKUP".to_vec(),
        ),
    ];
    // A header claiming a newer version and an absurd length.
    let mut newer = real[..200.min(real.len())].to_vec();
    newer[8..10].copy_from_slice(&9u16.to_be_bytes());
    newer[10..14].copy_from_slice(&u32::MAX.to_be_bytes());
    odd.push(("backups/newer.srb".into(), newer));
    // And enough noise to need more than one page of listing.
    for i in 0..1100 {
        odd.push((format!("noise/{i:05}"), vec![b'n']));
    }
    put_objects(&endpoint, &bucket, odd);

    let r = s.run(&["--json", "backup", "list", "--remote"]);
    no_panic(&r, "backup list --remote");
    assert_eq!(r.code, 0, "{r:?}");
    let rows: Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let real_rows: Vec<_> = rows.iter().filter(|b| b["id"] == id.as_str()).collect();
    assert!(!real_rows.is_empty(), "the real backup is listed: {rows:?}");
    for row in rows {
        assert_eq!(
            row["id"],
            id.as_str(),
            "only readable backups are listed: {row}"
        );
        assert_eq!(row["station"], s.id.as_str());
    }
    assert!(
        rows.iter().any(|b| b["key"] == real_key.as_str()) || rows.len() == real_rows.len(),
        "{rows:?}"
    );
    // The human listing works too, and restoring by id still picks the real object.
    let human = s.run(&["backup", "list", "--remote"]);
    assert_eq!(human.code, 0, "{human:?}");
    let v = s.json(&["backup", "verify", &id]);
    assert_eq!(v["ok"], true, "{v}");
}

/// PUTs objects into an S3 bucket with the SDK, bypassing Strongroom's key checks.
fn put_objects(endpoint: &str, bucket: &str, objects: Vec<(String, Vec<u8>)>) {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_s3::primitives::ByteStream;
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use futures::StreamExt;
        let results: Vec<_> = futures::stream::iter(objects)
            .map(|(key, body)| {
                let client = client.clone();
                async move {
                    let r = client
                        .put_object()
                        .bucket(bucket)
                        .key(&key)
                        .body(ByteStream::from(body))
                        .send()
                        .await;
                    (key, r.map(|_| ()).map_err(|e| format!("{e:?}")))
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        let failed: Vec<_> = results.iter().filter(|(_, r)| r.is_err()).collect();
        // moto may refuse a key or two; every object that matters here is plain ASCII.
        assert!(failed.len() <= 3, "{failed:?}");
    });
}
