//! A stand-in for `strongroom init` while it is being written: makes a home that
//! `jobs::Context::open` accepts (the folders and `station.json`), plus an optional
//! settings.toml. Replace calls to [`stand_in_init`] by running `strongroom init` once it exists.

use std::path::Path;

use strongroom_core::paths::Home;
use strongroom_core::station::Station;

/// Writes the station the way `init` will (without the master key or the recovery file) and,
/// when given, `settings_toml` as the home's settings file. Returns the station.
pub fn stand_in_init(home: &Path, name: &str, settings_toml: Option<&str>) -> Station {
    let home = Home::at(home);
    home.create_dirs().expect("the home's folders are created");
    let station = Station::new(name);
    station.save(&home).expect("station.json is written");
    if let Some(toml) = settings_toml {
        std::fs::write(home.settings(), toml).expect("settings.toml is written");
    }
    station
}
