//! A helper process for the crash tests: uploads one file to S3 or Azure with a JSON-file upload
//! journal and prints `confirmed <bytes>` after every confirmed part, so a test can `kill -9` it
//! midway and then continue the upload from the journal.
//!
//! usage: storage_writer s3|azure ENDPOINT BUCKET KEY FILE JOURNAL PART_BYTES

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use strongroom_core::progress::{Cancel, ProgressEvent};
use strongroom_core::secrets::Sensitive;
use strongroom_core::storage::{
    AzureAuth, AzureStore, AzureStoreConfig, JsonFileJournal, ObjectStore, PutOptions, S3Store,
    S3StoreConfig,
};
use strongroom_tests::services::{AZURITE_ACCOUNT, AZURITE_KEY};

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    assert_eq!(
        a.len(),
        8,
        "usage: storage_writer s3|azure ENDPOINT BUCKET KEY FILE JOURNAL PART_BYTES"
    );
    let store: Arc<dyn ObjectStore> = match a[1].as_str() {
        "s3" => Arc::new(
            S3Store::new(
                S3StoreConfig::new(&a[3], "us-east-1", Some(&a[2])).with_credentials(
                    "strongroom-test",
                    Sensitive::new("strongroom-test-secret".into()),
                ),
            )
            .unwrap(),
        ),
        _ => Arc::new(
            AzureStore::new(AzureStoreConfig::new(
                &a[2],
                AZURITE_ACCOUNT,
                &a[3],
                AzureAuth::AccountKey(Sensitive::new(AZURITE_KEY.to_string())),
            ))
            .unwrap(),
        ),
    };
    let opts = PutOptions {
        journal: Some(Arc::new(JsonFileJournal::new(&a[6]))),
        part_size: Some(a[7].parse().unwrap()),
        ..Default::default()
    };
    let progress = |e: ProgressEvent| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "confirmed {}", e.done);
        let _ = out.flush();
    };
    let outcome = store
        .put_file(&a[4], Path::new(&a[5]), &opts, &progress, &Cancel::new())
        .await
        .unwrap();
    println!("done {}", outcome.bytes_sent);
}
