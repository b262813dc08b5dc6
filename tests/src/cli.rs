//! Runs the real `strongroom` binary, as a scheduler or an administrator would.
//!
//! The binary is found beside the test executable (`target/<profile>/strongroom`). Before the
//! first use it is (re)built with `cargo build -p strongroom-cli`, a no-op when it is fresh, so a
//! test never runs a stale binary. `STRONGROOM_BIN` overrides the path (and skips the build),
//! e.g. to test an installed package.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The path of the `strongroom` binary under test.
pub fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(locate)
}

fn locate() -> PathBuf {
    if let Some(p) = std::env::var_os("STRONGROOM_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/<test>-<hash>  →  target/<profile>
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let bin = profile_dir.join(format!("strongroom{}", std::env::consts::EXE_SUFFIX));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace).args([
        "build",
        "--quiet",
        "-p",
        "strongroom-cli",
        "--bin",
        "strongroom",
    ]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    // Build into the same target dir the tests run from.
    if let Some(target) = profile_dir.parent() {
        cmd.arg("--target-dir").arg(target);
    }
    let status = cmd.status().expect("cargo runs");
    assert!(status.success(), "building the strongroom binary failed");
    assert!(bin.is_file(), "no binary at {}", bin.display());
    bin
}

/// A fresh station home in a temp dir, and the CLI pointed at it.
pub struct Station {
    pub dir: tempfile::TempDir,
}

impl Default for Station {
    fn default() -> Self {
        Self::new()
    }
}

impl Station {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// A command for `strongroom --home HOME ARGS…` with a clean environment for Strongroom.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.arg("--home")
            .arg(self.home())
            .args(args)
            .env_remove("STRONGROOM_HOME")
            .env_remove("RUST_LOG")
            .env("XDG_DATA_HOME", self.dir.path().join("xdg-data"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("XDG_CACHE_HOME", self.dir.path().join("xdg-cache"));
        cmd
    }

    /// Runs `strongroom ARGS…` and returns what it did.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("the binary runs");
        Run::from(out)
    }

    /// Runs with `--json` and parses stdout; panics unless it exits 0.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!(r.code, 0, "strongroom {args:?} failed: {}", r.stderr);
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}): {}", r.stdout))
    }
}

/// The exit code and output of one run.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// The `CODE` of the first `error[CODE]` line on stderr.
    pub fn error_code(&self) -> Option<&str> {
        let start = self.stderr.find("error[")? + "error[".len();
        let end = self.stderr[start..].find(']')? + start;
        Some(&self.stderr[start..end])
    }
}

/// A recovery passphrase that passes the policy, for tests that run `init`.
pub const PASSPHRASE: &str = "Violet tractor umbrella 47 harbour lantern!";

/// Runs a command with `input` on its stdin (e.g. a passphrase for `--passphrase-stdin`).
pub fn run_with_stdin(mut cmd: Command, input: &str) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write stdin");
    Run::from(child.wait_with_output().expect("the binary ran"))
}

/// Removes a station's master keys from the OS keyring when dropped.
pub struct Keys(pub String);

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = strongroom_core::crypto::KeyStore::for_station(&self.0).remove_all();
    }
}

/// A station made by `strongroom init` with [`PASSPHRASE`] (and `env` for every run); its keys
/// are removed from the keyring on drop.
pub struct Initialised {
    pub st: Station,
    pub id: String,
    pub env: Vec<(String, String)>,
    _keys: Keys,
}

impl Initialised {
    pub fn new(env: &[(&str, &str)]) -> Self {
        let st = Station::new();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut cmd = st.command(&[
            "--json",
            "init",
            "--passphrase-stdin",
            "--station",
            "Northgate",
        ]);
        cmd.envs(env.iter().cloned());
        let r = run_with_stdin(cmd, &format!("{PASSPHRASE}\n"));
        assert_eq!(r.code, 0, "init failed: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("init prints JSON");
        let id = v["station"].as_str().expect("station id").to_string();
        assert_eq!(v["key_id"].as_str().expect("key id").len(), 32, "{v}");
        Self {
            st,
            _keys: Keys(id.clone()),
            id,
            env,
        }
    }

    /// A home that acts as station `id` without running `init` here (its keys arrive through
    /// `keys recover`); they are removed from the keyring on drop all the same.
    pub fn recovered(st: Station, id: &str, env: Vec<(String, String)>) -> Self {
        Self {
            st,
            id: id.to_string(),
            env,
            _keys: Keys(id.to_string()),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.st.command(args);
        cmd.envs(self.env.iter().cloned());
        Run::from(cmd.output().expect("the binary runs"))
    }

    /// Runs with `--json` and parses stdout; panics unless it exits 0.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let r = self.run(&all);
        assert_eq!(r.code, 0, "strongroom {args:?} failed: {}", r.stderr);
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("stdout of {args:?} is not JSON ({e}): {}", r.stdout))
    }

    /// The live registry file of this station.
    pub fn registry(&self) -> PathBuf {
        self.st.home().join("registry.sqlite3")
    }
}

/// Every file under `dir`, recursively (none when it does not exist).
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
