//! `storage test` against an S3 server that checks signatures and IAM policies (moto with its
//! access control turned on): a wrong secret is `credentials_invalid`, and a key whose policy
//! lacks a permission is `permission_denied` naming that permission.

use std::process::Command;

use strongroom_core::secrets::Sensitive;
use strongroom_core::storage::{ObjectStore, RetryPolicy, S3Store, S3StoreConfig};
use strongroom_tests::services;

/// Creates a user allowed to list and read but not to write, its access key and a bucket, then
/// turns the server's checks on. Prints `ACCESS_KEY_ID SECRET`.
const SETUP: &str = r#"
import json, sys, urllib.request
import boto3
ep, bucket = sys.argv[1], sys.argv[2]
def reset_auth(count):
    # text/plain: a form content type would make the server parse the body away.
    urllib.request.urlopen(urllib.request.Request(ep + "/moto-api/reset-auth", data=count, method="POST",
                                                  headers={"Content-Type": "text/plain"}))
# Another suite (the app's end-to-end test) may have turned the checks on already.
reset_auth(b"1000000")
kw = dict(endpoint_url=ep, region_name="us-east-1",
          aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **kw)
user = "reader-" + bucket
iam.create_user(UserName=user)
iam.put_user_policy(UserName=user, PolicyName="list-and-read", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}],
}))
key = iam.create_access_key(UserName=user)["AccessKey"]
boto3.client("s3", **kw).create_bucket(Bucket=bucket)
reset_auth(b"0")
print(key["AccessKeyId"], key["SecretAccessKey"])
"#;

fn store(endpoint: &str, bucket: &str, id: &str, secret: &str) -> S3Store {
    let mut cfg = S3StoreConfig::new(bucket, "us-east-1", Some(endpoint))
        .with_credentials(id, Sensitive::new(secret.to_string()));
    cfg.retry = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    S3Store::new(cfg).unwrap()
}

#[tokio::test]
async fn s3_names_a_wrong_secret_and_the_missing_permission() {
    let Some((endpoint, python)) = services::s3_auth_endpoint() else {
        return;
    };
    let bucket = services::unique_name("iam");
    let out = Command::new(&python)
        .args(["-c", SETUP, &endpoint, &bucket])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "IAM setup failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (id, secret) = text.trim().split_once(' ').expect("key id and secret");

    let wrong = "wrong-secret-canary-0b1d";
    let r = store(&endpoint, &bucket, id, wrong).test().await.unwrap();
    assert!(!r.ok);
    assert_eq!(r.problem.as_deref(), Some("credentials_invalid"), "{r:?}");
    assert!(!format!("{r:?}").contains(wrong));

    let r = store(&endpoint, &bucket, id, secret).test().await.unwrap();
    assert!(!r.ok, "{r:?}");
    assert_eq!(r.problem.as_deref(), Some("permission_denied"), "{r:?}");
    let message = r.message.clone().unwrap_or_default();
    assert!(message.contains("s3:PutObject"), "{message}");
    // What the policy allows was checked and passed before the write was refused.
    let listed = r
        .checks
        .iter()
        .find(|c| c.name.contains("s3:ListBucket"))
        .unwrap();
    assert!(listed.ok, "{r:?}");
    assert!(!format!("{r:?}").contains(secret));
}
