// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // Answered before any window or GTK setup, so it works headless (the package test runs it).
    let first = std::env::args().nth(1);
    if matches!(first.as_deref(), Some("--version" | "-V")) {
        println!("strongroom-app {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    strongroom_app::run();
}
