use std::process::ExitCode;

use strongroom_core::paths::Home;
use strongroom_core::workstation;

use crate::output::Output;

pub fn run(home: &Home, out: &Output) -> strongroom_core::Result<ExitCode> {
    let info = workstation::app_info(home)?;
    out.result(&info, || {
        let station = match (&info.station_name, &info.station_id) {
            (Some(name), Some(id)) => format!("{name} ({id})"),
            _ => "not set up (run `strongroom init`)".into(),
        };
        format!(
            "Strongroom {}\nhome:    {}\nstation: {station}\nkeyring: {}",
            info.version,
            info.data_dir,
            if info.keyring_reachable {
                "reachable"
            } else {
                "NOT reachable"
            }
        )
    });
    Ok(ExitCode::SUCCESS)
}
