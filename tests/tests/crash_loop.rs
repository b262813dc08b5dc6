//! Crash safety: `kill -9` of the real binary at several points of a restore (local) and of a
//! backup with the cloud on (moto). Afterwards the live registry is intact and holds either the
//! old or the new state, only complete and verified backups are listed, temp files are cleaned by
//! the next run, and the next run finishes what was interrupted.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use strongroom_core::audit::Actor;
use strongroom_core::registry::{cases, Registry};
use strongroom_tests::cli::Initialised;
use strongroom_tests::services;

const BULK: u64 = 3000;

/// What the crash loops ask of an initialised station beyond the shared support.
trait CrashStation {
    fn add_bulk_cases(&self);
    fn kill_after(&self, args: &[&str], delay: Duration) -> (bool, Duration);
    fn tmp_entries(&self) -> usize;
    fn listed_backups_are_good(&self) -> Vec<String>;
}

impl CrashStation for Initialised {
    /// Adds [`BULK`] cases with incompressible descriptions (about 6 MB) straight to the registry.
    fn add_bulk_cases(&self) {
        use rand::RngCore;
        let mut reg = Registry::open(self.registry()).unwrap();
        let station = strongroom_core::station::Station {
            id: self.id.clone(),
            name: "Northgate".into(),
        };
        let actor = Actor::new(&station, "test");
        let mut rng = rand::thread_rng();
        reg.write(|tx| {
            for i in 0..BULK {
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

    /// Starts `args`, kills it with SIGKILL after `delay` if it is still running; returns
    /// whether the kill landed and how long the run lasted.
    fn kill_after(&self, args: &[&str], delay: Duration) -> (bool, Duration) {
        let mut cmd = self.st.command(args);
        cmd.envs(self.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(delay);
        let killed = if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL on Unix
            true
        } else {
            false
        };
        child.wait().unwrap();
        (killed, started.elapsed())
    }

    fn tmp_entries(&self) -> usize {
        std::fs::read_dir(self.st.home().join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Every listed backup is verified and verifies again; returns the listed ids.
    fn listed_backups_are_good(&self) -> Vec<String> {
        let list = self.json(&["backup", "list"]);
        let mut ids = Vec::new();
        for b in list.as_array().unwrap() {
            assert_eq!(b["verified"], true, "{b}");
            let id = b["id"].as_str().unwrap();
            assert_eq!(self.json(&["backup", "verify", id])["ok"], true, "{id}");
            ids.push(id.to_string());
        }
        ids
    }
}

fn integrity_ok(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok", "{}", path.display());
}

/// The number of cases and whether the marker case is there, read straight from the file.
fn state(path: &Path, marker: &str) -> (u64, bool) {
    let c = rusqlite::Connection::open(path).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    let m: i64 = c
        .query_row(
            "SELECT count(*) FROM cases WHERE number = ?1",
            [marker],
            |r| r.get(0),
        )
        .unwrap();
    (u64::try_from(n).unwrap(), m == 1)
}

#[test]
fn kill_9_during_restore_leaves_the_old_or_the_new_registry() {
    if services::keyring().is_none() {
        return;
    }
    let s = Initialised::new(&[]);
    s.add_bulk_cases();
    let b = s.json(&["backup", "create", "--local-only"]);
    let id = b["id"].as_str().unwrap().to_string();
    // The marker is added after the backup: present = old state, absent = restored state.
    let marker = "2026-999999";
    s.json(&[
        "case",
        "add",
        "--number",
        marker,
        "--title",
        "After the backup",
    ]);
    let old = (BULK + 1, true);
    let new = (BULK, false);
    assert_eq!(state(&s.registry(), marker), old);

    // How long an uninterrupted restore takes, on a copy of the station? Measured on the real
    // one at the end; the kill points are spread over the first part of the job.
    let mut killed = 0;
    let mut seen_old = 0;
    let mut seen_new = 0;
    let args = [
        "backup",
        "restore",
        id.as_str(),
        "--yes",
        "--reason",
        "crash test",
    ];
    for delay_ms in [10u64, 40, 100, 250, 600, 1300, 2000, 2600, 3000, 3300] {
        // Back to the old state before each kill when a previous run completed the restore.
        if state(&s.registry(), marker) == new {
            s.json(&[
                "case",
                "add",
                "--number",
                marker,
                "--title",
                "After the backup",
            ]);
        }
        let before = state(&s.registry(), marker);
        let (was_killed, took) = s.kill_after(&args, Duration::from_millis(delay_ms));
        if was_killed {
            killed += 1;
        }
        integrity_ok(&s.registry());
        let after = state(&s.registry(), marker);
        assert!(
            after == before || after == new,
            "kill at {delay_ms} ms: {after:?} is neither the old {before:?} nor the new {new:?}"
        );
        if after == new {
            seen_new += 1;
        } else {
            seen_old += 1;
        }
        // A safety copy under safety/ is always complete (a partial one stays in tmp/).
        if let Ok(dir) = std::fs::read_dir(s.st.home().join("safety")) {
            for f in dir.flatten() {
                integrity_ok(&f.path());
            }
        }
        let listed = s.listed_backups_are_good();
        assert!(listed.contains(&id), "the backup stays listed: {listed:?}");
        eprintln!(
            "restore kill at {delay_ms} ms: killed={was_killed} after {took:?}, state={after:?}, tmp entries={}",
            s.tmp_entries()
        );
    }
    assert!(killed > 0, "at least one kill landed mid-restore");
    eprintln!("restore kills: {killed} landed, {seen_old} left the old state, {seen_new} the new");

    // The next run cleans the temp files and the restore succeeds.
    let started = Instant::now();
    let r = s.json(&args);
    eprintln!("uninterrupted restore: {:?}", started.elapsed());
    assert_eq!(r["cases"], BULK, "{r}");
    assert_eq!(s.tmp_entries(), 0, "temp files cleaned");
    integrity_ok(&s.registry());
    assert_eq!(state(&s.registry(), marker), new);
    let v = s.run(&["audit", "verify"]);
    assert_eq!(v.code, 0, "audit verify: {v:?}");
    s.listed_backups_are_good();
}

/// Makes the destination as `storage prepare` does, with the settings of `env`.
fn prepare_destination(env: &[(String, String)]) {
    use strongroom_core::config::Settings;
    use strongroom_core::paths::Home;
    use strongroom_core::secrets::Keyring;
    use strongroom_core::storage::{open_destinations, PrepareOptions};
    let t = tempfile::tempdir().unwrap();
    let home = Home::at(t.path());
    let settings = Settings::load_with_env(&home, &|k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.to_string())
    })
    .unwrap();
    let d = open_destinations(&settings, &Keyring::for_station("test-prepare"), &home).unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(d.backups.prepare(&PrepareOptions::for_backups(&settings)))
        .unwrap();
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn s3_env(endpoint: &str, bucket: &str) -> Vec<(String, String)> {
    owned(&[
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "aws"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_S3_BACKUP_BUCKET", bucket),
        ("AWS_S3_DOCUMENTS_BUCKET", bucket),
        ("AWS_ACCESS_KEY_ID", "strongroom-test"),
        ("AWS_SECRET_ACCESS_KEY", "strongroom-test-secret"),
    ])
}

fn azure_env(endpoint: &str, container: &str) -> Vec<(String, String)> {
    owned(&[
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "azure"),
        ("AZURE_STORAGE_ACCOUNT_NAME", services::AZURITE_ACCOUNT),
        ("AZURE_STORAGE_BLOB_ENDPOINT", endpoint),
        ("AZURE_BACKUP_CONTAINER", container),
        ("AZURE_DOCUMENTS_CONTAINER", container),
        ("AZURE_STORAGE_ACCOUNT_KEY", services::AZURITE_KEY),
    ])
}

#[test]
fn kill_9_during_a_cloud_backup_lists_only_complete_ones_and_the_next_run_uploads() {
    let (Some(endpoint), Some(())) = (services::s3_endpoint(), services::keyring()) else {
        return;
    };
    let env = s3_env(&endpoint, &services::unique_name("crashloop"));
    cloud_backup_crash_loop(&env, &[150, 800, 1800, 2800, 3300, 3800, 4300, 4800]);
}

#[test]
fn kill_9_during_an_azure_backup_lists_only_complete_ones_and_the_next_run_uploads() {
    let (Some(endpoint), Some(())) = (services::azurite_endpoint(), services::keyring()) else {
        return;
    };
    let env = azure_env(&endpoint, &services::unique_name("crashloop"));
    cloud_backup_crash_loop(&env, &[150, 900, 1900, 2900, 3400, 3900, 4400]);
}

/// kill -9 during `backup create` with the cloud on, at each of `delays_ms`: whatever is listed,
/// locally or in the cloud, is complete and verified; the next run uploads what was left.
fn cloud_backup_crash_loop(env: &[(String, String)], delays_ms: &[u64]) {
    prepare_destination(env);
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let s = Initialised::new(&env_ref);
    s.add_bulk_cases();

    let mut killed = 0;
    for &delay_ms in delays_ms {
        let (was_killed, took) =
            s.kill_after(&["backup", "create"], Duration::from_millis(delay_ms));
        if was_killed {
            killed += 1;
        }
        integrity_ok(&s.registry());
        let listed = s.listed_backups_are_good();
        let remote = s.json(&["backup", "list", "--remote"]);
        let remote_ids: Vec<&str> = remote
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["cloud"] == true)
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        // No incomplete object: whatever the cloud lists is a complete, verified local backup.
        for r in &remote_ids {
            assert!(
                listed.iter().any(|l| l == r),
                "{r} in the cloud is complete: {remote}"
            );
        }
        eprintln!(
            "cloud backup kill at {delay_ms} ms: killed={was_killed} after {took:?}, local listed={}, in cloud={}, tmp entries={}",
            listed.len(),
            remote_ids.len(),
            s.tmp_entries()
        );
    }
    assert!(killed > 0, "at least one kill landed mid-backup");

    // The next backup finishes the interrupted uploads (the pending-upload retry) and its own.
    let started = Instant::now();
    let b = s.json(&["backup", "create"]);
    eprintln!("uninterrupted cloud backup: {:?}", started.elapsed());
    assert_eq!(b["verified"], true, "{b}");
    assert!(b["cloud_key"].as_str().is_some(), "uploaded: {b}");
    assert_eq!(s.tmp_entries(), 0, "temp files cleaned");
    integrity_ok(&s.registry());
    let listed = s.listed_backups_are_good();
    let remote = s.json(&["backup", "list", "--remote"]);
    for id in &listed {
        let row = remote
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} reached the cloud: {remote}"));
        assert_eq!(row["cloud"], true, "{row}");
    }
    for r in remote.as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        assert!(
            listed.iter().any(|l| l == id),
            "{id} in the cloud is a complete backup"
        );
    }
    let local = s.json(&["backup", "list"]);
    for b in local.as_array().unwrap() {
        assert_eq!(
            b["cloud"], true,
            "every listed backup is in the cloud now: {b}"
        );
    }
    assert_eq!(s.run(&["audit", "verify"]).code, 0);
}
