//! The whole disaster on Azurite through the real binary: station A (Azure on) with cases and a
//! document backs up; its home and keyring entries are lost; a fresh home B with the same
//! settings recovers the key, finds the backup in the container, restores, and every case and
//! the document come back verified, with the audit chain intact.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use strongroom_core::crypto::KeyStore;
use strongroom_tests::cli::{Keys, Run, Station, PASSPHRASE};
use strongroom_tests::services::{self, AZURITE_ACCOUNT, AZURITE_KEY};

/// One home with the Azure settings in its environment.
struct Home {
    st: Station,
    env: Vec<(String, String)>,
}

impl Home {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.st.command(args);
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ENDPOINT_URL",
            "AZURE_STORAGE_CONNECTION_STRING",
            "AZURE_STORAGE_SAS_TOKEN",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(self.env.iter().cloned());
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("the binary runs"))
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!(r.code, 0, "strongroom {args:?} failed: {}", r.stderr);
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}): {}", r.stdout))
    }

    fn case_numbers(&self) -> Vec<String> {
        let v = self.json(&["case", "list", "--limit", "1000"]);
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["number"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    }
}

#[test]
fn the_disaster_on_azure_station_b_recovers_every_case_and_document() {
    let (Some(endpoint), Some(())) = (services::azurite_endpoint(), services::keyring()) else {
        return;
    };
    let backups = services::unique_name("disaster-backups");
    let documents = services::unique_name("disaster-docs");
    let env: Vec<(String, String)> = [
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "azure"),
        ("AZURE_STORAGE_ACCOUNT_NAME", AZURITE_ACCOUNT),
        ("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY),
        ("AZURE_STORAGE_BLOB_ENDPOINT", endpoint.as_str()),
        ("AZURE_BACKUP_CONTAINER", backups.as_str()),
        ("AZURE_DOCUMENTS_CONTAINER", documents.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    // Station A: containers prepared, then init with the recovery file in the container.
    let a = Home {
        st: Station::new(),
        env: env.clone(),
    };
    // init writes the recovery file into the backups container, so the destination is
    // prepared first, on the still uninitialised home.
    let prepared = a.json(&["storage", "prepare"]);
    assert!(prepared["backups"].is_object(), "{prepared}");
    let r = a.run_with_stdin(
        &[
            "--json",
            "init",
            "--passphrase-stdin",
            "--station",
            "Northgate",
        ],
        &format!("{PASSPHRASE}\n"),
    );
    assert_eq!(r.code, 0, "init failed: {}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let station = v["station"].as_str().unwrap().to_string();
    let _keys = Keys(station.clone());
    // Prepare again on the ready containers: idempotent, and it must not fail.
    a.json(&["storage", "prepare"]);

    let numbers = ["2026-000201", "2026-000202", "2026-000203"];
    for (i, n) in numbers.iter().enumerate() {
        a.json(&[
            "case",
            "add",
            "--number",
            n,
            "--title",
            &format!("Case {i} of station A"),
        ]);
    }
    let content: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = a.st.dir.path().join("interview.bin");
    std::fs::write(&file, &content).unwrap();
    let docs = a.json(&["doc", "add", "--case", numbers[1], file.to_str().unwrap()]);
    let doc = &docs.as_array().unwrap()[0];
    let doc_id = doc["id"].to_string();
    let doc_sha = doc["sha256"].as_str().unwrap().to_string();

    let b = a.json(&["backup", "create"]);
    let id = b["id"].as_str().unwrap().to_string();
    assert_eq!(b["verified"], true, "{b}");
    let key = b["cloud_key"]
        .as_str()
        .expect("uploaded to Azure")
        .to_string();
    assert!(
        key.starts_with(&format!("backups/{station}/")) && key.ends_with(".srb"),
        "{key}"
    );

    // Station A's home is lost; its keyring entries go with the workstation.
    std::fs::remove_dir_all(a.st.home()).unwrap();
    KeyStore::for_station(&station).remove_all().unwrap();

    // Station B: a fresh home with the same settings.
    let b = Home {
        st: Station::new(),
        env,
    };
    let r = b.run_with_stdin(
        &["keys", "recover", "--passphrase-stdin"],
        "not the passphrase at all 123!\n",
    );
    assert_eq!(r.error_code(), Some("wrong_passphrase"), "{r:?}");
    let r = b.run_with_stdin(
        &["--json", "keys", "recover", "--passphrase-stdin"],
        &format!("{PASSPHRASE}\n"),
    );
    assert_eq!(r.code, 0, "{r:?}");
    let rec: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rec["key_id"].as_str().unwrap().len(), 32, "{rec}");

    let remote = b.json(&["backup", "list", "--remote"]);
    let row = remote
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} in {remote}"));
    assert_eq!(row["station"], station.as_str());
    assert_eq!(row["cloud"], true);
    assert_eq!(row["local"], false);

    let r = b.json(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--reason",
        "station A lost",
    ]);
    assert_eq!(r["cases"], 3, "{r}");
    assert_eq!(r["documents"], 1, "{r}");
    assert_eq!(b.case_numbers(), numbers);

    let out = b.st.dir.path().join("back.bin");
    let got = b.json(&["doc", "get", &doc_id, "--out", out.to_str().unwrap()]);
    assert_eq!(got["sha256"], doc_sha.as_str(), "{got}");
    assert_eq!(std::fs::read(&out).unwrap(), content);

    let r = b.run(&["--json", "audit", "verify"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
}
