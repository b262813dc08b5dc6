//! Answers a native GTK file dialog (open or save) the way an officer would with the keyboard:
//! find it by its title, Ctrl+L for the location field, Ctrl+A, type the path, Return.

use std::process::Command;
use std::time::{Duration, Instant};

fn xdotool(display: &str, args: &[&str]) -> std::process::Output {
    Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .expect("xdotool runs (apt install xdotool)")
}

/// Waits (up to 20 s) for the dialog titled `title` and answers it with `path`.
pub fn answer(display: &str, title: &str, path: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let window = loop {
        let out = xdotool(display, &["search", "--onlyvisible", "--name", title]);
        if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next() {
            break id.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no dialog titled {title:?} appeared"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // Let GTK finish laying the dialog out before it gets keys.
    std::thread::sleep(Duration::from_millis(700));
    let _ = xdotool(display, &["windowfocus", "--sync", &window]);
    for keys in [
        vec!["key", "--clearmodifiers", "ctrl+l"],
        // A save dialog has the suggested name in the field, partly selected: replace it all.
        vec!["key", "--clearmodifiers", "ctrl+a"],
        vec!["type", "--delay", "20", &path.display().to_string()],
        vec!["key", "Return"],
    ] {
        let out = xdotool(display, &keys);
        assert!(
            out.status.success(),
            "xdotool {keys:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}
