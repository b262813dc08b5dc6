//! The system tray: with it, closing the window hides it and the app goes on running the
//! scheduled backups; the tray's menu opens the window again, backs up now or quits. Without a
//! tray host library (libayatana-appindicator3) there is no tray, and closing the window quits
//! as usual — an app that cannot be reached again must not stay behind.

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{App, AppHandle, Manager};

/// Whether the tray icon exists (then a closed window only hides).
pub static ACTIVE: AtomicBool = AtomicBool::new(false);

fn build(app: &App) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Strongroom", true, None::<&str>)?;
    let backup = MenuItem::with_id(app, "backup", "Back up now", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Strongroom", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &backup, &quit])?;
    let mut tray = TrayIconBuilder::with_id("strongroom")
        .tooltip("Strongroom")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => show(app),
            "backup" => crate::scheduler::back_up_now(app.clone()),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Puts the icon in the tray; false (and logged) when the desktop has no tray support.
pub fn install(app: &App) -> bool {
    // The appindicator binding panics when its library is missing; that only means "no tray".
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(app)));
    let ok = match built {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!("no tray icon: {e}; closing the window will quit");
            false
        }
        Err(_) => {
            tracing::warn!(
                "no tray icon (libayatana-appindicator3 is missing); closing the window will quit"
            );
            false
        }
    };
    ACTIVE.store(ok, Ordering::SeqCst);
    ok
}

/// Shows and focuses the main window.
pub fn show(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}
