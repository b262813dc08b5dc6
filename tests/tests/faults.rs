//! Faults of the machine and the store, through the real binary: the disk filling up during a
//! backup and during a restore (a small tmpfs as the station home), the OS keyring absent (no
//! D-Bus session), the object store answering 503 (a proxy in this file that answers the first
//! connections itself), and two uploads of the same file at once. Each is survived with a
//! stable error code, no panic, nothing lost, and the next run succeeds.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use rand::RngCore;
use serde_json::Value;
use strongroom_core::audit::Actor;
use strongroom_core::registry::{cases, Registry};
use strongroom_tests::cli::{self, Initialised, Run};
use strongroom_tests::fault_proxy::host_port;
use strongroom_tests::services;
use strongroom_tests::station::stand_in_init;

fn no_panic(r: &Run, what: &str) {
    assert_ne!(r.code, 101, "{what}: the binary panicked: {r:?}");
    assert_ne!(r.code, -1, "{what}: the binary died of a signal: {r:?}");
    assert!(!r.stderr.contains("panicked"), "{what}: {r:?}");
}

fn integrity_ok(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok", "{}", path.display());
}

fn case_count(path: &Path) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap()
}

/// A tmpfs of `size` mounted at `dir`, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// `None` (with a note) where mounting is impossible (not root, no CAP_SYS_ADMIN).
    fn mount(dir: &Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self {
                dir: dir.to_path_buf(),
            }),
            Ok(o) => {
                eprintln!(
                    "skipped: a tmpfs cannot be mounted here ({}); the disk-full tests need root",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: `mount` cannot run here ({e})");
                None
            }
        }
    }

    /// Fills the file system with a file until about `leave` bytes are free; returns its path.
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.dir.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0xa5u8; 64 * 1024];
        loop {
            let free = free_bytes(&self.dir);
            if free <= leave + chunk.len() as u64 {
                break;
            }
            if f.write_all(&chunk).is_err() {
                break;
            }
        }
        f.sync_all().ok();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

/// `n` cases with about 2 KB of incompressible text each, written straight to the registry.
fn add_bulk(s: &Initialised, n: u64) {
    let mut reg = Registry::open(s.registry()).unwrap();
    let station = strongroom_core::station::Station {
        id: s.id.clone(),
        name: "Northgate".into(),
    };
    let actor = Actor::new(&station, "test");
    let mut rng = rand::thread_rng();
    reg.write(|tx| {
        for i in 0..n {
            let mut noise = [0u8; 1000];
            rng.fill_bytes(&mut noise);
            cases::create(
                tx,
                &cases::NewCase {
                    number: format!("2026-{:06}", 300_000 + i),
                    title: format!("Bulk case {i}"),
                    description: hex::encode(noise),
                    ..Default::default()
                },
                &actor,
            )?;
        }
        Ok(())
    })
    .unwrap();
}

/// An initialised station whose home is a tmpfs of `size`.
fn station_on_tmpfs(size: &str) -> Option<(Initialised, Tmpfs)> {
    services::keyring()?;
    let st = cli::Station::new();
    let fs = Tmpfs::mount(&st.home(), size)?;
    let mut cmd = st.command(&["--json", "init", "--passphrase-stdin", "--station", "Full"]);
    cmd.env_remove("AWS_SECRET_ACCESS_KEY");
    let r = cli::run_with_stdin(cmd, &format!("{}\n", cli::PASSPHRASE));
    assert_eq!(r.code, 0, "init on the tmpfs: {r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let id = v["station"].as_str().unwrap().to_string();
    Some((Initialised::recovered(st, &id, Vec::new()), fs))
}

#[test]
fn a_disk_that_fills_during_a_backup_loses_nothing_and_the_next_backup_works() {
    let Some((s, fs)) = station_on_tmpfs("160m") else {
        return;
    };
    add_bulk(&s, 4000);
    let before = case_count(&s.registry());
    let backups_before = s.json(&["backup", "list"]);
    let registry_len = std::fs::metadata(s.registry()).unwrap().len();
    // First no room for the snapshot; then room for the snapshot but not for the backup file.
    for (stage, leave) in [
        ("snapshot", 1024 * 1024),
        ("backup file", registry_len + registry_len / 4),
    ] {
        let filler = fs.fill(leave);
        let r = s.run(&["backup", "create", "--local-only"]);
        no_panic(&r, "backup create on a full disk");
        assert_eq!(r.code, 1, "{stage}: {r:?}");
        let code = r.error_code().unwrap_or_default().to_string();
        assert!(
            matches!(code.as_str(), "io_error" | "registry_error" | "disk_full"),
            "{stage}: {r:?}"
        );
        assert!(
            r.stderr.to_lowercase().contains("space") || r.stderr.contains("full"),
            "{stage}: the message says the disk is full: {}",
            r.stderr
        );
        eprintln!("backup on a full disk ({stage}): {}", r.stderr.trim());
        std::fs::remove_file(&filler).unwrap();
        // Nothing lost, nothing half-made listed.
        integrity_ok(&s.registry());
        assert_eq!(case_count(&s.registry()), before);
        assert_eq!(s.json(&["backup", "list"]), backups_before, "{stage}");
        let partial: Vec<_> = cli::files_under(&s.st.home().join("backups"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "srb"))
            .collect();
        assert!(
            partial.is_empty(),
            "{stage}: a partial backup file is left: {partial:?}"
        );
    }
    // With room again, the next backup works and verifies; the leftovers are gone.
    let b = s.json(&["backup", "create", "--local-only"]);
    assert_eq!(b["verified"], true, "{b}");
    let id = b["id"].as_str().unwrap();
    assert_eq!(s.json(&["backup", "verify", id])["ok"], true);
    let tmp_left = std::fs::read_dir(s.st.home().join("tmp")).unwrap().count();
    assert_eq!(tmp_left, 0, "temp files left after the failed backup");
}

#[test]
fn a_disk_that_fills_during_a_restore_leaves_the_live_registry_as_it_was() {
    let Some((s, fs)) = station_on_tmpfs("160m") else {
        return;
    };
    add_bulk(&s, 4000);
    let b = s.json(&["backup", "create", "--local-only"]);
    let id = b["id"].as_str().unwrap().to_string();
    s.json(&[
        "case",
        "add",
        "--number",
        "2026-000001",
        "--title",
        "After the backup",
    ]);
    let before = case_count(&s.registry());
    let filler = fs.fill(1024 * 1024);
    let r = s.run(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--reason",
        "disk full test",
    ]);
    no_panic(&r, "restore on a full disk");
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        matches!(
            r.error_code(),
            Some("io_error" | "registry_error" | "disk_full")
        ),
        "{r:?}"
    );
    eprintln!("restore on a full disk: {}", r.stderr.trim());
    // The live registry is the one from before the restore, whole.
    integrity_ok(&s.registry());
    assert_eq!(case_count(&s.registry()), before);
    std::fs::remove_file(&filler).unwrap();
    // With room again the restore works, and the decrypted leftovers were removed.
    let restored = s.json(&["backup", "restore", &id, "--yes", "--reason", "room again"]);
    assert_eq!(
        restored["cases"].as_i64().unwrap(),
        before - 1,
        "{restored}"
    );
    integrity_ok(&s.registry());
    let tmp_left: Vec<_> = std::fs::read_dir(s.st.home().join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(tmp_left.is_empty(), "{tmp_left:?}");
}

#[test]
fn without_a_keyring_commands_say_so_and_never_panic() {
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
        "Keyless",
    ]);
    let no_bus = |args: &[&str]| {
        let mut cmd = s.st.command(args);
        cmd.env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/strongroom-bus",
        )
        .env_remove("AWS_SECRET_ACCESS_KEY");
        let r = Run::from(cmd.output().unwrap());
        no_panic(&r, &format!("{args:?} without a keyring"));
        r
    };
    for args in [&["backup", "create"][..], &["storage", "secret", "list"]] {
        let r = no_bus(args);
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        assert_eq!(
            r.error_code(),
            Some("keyring_unavailable"),
            "{args:?}: {r:?}"
        );
        assert!(r.stderr.contains("keyring"), "{}", r.stderr);
    }
    let mut cmd = s.st.command(&[
        "storage",
        "secret",
        "set",
        "aws_secret_access_key",
        "--stdin",
    ]);
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/strongroom-bus",
    );
    let r = cli::run_with_stdin(cmd, "some-secret\n");
    no_panic(&r, "secret set without a keyring");
    assert_eq!(r.error_code(), Some("keyring_unavailable"), "{r:?}");
    // `check` reports the unreachable key as a CRITICAL finding (exit 3), not a crash.
    let r = no_bus(&["--json", "check"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stdout.contains("KEY_UNREACHABLE"), "{}", r.stdout);
    // What needs no key still works.
    assert_eq!(no_bus(&["case", "list"]).code, 0);
    // A new station cannot be made without a keyring, and nothing half-made is left.
    let fresh = cli::Station::new();
    let mut cmd = fresh.command(&["init", "--passphrase-stdin"]);
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/strongroom-bus",
    );
    let r = cli::run_with_stdin(cmd, &format!("{}\n", cli::PASSPHRASE));
    no_panic(&r, "init without a keyring");
    assert_eq!(r.error_code(), Some("keyring_unavailable"), "{r:?}");
    assert!(
        !fresh.home().join("station.json").exists(),
        "no station without its key"
    );
    // With the keyring back, the station works as before.
    let b = s.json(&["backup", "create"]);
    assert_eq!(b["verified"], true);
}

/// A proxy that answers the first `first_n` HTTP requests itself with `status` (and an S3 or
/// Azure error body), closing each such connection, then forwards everything to `upstream`.
struct ErrorProxy {
    url: String,
    answered: Arc<AtomicU32>,
    _task: tokio::task::JoinHandle<()>,
    _rt: tokio::runtime::Runtime,
}

impl ErrorProxy {
    fn start(upstream: &str, status: &'static str, first_n: u32) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rt = tokio::runtime::Runtime::new().unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answered = Arc::new(AtomicU32::new(0));
        let counter = answered.clone();
        let upstream = upstream.to_string();
        let task = rt.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let counter = counter.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if counter.load(Ordering::SeqCst) < first_n {
                        counter.fetch_add(1, Ordering::SeqCst);
                        // Read the request head, answer, close.
                        let mut buf = vec![0u8; 64 * 1024];
                        let _ = tokio::time::timeout(
                            std::time::Duration::from_secs(2),
                            client.read(&mut buf),
                        )
                        .await;
                        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                        let resp = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\nx-ms-error-code: ServerBusy\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = client.write_all(resp.as_bytes()).await;
                        let _ = client.shutdown().await;
                        return;
                    }
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            url,
            answered,
            _task: task,
            _rt: rt,
        }
    }

    fn answered(&self) -> u32 {
        self.answered.load(Ordering::SeqCst)
    }
}

fn s3_station(endpoint: &str, bucket: &str) -> (cli::Station, Vec<(String, String)>) {
    let st = cli::Station::new();
    stand_in_init(
        &st.home(),
        "Busy",
        Some(&format!(
            "[cloud]\nenabled = true\nprovider = \"aws\"\n\n[aws]\nregion = \"us-east-1\"\n\
             endpoint_url = \"{endpoint}\"\nbackup_bucket = \"{bucket}\"\n\
             documents_bucket = \"{bucket}\"\naccess_key_id = \"strongroom-test\"\n"
        )),
    );
    let env = vec![(
        "AWS_SECRET_ACCESS_KEY".to_string(),
        "strongroom-test-secret".to_string(),
    )];
    (st, env)
}

fn run_env(st: &cli::Station, env: &[(String, String)], args: &[&str]) -> Run {
    let mut cmd = st.command(args);
    cmd.envs(env.iter().cloned());
    let r = Run::from(cmd.output().unwrap());
    no_panic(&r, &format!("{args:?}"));
    r
}

#[test]
fn a_store_answering_503_is_retried_and_a_store_that_keeps_failing_loses_nothing() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let bucket = services::unique_name("slowdown");
    let (st, env) = s3_station(&endpoint, &bucket);
    assert_eq!(run_env(&st, &env, &["storage", "prepare"]).code, 0);
    let case = "2026-000503";
    assert_eq!(
        run_env(
            &st,
            &env,
            &["case", "add", "--number", case, "--title", "Busy store"]
        )
        .code,
        0
    );
    let file = st.dir.path().join("statement.txt");
    std::fs::write(&file, b"a statement that survives a busy store").unwrap();

    // A few 503 SlowDown answers: retried, and the upload goes through.
    let proxy = ErrorProxy::start(&host_port(&endpoint), "503 Slow Down", 3);
    let settings = st.home().join("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(&settings, text.replace(&endpoint, &proxy.url)).unwrap();
    let r = run_env(
        &st,
        &env,
        &[
            "--json",
            "doc",
            "add",
            "--case",
            case,
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(proxy.answered(), 3, "the faults were injected");
    let docs: Value = serde_json::from_str(&r.stdout).unwrap();
    let id = docs[0]["id"].to_string();
    let out = st.dir.path().join("back.txt");
    assert_eq!(
        run_env(
            &st,
            &env,
            &["doc", "get", &id, "--out", out.to_str().unwrap()]
        )
        .code,
        0
    );
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&file).unwrap());
    drop(proxy);

    // A store that answers 500 to everything: a clear, transient error; nothing recorded
    // as stored; the file is queued and goes up once the store is back.
    let broken = ErrorProxy::start(&host_port(&endpoint), "500 Internal Server Error", 10_000);
    let text = std::fs::read_to_string(&settings).unwrap();
    let at_proxy = text.replace(&endpoint, &broken.url);
    let at_proxy = at_proxy
        .lines()
        .map(|l| {
            if l.starts_with("endpoint_url") {
                format!("endpoint_url = \"{}\"", broken.url)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&settings, at_proxy + "\n").unwrap();
    let second = st.dir.path().join("second.txt");
    std::fs::write(&second, b"uploaded while the store is down").unwrap();
    let r = run_env(
        &st,
        &env,
        &["doc", "add", "--case", case, second.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        matches!(r.error_code(), Some("store_error" | "store_unreachable")),
        "{r:?}"
    );
    assert!(broken.answered() > 1, "retried before giving up");
    let shown: Value =
        serde_json::from_str(&run_env(&st, &env, &["--json", "case", "show", case]).stdout)
            .unwrap();
    assert_eq!(shown["documents"].as_array().unwrap().len(), 1, "{shown}");
    drop(broken);
    let text = std::fs::read_to_string(&settings).unwrap();
    let healed = text
        .lines()
        .map(|l| {
            if l.starts_with("endpoint_url") {
                format!("endpoint_url = \"{endpoint}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&settings, healed + "\n").unwrap();
    let r = run_env(
        &st,
        &env,
        &[
            "--json",
            "doc",
            "add",
            "--case",
            case,
            second.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let shown: Value =
        serde_json::from_str(&run_env(&st, &env, &["--json", "case", "show", case]).stdout)
            .unwrap();
    assert_eq!(shown["documents"].as_array().unwrap().len(), 2, "{shown}");
}

/// The settings file of `st` with its S3 endpoint set to `endpoint`.
fn point_at(st: &cli::Station, endpoint: &str) {
    let settings = st.home().join("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let text: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("endpoint_url") {
                format!("endpoint_url = \"{endpoint}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&settings, text.join("\n") + "\n").unwrap();
}

#[test]
fn list_and_restore_from_the_cloud_survive_connection_resets() {
    use strongroom_tests::fault_proxy::{Fault, FaultProxy};
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    if services::keyring().is_none() {
        return;
    }
    let bucket = services::unique_name("resets");
    let (prep, env) = s3_station(&endpoint, &bucket);
    assert_eq!(run_env(&prep, &env, &["storage", "prepare"]).code, 0);
    let mut vars: Vec<(&str, &str)> = vec![
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "aws"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_S3_BACKUP_BUCKET", &bucket),
        ("AWS_S3_DOCUMENTS_BUCKET", &bucket),
        ("AWS_ACCESS_KEY_ID", "strongroom-test"),
        ("AWS_SECRET_ACCESS_KEY", "strongroom-test-secret"),
    ];
    let s = {
        let st = cli::Station::new();
        std::fs::create_dir_all(st.home()).unwrap();
        std::fs::write(
            st.home().join("settings.toml"),
            format!("[aws]\nendpoint_url = \"{endpoint}\"\n"),
        )
        .unwrap();
        let mut cmd = st.command(&[
            "--json",
            "init",
            "--passphrase-stdin",
            "--station",
            "Resets",
        ]);
        cmd.envs(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let r = cli::run_with_stdin(cmd, &format!("{}\n", cli::PASSPHRASE));
        assert_eq!(r.code, 0, "{r:?}");
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        vars.push(("STRONGROOM_OFFICER", "Test Officer"));
        Initialised::recovered(
            st,
            v["station"].as_str().unwrap(),
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    add_bulk(&s, 300);
    let b = s.json(&["backup", "create"]);
    let id = b["id"].as_str().unwrap().to_string();
    assert!(b["cloud_key"].is_string(), "{b}");
    // The local copy is lost: the restore must come from the cloud.
    std::fs::remove_file(b["local_path"].as_str().unwrap()).unwrap();
    s.json(&["case", "add", "--number", "2026-000001", "--title", "After"]);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let proxy = rt
        .block_on(FaultProxy::start(&host_port(&endpoint), Fault::Reset, 4))
        .unwrap();
    point_at(&s.st, &proxy.url());
    let listed = s.json(&["backup", "list", "--remote"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str()),
        "{listed}"
    );
    let restored = s.json(&["backup", "restore", &id, "--yes", "--reason", "resets"]);
    assert_eq!(restored["cases"], 300, "{restored}");
    assert_eq!(proxy.faults_injected(), 4, "the resets happened");
    integrity_ok(&s.registry());
    eprintln!(
        "list + restore through {} resets over {} connections",
        proxy.faults_injected(),
        proxy.connections()
    );
}

/// Runs as a helper process: sets up an IAM user with full S3 rights, its access key and a
/// bucket on the IAM-checking moto, turns the checks on, prints `ID SECRET`; then, for each
/// line `revoke` on stdin, deletes the key, and for `new`, makes and prints a new one.
const IAM_HELPER: &str = r#"
import json, sys, urllib.request
import boto3
ep, bucket = sys.argv[1], sys.argv[2]
def reset_auth(count):
    urllib.request.urlopen(urllib.request.Request(ep + "/moto-api/reset-auth", data=count, method="POST",
                                                  headers={"Content-Type": "text/plain"}))
kw = dict(endpoint_url=ep, region_name="us-east-1",
          aws_access_key_id="setup", aws_secret_access_key="setup")
reset_auth(b"1000000")
iam = boto3.client("iam", **kw)
user = "uploader-" + bucket
iam.create_user(UserName=user)
iam.put_user_policy(UserName=user, PolicyName="s3-all", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}],
}))
key = iam.create_access_key(UserName=user)["AccessKey"]
boto3.client("s3", **kw).create_bucket(Bucket=bucket)
reset_auth(b"0")
print(key["AccessKeyId"], key["SecretAccessKey"], flush=True)
for line in sys.stdin:
    reset_auth(b"1000000")
    if line.strip() == "revoke":
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        reset_auth(b"0")
        print("revoked", flush=True)
    elif line.strip() == "new":
        key = iam.create_access_key(UserName=user)["AccessKey"]
        reset_auth(b"0")
        print(key["AccessKeyId"], key["SecretAccessKey"], flush=True)
"#;

#[test]
fn credentials_revoked_midway_through_an_upload_lose_nothing_and_new_ones_resume_it() {
    use std::io::{BufRead, BufReader};
    use strongroom_core::paths::Home;
    use strongroom_core::registry::{documents, uploads, IntegrityCheck};
    let Some((endpoint, python)) = services::s3_auth_endpoint() else {
        return;
    };
    let bucket = services::unique_name("revoked");
    let mut helper = Command::new(&python)
        .args(["-c", IAM_HELPER, &endpoint, &bucket])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_helper = helper.stdin.take().unwrap();
    let mut from_helper = BufReader::new(helper.stdout.take().unwrap());
    let mut line = String::new();
    from_helper.read_line(&mut line).unwrap();
    let (id, secret) = {
        let (a, b) = line.trim().split_once(' ').expect("key id and secret");
        (a.to_string(), b.to_string())
    };
    let st = cli::Station::new();
    stand_in_init(
        &st.home(),
        "Revoked",
        Some(&format!(
            "[cloud]\nenabled = true\nprovider = \"aws\"\n\n[aws]\nregion = \"us-east-1\"\n\
             endpoint_url = \"{endpoint}\"\nbackup_bucket = \"{bucket}\"\n\
             documents_bucket = \"{bucket}\"\npart_size_mib = 5\nconcurrency = 1\n"
        )),
    );
    let env = |id: &str, secret: &str| {
        vec![
            ("AWS_ACCESS_KEY_ID".to_string(), id.to_string()),
            ("AWS_SECRET_ACCESS_KEY".to_string(), secret.to_string()),
        ]
    };
    let first = env(&id, &secret);
    let case = "2026-000401";
    assert_eq!(
        run_env(
            &st,
            &first,
            &["case", "add", "--number", case, "--title", "Revoked"]
        )
        .code,
        0
    );
    let mut big = vec![0u8; 60 * 1024 * 1024];
    rand::thread_rng().fill_bytes(&mut big);
    let file = st.dir.path().join("interview.mp4");
    std::fs::write(&file, &big).unwrap();
    let registry =
        || Registry::open_with(Home::at(st.home()).registry(), IntegrityCheck::Header).unwrap();
    let mut cmd = st.command(&["doc", "add", "--case", case, file.to_str().unwrap()]);
    cmd.envs(first.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    // Revoke the key once the store has confirmed two parts.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no part was recorded in time"
        );
        assert!(
            Path::new(&format!("/proc/{pid}")).exists(),
            "the upload ended before the key could be revoked"
        );
        let done = registry()
            .read(uploads::open)
            .unwrap()
            .first()
            .map(|u| u.parts_done.len())
            .unwrap_or(0);
        if done >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    writeln!(to_helper, "revoke").unwrap();
    line.clear();
    from_helper.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "revoked");
    let r = Run::from(child.wait_with_output().unwrap());
    no_panic(&r, "doc add with a revoked key");
    eprintln!(
        "doc add, key revoked midway: {}",
        r.stderr.lines().last().unwrap_or("")
    );
    let documents_now = registry().read(documents::count).unwrap();
    if r.code == 0 {
        // The last parts may all have been sent before the revocation took effect.
        eprintln!("the upload finished before the revocation reached it");
        assert_eq!(documents_now, 1);
    } else {
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            matches!(
                r.error_code(),
                Some("credentials_invalid" | "permission_denied")
            ),
            "{r:?}"
        );
        assert!(!r.stderr.contains(&secret), "the secret is never printed");
        assert_eq!(documents_now, 0, "nothing recorded as stored");
        let open = registry().read(uploads::open).unwrap();
        assert_eq!(open.len(), 1, "the upload stays queued");
        // New credentials: the queued upload continues and completes.
        writeln!(to_helper, "new").unwrap();
        line.clear();
        from_helper.read_line(&mut line).unwrap();
        let (id2, secret2) = line.trim().split_once(' ').expect("a new key");
        let second = env(id2, secret2);
        let r = run_env(
            &st,
            &second,
            &[
                "--json",
                "doc",
                "add",
                "--case",
                case,
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
        let docs: Value = serde_json::from_str(&r.stdout).unwrap();
        let out = st.dir.path().join("back.mp4");
        let id = docs[0]["id"].to_string();
        assert_eq!(
            run_env(
                &st,
                &second,
                &["doc", "get", &id, "--out", out.to_str().unwrap()]
            )
            .code,
            0
        );
        assert!(
            std::fs::read(&out).unwrap() == big,
            "the document came back whole"
        );
        assert!(registry().read(uploads::open).unwrap().is_empty());
    }
    drop(to_helper);
    let _ = helper.wait();
}

#[test]
fn no_backup_or_restore_runs_while_an_upload_holds_the_home() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    if services::keyring().is_none() {
        return;
    }
    let bucket = services::unique_name("locked");
    let (prep, env) = s3_station(&endpoint, &bucket);
    assert_eq!(run_env(&prep, &env, &["storage", "prepare"]).code, 0);
    let s = Initialised::new(&[]);
    s.json(&[
        "case",
        "add",
        "--number",
        "2026-000700",
        "--title",
        "Locked",
    ]);
    let b = s.json(&["backup", "create", "--local-only"]);
    let id = b["id"].as_str().unwrap().to_string();
    // The documents go to S3 in small parts, one at a time: the upload lasts a while.
    std::fs::write(
        s.st.home().join("settings.toml"),
        format!(
            "[cloud]\nenabled = true\nprovider = \"aws\"\n\n[aws]\nregion = \"us-east-1\"\n\
             endpoint_url = \"{endpoint}\"\nbackup_bucket = \"{bucket}\"\n\
             documents_bucket = \"{bucket}\"\naccess_key_id = \"strongroom-test\"\n\
             part_size_mib = 5\nconcurrency = 1\n"
        ),
    )
    .unwrap();
    let mut big = vec![0u8; 100 * 1024 * 1024];
    rand::thread_rng().fill_bytes(&mut big);
    let file = s.st.dir.path().join("cctv.mp4");
    std::fs::write(&file, &big).unwrap();
    let mut cmd = s.st.command(&[
        "doc",
        "add",
        "--case",
        "2026-000700",
        file.to_str().unwrap(),
    ]);
    cmd.envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut upload = cmd.spawn().unwrap();
    // Wait until the upload is under way (queued in the registry: it holds the job lock).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never started"
        );
        assert!(
            upload.try_wait().unwrap().is_none(),
            "the upload ended too soon"
        );
        let reg = Registry::open_with(
            s.registry(),
            strongroom_core::registry::IntegrityCheck::Header,
        )
        .unwrap();
        if !reg
            .read(strongroom_core::registry::uploads::open)
            .unwrap()
            .is_empty()
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let live_before = case_count(&s.registry());
    let mut refused = 0;
    for args in [
        &[
            "backup",
            "restore",
            id.as_str(),
            "--yes",
            "--reason",
            "while uploading",
        ][..],
        &["backup", "create", "--local-only"],
    ] {
        let mut all: Vec<&str> = args.to_vec();
        all.insert(0, "--json");
        let mut c = s.st.command(&all);
        c.envs(env.iter().cloned());
        let r = Run::from(c.output().unwrap());
        no_panic(&r, "a job while another runs");
        if upload.try_wait().unwrap().is_some() {
            break; // the upload ended first: nothing left to collide with
        }
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        let e: Value = serde_json::from_str(r.stderr.trim()).unwrap();
        assert_eq!(e["error"]["code"], "busy", "{args:?}: {r:?}");
        refused += 1;
    }
    assert!(refused > 0, "at least one job met the running upload");
    eprintln!("{refused} job(s) refused as busy while the upload ran");
    // Registry-only work is not blocked.
    let mut c = s.st.command(&[
        "case",
        "add",
        "--number",
        "2026-000701",
        "--title",
        "Meanwhile",
    ]);
    c.envs(env.iter().cloned());
    assert_eq!(Run::from(c.output().unwrap()).code, 0);
    let status = upload.wait().unwrap();
    assert!(status.success(), "the upload finished: {status:?}");
    assert_eq!(case_count(&s.registry()), live_before + 1);
    let shown = s.json(&["case", "show", "2026-000700"]);
    assert_eq!(shown["documents"].as_array().unwrap().len(), 1, "{shown}");
}

/// Entries of `dir` that a restore --to left beside its target.
fn restore_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".strongroom-restore"))
        .collect()
}

#[test]
fn kill_9_during_restore_to_leaves_no_partial_copy_behind_after_the_next_run() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    add_bulk(&s, 3000);
    let cases = case_count(&s.registry());
    let b = s.json(&["backup", "create", "--local-only"]);
    let id = b["id"].as_str().unwrap().to_string();
    let dir = s.st.dir.path().join("court-copy");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("registry-copy.sqlite3");
    let mut landed = 0;
    for delay_ms in [60u64, 150, 250, 400, 600, 900] {
        let mut cmd = s.st.command(&[
            "backup",
            "restore",
            &id,
            "--yes",
            "--to",
            target.to_str().unwrap(),
        ]);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let running = child.try_wait().unwrap().is_none();
        if running {
            child.kill().unwrap();
        }
        child.wait().unwrap();
        if running && !restore_leftovers(&dir).is_empty() {
            landed += 1;
        }
        // The target is absent or a whole, checked copy: never a part of one.
        if target.exists() {
            integrity_ok(&target);
            assert_eq!(case_count(&target), cases);
            std::fs::remove_file(&target).unwrap();
        }
        eprintln!(
            "restore --to killed at {delay_ms} ms: running={running}, leftovers={:?}",
            restore_leftovers(&dir)
        );
    }
    assert!(
        landed > 0,
        "at least one kill landed while the copy was written"
    );
    // The next run finishes, and removes what the killed runs left: a partial registry
    // (plain case data) must not stay in the officer's folder.
    let r = s.json(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--to",
        target.to_str().unwrap(),
    ]);
    assert_eq!(r["cases"].as_i64().unwrap(), cases, "{r}");
    integrity_ok(&target);
    assert_eq!(restore_leftovers(&dir), Vec::<String>::new());
}

#[test]
fn two_uploads_of_the_same_file_at_once_make_one_document() {
    let st = cli::Station::new();
    stand_in_init(&st.home(), "Twice", None);
    let case = "2026-000002";
    let r = Run::from(
        st.command(&["case", "add", "--number", case, "--title", "Twice"])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let mut big = vec![0u8; 24 * 1024 * 1024];
    rand::thread_rng().fill_bytes(&mut big);
    let file = st.dir.path().join("cctv.bin");
    std::fs::write(&file, &big).unwrap();
    let spawn = || {
        st.command(&[
            "--json",
            "doc",
            "add",
            "--case",
            case,
            file.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let runs = [
        Run::from(a.wait_with_output().unwrap()),
        Run::from(b.wait_with_output().unwrap()),
    ];
    let mut ids = Vec::new();
    for r in &runs {
        no_panic(r, "concurrent doc add");
        match r.code {
            0 => {
                let d: Value = serde_json::from_str(&r.stdout).unwrap();
                ids.push(d[0]["id"].as_i64().unwrap());
            }
            _ => {
                let e: Value = serde_json::from_str(r.stderr.trim()).unwrap();
                assert_eq!(e["error"]["code"], "busy", "{r:?}");
            }
        }
    }
    eprintln!(
        "two doc add at once: exit codes {:?}",
        runs.iter().map(|r| r.code).collect::<Vec<_>>()
    );
    assert!(
        !ids.is_empty(),
        "at least one upload went through: {runs:?}"
    );
    ids.dedup();
    assert_eq!(ids.len(), 1, "one document, whoever won: {runs:?}");
    // The registry and the store hold it once.
    let shown: Value = {
        let r = Run::from(
            st.command(&["--json", "case", "show", case])
                .output()
                .unwrap(),
        );
        serde_json::from_str(&r.stdout).unwrap()
    };
    assert_eq!(shown["documents"].as_array().unwrap().len(), 1, "{shown}");
    let docs_dir = st.home().join("documents");
    let objects: Vec<_> = cli::files_under(&docs_dir)
        .into_iter()
        .filter(|p| {
            !p.strip_prefix(&docs_dir)
                .unwrap()
                .starts_with(".strongroom")
        })
        .collect();
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(std::fs::read(&objects[0]).unwrap().len(), big.len());
}
