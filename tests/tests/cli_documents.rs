//! `strongroom doc|hold|storage`, driving the real binary against the local default, moto (S3)
//! and Azurite: uploads with duplicates and hostile names, downloads with the SHA-256 checked,
//! a tampered object, an upload killed midway and resumed, legal holds, and the storage probes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};
use strongroom_core::paths::Home;
use strongroom_core::registry::{documents, uploads, IntegrityCheck, Registry};
use strongroom_tests::cli::{self, Run};
use strongroom_tests::services::{self, AZURITE_ACCOUNT, AZURITE_KEY};
use strongroom_tests::station::stand_in_init;

const CASE: &str = "2026-000123";

/// A station home for the CLI, with the environment its destination needs.
struct Env {
    station: cli::Station,
    vars: Vec<(String, String)>,
}

impl Env {
    fn new(settings_toml: Option<&str>, vars: &[(&str, &str)]) -> Self {
        let station = cli::Station::new();
        stand_in_init(&station.home(), "Test", settings_toml);
        Self {
            station,
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn local() -> Self {
        Self::new(None, &[])
    }

    fn s3(endpoint: &str, bucket: &str, extra: &str) -> Self {
        let toml = format!(
            "[cloud]\nenabled = true\nprovider = \"aws\"\n{extra}\n[aws]\nregion = \"us-east-1\"\n\
             endpoint_url = \"{endpoint}\"\nbackup_bucket = \"{bucket}\"\ndocuments_bucket = \"{bucket}\"\n\
             access_key_id = \"strongroom-test\"\n"
        );
        Self::new(
            Some(&toml),
            &[("AWS_SECRET_ACCESS_KEY", "strongroom-test-secret")],
        )
    }

    fn azure(endpoint: &str, container: &str, key: &str) -> Self {
        let toml = format!(
            "[cloud]\nenabled = true\nprovider = \"azure\"\n\n[azure]\naccount_name = \"{AZURITE_ACCOUNT}\"\n\
             blob_endpoint = \"{endpoint}\"\nbackup_container = \"{container}\"\n\
             documents_container = \"{container}\"\n"
        );
        Self::new(Some(&toml), &[("AZURE_STORAGE_ACCOUNT_KEY", key)])
    }

    fn home(&self) -> PathBuf {
        self.station.home()
    }

    fn dir(&self) -> &Path {
        self.station.dir.path()
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.station.command(args);
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
            "BACKUP_CLOUD_STORAGE_ENABLED",
            "BACKUP_CLOUD_PROVIDER",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "AZURE_STORAGE_CONNECTION_STRING",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("the binary runs"))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!(r.code, 0, "strongroom {args:?} failed: {}", r.stderr);
        assert!(
            !r.stdout.contains("upload:") && !r.stdout.contains("hash:"),
            "progress leaked to stdout"
        );
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}): {}", r.stdout))
    }

    fn registry(&self) -> Registry {
        Registry::open_with(Home::at(self.home()).registry(), IntegrityCheck::Header)
            .expect("the registry opens")
    }

    fn add_case(&self) {
        self.json(&[
            "case",
            "add",
            "--number",
            CASE,
            "--title",
            "Burglary at the depot",
        ]);
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir().join("in").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut v);
    v
}

/// Uploads four files (one a duplicate of another, one with a hostile name), checks what was
/// recorded and downloads each back with its SHA-256. Returns the first document's id and key.
fn add_and_get_round_trip(env: &Env) -> (i64, String) {
    env.add_case();
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend(random(300_000));
    let notes = format!("witness statement {}\n", sha_hex(&random(8))).into_bytes();
    let hostile_bytes = random(2_000);
    let a = env.file("statement.pdf", &pdf);
    let b = env.file("notes.txt", &notes);
    let dup = env.file("copy of statement.pdf", &pdf);
    let hostile = env.file("..\\..\\etc\\passwd\u{7}\n\u{1b}[31m.txt", &hostile_bytes);
    let args: Vec<String> = ["doc", "add", "--case", CASE]
        .into_iter()
        .map(String::from)
        .chain([&a, &b, &dup, &hostile].map(|p| p.to_str().unwrap().to_string()))
        .collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let docs = env.json(&argv);
    let docs = docs.as_array().expect("an array of documents");
    assert_eq!(docs.len(), 4);
    for (d, (bytes, name)) in docs.iter().zip([
        (&pdf, "statement.pdf"),
        (&notes, "notes.txt"),
        (&pdf, "statement.pdf"),
        (&hostile_bytes, ".._.._etc_passwd___[31m.txt"),
    ]) {
        let sha = sha_hex(bytes);
        assert_eq!(d["case"], CASE);
        assert_eq!(d["sha256"], sha.as_str());
        assert_eq!(d["size"], bytes.len() as u64);
        assert_eq!(d["key"], format!("cases/{CASE}/{sha}").as_str());
        assert_eq!(d["name"], name, "{d}");
        assert!(d["id"].as_i64().is_some());
    }
    assert_eq!(docs[0]["media_type"], "application/pdf");
    assert_eq!(docs[1]["media_type"], "text/plain");
    // Ids follow the order the files were given, whatever order the uploads finished in.
    let id = |i: usize| docs[i]["id"].as_i64().unwrap();
    assert!(id(0) < id(1) && id(1) < id(3), "{docs:?}");
    // The duplicate is the first document, not a new one.
    assert_eq!(docs[2]["id"], docs[0]["id"]);
    assert_ne!(docs[1]["id"], docs[0]["id"]);
    // Nothing was written outside the home by the hostile name.
    assert!(!env.dir().join("etc").exists());
    let reg = env.registry();
    assert_eq!(reg.read(documents::count).unwrap(), 3);
    drop(reg);
    // Adding the same file again is recognised too.
    let again = env.json(&["doc", "add", "--case", CASE, a.to_str().unwrap()]);
    assert_eq!(again[0]["id"], docs[0]["id"]);
    assert_eq!(env.registry().read(documents::count).unwrap(), 3);

    // Round trips, checked.
    for (d, bytes) in [
        (&docs[0], &pdf),
        (&docs[1], &notes),
        (&docs[3], &hostile_bytes),
    ] {
        let id = d["id"].as_i64().unwrap().to_string();
        let out = env.dir().join(format!("out-{id}"));
        let got = env.json(&["doc", "get", &id, "--out", out.to_str().unwrap()]);
        assert_eq!(got["sha256"], sha_hex(bytes).as_str());
        assert_eq!(&std::fs::read(&out).unwrap(), bytes);
    }
    // The whole case into a folder: each document once, under its cleaned name, checked.
    let folder = env.dir().join("case-folder");
    let got = env.json(&[
        "doc",
        "get",
        "--case",
        CASE,
        "--out",
        folder.to_str().unwrap(),
    ]);
    assert_eq!(
        got.as_array().expect("an array of documents").len(),
        3,
        "{got}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let hostile_name = ".._.._etc_passwd___[31m.txt";
    assert_eq!(names, [hostile_name, "notes.txt", "statement.pdf"]);
    for (name, bytes) in [
        ("statement.pdf", &pdf),
        ("notes.txt", &notes),
        (hostile_name, &hostile_bytes),
    ] {
        assert_eq!(&std::fs::read(folder.join(name)).unwrap(), bytes, "{name}");
        let entry = got
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["path"] == folder.join(name).to_str().unwrap())
            .unwrap_or_else(|| panic!("{name} not in {got}"));
        assert_eq!(entry["sha256"], sha_hex(bytes).as_str());
    }
    // A file where the folder should be is refused.
    let r = env.run(&["doc", "get", "--case", CASE, "--out", a.to_str().unwrap()]);
    assert_eq!(r.error_code(), Some("out_path_not_directory"), "{r:?}");

    // Never through a symlink at the destination.
    let target = env.dir().join("precious");
    std::fs::write(&target, b"keep me").unwrap();
    let link = env.dir().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let id = docs[0]["id"].as_i64().unwrap().to_string();
    let r = env.run(&["doc", "get", &id, "--out", link.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.error_code(), Some("out_path_symlink"));
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
    (
        docs[0]["id"].as_i64().unwrap(),
        docs[0]["key"].as_str().unwrap().to_string(),
    )
}

#[test]
fn documents_round_trip_on_the_local_default_and_tampering_is_caught() {
    let env = Env::local();
    let (id, key) = add_and_get_round_trip(&env);
    // The stored object is altered on disk: the download refuses it with exit 4.
    let stored = env.home().join("documents").join(&key);
    let mut bytes = std::fs::read(&stored).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&stored, &bytes).unwrap();
    let out = env.dir().join("tampered.pdf");
    let r = env.run(&[
        "doc",
        "get",
        &id.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 4, "{r:?}");
    assert_eq!(r.error_code(), Some("hash_mismatch"));
    assert!(!out.exists(), "nothing is written when the check fails");
    let leftovers: Vec<_> = std::fs::read_dir(env.dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".strongroom-download")
        })
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn documents_round_trip_on_s3() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let env = Env::s3(&endpoint, &services::unique_name("docs"), "");
    env.json(&["storage", "prepare"]);
    add_and_get_round_trip(&env);
}

#[test]
fn documents_round_trip_on_azure() {
    let Some(endpoint) = services::azurite_endpoint() else {
        return;
    };
    let env = Env::azure(&endpoint, &services::unique_name("docs"), AZURITE_KEY);
    env.json(&["storage", "prepare"]);
    add_and_get_round_trip(&env);
}

#[test]
fn an_upload_killed_midway_resumes_on_the_next_run() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let env = Env::s3(&endpoint, &services::unique_name("resume"), "");
    // 5 MiB parts, one at a time, so the kill lands between parts.
    let settings = env.home().join("settings.toml");
    let toml = std::fs::read_to_string(&settings).unwrap() + "part_size_mib = 5\nconcurrency = 1\n";
    std::fs::write(&settings, toml).unwrap();
    env.json(&["storage", "prepare"]);
    env.add_case();
    let big = random(40 * 1024 * 1024);
    let file = env.file("cctv.mp4", &big);
    let mut child = env
        .command(&["doc", "add", "--case", CASE, file.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the store has confirmed at least one part, then kill -9.
    let deadline = Instant::now() + Duration::from_secs(120);
    let parts_before_kill = loop {
        assert!(Instant::now() < deadline, "no part was recorded in time");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload finished before it could be interrupted"
        );
        let done = env
            .registry()
            .read(uploads::open)
            .unwrap()
            .first()
            .map(|u| u.parts_done.len())
            .unwrap_or(0);
        if done >= 2 {
            child.kill().unwrap();
            child.wait().unwrap();
            break done;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let reg = env.registry();
    assert_eq!(reg.read(documents::count).unwrap(), 0);
    let open = reg.read(uploads::open).unwrap();
    assert_eq!(open.len(), 1, "the interrupted upload is queued");
    assert!(open[0].parts_done.len() >= parts_before_kill);
    assert!(open[0].provider_upload_id.is_some());
    drop(reg);

    // The next run continues from the recorded parts and completes.
    let started = Instant::now();
    let r = env.run(&[
        "--json",
        "doc",
        "add",
        "--case",
        CASE,
        file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains(r#""stage":"resumed""#),
        "the rerun said nothing of resuming: {}",
        r.stderr
    );
    eprintln!(
        "resume: killed after {parts_before_kill} of 8 parts; the rerun finished in {:?}; {}",
        started.elapsed(),
        r.stderr
            .lines()
            .find(|l| l.contains(r#""stage":"resumed""#))
            .unwrap_or("")
    );
    let docs: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(docs[0]["sha256"], sha_hex(&big).as_str());
    let reg = env.registry();
    assert_eq!(reg.read(documents::count).unwrap(), 1);
    assert!(reg.read(uploads::open).unwrap().is_empty());
    drop(reg);
    let out = env.dir().join("cctv-back.mp4");
    let id = docs[0]["id"].as_i64().unwrap().to_string();
    env.json(&["doc", "get", &id, "--out", out.to_str().unwrap()]);
    assert_eq!(sha_hex(&std::fs::read(&out).unwrap()), sha_hex(&big));
}

fn hold_and_release(env: &Env) -> (Value, Value) {
    env.add_case();
    let f = env.file("exhibit.pdf", b"%PDF-1.4 exhibit A");
    let doc = env.json(&["doc", "add", "--case", CASE, f.to_str().unwrap()]);
    let set = env.json(&[
        "hold",
        "set",
        "--case",
        CASE,
        "--reason",
        "Court order 12/2026",
    ]);
    assert_eq!(set["hold"]["case"], CASE);
    assert!(set["hold"]["released_at"].is_null());
    // Held: neither the case nor its document can be deleted.
    let r = env.run(&["case", "delete", CASE, "--reason", "tidy up"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.error_code(), Some("case_held"), "{r:?}");
    let mut reg = env.registry();
    let station = strongroom_core::station::Station::load(&Home::at(env.home()))
        .unwrap()
        .unwrap();
    let actor = strongroom_core::audit::Actor::new(&station, "test");
    let id = doc[0]["id"].as_i64().unwrap();
    let e = reg
        .write(|tx| documents::delete(tx, id, "tidy up", &actor))
        .unwrap_err();
    assert_eq!(e.code(), "case_held");
    drop(reg);
    // Release needs a reason.
    let r = env.run(&["hold", "release", "--case", CASE]);
    assert_eq!(r.code, 1);
    assert_eq!(r.error_code(), Some("reason_required"), "{r:?}");
    let released = env.json(&[
        "hold",
        "release",
        "--case",
        CASE,
        "--reason",
        "Case closed by court",
    ]);
    assert!(!released["hold"]["released_at"].is_null());
    (set, released)
}

#[test]
fn legal_hold_on_the_local_default_is_in_the_registry_and_says_the_store_cannot() {
    let env = Env::local();
    let (set, released) = hold_and_release(&env);
    for r in [&set, &released] {
        assert_eq!(r["unsupported_by"], "local folder", "{r}");
        assert_eq!(r["objects"].as_array().unwrap().len(), 0);
    }
    let text = env.run(&["hold", "set", "--case", CASE]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout.contains("only the registry hold applies"),
        "{}",
        text.stdout
    );
}

#[test]
fn legal_hold_on_s3_holds_the_document_objects() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let env = Env::s3(
        &endpoint,
        &services::unique_name("hold"),
        "legal_holds = true",
    );
    env.json(&["storage", "prepare"]);
    let (set, released) = hold_and_release(&env);
    for r in [&set, &released] {
        assert!(r["unsupported_by"].is_null(), "{r}");
        assert_eq!(r["failed"].as_array().unwrap().len(), 0, "{r}");
        assert_eq!(r["objects"].as_array().unwrap().len(), 1, "{r}");
    }
}

#[test]
fn storage_prepare_creates_the_s3_bucket_and_test_then_passes() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let env = Env::s3(&endpoint, &services::unique_name("prep"), "");
    let before = env.run(&["storage", "test"]);
    assert_eq!(before.code, 1, "{before:?}");
    assert_eq!(
        before.error_code(),
        Some("destination_missing"),
        "{before:?}"
    );
    let report = env.json(&["storage", "prepare"]);
    assert!(
        !report["documents"]["steps"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let after = env.json(&["storage", "test"]);
    assert_eq!(after["ok"], true, "{after}");
    assert_eq!(after["documents"]["ok"], true);
}

#[test]
fn storage_test_names_a_wrong_azure_key() {
    let Some(endpoint) = services::azurite_endpoint() else {
        return;
    };
    use base64::Engine;
    let wrong = base64::engine::general_purpose::STANDARD.encode(random(64));
    let env = Env::azure(&endpoint, &services::unique_name("wrongkey"), &wrong);
    let r = env.run(&["storage", "test"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.error_code(), Some("credentials_invalid"), "{r:?}");
    assert!(!r.stderr.contains(&wrong) && !r.stdout.contains(&wrong));
    let j = env.run(&["--json", "storage", "test"]);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["documents"]["problem"], "credentials_invalid");
}

#[test]
fn storage_test_names_a_closed_port() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let env = Env::s3(&format!("http://127.0.0.1:{port}"), "nowhere", "");
    let r = env.run(&["storage", "test"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.error_code(), Some("store_unreachable"), "{r:?}");
}

#[test]
fn document_commands_need_an_initialised_station() {
    let station = cli::Station::new();
    let f = station.dir.path().join("x.txt");
    std::fs::write(&f, b"x").unwrap();
    let r = station.run(&["doc", "add", "--case", CASE, f.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(r.error_code(), Some("not_initialised"), "{r:?}");
}

#[test]
fn local_documents_are_sealed_into_the_backups_folder_and_come_back_from_there() {
    let Some(()) = services::keyring() else {
        return;
    };
    let s = cli::Initialised::new(&[]);
    for (n, t) in [("2026-000401", "First"), ("2026-000402", "Second")] {
        s.json(&["case", "add", "--number", n, "--title", t]);
    }
    let canary = b"CANARY-STATEMENT-OF-WITNESS-7731 ";
    let a = s.st.dir.path().join("statement.txt");
    std::fs::write(&a, canary.repeat(400)).unwrap();
    let b = s.st.dir.path().join("photo.bin");
    std::fs::write(&b, random(300_000)).unwrap();
    let added = s.json(&[
        "doc",
        "add",
        "--case",
        "2026-000401",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    // The same statement in a second case: one sealed copy serves both.
    s.json(&["doc", "add", "--case", "2026-000402", a.to_str().unwrap()]);

    let first = s.json(&["backup", "create"]);
    assert_eq!(first["documents_sealed"], 2, "{first}");
    let sealed_dir = s.st.home().join("backups").join("sealed-documents");
    let sealed: Vec<PathBuf> = std::fs::read_dir(&sealed_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "srd"))
        .collect();
    assert_eq!(sealed.len(), 2, "{sealed:?}");
    for p in &sealed {
        let bytes = std::fs::read(p).unwrap();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary),
            "plaintext in {p:?}"
        );
        for d in added.as_array().unwrap() {
            let sha = d["sha256"].as_str().unwrap();
            assert!(
                !p.to_string_lossy().contains(sha),
                "the name reveals the hash"
            );
        }
    }
    let again = s.json(&["backup", "create"]);
    assert_eq!(
        again["documents_sealed"], 0,
        "each document is copied once: {again}"
    );

    // The document folder is lost: the documents come back from their sealed copies, checked.
    std::fs::remove_dir_all(s.st.home().join("documents")).unwrap();
    for d in added.as_array().unwrap() {
        let id = d["id"].to_string();
        let out = s.st.dir.path().join(format!("back-{id}"));
        let got = s.json(&["doc", "get", &id, "--out", out.to_str().unwrap()]);
        assert_eq!(got["sha256"], d["sha256"], "{got}");
        let original = if d["name"] == "statement.txt" { &a } else { &b };
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(original).unwrap()
        );
    }
    let events = s.json(&["audit", "list", "--limit", "1000"]);
    let text = events.to_string();
    assert!(
        text.contains("sealed copy in the backups destination"),
        "{text}"
    );

    // A sealed copy altered on the backup drive is refused, and nothing is written.
    for p in &sealed {
        let mut bytes = std::fs::read(p).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(p, bytes).unwrap();
    }
    let id = added[0]["id"].to_string();
    let out = s.st.dir.path().join("tampered-out");
    let r = s.run(&["doc", "get", &id, "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(!out.exists());
}

#[test]
fn kill_9_during_doc_get_never_leaves_a_partial_file_and_the_next_run_cleans_up() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let env = Env::s3(&endpoint, &services::unique_name("killget"), "");
    env.json(&["storage", "prepare"]);
    env.add_case();
    let big = random(48 * 1024 * 1024);
    let file = env.file("interview.mp4", &big);
    let added = env.json(&["doc", "add", "--case", CASE, file.to_str().unwrap()]);
    let id = added[0]["id"].to_string();
    let out_dir = env.dir().join("downloads");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("interview.mp4");
    let leftovers = || {
        std::fs::read_dir(&out_dir)
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".strongroom-download-")
            })
            .count()
    };
    let mut killed_mid_write = 0;
    for delay_ms in [40u64, 150, 300, 500, 800] {
        let mut child = env
            .command(&["doc", "get", &id, "--out", out.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let running = child.try_wait().unwrap().is_none();
        if running {
            child.kill().unwrap();
        }
        child.wait().unwrap();
        if running && leftovers() > 0 {
            killed_mid_write += 1;
        }
        // The target is absent or whole: never a prefix of the document.
        if out.exists() {
            assert_eq!(sha_hex(&std::fs::read(&out).unwrap()), sha_hex(&big));
            std::fs::remove_file(&out).unwrap();
        }
        eprintln!(
            "doc get kill at {delay_ms} ms: running={running}, temp files={}",
            leftovers()
        );
    }
    assert!(
        killed_mid_write > 0,
        "at least one kill landed while the download was written"
    );
    let got = env.json(&["doc", "get", &id, "--out", out.to_str().unwrap()]);
    assert_eq!(got["sha256"], sha_hex(&big).as_str());
    assert_eq!(std::fs::read(&out).unwrap(), big);
    assert_eq!(
        leftovers(),
        0,
        "the killed downloads' temp files are removed"
    );
}
