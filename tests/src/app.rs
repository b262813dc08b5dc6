//! Drives the real desktop app: tauri-driver (WebDriver) → WebKitWebDriver → the app binary,
//! under the X display that `make test` started. tauri-driver runs in its own process group,
//! which is killed as a whole when the session ends (the app and WebKit may outlive a
//! deleteSession otherwise).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// Where cargo put the binaries: the `debug` dir this test binary lives in (…/debug/deps/x).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().expect("the binary lives in a folder");
    // Test binaries live in <target>/<profile>/deps, the harness's own binaries beside the app.
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Screenshots go under the target directory, where CI keeps them.
pub fn screenshot_dir() -> PathBuf {
    let dir = bin_dir().join("e2e-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The X display is one screen shared by every app a test binary starts: windows, drags and
/// file dialogs of two apps at once would land on each other. Sessions take turns.
static DESKTOP: std::sync::OnceLock<std::sync::Arc<tokio::sync::Mutex<()>>> =
    std::sync::OnceLock::new();

/// One running app, driven over WebDriver, with its own station home and XDG dirs.
pub struct AppSession {
    pub client: Client,
    pub home: tempfile::TempDir,
    pub started: Instant,
    driver: Child,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl AppSession {
    /// Starts the app with a fresh home; `env` adds variables for the app (e.g. S3 settings).
    pub async fn start(env: &[(&str, &str)]) -> AppSession {
        Self::start_with_settings(env, "").await
    }

    /// As [`AppSession::start`], with a settings file written into the new home first.
    pub async fn start_with_settings(env: &[(&str, &str)], settings_toml: &str) -> AppSession {
        let turn = DESKTOP
            .get_or_init(Default::default)
            .clone()
            .lock_owned()
            .await;
        let app = bin_dir().join("strongroom-app");
        assert!(
            app.is_file(),
            "{} is missing: build it first (`cargo build -p strongroom-app`; `make test` does)",
            app.display()
        );
        let home = tempfile::tempdir().expect("temp home");
        if !settings_toml.is_empty() {
            let station = home.path().join("station");
            std::fs::create_dir_all(&station).expect("station home");
            std::fs::write(station.join("settings.toml"), settings_toml).expect("settings file");
        }
        let xdg = home.path().join("xdg");
        let port = free_port();
        let native_port = free_port();
        let mut cmd = Command::new("tauri-driver");
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("STRONGROOM_HOME", home.path().join("station"))
        .env("XDG_DATA_HOME", xdg.join("data"))
        .env("XDG_CONFIG_HOME", xdg.join("config"))
        .env("XDG_CACHE_HOME", xdg.join("cache"))
        .stdout(Stdio::null())
        // The app's log (it inherits tauri-driver's stderr), kept for the secret scans.
        .stderr(
            std::fs::File::create(home.path().join("app.log"))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::inherit()),
        );
        for (k, v) in env {
            cmd.env(k, v);
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let driver = cmd
            .spawn()
            .expect("tauri-driver on PATH (`cargo install tauri-driver --locked --version ^2`)");

        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app.display().to_string() }),
        );
        caps.insert("browserName".into(), "wry".into());
        let started = Instant::now();
        let deadline = started + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("could not open a WebDriver session on the app: {e}"),
            }
        };
        AppSession {
            client,
            home,
            started,
            driver,
            _turn: turn,
        }
    }

    /// Waits (up to 20 s) for an element with this `data-testid`.
    pub async fn by_testid(&self, id: &str) -> fantoccini::elements::Element {
        let css = format!("[data-testid=\"{id}\"]");
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("no element [data-testid={id}] appeared: {e}"))
    }

    pub async fn text_of(&self, id: &str) -> String {
        self.by_testid(id).await.text().await.expect("element text")
    }

    pub async fn click(&self, id: &str) {
        self.by_testid(id).await.click().await.expect("click");
    }

    /// Types `text` into the element with this `data-testid` (after clearing it).
    pub async fn type_into(&self, id: &str, text: &str) {
        let el = self.by_testid(id).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    /// Waits (up to `secs`) until the element `id` has attribute `attr` equal to `want`.
    pub async fn wait_attr(&self, id: &str, attr: &str, want: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.by_testid(id).await.attr(attr).await.ok().flatten();
            if got.as_deref() == Some(want) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "[data-testid={id}] {attr} stayed {got:?}, wanted {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Scrolls the element `id` into the middle of the window (before a screenshot of it).
    pub async fn scroll_to(&self, id: &str) {
        let el = self.by_testid(id).await;
        let arg = serde_json::to_value(&el).expect("element reference");
        self.client
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
            .await
            .expect("scroll");
    }

    /// The app's log so far (its stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("app.log")).unwrap_or_default()
    }

    /// Saves a PNG of the window under the target directory and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Ends the WebDriver session and kills tauri-driver's whole process group.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.kill_group();
    }

    fn kill_group(&mut self) {
        #[cfg(unix)]
        {
            let pgid = self.driver.id();
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pgid}")])
                .status();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for AppSession {
    fn drop(&mut self) {
        // A panicking test still leaves no app or WebKit process behind.
        self.kill_group();
    }
}
