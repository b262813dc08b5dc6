//! Benchmark of the backup format against the pipeline an IT officer would script instead:
//! `zstd -T2 -1 | openssl enc -aes-256-ctr` (and its reverse), on the same generated
//! SQLite-like file, in the same run, alternating A B A B three times.
//!
//! Run: `cargo bench -p strongroom-core --bench archive`. Size in MB: STRONGROOM_BENCH_MB
//! (default 500); zstd worker threads of Strongroom's side: STRONGROOM_BENCH_THREADS (default:
//! the cores, at most 4). Strongroom's side runs in a child process (this binary re-executed) so its
//! peak RSS (VmHWM) is its own. Prints medians, ratios and the peak RSS.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "measure/mod.rs"]
mod measure;

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use measure::same_file;
use strongroom_core::archive::{self, Manifest, WriteParams};
use strongroom_core::crypto::{KeySet, MasterKey};

const STATION: &str = "bench-station";
const CHILD: &str = "STRONGROOM_BENCH_CHILD";

fn main() {
    if let Ok(mode) = std::env::var(CHILD) {
        child(&mode);
        return;
    }
    let mb: u64 = std::env::var("STRONGROOM_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-archive");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let input = dir.join("registry.sqlite");
    let t = Instant::now();
    generate(&input, mb * 1024 * 1024);
    println!(
        "generated {} MB SQLite-like file in {:.1}s: {}",
        mb,
        t.elapsed().as_secs_f64(),
        input.display()
    );

    let key_hex = random_key_hex();
    let iv_hex = "000102030405060708090a0b0c0d0e0f";
    let sr_file = dir.join("backup.srb");
    let sr_out = dir.join("restored-strongroom.sqlite");
    let peer_file = dir.join("backup.zst.enc");
    let peer_out = dir.join("restored-peer.sqlite");

    let mut sr_enc = Vec::new();
    let mut sr_dec = Vec::new();
    let mut peer_enc = Vec::new();
    let mut peer_dec = Vec::new();
    let mut cpu = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    let mut peak_rss_kib = 0u64;
    for round in 1..=3 {
        let (t, rss_enc, c) = run_child("encrypt", &key_hex, &input, &sr_file);
        sr_enc.push(t);
        cpu[0].push(c);
        let enc = format!(
            "zstd -q -T2 -1 -c < '{}' | openssl enc -aes-256-ctr -K {key_hex} -iv {iv_hex} > '{}'",
            input.display(),
            peer_file.display()
        );
        let (t, c) = run_shell(&enc, &peer_file);
        peer_enc.push(t);
        cpu[1].push(c);
        let (t, rss_dec, c) = run_child("decrypt", &key_hex, &sr_file, &sr_out);
        sr_dec.push(t);
        cpu[2].push(c);
        let rss = rss_enc.max(rss_dec);
        peak_rss_kib = peak_rss_kib.max(rss);
        let dec = format!(
            "openssl enc -d -aes-256-ctr -K {key_hex} -iv {iv_hex} < '{}' | zstd -q -d -c > '{}'",
            peer_file.display(),
            peer_out.display()
        );
        let (t, c) = run_shell(&dec, &peer_out);
        peer_dec.push(t);
        cpu[3].push(c);
        println!(
            "round {round}: strongroom backup {:.2}s restore {:.2}s | pipeline backup {:.2}s restore {:.2}s | RSS {} MiB",
            sr_enc[round - 1],
            sr_dec[round - 1],
            peer_enc[round - 1],
            peer_dec[round - 1],
            rss / 1024
        );
    }
    assert!(
        same_file(&input, &sr_out),
        "Strongroom restored a different file"
    );
    assert!(
        same_file(&input, &peer_out),
        "the pipeline restored a different file"
    );

    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mbs = |secs: f64| (mb as f64) / secs;
    let (se, pe, sd, pd) = (
        median(&sr_enc),
        median(&peer_enc),
        median(&sr_dec),
        median(&peer_dec),
    );
    println!();
    println!(
        "input: {mb} MB; strongroom backup file {} bytes, pipeline output {} bytes",
        size(&sr_file),
        size(&peer_file)
    );
    println!("| step                   | strongroom | zstd -T2 -1 + openssl ctr | ratio (target <= 1.5) |");
    println!("|------------------------|------------|---------------------------|-----------------------|");
    println!(
        "| compress+encrypt       | {se:.2}s ({:.0} MB/s) | {pe:.2}s ({:.0} MB/s) | {:.2}x |",
        mbs(se),
        mbs(pe),
        se / pe
    );
    println!(
        "| decrypt+decompress     | {sd:.2}s ({:.0} MB/s) | {pd:.2}s ({:.0} MB/s) | {:.2}x |",
        mbs(sd),
        mbs(pd),
        sd / pd
    );
    let c: Vec<f64> = cpu.iter().map(|v| median(v)).collect();
    println!(
        "CPU seconds (all threads/processes), medians: backup {:.2} vs {:.2} ({:.2}x), restore {:.2} vs {:.2} ({:.2}x)",
        c[0],
        c[1],
        c[0] / c[1],
        c[2],
        c[3],
        c[2] / c[3]
    );
    println!(
        "peak RSS of Strongroom's side (VmHWM of the child): {:.1} MiB (target < 64 MiB)",
        peak_rss_kib as f64 / 1024.0
    );
    for p in [&sr_file, &sr_out, &peer_file, &peer_out] {
        let _ = std::fs::remove_file(p);
    }
}

/// Untimed, before each step: remove the step's old output and write back every dirty page, so
/// no step pays for the previous one's writes (the kernel throttles writers when too many pages
/// are dirty).
fn settle(output: &Path) {
    let _ = std::fs::remove_file(output);
    let _ = Command::new("sync").status();
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[s.len() / 2]
}

/// The bench's throwaway key: the same 32 bytes serve Strongroom (as the master key, given to
/// the child on stdin) and openssl (as its AES key).
fn random_key_hex() -> String {
    let mut b = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    hex::encode(b)
}

fn master_from_hex(s: &str) -> MasterKey {
    let mut b = zeroize::Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(s.trim(), b.as_mut()).expect("key on stdin");
    MasterKey::from_bytes(b)
}

/// Runs Strongroom's side in a child; returns (wall seconds, child's VmHWM in KiB, CPU seconds).
fn run_child(mode: &str, key_hex: &str, from: &Path, to: &Path) -> (f64, u64, f64) {
    settle(to);
    let exe = std::env::current_exe().expect("own path");
    let t = Instant::now();
    let mut c = Command::new(exe)
        .env(CHILD, mode)
        .env("STRONGROOM_BENCH_FROM", from)
        .env("STRONGROOM_BENCH_TO", to)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child");
    c.stdin
        .take()
        .expect("stdin")
        .write_all(key_hex.as_bytes())
        .expect("key to child");
    let out = c.wait_with_output().expect("child output");
    let secs = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "child {mode} failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let rss = text
        .lines()
        .find_map(|l| l.strip_prefix("vmhwm_kib="))
        .and_then(|v| v.trim().parse().ok())
        .expect("child reports VmHWM");
    let cpu = text
        .lines()
        .find_map(|l| l.strip_prefix("cpu_ticks="))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 100.0;
    (secs, rss, cpu)
}

/// Runs the peer pipeline; returns (wall seconds, CPU seconds of its processes).
fn run_shell(cmd: &str, to: &Path) -> (f64, f64) {
    settle(to);
    let t = Instant::now();
    let out = Command::new("bash")
        .args(["-o", "pipefail", "-c", &format!("{cmd}\ntimes")])
        .output()
        .expect("bash");
    let secs = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "pipeline failed: {cmd}");
    // `times` prints the shell's user/sys, then its children's: "0m1.234s 0m0.056s".
    let text = String::from_utf8_lossy(&out.stdout);
    let cpu = text
        .lines()
        .nth(1)
        .map(|l| l.split_whitespace().map(minutes_seconds).sum())
        .unwrap_or(0.0);
    (secs, cpu)
}

fn minutes_seconds(v: &str) -> f64 {
    let v = v.trim_end_matches('s');
    let (m, s) = v.split_once('m').unwrap_or(("0", v));
    m.parse::<f64>().unwrap_or(0.0) * 60.0 + s.parse::<f64>().unwrap_or(0.0)
}

fn child(mode: &str) {
    let mut key = String::new();
    std::io::stdin().read_to_string(&mut key).expect("key");
    let master = master_from_hex(&key);
    let from = PathBuf::from(std::env::var("STRONGROOM_BENCH_FROM").expect("from"));
    let to = PathBuf::from(std::env::var("STRONGROOM_BENCH_TO").expect("to"));
    match mode {
        "encrypt" => {
            let mut input = File::open(&from).expect("input");
            let mut out = File::create(&to).expect("output");
            archive::write(
                &mut input,
                &mut out,
                &master,
                WriteParams {
                    threads: std::env::var("STRONGROOM_BENCH_THREADS")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(WriteParams::new(STATION).threads),
                    ..WriteParams::new(STATION)
                },
                &Manifest::registry_snapshot(1, Default::default()),
            )
            .expect("backup");
        }
        _ => {
            let keys = KeySet::single(STATION, master);
            let input = File::open(&from).expect("backup");
            let out = File::create(&to).expect("output");
            archive::Reader::open(std::io::BufReader::with_capacity(1 << 20, input), &keys)
                .expect("open")
                .decrypt_to(out)
                .expect("restore");
        }
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().to_string())
        .unwrap_or_else(|| "0".into());
    println!("vmhwm_kib={hwm}");
    // utime + stime of the whole process (all threads), in clock ticks (100 per second).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    println!("cpu_ticks={ticks}");
}

/// A file laid out like a SQLite database: 4 KiB pages of records (case numbers, names, dates,
/// free text, random ids and hashes), compressing about 3x with zstd -1.
fn generate(path: &Path, len: u64) {
    if std::fs::metadata(path)
        .map(|m| m.len() == len)
        .unwrap_or(false)
    {
        return;
    }
    const WORDS: &[&str] = &[
        "statement",
        "witness",
        "vehicle",
        "burglary",
        "assault",
        "property",
        "recovered",
        "officer",
        "report",
        "evidence",
        "interview",
        "suspect",
        "victim",
        "address",
        "theft",
        "damage",
        "northgate",
        "station",
        "custody",
        "released",
        "charged",
        "bail",
        "court",
        "hearing",
        "exhibit",
        "photograph",
        "forensic",
        "sample",
        "laboratory",
        "returned",
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).expect("create"));
    let mut page = Vec::with_capacity(4096);
    let mut written = 0u64;
    let mut row = 0u64;
    while written < len {
        page.clear();
        page.extend_from_slice(&[0x0d, 0, 0, 0, 0, 0x10, 0, 0]);
        while page.len() < 4000 {
            row += 1;
            let r = next();
            let _ = write!(
                page,
                "{row:08x}2026-{:06}|{}|{}|2026-{:02}-{:02}T{:02}:{:02}:00Z|",
                r % 1_000_000,
                WORDS[(r >> 20) as usize % WORDS.len()],
                WORDS[(r >> 28) as usize % WORDS.len()],
                1 + (r >> 36) % 12,
                1 + (r >> 40) % 28,
                (r >> 44) % 24,
                (r >> 50) % 60
            );
            for _ in 0..(r >> 56) % 12 {
                page.extend_from_slice(WORDS[next() as usize % WORDS.len()].as_bytes());
                page.push(b' ');
            }
            // An id and a hash: incompressible.
            let _ = writeln!(page, "|{:016x}{:016x}", next(), next());
        }
        page.resize(4096, 0);
        let n = (len - written).min(4096) as usize;
        out.write_all(&page[..n]).expect("write");
        written += n as u64;
    }
    out.flush().expect("flush");
}
