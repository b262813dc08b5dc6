//! `strongroom init`, `keys recover`, `backup create|list|verify|restore|drill|prune` and
//! `check` through the real binary, under the OS keyring of `make test`: the backup workflow,
//! tampering (exit 4), restore with the audit log carried forward, restore --to, drills,
//! retention and holds, monitoring (exit 3), the whole disaster on moto, and kill -9 during a
//! backup.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use strongroom_core::audit::Actor;
use strongroom_core::crypto::KeyStore;
use strongroom_core::registry::{cases, holds, Registry};
use strongroom_tests::cli::{run_with_stdin, Initialised, Run, Station, PASSPHRASE};
use strongroom_tests::services;

/// What these tests ask of an initialised station beyond the shared support.
trait StationChecks {
    fn add_case(&self, number: &str, title: &str);
    fn case_numbers(&self) -> Vec<String>;
    fn events(&self) -> Vec<Value>;
}

impl StationChecks for Initialised {
    fn add_case(&self, number: &str, title: &str) {
        self.json(&["case", "add", "--number", number, "--title", title]);
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

    fn events(&self) -> Vec<Value> {
        self.json(&["audit", "list", "--limit", "10000"])
            .as_array()
            .unwrap()
            .clone()
    }
}

/// The details of an audit record (stored as JSON text).
fn details(e: &Value) -> Value {
    match &e["details"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    }
}

fn integrity_ok(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok", "{}", path.display());
}

#[test]
fn init_refuses_a_weak_passphrase_and_a_second_init() {
    if services::keyring().is_none() {
        return;
    }
    let st = Station::new();
    let r = run_with_stdin(st.command(&["init", "--passphrase-stdin"]), "password1\n");
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.error_code(), Some("passphrase_weak"), "{}", r.stderr);
    assert!(!st.home().join("station.json").exists());
    assert!(
        !r.stderr.contains("password1"),
        "the passphrase never shows"
    );

    // Without --passphrase-stdin and no terminal: refused, nothing made.
    let r = Run::from(st.command(&["init"]).stdin(Stdio::null()).output().unwrap());
    assert_eq!(r.error_code(), Some("passphrase_required"), "{r:?}");

    let s = Initialised::new(&[]);
    let recovery =
        s.st.home()
            .join("backups")
            .join(format!("strongroom-recovery-{}.srk", s.id));
    assert!(
        recovery.is_file(),
        "the recovery file is in the local backups folder"
    );
    let again = run_with_stdin(
        s.st.command(&["init", "--passphrase-stdin"]),
        &format!("{PASSPHRASE}\n"),
    );
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(
        again.error_code(),
        Some("already_exists"),
        "{}",
        again.stderr
    );
    let ev: Vec<String> = s
        .events()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert!(ev.contains(&"STATION_INITIALISED".to_string()), "{ev:?}");
    assert!(ev.contains(&"KEY_CREATED".to_string()), "{ev:?}");
}

#[test]
fn backup_create_list_verify_and_a_tampered_byte_exits_4() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    s.add_case("2026-000001", "Burglary at the mill");
    s.add_case("2026-000002", "Stolen bicycle");
    let b = s.json(&["backup", "create"]);
    let id = b["id"].as_str().unwrap().to_string();
    assert_eq!(b["verified"], true, "{b}");
    assert!(b["size"].as_u64().unwrap() > 1024, "{b}");
    assert_eq!(b["sha256"].as_str().unwrap().len(), 64);
    assert!(b["cloud_key"].is_null(), "no cloud configured: {b}");
    let local = PathBuf::from(b["local_path"].as_str().unwrap());
    assert!(local.starts_with(s.st.home().join("backups")), "{b}");
    assert!(local.is_file());
    // Nothing left in tmp/.
    assert_eq!(
        std::fs::read_dir(s.st.home().join("tmp")).unwrap().count(),
        0
    );

    let list = s.json(&["backup", "list"]);
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(rows[0]["id"], id.as_str());
    assert_eq!(rows[0]["local"], true);
    assert_eq!(rows[0]["cloud"], false);
    assert_eq!(rows[0]["verified"], true);
    assert_eq!(rows[0]["held"], false);
    assert_eq!(rows[0]["station"], s.id.as_str());

    let v = s.json(&["backup", "verify", &id]);
    assert_eq!(v["ok"], true, "{v}");

    // One byte changed in the middle of the file.
    let mut bytes = std::fs::read(&local).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&local, &bytes).unwrap();
    let r = s.run(&["--json", "backup", "verify", &id]);
    assert_eq!(r.code, 4, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["id"], id.as_str());
    assert!(!v["detail"].as_str().unwrap().is_empty());
    // It is no longer a good backup.
    assert_eq!(s.json(&["backup", "list"]), serde_json::json!([]));
    let events: Vec<String> = s
        .events()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    for e in ["BACKUP_CREATED", "BACKUP_VERIFIED", "BACKUP_FAILED"] {
        assert!(events.contains(&e.to_string()), "{e} in {events:?}");
    }
}

#[test]
fn restore_brings_a_deleted_case_back_and_keeps_the_later_audit_records() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    s.add_case("2026-000010", "Arson");
    s.add_case("2026-000011", "Fraud");
    let id = s.json(&["backup", "create"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.json(&[
        "case",
        "delete",
        "2026-000011",
        "--reason",
        "entered in error",
    ]);
    assert_eq!(s.case_numbers(), ["2026-000010"]);
    let before: Vec<Value> = s.events();

    // Without --yes: a usage refusal, nothing touched.
    let r = s.run(&["backup", "restore", &id]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(s.case_numbers(), ["2026-000010"]);

    let r = s.json(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--reason",
        "case deleted by mistake",
    ]);
    assert_eq!(r["id"], id.as_str());
    assert_eq!(r["cases"], 2, "{r}");
    assert_eq!(r["restored_to"], s.registry().display().to_string());
    assert!(r["elapsed_ms"].is_u64());
    assert_eq!(s.case_numbers(), ["2026-000010", "2026-000011"]);
    // The backup catalogue survives too: the restored backup is still listed and drillable.
    let list = s.json(&["backup", "list"]);
    assert_eq!(list[0]["id"], id.as_str(), "{list}");
    assert_eq!(list[0]["verified"], true);

    let after = s.events();
    let names: Vec<&str> = after.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(*names.last().unwrap(), "SYSTEM_RECOVERY", "{names:?}");
    let rec = after.last().unwrap();
    let rec_details = details(rec);
    assert_eq!(rec_details["backup_id"], id.as_str(), "{rec}");
    assert_eq!(rec_details["verified"], true);
    assert_eq!(rec_details["reason"], "case deleted by mistake");
    // The deletion of the case (after the backup) is still on record, with its original time.
    let deleted = before
        .iter()
        .find(|e| e["event"] == "CASE_DELETED")
        .expect("deletion audited");
    let carried = after
        .iter()
        .find(|e| e["event"] == "CASE_DELETED")
        .expect("the deletion survives the restore");
    assert_eq!(carried["time"], deleted["time"]);
    assert_eq!(carried["case_number"], "2026-000011");
    assert_eq!(details(carried)["original"]["reason"], "entered in error");
    assert!(after.iter().any(|e| e["event"] == "BACKUP_CREATED"));
    let v = s.run(&["--json", "audit", "verify"]);
    assert_eq!(v.code, 0, "audit chain intact after the restore: {v:?}");
    // A safety copy of the registry as it was.
    let safety: Vec<_> = std::fs::read_dir(s.st.home().join("safety"))
        .unwrap()
        .collect();
    assert_eq!(safety.len(), 1);
    integrity_ok(&s.registry());
    assert_eq!(s.json(&["backup", "drill"])["ok"], true);
}

#[test]
fn restore_to_writes_elsewhere_and_leaves_the_live_registry_alone() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    s.add_case("2026-000020", "Vandalism");
    let id = s.json(&["backup", "create"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.add_case("2026-000021", "Later case");
    let live_before = std::fs::read(s.registry()).unwrap();
    let out = s.st.dir.path().join("restored.sqlite3");
    let r = s.json(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--to",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r["restored_to"], out.display().to_string());
    assert_eq!(r["cases"], 1);
    integrity_ok(&out);
    let reg = Registry::open(&out).unwrap();
    assert!(cases::get(&reg.db(), "2026-000020").unwrap().is_some());
    assert!(cases::get(&reg.db(), "2026-000021").unwrap().is_none());
    assert_eq!(s.case_numbers(), ["2026-000020", "2026-000021"]);
    assert_ne!(
        std::fs::read(s.registry()).unwrap().len(),
        0,
        "the live registry is still there"
    );
    let _ = live_before;

    // A symlink target is refused.
    #[cfg(unix)]
    {
        let link = s.st.dir.path().join("link.sqlite3");
        std::os::unix::fs::symlink(s.st.dir.path().join("elsewhere"), &link).unwrap();
        let r = s.run(&[
            "backup",
            "restore",
            &id,
            "--yes",
            "--to",
            link.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 1, "{r:?}");
        assert_eq!(r.error_code(), Some("restore_target_symlink"));
    }
}

#[test]
fn drill_passes_and_is_audited_and_check_reports_health() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    // A fresh station: no backup at all is CRITICAL (exit 3) and audited.
    let r = s.run(&["--json", "check"]);
    assert_eq!(r.code, 3, "{r:?}");
    let h: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(h["status"], "critical");
    let missing = h["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "BACKUP_MISSING")
        .expect("BACKUP_MISSING");
    assert_eq!(missing["severity"], "critical");
    assert!(s.events().iter().any(|e| e["event"] == "BACKUP_MISSING"));

    // No backup: nothing to drill.
    assert_eq!(s.run(&["backup", "drill"]).error_code(), Some("not_found"));

    s.add_case("2026-000030", "Drill case");
    let id = s.json(&["backup", "create"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = s.json(&["backup", "drill"]);
    assert_eq!(d["id"], id.as_str());
    assert_eq!(d["ok"], true, "{d}");
    let names: Vec<&str> = d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for n in [
        "decrypt",
        "integrity_check",
        "schema",
        "counts",
        "audit_chain",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let drill = s
        .events()
        .into_iter()
        .rfind(|e| e["event"] == "RESTORE_DRILL")
        .expect("RESTORE_DRILL");
    assert_eq!(drill["outcome"], "success");
    assert_eq!(details(&drill)["ok"], true);
    // Nothing left in the scratch place.
    assert_eq!(
        std::fs::read_dir(s.st.home().join("tmp")).unwrap().count(),
        0
    );

    // Now healthy (unless the backup is too small or it is before the due hour: neither is
    // critical).
    let r = s.run(&["--json", "check"]);
    assert_eq!(r.code, 0, "{r:?}");
    let h: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        h["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "critical"),
        "{h}"
    );
}

#[test]
fn prune_deletes_old_backups_but_keeps_held_and_new_ones() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    s.add_case("2026-000040", "Held case");
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            s.json(&["backup", "create", "--local-only"])["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Make the first two 90 days old; the case exists since before both.
    {
        let c = rusqlite::Connection::open(s.registry()).unwrap();
        c.execute(
            "UPDATE cases SET created_at = '2020-01-01T00:00:00.000000Z'",
            [],
        )
        .unwrap();
        for id in &ids[..2] {
            c.execute(
                "UPDATE backups SET created_at = '2020-02-01T00:00:00.000000Z' WHERE id = ?1",
                [id],
            )
            .unwrap();
        }
    }
    // Hold the case: every backup containing it is held.
    {
        let mut reg = Registry::open(s.registry()).unwrap();
        let station = strongroom_core::station::Station {
            id: s.id.clone(),
            name: "Northgate".into(),
        };
        let actor = Actor::new(&station, "test");
        reg.write(|tx| holds::set(tx, "2026-000040", Some("court order"), &actor))
            .unwrap();
    }
    let dry = s.json(&["backup", "prune", "--dry-run"]);
    assert_eq!(dry["deleted"], serde_json::json!([]), "{dry}");
    assert_eq!(dry["kept"].as_array().unwrap().len(), 3);
    let list = s.json(&["backup", "list"]);
    assert!(
        list.as_array().unwrap().iter().all(|b| b["held"] == true),
        "{list}"
    );

    // Release the hold: the two old ones go, the new one stays.
    {
        let mut reg = Registry::open(s.registry()).unwrap();
        let station = strongroom_core::station::Station {
            id: s.id.clone(),
            name: "Northgate".into(),
        };
        let actor = Actor::new(&station, "test");
        reg.write(|tx| holds::release(tx, "2026-000040", Some("case closed"), &actor))
            .unwrap();
    }
    let local_old: Vec<PathBuf> = {
        let reg = Registry::open(s.registry()).unwrap();
        ids[..2]
            .iter()
            .map(|id| {
                PathBuf::from(
                    strongroom_core::registry::backups::require(&reg.db(), id)
                        .unwrap()
                        .local_path
                        .unwrap(),
                )
            })
            .collect()
    };
    let p = s.json(&["backup", "prune"]);
    let mut deleted: Vec<String> = p["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    deleted.sort();
    let mut want = ids[..2].to_vec();
    want.sort();
    assert_eq!(deleted, want, "{p}");
    assert_eq!(p["kept"], serde_json::json!([ids[2]]));
    for f in local_old {
        assert!(!f.exists(), "{} deleted", f.display());
    }
    let list = s.json(&["backup", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let deleted_events = s
        .events()
        .iter()
        .filter(|e| e["event"] == "BACKUP_DELETED")
        .count();
    assert_eq!(deleted_events, 2);
    assert_eq!(
        s.run(&["audit", "verify"]).code,
        0,
        "the audit log is never touched"
    );
}

#[test]
fn the_disaster_station_a_lost_station_b_recovers_everything_from_the_cloud() {
    let (Some(endpoint), Some(())) = (services::s3_endpoint(), services::keyring()) else {
        return;
    };
    let bucket = services::unique_name("disaster");
    let env = [
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "aws"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_S3_BACKUP_BUCKET", bucket.as_str()),
        ("AWS_S3_DOCUMENTS_BUCKET", bucket.as_str()),
        ("AWS_ACCESS_KEY_ID", "strongroom-test"),
        ("AWS_SECRET_ACCESS_KEY", "strongroom-test-secret"),
    ];
    make_bucket(&endpoint, &bucket);

    let a = Initialised::new(&env);
    let numbers = ["2026-000101", "2026-000102", "2026-000103"];
    for (i, n) in numbers.iter().enumerate() {
        a.add_case(n, &format!("Case {i} of station A"));
    }
    let b = a.json(&["backup", "create"]);
    let id = b["id"].as_str().unwrap().to_string();
    let key = b["cloud_key"]
        .as_str()
        .expect("uploaded to the cloud")
        .to_string();
    assert!(
        key.starts_with(&format!("backups/{}/", a.id)) && key.ends_with(".srb"),
        "{key}"
    );
    assert!(a
        .events()
        .iter()
        .any(|e| e["event"] == "BACKUP_CLOUD_SUCCESS"));
    let list = a.json(&["backup", "list"]);
    assert_eq!(list[0]["cloud"], true, "{list}");

    // Station A's home is lost; its keyring entries go with the workstation.
    std::fs::remove_dir_all(a.st.home()).unwrap();
    KeyStore::for_station(&a.id).remove_all().unwrap();

    // Station B: a fresh home with the same cloud settings.
    let b_st = Station::new();
    let env_owned: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let b_home = Initialised::recovered(b_st, &a.id, env_owned);
    // Wrong passphrase first.
    let mut cmd = b_home
        .st
        .command(&["keys", "recover", "--passphrase-stdin"]);
    cmd.envs(b_home.env.iter().cloned());
    let r = run_with_stdin(cmd, "not the passphrase at all 123!\n");
    assert_eq!(r.error_code(), Some("wrong_passphrase"), "{r:?}");

    let mut cmd = b_home
        .st
        .command(&["--json", "keys", "recover", "--passphrase-stdin"]);
    cmd.envs(b_home.env.iter().cloned());
    let r = run_with_stdin(cmd, &format!("{PASSPHRASE}\n"));
    assert_eq!(r.code, 0, "{r:?}");
    let rec: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rec["key_id"].as_str().unwrap().len(), 32);

    let remote = b_home.json(&["backup", "list", "--remote"]);
    let row = remote
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} in {remote}"));
    assert_eq!(row["station"], a.id.as_str());
    assert_eq!(row["cloud"], true);
    assert_eq!(row["local"], false);

    let v = b_home.json(&["backup", "verify", &id]);
    assert_eq!(v["ok"], true, "{v}");
    let r = b_home.json(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--reason",
        "station A lost",
    ]);
    assert_eq!(r["cases"], 3, "{r}");
    assert_eq!(b_home.case_numbers(), numbers);
    assert_eq!(b_home.run(&["audit", "verify"]).code, 0);
    let events = b_home.events();
    assert!(
        events.iter().any(|e| e["event"] == "KEY_RECOVERY"),
        "carried forward"
    );
    assert_eq!(events.last().unwrap()["event"], "SYSTEM_RECOVERY");
}

fn make_bucket(endpoint: &str, bucket: &str) {
    use strongroom_core::config::Settings;
    use strongroom_core::paths::Home;
    use strongroom_core::secrets::Keyring;
    use strongroom_core::storage::{open_destinations, PrepareOptions};
    let t = tempfile::tempdir().unwrap();
    let home = Home::at(t.path());
    let env = [
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "aws"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_S3_BACKUP_BUCKET", bucket),
        ("AWS_S3_DOCUMENTS_BUCKET", bucket),
        ("AWS_ACCESS_KEY_ID", "strongroom-test"),
        ("AWS_SECRET_ACCESS_KEY", "strongroom-test-secret"),
    ];
    let settings = Settings::load_with_env(&home, &|k| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    let d = open_destinations(&settings, &Keyring::for_station("test-prepare"), &home).unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(d.backups.prepare(&PrepareOptions::for_backups(&settings)))
        .unwrap();
}

#[test]
fn kill_9_during_backup_create_never_lists_an_incomplete_backup() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    // A larger registry: 3,000 cases with incompressible descriptions (about 6 MB).
    {
        use rand::RngCore;
        let mut reg = Registry::open(s.registry()).unwrap();
        let station = strongroom_core::station::Station {
            id: s.id.clone(),
            name: "Northgate".into(),
        };
        let actor = Actor::new(&station, "test");
        let mut rng = rand::thread_rng();
        reg.write(|tx| {
            for i in 0..3000 {
                let mut noise = [0u8; 1000];
                rng.fill_bytes(&mut noise);
                cases::create(
                    tx,
                    &cases::NewCase {
                        number: format!("2026-{:06}", 200_000 + i),
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
    let good_before = s.json(&["backup", "list"]).as_array().unwrap().len();
    assert_eq!(good_before, 0);
    let mut killed = 0;
    for delay_ms in [30u64, 120, 300, 600] {
        let mut cmd = s.st.command(&["backup", "create", "--local-only"]);
        cmd.envs(s.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            killed += 1;
        }
        let status = child.wait().unwrap();
        // After every kill: only good backups listed, each verifies; the registry is intact.
        integrity_ok(&s.registry());
        let list = s.json(&["backup", "list"]);
        for b in list.as_array().unwrap() {
            assert_eq!(b["verified"], true, "{b}");
            let id = b["id"].as_str().unwrap();
            assert_eq!(s.json(&["backup", "verify", id])["ok"], true);
        }
        let _ = status;
    }
    assert!(killed > 0, "at least one run was killed mid-way");
    // The next run cleans the temp files left behind and makes a good backup.
    let b = s.json(&["backup", "create", "--local-only"]);
    assert_eq!(b["verified"], true);
    assert_eq!(
        std::fs::read_dir(s.st.home().join("tmp")).unwrap().count(),
        0
    );
    integrity_ok(&s.registry());
    let list = s.json(&["backup", "list"]);
    assert!(list.as_array().unwrap().iter().any(|r| r["id"] == b["id"]));
    // Every .srb file in the backups folder belongs to a listed (good) backup or is gone.
    let listed: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let dir = s.st.home().join("backups").join("backups").join(&s.id);
    for f in std::fs::read_dir(dir).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        assert!(
            listed.iter().any(|id| name.contains(id.as_str())),
            "{name} is a complete, listed backup"
        );
    }
}

#[test]
fn a_backup_moved_to_glacier_is_requested_back_and_then_restored() {
    let (Some(endpoint), Some(())) = (services::s3_endpoint(), services::keyring()) else {
        return;
    };
    use strongroom_core::storage::{ObjectStore, RestoreStatus, S3Store, S3StoreConfig, Tier};
    let bucket = services::unique_name("glacier");
    let env = [
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "aws"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_S3_BACKUP_BUCKET", bucket.as_str()),
        ("AWS_S3_DOCUMENTS_BUCKET", bucket.as_str()),
        ("AWS_ACCESS_KEY_ID", "strongroom-test"),
        ("AWS_SECRET_ACCESS_KEY", "strongroom-test-secret"),
    ];
    make_bucket(&endpoint, &bucket);
    let a = Initialised::new(&env);
    a.add_case("2026-000201", "Archived case");
    let b = a.json(&["backup", "create"]);
    let id = b["id"].as_str().unwrap().to_string();
    let key = b["cloud_key"].as_str().unwrap().to_string();
    // The lifecycle rule's work, done at once: the cloud copy goes to Glacier, the local one is lost.
    let store = S3Store::new(
        S3StoreConfig::new(&bucket, "us-east-1", Some(&endpoint)).with_credentials(
            "strongroom-test",
            strongroom_core::secrets::Sensitive::new("strongroom-test-secret".into()),
        ),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(store.set_tier(&key, Tier::Archive)).unwrap();
    assert_eq!(
        rt.block_on(store.restore_status(&key)).unwrap(),
        RestoreStatus::Archived
    );
    std::fs::remove_file(b["local_path"].as_str().unwrap()).unwrap();

    let out = a.st.dir.path().join("from-glacier.sqlite3");
    let r = a.json(&[
        "backup",
        "restore",
        &id,
        "--yes",
        "--to",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r["cases"], 1, "{r}");
    integrity_ok(&out);
    // The restore asked S3 for the object (moto completes a restore at once).
    assert!(matches!(
        rt.block_on(store.restore_status(&key)).unwrap(),
        RestoreStatus::Available { .. }
    ));
}

#[test]
fn one_backup_a_month_is_copied_into_the_archive_tier() {
    let (Some(endpoint), Some(())) = (services::s3_endpoint(), services::keyring()) else {
        return;
    };
    use strongroom_core::storage::{ObjectStore, S3Store, S3StoreConfig, Tier};
    let bucket = services::unique_name("archive");
    let env = [
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "aws"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_S3_BACKUP_BUCKET", bucket.as_str()),
        ("AWS_S3_DOCUMENTS_BUCKET", bucket.as_str()),
        ("AWS_ACCESS_KEY_ID", "strongroom-test"),
        ("AWS_SECRET_ACCESS_KEY", "strongroom-test-secret"),
    ];
    make_bucket(&endpoint, &bucket);
    let a = Initialised::new(&env);
    std::fs::write(
        a.st.home().join("settings.toml"),
        "[cloud]\narchive_monthly = true\narchive_years = 7\n",
    )
    .unwrap();
    a.add_case("2026-000301", "Kept for seven years");
    let first = a.json(&["backup", "create"]);
    let second = a.json(&["backup", "create"]);
    assert!(second["cloud_key"].is_string(), "{second}");

    let store = S3Store::new(
        S3StoreConfig::new(&bucket, "us-east-1", Some(&endpoint)).with_credentials(
            "strongroom-test",
            strongroom_core::secrets::Sensitive::new("strongroom-test-secret".into()),
        ),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let copies = rt
        .block_on((&store as &dyn ObjectStore).list_all(&format!("archive/{}/", a.id)))
        .unwrap();
    assert_eq!(copies.len(), 1, "one copy this month: {copies:?}");
    let first_id = first["id"].as_str().unwrap();
    assert!(copies[0].key.contains(first_id), "{copies:?}");
    assert_eq!(
        rt.block_on(store.head(&copies[0].key)).unwrap().tier,
        Some(Tier::Archive)
    );
    let archived: Vec<Value> = a
        .events()
        .into_iter()
        .filter(|e| e["event"] == "BACKUP_CLOUD_SUCCESS" && details(e)["copy"] == "archive")
        .collect();
    assert_eq!(archived.len(), 1, "{archived:?}");
    assert_eq!(details(&archived[0])["kept_years"], 7);
    // The regular copy is what a restore reads; the archive copy stays where it is.
    let out = a.st.dir.path().join("restored.sqlite3");
    std::fs::remove_file(first["local_path"].as_str().unwrap()).unwrap();
    let r = a.json(&[
        "backup",
        "restore",
        first_id,
        "--yes",
        "--to",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r["cases"], 1, "{r}");
}

#[test]
fn a_registry_damaged_inside_is_found_by_check_and_never_backed_up() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    {
        // Enough cases for the registry to span a few hundred pages.
        let mut reg = Registry::open(s.registry()).unwrap();
        let station = strongroom_core::station::Station::unregistered();
        let actor = Actor::new(&station, "test");
        reg.write(|tx| {
            for i in 0..600 {
                cases::create(
                    tx,
                    &cases::NewCase {
                        number: format!("2026-{i:06}"),
                        title: "Burglary at the depot".into(),
                        description: "Statement taken at the front desk. ".repeat(30),
                        ..Default::default()
                    },
                    &actor,
                )?;
            }
            Ok(())
        })
        .unwrap();
    }
    // One page in the middle of the file overwritten; the header stays intact.
    let path = s.registry();
    let mut bytes = std::fs::read(&path).unwrap();
    let pages = bytes.len() / 4096;
    assert!(pages > 100, "only {pages} pages");
    let mid = pages / 2 * 4096;
    bytes[mid..mid + 4096].fill(0x5a);
    std::fs::write(&path, &bytes).unwrap();

    let r = s.run(&["--json", "check"]);
    assert_eq!(r.code, 3, "{r:?}");
    let health: Value = serde_json::from_str(&r.stdout).unwrap();
    let found = health["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "REGISTRY_CORRUPT")
        .unwrap_or_else(|| panic!("no REGISTRY_CORRUPT in {health}"));
    assert_eq!(found["severity"], "critical", "{found}");
    assert!(found["message"].as_str().unwrap().contains("restore"));

    let r = s.run(&["backup", "create"]);
    assert_eq!(r.error_code(), Some("registry_corrupt"), "{r:?}");
    assert!(r.stderr.contains("registry.sqlite3"), "{}", r.stderr);
    assert!(!r.stderr.contains("snapshot-"), "{}", r.stderr);
    let made: Vec<_> = strongroom_tests::cli::files_under(&s.st.home().join("backups"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "srb"))
        .collect();
    assert!(made.is_empty(), "a backup of a damaged registry: {made:?}");
}
