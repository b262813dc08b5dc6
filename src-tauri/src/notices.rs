//! Desktop notifications for what must not wait until the officer looks at the window: a
//! scheduled backup that failed, a CRITICAL finding of `check`. Without a notification service
//! (a bare X server) the notice is logged and the in-window alert still shows.

/// Shows a desktop notification; never fails the caller.
pub fn notify(summary: &str, body: &str) {
    let shown = notify_rust::Notification::new()
        .appname("Strongroom")
        .summary(summary)
        .body(body)
        .icon("strongroom-app")
        .show();
    if let Err(e) = shown {
        tracing::info!("no desktop notification ({e}): {summary}");
    }
}
