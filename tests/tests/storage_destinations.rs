//! The configured destinations, end to end: settings + environment + OS keyring →
//! `open_destinations` → real stores on moto and Azurite; and SAS tokens whose missing
//! permission is named by `test`.

use std::collections::HashMap;

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use strongroom_core::config::{secret_names, Settings};
use strongroom_core::paths::Home;
use strongroom_core::secrets::{Keyring, Sensitive};
use strongroom_core::storage::{
    open_destinations, AzureAuth, AzureStore, AzureStoreConfig, ObjectStore, PrepareOptions,
    PutOptions,
};
use strongroom_tests::services::{self, AZURITE_ACCOUNT, AZURITE_KEY};

fn load(home: &Home, pairs: &[(&str, &str)]) -> Settings {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::load_with_env(home, &|k| map.get(k).cloned()).unwrap()
}

#[tokio::test]
async fn s3_secret_comes_from_the_keyring_when_not_in_the_environment() {
    let (Some(endpoint), Some(())) = (services::s3_endpoint(), services::keyring()) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let home = Home::at(t.path());
    let ring = Keyring::for_station(&services::unique_name("dest"));
    let bucket = services::unique_name("dest");
    let env = [
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "aws"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_S3_BACKUP_BUCKET", bucket.as_str()),
        ("AWS_S3_DOCUMENTS_BUCKET", bucket.as_str()),
        ("AWS_ACCESS_KEY_ID", "strongroom-test"),
    ];
    // No secret anywhere: the check says so.
    let d = open_destinations(&load(&home, &env), &ring, &home).unwrap();
    let r = d.backups.test().await.unwrap();
    assert_eq!(r.problem.as_deref(), Some("credentials_missing"), "{r:?}");
    // The secret in the keyring is found.
    ring.set(
        secret_names::AWS_SECRET_ACCESS_KEY,
        &Sensitive::new("keyring-secret".to_string()),
    )
    .unwrap();
    let settings = load(&home, &env);
    let d = open_destinations(&settings, &ring, &home).unwrap();
    d.backups
        .prepare(&PrepareOptions::for_backups(&settings))
        .await
        .unwrap();
    let r = d.backups.test().await.unwrap();
    assert!(r.ok, "{r:?}");
    d.documents
        .put_bytes(
            "k/doc",
            Bytes::from_static(b"via keyring"),
            &PutOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        d.documents.get_bytes("k/doc").await.unwrap(),
        b"via keyring"
    );
    // Saving the settings never writes the secret.
    settings.save(&home).unwrap();
    assert!(!std::fs::read_to_string(home.settings())
        .unwrap()
        .contains("keyring-secret"));
    ring.delete(secret_names::AWS_SECRET_ACCESS_KEY).unwrap();
}

#[tokio::test]
async fn azure_account_key_comes_from_the_keyring() {
    let (Some(endpoint), Some(())) = (services::azurite_endpoint(), services::keyring()) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let home = Home::at(t.path());
    let ring = Keyring::for_station(&services::unique_name("dest"));
    ring.set(
        secret_names::AZURE_STORAGE_ACCOUNT_KEY,
        &Sensitive::new(AZURITE_KEY.to_string()),
    )
    .unwrap();
    let container = services::unique_name("dest");
    let settings = load(
        &home,
        &[
            ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
            ("BACKUP_CLOUD_PROVIDER", "azure"),
            ("AZURE_STORAGE_ACCOUNT_NAME", AZURITE_ACCOUNT),
            ("AZURE_STORAGE_BLOB_ENDPOINT", endpoint.as_str()),
            ("AZURE_BACKUP_CONTAINER", container.as_str()),
            ("AZURE_DOCUMENTS_CONTAINER", container.as_str()),
        ],
    );
    let d = open_destinations(&settings, &ring, &home).unwrap();
    let report = d
        .backups
        .prepare(&PrepareOptions::for_backups(&settings))
        .await
        .unwrap();
    assert!(report.management_policy.is_some());
    d.backups
        .put_bytes(
            "k/backup",
            Bytes::from_static(b"via keyring"),
            &PutOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        d.backups.get_bytes("k/backup").await.unwrap(),
        b"via keyring"
    );
    ring.delete(secret_names::AZURE_STORAGE_ACCOUNT_KEY)
        .unwrap();
}

/// An account SAS (service b, resource types sco) signed with the account key.
fn account_sas(permissions: &str) -> String {
    let version = "2021-08-06";
    let expiry = "2099-01-01T00:00:00Z";
    let sts = format!(
        "{AZURITE_ACCOUNT}\n{permissions}\nb\nsco\n\n{expiry}\n\nhttps,http\n{version}\n\n"
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(AZURITE_KEY)
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(sts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sig: String = sig
        .chars()
        .map(|c| match c {
            '+' => "%2B".to_string(),
            '/' => "%2F".to_string(),
            '=' => "%3D".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("sv={version}&ss=b&srt=sco&sp={permissions}&se={expiry}&spr=https,http&sig={sig}")
}

#[tokio::test]
async fn a_sas_without_write_permission_is_named_by_the_check() {
    let Some(endpoint) = services::azurite_endpoint() else {
        return;
    };
    let container = services::unique_name("sas");
    let with_key = AzureStore::new(AzureStoreConfig::new(
        &endpoint,
        AZURITE_ACCOUNT,
        &container,
        AzureAuth::AccountKey(Sensitive::new(AZURITE_KEY.to_string())),
    ))
    .unwrap();
    with_key.prepare(&PrepareOptions::default()).await.unwrap();
    with_key
        .put_bytes(
            "s/readable",
            Bytes::from_static(b"read me"),
            &PutOptions::default(),
        )
        .await
        .unwrap();

    let read_only: std::sync::Arc<dyn ObjectStore> = std::sync::Arc::new(
        AzureStore::new(AzureStoreConfig::new(
            &endpoint,
            AZURITE_ACCOUNT,
            &container,
            AzureAuth::Sas(Sensitive::new(account_sas("rl"))),
        ))
        .unwrap(),
    );
    // What the SAS allows works.
    assert_eq!(read_only.get_bytes("s/readable").await.unwrap(), b"read me");
    assert_eq!(read_only.list_all("s/").await.unwrap().len(), 1);
    // What it does not is refused, naming the permission.
    let e = read_only
        .put_bytes("s/new", Bytes::from_static(b"x"), &PutOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "permission_denied");
    assert!(e.to_string().contains("write"), "{e}");
    let r = read_only.test().await.unwrap();
    assert!(!r.ok);
    assert_eq!(r.problem.as_deref(), Some("permission_denied"), "{r:?}");
    assert!(r.message.as_deref().unwrap().contains("write (w)"), "{r:?}");
    // The SAS never shows in a report or an error.
    assert!(!format!("{r:?} {e} {read_only:?}").contains("sig="));

    let full = AzureStore::new(AzureStoreConfig::new(
        &endpoint,
        AZURITE_ACCOUNT,
        &container,
        AzureAuth::Sas(Sensitive::new(account_sas("rwdlc"))),
    ))
    .unwrap();
    let r = full.test().await.unwrap();
    assert!(r.ok, "{r:?}");
}
