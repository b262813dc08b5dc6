//! Cloud credentials from the standard AWS chain instead of a key in the keyring, through the
//! real binary and its real environment: a named profile of the AWS config files.

use std::path::Path;

use strongroom_tests::cli::{self, Run};
use strongroom_tests::services;

/// Every AWS variable that could leak in from the machine running the tests.
const AWS_VARS: [&str; 7] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
];

fn run(st: &cli::Station, aws_dir: &Path, args: &[&str]) -> Run {
    let mut c = st.command(args);
    for v in AWS_VARS {
        c.env_remove(v);
    }
    c.env("AWS_SHARED_CREDENTIALS_FILE", aws_dir.join("credentials"))
        .env("AWS_CONFIG_FILE", aws_dir.join("config"))
        // No instance metadata service on a workstation: the chain must not wait for one.
        .env("AWS_EC2_METADATA_DISABLED", "true");
    Run::from(c.output().expect("the binary runs"))
}

#[test]
fn s3_credentials_come_from_a_named_aws_profile() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let st = cli::Station::new();
    let bucket = services::unique_name("profile");
    std::fs::create_dir_all(st.home()).unwrap();
    std::fs::write(
        st.home().join("settings.toml"),
        format!(
            "[cloud]\nenabled = true\nprovider = \"aws\"\n\n[aws]\nregion = \"us-east-1\"\n\
             endpoint_url = \"{endpoint}\"\nbackup_bucket = \"{bucket}\"\n\
             documents_bucket = \"{bucket}\"\nprofile = \"records\"\n"
        ),
    )
    .unwrap();
    let aws_dir = st.dir.path().join("aws");
    std::fs::create_dir_all(&aws_dir).unwrap();
    std::fs::write(
        aws_dir.join("config"),
        "[profile other]\nregion = us-east-1\n",
    )
    .unwrap();
    std::fs::write(
        aws_dir.join("credentials"),
        "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other-secret\n",
    )
    .unwrap();

    // The named profile does not exist: the check says which credentials are missing.
    let r = run(&st, &aws_dir, &["storage", "test"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.error_code(), Some("credentials_missing"), "{r:?}");
    assert!(r.stderr.contains("AWS_PROFILE"), "{}", r.stderr);

    // With the profile's keys in the credentials file, prepare and test work.
    let canary = "canary-profile-secret-7f3a";
    std::fs::write(
        aws_dir.join("credentials"),
        format!("[records]\naws_access_key_id = AKIDRECORDS\naws_secret_access_key = {canary}\n"),
    )
    .unwrap();
    let prepared = run(&st, &aws_dir, &["--json", "storage", "prepare"]);
    assert_eq!(prepared.code, 0, "{prepared:?}");
    let tested = run(&st, &aws_dir, &["--json", "storage", "test"]);
    assert_eq!(tested.code, 0, "{tested:?}");
    let v: serde_json::Value = serde_json::from_str(&tested.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    let checks: Vec<&str> = v["backups"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(
        checks.contains(&"credentials from the standard AWS chain"),
        "{checks:?}"
    );
    for out in [&r, &prepared, &tested] {
        assert!(!out.stdout.contains(canary) && !out.stderr.contains(canary));
    }
    // Nothing under the home holds the profile's secret: it stays in the AWS files.
    for entry in strongroom_tests::cli::files_under(&st.home()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{} holds the secret",
            entry.display()
        );
    }
}

#[test]
fn a_secret_set_through_the_cli_lives_only_in_the_keyring_and_is_audited() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let station = cli::Initialised::new(&[]);
    let bucket = services::unique_name("secret");
    std::fs::write(
        station.st.home().join("settings.toml"),
        format!(
            "[cloud]\nenabled = true\nprovider = \"aws\"\n\n[aws]\nregion = \"us-east-1\"\n\
             endpoint_url = \"{endpoint}\"\nbackup_bucket = \"{bucket}\"\n\
             documents_bucket = \"{bucket}\"\naccess_key_id = \"AKIDSTATION\"\n"
        ),
    )
    .unwrap();
    let cmd = |args: &[&str]| {
        let mut c = station.st.command(args);
        for v in AWS_VARS {
            c.env_remove(v);
        }
        c
    };
    let run = |args: &[&str]| Run::from(cmd(args).output().expect("the binary runs"));

    let r = run(&["storage", "test"]);
    assert_eq!(r.error_code(), Some("credentials_missing"), "{r:?}");
    assert!(r.stderr.contains("AWS_SECRET_ACCESS_KEY"), "{}", r.stderr);

    let canary = "canary-cli-secret-91c2";
    let set = cli::run_with_stdin(
        cmd(&[
            "storage",
            "secret",
            "set",
            "aws_secret_access_key",
            "--stdin",
        ]),
        &format!("{canary}\n"),
    );
    assert_eq!(set.code, 0, "{set:?}");
    let list = run(&["--json", "storage", "secret", "list"]);
    let v: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let aws = v
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "aws_secret_access_key")
        .unwrap();
    assert_eq!(aws["stored"], true, "{v}");
    assert_eq!(aws["from_environment"], false, "{v}");

    assert_eq!(run(&["storage", "prepare"]).code, 0);
    let tested = run(&["--json", "storage", "test"]);
    assert_eq!(tested.code, 0, "{tested:?}");

    let unknown = cli::run_with_stdin(
        cmd(&["storage", "secret", "set", "aws_session_token", "--stdin"]),
        "x\n",
    );
    assert_eq!(unknown.error_code(), Some("unknown_secret"), "{unknown:?}");
    let empty = cli::run_with_stdin(
        cmd(&[
            "storage",
            "secret",
            "set",
            "aws_secret_access_key",
            "--stdin",
        ]),
        "\n",
    );
    assert_eq!(empty.error_code(), Some("secret_empty"), "{empty:?}");

    let audit = run(&["--json", "audit", "list"]);
    assert!(
        audit.stdout.contains("CREDENTIALS_CHANGED"),
        "{}",
        audit.stdout
    );
    assert!(audit.stdout.contains("aws_secret_access_key"));
    for out in [&set, &list, &tested, &audit] {
        assert!(!out.stdout.contains(canary) && !out.stderr.contains(canary));
    }
    for entry in strongroom_tests::cli::files_under(station.st.dir.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{} holds the secret",
            entry.display()
        );
    }

    assert_eq!(
        run(&["storage", "secret", "delete", "aws_secret_access_key"]).code,
        0
    );
    let r = run(&["storage", "test"]);
    assert_eq!(r.error_code(), Some("credentials_missing"), "{r:?}");
}
