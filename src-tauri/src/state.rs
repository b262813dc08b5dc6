use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use strongroom_core::audit::Actor;
use strongroom_core::paths::Home;
use strongroom_core::progress::Cancel;
use strongroom_core::registry::Registry;
use strongroom_core::station::Station;
use strongroom_core::Result;

/// What every command can reach: the station home, its registry connection (opened on first
/// use: a `Registry` is not `Sync`, so it sits behind a mutex) and the running jobs' cancel flags
/// by job id (a backup and several uploads may run at once; each is cancelled on its own).
pub struct AppState {
    pub home: Home,
    registry: Mutex<Option<Registry>>,
    running: Mutex<HashMap<String, Cancel>>,
}

impl AppState {
    /// The home from `STRONGROOM_HOME`, else the OS data directory (the embedded default).
    pub fn from_environment() -> Result<Self> {
        Ok(Self::new(Home::resolve(None)?))
    }

    pub fn new(home: Home) -> Self {
        Self {
            home,
            registry: Mutex::new(None),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` with the registry, opening it on first use.
    pub fn with_registry<T>(&self, f: impl FnOnce(&mut Registry) -> Result<T>) -> Result<T> {
        let mut guard = relock(&self.registry);
        if guard.is_none() {
            *guard = Some(Registry::open_in(&self.home)?);
        }
        match guard.as_mut() {
            Some(registry) => f(registry),
            None => unreachable!("opened above"),
        }
    }

    /// Who acts through the app, for audit records.
    pub fn actor(&self) -> Result<Actor> {
        Ok(Actor::new(
            &Station::load_or_unregistered(&self.home)?,
            "app",
        ))
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

// A panic while a lock was held cannot leave these Options half-written.
fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
