//! The station benchmark: Strongroom's release CLI beside what an IT officer would script
//! instead — restic, borg, `sqlite3 .backup` + `zstd` + `openssl`, rclone, the aws CLI — on one
//! generated station dataset, in one run, the tools alternating within each round (3 rounds),
//! against a filesystem-backed S3 server (s3s-fs) whose CPU time is reported beside each
//! client's, so a server-bound figure shows as such. Prints the medians and the ratios to the
//! targets and writes them to `<target>/bench/station.json`.
//!
//! Run: `make bench` (installs the peers and s3s-fs, builds the release CLI, starts a throwaway
//! keyring for the CLI's master key). Knobs: STRONGROOM_BENCH_MB (registry size, 500),
//! STRONGROOM_BENCH_SCALES (more registry sizes for the scaling and memory rows, "100,2000"),
//! STRONGROOM_BENCH_DOCS (1000), STRONGROOM_BENCH_ROUNDS (3), STRONGROOM_BENCH_CLI (the
//! `strongroom` binary), STRONGROOM_BENCH_S3S (the s3s-fs binary).
//!
//! Fairness: every step starts with the page cache written back (`settle`); every tool that
//! writes a backup or a restored file ends with its data on disk (Strongroom fsyncs, the
//! peers are followed by `sync`); restic and borg get a fresh repository for each round, so
//! each backup is a full one like Strongroom's; the pipeline's `openssl enc` has no
//! authentication (CTR), so its restore checks nothing — it is a floor, not a peer.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "measure/mod.rs"]
mod measure;

#[path = "station/dataset.rs"]
mod dataset;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use measure::{median, settle, sha256_of, shell, size_of, timed, Sample};
use serde::Serialize;
use strongroom_core::paths::Home;
use strongroom_core::registry::Registry;

const MB: f64 = 1_000_000.0;
// Throwaway secrets of a throwaway keyring and a loopback server that lives for this run.
const PASSPHRASE: &str = "Granite orchard lantern harbour 7413 quietly!";
const ACCESS_KEY: &str = "strongroombench";
const SECRET_KEY: &str = "strongroom-bench-secret-key";
const PEER_PASSWORD: &str = "bench-repository-password";
const BACKUPS_BUCKET: &str = "bench-backups";
const DOCUMENTS_BUCKET: &str = "bench-documents";
const PEERS_BUCKET: &str = "bench-peers";

struct Config {
    mb: u64,
    scales: Vec<u64>,
    docs: usize,
    rounds: usize,
    dir: PathBuf,
}

struct Tools {
    cli: PathBuf,
    restic: PathBuf,
    borg: PathBuf,
    rclone: PathBuf,
    aws: PathBuf,
}

/// One line of the results: a tool doing a scenario, `rounds` times.
#[derive(Serialize)]
struct Row {
    scenario: &'static str,
    tool: String,
    /// The bytes the scenario moves (registry or documents), for MB/s.
    bytes: u64,
    samples: Vec<Sample>,
}

impl Row {
    fn wall(&self) -> f64 {
        median(self.samples.iter().map(|s| s.wall))
    }
    fn cpu(&self) -> f64 {
        median(self.samples.iter().map(|s| s.cpu))
    }
    fn rss_mib(&self) -> f64 {
        self.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }
    fn server_cpu(&self) -> Option<f64> {
        let v: Vec<f64> = self.samples.iter().filter_map(|s| s.server_cpu).collect();
        (!v.is_empty()).then(|| median(v))
    }
}

/// A target of the benchmark issue and whether this run met it.
#[derive(Serialize)]
struct Target {
    what: String,
    figure: String,
    met: bool,
}

#[derive(Default, Serialize)]
struct Report {
    rows: Vec<Row>,
    targets: Vec<Target>,
    facts: BTreeMap<String, serde_json::Value>,
}

impl Report {
    fn row(&mut self, scenario: &'static str, tool: &str, bytes: u64) -> usize {
        if let Some(i) = self
            .rows
            .iter()
            .position(|r| r.scenario == scenario && r.tool == tool)
        {
            return i;
        }
        self.rows.push(Row {
            scenario,
            tool: tool.to_string(),
            bytes,
            samples: Vec::new(),
        });
        self.rows.len() - 1
    }
    fn push(&mut self, scenario: &'static str, tool: &str, bytes: u64, s: Sample) {
        let i = self.row(scenario, tool, bytes);
        self.rows[i].samples.push(s);
    }
    fn find(&self, scenario: &str, tool: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.tool == tool)
    }
    /// Strongroom's median wall time over `peer`'s in `scenario`, against `max`.
    fn ratio_target(&mut self, scenario: &str, peer: &str, max: f64) {
        let (Some(ours), Some(theirs)) = (
            self.find(scenario, "strongroom").map(Row::wall),
            self.find(scenario, peer).map(Row::wall),
        ) else {
            return;
        };
        let ratio = ours / theirs;
        self.targets.push(Target {
            what: format!("{scenario}: strongroom at most {max}x {peer}'s time"),
            figure: format!("{ratio:.2}x ({ours:.2}s vs {theirs:.2}s)"),
            met: ratio <= max,
        });
    }
    fn fact(&mut self, k: &str, v: serde_json::Value) {
        self.facts.insert(k.to_string(), v);
    }
}

fn main() {
    let env_num = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let cfg = Config {
        mb: env_num("STRONGROOM_BENCH_MB", 500),
        scales: std::env::var("STRONGROOM_BENCH_SCALES")
            .unwrap_or_else(|_| "100,2000".into())
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        docs: env_num("STRONGROOM_BENCH_DOCS", 1000) as usize,
        rounds: env_num("STRONGROOM_BENCH_ROUNDS", 3) as usize,
        dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-station"),
    };
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run this through `make bench`: the CLI keeps its master key in the OS keyring, which \
         make bench starts for the run"
    );
    let cache = measure::cache_dir();
    let tools = Tools {
        cli: std::env::var_os("STRONGROOM_BENCH_CLI")
            .map(PathBuf::from)
            .expect("STRONGROOM_BENCH_CLI: the release `strongroom` binary (make bench sets it)"),
        restic: measure::find_tool("restic", &[]),
        borg: measure::find_tool("borg", &[]),
        rclone: measure::find_tool("rclone", &[]),
        aws: measure::find_tool("aws", &[cache.join("awscli/bin")]),
    };
    let _ = std::fs::remove_dir_all(&cfg.dir);
    std::fs::create_dir_all(&cfg.dir).expect("bench dir");
    let s3 = S3Server::start(&cache, &cfg.dir);
    let mut report = Report::default();
    report.fact(
        "s3_server",
        "s3s-fs 0.14.1 (filesystem-backed, loopback)".into(),
    );
    report.fact("rounds", cfg.rounds.into());

    // The station: one home whose registry is filled to the size asked for.
    let t = Instant::now();
    let station = Station::init(&tools.cli, &cfg.dir.join("home-a"), "bench-a", &s3);
    let stats = dataset::fill(&Home::at(&station.root), cfg.mb * 1_000_000, 1);
    println!(
        "dataset: registry {:.0} MB ({} cases, {} document records, {} audit records) in {:.0}s",
        stats.bytes as f64 / MB,
        stats.cases,
        stats.documents,
        stats.audit_records,
        t.elapsed().as_secs_f64()
    );
    report.fact("registry", serde_json::to_value(stats).expect("stats"));
    let docs_dir = cfg.dir.join("documents");
    let docs_bytes = dataset::documents(&docs_dir, cfg.docs, 2);
    println!(
        "dataset: {} documents, {:.0} MB",
        cfg.docs,
        docs_bytes as f64 / MB
    );
    report.fact(
        "documents",
        serde_json::json!({ "count": cfg.docs, "bytes": docs_bytes }),
    );

    if std::env::var_os("STRONGROOM_BENCH_STAGES").is_some() {
        // Where the time of a backup and a restore goes, stage by stage, then stop.
        stages(&station.cmd(&["backup", "create", "--local-only"], false));
        let listed = timed(&station.cmd(&["backup", "list"], false), None, None);
        let id = str_field(&json_of(&listed)[0], "id");
        let out = cfg.dir.join("stages-restored.sqlite");
        stages(&station.restore_to(&id, &out));
        return;
    }
    local_backup_and_restore(&cfg, &tools, &station, stats.bytes, &mut report);
    cloud_backup(&cfg, &tools, &station, &s3, stats.bytes, &mut report);
    documents(&cfg, &tools, &s3, &docs_dir, docs_bytes, &mut report);
    search(&station, stats.cases, &mut report);
    scaling(&cfg, &tools, &s3, stats.bytes, &mut report);
    daily(&cfg, &tools, &station, stats.cases, &mut report);

    targets(&mut report);
    print_report(&report);
    let json_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("bench");
    std::fs::create_dir_all(&json_dir).expect("bench json dir");
    let path = json_dir.join("station.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&report).expect("report json"),
    )
    .expect("write report");
    println!("written: {}", path.display());
    let _ = std::fs::remove_dir_all(&cfg.dir);
}

/// A station home driven through the CLI.
struct Station {
    cli: PathBuf,
    root: PathBuf,
    cloud: Vec<(String, String)>,
}

impl Station {
    fn init(cli: &Path, root: &Path, name: &str, s3: &S3Server) -> Station {
        let st = Station {
            cli: cli.to_path_buf(),
            root: root.to_path_buf(),
            cloud: vec![
                ("BACKUP_CLOUD_STORAGE_ENABLED".into(), "true".into()),
                ("BACKUP_CLOUD_PROVIDER".into(), "aws".into()),
                ("AWS_REGION".into(), "us-east-1".into()),
                ("AWS_ENDPOINT_URL".into(), s3.endpoint.clone()),
                ("AWS_S3_BACKUP_BUCKET".into(), BACKUPS_BUCKET.into()),
                ("AWS_S3_DOCUMENTS_BUCKET".into(), DOCUMENTS_BUCKET.into()),
                ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY.into()),
                ("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY.into()),
            ],
        };
        // With the cloud on, so the recovery file is in both destinations.
        let c = st.cmd(&["init", "--passphrase-stdin", "--station", name], true);
        timed(&c, Some(PASSPHRASE.as_bytes()), None);
        st
    }

    /// `strongroom --home ROOT --json ARGS`, with the cloud settings only when `cloud`.
    fn cmd(&self, args: &[&str], cloud: bool) -> Command {
        let mut c = Command::new(&self.cli);
        c.arg("--home").arg(&self.root).arg("--json").args(args);
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_string();
            if k.starts_with("AWS_") || k.starts_with("AZURE_") || k.starts_with("BACKUP_") {
                c.env_remove(k);
            }
        }
        if cloud {
            c.envs(self.cloud.iter().map(|(k, v)| (k, v)));
        }
        c.env("STRONGROOM_OFFICER", "Records Officer Bench");
        c
    }

    fn registry(&self) -> PathBuf {
        Home::at(&self.root).registry()
    }

    /// `backup restore ID --to OUT`: verified, and nothing live touched.
    fn restore_to(&self, id: &str, out: &Path) -> Command {
        let out = out.display().to_string();
        self.cmd(
            &[
                "backup",
                "restore",
                id,
                "--yes",
                "--reason",
                "benchmark",
                "--to",
                &out,
            ],
            false,
        )
    }
}

/// Runs a CLI command and prints when each progress stage (from its JSON progress lines on
/// stderr) was first and last seen.
fn stages(cmd: &Command) {
    use std::io::BufRead;
    let mut c = Command::new(cmd.get_program());
    c.args(cmd.get_args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let t = Instant::now();
    let mut child = c.spawn().expect("start the CLI");
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    // The process's peak RSS so far (VmHWM), read at each progress line: which stage raised it.
    let peak_kib = || {
        std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .unwrap_or(0)
    };
    let err = child.stderr.take().expect("stderr");
    // (stage, first seen, last seen, peak RSS KiB when last seen)
    let mut seen: Vec<(String, f64, f64, u64)> = Vec::new();
    for line in std::io::BufReader::new(err).lines().map_while(|l| l.ok()) {
        let now = t.elapsed().as_secs_f64();
        let stage = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v.get("stage").and_then(|s| s.as_str()).map(String::from))
            .unwrap_or_else(|| format!("(log) {}", line.chars().take(100).collect::<String>()));
        let peak = peak_kib();
        match seen.last_mut() {
            Some(last) if last.0 == stage => {
                last.2 = now;
                last.3 = last.3.max(peak);
            }
            _ => seen.push((stage, now, now, peak)),
        }
    }
    let status = child.wait().expect("wait");
    println!(
        "{:?} {status}, {:.2}s:",
        cmd.get_args().nth(3),
        t.elapsed().as_secs_f64()
    );
    for (stage, first, last, peak) in seen {
        println!(
            "  {first:7.3}s .. {last:7.3}s  peak RSS {:5.1} MiB  {stage}",
            peak as f64 / 1024.0
        );
    }
}

/// The JSON a CLI command printed.
fn json_of(s: &Sample) -> serde_json::Value {
    serde_json::from_str(s.stdout.trim()).unwrap_or_else(|e| {
        panic!("the CLI printed no JSON ({e}): {}", s.stdout);
    })
}

fn str_field(v: &serde_json::Value, k: &str) -> String {
    v.get(k)
        .and_then(|x| x.as_str())
        .unwrap_or_else(|| panic!("no {k} in {v}"))
        .to_string()
}

/// restic and borg with their repository password and caches inside the bench folder.
fn peer(program: &Path, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.env("RESTIC_PASSWORD", PEER_PASSWORD)
        .env("RESTIC_CACHE_DIR", dir.join("restic-cache"))
        .env("BORG_PASSPHRASE", PEER_PASSWORD)
        .env("BORG_BASE_DIR", dir.join("borg-base"))
        .env("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes");
    c
}

/// The same command followed by `sync`, so the peer's output is on disk as Strongroom's is.
fn then_sync(c: &Command) -> Command {
    let mut s = Command::new("bash");
    s.args(["-euo", "pipefail", "-c", r#""$@" && sync"#, "bash"])
        .arg(c.get_program())
        .args(c.get_args());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => s.env(k, v),
            None => s.env_remove(k),
        };
    }
    if let Some(d) = c.get_current_dir() {
        s.current_dir(d);
    }
    s
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Cases in a SQLite file, read-only.
fn cases_in(path: &Path) -> i64 {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open restored registry");
    db.query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .expect("count cases")
}

fn local_backup_and_restore(
    cfg: &Config,
    tools: &Tools,
    st: &Station,
    bytes: u64,
    report: &mut Report,
) {
    let reg = st.registry();
    let reg_s = reg.display().to_string();
    let cases = cases_in(&reg);
    let key_hex = hex::encode(rand::random::<[u8; 32]>());
    let iv_hex = "000102030405060708090a0b0c0d0e0f";
    let work = cfg.dir.join("local");
    std::fs::create_dir_all(&work).expect("work dir");
    let pipe_out = work.join("pipeline.zst.enc");
    let snap = work.join("pipeline-snapshot.sqlite");
    let restored = work.join("restored");
    for round in 1..=cfg.rounds {
        // Backups: strongroom, the pipeline, restic, borg.
        let s = timed(
            &st.cmd(&["backup", "create", "--local-only"], false),
            None,
            None,
        );
        let created = json_of(&s);
        let id = str_field(&created, "id");
        report.fact(
            "strongroom_backup_bytes",
            created.get("size").cloned().unwrap_or_default(),
        );
        report.push("local backup", "strongroom", bytes, s);

        settle(&pipe_out);
        let s = timed(
            &shell(&format!(
                "sqlite3 {r} \".backup '{snap}'\" && zstd -q -T2 -1 -c {snap} \
                 | openssl enc -aes-256-ctr -K {key_hex} -iv {iv_hex} -out {out} && sync {out} && rm {snap}",
                r = quote(&reg_s),
                snap = snap.display(),
                out = quote(&pipe_out.display().to_string())
            )),
            None,
            None,
        );
        report.fact("pipeline_backup_bytes", size_of(&pipe_out).into());
        report.push("local backup", "sqlite3+zstd+openssl", bytes, s);

        // Strongroom's backup records itself in the registry; the peers copy the file as it is now.
        let live_sha = sha256_of(&reg);
        let restic_repo = work.join(format!("restic-{round}"));
        let mut init = peer(&tools.restic, &cfg.dir);
        init.arg("-r")
            .arg(&restic_repo)
            .args(["init", "--repository-version", "2"]);
        timed(&init, None, None);
        settle(&work.join("none"));
        let mut c = peer(&tools.restic, &cfg.dir);
        c.arg("-r")
            .arg(&restic_repo)
            .args(["backup", "-q", "--host", "bench"])
            .arg(&reg);
        let s = timed(&then_sync(&c), None, None);
        report.fact("restic_repository_bytes", size_of(&restic_repo).into());
        report.push("local backup", "restic", bytes, s);

        let borg_repo = work.join(format!("borg-{round}"));
        let mut init = peer(&tools.borg, &cfg.dir);
        init.args(["init", "-e", "repokey"]).arg(&borg_repo);
        timed(&init, None, None);
        settle(&work.join("none"));
        let mut c = peer(&tools.borg, &cfg.dir);
        c.args(["create", "--compression", "zstd,3"])
            .arg(format!("{}::bench", borg_repo.display()))
            .arg(&reg);
        let s = timed(&then_sync(&c), None, None);
        report.fact("borg_repository_bytes", size_of(&borg_repo).into());
        report.push("local backup", "borg", bytes, s);

        // Restores of what each just wrote, into a new file.
        let out = restored.join("strongroom.sqlite");
        settle(&restored);
        std::fs::create_dir_all(&restored).expect("restore dir");
        let s = timed(&st.restore_to(&id, &out), None, None);
        assert_eq!(
            cases_in(&out),
            cases,
            "strongroom restored another registry"
        );
        report.push("restore", "strongroom", bytes, s);

        let out = restored.join("pipeline.sqlite");
        settle(&restored);
        std::fs::create_dir_all(&restored).expect("restore dir");
        let s = timed(
            &shell(&format!(
                "openssl enc -d -aes-256-ctr -K {key_hex} -iv {iv_hex} -in {inp} | zstd -q -d -c > {out} && sync {out}",
                inp = quote(&pipe_out.display().to_string()),
                out = quote(&out.display().to_string())
            )),
            None,
            None,
        );
        assert_eq!(
            cases_in(&out),
            cases,
            "the pipeline restored another registry"
        );
        report.push("restore", "sqlite3+zstd+openssl", bytes, s);

        settle(&restored);
        std::fs::create_dir_all(&restored).expect("restore dir");
        let mut c = peer(&tools.restic, &cfg.dir);
        c.arg("-r")
            .arg(&restic_repo)
            .args(["restore", "latest", "--verify", "--target"])
            .arg(&restored);
        let s = timed(&then_sync(&c), None, None);
        let got = restored.join(reg.strip_prefix("/").unwrap_or(&reg));
        assert_eq!(sha256_of(&got), live_sha, "restic restored another file");
        report.push("restore", "restic", bytes, s);

        settle(&restored);
        std::fs::create_dir_all(&restored).expect("restore dir");
        let mut c = peer(&tools.borg, &cfg.dir);
        c.arg("extract")
            .arg(format!("{}::bench", borg_repo.display()))
            .current_dir(&restored);
        let s = timed(&then_sync(&c), None, None);
        assert_eq!(sha256_of(&got), live_sha, "borg restored another file");
        report.push("restore", "borg", bytes, s);

        settle(&restored);
        let _ = std::fs::remove_dir_all(&restic_repo);
        let _ = std::fs::remove_dir_all(&borg_repo);
        println!("round {round}: local backup and restore done");
    }
}

fn cloud_backup(
    cfg: &Config,
    tools: &Tools,
    st: &Station,
    s3: &S3Server,
    bytes: u64,
    report: &mut Report,
) {
    for round in 1..=cfg.rounds {
        settle(&cfg.dir.join("none"));
        let s = timed(&st.cmd(&["backup", "create"], true), None, Some(s3.pid));
        let created = json_of(&s);
        assert!(
            created.get("cloud_key").is_some_and(|k| k.is_string()),
            "the backup did not reach the cloud: {created}"
        );
        report.push("backup to S3", "strongroom", bytes, s);

        let repo = format!("s3:{}/{PEERS_BUCKET}/restic-{round}", s3.endpoint);
        let mut init = peer(&tools.restic, &cfg.dir);
        s3.peer_env(&mut init);
        init.args(["-r", &repo, "init", "--repository-version", "2"]);
        timed(&init, None, None);
        settle(&cfg.dir.join("none"));
        let mut c = peer(&tools.restic, &cfg.dir);
        s3.peer_env(&mut c);
        c.args(["-r", &repo, "backup", "-q", "--host", "bench"])
            .arg(st.registry());
        let s = timed(&c, None, Some(s3.pid));
        report.push("backup to S3", "restic", bytes, s);
        println!("round {round}: backup to S3 done");
    }
}

fn documents(
    cfg: &Config,
    tools: &Tools,
    s3: &S3Server,
    docs: &Path,
    bytes: u64,
    report: &mut Report,
) {
    let st = Station::init(&tools.cli, &cfg.dir.join("home-docs"), "bench-docs", s3);
    let mut files: Vec<PathBuf> = std::fs::read_dir(docs)
        .expect("documents")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let originals: BTreeMap<String, String> = files
        .iter()
        .map(|f| {
            (
                f.file_name().unwrap().to_string_lossy().to_string(),
                sha256_of(f),
            )
        })
        .collect();
    let check_folder = |dir: &Path, who: &str| {
        for (name, sha) in &originals {
            assert_eq!(&sha256_of(&dir.join(name)), sha, "{who}: {name} differs");
        }
    };
    let down = cfg.dir.join("downloaded");
    let docs_s = docs.display().to_string();
    let down_s = down.display().to_string();
    for round in 1..=cfg.rounds {
        let case = format!("2026-9{round:05}");
        timed(
            &st.cmd(
                &[
                    "case",
                    "add",
                    "--number",
                    &case,
                    "--title",
                    "Benchmark documents",
                ],
                true,
            ),
            None,
            None,
        );
        settle(&down);
        let mut c = st.cmd(&["doc", "add", "--case", &case], true);
        c.args(&files);
        let s = timed(&c, None, Some(s3.pid));
        report.push("upload documents", "strongroom", bytes, s);

        // A bucket of its own: rclone probes a path inside a bucket with a HEAD, which s3s-fs
        // 0.14 answers 500 for a folder, and rclone then backs off for minutes.
        let rclone_bucket = format!("rclone-{round}");
        std::fs::create_dir_all(s3.dir.join(&rclone_bucket)).expect("bucket folder");
        let rc = format!("bench:{rclone_bucket}");
        let mut c = Command::new(&tools.rclone);
        s3.peer_env(&mut c);
        c.args(["copy", &docs_s, &rc]);
        let s = timed(&c, None, Some(s3.pid));
        report.push("upload documents", "rclone copy", bytes, s);

        let aws_url = format!("s3://{PEERS_BUCKET}/aws-{round}/");
        let mut c = Command::new(&tools.aws);
        s3.peer_env(&mut c);
        c.args([
            "--endpoint-url",
            &s3.endpoint,
            "s3",
            "cp",
            "--recursive",
            "--only-show-errors",
            &docs_s,
            &aws_url,
        ]);
        let s = timed(&c, None, Some(s3.pid));
        report.push("upload documents", "aws s3 cp", bytes, s);

        settle(&down);
        let c = st.cmd(&["doc", "get", "--case", &case, "--out", &down_s], true);
        let s = timed(&then_sync(&c), None, Some(s3.pid));
        check_folder(&down, "strongroom");
        report.push("download documents", "strongroom", bytes, s);

        settle(&down);
        let mut c = Command::new(&tools.rclone);
        s3.peer_env(&mut c);
        c.args(["copy", &rc, &down_s]);
        let s = timed(&then_sync(&c), None, Some(s3.pid));
        check_folder(&down, "rclone");
        report.push("download documents", "rclone copy", bytes, s);

        settle(&down);
        let mut c = Command::new(&tools.aws);
        s3.peer_env(&mut c);
        c.args([
            "--endpoint-url",
            &s3.endpoint,
            "s3",
            "cp",
            "--recursive",
            "--only-show-errors",
            &aws_url,
            &down_s,
        ]);
        let s = timed(&then_sync(&c), None, Some(s3.pid));
        check_folder(&down, "aws");
        report.push("download documents", "aws s3 cp", bytes, s);
        println!("round {round}: documents up and down done");
    }
    settle(&down);
}

/// Full-text search of the generated registry, in process (what the app's search box does).
fn search(st: &Station, cases: u64, report: &mut Report) {
    let reg = Registry::open(st.registry()).expect("open registry");
    let mut prose = dataset::Prose::new(7);
    let mut queries: Vec<String> = (0..6).map(|_| prose.text(1)).collect();
    queries[0] = "2026-0012".into();
    let mut times = Vec::new();
    let mut hits = 0usize;
    for _ in 0..5 {
        for q in &queries {
            let word = q.split([' ', '.']).next().unwrap_or("x").to_string();
            let t = Instant::now();
            hits += reg.search_cases(&word, 50).expect("search").len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    assert!(hits > 0, "the searches found nothing");
    let med = median(times.iter().copied());
    let worst = times.iter().copied().fold(0.0, f64::max);
    report.fact(
        "search",
        serde_json::json!({ "cases": cases, "median_ms": med, "worst_ms": worst, "queries": times.len() }),
    );
    report.targets.push(Target {
        what: format!("full-text search of {cases} cases under 50 ms"),
        figure: format!("median {med:.1} ms, worst {worst:.1} ms"),
        met: worst < 50.0,
    });
}

/// Backup and restore of registries of other sizes: MB/s and peak RSS.
fn scaling(cfg: &Config, tools: &Tools, s3: &S3Server, main_bytes: u64, report: &mut Report) {
    let mut speeds = vec![(main_bytes, report_speed(report, "local backup"))];
    for &mb in &cfg.scales {
        let root = cfg.dir.join(format!("home-{mb}"));
        let st = Station::init(&tools.cli, &root, &format!("bench-{mb}"), s3);
        let t = Instant::now();
        let stats = dataset::fill(&Home::at(&root), mb * 1_000_000, 1);
        println!(
            "dataset: registry {:.0} MB in {:.0}s",
            stats.bytes as f64 / MB,
            t.elapsed().as_secs_f64()
        );
        let scenario: &'static str = Box::leak(format!("local backup, {mb} MB").into_boxed_str());
        let restore: &'static str = Box::leak(format!("restore, {mb} MB").into_boxed_str());
        let out = cfg.dir.join("scale-restored.sqlite");
        for _ in 0..cfg.rounds {
            settle(&out);
            let s = timed(
                &st.cmd(&["backup", "create", "--local-only"], false),
                None,
                None,
            );
            let id = str_field(&json_of(&s), "id");
            report.push(scenario, "strongroom", stats.bytes, s);
            settle(&out);
            let s = timed(&st.restore_to(&id, &out), None, None);
            report.push(restore, "strongroom", stats.bytes, s);
        }
        settle(&out);
        speeds.push((stats.bytes, report_speed(report, scenario)));
        let _ = std::fs::remove_dir_all(&root);
    }
    let max = speeds.iter().map(|s| s.1).fold(0.0, f64::max);
    let min = speeds.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    let list = speeds
        .iter()
        .map(|(b, v)| format!("{:.0} MB: {v:.0} MB/s", *b as f64 / MB))
        .collect::<Vec<_>>()
        .join(", ");
    report.targets.push(Target {
        what: "backup MB/s flat within 20% across registry sizes".into(),
        figure: format!("{list} (spread {:.0}%)", (1.0 - min / max) * 100.0),
        met: min / max >= 0.8,
    });
    let peak = report
        .rows
        .iter()
        .filter(|r| r.tool == "strongroom" && !r.scenario.contains("documents"))
        .map(|r| (r.rss_mib(), r.scenario))
        .fold((0.0, ""), |a, b| if b.0 > a.0 { b } else { a });
    report.targets.push(Target {
        what: "peak RSS of backup and restore under 64 MB, at every size".into(),
        figure: format!("highest {:.1} MiB ({})", peak.0, peak.1),
        met: peak.0 * 1.048_576 < 64.0,
    });
}

fn report_speed(report: &Report, scenario: &str) -> f64 {
    report
        .find(scenario, "strongroom")
        .map(|r| r.bytes as f64 / MB / r.wall())
        .unwrap_or(f64::NAN)
}

/// Seven days at the station: each day 1% of the rows change and a backup is taken. What
/// Strongroom stores (a full, compressed copy each day) beside restic's repository growth.
fn daily(cfg: &Config, tools: &Tools, st: &Station, generated_cases: u64, report: &mut Report) {
    let repo = cfg.dir.join("restic-daily");
    let mut init = peer(&tools.restic, &cfg.dir);
    init.arg("-r")
        .arg(&repo)
        .args(["init", "--repository-version", "2"]);
    timed(&init, None, None);
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for day in 1..=7u64 {
        dataset::change_one_percent(&Home::at(&st.root), day, generated_cases);
        let s = timed(
            &st.cmd(&["backup", "create", "--local-only"], false),
            None,
            None,
        );
        let size = json_of(&s)
            .get("size")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        ours.push(size);
        let before = size_of(&repo);
        let mut c = peer(&tools.restic, &cfg.dir);
        c.arg("-r")
            .arg(&repo)
            .args(["backup", "-q", "--host", "bench"])
            .arg(st.registry());
        timed(&c, None, None);
        theirs.push(size_of(&repo) - before);
    }
    let sum = |v: &[u64]| v.iter().sum::<u64>();
    println!(
        "7 daily backups with 1% change a day: strongroom {:.0} MB, restic repository {:.0} MB",
        sum(&ours) as f64 / MB,
        sum(&theirs) as f64 / MB
    );
    report.fact(
        "daily_stored_bytes",
        serde_json::json!({ "strongroom": ours, "restic_growth": theirs,
            "strongroom_total": sum(&ours), "restic_total": sum(&theirs) }),
    );
}

fn targets(report: &mut Report) {
    report.ratio_target("local backup", "restic", 0.5);
    report.ratio_target("local backup", "sqlite3+zstd+openssl", 1.3);
    report.ratio_target("restore", "restic", 1.0);
    report.ratio_target("backup to S3", "restic", 1.0);
    report.ratio_target("upload documents", "rclone copy", 1.0);
    report.ratio_target("download documents", "rclone copy", 1.0);
}

fn print_report(report: &Report) {
    println!();
    println!("| scenario | tool | median wall | MB/s | CPU s | peak RSS MiB | S3 server CPU s | strongroom's time / tool's |");
    println!("|---|---|---|---|---|---|---|---|");
    for r in &report.rows {
        let ours = report.find(r.scenario, "strongroom").map(Row::wall);
        println!(
            "| {} | {} | {:.2}s | {:.0} | {:.2} | {:.1} | {} | {} |",
            r.scenario,
            r.tool,
            r.wall(),
            r.bytes as f64 / MB / r.wall(),
            r.cpu(),
            r.rss_mib(),
            r.server_cpu().map_or("-".into(), |c| format!("{c:.2}")),
            ours.map_or("-".into(), |o| format!("{:.2}x", o / r.wall()))
        );
    }
    println!();
    println!("| target | this run | met |");
    println!("|---|---|---|");
    for t in &report.targets {
        println!(
            "| {} | {} | {} |",
            t.what,
            t.figure,
            if t.met { "yes" } else { "NO" }
        );
    }
    if let Some(d) = report.facts.get("daily_stored_bytes") {
        println!();
        println!(
            "stored by 7 daily backups (1% of rows changed a day): strongroom {} bytes, restic repository growth {} bytes",
            d["strongroom_total"], d["restic_total"]
        );
    }
}

/// s3s-fs serving a folder on a free loopback port.
struct S3Server {
    endpoint: String,
    pid: u32,
    child: Child,
    dir: PathBuf,
}

impl S3Server {
    fn start(cache: &Path, dir: &Path) -> S3Server {
        let bin = std::env::var_os("STRONGROOM_BENCH_S3S")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join("s3s-fs/bin/s3s-fs"));
        assert!(
            bin.is_file(),
            "s3s-fs is not installed at {}: `make bench` installs it",
            bin.display()
        );
        let root = dir.join("s3-root");
        for b in [BACKUPS_BUCKET, DOCUMENTS_BUCKET, PEERS_BUCKET] {
            std::fs::create_dir_all(root.join(b)).expect("bucket folder");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = std::fs::File::create(dir.join("s3s-fs.log")).expect("log");
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&root)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            pid: child.id(),
            child,
            dir: root,
        }
    }

    /// Credentials and endpoint for restic, rclone (remote `bench:`) and the aws CLI.
    fn peer_env(&self, c: &mut Command) {
        measure::s3_peer_env(c, &self.endpoint, ACCESS_KEY, SECRET_KEY, &self.dir);
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
