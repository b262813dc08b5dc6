//! Benchmark of the S3 provider against the tools an IT officer would use instead — `aws s3 cp`
//! and `rclone copyto` with their default settings — on the same server, in the same run,
//! alternating A B C three times: upload of one large incompressible object, then its download
//! (Strongroom's download checks the SHA-256 recorded at upload; rclone checks the MD5/ETag).
//!
//! Run: `make bench` (installs the peers), or `cargo bench -p strongroom-core --bench transfer`
//! with `aws` and `rclone` on PATH (or the aws CLI in `~/.cache/strongroom/awscli`).
//! Server: STRONGROOM_BENCH_S3_ENDPOINT (+ STRONGROOM_BENCH_S3_PID to count its CPU time), else
//! a moto server started here from `~/.cache/strongroom/venv`. Size: STRONGROOM_BENCH_MB (500).
//! Each side runs as its own process, so its CPU time is its own; the server's CPU time for each
//! step is reported beside it, so a server-bound figure shows as such. Writes the medians as
//! JSON to `<target>/bench/transfer.json`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "measure/mod.rs"]
mod measure;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use measure::{cpu_of, median, same_file, settle};
use strongroom_core::progress::{Cancel, NoProgress};
use strongroom_core::secrets::Sensitive;
use strongroom_core::storage::{GetOptions, ObjectStore, PutOptions, S3Store, S3StoreConfig};

const CHILD: &str = "STRONGROOM_BENCH_CHILD";
const BUCKET: &str = "strongroom-bench";
// Throwaway credentials of a throwaway local server (moto accepts any).
const ACCESS_KEY: &str = "bench";
const SECRET_KEY: &str = "bench-secret";

fn main() {
    if let Ok(mode) = std::env::var(CHILD) {
        child(&mode);
        return;
    }
    let mb: u64 = std::env::var("STRONGROOM_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let cache = measure::cache_dir();
    let venv_bin = cache.join("venv/bin");
    let aws = measure::find_tool("aws", &[cache.join("awscli/bin")]);
    let rclone = measure::find_tool("rclone", std::slice::from_ref(&venv_bin));

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-transfer");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let input = dir.join("object.bin");
    generate(&input, mb * 1024 * 1024);

    let server = Server::start(&venv_bin, &dir);
    let ep = server.endpoint.clone();
    println!("S3 server {ep}; object {mb} MiB (incompressible)");

    let peer_env = |c: &mut Command| {
        measure::s3_peer_env(c, &ep, ACCESS_KEY, SECRET_KEY, &dir);
    };
    let run = |argv: Vec<String>| -> Step {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        peer_env(&mut c);
        server.timed(c)
    };
    let aws_argv = |args: &[&str]| -> Vec<String> {
        let mut v = vec![
            aws.display().to_string(),
            "--endpoint-url".into(),
            ep.clone(),
        ];
        v.extend(args.iter().map(|s| s.to_string()));
        v
    };
    let rclone_argv = |args: &[&str]| -> Vec<String> {
        let mut v = vec![rclone.display().to_string()];
        v.extend(args.iter().map(|s| s.to_string()));
        v
    };
    let ours = |mode: &str, key: &str, path: &Path| -> Step {
        let mut c = Command::new(std::env::current_exe().expect("own path"));
        c.env(CHILD, mode)
            .env("STRONGROOM_BENCH_S3_ENDPOINT", &ep)
            .env("STRONGROOM_BENCH_KEY", key)
            .env("STRONGROOM_BENCH_PATH", path);
        server.timed(c)
    };

    let mb_arg = |p: &Path| p.display().to_string();
    let s3 = |key: &str| format!("s3://{BUCKET}/{key}");
    let rc = |key: &str| format!("bench:{BUCKET}/{key}");
    assert!(
        run(aws_argv(&["s3", "mb", &format!("s3://{BUCKET}")])).ok,
        "could not create the bench bucket"
    );

    let names = ["strongroom", "aws s3 cp", "rclone copyto"];
    let mut up: [Vec<Step>; 3] = Default::default();
    let mut down: [Vec<Step>; 3] = Default::default();
    let out = dir.join("downloaded.bin");
    for round in 1..=3 {
        let keys = [
            format!("sr-{round}.bin"),
            format!("aws-{round}.bin"),
            format!("rclone-{round}.bin"),
        ];
        settle(&out);
        up[0].push(ours("put", &keys[0], &input));
        up[1].push(run(aws_argv(&[
            "s3",
            "cp",
            "--only-show-errors",
            &mb_arg(&input),
            &s3(&keys[1]),
        ])));
        up[2].push(run(rclone_argv(&[
            "copyto",
            &mb_arg(&input),
            &rc(&keys[2]),
        ])));
        for (i, key) in keys.iter().enumerate() {
            settle(&out);
            let step = match i {
                0 => ours("get", key, &out),
                1 => run(aws_argv(&[
                    "s3",
                    "cp",
                    "--only-show-errors",
                    &s3(key),
                    &mb_arg(&out),
                ])),
                _ => run(rclone_argv(&["copyto", &rc(key), &mb_arg(&out)])),
            };
            let same = step.ok && same_file(&input, &out);
            assert!(same, "{} downloaded something else", names[i]);
            down[i].push(step);
            // Keep the server's memory and disk flat across rounds.
            let _ = run(aws_argv(&["s3", "rm", "--only-show-errors", &s3(key)]));
        }
        for (i, n) in names.iter().enumerate() {
            assert!(up[i][round - 1].ok, "{n} upload failed");
        }
        println!(
            "round {round}: up {:.2}s / {:.2}s / {:.2}s, down {:.2}s / {:.2}s / {:.2}s ({})",
            up[0][round - 1].wall,
            up[1][round - 1].wall,
            up[2][round - 1].wall,
            down[0][round - 1].wall,
            down[1][round - 1].wall,
            down[2][round - 1].wall,
            names.join(" / ")
        );
    }
    let _ = std::fs::remove_file(&out);

    let mbf = mb as f64;
    let mut rows = Vec::new();
    println!();
    println!("| step | tool | median wall | MiB/s | vs strongroom | client CPU s | server CPU s |");
    println!("|---|---|---|---|---|---|---|");
    for (what, steps) in [("upload", &up), ("download", &down)] {
        let ours_wall = median(steps[0].iter().map(|s| s.wall));
        for (i, n) in names.iter().enumerate() {
            let wall = median(steps[i].iter().map(|s| s.wall));
            let client = median(steps[i].iter().map(|s| s.client_cpu));
            let server = median_opt(steps[i].iter().map(|s| s.server_cpu));
            let ratio = ours_wall / wall;
            println!(
                "| {what} | {n} | {wall:.2}s | {:.0} | {ratio:.2}x | {client:.2} | {} |",
                mbf / wall,
                server.map_or("n/a".into(), |s| format!("{s:.2}"))
            );
            rows.push(serde_json::json!({
                "step": what, "tool": n, "median_wall_s": wall, "mib_per_s": mbf / wall,
                "strongroom_time_ratio": ratio, "client_cpu_s": client, "server_cpu_s": server,
            }));
        }
    }
    println!(
        "(vs strongroom = strongroom's wall time / the tool's: below 1 means strongroom is faster)"
    );
    let json_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("bench");
    std::fs::create_dir_all(&json_dir).expect("bench json dir");
    let json =
        serde_json::json!({ "bench": "transfer", "server": server.name, "mib": mb, "rows": rows });
    std::fs::write(
        json_dir.join("transfer.json"),
        serde_json::to_vec_pretty(&json).expect("json"),
    )
    .expect("write json");
    println!("written: {}", json_dir.join("transfer.json").display());
}

/// One timed step.
#[derive(Debug, Clone, Copy)]
struct Step {
    wall: f64,
    client_cpu: f64,
    /// The server's CPU seconds during the step; `None` when its process is not known.
    server_cpu: Option<f64>,
    ok: bool,
}

struct Server {
    endpoint: String,
    name: &'static str,
    pid: Option<u32>,
    child: Option<Child>,
}

impl Server {
    fn start(venv_bin: &Path, dir: &Path) -> Server {
        if let Ok(ep) = std::env::var("STRONGROOM_BENCH_S3_ENDPOINT") {
            let pid = std::env::var("STRONGROOM_BENCH_S3_PID")
                .ok()
                .and_then(|p| p.parse().ok());
            return Server {
                endpoint: ep,
                name: "given",
                pid,
                child: None,
            };
        }
        let moto = venv_bin.join("moto_server");
        assert!(
            moto.exists(),
            "no S3 server: set STRONGROOM_BENCH_S3_ENDPOINT or run `make bench`, which installs moto"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = File::create(dir.join("moto.log")).expect("moto log");
        let child = Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start moto");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            name: "moto 5.1.22",
            pid: Some(child.id()),
            child: Some(child),
        }
    }

    /// Runs `c` to its end; wall time, its CPU time and the server's during it.
    fn timed(&self, mut c: Command) -> Step {
        let before = self.pid.map(cpu_of);
        let t = Instant::now();
        let out = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run step");
        let wall = t.elapsed().as_secs_f64();
        let server_cpu = match (self.pid, before) {
            (Some(p), Some(b)) => Some(cpu_of(p) - b),
            _ => None,
        };
        if !out.status.success() {
            eprintln!(
                "step failed: {:?}\n{}",
                c.get_program(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Step {
            wall,
            client_cpu: children_cpu(),
            server_cpu,
            ok: out.status.success(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// CPU seconds of the last reaped child: the difference of RUSAGE_CHILDREN totals between calls.
fn children_cpu() -> f64 {
    use std::sync::Mutex;
    static LAST: Mutex<f64> = Mutex::new(0.0);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    // cutime and cstime: fields 16 and 17 of /proc/PID/stat (13 and 14 after the name).
    let ticks: f64 = [13, 14]
        .iter()
        .map(|i| f.get(*i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0))
        .sum();
    let total = ticks / 100.0;
    let mut last = LAST.lock().expect("lock");
    let d = total - *last;
    *last = total;
    d
}

/// Strongroom's side: one put or one verified get through the S3 provider, as the jobs use it.
fn child(mode: &str) {
    let ep = std::env::var("STRONGROOM_BENCH_S3_ENDPOINT").expect("endpoint");
    let key = std::env::var("STRONGROOM_BENCH_KEY").expect("key");
    let path = PathBuf::from(std::env::var("STRONGROOM_BENCH_PATH").expect("path"));
    let cfg = S3StoreConfig::new(BUCKET, "us-east-1", Some(&ep))
        .with_credentials(ACCESS_KEY, Sensitive::new(SECRET_KEY.to_string()));
    let store = S3Store::new(cfg).expect("store");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        match mode {
            "put" => {
                store
                    .put_file(
                        &key,
                        &path,
                        &PutOptions::default(),
                        &NoProgress,
                        &Cancel::new(),
                    )
                    .await
                    .expect("put");
            }
            _ => {
                let mut out = BufWriter::with_capacity(1 << 20, File::create(&path).expect("out"));
                store
                    .get_to(&key, &GetOptions::default(), &mut out, &NoProgress)
                    .await
                    .expect("verified get");
                out.flush().expect("flush");
            }
        }
    });
}

fn median_opt(v: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let s: Vec<f64> = v.flatten().collect();
    (!s.is_empty()).then(|| median(s))
}

/// Incompressible bytes, like the scanned documents and the encrypted backups that go up.
fn generate(path: &Path, len: u64) {
    if std::fs::metadata(path)
        .map(|m| m.len() == len)
        .unwrap_or(false)
    {
        return;
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).expect("create"));
    let mut buf = vec![0u8; 1 << 20];
    let mut written = 0u64;
    while written < len {
        for w in buf.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w.copy_from_slice(&x.to_le_bytes());
        }
        let n = (len - written).min(buf.len() as u64) as usize;
        out.write_all(&buf[..n]).expect("write");
        written += n as u64;
    }
    out.flush().expect("flush");
}
