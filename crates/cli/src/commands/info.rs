use std::process::ExitCode;

use serde::Serialize;
use strongroom_core::paths::Home;
use strongroom_core::secrets::Keyring;
use strongroom_core::station::Station;

use crate::output::Output;

#[derive(Serialize)]
struct Info {
    version: &'static str,
    home: String,
    station: Option<Station>,
    keyring_reachable: bool,
}

pub fn run(home: &Home, out: &Output) -> strongroom_core::Result<ExitCode> {
    let info = Info {
        version: strongroom_core::VERSION,
        home: home.root().display().to_string(),
        station: Station::load(home)?,
        keyring_reachable: Keyring::probe().is_ok(),
    };
    out.result(&info, || {
        format!(
            "Strongroom {}\nhome:    {}\nstation: {}\nkeyring: {}",
            info.version,
            info.home,
            info.station
                .as_ref()
                .map(|s| format!("{} ({})", s.name, s.id))
                .unwrap_or_else(|| "not set up (run `strongroom init`)".into()),
            if info.keyring_reachable {
                "reachable"
            } else {
                "NOT reachable"
            }
        )
    });
    Ok(ExitCode::SUCCESS)
}
