//! The real app under Xvfb through tauri-driver (WebDriver), against moto and the OS keyring:
//! first run, the S3 destination set up in Settings (credentials into the keyring), a case made
//! after fixing invalid input, three files dropped onto it by a real X drag and drop and uploaded
//! with their hashes shown, a backup with its progress, a case deleted and brought back by the
//! restore wizard, the audit trail and its chain, a wrong secret named by Test connection — and
//! no secret anywhere in the home, the XDG folders or the app's log. Screenshots of every
//! screen go to target/debug/e2e-screenshots.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use sha2::{Digest, Sha256};
use strongroom_tests::app::AppSession;
use strongroom_tests::{cli, file_dialog, os_drop, services};

const PASSPHRASE: &str = "Canary-Recovery 7c41 Harbour Lantern!";
const S3_SECRET: &str = "canary-s3-secret-9f27c1b8e4d0";
const WRONG_SECRET: &str = "canary-wrong-secret-51aa0c3e";

async fn wait_enabled(app: &AppSession, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !app.by_testid(id).await.is_enabled().await.unwrap_or(false) {
        assert!(
            Instant::now() < deadline,
            "[data-testid={id}] stayed disabled"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn wait_text(app: &AppSession, id: &str, want: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let text = app.text_of(id).await;
        if text.contains(want) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "[data-testid={id}] shows {text:?}, never {want:?}\napp log:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn texts(app: &AppSession, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for el in app
        .client
        .find_all(Locator::Css(&format!("[data-testid=\"{id}\"]")))
        .await
        .expect("find")
    {
        out.push(el.text().await.unwrap_or_default());
    }
    out
}

async fn open_case(app: &AppSession, number: &str) {
    app.click("nav-cases").await;
    app.client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!(
            "[data-testid=\"case-open\"][aria-label=\"Open case {number}\"]"
        )))
        .await
        .expect("the case is listed")
        .click()
        .await
        .expect("open the case");
    app.wait_attr("case-detail", "data-number", number, 20)
        .await;
}

/// The first-run wizard with a strong passphrase; ends on the dashboard. Returns the key id.
async fn set_up_station(app: &AppSession) -> String {
    app.by_testid("first-run").await;
    app.type_into("first-run-station", "Northgate Police Station")
        .await;
    app.type_into("first-run-officer", "Duty records officer")
        .await;
    app.click("first-run-next").await;
    app.type_into("first-run-passphrase", PASSPHRASE).await;
    app.type_into("first-run-repeat", PASSPHRASE).await;
    wait_enabled(app, "first-run-create").await;
    app.click("first-run-create").await;
    let key_id = app.text_of("kit-key-id").await;
    app.click("first-run-finish").await;
    app.by_testid("screen-dashboard").await;
    key_id
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Turns the IAM-checking moto's signature checks on (idempotent; storage_iam turns them off
/// for its own setup first).
fn enforce_auth(endpoint: &str, python: &str) {
    let script = "import sys, urllib.request\n\
        urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/moto-api/reset-auth', \
        data=b'0', method='POST', headers={'Content-Type': 'text/plain'}))";
    let ok = Command::new(python)
        .args(["-c", script, endpoint])
        .status()
        .expect("python runs");
    assert!(ok.success(), "could not turn moto's auth checks on");
}

fn files_containing(root: &Path, needle: &str) -> Vec<PathBuf> {
    cli::files_under(root)
        .into_iter()
        .filter(|p| {
            std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_sets_up_uploads_backs_up_restores_and_audits_in_the_app() {
    let (Some(display), Some(()), Some(s3)) = (
        services::display(),
        services::keyring(),
        services::s3_endpoint(),
    ) else {
        return;
    };
    let auth = services::s3_auth_endpoint();
    // The app's own scheduler stays off: a backup it starts on its own would race the steps.
    let app = AppSession::start_with_settings(&[], "[schedule]\nin_app = false\n").await;
    assert_eq!(app.client.title().await.expect("title"), "Strongroom");

    // ---- First run: station, officer, passphrase checked live, key made, recovery kit.
    app.by_testid("first-run").await;
    eprintln!(
        "cold start to the first-run wizard: {:?}",
        app.started.elapsed()
    );
    app.screenshot("first-run").await;
    app.type_into("first-run-station", "Northgate Police Station")
        .await;
    app.type_into("first-run-officer", "Duty records officer")
        .await;
    app.click("first-run-next").await;
    app.type_into("first-run-passphrase", "password1").await;
    let checklist = wait_text(&app, "passphrase-checklist", "✗", 10).await;
    assert!(checklist.contains("upper-case"), "{checklist}");
    assert!(
        !app.by_testid("first-run-create")
            .await
            .is_enabled()
            .await
            .unwrap(),
        "a weak passphrase must not be accepted"
    );
    app.screenshot("first-run-weak-passphrase").await;
    app.type_into("first-run-passphrase", PASSPHRASE).await;
    app.type_into("first-run-repeat", PASSPHRASE).await;
    wait_enabled(&app, "first-run-create").await;
    app.click("first-run-create").await;
    app.by_testid("recovery-kit").await;
    let key_id = app.text_of("kit-key-id").await;
    assert_eq!(key_id.len(), 32, "key id {key_id:?}");
    assert!(key_id.chars().all(|c| c.is_ascii_hexdigit()));
    app.screenshot("first-run-recovery-kit").await;
    app.click("first-run-finish").await;
    app.by_testid("screen-dashboard").await;
    assert_eq!(app.text_of("info-keyring").await, "reachable");
    // The workstation check streams its progress through the typed channel to a report.
    app.click("check-run").await;
    app.wait_attr("check-report", "data-ok", "true", 60).await;
    let check_events: u32 = app
        .by_testid("check-progress")
        .await
        .attr("data-events")
        .await
        .expect("attr")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // 64 MiB written and read back in 1 MiB blocks, plus the folder and keyring stages.
    assert!(
        check_events >= 128,
        "only {check_events} progress events arrived"
    );
    app.screenshot("dashboard-new-station").await;

    // ---- Settings: S3 (moto); the secret goes to the keyring; prepare (plan first); test.
    let bucket = services::unique_name("e2e");
    app.click("nav-settings").await;
    app.click("provider-aws").await;
    app.type_into("aws-region", "us-east-1").await;
    app.type_into("aws-endpoint", &s3).await;
    app.type_into("aws-backup-bucket", &format!("{bucket}-backups"))
        .await;
    app.type_into("aws-documents-bucket", &format!("{bucket}-docs"))
        .await;
    app.type_into("aws-access-key-id", "strongroom-e2e").await;
    app.click("settings-save").await;
    wait_text(&app, "settings-saved", "Saved", 20).await;
    app.type_into("secret-input-aws_secret_access_key", S3_SECRET)
        .await;
    app.click("secret-store-aws_secret_access_key").await;
    app.wait_attr("secret-aws_secret_access_key", "data-stored", "true", 20)
        .await;
    let notice = app.text_of("secret-notice").await;
    assert!(!notice.contains(S3_SECRET), "{notice}");
    app.click("prepare-plan").await;
    let plan = app.text_of("prepare-plan-view").await;
    assert!(plan.contains("expire after 30 days"), "{plan}");
    app.screenshot("settings-prepare-plan").await;
    app.click("prepare-confirm").await;
    wait_text(&app, "prepare-recovery", "s3://", 60).await;
    app.click("test-connection").await;
    app.wait_attr("test-result", "data-ok", "true", 60).await;
    app.scroll_to("test-result").await;
    app.screenshot("settings-s3").await;

    // ---- Cases: an invalid number is refused beside its field; fixed, the case is listed.
    app.click("nav-cases").await;
    app.click("case-new").await;
    app.type_into("case-field-number", "12-34").await;
    app.type_into(
        "case-field-title",
        "Burglary at 4 Mill Lane <b>not bold</b>",
    )
    .await;
    app.click("case-save").await;
    let err = app.text_of("case-error-number").await;
    assert!(err.to_lowercase().contains("case number"), "{err:?}");
    app.screenshot("cases-invalid").await;
    app.type_into("case-field-number", "2026-000123").await;
    app.click("case-save").await;
    let row = wait_text(&app, "case-row", "2026-000123", 20).await;
    assert!(
        row.contains("<b>not bold</b>"),
        "free text is shown verbatim: {row:?}"
    );
    app.click("case-new").await;
    app.type_into("case-field-number", "2026-000124").await;
    app.type_into("case-field-title", "Theft of a bicycle, Station Road")
        .await;
    app.click("case-save").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while texts(&app, "case-row").await.len() < 2 {
        assert!(Instant::now() < deadline, "the second case never appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.screenshot("cases").await;

    // ---- Three files dropped from another X client onto the case, uploaded to moto.
    open_case(&app, "2026-000123").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut files = Vec::new();
    let mut hashes = Vec::new();
    for (i, (name, size)) in [
        ("statement.txt", 2_000),
        ("photo 1.jpg", 300_000),
        ("scan.pdf", 9_000_000),
    ]
    .into_iter()
    .enumerate()
    {
        let content: Vec<u8> = (0..size)
            .map(|b: usize| (b * 31 + i * 7 + b / 251) as u8)
            .collect();
        let path = dir.path().join(name);
        std::fs::write(&path, &content).expect("write file");
        hashes.push(sha256_hex(&content));
        files.push(path);
    }
    let rect = app.client.get_window_rect().await.expect("window rect");
    let target = (
        (rect.0 as i64 + rect.2 as i64 / 2) as i32,
        (rect.1 as i64 + rect.3 as i64 / 2) as i32,
    );
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    os_drop::drop_files(&display, &refs, target);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let shown = texts(&app, "upload-sha256").await;
        if shown.len() == 3 {
            let mut got = shown.clone();
            got.sort();
            let mut want = hashes.clone();
            want.sort();
            assert_eq!(got, want, "the app shows the files' SHA-256");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dropped files were not all uploaded ({} hashes shown)\napp log:\n{}",
            shown.len(),
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while texts(&app, "document-row").await.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the documents table never listed 3"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.screenshot("case-documents-uploaded").await;

    // The webview cannot upload a file the officer did not offer: a script calling the command
    // itself with another path (what a compromised page would do) is refused.
    let refused = app
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            const t = window.__TAURI_INTERNALS__;
            const channel = "__CHANNEL__:" + t.transformCallback(() => {});
            t.invoke("upload_documents", { job: "injected", caseNumber: "2026-000123",
                files: ["/etc/passwd"], onProgress: channel })
              .then((r) => done({ ok: r }), (e) => done({ error: e }));"#,
            vec![],
        )
        .await
        .expect("the script ran");
    assert_eq!(
        refused["error"]["code"], "file_not_offered",
        "an un-offered path must be refused: {refused}"
    );

    // ---- Back up now, with progress observed.
    app.click("nav-dashboard").await;
    app.click("backup-now").await;
    let result = wait_text(&app, "backup-result", "verified", 120).await;
    assert!(result.contains("in the cloud"), "{result}");
    // The app's own scheduler is off for this station (see the settings written at start).
    let next = app.text_of("next-backup").await;
    assert!(next.contains("system scheduler"), "{next}");
    let progress_events: u32 = app
        .by_testid("backup-progress")
        .await
        .attr("data-events")
        .await
        .expect("attr")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(
        progress_events >= 3,
        "only {progress_events} progress events reached the bar"
    );
    app.screenshot("dashboard-after-backup").await;

    // ---- A case deleted…
    open_case(&app, "2026-000124").await;
    app.click("case-delete").await;
    app.type_into("delete-reason", "entered in error").await;
    app.click("delete-confirm").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while texts(&app, "case-row")
        .await
        .iter()
        .any(|t| t.contains("2026-000124"))
    {
        assert!(
            Instant::now() < deadline,
            "the deleted case is still listed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // ---- … and back through the restore wizard.
    app.click("nav-backups").await;
    app.by_testid("backup-table").await;
    app.click("backup-restore").await;
    let preview = wait_text(&app, "restore-preview-counts", "2 cases", 30).await;
    assert!(preview.contains("3 documents"), "{preview}");
    app.screenshot("restore-wizard-preview").await;
    app.click("restore-next").await;
    app.type_into("restore-reason", "case 2026-000124 deleted by mistake")
        .await;
    app.click("restore-next").await;
    assert!(
        !app.by_testid("restore-confirm")
            .await
            .is_enabled()
            .await
            .unwrap(),
        "restore must wait for the confirmation word"
    );
    app.type_into("restore-confirm-word", "RESTORE").await;
    wait_enabled(&app, "restore-confirm").await;
    app.screenshot("restore-wizard-confirm").await;
    app.click("restore-confirm").await;
    let restored = wait_text(&app, "restore-result", "Restored", 120).await;
    assert!(restored.contains("2 cases"), "{restored}");
    let safety = app.text_of("restore-safety-copy").await;
    assert!(
        Path::new(&safety).is_file(),
        "safety copy {safety:?} exists"
    );
    app.screenshot("restore-wizard-result").await;
    app.click("restore-close").await;
    app.click("nav-cases").await;
    wait_text(&app, "case-table", "2026-000124", 20).await;

    // ---- Audit: the events, and the chain verifies.
    app.click("nav-audit").await;
    app.by_testid("audit-table").await;
    let events = texts(&app, "audit-event").await;
    for wanted in [
        "STATION_INITIALISED",
        "SETTINGS_CHANGED",
        "CREDENTIALS_CHANGED",
        "CASE_CREATED",
        "DOCUMENT_UPLOADED",
        "BACKUP_CREATED",
        "BACKUP_CLOUD_SUCCESS",
        "BACKUP_VERIFIED",
        "CASE_DELETED",
        "SYSTEM_RECOVERY",
    ] {
        assert!(
            events.iter().any(|e| e == wanted),
            "{wanted} missing from {events:?}"
        );
    }
    app.click("audit-verify").await;
    app.wait_attr("audit-verify-result", "data-ok", "true", 30)
        .await;
    app.screenshot("audit").await;

    // ---- A wrong secret against a server that checks signatures: Test connection names it.
    if let Some((auth_ep, python)) = &auth {
        enforce_auth(auth_ep, python);
        app.click("nav-settings").await;
        app.type_into("aws-endpoint", auth_ep).await;
        app.click("settings-save").await;
        wait_text(&app, "settings-saved", "Saved", 20).await;
        app.type_into("secret-input-aws_secret_access_key", WRONG_SECRET)
            .await;
        app.click("secret-store-aws_secret_access_key").await;
        wait_text(&app, "secret-notice", "stored", 20).await;
        app.click("test-connection").await;
        app.wait_attr("test-result", "data-ok", "false", 60).await;
        let problem = app.by_testid("test-problem").await;
        assert_eq!(
            problem.attr("data-code").await.unwrap().as_deref(),
            Some("credentials_invalid"),
            "{}",
            problem.text().await.unwrap_or_default()
        );
        let text = problem.text().await.unwrap();
        assert!(!text.contains(WRONG_SECRET), "{text}");
        app.scroll_to("test-problem").await;
        app.screenshot("settings-wrong-secret").await;
    }

    // ---- No secret in any file of the home, the XDG folders or the app's log.
    let root = app.home.path().to_path_buf();
    let settings_file = root.join("station").join("settings.toml");
    let settings = std::fs::read_to_string(&settings_file).expect("settings file");
    assert!(
        settings.contains("strongroom-e2e"),
        "the access key id is a setting: {settings}"
    );
    for canary in [PASSPHRASE, S3_SECRET, WRONG_SECRET] {
        let found = files_containing(&root, canary);
        assert!(found.is_empty(), "a secret was written to {found:?}");
    }
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_dialogs_pick_save_and_export_and_a_held_case_is_backed_up_verified_and_drilled() {
    let (Some(display), Some(())) = (services::display(), services::keyring()) else {
        return;
    };
    let app = AppSession::start_with_settings(&[], "[schedule]\nin_app = false\n").await;
    set_up_station(&app).await;

    app.click("nav-cases").await;
    app.click("case-new").await;
    app.type_into("case-field-number", "2026-000200").await;
    app.type_into("case-field-title", "Assault outside the Crown, High Street")
        .await;
    app.click("case-save").await;
    wait_text(&app, "case-row", "2026-000200", 20).await;
    open_case(&app, "2026-000200").await;

    // "choose files…": the native open dialog, answered with the keyboard.
    let dir = tempfile::tempdir().expect("temp dir");
    let statement = dir.path().join("witness statement.txt");
    let content = b"I saw two people leave the Crown at 23:10.\n".repeat(200);
    std::fs::write(&statement, &content).expect("write");
    app.click("choose-files").await;
    file_dialog::answer(&display, "Add documents to the case", &statement);
    let shown = wait_text(&app, "upload-sha256", &sha256_hex(&content), 30).await;
    assert_eq!(shown, sha256_hex(&content));

    // "Save…": the native save dialog; the file written is the one uploaded, hash checked.
    let saved = dir.path().join("downloaded.txt");
    app.click("document-save").await;
    file_dialog::answer(&display, "Save document", &saved);
    let notice = wait_text(&app, "case-notice", "SHA-256 checked", 30).await;
    assert!(notice.contains(&saved.display().to_string()), "{notice}");
    assert_eq!(std::fs::read(&saved).expect("saved file"), content);

    // Legal hold with a reason.
    app.type_into("hold-reason", "court order 2026/77").await;
    app.click("hold-toggle").await;
    app.by_testid("case-held").await;
    wait_text(&app, "case-notice", "Legal hold set", 20).await;
    app.screenshot("case-held").await;

    // A job of another process on the same home (the CLI, a system timer) holds the job lock:
    // the app's backup says busy and changes nothing; once it is free, the backup runs.
    app.click("nav-dashboard").await;
    let home = strongroom_core::paths::Home::at(app.home.path().join("station"));
    let held = strongroom_core::jobs::JobLock::acquire(&home).expect("the job lock");
    app.click("backup-now").await;
    wait_text(&app, "backup-error", "(busy)", 30).await;
    drop(held);
    app.click("backup-now").await;
    wait_text(&app, "backup-result", "verified", 120).await;

    // Verified and drilled from the Backups screen.
    app.click("nav-backups").await;
    app.click("backup-verify").await;
    let verified = wait_text(&app, "verify-result", "✓", 60).await;
    assert!(!verified.contains('✗'), "{verified}");
    app.click("drill-newest").await;
    app.wait_attr("drill-result", "data-ok", "true", 120).await;
    app.screenshot("backups-drilled").await;

    // The audit log exported through the save dialog, every record in it.
    let csv = dir.path().join("audit.csv");
    app.click("nav-audit").await;
    app.click("audit-export-csv").await;
    file_dialog::answer(&display, "Export the audit log", &csv);
    let exported = wait_text(&app, "audit-exported", "records exported", 30).await;
    let text = std::fs::read_to_string(&csv).expect("the export");
    assert!(text.starts_with("seq,"), "{}", &text[..text.len().min(200)]);
    for event in [
        "LEGAL_HOLD_SET",
        "DOCUMENT_DOWNLOADED",
        "RESTORE_DRILL",
        "BACKUP_VERIFIED",
    ] {
        assert!(text.contains(event), "{event} missing from the export");
    }
    assert!(exported.contains(&csv.display().to_string()), "{exported}");
    app.close().await;
}
