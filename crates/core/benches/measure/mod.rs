//! What the benches share: a command run as its own process under GNU time (wall time, CPU
//! time and peak RSS of that process tree alone), a server's CPU time read from /proc, medians,
//! and where the peers are installed.
#![allow(dead_code)] // each bench uses a part of it

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One timed run of a command.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Sample {
    pub wall: f64,
    /// User + system CPU seconds of the command and its children.
    pub cpu: f64,
    /// Peak resident set size of the largest process of the command, in KiB.
    pub rss_kib: u64,
    /// CPU seconds the server process spent during the run, when a server is watched.
    pub server_cpu: Option<f64>,
    #[serde(skip)]
    pub stdout: String,
}

/// Runs `cmd` to its end under `/usr/bin/time`, feeding `stdin`; `server` is a process whose
/// CPU time during the run is recorded. Panics with the command's stderr when it fails: the
/// time of a failed step means nothing.
pub fn timed(cmd: &Command, stdin: Option<&[u8]>, server: Option<u32>) -> Sample {
    let mut usage = tempfile::NamedTempFile::new().expect("temp file for GNU time");
    let mut out = tempfile::tempfile().expect("temp file for stdout");
    let mut err = tempfile::tempfile().expect("temp file for stderr");
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .args(["-f", "%U %S %M", "-o"])
        .arg(usage.path())
        .arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        wrapped.current_dir(d);
    }
    wrapped
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(out.try_clone().expect("stdout handle"))
        .stderr(err.try_clone().expect("stderr handle"));
    let before = server.map(cpu_of);
    let t = Instant::now();
    let mut child = wrapped.spawn().unwrap_or_else(|e| {
        panic!(
            "could not start {:?} under /usr/bin/time: {e} (`make bench` installs GNU time)",
            cmd.get_program()
        )
    });
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        pipe.write_all(input).expect("write stdin");
    }
    let status = child.wait().expect("wait");
    let wall = t.elapsed().as_secs_f64();
    let server_cpu = match (server, before) {
        (Some(p), Some(b)) => Some(cpu_of(p) - b),
        _ => None,
    };
    let read_all = |f: &mut std::fs::File| {
        let mut s = String::new();
        f.rewind().expect("rewind");
        f.read_to_string(&mut s).expect("read output");
        s
    };
    let stdout = read_all(&mut out);
    if !status.success() {
        panic!(
            "{:?} {:?} failed ({status}):\n{}\n{}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            stdout.chars().take(2000).collect::<String>(),
            read_all(&mut err).chars().take(4000).collect::<String>()
        );
    }
    let mut text = String::new();
    usage
        .as_file_mut()
        .read_to_string(&mut text)
        .expect("read GNU time output");
    let f: Vec<&str> = text
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    Sample {
        wall,
        cpu: num(0) + num(1),
        rss_kib: num(2) as u64,
        server_cpu,
        stdout,
    }
}

/// A shell pipeline as one command.
pub fn shell(script: &str) -> Command {
    let mut c = Command::new("bash");
    c.args(["-euo", "pipefail", "-c", script]);
    c
}

/// utime + stime of a running process, in seconds.
pub fn cpu_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    [11, 12]
        .iter()
        .map(|i| f.get(*i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0))
        .sum::<f64>()
        / 100.0
}

pub fn median(v: impl IntoIterator<Item = f64>) -> f64 {
    let mut s: Vec<f64> = v.into_iter().collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    s[s.len() / 2]
}

/// Where `make bench` keeps what it installs.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("STRONGROOM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp"))
                .join(".cache/strongroom")
        })
}

/// `name` in one of `dirs`, else on PATH; panics with how to install it.
pub fn find_tool(name: &str, dirs: &[PathBuf]) -> PathBuf {
    dirs.iter()
        .cloned()
        .chain(
            std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>()),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: `make bench` installs the peers"))
}

/// Untimed, before a step: remove its old output and write back every dirty page, so no step
/// pays for the previous one's writes.
pub fn settle(output: &Path) {
    if output.is_dir() {
        let _ = std::fs::remove_dir_all(output);
    } else {
        let _ = std::fs::remove_file(output);
    }
    let _ = Command::new("sync").status();
}

/// Size of a file, or of everything under a folder.
pub fn size_of(path: &Path) -> u64 {
    let Ok(md) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !md.is_dir() {
        return md.len();
    }
    std::fs::read_dir(path)
        .map(|rd| rd.flatten().map(|e| size_of(&e.path())).sum())
        .unwrap_or(0)
}

/// Lower-case hex SHA-256 of a file.
pub fn sha256_of(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path).expect("open for hashing");
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).expect("hash");
    hex::encode(h.finalize())
}

pub fn same_file(a: &Path, b: &Path) -> bool {
    sha256_of(a) == sha256_of(b)
}

/// The environment of the peers (the aws CLI, rclone as remote `bench:`, restic) for an S3
/// server at `endpoint` with these throwaway keys; `none_dir` holds the config files that do
/// not exist, so no user configuration leaks in.
pub fn s3_peer_env(c: &mut Command, endpoint: &str, access: &str, secret: &str, none_dir: &Path) {
    // A custom CA bundle of the machine breaks rclone's plain-http transport and means nothing
    // on loopback http.
    c.env_remove("AWS_CA_BUNDLE")
        .env("AWS_ACCESS_KEY_ID", access)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", none_dir.join("aws-config-none"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            none_dir.join("aws-credentials-none"),
        )
        .env("RCLONE_CONFIG", none_dir.join("rclone-none.conf"))
        .env("RCLONE_CONFIG_BENCH_TYPE", "s3")
        .env("RCLONE_CONFIG_BENCH_PROVIDER", "Other")
        .env("RCLONE_CONFIG_BENCH_ENV_AUTH", "false")
        .env("RCLONE_CONFIG_BENCH_ACCESS_KEY_ID", access)
        .env("RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY", secret)
        .env("RCLONE_CONFIG_BENCH_REGION", "us-east-1")
        .env("RCLONE_CONFIG_BENCH_ENDPOINT", endpoint);
}
