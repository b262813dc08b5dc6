//! Opening the station's registry for a command, and who the command acts as.
//!
//! The registry commands work on any home, even before `strongroom init`: the registry is
//! created under the home when missing, and audit records name the station of `station.json`
//! or, before init, the stand-in station `unregistered`.

use strongroom_core::audit::Actor;
use strongroom_core::paths::Home;
use strongroom_core::registry::Registry;
use strongroom_core::station::Station;
use strongroom_core::Result;

/// Opens (creating when missing) the registry of `home`, checking its header only: reading
/// every page (`check`, every backup and restore do that) would cost each `case` and `audit`
/// command about a second per 400 MB of registry.
pub fn open(home: &Home) -> Result<Registry> {
    Registry::open_live(home)
}

/// The OS user acting through the CLI at this home's station; the officer's name comes from
/// `STRONGROOM_OFFICER` when set.
pub fn actor(home: &Home) -> Result<Actor> {
    let station = Station::load_or_unregistered(home)?;
    Ok(Actor::new(&station, "cli").with_officer(std::env::var("STRONGROOM_OFFICER").ok()))
}
