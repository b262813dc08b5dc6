//! ONE storage conformance suite, run unchanged against every provider: the local folder, memory,
//! S3 (moto) and Azure Blob (Azurite). Each `suite::*` function is generic over a [`Factory`];
//! the `conformance!` macro instantiates all of them per provider.
//!
//! Service-backed providers skip (with a note) outside `make test`, and fail when the services
//! are required but missing (see `strongroom_tests::services`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use strongroom_core::progress::{Cancel, NoProgress, ProgressEvent};
use strongroom_core::secrets::Sensitive;
use strongroom_core::storage::{
    AzureAuth, AzureStore, AzureStoreConfig, GetOptions, JsonFileJournal, LocalStore, MemoryStore,
    ObjectMetadata, ObjectStore, PrepareOptions, PutOptions, RestoreSpeed, RestoreStatus,
    RetryPolicy, S3Store, S3StoreConfig, Tier, UploadJournal,
};
use strongroom_tests::fault_proxy::{host_port, path_of, Fault, FaultProxy};
use strongroom_tests::services::{self, AZURITE_ACCOUNT, AZURITE_KEY};

const MIB: u64 = 1024 * 1024;
/// Part size used by the tests (S3's minimum part size).
const PART: u64 = 5 * MIB;

#[derive(Clone)]
enum Kind {
    Local,
    Memory,
    S3 { endpoint: String },
    Azure { endpoint: String },
}

/// Makes fresh, empty destinations of one provider, and broken variants of them.
struct Factory {
    kind: Kind,
    tmp: tempfile::TempDir,
}

fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        attempt_timeout: Duration::from_secs(120),
    }
}

impl Factory {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn local() -> Option<Self> {
        Some(Self::new(Kind::Local))
    }
    fn memory() -> Option<Self> {
        Some(Self::new(Kind::Memory))
    }
    fn s3() -> Option<Self> {
        services::s3_endpoint().map(|endpoint| Self::new(Kind::S3 { endpoint }))
    }
    fn azure() -> Option<Self> {
        services::azurite_endpoint().map(|endpoint| Self::new(Kind::Azure { endpoint }))
    }

    fn is_cloud(&self) -> bool {
        matches!(self.kind, Kind::S3 { .. } | Kind::Azure { .. })
    }

    /// Whether big puts go in parts that an interrupted upload can continue.
    fn multipart(&self) -> bool {
        self.is_cloud()
    }

    fn endpoint(&self) -> Option<&str> {
        match &self.kind {
            Kind::S3 { endpoint } | Kind::Azure { endpoint } => Some(endpoint),
            _ => None,
        }
    }

    /// A store for destination `name` at `endpoint` with `secret` (None: the right one).
    fn build(
        &self,
        name: &str,
        endpoint: Option<&str>,
        secret: Option<&str>,
        retry: RetryPolicy,
    ) -> Arc<dyn ObjectStore> {
        match &self.kind {
            Kind::Local => Arc::new(LocalStore::new(self.tmp.path().join(name)).unwrap()),
            Kind::Memory => Arc::new(MemoryStore::new()),
            Kind::S3 { endpoint: ep } => {
                let mut c = S3StoreConfig::new(name, "us-east-1", Some(endpoint.unwrap_or(ep)))
                    .with_credentials(
                        "strongroom-test",
                        Sensitive::new(secret.unwrap_or("strongroom-test-secret").to_string()),
                    );
                c.retry = retry;
                Arc::new(S3Store::new(c).unwrap())
            }
            Kind::Azure { endpoint: ep } => {
                let key = secret.unwrap_or(AZURITE_KEY).to_string();
                let mut c = AzureStoreConfig::new(
                    endpoint.unwrap_or(ep),
                    AZURITE_ACCOUNT,
                    name,
                    AzureAuth::AccountKey(Sensitive::new(key)),
                );
                c.retry = retry;
                Arc::new(AzureStore::new(c).unwrap())
            }
        }
    }

    /// A fresh, prepared, empty destination.
    async fn fresh_with(&self, opts: &PrepareOptions) -> (String, Arc<dyn ObjectStore>) {
        let name = services::unique_name("conf");
        let store = self.build(&name, None, None, quick_retry());
        if self.is_cloud() {
            store
                .prepare(opts)
                .await
                .expect("prepare a fresh destination");
        }
        (name, store)
    }

    async fn fresh(&self) -> Arc<dyn ObjectStore> {
        self.fresh_with(&PrepareOptions::default()).await.1
    }

    fn file(&self, name: &str, size: u64, seed: u64) -> PathBuf {
        let path = self.tmp.path().join(name);
        write_generated(&path, size, seed);
        path
    }
}

/// Writes `size` pseudo-random (xorshift) bytes: incompressible, reproducible, fast.
fn write_generated(path: &Path, size: u64, seed: u64) {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut x = seed | 1;
    let mut left = size;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = x.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        f.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
}

fn sha_file(path: &Path) -> String {
    let mut h = Sha256::new();
    let mut f = std::fs::File::open(path).unwrap();
    std::io::copy(&mut f, &mut h).unwrap();
    hex::encode(h.finalize())
}

fn sized(part: u64) -> PutOptions {
    PutOptions {
        part_size: Some(part),
        ..Default::default()
    }
}

/// Reads an object back into a file and returns its SHA-256.
async fn get_sha(store: &dyn ObjectStore, key: &str, dir: &Path) -> String {
    let out_path = dir.join(format!("got-{}", key.replace('/', "_")));
    let mut out = std::fs::File::create(&out_path).unwrap();
    store
        .get_to(key, &GetOptions::default(), &mut out, &NoProgress)
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e}"));
    drop(out);
    let sha = sha_file(&out_path);
    std::fs::remove_file(&out_path).unwrap();
    sha
}

/// A PUT with a bogus signature straight to the S3 emulator (moto does not check signatures),
/// carrying `sha256` metadata.
async fn raw_s3_put(endpoint: &str, bucket: &str, key: &str, body: &[u8], sha256: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let hp = host_port(endpoint);
    let mut conn = tokio::net::TcpStream::connect(&hp).await.unwrap();
    let head = format!(
        "PUT /{bucket}/{key} HTTP/1.1\r\nHost: {hp}\r\nx-amz-meta-sha256: {sha256}\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\nAuthorization: AWS4-HMAC-SHA256 Credential=strongroom-test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body).await.unwrap();
    let mut resp = Vec::new();
    conn.read_to_end(&mut resp).await.unwrap();
    let text = String::from_utf8_lossy(&resp);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

mod suite {
    use super::*;

    /// Round trips at and around the part boundary, small bytes, and ranges.
    pub async fn round_trips(f: &Factory) {
        let store = f.fresh().await;
        for (i, size) in [0, 1, 1000, PART - 1, PART, PART + 1, 3 * PART + 7]
            .into_iter()
            .enumerate()
        {
            let src = f.file(&format!("rt-{i}"), size, 1000 + i as u64);
            let key = format!("rt/{size}.bin");
            let out = store
                .put_file(&key, &src, &sized(PART), &NoProgress, &Cancel::new())
                .await
                .unwrap_or_else(|e| panic!("put {size}: {e}"));
            assert_eq!(out.size, size);
            assert_eq!(out.sha256, sha_file(&src));
            if f.multipart() {
                let parts = if size <= PART { 1 } else { size.div_ceil(PART) };
                assert_eq!(out.parts_sent as u64, parts, "parts for {size}");
            }
            let head = store.head(&key).await.unwrap();
            assert_eq!(head.size, size);
            assert_eq!(head.metadata.sha256.as_deref(), Some(out.sha256.as_str()));
            assert_eq!(
                get_sha(store.as_ref(), &key, f.tmp.path()).await,
                out.sha256
            );
        }
        // Bytes and a range.
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        store
            .put_bytes(
                "rt/bytes",
                Bytes::from(data.clone()),
                &PutOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(store.get_bytes("rt/bytes").await.unwrap(), data);
        let mut part = Vec::new();
        store
            .get_to(
                "rt/bytes",
                &GetOptions {
                    range: Some(100..1100),
                    ..Default::default()
                },
                &mut part,
                &NoProgress,
            )
            .await
            .unwrap();
        assert_eq!(part, data[100..1100]);
        // Missing keys and bad keys.
        assert_eq!(
            store.head("rt/absent").await.unwrap_err().code(),
            "not_found"
        );
        let mut sink = Vec::new();
        assert_eq!(
            store
                .get_to("rt/absent", &GetOptions::default(), &mut sink, &NoProgress)
                .await
                .unwrap_err()
                .code(),
            "not_found"
        );
        for bad in ["../escape", "/abs", "a//b", "a\u{1}b"] {
            let e = store
                .put_bytes(bad, Bytes::from_static(b"x"), &PutOptions::default())
                .await
                .unwrap_err();
            assert_eq!(e.code(), "object_key_invalid", "{bad:?}");
        }
        store.delete("rt/bytes").await.unwrap();
        assert_eq!(
            store.head("rt/bytes").await.unwrap_err().code(),
            "not_found"
        );
        store
            .delete("rt/bytes")
            .await
            .expect("deleting an absent key is fine");
    }

    /// A >100 MB object with the default part size, with its speed printed.
    pub async fn large_object(f: &Factory) {
        let mib = std::env::var("STRONGROOM_TEST_LARGE_MIB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(101u64);
        let store = f.fresh().await;
        let size = mib * MIB + 17;
        let src = f.file("large", size, 77);
        let sha = sha_file(&src);
        let t = Instant::now();
        let events = AtomicU64::new(0);
        let progress = |e: ProgressEvent| {
            assert!(e.done <= size);
            events.fetch_add(1, Ordering::SeqCst);
        };
        let out = store
            .put_file(
                "large/object.bin",
                &src,
                &PutOptions::default(),
                &progress,
                &Cancel::new(),
            )
            .await
            .unwrap();
        let up = t.elapsed();
        assert_eq!(out.sha256, sha);
        assert!(events.load(Ordering::SeqCst) >= 1, "progress was reported");
        let t = Instant::now();
        assert_eq!(
            get_sha(store.as_ref(), "large/object.bin", f.tmp.path()).await,
            sha
        );
        let down = t.elapsed();
        let mb = size as f64 / 1e6;
        eprintln!(
            "[{}] {mib} MiB: upload {:.1} MB/s ({:.2} s), download+verify {:.1} MB/s ({:.2} s)",
            store.provider(),
            mb / up.as_secs_f64(),
            up.as_secs_f64(),
            mb / down.as_secs_f64(),
            down.as_secs_f64()
        );
        std::fs::remove_file(&src).unwrap();
    }

    /// More than 1,000 keys: listing pages, prefix filtering, key order.
    pub async fn listing_pages(f: &Factory) {
        use futures::StreamExt;
        let store = f.fresh().await;
        let n = 1100usize;
        futures::stream::iter(0..n)
            .map(|i| {
                let store = store.clone();
                async move {
                    store
                        .put_bytes(
                            &format!("many/{i:05}"),
                            Bytes::from(i.to_string()),
                            &PutOptions::default(),
                        )
                        .await
                        .unwrap()
                }
            })
            .buffer_unordered(32)
            .collect::<Vec<_>>()
            .await;
        for i in 0..5 {
            store
                .put_bytes(
                    &format!("other/{i}"),
                    Bytes::from_static(b"x"),
                    &PutOptions::default(),
                )
                .await
                .unwrap();
        }
        let first = store.list_page("many/", None, 1000).await.unwrap();
        assert_eq!(first.objects.len(), 1000);
        let next = first.next.clone().expect("a second page");
        let second = store.list_page("many/", Some(next), 1000).await.unwrap();
        assert_eq!(second.objects.len(), 100);
        assert!(second.next.is_none());
        let all = store.list_all("many/").await.unwrap();
        assert_eq!(all.len(), n);
        let keys: Vec<String> = all.iter().map(|o| o.key.clone()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "keys come in order");
        assert_eq!(keys[0], "many/00000");
        assert_eq!(keys[n - 1], format!("many/{:05}", n - 1));
        assert!(all.iter().all(|o| o.key.starts_with("many/")));
        assert_eq!(all.iter().find(|o| o.key == "many/00042").unwrap().size, 2);
        assert_eq!(store.list_all("other/").await.unwrap().len(), 5);
        assert_eq!(store.list_all("nothing-here/").await.unwrap().len(), 0);
        // Small pages.
        let small = store.list_page("other/", None, 2).await.unwrap();
        assert_eq!(small.objects.len(), 2);
        assert!(small.next.is_some());
    }

    /// Metadata written with the object comes back with it.
    pub async fn metadata(f: &Factory) {
        let store = f.fresh().await;
        let md = ObjectMetadata {
            sha256: None,
            station: Some("station-7f".into()),
            created: Some("2026-12-03T03:00:00Z".into()),
            case_number: Some("2026-000123".into()),
        };
        let opts = PutOptions {
            metadata: md.clone(),
            part_size: Some(PART),
            ..Default::default()
        };
        let src = f.file("md-big", PART + 10, 5);
        for (key, out) in [
            (
                "md/small",
                store
                    .put_bytes("md/small", Bytes::from_static(b"evidence"), &opts)
                    .await
                    .unwrap(),
            ),
            (
                "md/big",
                store
                    .put_file("md/big", &src, &opts, &NoProgress, &Cancel::new())
                    .await
                    .unwrap(),
            ),
        ] {
            let head = store.head(key).await.unwrap();
            assert_eq!(head.metadata.station, md.station, "{key}");
            assert_eq!(head.metadata.created, md.created, "{key}");
            assert_eq!(head.metadata.case_number, md.case_number, "{key}");
            assert_eq!(
                head.metadata.sha256.as_deref(),
                Some(out.sha256.as_str()),
                "{key}"
            );
        }
        // A wrong SHA-256 given by the caller is refused before anything is stored.
        let bad = PutOptions {
            metadata: ObjectMetadata {
                sha256: Some("0".repeat(64)),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(store
            .put_bytes("md/wrong", Bytes::from_static(b"x"), &bad)
            .await
            .is_err());
        assert_eq!(
            store.head("md/wrong").await.unwrap_err().code(),
            "not_found"
        );
    }

    /// Conditional create never overwrites, single-shot or multipart.
    pub async fn conditional_create(f: &Factory) {
        let store = f.fresh().await;
        let once = PutOptions {
            if_not_exists: true,
            part_size: Some(PART),
            ..Default::default()
        };
        store
            .put_bytes("cc/backup", Bytes::from_static(b"first"), &once)
            .await
            .unwrap();
        let e = store
            .put_bytes("cc/backup", Bytes::from_static(b"second"), &once)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "already_exists");
        assert_eq!(store.get_bytes("cc/backup").await.unwrap(), b"first");
        let a = f.file("cc-a", 2 * PART + 3, 11);
        let b = f.file("cc-b", 2 * PART + 3, 12);
        store
            .put_file("cc/big", &a, &once, &NoProgress, &Cancel::new())
            .await
            .unwrap();
        let e = store
            .put_file("cc/big", &b, &once, &NoProgress, &Cancel::new())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "already_exists");
        assert_eq!(
            get_sha(store.as_ref(), "cc/big", f.tmp.path()).await,
            sha_file(&a)
        );
        // Without the condition, a put replaces.
        store
            .put_bytes(
                "cc/backup",
                Bytes::from_static(b"third"),
                &PutOptions::default(),
            )
            .await
            .unwrap();
        assert_eq!(store.get_bytes("cc/backup").await.unwrap(), b"third");
    }

    /// A read that does not match the expected SHA-256 fails as a verification failure.
    pub async fn hash_mismatch(f: &Factory) {
        let store = f.fresh().await;
        let src = f.file("hm", PART + 100, 3);
        store
            .put_file("hm/doc", &src, &sized(PART), &NoProgress, &Cancel::new())
            .await
            .unwrap();
        let mut sink = Vec::new();
        let e = store
            .get_to(
                "hm/doc",
                &GetOptions {
                    expected_sha256: Some("ab".repeat(32)),
                    ..Default::default()
                },
                &mut sink,
                &NoProgress,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "hash_mismatch");
        assert!(e.is_verification_failure());
        // The recorded SHA-256 is checked too when the caller gives none: tamper where we can.
        if let Kind::Local = f.kind {
            let local = LocalStore::new(f.tmp.path().join("tamper")).unwrap();
            local
                .put_bytes(
                    "t/x",
                    Bytes::from_static(b"original"),
                    &PutOptions::default(),
                )
                .await
                .unwrap();
            std::fs::write(f.tmp.path().join("tamper/t/x"), b"altered!").unwrap();
            let mut sink = Vec::new();
            let e = local
                .get_to("t/x", &GetOptions::default(), &mut sink, &NoProgress)
                .await
                .unwrap_err();
            assert_eq!(e.code(), "hash_mismatch");
        }
        if let Kind::S3 { endpoint } = &f.kind {
            // moto does not check signatures: overwrite the bytes behind the store's back, keeping
            // the recorded SHA-256 of the original in the metadata.
            let (name, s3) = f.fresh_with(&PrepareOptions::default()).await;
            let put = s3
                .put_bytes(
                    "t/x",
                    Bytes::from_static(b"original"),
                    &PutOptions::default(),
                )
                .await
                .unwrap();
            raw_s3_put(endpoint, &name, "t/x", b"altered!", &put.sha256).await;
            assert_eq!(
                s3.head("t/x").await.unwrap().metadata.sha256,
                Some(put.sha256.clone())
            );
            let mut sink = Vec::new();
            let e = s3
                .get_to("t/x", &GetOptions::default(), &mut sink, &NoProgress)
                .await
                .unwrap_err();
            assert_eq!(e.code(), "hash_mismatch");
            assert!(e.is_verification_failure());
        }
        if let Kind::Memory = f.kind {
            let mem = MemoryStore::new();
            mem.put_bytes(
                "t/x",
                Bytes::from_static(b"original"),
                &PutOptions::default(),
            )
            .await
            .unwrap();
            mem.tamper("t/x", Bytes::from_static(b"altered!")).unwrap();
            let mut sink = Vec::new();
            let e = mem
                .get_to("t/x", &GetOptions::default(), &mut sink, &NoProgress)
                .await
                .unwrap_err();
            assert_eq!(e.code(), "hash_mismatch");
        }
    }

    /// An upload cancelled after some parts continues from the journal without re-sending them.
    pub async fn resume_after_interruption(f: &Factory) {
        let (name, store) = f.fresh_with(&PrepareOptions::default()).await;
        let size = 6 * PART + 123;
        let src = f.file("resume", size, 99);
        let journal: Arc<dyn UploadJournal> =
            Arc::new(JsonFileJournal::new(f.tmp.path().join("uploads.json")));
        let opts = PutOptions {
            journal: Some(journal.clone()),
            part_size: Some(PART),
            ..Default::default()
        };
        let cancel = Cancel::new();
        let sent_first = AtomicU64::new(0);
        let stop_after = 2 * PART;
        let progress = |e: ProgressEvent| {
            sent_first.fetch_max(e.done, Ordering::SeqCst);
            if e.done >= stop_after {
                cancel.cancel();
            }
        };
        let e = store
            .put_file("resume/obj", &src, &opts, &progress, &cancel)
            .await;
        if !f.multipart() {
            // Local and memory copy in one go: a cancelled put leaves nothing, the next one works.
            if let Err(e) = &e {
                assert_eq!(e.code(), "cancelled");
                assert_eq!(
                    store.head("resume/obj").await.unwrap_err().code(),
                    "not_found"
                );
            }
            let out = store
                .put_file("resume/obj", &src, &opts, &NoProgress, &Cancel::new())
                .await
                .unwrap();
            assert_eq!(out.parts_resumed, 0);
            assert_eq!(
                get_sha(store.as_ref(), "resume/obj", f.tmp.path()).await,
                sha_file(&src)
            );
            return;
        }
        assert_eq!(e.unwrap_err().code(), "cancelled");
        assert_eq!(
            store.head("resume/obj").await.unwrap_err().code(),
            "not_found"
        );
        let rec = journal
            .find(&store.describe(), "resume/obj")
            .unwrap()
            .expect("the journal keeps the unfinished upload");
        let done_parts = rec.parts_done.len() as u32;
        assert!(
            (2..7).contains(&done_parts),
            "{done_parts} parts done before the stop"
        );
        let sent1 = sent_first.load(Ordering::SeqCst);
        assert_eq!(sent1, rec.parts_done.iter().map(|p| p.size).sum::<u64>());

        // As after a restart: a new store instance, the journal file read back from disk.
        let store = f.build(&name, None, None, quick_retry());
        let journal: Arc<dyn UploadJournal> =
            Arc::new(JsonFileJournal::new(f.tmp.path().join("uploads.json")));
        let opts = PutOptions {
            journal: Some(journal.clone()),
            part_size: Some(PART),
            ..Default::default()
        };
        let out = store
            .put_file("resume/obj", &src, &opts, &NoProgress, &Cancel::new())
            .await
            .unwrap();
        assert_eq!(
            out.parts_resumed, done_parts,
            "every finished part was kept"
        );
        assert_eq!(out.parts_sent, 7 - done_parts);
        assert_eq!(sent1 + out.bytes_sent, size, "no byte was sent twice");
        assert!(journal
            .find(&store.describe(), "resume/obj")
            .unwrap()
            .is_none());
        assert_eq!(
            get_sha(store.as_ref(), "resume/obj", f.tmp.path()).await,
            sha_file(&src)
        );

        // A journal entry for other content is not continued.
        let other = f.file("resume-other", size, 100);
        let out = store
            .put_file("resume/obj2", &other, &opts, &NoProgress, &Cancel::new())
            .await
            .unwrap();
        assert_eq!(out.parts_resumed, 0);
        // Abandoned uploads are cleaned.
        let c2 = Cancel::new();
        let p2 = |e: ProgressEvent| {
            if e.done >= PART {
                c2.cancel();
            }
        };
        let _ = store.put_file("resume/obj3", &src, &opts, &p2, &c2).await;
        assert!(journal
            .find(&store.describe(), "resume/obj3")
            .unwrap()
            .is_some());
        let cleaned = store.abort_abandoned_uploads(Duration::ZERO).await.unwrap();
        if let Kind::S3 { .. } = f.kind {
            assert!(cleaned >= 1, "the abandoned multipart upload was aborted");
            // The journal still names the aborted upload: ListParts says it is gone, so the
            // next put starts afresh instead of trusting the journal.
            let out = store
                .put_file("resume/obj3", &src, &opts, &NoProgress, &Cancel::new())
                .await
                .unwrap();
            assert_eq!(out.parts_resumed, 0);
            assert_eq!(out.bytes_sent, size);
            assert_eq!(
                get_sha(store.as_ref(), "resume/obj3", f.tmp.path()).await,
                sha_file(&src)
            );
        }
    }

    /// The writer process is killed (SIGKILL) midway; a new process continues from the journal
    /// and sends only what the journal does not record as done.
    pub async fn resume_after_kill(f: &Factory) {
        let (provider, endpoint) = match &f.kind {
            Kind::S3 { endpoint } => ("s3", endpoint.clone()),
            Kind::Azure { endpoint } => ("azure", endpoint.clone()),
            // Local and memory have no parts to continue (covered by resume_after_interruption).
            _ => return,
        };
        let (name, _) = f.fresh_with(&PrepareOptions::default()).await;
        let size = 12 * PART + 5;
        let src = f.file("killed", size, 4242);
        let journal_path = f.tmp.path().join("killed-uploads.json");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_storage_writer"))
            .args([provider, &endpoint, &name, "kill/obj"])
            .arg(&src)
            .arg(&journal_path)
            .arg(PART.to_string())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let seen = tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let mut last = 0u64;
            for line in std::io::BufReader::new(stdout).lines() {
                let line = line.unwrap();
                if let Some(n) = line.strip_prefix("confirmed ") {
                    last = n.parse().unwrap();
                    if last >= 3 * PART {
                        break;
                    }
                }
            }
            last
        })
        .await
        .unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(
            seen >= 3 * PART && seen < size,
            "killed midway, after {seen} bytes"
        );

        let journal: Arc<dyn UploadJournal> = Arc::new(JsonFileJournal::new(&journal_path));
        let store = f.build(&name, None, None, quick_retry());
        assert_eq!(
            store.head("kill/obj").await.unwrap_err().code(),
            "not_found"
        );
        let rec = journal
            .find(&store.describe(), "kill/obj")
            .unwrap()
            .expect("the killed writer's journal survives");
        let journaled: u64 = rec.parts_done.iter().map(|p| p.size).sum();
        assert!(journaled >= seen, "{journaled} >= {seen}");
        let opts = PutOptions {
            journal: Some(journal.clone()),
            part_size: Some(PART),
            ..Default::default()
        };
        let out = store
            .put_file("kill/obj", &src, &opts, &NoProgress, &Cancel::new())
            .await
            .unwrap();
        assert_eq!(out.parts_resumed as usize, rec.parts_done.len());
        assert_eq!(
            out.bytes_sent,
            size - journaled,
            "journaled parts were not re-sent"
        );
        assert_eq!(
            get_sha(store.as_ref(), "kill/obj", f.tmp.path()).await,
            sha_file(&src)
        );
    }

    /// Transient faults (resets, stalls) are retried; permanent ones are not.
    pub async fn retry_on_faults(f: &Factory) {
        let Some(endpoint) = f.endpoint() else {
            // Local and memory make no network calls: nothing to inject.
            return;
        };
        let (name, _store) = f.fresh_with(&PrepareOptions::default()).await;
        let upstream = host_port(endpoint);
        let path = path_of(endpoint);

        // Resets of the first 3 connections.
        let proxy = FaultProxy::start(&upstream, Fault::Reset, 3).await.unwrap();
        let store = f.build(
            &name,
            Some(&format!("{}{path}", proxy.url())),
            None,
            quick_retry(),
        );
        store
            .put_bytes(
                "faults/reset",
                Bytes::from_static(b"survives resets"),
                &PutOptions::default(),
            )
            .await
            .expect("retried past the resets");
        assert_eq!(proxy.faults_injected(), 3);
        assert!(proxy.connections() > 3);
        assert_eq!(
            store.get_bytes("faults/reset").await.unwrap(),
            b"survives resets"
        );

        // A multipart upload whose connections are reset now and then.
        let proxy = FaultProxy::start(&upstream, Fault::Reset, 4).await.unwrap();
        let store = f.build(
            &name,
            Some(&format!("{}{path}", proxy.url())),
            None,
            quick_retry(),
        );
        let src = f.file("faults-mp", 2 * PART + 1, 21);
        let out = store
            .put_file(
                "faults/multipart",
                &src,
                &sized(PART),
                &NoProgress,
                &Cancel::new(),
            )
            .await
            .expect("parts retried past the resets");
        assert_eq!(out.parts_sent, 3);
        assert_eq!(proxy.faults_injected(), 4);
        assert_eq!(
            get_sha(store.as_ref(), "faults/multipart", f.tmp.path()).await,
            sha_file(&src)
        );

        // A stall longer than the attempt timeout.
        let proxy = FaultProxy::start(&upstream, Fault::Stall(Duration::from_secs(20)), 1)
            .await
            .unwrap();
        let retry = RetryPolicy {
            attempt_timeout: Duration::from_secs(2),
            ..quick_retry()
        };
        let store = f.build(&name, Some(&format!("{}{path}", proxy.url())), None, retry);
        let t = Instant::now();
        store
            .put_bytes(
                "faults/stall",
                Bytes::from_static(b"survives a stall"),
                &PutOptions::default(),
            )
            .await
            .expect("retried past the stall");
        assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
        assert_eq!(proxy.faults_injected(), 1);

        // Too many faults: gives up with store_unreachable.
        let proxy = FaultProxy::start(&upstream, Fault::Reset, 1000)
            .await
            .unwrap();
        let retry = RetryPolicy {
            max_attempts: 3,
            ..quick_retry()
        };
        let store = f.build(&name, Some(&format!("{}{path}", proxy.url())), None, retry);
        let e = store.head("faults/reset").await.unwrap_err();
        assert_eq!(e.code(), "store_unreachable");
        assert_eq!(proxy.faults_injected(), 3, "exactly max_attempts tries");

        // Permanent: not found is not retried.
        let proxy = FaultProxy::start(&upstream, Fault::Reset, 0).await.unwrap();
        let store = f.build(
            &name,
            Some(&format!("{}{path}", proxy.url())),
            None,
            quick_retry(),
        );
        let e = store.head("faults/absent").await.unwrap_err();
        assert_eq!(e.code(), "not_found");
        assert!(proxy.connections() <= 1, "one connection, no retry");
    }

    /// Legal hold, tiers and restore where the provider has them, `unsupported` elsewhere.
    pub async fn hold_tier_restore(f: &Factory) {
        let opts = PrepareOptions {
            legal_holds: true,
            ..Default::default()
        };
        let (_name, store) = f.fresh_with(&opts).await;
        store
            .put_bytes(
                "h/doc",
                Bytes::from_static(b"held evidence"),
                &PutOptions::default(),
            )
            .await
            .unwrap();
        match f.kind {
            Kind::S3 { .. } => {
                assert!(!store.legal_hold("h/doc").await.unwrap());
                store.set_legal_hold("h/doc", true).await.unwrap();
                assert!(store.legal_hold("h/doc").await.unwrap());
                assert_eq!(store.head("h/doc").await.unwrap().legal_hold, Some(true));
                store.set_legal_hold("h/doc", false).await.unwrap();
                assert!(!store.legal_hold("h/doc").await.unwrap());
            }
            _ => {
                assert_eq!(
                    store
                        .set_legal_hold("h/doc", true)
                        .await
                        .unwrap_err()
                        .code(),
                    "unsupported"
                );
                assert_eq!(
                    store.legal_hold("h/doc").await.unwrap_err().code(),
                    "unsupported"
                );
            }
        }
        if !f.is_cloud() {
            for e in [
                store.set_tier("h/doc", Tier::Archive).await.unwrap_err(),
                store
                    .request_restore("h/doc", 1, RestoreSpeed::Standard)
                    .await
                    .unwrap_err(),
                store.restore_status("h/doc").await.unwrap_err(),
            ] {
                assert_eq!(e.code(), "unsupported");
            }
            return;
        }
        // Cool and back.
        store.set_tier("h/doc", Tier::Cool).await.unwrap();
        assert_eq!(store.head("h/doc").await.unwrap().tier, Some(Tier::Cool));
        assert_eq!(
            store.restore_status("h/doc").await.unwrap(),
            RestoreStatus::NotArchived
        );
        // Stored straight into the archive: reads are refused until restored.
        let arch = PutOptions {
            tier: Some(Tier::Archive),
            ..Default::default()
        };
        store
            .put_bytes("h/archived", Bytes::from_static(b"cold case"), &arch)
            .await
            .unwrap();
        assert_eq!(
            store.head("h/archived").await.unwrap().tier,
            Some(Tier::Archive)
        );
        let mut sink = Vec::new();
        let e = store
            .get_to("h/archived", &GetOptions::default(), &mut sink, &NoProgress)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "object_archived");
        assert!(e.to_string().contains("restore"));
        assert_eq!(
            store.restore_status("h/archived").await.unwrap(),
            RestoreStatus::Archived
        );
        let st = store
            .request_restore("h/archived", 2, RestoreSpeed::Standard)
            .await
            .unwrap();
        assert!(
            matches!(
                st,
                RestoreStatus::InProgress
                    | RestoreStatus::Available { .. }
                    | RestoreStatus::NotArchived
            ),
            "{st:?}"
        );
        // Poll briefly: emulators complete at once or move the blob back to Hot.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let st = store.restore_status("h/archived").await.unwrap();
            if matches!(
                st,
                RestoreStatus::Available { .. } | RestoreStatus::NotArchived
            ) {
                assert_eq!(store.get_bytes("h/archived").await.unwrap(), b"cold case");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "restore did not complete: {st:?}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        // Tiers one provider lacks.
        match f.kind {
            Kind::S3 { .. } => assert_eq!(
                store
                    .set_tier("h/doc", Tier::Cold)
                    .await
                    .unwrap_err()
                    .code(),
                "unsupported"
            ),
            _ => assert_eq!(
                store
                    .set_tier("h/doc", Tier::DeepArchive)
                    .await
                    .unwrap_err()
                    .code(),
                "unsupported"
            ),
        }
        if let Kind::S3 { .. } = f.kind {
            store.set_tier("h/doc", Tier::DeepArchive).await.unwrap();
            assert_eq!(
                store.head("h/doc").await.unwrap().tier,
                Some(Tier::DeepArchive)
            );
        }
    }

    /// `prepare` sets the destination up; `test` says exactly what is wrong.
    pub async fn prepare_and_test(f: &Factory) {
        let name = services::unique_name("prep");
        let store = f.build(&name, None, None, quick_retry());
        let opts = PrepareOptions {
            retention_days: Some(30),
            archive_after_days: Some(7),
            noncurrent_expire_days: 14,
            legal_holds: false,
            lifecycle_prefix: "backups/".into(),
            archive_copies_days: Some(7 * 366),
        };
        let report = store.prepare(&opts).await.unwrap();
        assert!(!report.steps.is_empty());
        match f.kind {
            Kind::S3 { .. } => {
                let words: Vec<&str> = report.steps.iter().map(|s| s.what.as_str()).collect();
                let all = words.join(" | ");
                for expect in [
                    "created",
                    "versioning",
                    "encryption",
                    "public access",
                    "objects under backups/ expire after 30 days",
                    "backups/ moved to GLACIER after 7",
                ] {
                    assert!(all.contains(expect), "{expect} missing in {all}");
                }
                if let Kind::S3 { endpoint } = &f.kind {
                    lifecycle_spares_everything_outside_the_prefix(endpoint, &name).await;
                }
            }
            Kind::Azure { .. } => {
                let policy = report
                    .management_policy
                    .clone()
                    .expect("a management policy");
                let text = policy.to_string();
                assert!(
                    text.contains("\"tierToArchive\":{\"daysAfterModificationGreaterThan\":7}"),
                    "{text}"
                );
                assert!(
                    text.contains("\"delete\":{\"daysAfterModificationGreaterThan\":30}"),
                    "{text}"
                );
                // Retention touches only the backups, never the recovery file beside them.
                let rules = policy["rules"].as_array().unwrap();
                for rule in rules {
                    if rule["definition"]["actions"]["baseBlob"].is_object() {
                        let prefix = rule["definition"]["filters"]["prefixMatch"][0]
                            .as_str()
                            .unwrap();
                        assert!(
                            prefix == format!("{name}/backups/")
                                || prefix == format!("{name}/archive/"),
                            "{rule}"
                        );
                    }
                }
                assert!(rules
                    .iter()
                    .any(|r| r["definition"]["actions"]["baseBlob"].is_object()));
            }
            _ => {}
        }
        // Preparing again is idempotent.
        let again = store.prepare(&opts).await.unwrap();
        assert!(again.steps.iter().any(|s| s.outcome == "already"));
        let ok = store.test().await.unwrap();
        assert!(ok.ok, "{ok:?}");
        assert!(ok.problem.is_none());

        // A destination that does not exist.
        let missing = match f.kind {
            Kind::Memory => None,
            _ => Some(f.build(&services::unique_name("absent"), None, None, quick_retry())),
        };
        if let Some(missing) = missing {
            let r = missing.test().await.unwrap();
            assert!(!r.ok);
            assert_eq!(r.problem.as_deref(), Some("destination_missing"), "{r:?}");
        }
        let Some(endpoint) = f.endpoint() else { return };
        // Nobody listening.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            drop(l);
            format!("http://127.0.0.1:{port}{}", path_of(endpoint))
        };
        let fast_fail = RetryPolicy {
            max_attempts: 2,
            ..quick_retry()
        };
        let r = f
            .build(&name, Some(&closed), None, fast_fail)
            .test()
            .await
            .unwrap();
        assert_eq!(r.problem.as_deref(), Some("store_unreachable"), "{r:?}");
        // Wrong secret. moto accepts any credentials, so only Azurite can say so.
        if let Kind::Azure { .. } = f.kind {
            let wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
            let r = f
                .build(&name, None, Some(wrong), quick_retry())
                .test()
                .await
                .unwrap();
            assert_eq!(r.problem.as_deref(), Some("credentials_invalid"), "{r:?}");
            assert!(!format!("{r:?}").contains(wrong));
        }
        // No credentials at all.
        let none: Arc<dyn ObjectStore> = match &f.kind {
            Kind::S3 { endpoint } => Arc::new(
                S3Store::new(S3StoreConfig::new(&name, "us-east-1", Some(endpoint))).unwrap(),
            ),
            Kind::Azure { endpoint } => Arc::new(
                AzureStore::new(AzureStoreConfig::new(
                    endpoint,
                    AZURITE_ACCOUNT,
                    &name,
                    AzureAuth::Missing,
                ))
                .unwrap(),
            ),
            _ => unreachable!(),
        };
        let r = none.test().await.unwrap();
        assert_eq!(r.problem.as_deref(), Some("credentials_missing"), "{r:?}");
        assert_eq!(
            none.put_bytes("x", Bytes::from_static(b"x"), &PutOptions::default())
                .await
                .unwrap_err()
                .code(),
            "credentials_missing"
        );
    }
}

/// Reads the lifecycle rules back from the server: every rule that expires or archives current
/// objects is scoped to `backups/` or `archive/`, so a recovery file at the top of the bucket
/// never expires.
async fn lifecycle_spares_everything_outside_the_prefix(endpoint: &str, bucket: &str) {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new("t", "t", None, None, "test"))
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    let cfg = client
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut expiring = 0;
    for rule in cfg.rules() {
        let prefix = rule.filter().and_then(|f| f.prefix()).unwrap_or("");
        if rule.expiration().is_some() || !rule.transitions().is_empty() {
            expiring += 1;
            assert!(prefix == "backups/" || prefix == "archive/", "{rule:?}");
        }
        assert!(rule.noncurrent_version_expiration().is_some() || !prefix.is_empty());
    }
    assert_eq!(expiring, 2, "{cfg:?}");
}

macro_rules! conformance {
    ($provider:ident) => {
        mod $provider {
            use super::*;
            macro_rules! case {
                ($name:ident) => {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $name() {
                        if let Some(f) = Factory::$provider() {
                            suite::$name(&f).await;
                        }
                    }
                };
            }
            case!(round_trips);
            case!(large_object);
            case!(listing_pages);
            case!(metadata);
            case!(conditional_create);
            case!(hash_mismatch);
            case!(resume_after_interruption);
            case!(resume_after_kill);
            case!(retry_on_faults);
            case!(hold_tier_restore);
            case!(prepare_and_test);
        }
    };
}

conformance!(local);
conformance!(memory);
conformance!(s3);
conformance!(azure);
