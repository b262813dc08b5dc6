use std::sync::{Mutex, MutexGuard};

use strongroom_core::audit::Actor;
use strongroom_core::paths::Home;
use strongroom_core::progress::Cancel;
use strongroom_core::registry::Registry;
use strongroom_core::station::Station;
use strongroom_core::Result;

/// What every command can reach: the station home, its registry connection (opened on first
/// use: a `Registry` is not `Sync`, so it sits behind a mutex) and the running job's cancel flag.
pub struct AppState {
    pub home: Home,
    registry: Mutex<Option<Registry>>,
    running: Mutex<Option<Cancel>>,
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
            running: Mutex::new(None),
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

    /// Registers a new job and returns its cancel flag; a running one is cancelled first
    /// (the app runs one long job at a time).
    pub fn start_job(&self) -> Cancel {
        let cancel = Cancel::new();
        if let Some(old) = relock(&self.running).replace(cancel.clone()) {
            old.cancel();
        }
        cancel
    }

    pub fn cancel_running(&self) -> bool {
        match relock(&self.running).take() {
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
