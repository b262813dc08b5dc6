//! Secrets never leak. Every workflow runs with canary secrets — a recovery passphrase, an S3
//! secret key (moto), an Azure SAS and a wrong Azure account key (Azurite) — and afterwards
//! every file under the station's temp dir (the home, the XDG data/config/cache dirs and the
//! TMPDIR given to the CLI, the SQLite files byte for byte) and every captured stdout and
//! stderr (also with RUST_LOG=debug) is scanned: no canary may appear. Secrets reach the CLI
//! on stdin, never as an argument; a waiting process shows none in its argv or environment.
//! The key types zeroize their memory when dropped (checked on the types, at compile time).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use strongroom_tests::cli::{self, files_under, Run};
use strongroom_tests::services::{self, AZURITE_ACCOUNT, AZURITE_KEY};

const CANARY_PASSPHRASE: &str = "Canary-Pass 7f3a umbrella harbour lantern 91!";
const CANARY_WRONG_PASSPHRASE: &str = "Canary-Wrong 5d1c tractor violet meadow 23?";
const CANARY_S3_SECRET: &str = "CANARYs3secretKEY0b9d2e7f4a1c";
/// A well-formed (base64) Azure account key that is not the account's: Azurite refuses it.
fn canary_azure_key() -> String {
    base64::engine::general_purpose::STANDARD
        .encode(b"CANARY-azure-account-key-4e8b-0123456789abcdef0123456789abcdef")
}

/// One station home and everything the CLI was given and said.
struct Canaries {
    st: cli::Station,
    id: String,
    outputs: Vec<(String, Run)>,
    secrets: Vec<String>,
}

const CLOUD_VARS: [&str; 12] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_PROFILE",
    "BACKUP_CLOUD_STORAGE_ENABLED",
    "BACKUP_CLOUD_PROVIDER",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_BLOB_ENDPOINT",
    "AZURE_CLIENT_SECRET",
];

impl Canaries {
    fn new() -> Self {
        let st = cli::Station::new();
        std::fs::create_dir_all(st.dir.path().join("tmpdir")).unwrap();
        Self {
            st,
            id: String::new(),
            outputs: Vec::new(),
            secrets: vec![
                CANARY_PASSPHRASE.into(),
                CANARY_WRONG_PASSPHRASE.into(),
                CANARY_S3_SECRET.into(),
                canary_azure_key(),
                "CANARY-azure-account-key".into(),
            ],
        }
    }

    fn dir(&self) -> &Path {
        self.st.dir.path()
    }

    /// The CLI with no secret in its environment, its temp files in the station's dir.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.st.command(args);
        for v in CLOUD_VARS {
            cmd.env_remove(v);
        }
        cmd.env("TMPDIR", self.dir().join("tmpdir"));
        cmd
    }

    fn record(&mut self, args: &[&str], r: Run) -> Run {
        assert_ne!(r.code, 101, "{args:?} panicked: {r:?}");
        self.outputs.push((args.join(" "), r.clone()));
        r
    }

    fn run(&mut self, args: &[&str]) -> Run {
        let r = Run::from(self.command(args).output().unwrap());
        self.record(args, r)
    }

    fn run_debug(&mut self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.env("RUST_LOG", "trace");
        let r = Run::from(cmd.output().unwrap());
        self.record(args, r)
    }

    fn ok(&mut self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        serde_json::from_str(&r.stdout).unwrap()
    }

    fn stdin(&mut self, args: &[&str], input: &str) -> Run {
        let r = cli::run_with_stdin(self.command(args), input);
        self.record(args, r)
    }

    fn settings(&self, toml: &str) {
        std::fs::write(self.st.home().join("settings.toml"), toml).unwrap();
    }

    fn secret_set(&mut self, name: &str, value: &str) {
        let r = self.stdin(
            &["storage", "secret", "set", name, "--stdin"],
            &format!("{value}\n"),
        );
        assert_eq!(r.code, 0, "secret set {name}: {r:?}");
    }

    /// No canary in any output so far, nor in any file under the station's temp dir.
    fn scan(&self) {
        let needles: Vec<Vec<u8>> = self
            .secrets
            .iter()
            .flat_map(|s| {
                let mut v = vec![s.as_bytes().to_vec()];
                // The base64 of the Azure canary key decodes to a recognisable text too.
                if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(s) {
                    v.push(raw);
                }
                v
            })
            .collect();
        for (args, r) in &self.outputs {
            for n in &needles {
                let n = String::from_utf8_lossy(n);
                assert!(
                    !r.stdout.contains(n.as_ref()) && !r.stderr.contains(n.as_ref()),
                    "`strongroom {args}` printed a secret"
                );
            }
        }
        let files = files_under(self.dir());
        assert!(
            files.iter().any(|f| f.ends_with("registry.sqlite3")),
            "the scan sees the registry: {files:?}"
        );
        for f in &files {
            let bytes = std::fs::read(f).unwrap_or_default();
            for n in &needles {
                assert!(
                    !bytes.windows(n.len()).any(|w| w == n.as_slice()),
                    "{} holds a secret",
                    f.display()
                );
            }
        }
    }
}

/// An account SAS for Azurite signed with its (public, well-known) development key.
fn account_sas(permissions: &str) -> String {
    let version = "2021-08-06";
    let expiry = "2099-01-01T00:00:00Z";
    let sts = format!(
        "{AZURITE_ACCOUNT}\n{permissions}\nb\nsco\n\n{expiry}\n\nhttps,http\n{version}\n\n"
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(AZURITE_KEY)
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(sts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sig: String = sig
        .chars()
        .map(|c| match c {
            '+' => "%2B".to_string(),
            '/' => "%2F".to_string(),
            '=' => "%3D".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("sv={version}&ss=b&srt=sco&sp={permissions}&se={expiry}&spr=https,http&sig={sig}")
}

/// The `sig=` value of a SAS: the secret part.
fn sig_of(sas: &str) -> String {
    sas.split("sig=").nth(1).unwrap().to_string()
}

#[test]
fn canary_secrets_never_reach_a_file_an_output_or_a_log() {
    let (Some(s3), Some(azurite), Some(())) = (
        services::s3_endpoint(),
        services::azurite_endpoint(),
        services::keyring(),
    ) else {
        return;
    };
    let mut c = Canaries::new();
    let sas = account_sas("rwdlac");
    let read_only_sas = account_sas("rl");
    c.secrets.push(sas.clone());
    for sig in [sig_of(&sas), sig_of(&read_only_sas)] {
        // As it is in the URL, and percent-decoded (as a log of the parsed query would show).
        let decoded = sig
            .replace("%2B", "+")
            .replace("%2F", "/")
            .replace("%3D", "=");
        c.secrets.push(sig);
        c.secrets.push(decoded);
    }

    // init with the canary passphrase (local first, as a new station does).
    let r = c.stdin(
        &[
            "--json",
            "init",
            "--passphrase-stdin",
            "--station",
            "Canary",
        ],
        &format!("{CANARY_PASSPHRASE}\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    c.id = v["station"].as_str().unwrap().to_string();
    let _keys = cli::Keys(c.id.clone());
    let ring = strongroom_core::secrets::Keyring::for_station(&c.id);
    let _cleanup = Cleanup(ring.clone());
    // A wrong recovery passphrase, and the right one: neither is printed or stored.
    let wrong = c.stdin(
        &["keys", "recover", "--passphrase-stdin"],
        &format!("{CANARY_WRONG_PASSPHRASE}\n"),
    );
    assert_eq!(wrong.error_code(), Some("wrong_passphrase"), "{wrong:?}");
    c.stdin(
        &["--json", "keys", "recover", "--passphrase-stdin"],
        &format!("{CANARY_PASSPHRASE}\n"),
    );
    c.ok(&[
        "case",
        "add",
        "--number",
        "2026-000042",
        "--title",
        "Canary case",
    ]);
    let doc = c.dir().join("statement.txt");
    std::fs::write(&doc, b"a witness statement").unwrap();

    // --- S3 (moto) with the canary secret key from the keyring.
    let bucket = services::unique_name("canary");
    c.settings(&format!(
        "[cloud]\nenabled = true\nprovider = \"aws\"\n\n[aws]\nregion = \"us-east-1\"\n\
         endpoint_url = \"{s3}\"\nbackup_bucket = \"{bucket}\"\ndocuments_bucket = \"{bucket}\"\n\
         access_key_id = \"AKIDCANARYSTATION\"\n"
    ));
    c.secret_set("aws_secret_access_key", CANARY_S3_SECRET);
    assert_eq!(
        ring.get("aws_secret_access_key")
            .unwrap()
            .unwrap()
            .expose()
            .as_str(),
        CANARY_S3_SECRET,
        "the secret is in the keyring"
    );
    c.ok(&["storage", "prepare"]);
    c.ok(&["storage", "test"]);
    let added = c.ok(&["doc", "add", "--case", "2026-000042", doc.to_str().unwrap()]);
    let doc_id = added[0]["id"].to_string();
    let b = c.ok(&["backup", "create"]);
    assert!(b["cloud_key"].is_string(), "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    c.ok(&["backup", "verify", &id]);
    c.ok(&["backup", "list", "--remote"]);
    let out = c.dir().join("statement-back.txt");
    c.ok(&["doc", "get", &doc_id, "--out", out.to_str().unwrap()]);
    c.ok(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--reason",
        "canary drill",
    ]);
    c.ok(&["backup", "drill"]);
    c.run(&["check"]);
    c.run_debug(&["backup", "create"]);
    c.run_debug(&["storage", "test"]);
    c.scan();

    // --- Azure (Azurite) with a SAS from the keyring.
    let container = services::unique_name("canary");
    c.settings(&format!(
        "[cloud]\nenabled = true\nprovider = \"azure\"\n\n[azure]\naccount_name = \"{AZURITE_ACCOUNT}\"\n\
         blob_endpoint = \"{azurite}\"\nbackup_container = \"{container}\"\n\
         documents_container = \"{container}\"\n"
    ));
    c.secret_set("azure_storage_sas_token", &sas);
    c.ok(&["storage", "prepare"]);
    c.ok(&["storage", "test"]);
    // New content: the S3 document is already recorded (and lives in S3).
    let doc = c.dir().join("photo-log.txt");
    std::fs::write(&doc, b"a photo log for the Azure container").unwrap();
    let added = c.ok(&["doc", "add", "--case", "2026-000042", doc.to_str().unwrap()]);
    let doc_id = added[0]["id"].to_string();
    let b = c.ok(&["backup", "create"]);
    assert!(b["cloud_key"].is_string(), "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    c.ok(&["backup", "list", "--remote"]);
    c.ok(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--reason",
        "canary drill",
    ]);
    let out = c.dir().join("statement-az.txt");
    c.ok(&["doc", "get", &doc_id, "--out", out.to_str().unwrap()]);
    c.run_debug(&["backup", "list", "--remote"]);
    c.run_debug(&["doc", "get", &doc_id, "--out", out.to_str().unwrap()]);
    // A SAS that may only read: the failures name the permission, never the SAS.
    c.secret_set("azure_storage_sas_token", &read_only_sas);
    let denied = c.run(&["storage", "test"]);
    assert_ne!(denied.code, 0, "{denied:?}");
    c.run_debug(&["backup", "create"]);
    // A wrong account key: refused as such, the key never printed.
    c.run(&["storage", "secret", "delete", "azure_storage_sas_token"]);
    c.secret_set("azure_storage_account_key", &canary_azure_key());
    let bad = c.run(&["storage", "test"]);
    assert_eq!(bad.error_code(), Some("credentials_invalid"), "{bad:?}");
    let bad = c.run_debug(&["--json", "backup", "create"]);
    assert_ne!(bad.code, 101);
    let third = c.dir().join("interview.txt");
    std::fs::write(&third, b"an interview, never uploaded with a wrong key").unwrap();
    let bad = c.run(&[
        "doc",
        "add",
        "--case",
        "2026-000042",
        third.to_str().unwrap(),
    ]);
    assert_ne!(bad.code, 0, "{bad:?}");
    c.run(&["--json", "audit", "list", "--limit", "1000"]);
    let export = c.dir().join("audit.json");
    c.run(&[
        "audit",
        "export",
        "--format",
        "json",
        "--out",
        export.to_str().unwrap(),
    ]);
    assert!(export.is_file());
    c.scan();
    assert!(c.outputs.len() > 30, "{} runs", c.outputs.len());
    let logged = c
        .outputs
        .iter()
        .filter(|(_, r)| r.stderr.contains("TRACE") || r.stderr.contains("DEBUG"))
        .count();
    assert!(
        logged >= 5,
        "the RUST_LOG runs logged (and were scanned): {logged}"
    );
}

/// Removes the station's cloud secrets from the keyring when dropped.
struct Cleanup(strongroom_core::secrets::Keyring);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for n in [
            "aws_secret_access_key",
            "azure_storage_sas_token",
            "azure_storage_account_key",
        ] {
            let _ = self.0.delete(n);
        }
    }
}

#[test]
fn secrets_are_never_taken_from_an_argument() {
    let st = cli::Station::new();
    strongroom_tests::station::stand_in_init(&st.home(), "Args", None);
    let station =
        strongroom_core::station::Station::load(&strongroom_core::paths::Home::at(st.home()))
            .unwrap()
            .unwrap();
    let joined = format!("aws_secret_access_key={CANARY_S3_SECRET}");
    for args in [
        &[
            "storage",
            "secret",
            "set",
            "aws_secret_access_key",
            CANARY_S3_SECRET,
        ][..],
        &[
            "storage",
            "secret",
            "set",
            "aws_secret_access_key",
            "--value",
            CANARY_S3_SECRET,
        ],
        &["storage", "secret", "set", joined.as_str()],
        &["init", "--passphrase", CANARY_PASSPHRASE],
        &["keys", "recover", "--passphrase", CANARY_PASSPHRASE],
    ] {
        let r = Run::from(st.command(args).output().unwrap());
        assert_ne!(r.code, 0, "{args:?} must be refused: {r:?}");
        assert_ne!(r.code, 101, "{r:?}");
    }
    if services::keyring().is_some() {
        let ring = strongroom_core::secrets::Keyring::for_station(&station.id);
        assert!(
            ring.get("aws_secret_access_key").unwrap().is_none(),
            "nothing was stored"
        );
    }
    // Without --stdin and without a terminal, nothing is read and nothing is stored.
    let r = cli::run_with_stdin(
        st.command(&["storage", "secret", "set", "aws_secret_access_key"]),
        &format!("{CANARY_S3_SECRET}\n"),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.error_code(), Some("secret_required"), "{r:?}");
}

#[test]
fn a_process_waiting_for_a_secret_shows_none_in_its_arguments_or_environment() {
    if services::keyring().is_none() {
        return;
    }
    let st = cli::Station::new();
    let station = strongroom_tests::station::stand_in_init(&st.home(), "Proc", None);
    let _cleanup = Cleanup(strongroom_core::secrets::Keyring::for_station(&station.id));
    let mut child = st
        .command(&[
            "storage",
            "secret",
            "set",
            "aws_secret_access_key",
            "--stdin",
        ])
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Half the secret is typed; the process is waiting for the end of the line.
    let (first, rest) = CANARY_S3_SECRET.split_at(10);
    stdin.write_all(first.as_bytes()).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let proc = PathBuf::from(format!("/proc/{}", child.id()));
    let cmdline = std::fs::read(proc.join("cmdline")).unwrap();
    let environ = std::fs::read(proc.join("environ")).unwrap();
    for (what, bytes) in [("argv", &cmdline), ("environment", &environ)] {
        assert!(
            !bytes.windows(first.len()).any(|w| w == first.as_bytes()),
            "the secret is in the process's {what}"
        );
    }
    assert!(
        cmdline.windows(6).any(|w| w == b"secret"),
        "read the right process"
    );
    stdin.write_all(format!("{rest}\n").as_bytes()).unwrap();
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "secret set did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = Run::from(child.wait_with_output().unwrap());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains(CANARY_S3_SECRET) && !out.stderr.contains(CANARY_S3_SECRET));
    let stored = strongroom_core::secrets::Keyring::for_station(&station.id)
        .get("aws_secret_access_key")
        .unwrap()
        .unwrap();
    assert_eq!(stored.expose(), CANARY_S3_SECRET);
}

#[test]
fn the_station_home_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let st = cli::Station::new();
    strongroom_tests::station::stand_in_init(&st.home(), "Perms", None);
    // A command creates what it needs; every folder of the home is rwx for the owner only.
    let r = Run::from(st.command(&["case", "list"]).output().unwrap());
    assert_eq!(r.code, 0, "{r:?}");
    let home = st.home();
    for dir in ["", "backups", "documents", "logs", "tmp"] {
        let p = home.join(dir);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", p.display());
    }
}

/// Compile-time checks: these types wipe their memory when dropped.
fn zeroized_on_drop<T: zeroize::ZeroizeOnDrop>() {}
fn zeroizable<T: zeroize::Zeroize>() {}

#[test]
fn key_and_secret_types_are_zeroized_on_drop() {
    use strongroom_core::crypto::{DataKey, MasterKey};
    use strongroom_core::secrets::Sensitive;
    zeroized_on_drop::<Sensitive<String>>();
    zeroized_on_drop::<Sensitive<Vec<u8>>>();
    zeroized_on_drop::<DataKey>();
    zeroized_on_drop::<MasterKey>();
    zeroizable::<Sensitive<String>>();

    // And the wiping itself: a Sensitive value zeroized in place is empty.
    use zeroize::Zeroize;
    let mut s = Sensitive::new(String::from(CANARY_S3_SECRET));
    s.zeroize();
    assert!(s.expose().is_empty());
    // Neither prints its value.
    let k = MasterKey::generate();
    let printed = format!("{k:?} {:?}", Sensitive::new(CANARY_S3_SECRET.to_string()));
    assert!(!printed.contains(CANARY_S3_SECRET));
    assert!(printed.contains(&k.id().to_hex()));
}
