use std::env;

/// The Azurite well-known development account (public, documented by Microsoft; not a secret).
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Whether the services must be there (inside `make test`).
pub fn required() -> bool {
    env::var("STRONGROOM_TEST_SERVICES").as_deref() == Ok("1")
}

fn service(var: &str, what: &str) -> Option<String> {
    match env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if required() => panic!("{what} is required under `make test` but {var} is not set"),
        _ => {
            eprintln!("skipped: {what} is not running ({var} unset); run `make test`");
            None
        }
    }
}

/// The S3 endpoint (moto) that `make test` started, e.g. `http://127.0.0.1:PORT`.
pub fn s3_endpoint() -> Option<String> {
    service("STRONGROOM_TEST_S3_ENDPOINT", "the S3 server (moto)")
}

/// A moto server of its own for the test that turns its IAM checks on, and the Python (with
/// boto3) that sets its users up.
pub fn s3_auth_endpoint() -> Option<(String, String)> {
    let ep = service(
        "STRONGROOM_TEST_S3_AUTH_ENDPOINT",
        "the IAM-checking S3 server (moto)",
    )?;
    let py = service("STRONGROOM_TEST_PYTHON", "the test services' Python")?;
    Some((ep, py))
}

/// The Azurite blob endpoint including the account, e.g. `http://127.0.0.1:PORT/devstoreaccount1`.
pub fn azurite_endpoint() -> Option<String> {
    service("STRONGROOM_TEST_AZURITE_ENDPOINT", "Azurite")
}

/// Whether an unlocked OS keyring is on this session's bus.
pub fn keyring() -> Option<()> {
    service("STRONGROOM_TEST_KEYRING", "the OS keyring session").map(|_| ())
}

/// The X display (Xvfb) for the app's window.
pub fn display() -> Option<String> {
    service("DISPLAY", "an X display (Xvfb)")
}

/// A bucket/container name unique to one test, valid for S3 and Azure (lowercase, digits, dashes).
pub fn unique_name(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{:x}-{}", n & 0xffff_ffff_ffff, std::process::id())
}
