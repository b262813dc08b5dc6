use std::future::Future;

use crate::audit::Actor;
use crate::config::Settings;
use crate::paths::Home;
use crate::registry::Registry;
use crate::secrets::Keyring;
use crate::station::Station;
use crate::storage::{open_destinations, Destinations};
use crate::{Error, Result};

/// Everything a job needs to know about the station it runs for. Cheap to build; each job
/// opens its own registry connection (a `Registry` is not shared between threads).
#[derive(Debug, Clone)]
pub struct Context {
    pub home: Home,
    pub station: Station,
    pub settings: Settings,
    pub keyring: Keyring,
    pub actor: Actor,
}

impl Context {
    /// The context of an initialised home; [`Error::NotInitialised`] before `strongroom init`.
    /// `component` names the face acting (`cli`, `app`, `scheduler`) in audit records.
    pub fn open(home: &Home, component: &str, officer: Option<String>) -> Result<Self> {
        let station = Station::load(home)?.ok_or(Error::NotInitialised)?;
        let settings = Settings::load(home)?;
        Ok(Self {
            home: home.clone(),
            keyring: Keyring::for_station(&station.id),
            actor: Actor::new(&station, component).with_officer(officer),
            station,
            settings,
        })
    }

    /// The context for setting up a destination (`storage prepare`/`test`), which must work
    /// before `init`: `init` writes the recovery file into the backups destination, so that
    /// has to exist first. Before init the station is the stand-in `unregistered`, whose
    /// keyring holds nothing: credentials then come from the environment.
    pub fn open_for_setup(home: &Home, component: &str, officer: Option<String>) -> Result<Self> {
        let station = Station::load_or_unregistered(home)?;
        let settings = Settings::load(home)?;
        Ok(Self {
            home: home.clone(),
            keyring: Keyring::for_station(&station.id),
            actor: Actor::new(&station, component).with_officer(officer),
            station,
            settings,
        })
    }

    /// The live registry, opened with the header check only: a full `quick_check` reads the
    /// whole file (about 1 s per 100 MB) and every command would pay it. Damaged pages are
    /// still refused when read (`registry_corrupt`), and the whole file is checked where it
    /// matters: the snapshot of every backup, the restored copy of every restore and drill,
    /// and `check`.
    pub fn registry(&self) -> Result<Registry> {
        Registry::open_live(&self.home)
    }

    /// The configured document and backup stores (local folders when no cloud is set up).
    pub fn destinations(&self) -> Result<Destinations> {
        open_destinations(&self.settings, &self.keyring, &self.home)
    }
}

/// Runs async store calls from a synchronous job. Jobs are called from the CLI's main thread
/// or from the app's blocking pool, never from inside a runtime.
pub fn block_on<F: Future>(future: F) -> Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("could not start the I/O runtime: {e}")))?;
    Ok(rt.block_on(future))
}
