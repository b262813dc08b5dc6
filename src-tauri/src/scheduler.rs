//! The app's backup scheduler: while the app runs, the daily backup runs at the configured hour
//! (or at once when a day's slot was missed), then `check`; results and alerts reach the window
//! as events. A system scheduler running `strongroom backup create` works alongside: the job
//! lock makes one of them wait for the next minute (`busy`), and a day already backed up is not
//! backed up again.

use std::time::Duration;

use strongroom_core::jobs::{backup, schedule, Context};
use strongroom_core::monitor::{self, Severity};
use strongroom_core::paths::Home;
use strongroom_core::progress::{Cancel, NoProgress};
use strongroom_core::registry::backups;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::events::{HealthAlert, ScheduledBackup};
use crate::notices;

const TICK: Duration = Duration::from_secs(60);

/// Starts the scheduler thread; it lives as long as the app.
pub fn start(app: AppHandle, home: Home, officer: Option<String>) {
    let spawned = std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            if let Err(e) = tick(&app, &home, officer.clone()) {
                tracing::warn!(code = e.code(), "the scheduler could not run: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::error!("the backup scheduler could not start: {e}");
    }
}

/// Runs a backup now (the tray's "Back up now"), off the UI thread; the result is an event.
pub fn back_up_now(app: AppHandle) {
    let state = app.state::<crate::AppState>();
    let (home, officer) = (state.home.clone(), state.officer());
    std::thread::spawn(move || {
        let made = Context::open(&home, "app", officer)
            .and_then(|ctx| backup::create(&ctx, false, &NoProgress, &Cancel::new()));
        report(&app, made);
    });
}

/// Tells the window (and, on failure, the desktop) how a backup the app started ended.
fn report(app: &AppHandle, made: strongroom_core::Result<backup::Created>) {
    let event = match made {
        Ok(c) => ScheduledBackup {
            ok: true,
            id: Some(c.id),
            error: None,
        },
        Err(e) => ScheduledBackup {
            ok: false,
            id: None,
            error: Some(format!("{}: {e}", e.code())),
        },
    };
    if let Some(error) = &event.error {
        notices::notify("Strongroom: the backup FAILED", error);
    }
    let _ = event.emit(app);
}

fn tick(app: &AppHandle, home: &Home, officer: Option<String>) -> strongroom_core::Result<()> {
    // Before first-run setup there is nothing to back up.
    let Ok(ctx) = Context::open(home, "scheduler", officer) else {
        return Ok(());
    };
    if !ctx.settings.schedule.in_app {
        return Ok(());
    }
    let now = time::OffsetDateTime::now_utc();
    let last_good = ctx
        .registry()?
        .read(backups::good)?
        .first()
        .map(|b| b.created_at);
    if schedule::next_run(&ctx.settings.schedule, last_good, now) > now {
        return Ok(());
    }
    tracing::info!("scheduled backup starting");
    let event = match backup::create(&ctx, false, &NoProgress, &Cancel::new()) {
        Ok(c) => ScheduledBackup {
            ok: true,
            id: Some(c.id),
            error: None,
        },
        // Another job holds the home: try again at the next tick.
        Err(e) if e.code() == "busy" => return Ok(()),
        Err(e) => ScheduledBackup {
            ok: false,
            id: None,
            error: Some(format!("{}: {e}", e.code())),
        },
    };
    let _ = event.emit(app);
    let health = monitor::check(&ctx, time::OffsetDateTime::now_utc())?;
    for f in health
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
    {
        let _ = HealthAlert {
            severity: format!("{:?}", f.severity).to_lowercase(),
            code: f.code.clone(),
            message: f.message.clone(),
        }
        .emit(app);
    }
    Ok(())
}
