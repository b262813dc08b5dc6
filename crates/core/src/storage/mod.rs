//! Where documents and backups are kept: one [`ObjectStore`] trait and its providers — a local
//! folder (the embedded default), memory (tests), AWS S3 (or an S3-compatible store) and Azure
//! Blob Storage. Every provider passes the same conformance suite (tests/tests/storage_conformance.rs);
//! what a provider cannot do answers [`Error::Unsupported`], never a silent no-op.
//!
//! No S3 or Azure code lives outside this folder.

mod azure;
mod azure_auth;
pub mod journal;
pub mod key;
mod local;
mod memory;
pub mod retry;
mod s3;
mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub use azure::{AzureAuth, AzureStore, AzureStoreConfig};
pub use journal::{JsonFileJournal, MemoryJournal, PartDone, UploadJournal, UploadRecord};
pub use key::validate_key;
pub use local::LocalStore;
pub use memory::MemoryStore;
pub use retry::RetryPolicy;
pub use s3::{CredentialChain, S3Store, S3StoreConfig, ServerSideEncryption};

use crate::config::{CloudProvider, Settings};
use crate::paths::Home;
use crate::progress::{Cancel, Progress};
use crate::secrets::Keyring;
use crate::{Error, Result};

/// Default size of one multipart part / staged block.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// Default number of parts/blocks in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Backups live under this prefix of the backups destination, so retention's lifecycle rules
/// (expire, move to archive) touch nothing else there: not the recovery files beside them.
pub const BACKUP_PREFIX: &str = "backups/";

/// Long-term copies of backups (one a month, in the archive tier) live under this prefix, with
/// a lifecycle rule of their own (kept for years, see `jobs::archive_copy`).
pub const ARCHIVE_PREFIX: &str = "archive/";

/// What Strongroom records on every object it stores (user metadata on S3 and Azure, a sidecar
/// file in the local folder). Names are valid both as S3 `x-amz-meta-*` and Azure metadata names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMetadata {
    /// Lowercase hex SHA-256 of the whole object; `get` verifies against it.
    pub sha256: Option<String>,
    pub station: Option<String>,
    /// RFC 3339 time of creation.
    pub created: Option<String>,
    /// For documents: the case number they belong to.
    pub case_number: Option<String>,
}

impl ObjectMetadata {
    pub(crate) fn to_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for (k, v) in [
            ("sha256", &self.sha256),
            ("station", &self.station),
            ("created", &self.created),
            ("case_number", &self.case_number),
        ] {
            if let Some(v) = v {
                m.insert(k.to_string(), v.clone());
            }
        }
        m
    }

    pub(crate) fn from_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut md = ObjectMetadata::default();
        for (k, v) in pairs {
            let v = Some(v.to_string());
            // S3 carries `case-number` (HTTP headers with `_` are dropped by some servers and
            // proxies); Azure needs `case_number` (metadata names are C# identifiers).
            match k.to_ascii_lowercase().replace('-', "_").as_str() {
                "sha256" => md.sha256 = v,
                "station" => md.station = v,
                "created" => md.created = v,
                "case_number" => md.case_number = v,
                _ => {}
            }
        }
        md
    }
}

/// Storage class (S3) / access tier (Azure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// S3 STANDARD / Azure Hot.
    Hot,
    /// S3 STANDARD_IA / Azure Cool.
    Cool,
    /// Azure Cold (S3 has no equivalent: Unsupported there).
    Cold,
    /// S3 GLACIER (Flexible Retrieval) / Azure Archive.
    Archive,
    /// S3 DEEP_ARCHIVE (Azure has no deeper tier than Archive: Unsupported there).
    DeepArchive,
}

impl Tier {
    pub fn is_archive(self) -> bool {
        matches!(self, Tier::Archive | Tier::DeepArchive)
    }
}

/// How fast an archived object should be brought back (S3 retrieval tier / Azure priority).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RestoreSpeed {
    Expedited,
    #[default]
    Standard,
    Bulk,
}

/// Where an archived object stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum RestoreStatus {
    /// The object is not archived: it can be read now.
    NotArchived,
    /// Archived and no restore was requested.
    Archived,
    /// A restore is running.
    InProgress,
    /// A readable copy is available (S3: until `expires`, RFC 3339, when known).
    Available { expires: Option<String> },
}

/// What a store knows about one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    /// RFC 3339, when the store reports it.
    pub last_modified: Option<String>,
    pub metadata: ObjectMetadata,
    pub tier: Option<Tier>,
    pub version_id: Option<String>,
    pub legal_hold: Option<bool>,
}

impl ObjectInfo {
    pub(crate) fn new(key: &str, size: u64) -> Self {
        Self {
            key: key.to_string(),
            size,
            etag: None,
            last_modified: None,
            metadata: ObjectMetadata::default(),
            tier: None,
            version_id: None,
            legal_hold: None,
        }
    }
}

/// One page of a listing; pass `next` back to get the following page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub objects: Vec<ObjectInfo>,
    pub next: Option<String>,
}

/// How to store an object.
#[derive(Clone, Default)]
pub struct PutOptions {
    pub metadata: ObjectMetadata,
    /// Never overwrite: fail with `already_exists` when the key is taken
    /// (S3 If-None-Match, Azure If-None-Match *, local O_EXCL link).
    pub if_not_exists: bool,
    /// Storage class / access tier to store it in; `None` is the store's default.
    pub tier: Option<Tier>,
    /// Where a multipart upload records its progress so an interrupted put can continue.
    pub journal: Option<Arc<dyn UploadJournal>>,
    /// Override of the part/block size (tests); `None` uses the store's setting.
    pub part_size: Option<u64>,
}

impl fmt::Debug for PutOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutOptions")
            .field("metadata", &self.metadata)
            .field("if_not_exists", &self.if_not_exists)
            .field("tier", &self.tier)
            .field("journal", &self.journal.is_some())
            .field("part_size", &self.part_size)
            .finish()
    }
}

/// What a put did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PutOutcome {
    pub key: String,
    pub size: u64,
    pub sha256: String,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    /// Parts (or blocks) sent by this call; 1 for a single-shot put, 0 for local/memory.
    pub parts_sent: u32,
    /// Bytes sent over the wire (or copied) by this call.
    pub bytes_sent: u64,
    /// Parts found already done in the journal (and on the server) and not sent again.
    pub parts_resumed: u32,
}

/// How to read an object.
#[derive(Debug, Clone, Default)]
pub struct GetOptions {
    /// A byte range; a ranged read cannot be checked against the whole object's SHA-256.
    pub range: Option<Range<u64>>,
    /// Expected SHA-256 (hex); when `None`, the one recorded in the object's metadata is used.
    pub expected_sha256: Option<String>,
}

/// What `prepare` should set on the destination.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PrepareOptions {
    /// Objects expire after this many days (backups' retention); `None`: never (documents).
    pub retention_days: Option<u32>,
    /// Move objects to the archive tier after this many days (`None`: never).
    pub archive_after_days: Option<u32>,
    /// Non-current versions expire after this many days.
    pub noncurrent_expire_days: u32,
    /// Whether legal holds will be used (S3: the bucket is created with Object Lock).
    pub legal_holds: bool,
    /// The prefix that `retention_days` and `archive_after_days` apply to (the backups under
    /// [`BACKUP_PREFIX`]); housekeeping (old versions, unfinished uploads) applies to all.
    pub lifecycle_prefix: String,
    /// Objects under [`ARCHIVE_PREFIX`] expire after this many days (`None`: no rule).
    pub archive_copies_days: Option<u32>,
}

impl PrepareOptions {
    /// For the backups destination: expire after the retention days, archive per the settings.
    pub fn for_backups(settings: &Settings) -> Self {
        Self {
            retention_days: Some(settings.cloud.retention_days),
            archive_after_days: settings.cloud.archive_after_days,
            legal_holds: settings.cloud.legal_holds,
            lifecycle_prefix: BACKUP_PREFIX.to_string(),
            archive_copies_days: settings
                .cloud
                .archive_monthly
                .then(|| settings.cloud.archive_years.max(1) * 366),
            ..Self::default()
        }
    }

    /// For the documents destination: documents never expire by lifecycle.
    pub fn for_documents(settings: &Settings) -> Self {
        Self {
            legal_holds: settings.cloud.legal_holds,
            ..Self::default()
        }
    }
}

impl Default for PrepareOptions {
    fn default() -> Self {
        Self {
            retention_days: None,
            archive_after_days: None,
            noncurrent_expire_days: 30,
            legal_holds: false,
            lifecycle_prefix: String::new(),
            archive_copies_days: None,
        }
    }
}

/// What `prepare` did, step by step, in words for the officer.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PrepareReport {
    pub store: String,
    pub steps: Vec<PrepareStep>,
    /// For Azure: the lifecycle management policy for an administrator to apply.
    pub management_policy: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PrepareStep {
    pub what: String,
    /// `set`, `already` or `unsupported`.
    pub outcome: String,
}

impl PrepareReport {
    pub(crate) fn step(&mut self, what: impl Into<String>, outcome: &str) {
        self.steps.push(PrepareStep {
            what: what.into(),
            outcome: outcome.to_string(),
        });
    }
}

/// The result of a connection check: each check in order, and the first failure's code.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TestReport {
    pub store: String,
    pub ok: bool,
    pub checks: Vec<TestCheck>,
    /// The stable code of what is wrong (`store_unreachable`, `credentials_invalid`, …).
    pub problem: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TestCheck {
    pub name: String,
    pub ok: bool,
    pub detail: Option<String>,
}

impl TestReport {
    pub(crate) fn new(store: impl Into<String>) -> Self {
        Self {
            store: store.into(),
            ok: true,
            checks: Vec::new(),
            problem: None,
            message: None,
        }
    }

    /// Records one check; the first failure decides `problem`. Returns whether it passed.
    pub(crate) fn check<T>(&mut self, name: &str, r: &Result<T>) -> bool {
        match r {
            Ok(_) => {
                self.checks.push(TestCheck {
                    name: name.to_string(),
                    ok: true,
                    detail: None,
                });
                true
            }
            Err(e) => {
                self.checks.push(TestCheck {
                    name: name.to_string(),
                    ok: false,
                    detail: Some(e.to_string()),
                });
                if self.ok {
                    self.ok = false;
                    self.problem = Some(e.code().to_string());
                    self.message = Some(e.to_string());
                }
                false
            }
        }
    }
}

/// The object stores of one station.
///
/// Dyn-compatible: callers hold `Arc<dyn ObjectStore>`. All methods run on tokio.
#[async_trait]
pub trait ObjectStore: Send + Sync + fmt::Debug {
    /// The provider's name for messages, e.g. `local folder`, `AWS S3`, `Azure Blob`.
    fn provider(&self) -> &'static str;

    /// Where it stores, e.g. `s3://bucket`, for messages and reports.
    fn describe(&self) -> String;

    /// Stores a local file of any size under `key`. Large files go in parts in parallel; with a
    /// journal in `opts`, an interrupted put continues where it stopped on the next call with
    /// the same key, source, size and SHA-256. Checks `cancel` between parts (already started
    /// parts finish and are recorded).
    async fn put_file(
        &self,
        key: &str,
        source: &Path,
        opts: &PutOptions,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<PutOutcome>;

    /// Stores a small object held in memory.
    async fn put_bytes(&self, key: &str, data: Bytes, opts: &PutOptions) -> Result<PutOutcome>;

    /// Streams the object (or a range of it) into `out`. A whole-object read is checked against
    /// the expected or recorded SHA-256 and fails with `hash_mismatch` (after writing) when it
    /// differs: the caller must discard what was written.
    async fn get_to(
        &self,
        key: &str,
        opts: &GetOptions,
        out: &mut (dyn Write + Send),
        progress: &dyn Progress,
    ) -> Result<ObjectInfo>;

    /// The object's size, metadata and state; `not_found` when absent.
    async fn head(&self, key: &str) -> Result<ObjectInfo>;

    /// One page of the keys under `prefix`, in key order. `max` is capped by the provider (1000).
    async fn list_page(&self, prefix: &str, next: Option<String>, max: usize) -> Result<ListPage>;

    /// Deletes the object; deleting an absent key is not an error.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Sets or releases a legal hold on the object.
    async fn set_legal_hold(&self, key: &str, on: bool) -> Result<()> {
        let _ = (key, on);
        Err(self.unsupported("legal hold"))
    }

    /// Whether the object is under legal hold.
    async fn legal_hold(&self, key: &str) -> Result<bool> {
        let _ = key;
        Err(self.unsupported("legal hold"))
    }

    /// Moves the object to another storage class / access tier.
    async fn set_tier(&self, key: &str, tier: Tier) -> Result<()> {
        let _ = (key, tier);
        Err(self.unsupported("storage tiers"))
    }

    /// Asks the store to bring an archived object back for `days` days.
    async fn request_restore(
        &self,
        key: &str,
        days: u32,
        speed: RestoreSpeed,
    ) -> Result<RestoreStatus> {
        let _ = (key, days, speed);
        Err(self.unsupported("restore from archive"))
    }

    /// Where a restore from the archive stands.
    async fn restore_status(&self, key: &str) -> Result<RestoreStatus> {
        let _ = key;
        Err(self.unsupported("restore from archive"))
    }

    /// Makes the destination as the operations guide wants it; reports what was set.
    async fn prepare(&self, opts: &PrepareOptions) -> Result<PrepareReport>;

    /// A connection check that says exactly what is wrong. An `Ok` report may still say `ok: false`.
    async fn test(&self) -> Result<TestReport>;

    /// Aborts unfinished multipart uploads started more than `older_than` ago (S3). Returns how
    /// many were cleaned. Stores without multipart uploads (local, memory) have nothing to clean;
    /// Azure discards uncommitted blocks by itself after 7 days. A journal entry whose upload
    /// was aborted is detected on the next put (ListParts) and the upload starts afresh.
    async fn abort_abandoned_uploads(&self, older_than: std::time::Duration) -> Result<u64> {
        let _ = older_than;
        Ok(0)
    }

    /// The `Unsupported` error of this provider.
    fn unsupported(&self, feature: &'static str) -> Error {
        Error::Unsupported {
            feature,
            provider: self.provider(),
        }
    }
}

impl<'a> dyn ObjectStore + 'a {
    /// Every object under `prefix`, following the pages.
    pub async fn list_all(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let mut all = Vec::new();
        let mut next = None;
        loop {
            let page = self.list_page(prefix, next, 1000).await?;
            all.extend(page.objects);
            match page.next {
                Some(n) => next = Some(n),
                None => return Ok(all),
            }
        }
    }

    /// The whole object in memory, verified. For small objects only.
    pub async fn get_bytes(&self, key: &str) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.get_to(
            key,
            &GetOptions::default(),
            &mut buf,
            &crate::progress::NoProgress,
        )
        .await?;
        Ok(buf)
    }
}

/// The stores one station writes to.
#[derive(Debug, Clone)]
pub struct Destinations {
    /// Case documents: the cloud when enabled, else `<home>/documents`.
    pub documents: Arc<dyn ObjectStore>,
    /// Backups: the cloud when enabled, else `<home>/backups`.
    pub backups: Arc<dyn ObjectStore>,
    /// Always the local backups folder `<home>/backups` (the local copy of every backup).
    pub local_backups: Arc<dyn ObjectStore>,
    /// Whether `documents`/`backups` are in the cloud.
    pub cloud: Option<CloudProvider>,
}

/// Builds the configured stores. Secrets come from the environment when given there, else from
/// the station's keyring; a missing secret is reported by the first operation (and by `test`)
/// as `credentials_missing`, so `storage test` can still explain what is wrong.
pub fn open_destinations(
    settings: &Settings,
    keyring: &Keyring,
    home: &Home,
) -> Result<Destinations> {
    let local_backups: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(home.backups_dir())?);
    let (documents, backups, cloud): (Arc<dyn ObjectStore>, Arc<dyn ObjectStore>, _) =
        match settings.effective_provider() {
            CloudProvider::None => (
                Arc::new(LocalStore::new(home.documents_dir())?),
                local_backups.clone(),
                None,
            ),
            CloudProvider::Aws => {
                let base = S3StoreConfig::from_settings(settings, keyring)?;
                let docs = S3StoreConfig {
                    bucket: settings.aws.documents_bucket.clone().unwrap_or_default(),
                    ..base.clone()
                };
                let backs = S3StoreConfig {
                    bucket: settings.aws.backup_bucket.clone().unwrap_or_default(),
                    ..base
                };
                (
                    Arc::new(S3Store::new(docs)?),
                    Arc::new(S3Store::new(backs)?),
                    Some(CloudProvider::Aws),
                )
            }
            CloudProvider::Azure => {
                let base = AzureStoreConfig::from_settings(settings, keyring)?;
                let docs = AzureStoreConfig {
                    container: settings
                        .azure
                        .documents_container
                        .clone()
                        .unwrap_or_default(),
                    ..base.clone()
                };
                let backs = AzureStoreConfig {
                    container: settings.azure.backup_container.clone().unwrap_or_default(),
                    ..base
                };
                (
                    Arc::new(AzureStore::new(docs)?),
                    Arc::new(AzureStore::new(backs)?),
                    Some(CloudProvider::Azure),
                )
            }
        };
    Ok(Destinations {
        documents,
        backups,
        local_backups,
        cloud,
    })
}

/// Refuses plain-http endpoints except on loopback (emulators on this computer).
pub fn check_endpoint(endpoint: &str) -> Result<url::Url> {
    let url = url::Url::parse(endpoint).map_err(|e| Error::Config {
        message: format!("the endpoint {endpoint} is not a valid URL ({e})"),
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(url)
            } else {
                Err(Error::InsecureEndpoint {
                    endpoint: endpoint.to_string(),
                })
            }
        }
        other => Err(Error::Config {
            message: format!("the endpoint {endpoint} uses {other}:, not https:"),
        }),
    }
}

/// The size of a local source file.
pub(crate) fn source_len(source: &Path) -> Result<u64> {
    std::fs::metadata(source)
        .map(|m| m.len())
        .map_err(|e| Error::io("read", source, e))
}

/// SHA-256 (hex) of a local file, read in the blocking pool.
pub(crate) async fn file_sha256(source: &Path) -> Result<String> {
    let path: PathBuf = source.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use sha2::{Digest, Sha256};
        let mut f = std::fs::File::open(&path).map_err(|e| Error::io("opened", &path, e))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n =
                std::io::Read::read(&mut f, &mut buf).map_err(|e| Error::io("read", &path, e))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(hex::encode(h.finalize()))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task failed: {e}")))?
}

/// Reads `len` bytes at `offset` of a local file, in the blocking pool.
pub(crate) async fn read_part(source: &Path, offset: u64, len: u64) -> Result<Bytes> {
    let path: PathBuf = source.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(&path).map_err(|e| Error::io("opened", &path, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("read", &path, e))?;
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf)
            .map_err(|e| Error::io("read", &path, e))?;
        Ok(Bytes::from(buf))
    })
    .await
    .map_err(|e| Error::Internal(format!("read task failed: {e}")))?
}

/// SHA-256 (hex) of bytes in memory.
pub(crate) fn bytes_sha256(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}

/// The metadata to store: the caller's, with the SHA-256 filled in when it was not given.
pub(crate) fn metadata_with_sha(opts: &PutOptions, sha256: &str) -> Result<ObjectMetadata> {
    let mut md = opts.metadata.clone();
    match &md.sha256 {
        Some(given) if !given.eq_ignore_ascii_case(sha256) => {
            return Err(sha256_mismatch_on_put(sha256, given))
        }
        _ => md.sha256 = Some(sha256.to_ascii_lowercase()),
    }
    Ok(md)
}

/// The file being stored does not have the SHA-256 the caller gave.
pub(crate) fn sha256_mismatch_on_put(actual: &str, given: &str) -> Error {
    Error::Invalid {
        code: "sha256_mismatch_on_put",
        field: "sha256",
        message: format!(
            "the file's SHA-256 is {actual} but {given} was given; the file changed while it was being stored: try again"
        ),
    }
}

/// The SHA-256 the caller gave with a put, when it is one (64 hex digits), in lowercase.
pub(crate) fn given_sha256(opts: &PutOptions) -> Option<String> {
    opts.metadata
        .sha256
        .as_deref()
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

/// Part size and count for a multipart upload of `size` bytes (at most 10,000 parts).
pub(crate) fn plan_parts(size: u64, part_size: u64) -> (u64, u32) {
    let mut part = part_size.max(1);
    while size.div_ceil(part) > 10_000 {
        part *= 2;
    }
    (part, size.div_ceil(part).max(1) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_loopback() {
        assert!(check_endpoint("https://s3.eu-west-1.amazonaws.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000").is_ok());
        assert!(check_endpoint("http://localhost:10000/devstoreaccount1").is_ok());
        assert!(check_endpoint("http://[::1]:9000").is_ok());
        let e = check_endpoint("http://storage.example.org").unwrap_err();
        assert_eq!(e.code(), "insecure_endpoint");
        let e = check_endpoint("http://10.0.0.5:9000").unwrap_err();
        assert_eq!(e.code(), "insecure_endpoint");
        assert_eq!(
            check_endpoint("ftp://x").unwrap_err().code(),
            "config_invalid"
        );
    }

    fn settings(pairs: &[(&str, &str)]) -> (tempfile::TempDir, Home, Settings) {
        let t = tempfile::tempdir().unwrap();
        let home = Home::at(t.path());
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let s = Settings::load_with_env(&home, &|k| map.get(k).cloned()).unwrap();
        (t, home, s)
    }

    #[test]
    fn without_cloud_everything_goes_to_folders_in_the_home() {
        let (_t, home, s) = settings(&[]);
        let d = open_destinations(&s, &Keyring::for_station("unused"), &home).unwrap();
        assert!(d.cloud.is_none());
        assert_eq!(d.documents.provider(), "local folder");
        assert_eq!(
            d.documents.describe(),
            format!("file://{}", home.documents_dir().display())
        );
        assert_eq!(
            d.backups.describe(),
            format!("file://{}", home.backups_dir().display())
        );
        assert_eq!(d.local_backups.describe(), d.backups.describe());
    }

    #[test]
    fn aws_settings_make_two_s3_stores() {
        let (_t, home, s) = settings(&[
            ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
            ("BACKUP_CLOUD_PROVIDER", "aws"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_S3_BACKUP_BUCKET", "agency-backups"),
            ("AWS_S3_DOCUMENTS_BUCKET", "agency-docs"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "canary-aws-secret"),
        ]);
        let d = open_destinations(&s, &Keyring::for_station("unused"), &home).unwrap();
        assert_eq!(d.cloud, Some(CloudProvider::Aws));
        assert_eq!(
            d.backups.describe(),
            "s3://agency-backups@http://127.0.0.1:9"
        );
        assert_eq!(
            d.documents.describe(),
            "s3://agency-docs@http://127.0.0.1:9"
        );
        assert_eq!(d.local_backups.provider(), "local folder");
        assert!(!format!("{d:?}").contains("canary"));
    }

    #[test]
    fn azure_connection_string_from_the_environment() {
        let (_t, home, s) = settings(&[
            ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
            ("BACKUP_CLOUD_PROVIDER", "azure"),
            ("AZURE_BACKUP_CONTAINER", "backups"),
            ("AZURE_DOCUMENTS_CONTAINER", "documents"),
            (
                "AZURE_STORAGE_CONNECTION_STRING",
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Y2FuYXJ5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
            ),
        ]);
        let d = open_destinations(&s, &Keyring::for_station("unused"), &home).unwrap();
        assert_eq!(d.cloud, Some(CloudProvider::Azure));
        assert_eq!(
            d.backups.describe(),
            "azure:http://127.0.0.1:10000/devstoreaccount1/backups"
        );
        assert!(!format!("{d:?}").contains("Y2FuYXJ5"));
    }

    #[test]
    fn parts_never_exceed_ten_thousand() {
        assert_eq!(plan_parts(0, 8), (8, 1));
        assert_eq!(plan_parts(16, 8), (8, 2));
        assert_eq!(plan_parts(17, 8), (8, 3));
        let (p, n) = plan_parts(200_000, 8);
        assert!(n <= 10_000 && p * n as u64 >= 200_000);
    }

    #[test]
    fn metadata_round_trips_through_a_map() {
        let md = ObjectMetadata {
            sha256: Some("ab".into()),
            station: Some("st".into()),
            created: None,
            case_number: Some("2026-000001".into()),
        };
        let m = md.to_map();
        let back = ObjectMetadata::from_map(m.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(back, md);
    }
}
