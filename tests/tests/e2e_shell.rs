//! The real app under Xvfb through tauri-driver: every screen shows what it should, and the
//! workstation check streams progress through the typed channel to a complete report.

use std::time::Duration;

use strongroom_tests::app::AppSession;
use strongroom_tests::services;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_shows_its_content_and_the_check_reports_progress() {
    if services::display().is_none() || services::keyring().is_none() {
        return;
    }
    let app = AppSession::start(&[]).await;

    let title = app.client.title().await.expect("title");
    assert_eq!(title, "Strongroom");

    // Dashboard: the real app_info command answered.
    app.by_testid("screen-dashboard").await;
    let data_dir = app.text_of("info-data-dir").await;
    assert!(
        data_dir.ends_with("/station"),
        "the app should use STRONGROOM_HOME, showed {data_dir:?}"
    );
    assert_eq!(app.text_of("info-keyring").await, "reachable");
    eprintln!(
        "cold start to interactive dashboard: {:?}",
        app.started.elapsed()
    );
    app.screenshot("dashboard").await;

    // The long job: progress arrives over the channel, then the report.
    app.click("check-run").await;
    let report = app.by_testid("check-report").await;
    assert_eq!(
        report.attr("data-ok").await.expect("attr").as_deref(),
        Some("true"),
        "workstation check failed: {}",
        report.text().await.unwrap_or_default()
    );
    let events_text = app.text_of("check-events").await;
    let events: u32 = events_text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected progress count text {events_text:?}"));
    // 64 MiB written and read back in 1 MiB blocks, plus the folder and keyring stages.
    assert!(events >= 128, "only {events} progress events arrived");
    let report_text = report.text().await.expect("report text");
    for line in ["Station folders", "Disk", "OS keyring"] {
        assert!(
            report_text.contains(line),
            "{line} missing from {report_text:?}"
        );
    }
    app.screenshot("dashboard-checked").await;

    // Every other screen with its honest empty state.
    for (screen, empty, words) in [
        ("cases", "empty-cases", "No cases in the registry yet"),
        ("backups", "empty-backups", "No backups yet"),
        ("audit", "empty-audit", "No audit events yet"),
        ("settings", "empty-settings", "OS keyring"),
    ] {
        app.click(&format!("nav-{screen}")).await;
        app.by_testid(&format!("screen-{screen}")).await;
        let text = app.text_of(empty).await;
        assert!(text.contains(words), "{screen}: {text:?} lacks {words:?}");
        let current = app
            .by_testid(&format!("nav-{screen}"))
            .await
            .attr("aria-current")
            .await
            .expect("attr");
        assert_eq!(current.as_deref(), Some("page"));
        app.screenshot(&format!("{screen}-empty")).await;
    }

    // Cases: an invalid number is refused beside its field; fixed, the case is listed.
    app.click("nav-cases").await;
    app.click("case-new").await;
    app.by_testid("case-field-number")
        .await
        .send_keys("12-34")
        .await
        .expect("type number");
    app.by_testid("case-field-title")
        .await
        .send_keys("Burglary at 4 Mill Lane <b>not bold</b>")
        .await
        .expect("type title");
    app.click("case-save").await;
    let err = app.text_of("case-error-number").await;
    assert!(
        err.to_lowercase().contains("case number"),
        "the number field should explain the rule, showed {err:?}"
    );
    app.screenshot("cases-invalid").await;
    let number = app.by_testid("case-field-number").await;
    number.clear().await.expect("clear");
    number.send_keys("2026-000123").await.expect("type number");
    app.click("case-save").await;
    let row = app.by_testid("case-row").await;
    let row_text = row.text().await.expect("row text");
    assert!(row_text.contains("2026-000123"), "{row_text:?}");
    // Free text is stored and shown verbatim, never interpreted as HTML.
    assert!(row_text.contains("<b>not bold</b>"), "{row_text:?}");
    app.screenshot("cases").await;

    // Audit: the creation is recorded and the chain verifies.
    app.click("nav-audit").await;
    let first = app.text_of("audit-row").await;
    assert!(first.contains("CASE_CREATED"), "{first:?}");
    app.click("audit-verify").await;
    let result = app.by_testid("audit-verify-result").await;
    assert_eq!(
        result.attr("data-ok").await.expect("attr").as_deref(),
        Some("true"),
        "{}",
        result.text().await.unwrap_or_default()
    );
    app.screenshot("audit").await;

    tokio::time::sleep(Duration::from_millis(100)).await;
    app.close().await;
}
