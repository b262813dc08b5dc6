use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use strongroom_core::audit::Actor;
use strongroom_core::jobs::Context;
use strongroom_core::paths::Home;
use strongroom_core::progress::Cancel;
use strongroom_core::registry::Registry;
use strongroom_core::station::Station;
use strongroom_core::Result;

/// What every command can reach: the station home, the officer using the app, the running
/// jobs' cancel flags by job id (a backup and an upload may run at once; each is cancelled on
/// its own) and the files the officer offered (dropped on the window or picked in the native
/// dialog): the webview can only upload those, never name any other file.
pub struct AppState {
    pub home: Home,
    officer: Mutex<Option<String>>,
    running: Mutex<HashMap<String, Cancel>>,
    offered: Mutex<HashSet<PathBuf>>,
}

impl AppState {
    /// The home from `STRONGROOM_HOME`, else the OS data directory (the embedded default).
    pub fn from_environment() -> Result<Self> {
        Ok(Self::new(Home::resolve(None)?))
    }

    pub fn new(home: Home) -> Self {
        let officer = std::env::var("STRONGROOM_OFFICER")
            .ok()
            .or_else(|| read_officer(&home));
        let offered = crate::upload_queue::load(&home)
            .into_iter()
            .flat_map(|q| q.files)
            .collect();
        Self {
            home,
            officer: Mutex::new(officer.filter(|o| !o.trim().is_empty())),
            running: Mutex::new(HashMap::new()),
            offered: Mutex::new(offered),
        }
    }

    /// The job context of the initialised station, acting as the app and its officer.
    pub fn context(&self) -> Result<Context> {
        Context::open(&self.home, "app", self.officer())
    }

    /// Runs `f` with a registry connection opened for this call. Each call opens its own (only
    /// the header is checked, not every page): a connection kept open would go on reading the
    /// old file after a restore swapped the registry.
    pub fn with_registry<T>(&self, f: impl FnOnce(&mut Registry) -> Result<T>) -> Result<T> {
        f(&mut Registry::open_live(&self.home)?)
    }

    /// Who acts through the app, for audit records.
    pub fn actor(&self) -> Result<Actor> {
        Ok(
            Actor::new(&Station::load_or_unregistered(&self.home)?, "app")
                .with_officer(self.officer()),
        )
    }

    pub fn officer(&self) -> Option<String> {
        relock(&self.officer).clone()
    }

    /// Remembers the officer's name for this workstation (a plain name, not a secret).
    pub fn set_officer(&self, name: Option<String>) -> Result<()> {
        let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if let Some(n) = &name {
            strongroom_core::validate::officer_name(n)?;
        }
        let path = officer_file(&self.home);
        match &name {
            Some(n) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| strongroom_core::Error::io("created", dir, e))?;
                }
                std::fs::write(&path, n)
                    .map_err(|e| strongroom_core::Error::io("written", &path, e))?;
            }
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
        *relock(&self.officer) = name;
        Ok(())
    }

    /// Files the officer offered (a drop on the window, the native open dialog).
    pub fn offer(&self, paths: impl IntoIterator<Item = PathBuf>) {
        relock(&self.offered).extend(paths);
    }

    /// Whether the officer offered `path`.
    pub fn was_offered(&self, path: &Path) -> bool {
        relock(&self.offered).contains(path)
    }

    /// Registers job `id` and returns its cancel flag; a job still running under the same id
    /// is cancelled first (starting it again means the officer wants the new one).
    pub fn start_job(&self, id: &str) -> Cancel {
        let cancel = Cancel::new();
        if let Some(old) = relock(&self.running).insert(id.to_owned(), cancel.clone()) {
            old.cancel();
        }
        cancel
    }

    /// Forgets job `id` once it has ended.
    pub fn finish_job(&self, id: &str) {
        relock(&self.running).remove(id);
    }

    /// Cancels job `id`; false when no such job runs.
    pub fn cancel_job(&self, id: &str) -> bool {
        match relock(&self.running).remove(id) {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }
}

fn officer_file(home: &Home) -> PathBuf {
    home.root().join("app").join("officer")
}

fn read_officer(home: &Home) -> Option<String> {
    std::fs::read_to_string(officer_file(home))
        .ok()
        .map(|s| s.trim().to_string())
}

// A panic while a lock was held cannot leave these collections half-written.
fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
