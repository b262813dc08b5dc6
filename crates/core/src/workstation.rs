//! What the app and `strongroom info` say about this workstation, and the workstation check:
//! a short job that proves the station home can hold backups (folders writable, the disk
//! stores and returns bytes intact after fsync) and that the OS keyring answers.

use std::io::{Read, Write};
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::paths::Home;
use crate::progress::{Cancel, Progress};
use crate::secrets::Keyring;
use crate::station::Station;
use crate::{Error, Result};

/// The facts the app shows in its header and about box.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AppInfo {
    pub version: String,
    /// `None` until the station is set up.
    pub station_id: Option<String>,
    pub station_name: Option<String>,
    pub data_dir: String,
    pub keyring_reachable: bool,
}

pub fn app_info(home: &Home) -> Result<AppInfo> {
    let station = Station::load(home)?;
    Ok(AppInfo {
        version: crate::VERSION.to_string(),
        station_id: station.as_ref().map(|s| s.id.clone()),
        station_name: station.map(|s| s.name),
        data_dir: home.root().display().to_string(),
        keyring_reachable: Keyring::probe().is_ok(),
    })
}

/// One line of the workstation check.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CheckLine {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WorkstationReport {
    pub ok: bool,
    pub checks: Vec<CheckLine>,
}

/// Bytes written and read back by the disk check: enough to see a failing or full disk,
/// small enough to finish in well under a second on a healthy one.
pub const DISK_PROBE_BYTES: u64 = 64 * 1024 * 1024;
const BLOCK: usize = 1024 * 1024;

/// Runs the workstation check. Progress stages: `folders`, `disk_write`, `disk_read`, `keyring`.
pub fn check(home: &Home, progress: &dyn Progress, cancel: &Cancel) -> Result<WorkstationReport> {
    let mut checks = Vec::new();

    progress.stage("folders", 0, Some(1));
    let folders = home.create_dirs();
    checks.push(CheckLine {
        name: "Station folders".into(),
        ok: folders.is_ok(),
        detail: match &folders {
            Ok(()) => format!("{} is writable", home.root().display()),
            Err(e) => e.to_string(),
        },
    });
    progress.stage("folders", 1, Some(1));

    if folders.is_ok() {
        checks.push(disk_round_trip(home, progress, cancel)?);
    }

    progress.stage("keyring", 0, Some(1));
    let ring = Keyring::probe();
    checks.push(CheckLine {
        name: "OS keyring".into(),
        ok: ring.is_ok(),
        detail: match ring {
            Ok(()) => "reachable and unlocked".into(),
            Err(e) => e.to_string(),
        },
    });
    progress.stage("keyring", 1, Some(1));

    Ok(WorkstationReport {
        ok: checks.iter().all(|c| c.ok),
        checks,
    })
}

fn disk_round_trip(home: &Home, progress: &dyn Progress, cancel: &Cancel) -> Result<CheckLine> {
    let probe = tempfile::NamedTempFile::new_in(home.tmp_dir())
        .map_err(|e| Error::io("created", home.tmp_dir(), e))?;
    let path = probe.path().to_path_buf();
    let mut block = vec![0u8; BLOCK];
    let mut written = Sha256::new();
    let started = Instant::now();
    {
        let mut file = probe.as_file();
        let mut done = 0u64;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        while done < DISK_PROBE_BYTES {
            cancel.check()?;
            // Cheap pseudo-random fill so a filesystem that compresses or dedups is still tested.
            for word in block.chunks_exact_mut(8) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                word.copy_from_slice(&seed.to_le_bytes());
            }
            file.write_all(&block)
                .map_err(|e| Error::io("written", &path, e))?;
            written.update(&block);
            done += BLOCK as u64;
            progress.stage("disk_write", done, Some(DISK_PROBE_BYTES));
        }
        file.sync_all().map_err(|e| Error::io("synced", &path, e))?;
    }
    let write_secs = started.elapsed().as_secs_f64();

    let mut read = Sha256::new();
    let mut file = std::fs::File::open(&path).map_err(|e| Error::io("opened", &path, e))?;
    let mut done = 0u64;
    loop {
        cancel.check()?;
        let n = file
            .read(&mut block)
            .map_err(|e| Error::io("read", &path, e))?;
        if n == 0 {
            break;
        }
        read.update(&block[..n]);
        done += n as u64;
        progress.stage("disk_read", done, Some(DISK_PROBE_BYTES));
    }
    let intact = done == DISK_PROBE_BYTES && read.finalize() == written.finalize();
    let mb_s = DISK_PROBE_BYTES as f64 / 1_048_576.0 / write_secs.max(1e-6);
    Ok(CheckLine {
        name: "Disk".into(),
        ok: intact,
        detail: if intact {
            format!("64 MiB written, synced and read back intact ({mb_s:.0} MiB/s)")
        } else {
            "the data read back differs from what was written: the disk is failing".into()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::ProgressEvent;
    use std::sync::Mutex;

    #[test]
    fn disk_check_reports_progress_to_the_end_and_leaves_no_file() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path().join("home"));
        home.create_dirs().unwrap();
        let seen = Mutex::new(Vec::<ProgressEvent>::new());
        let sink = |e: ProgressEvent| seen.lock().unwrap().push(e);
        let line = disk_round_trip(&home, &sink, &Cancel::new()).unwrap();
        assert!(line.ok, "{}", line.detail);
        let seen = seen.into_inner().unwrap();
        let last_write = seen.iter().rev().find(|e| e.stage == "disk_write").unwrap();
        assert_eq!(last_write.done, DISK_PROBE_BYTES);
        let last_read = seen.iter().rev().find(|e| e.stage == "disk_read").unwrap();
        assert_eq!(last_read.done, DISK_PROBE_BYTES);
        assert_eq!(std::fs::read_dir(home.tmp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn a_cancelled_check_stops_with_cancelled() {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        home.create_dirs().unwrap();
        let cancel = Cancel::new();
        cancel.cancel();
        let err = disk_round_trip(&home, &crate::progress::NoProgress, &cancel).unwrap_err();
        assert_eq!(err.code(), "cancelled");
    }
}
