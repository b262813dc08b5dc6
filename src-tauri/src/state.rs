use std::sync::Mutex;

use strongroom_core::paths::Home;
use strongroom_core::progress::Cancel;

/// What every command can reach: the station home and the cancel flag of the running job.
pub struct AppState {
    pub home: Home,
    running: Mutex<Option<Cancel>>,
}

impl AppState {
    /// The home from `STRONGROOM_HOME`, else the OS data directory (the embedded default).
    pub fn from_environment() -> strongroom_core::Result<Self> {
        Ok(Self::new(Home::resolve(None)?))
    }

    pub fn new(home: Home) -> Self {
        Self {
            home,
            running: Mutex::new(None),
        }
    }

    /// Registers a new job and returns its cancel flag; a running one is cancelled first
    /// (the app runs one long job at a time).
    pub fn start_job(&self) -> Cancel {
        let cancel = Cancel::new();
        if let Some(old) = self.lock().replace(cancel.clone()) {
            old.cancel();
        }
        cancel
    }

    pub fn cancel_running(&self) -> bool {
        match self.lock().take() {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Cancel>> {
        // A panic while holding this lock cannot leave the Option inconsistent.
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
