//! A real drag and drop from another X client onto the app, as a file manager does it: a small
//! GTK3 window offers the files as `text/uri-list`, and xdotool presses the mouse on it, moves
//! to the app's window in steps and releases (see shared/RECIPES.md). Both the app's Rust
//! window event and its webview see a genuine XDND drop.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SOURCE: &str = r#"
import sys, gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gtk, Gdk, GLib
uris = [GLib.filename_to_uri(p, None) for p in sys.argv[1:]]
w = Gtk.Window(title="strongroom-drag-source")
w.set_default_size(160, 90)
w.move(1100, 690)
b = Gtk.Button(label="drag these files")
b.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
b.drag_source_add_uri_targets()
b.connect("drag-data-get", lambda _w, _c, data, _i, _t: data.set_uris(uris))
b.connect("drag-end", lambda *a: GLib.timeout_add(300, Gtk.main_quit))
w.add(b)
w.show_all()
GLib.timeout_add_seconds(60, Gtk.main_quit)
Gtk.main()
"#;

fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .expect("xdotool runs (apt install xdotool)");
    assert!(
        out.status.success(),
        "xdotool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Drags `files` from a GTK window onto the point `(x, y)` of the screen and drops them there.
pub fn drop_files(display: &str, files: &[&Path], (x, y): (i32, i32)) {
    // Debian's Python, which has the GTK bindings (python3-gi), not whatever is first on PATH.
    let mut source = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(SOURCE)
        .args(files)
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 with GTK (apt install python3-gi gir1.2-gtk-3.0)");
    let deadline = Instant::now() + Duration::from_secs(20);
    let window = loop {
        if let Ok(Some(status)) = source.try_wait() {
            panic!("the drag source window exited ({status}) before it could be used");
        }
        let out = Command::new("xdotool")
            .args([
                "search",
                "--onlyvisible",
                "--name",
                "strongroom-drag-source",
            ])
            .env("DISPLAY", display)
            .output()
            .expect("xdotool runs (apt install xdotool)");
        if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next() {
            break id.to_string();
        }
        if Instant::now() > deadline {
            let _ = source.kill();
            panic!("the drag source window never appeared");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // Where the source window ended up, to press on its button.
    let geometry = xdotool(display, &["getwindowgeometry", "--shell", &window]);
    let field = |name: &str| -> i32 {
        geometry
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from {geometry:?}"))
    };
    let (sx, sy) = (
        field("X") + field("WIDTH") / 2,
        field("Y") + field("HEIGHT") / 2,
    );
    std::thread::sleep(Duration::from_millis(400));
    xdotool(display, &["mousemove", &sx.to_string(), &sy.to_string()]);
    std::thread::sleep(Duration::from_millis(200));
    xdotool(display, &["mousedown", "1"]);
    const STEPS: i32 = 14;
    for i in 1..=STEPS {
        let px = sx + (x - sx) * i / STEPS;
        let py = sy + (y - sy) * i / STEPS;
        xdotool(display, &["mousemove", &px.to_string(), &py.to_string()]);
        std::thread::sleep(Duration::from_millis(60));
    }
    std::thread::sleep(Duration::from_millis(300));
    xdotool(display, &["mouseup", "1"]);
    // The source quits once the drag ended; never leave it behind.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = source.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = source.kill();
    let _ = source.wait();
}
