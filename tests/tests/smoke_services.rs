//! The harness smoke test: one object written to and read back from moto (S3) and Azurite,
//! through the same providers the app uses.

use bytes::Bytes;
use strongroom_core::secrets::Sensitive;
use strongroom_core::storage::{
    AzureAuth, AzureStore, AzureStoreConfig, ObjectStore, PrepareOptions, PutOptions, S3Store,
    S3StoreConfig,
};
use strongroom_tests::services::{self, AZURITE_ACCOUNT, AZURITE_KEY};

async fn write_and_read(store: &dyn ObjectStore) {
    store.prepare(&PrepareOptions::default()).await.unwrap();
    let body = format!("smoke {}", services::unique_name("body"));
    let out = store
        .put_bytes(
            "smoke/one.txt",
            Bytes::from(body.clone()),
            &PutOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.size, body.len() as u64);
    let back = store.get_bytes("smoke/one.txt").await.unwrap();
    assert_eq!(back, body.as_bytes());
    let head = store.head("smoke/one.txt").await.unwrap();
    assert_eq!(head.metadata.sha256.as_deref(), Some(out.sha256.as_str()));
}

#[tokio::test]
async fn one_object_round_trips_through_moto() {
    let Some(endpoint) = services::s3_endpoint() else {
        return;
    };
    let cfg = S3StoreConfig::new(
        &services::unique_name("smoke"),
        "us-east-1",
        Some(&endpoint),
    )
    .with_credentials("smoke", Sensitive::new("smoke-secret".to_string()));
    write_and_read(&S3Store::new(cfg).unwrap()).await;
}

#[tokio::test]
async fn one_object_round_trips_through_azurite() {
    let Some(endpoint) = services::azurite_endpoint() else {
        return;
    };
    let cfg = AzureStoreConfig::new(
        &endpoint,
        AZURITE_ACCOUNT,
        &services::unique_name("smoke"),
        AzureAuth::AccountKey(Sensitive::new(AZURITE_KEY.to_string())),
    );
    write_and_read(&AzureStore::new(cfg).unwrap()).await;
}
