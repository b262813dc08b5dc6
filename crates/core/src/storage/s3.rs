//! AWS S3 (and S3-compatible stores) through `aws-sdk-s3`.
//!
//! Large files go as multipart uploads with parts in flight in parallel, recorded in the upload
//! journal so an interrupted put continues (checked against ListParts) without re-sending a
//! finished part. The SDK's own retries are off: [`super::retry`] decides.
//!
//! Bodies are sent with UNSIGNED-PAYLOAD: the signature still covers the request, and the
//! bytes are guarded end to end instead (TLS on the way; backups are AES-GCM sealed and every
//! object carries its SHA-256, checked on every download; plain http is allowed to loopback
//! endpoints only). Signing the payload would hash every byte once more on both sides.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types as s3t;
use aws_sdk_s3::Client;
use bytes::Bytes;
use futures::StreamExt;

use super::journal::{MemoryJournal, PartDone, UploadJournal, UploadRecord};
use super::key::{validate_key, validate_prefix};
use super::retry::{self, RetryPolicy};
use super::verify::{expected_sha, HashingWriter};
use super::{
    check_endpoint, file_sha256, given_sha256, metadata_with_sha, plan_parts, read_part,
    source_len, GetOptions, ListPage, ObjectInfo, ObjectMetadata, ObjectStore, PrepareOptions,
    PrepareReport, PutOptions, PutOutcome, RestoreSpeed, RestoreStatus, TestReport, Tier,
    DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE,
};
use crate::config::{secret_names, AwsCredentials, Settings};
use crate::progress::{Cancel, Progress};
use crate::secrets::{Keyring, Sensitive};
use crate::{Error, Result};

/// Read size of a part streamed from its file.
const PART_READ_BUFFER: usize = 256 * 1024;

/// Server-side encryption asked of S3.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ServerSideEncryption {
    /// SSE-S3 (AES256).
    #[default]
    Aes256,
    /// SSE-KMS with an optional key id/ARN (the account's default key otherwise).
    Kms { key_id: Option<String> },
    /// Send no encryption header (stores that refuse it; the bucket default still applies).
    None,
}

/// Everything an [`S3Store`] needs.
#[derive(Debug, Clone)]
pub struct S3StoreConfig {
    pub bucket: String,
    pub region: String,
    /// A custom endpoint (S3-compatible stores, emulators); path-style addressing is used with it.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Sensitive<String>>,
    /// Use the standard AWS credential chain (with this profile, when named) instead of a key.
    pub credential_chain: Option<CredentialChain>,
    pub sse: ServerSideEncryption,
    pub part_size: u64,
    pub concurrency: usize,
    /// Files up to this size go in one PutObject.
    pub single_put_limit: u64,
    pub retry: RetryPolicy,
}

impl S3StoreConfig {
    /// A config for `bucket` with static credentials (tests and tools).
    pub fn new(bucket: &str, region: &str, endpoint: Option<&str>) -> Self {
        Self {
            bucket: bucket.to_string(),
            region: region.to_string(),
            endpoint: endpoint.map(str::to_string),
            access_key_id: None,
            secret_access_key: None,
            credential_chain: None,
            sse: ServerSideEncryption::Aes256,
            part_size: DEFAULT_PART_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            single_put_limit: DEFAULT_PART_SIZE,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_credentials(mut self, access_key_id: &str, secret: Sensitive<String>) -> Self {
        self.access_key_id = Some(access_key_id.to_string());
        self.secret_access_key = Some(secret);
        self
    }

    /// The settings' S3 configuration (bucket left empty: the caller picks documents or backups).
    pub fn from_settings(settings: &Settings, keyring: &Keyring) -> Result<Self> {
        let aws = &settings.aws;
        let mut c = Self::new(
            "",
            aws.region.as_deref().unwrap_or("us-east-1"),
            aws.endpoint_url.as_deref(),
        );
        match aws.credential_source() {
            AwsCredentials::Keys => {
                c.access_key_id = aws.access_key_id.clone();
                c.secret_access_key =
                    settings.secret(keyring, secret_names::AWS_SECRET_ACCESS_KEY)?;
            }
            AwsCredentials::Chain => {
                c.credential_chain = Some(CredentialChain {
                    profile: aws.profile.clone(),
                })
            }
        }
        c.sse = match aws.sse.as_deref() {
            Some("aws:kms") => ServerSideEncryption::Kms {
                key_id: aws.kms_key_id.clone(),
            },
            _ => ServerSideEncryption::Aes256,
        };
        if let Some(mib) = aws.part_size_mib {
            c.part_size = mib.max(5) * 1024 * 1024;
            c.single_put_limit = c.part_size;
        }
        if let Some(n) = aws.concurrency {
            c.concurrency = n.clamp(1, 32);
        }
        Ok(c)
    }
}

/// The standard AWS credential chain: environment, the named (or default) profile of the AWS
/// config files (incl. SSO and credential_process), web identity, ECS and instance roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialChain {
    pub profile: Option<String>,
}

/// What a credential chain that found nothing is told to look for.
const CHAIN_FOUND_NOTHING: &str = "credentials: the standard AWS chain found none (check AWS_PROFILE and the profile's keys, or sign in again with `aws sso login`)";

/// [`CredentialChain`] as a credentials provider, built on first use (its builder is async and
/// stores are made in sync code).
#[derive(Debug)]
struct LazyChain {
    chain: CredentialChain,
    region: String,
    provider:
        tokio::sync::OnceCell<aws_config::default_provider::credentials::DefaultCredentialsChain>,
}

impl ProvideCredentials for LazyChain {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            let provider = self
                .provider
                .get_or_init(|| async {
                    let mut b = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                        .region(Region::new(self.region.clone()));
                    if let Some(p) = &self.chain.profile {
                        b = b.profile_name(p);
                    }
                    b.build().await
                })
                .await;
            provider.provide_credentials().await
        })
    }
}

#[derive(Clone)]
pub struct S3Store {
    client: Client,
    cfg: Arc<S3StoreConfig>,
    credentials: Credentialed,
}

/// How this store signs its requests.
#[derive(Clone, Debug)]
enum Credentialed {
    Key,
    /// The provider the client signs with, kept to resolve it in `test`.
    Chain(SharedCredentialsProvider),
    Missing,
}

/// Whether an SDK error is a credentials provider that found no credentials.
fn no_credentials<E: std::error::Error + 'static>(e: &E) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The core's error for a credential chain that failed. The provider's own message is not
/// repeated: it may quote the profile files.
fn chain_error(e: &CredentialsError) -> Error {
    match e {
        CredentialsError::InvalidConfiguration(_) => Error::Config {
            message: "the AWS profile configuration is invalid (check the [profile] named by AWS_PROFILE in ~/.aws/config and ~/.aws/credentials)".into(),
        },
        _ => Error::CredentialsMissing {
            provider: "AWS S3",
            what: CHAIN_FOUND_NOTHING,
        },
    }
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.cfg.bucket)
            .field("endpoint", &self.cfg.endpoint)
            .finish_non_exhaustive()
    }
}

/// User metadata for S3: names with `-` instead of `_` (see [`ObjectMetadata::from_map`]).
fn s3_metadata(md: &ObjectMetadata) -> std::collections::HashMap<String, String> {
    md.to_map()
        .into_iter()
        .map(|(k, v)| (k.replace('_', "-"), v))
        .collect()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn storage_class(tier: Tier) -> Result<s3t::StorageClass> {
    Ok(match tier {
        Tier::Hot => s3t::StorageClass::Standard,
        Tier::Cool => s3t::StorageClass::StandardIa,
        Tier::Archive => s3t::StorageClass::Glacier,
        Tier::DeepArchive => s3t::StorageClass::DeepArchive,
        Tier::Cold => {
            return Err(Error::Unsupported {
                feature: "the Cold tier (use Cool or Archive)",
                provider: "AWS S3",
            })
        }
    })
}

fn tier_of(class: Option<&str>) -> Option<Tier> {
    match class? {
        "STANDARD" => Some(Tier::Hot),
        "STANDARD_IA" | "ONEZONE_IA" => Some(Tier::Cool),
        "GLACIER" | "GLACIER_IR" => Some(Tier::Archive),
        "DEEP_ARCHIVE" => Some(Tier::DeepArchive),
        _ => None,
    }
}

/// What a HEAD or a GET answer says of an object.
#[allow(clippy::too_many_arguments)]
fn object_info(
    key: &str,
    len: Option<i64>,
    etag: Option<&str>,
    last_modified: Option<&aws_sdk_s3::primitives::DateTime>,
    version_id: Option<&str>,
    class: Option<&s3t::StorageClass>,
    hold: Option<&s3t::ObjectLockLegalHoldStatus>,
    metadata: Option<&std::collections::HashMap<String, String>>,
) -> ObjectInfo {
    let mut info = ObjectInfo::new(key, len.unwrap_or(0).max(0) as u64);
    info.etag = etag.map(str::to_string);
    info.last_modified = fmt_time(last_modified);
    info.version_id = version_id.map(str::to_string);
    info.tier = tier_of(class.map(|c| c.as_str())).or(Some(Tier::Hot));
    info.legal_hold = hold.map(|s| *s == s3t::ObjectLockLegalHoldStatus::On);
    if let Some(m) = metadata {
        info.metadata = ObjectMetadata::from_map(m.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    info
}

fn fmt_time(t: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok())
}

impl S3Store {
    pub fn new(cfg: S3StoreConfig) -> Result<Self> {
        if let Some(ep) = &cfg.endpoint {
            check_endpoint(ep)?;
        }
        let mut b = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .build(),
            );
        if let Some(ep) = &cfg.endpoint {
            b = b
                .endpoint_url(ep.trim_end_matches('/'))
                .force_path_style(true);
        }
        let credentials =
            if let (Some(id), Some(secret)) = (&cfg.access_key_id, &cfg.secret_access_key) {
                b = b.credentials_provider(Credentials::new(
                    id.clone(),
                    secret.expose().clone(),
                    None,
                    None,
                    "strongroom",
                ));
                Credentialed::Key
            } else if let Some(chain) = &cfg.credential_chain {
                let provider = SharedCredentialsProvider::new(LazyChain {
                    chain: chain.clone(),
                    region: cfg.region.clone(),
                    provider: tokio::sync::OnceCell::new(),
                });
                b = b.credentials_provider(provider.clone());
                Credentialed::Chain(provider)
            } else {
                Credentialed::Missing
            };
        Ok(Self {
            client: Client::from_conf(b.build()),
            cfg: Arc::new(cfg),
            credentials,
        })
    }

    fn store(&self) -> String {
        format!("the S3 bucket {}", self.cfg.bucket)
    }

    fn need_credentials(&self) -> Result<()> {
        if !matches!(self.credentials, Credentialed::Missing) {
            Ok(())
        } else if self.cfg.access_key_id.is_none() {
            Err(Error::CredentialsMissing {
                provider: "AWS S3",
                what: "access key id (AWS_ACCESS_KEY_ID)",
            })
        } else {
            Err(Error::CredentialsMissing {
                provider: "AWS S3",
                what: "secret access key (AWS_SECRET_ACCESS_KEY)",
            })
        }
    }

    /// Maps an SDK error to the core's error. `permission` names what the call needs.
    fn map<E>(&self, e: SdkError<E, HttpResponse>, permission: &str, key: Option<&str>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let store = self.store();
        // A credential chain that found nothing fails before the request is sent.
        if matches!(self.credentials, Credentialed::Chain(_)) && no_credentials(&e) {
            return Error::CredentialsMissing {
                provider: "AWS S3",
                what: CHAIN_FOUND_NOTHING,
            };
        }
        match &e {
            SdkError::TimeoutError(_) => Error::StoreUnreachable {
                store,
                detail: "the request timed out".into(),
            },
            SdkError::DispatchFailure(d) => Error::StoreUnreachable {
                store,
                detail: if d.is_timeout() {
                    "the connection timed out".into()
                } else if d.is_io() {
                    "the connection failed or was reset".into()
                } else {
                    "the request could not be sent".into()
                },
            },
            SdkError::ResponseError(_) => Error::Store {
                store,
                detail: "the response was cut off or malformed".into(),
                transient: true,
            },
            SdkError::ConstructionFailure(_) => Error::Store {
                store,
                detail: format!("{permission} could not be prepared"),
                transient: false,
            },
            _ => {
                let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
                let code = e.code().unwrap_or("").to_string();
                let what = key
                    .map(|k| format!("{k} in {store}"))
                    .unwrap_or(store.clone());
                match (code.as_str(), status) {
                    (
                        "InvalidAccessKeyId"
                        | "SignatureDoesNotMatch"
                        | "InvalidToken"
                        | "ExpiredToken"
                        | "AuthorizationHeaderMalformed",
                        _,
                    ) => Error::CredentialsInvalid { store },
                    ("NoSuchBucket", _) => Error::DestinationMissing { store },
                    ("NoSuchKey" | "NoSuchUpload" | "NoSuchVersion", _) => Error::NotFound { what },
                    ("InvalidObjectState", _) => Error::ObjectArchived {
                        store,
                        key: key.unwrap_or_default().to_string(),
                    },
                    ("PreconditionFailed" | "ConditionalRequestConflict", _) | (_, 412) => {
                        Error::AlreadyExists { what }
                    }
                    ("AccessDenied" | "AllAccessDisabled" | "AccountProblem", _) | (_, 403) => {
                        Error::PermissionDenied {
                            store,
                            permission: permission.to_string(),
                        }
                    }
                    (
                        "SlowDown"
                        | "Throttling"
                        | "ThrottlingException"
                        | "RequestTimeout"
                        | "InternalError"
                        | "ServiceUnavailable"
                        | "RequestTimeTooSkewed",
                        _,
                    ) => Error::Store {
                        store,
                        detail: format!("{permission} answered {code} ({status})"),
                        transient: true,
                    },
                    (_, 404) if permission == "s3:ListBucket" => {
                        Error::DestinationMissing { store }
                    }
                    (_, 404) => Error::NotFound { what },
                    (_, s) if s >= 500 || s == 429 => Error::Store {
                        store,
                        detail: format!("{permission} answered {code} ({s})"),
                        transient: true,
                    },
                    _ => Error::Store {
                        store,
                        detail: format!("{permission} answered {code} ({status})"),
                        transient: false,
                    },
                }
            }
        }
    }

    fn sse_put(
        &self,
        b: aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder,
    ) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        match &self.cfg.sse {
            ServerSideEncryption::Aes256 => {
                b.server_side_encryption(s3t::ServerSideEncryption::Aes256)
            }
            ServerSideEncryption::Kms { key_id } => {
                let b = b.server_side_encryption(s3t::ServerSideEncryption::AwsKms);
                match key_id {
                    Some(k) => b.ssekms_key_id(k),
                    None => b,
                }
            }
            ServerSideEncryption::None => b,
        }
    }

    async fn single_put(
        &self,
        key: &str,
        data: Bytes,
        md: &ObjectMetadata,
        opts: &PutOptions,
    ) -> Result<(Option<String>, Option<String>)> {
        let class = opts.tier.map(storage_class).transpose()?;
        retry::run(&self.cfg.retry, &self.store(), "PutObject", || {
            let mut b = self
                .client
                .put_object()
                .bucket(&self.cfg.bucket)
                .key(key)
                .body(ByteStream::from(data.clone()))
                .content_length(data.len() as i64)
                .checksum_algorithm(s3t::ChecksumAlgorithm::Crc32)
                .set_metadata(Some(s3_metadata(md)));
            b = self.sse_put(b);
            if opts.if_not_exists {
                b = b.if_none_match("*");
            }
            if let Some(c) = &class {
                b = b.storage_class(c.clone());
            }
            async move {
                let out = b
                    .customize()
                    .disable_payload_signing()
                    .send()
                    .await
                    .map_err(|e| self.map(e, "s3:PutObject", Some(key)))?;
                Ok((out.e_tag, out.version_id))
            }
        })
        .await
    }

    async fn list_server_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<BTreeMap<u32, (String, u64)>> {
        let mut parts = BTreeMap::new();
        let mut marker: Option<String> = None;
        loop {
            let out = retry::run(&self.cfg.retry, &self.store(), "ListParts", || async {
                self.client
                    .list_parts()
                    .bucket(&self.cfg.bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .set_part_number_marker(marker.clone())
                    .send()
                    .await
                    .map_err(|e| self.map(e, "s3:ListMultipartUploadParts", Some(key)))
            })
            .await?;
            for p in out.parts() {
                if let (Some(n), Some(etag)) = (p.part_number(), p.e_tag()) {
                    parts.insert(n as u32, (etag.to_string(), p.size().unwrap_or(0) as u64));
                }
            }
            if out.is_truncated() == Some(true) {
                marker = out.next_part_number_marker().map(str::to_string);
                if marker.is_none() {
                    break;
                }
            } else {
                break;
            }
        }
        Ok(parts)
    }

    async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<()> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.cfg.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match self.map(e, "s3:AbortMultipartUpload", Some(key)) {
                Error::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn put_multipart(
        &self,
        key: &str,
        source: &Path,
        size: u64,
        sha: &str,
        md: &ObjectMetadata,
        opts: &PutOptions,
        proof: Option<tokio::task::JoinHandle<Result<String>>>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<PutOutcome> {
        let dest = self.describe();
        let (part_size, nparts) = plan_parts(size, opts.part_size.unwrap_or(self.cfg.part_size));
        let own_journal;
        let journal: &dyn UploadJournal = match &opts.journal {
            Some(j) => j.as_ref(),
            None => {
                own_journal = MemoryJournal::new();
                &own_journal
            }
        };
        let mut done: BTreeMap<u32, PartDone> = BTreeMap::new();
        let mut upload_id = None;
        if let Some(rec) = journal.find(&dest, key)? {
            if rec.matches(&dest, key, source, size, sha) && rec.part_size == part_size {
                match self.list_server_parts(key, &rec.upload_id).await {
                    Ok(server) => {
                        for p in rec.parts_done {
                            if server
                                .get(&p.part)
                                .is_some_and(|(etag, sz)| *etag == p.etag && *sz == p.size)
                            {
                                done.insert(p.part, p);
                            }
                        }
                        tracing::info!(key, parts = done.len(), "continuing an interrupted upload");
                        upload_id = Some(rec.upload_id);
                    }
                    Err(Error::NotFound { .. }) => journal.finish(&dest, key)?,
                    Err(e) => return Err(e),
                }
            } else {
                let _ = self.abort_upload(key, &rec.upload_id).await;
                journal.finish(&dest, key)?;
            }
        }
        let upload_id = match upload_id {
            Some(id) => id,
            None => {
                if opts.if_not_exists {
                    match self.head(key).await {
                        Ok(_) => {
                            return Err(Error::AlreadyExists {
                                what: format!("{key} in {}", self.store()),
                            })
                        }
                        Err(Error::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                let class = opts.tier.map(storage_class).transpose()?;
                let out = retry::run(
                    &self.cfg.retry,
                    &self.store(),
                    "CreateMultipartUpload",
                    || {
                        let mut b = self
                            .client
                            .create_multipart_upload()
                            .bucket(&self.cfg.bucket)
                            .key(key)
                            .set_metadata(Some(s3_metadata(md)));
                        b = match &self.cfg.sse {
                            ServerSideEncryption::Aes256 => {
                                b.server_side_encryption(s3t::ServerSideEncryption::Aes256)
                            }
                            ServerSideEncryption::Kms { key_id } => b
                                .server_side_encryption(s3t::ServerSideEncryption::AwsKms)
                                .set_ssekms_key_id(key_id.clone()),
                            ServerSideEncryption::None => b,
                        };
                        if let Some(c) = &class {
                            b = b.storage_class(c.clone());
                        }
                        async move {
                            b.send()
                                .await
                                .map_err(|e| self.map(e, "s3:PutObject", Some(key)))
                        }
                    },
                )
                .await?;
                let id = out.upload_id.ok_or_else(|| Error::Store {
                    store: self.store(),
                    detail: "CreateMultipartUpload returned no upload id".into(),
                    transient: false,
                })?;
                journal.start(&UploadRecord {
                    destination: dest.clone(),
                    key: key.to_string(),
                    source: source.to_path_buf(),
                    total_size: size,
                    part_size,
                    sha256: sha.to_string(),
                    upload_id: id.clone(),
                    parts_done: vec![],
                    started: now_rfc3339(),
                })?;
                id
            }
        };
        let parts_resumed = done.len() as u32;
        let confirmed = AtomicU64::new(done.values().map(|p| p.size).sum());
        let sent = AtomicU64::new(0);
        progress.stage("upload", confirmed.load(Ordering::SeqCst), Some(size));
        let todo: Vec<u32> = (1..=nparts).filter(|n| !done.contains_key(n)).collect();
        let results: Vec<Result<Option<PartDone>>> = futures::stream::iter(todo)
            .map(|part| {
                let (upload_id, confirmed, sent, dest) = (&upload_id, &confirmed, &sent, &dest);
                async move {
                    if cancel.is_cancelled() {
                        return Ok(None);
                    }
                    let offset = (part as u64 - 1) * part_size;
                    let len = part_size.min(size - offset);
                    let etag = retry::run(&self.cfg.retry, &self.store(), "UploadPart", || {
                        let (client, bucket, key, id, path) = (
                            self.client.clone(),
                            self.cfg.bucket.clone(),
                            key.to_string(),
                            upload_id.clone(),
                            source.to_path_buf(),
                        );
                        let this = self.clone();
                        // A task of its own, so requests run on every core. The part is
                        // streamed from the file (the payload is not signed, so it need not
                        // be held whole): memory stays at a few buffers per part in flight.
                        async move {
                            tokio::spawn(async move {
                                let body = ByteStream::read_from()
                                    .path(&path)
                                    .offset(offset)
                                    .length(Length::Exact(len))
                                    .buffer_size(PART_READ_BUFFER)
                                    .build()
                                    .await
                                    .map_err(|e| {
                                        Error::io("read", &path, std::io::Error::other(e))
                                    })?;
                                client
                                    .upload_part()
                                    .bucket(bucket)
                                    .key(&key)
                                    .upload_id(id)
                                    .part_number(part as i32)
                                    .content_length(len as i64)
                                    .body(body)
                                    .customize()
                                    .disable_payload_signing()
                                    .send()
                                    .await
                                    .map_err(|e| this.map(e, "s3:PutObject", Some(&key)))
                            })
                            .await
                            .map_err(|e| Error::Internal(format!("upload task failed: {e}")))?
                        }
                    })
                    .await?
                    .e_tag
                    .unwrap_or_default();
                    let pd = PartDone {
                        part,
                        etag,
                        size: len,
                    };
                    journal.part_done(dest, key, &pd)?;
                    sent.fetch_add(len, Ordering::SeqCst);
                    let now = confirmed.fetch_add(len, Ordering::SeqCst) + len;
                    progress.stage("upload", now, Some(size));
                    Ok(Some(pd))
                }
            })
            .buffer_unordered(self.cfg.concurrency.max(1))
            .collect()
            .await;
        let mut first_err = None;
        for r in results {
            match r {
                Ok(Some(p)) => {
                    done.insert(p.part, p);
                }
                Ok(None) => {}
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        let failure =
            first_err.or_else(|| (done.len() as u32 != nparts).then_some(Error::Cancelled));
        if let Some(e) = failure {
            if opts.journal.is_none() {
                // Nobody can continue it: do not leave parts behind.
                let _ = self.abort_upload(key, &upload_id).await;
            }
            return Err(e);
        }
        if let Some(proof) = proof {
            let actual = proof
                .await
                .map_err(|e| Error::Internal(format!("the file's hash was not made: {e}")))??;
            if actual != sha {
                let _ = self.abort_upload(key, &upload_id).await;
                journal.finish(&dest, key)?;
                return Err(super::sha256_mismatch_on_put(&actual, sha));
            }
        }
        let parts: Vec<s3t::CompletedPart> = done
            .values()
            .map(|p| {
                s3t::CompletedPart::builder()
                    .part_number(p.part as i32)
                    .e_tag(&p.etag)
                    .build()
            })
            .collect();
        let completed = retry::run(
            &self.cfg.retry,
            &self.store(),
            "CompleteMultipartUpload",
            || {
                let mut b = self
                    .client
                    .complete_multipart_upload()
                    .bucket(&self.cfg.bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        s3t::CompletedMultipartUpload::builder()
                            .set_parts(Some(parts.clone()))
                            .build(),
                    );
                if opts.if_not_exists {
                    b = b.if_none_match("*");
                }
                async move {
                    b.send()
                        .await
                        .map_err(|e| self.map(e, "s3:PutObject", Some(key)))
                }
            },
        )
        .await;
        let out = match completed {
            Ok(o) => o,
            Err(e) => {
                if matches!(e, Error::AlreadyExists { .. }) {
                    let _ = self.abort_upload(key, &upload_id).await;
                    journal.finish(&dest, key)?;
                }
                return Err(e);
            }
        };
        journal.finish(&dest, key)?;
        Ok(PutOutcome {
            key: key.to_string(),
            size,
            sha256: sha.to_string(),
            etag: out.e_tag,
            version_id: out.version_id,
            parts_sent: nparts - parts_resumed,
            bytes_sent: sent.load(Ordering::SeqCst),
            parts_resumed,
        })
    }

    async fn head_raw(
        &self,
        key: &str,
    ) -> Result<aws_sdk_s3::operation::head_object::HeadObjectOutput> {
        self.need_credentials()?;
        retry::run(&self.cfg.retry, &self.store(), "HeadObject", || async {
            self.client
                .head_object()
                .bucket(&self.cfg.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| self.map(e, "s3:GetObject", Some(key)))
        })
        .await
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    fn provider(&self) -> &'static str {
        "AWS S3"
    }

    fn describe(&self) -> String {
        match &self.cfg.endpoint {
            Some(ep) => format!("s3://{}@{}", self.cfg.bucket, ep.trim_end_matches('/')),
            None => format!("s3://{}", self.cfg.bucket),
        }
    }

    async fn put_file(
        &self,
        key: &str,
        source: &Path,
        opts: &PutOptions,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<PutOutcome> {
        validate_key(key)?;
        self.need_credentials()?;
        cancel.check()?;
        let size = source_len(source)?;
        let limit = opts.part_size.unwrap_or(self.cfg.single_put_limit);
        if size <= limit {
            let data = read_part(source, 0, size).await?;
            let sha = super::bytes_sha256(&data);
            let md = metadata_with_sha(opts, &sha)?;
            let (etag, version_id) = self.single_put(key, data, &md, opts).await?;
            progress.stage("upload", size, Some(size));
            return Ok(PutOutcome {
                key: key.to_string(),
                size,
                sha256: sha,
                etag,
                version_id,
                parts_sent: 1,
                bytes_sent: size,
                parts_resumed: 0,
            });
        }
        // A SHA-256 the caller gives (a backup hashed as it was written) is used at once and
        // proved by hashing the file alongside the upload, before the upload is completed;
        // otherwise the file is hashed first.
        let (sha, proof) = match given_sha256(opts) {
            Some(given) => {
                let path = source.to_path_buf();
                let proof = tokio::spawn(async move { file_sha256(&path).await });
                (given, Some(proof))
            }
            None => (file_sha256(source).await?, None),
        };
        let md = metadata_with_sha(opts, &sha)?;
        self.put_multipart(key, source, size, &sha, &md, opts, proof, progress, cancel)
            .await
    }

    async fn put_bytes(&self, key: &str, data: Bytes, opts: &PutOptions) -> Result<PutOutcome> {
        validate_key(key)?;
        self.need_credentials()?;
        let sha = super::bytes_sha256(&data);
        let md = metadata_with_sha(opts, &sha)?;
        let size = data.len() as u64;
        let (etag, version_id) = self.single_put(key, data, &md, opts).await?;
        Ok(PutOutcome {
            key: key.to_string(),
            size,
            sha256: sha,
            etag,
            version_id,
            parts_sent: 1,
            bytes_sent: size,
            parts_resumed: 0,
        })
    }

    async fn get_to(
        &self,
        key: &str,
        opts: &GetOptions,
        out: &mut (dyn Write + Send),
        progress: &dyn Progress,
    ) -> Result<ObjectInfo> {
        validate_key(key)?;
        // A whole object takes one GET (its answer says what a HEAD would: an archived object
        // is refused with InvalidObjectState); a range asks the HEAD first for the size.
        let (info, start, end, mut first) = match &opts.range {
            Some(r) => {
                let info = self.head(key).await?;
                if info.tier.is_some_and(Tier::is_archive)
                    && !matches!(
                        self.restore_status(key).await?,
                        RestoreStatus::Available { .. }
                    )
                {
                    return Err(Error::ObjectArchived {
                        store: self.store(),
                        key: key.to_string(),
                    });
                }
                let (start, end) = (r.start.min(info.size), r.end.min(info.size));
                (info, start, end, None)
            }
            None => {
                let res = retry::run(&self.cfg.retry, &self.store(), "GetObject", || async {
                    self.client
                        .get_object()
                        .bucket(&self.cfg.bucket)
                        .key(key)
                        .send()
                        .await
                        .map_err(|e| self.map(e, "s3:GetObject", Some(key)))
                })
                .await?;
                let info = object_info(
                    key,
                    res.content_length(),
                    res.e_tag(),
                    res.last_modified(),
                    res.version_id(),
                    res.storage_class(),
                    res.object_lock_legal_hold_status(),
                    res.metadata(),
                );
                let size = info.size;
                (info, 0, size, Some(res.body))
            }
        };
        let mut w = HashingWriter::new(out);
        let mut pos = start;
        let mut failures = 0u32;
        // A broken stream continues from where it stopped, with the same retry budget.
        while pos < end {
            let mut body = match first.take() {
                Some(body) => body,
                None => {
                    retry::run(&self.cfg.retry, &self.store(), "GetObject", || async {
                        self.client
                            .get_object()
                            .bucket(&self.cfg.bucket)
                            .key(key)
                            .range(format!("bytes={}-{}", pos, end - 1))
                            .send()
                            .await
                            .map_err(|e| self.map(e, "s3:GetObject", Some(key)))
                    })
                    .await?
                    .body
                }
            };
            loop {
                match body.next().await {
                    Some(Ok(chunk)) => {
                        let take = (chunk.len() as u64).min(end - pos) as usize;
                        w.write_chunk(&chunk[..take])?;
                        pos += take as u64;
                        progress.stage("download", pos - start, Some(end - start));
                    }
                    Some(Err(e)) => {
                        failures += 1;
                        if failures >= self.cfg.retry.max_attempts {
                            return Err(Error::StoreUnreachable {
                                store: self.store(),
                                detail: format!("the download of {key} kept breaking off ({e})"),
                            });
                        }
                        tokio::time::sleep(self.cfg.retry.delay(failures)).await;
                        break;
                    }
                    None => break,
                }
            }
        }
        w.finish(
            &self.store(),
            key,
            expected_sha(opts, info.metadata.sha256.as_deref()),
        )?;
        Ok(info)
    }

    async fn head(&self, key: &str) -> Result<ObjectInfo> {
        validate_key(key)?;
        let h = self.head_raw(key).await?;
        Ok(object_info(
            key,
            h.content_length(),
            h.e_tag(),
            h.last_modified(),
            h.version_id(),
            h.storage_class(),
            h.object_lock_legal_hold_status(),
            h.metadata(),
        ))
    }

    async fn list_page(&self, prefix: &str, next: Option<String>, max: usize) -> Result<ListPage> {
        validate_prefix(prefix)?;
        self.need_credentials()?;
        let out = retry::run(&self.cfg.retry, &self.store(), "ListObjectsV2", || async {
            self.client
                .list_objects_v2()
                .bucket(&self.cfg.bucket)
                .prefix(prefix)
                .max_keys(max.clamp(1, 1000) as i32)
                .set_continuation_token(next.clone())
                .send()
                .await
                .map_err(|e| self.map(e, "s3:ListBucket", None))
        })
        .await?;
        let objects = out
            .contents()
            .iter()
            .filter_map(|o| {
                let key = o.key()?;
                let mut i = ObjectInfo::new(key, o.size().unwrap_or(0).max(0) as u64);
                i.etag = o.e_tag().map(str::to_string);
                i.last_modified = fmt_time(o.last_modified());
                i.tier = tier_of(o.storage_class().map(|c| c.as_str()));
                Some(i)
            })
            .collect();
        let next = if out.is_truncated() == Some(true) {
            out.next_continuation_token().map(str::to_string)
        } else {
            None
        };
        Ok(ListPage { objects, next })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        self.need_credentials()?;
        retry::run(&self.cfg.retry, &self.store(), "DeleteObject", || async {
            self.client
                .delete_object()
                .bucket(&self.cfg.bucket)
                .key(key)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.map(e, "s3:DeleteObject", Some(key)))
        })
        .await
    }

    async fn set_legal_hold(&self, key: &str, on: bool) -> Result<()> {
        validate_key(key)?;
        self.need_credentials()?;
        let status = if on {
            s3t::ObjectLockLegalHoldStatus::On
        } else {
            s3t::ObjectLockLegalHoldStatus::Off
        };
        retry::run(&self.cfg.retry, &self.store(), "PutObjectLegalHold", || async {
            self.client
                .put_object_legal_hold()
                .bucket(&self.cfg.bucket)
                .key(key)
                .legal_hold(s3t::ObjectLockLegalHold::builder().status(status.clone()).build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| match self.map(e, "s3:PutObjectLegalHold", Some(key)) {
                    Error::Store { detail, .. } if detail.contains("InvalidRequest") => {
                        Error::Unsupported {
                            feature: "legal hold on a bucket made without Object Lock (run `strongroom storage prepare` with legal holds on a new bucket)",
                            provider: "AWS S3",
                        }
                    }
                    other => other,
                })
        })
        .await
    }

    async fn legal_hold(&self, key: &str) -> Result<bool> {
        Ok(self.head(key).await?.legal_hold.unwrap_or(false))
    }

    async fn set_tier(&self, key: &str, tier: Tier) -> Result<()> {
        validate_key(key)?;
        self.need_credentials()?;
        let class = storage_class(tier)?;
        let source = format!(
            "{}/{}",
            self.cfg.bucket,
            url::form_urlencoded::byte_serialize(key.as_bytes())
                .collect::<String>()
                .replace("%2F", "/")
        );
        retry::run(&self.cfg.retry, &self.store(), "CopyObject", || async {
            let b = self
                .client
                .copy_object()
                .bucket(&self.cfg.bucket)
                .key(key)
                .copy_source(&source)
                .storage_class(class.clone())
                .metadata_directive(s3t::MetadataDirective::Copy);
            let b = match &self.cfg.sse {
                ServerSideEncryption::Aes256 => {
                    b.server_side_encryption(s3t::ServerSideEncryption::Aes256)
                }
                ServerSideEncryption::Kms { key_id } => b
                    .server_side_encryption(s3t::ServerSideEncryption::AwsKms)
                    .set_ssekms_key_id(key_id.clone()),
                ServerSideEncryption::None => b,
            };
            b.send()
                .await
                .map(|_| ())
                .map_err(|e| self.map(e, "s3:PutObject", Some(key)))
        })
        .await
    }

    async fn request_restore(
        &self,
        key: &str,
        days: u32,
        speed: RestoreSpeed,
    ) -> Result<RestoreStatus> {
        validate_key(key)?;
        self.need_credentials()?;
        let tier = match speed {
            RestoreSpeed::Expedited => s3t::Tier::Expedited,
            RestoreSpeed::Standard => s3t::Tier::Standard,
            RestoreSpeed::Bulk => s3t::Tier::Bulk,
        };
        let params = s3t::GlacierJobParameters::builder()
            .tier(tier)
            .build()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let req = s3t::RestoreRequest::builder()
            .days(days.max(1) as i32)
            .glacier_job_parameters(params)
            .build();
        let r = self
            .client
            .restore_object()
            .bucket(&self.cfg.bucket)
            .key(key)
            .restore_request(req)
            .send()
            .await;
        match r {
            Ok(_) => {}
            Err(e) => {
                let code = e.code().unwrap_or("").to_string();
                if code == "RestoreAlreadyInProgress" {
                    return Ok(RestoreStatus::InProgress);
                }
                match self.map(e, "s3:RestoreObject", Some(key)) {
                    Error::ObjectArchived { .. } => return Ok(RestoreStatus::NotArchived),
                    other => return Err(other),
                }
            }
        }
        self.restore_status(key).await
    }

    async fn restore_status(&self, key: &str) -> Result<RestoreStatus> {
        let h = self.head_raw(key).await?;
        let archived = tier_of(h.storage_class().map(|c| c.as_str())).is_some_and(Tier::is_archive);
        if !archived {
            return Ok(RestoreStatus::NotArchived);
        }
        Ok(match h.restore() {
            None => RestoreStatus::Archived,
            Some(r) if r.contains("ongoing-request=\"true\"") => RestoreStatus::InProgress,
            Some(r) => RestoreStatus::Available {
                expires: r
                    .split("expiry-date=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .map(str::to_string),
            },
        })
    }

    async fn prepare(&self, opts: &PrepareOptions) -> Result<PrepareReport> {
        self.need_credentials()?;
        let mut r = PrepareReport {
            store: self.describe(),
            ..Default::default()
        };
        let bucket = &self.cfg.bucket;
        let exists = match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => true,
            Err(e) => match self.map(e, "s3:ListBucket", None) {
                Error::DestinationMissing { .. } | Error::NotFound { .. } => false,
                other => return Err(other),
            },
        };
        if exists {
            r.step(format!("bucket {bucket}"), "already");
        } else {
            let mut b = self
                .client
                .create_bucket()
                .bucket(bucket)
                .object_lock_enabled_for_bucket(opts.legal_holds);
            if self.cfg.region != "us-east-1" {
                b = b.create_bucket_configuration(
                    s3t::CreateBucketConfiguration::builder()
                        .location_constraint(s3t::BucketLocationConstraint::from(
                            self.cfg.region.as_str(),
                        ))
                        .build(),
                );
            }
            b.send()
                .await
                .map_err(|e| self.map(e, "s3:CreateBucket", None))?;
            r.step(
                format!(
                    "bucket {bucket} created{}",
                    if opts.legal_holds {
                        " with Object Lock"
                    } else {
                        ""
                    }
                ),
                "set",
            );
        }
        self.client
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                s3t::VersioningConfiguration::builder()
                    .status(s3t::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.map(e, "s3:PutBucketVersioning", None))?;
        r.step("versioning on", "set");
        if opts.legal_holds && exists {
            let lock = self
                .client
                .get_object_lock_configuration()
                .bucket(bucket)
                .send()
                .await;
            let enabled = lock
                .ok()
                .and_then(|o| o.object_lock_configuration)
                .and_then(|c| c.object_lock_enabled)
                .is_some_and(|e| e == s3t::ObjectLockEnabled::Enabled);
            if enabled {
                r.step("Object Lock (legal holds)", "already");
            } else {
                self.client
                    .put_object_lock_configuration()
                    .bucket(bucket)
                    .object_lock_configuration(
                        s3t::ObjectLockConfiguration::builder()
                            .object_lock_enabled(s3t::ObjectLockEnabled::Enabled)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| self.map(e, "s3:PutBucketObjectLockConfiguration", None))?;
                r.step("Object Lock (legal holds) enabled", "set");
            }
        }
        let by_default = match &self.cfg.sse {
            ServerSideEncryption::Kms { key_id } => s3t::ServerSideEncryptionByDefault::builder()
                .sse_algorithm(s3t::ServerSideEncryption::AwsKms)
                .set_kms_master_key_id(key_id.clone())
                .build(),
            _ => s3t::ServerSideEncryptionByDefault::builder()
                .sse_algorithm(s3t::ServerSideEncryption::Aes256)
                .build(),
        }
        .map_err(|e| Error::Internal(e.to_string()))?;
        let sse_rule = s3t::ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(by_default)
            .bucket_key_enabled(matches!(self.cfg.sse, ServerSideEncryption::Kms { .. }))
            .build();
        self.client
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(
                s3t::ServerSideEncryptionConfiguration::builder()
                    .rules(sse_rule)
                    .build()
                    .map_err(|e| Error::Internal(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| self.map(e, "s3:PutEncryptionConfiguration", None))?;
        r.step(
            match &self.cfg.sse {
                ServerSideEncryption::Kms { key_id: Some(k) } => {
                    format!("default encryption aws:kms with key {k}")
                }
                ServerSideEncryption::Kms { key_id: None } => {
                    "default encryption aws:kms".to_string()
                }
                _ => "default encryption AES256".to_string(),
            },
            "set",
        );
        self.client
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                s3t::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.map(e, "s3:PutBucketPublicAccessBlock", None))?;
        r.step("public access blocked", "set");
        let housekeeping = s3t::LifecycleRule::builder()
            .id("strongroom-housekeeping")
            .status(s3t::ExpirationStatus::Enabled)
            .filter(s3t::LifecycleRuleFilter::builder().prefix("").build())
            .noncurrent_version_expiration(
                s3t::NoncurrentVersionExpiration::builder()
                    .noncurrent_days(opts.noncurrent_expire_days.max(1) as i32)
                    .build(),
            )
            .abort_incomplete_multipart_upload(
                s3t::AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(7)
                    .build(),
            );
        let mut rules = vec![housekeeping
            .build()
            .map_err(|e| Error::Internal(e.to_string()))?];
        let mut words = vec![format!(
            "non-current versions expire after {} days, unfinished uploads after 7",
            opts.noncurrent_expire_days.max(1)
        )];
        let scope = if opts.lifecycle_prefix.is_empty() {
            "objects".to_string()
        } else {
            format!("objects under {}", opts.lifecycle_prefix)
        };
        if opts.retention_days.is_some() || opts.archive_after_days.is_some() {
            let mut rule = s3t::LifecycleRule::builder()
                .id("strongroom-retention")
                .status(s3t::ExpirationStatus::Enabled)
                .filter(
                    s3t::LifecycleRuleFilter::builder()
                        .prefix(&opts.lifecycle_prefix)
                        .build(),
                );
            if let Some(days) = opts.retention_days {
                rule = rule.expiration(
                    s3t::LifecycleExpiration::builder()
                        .days(days as i32)
                        .build(),
                );
                words.push(format!("{scope} expire after {days} days"));
            }
            if let Some(days) = opts.archive_after_days {
                rule = rule.transitions(
                    s3t::Transition::builder()
                        .days(days as i32)
                        .storage_class(s3t::TransitionStorageClass::Glacier)
                        .build(),
                );
                words.push(format!("{scope} moved to GLACIER after {days} days"));
            }
            rules.push(rule.build().map_err(|e| Error::Internal(e.to_string()))?);
        }
        if let Some(days) = opts.archive_copies_days {
            let rule = s3t::LifecycleRule::builder()
                .id("strongroom-archive-copies")
                .status(s3t::ExpirationStatus::Enabled)
                .filter(
                    s3t::LifecycleRuleFilter::builder()
                        .prefix(super::ARCHIVE_PREFIX)
                        .build(),
                )
                .expiration(
                    s3t::LifecycleExpiration::builder()
                        .days(days as i32)
                        .build(),
                );
            rules.push(rule.build().map_err(|e| Error::Internal(e.to_string()))?);
            words.push(format!(
                "archive copies under {} expire after {days} days",
                super::ARCHIVE_PREFIX
            ));
        }
        self.client
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(
                s3t::BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .map_err(|e| Error::Internal(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| self.map(e, "s3:PutLifecycleConfiguration", None))?;
        r.step(format!("lifecycle: {}", words.join("; ")), "set");
        Ok(r)
    }

    async fn test(&self) -> Result<TestReport> {
        let mut r = TestReport::new(self.describe());
        if !r.check("credentials", &self.need_credentials()) {
            return Ok(r);
        }
        if let Credentialed::Chain(provider) = &self.credentials {
            let resolved = provider
                .provide_credentials()
                .await
                .map(|_| ())
                .map_err(|e| chain_error(&e));
            if !r.check("credentials from the standard AWS chain", &resolved) {
                return Ok(r);
            }
        }
        let quick = RetryPolicy {
            max_attempts: 2,
            attempt_timeout: Duration::from_secs(20),
            ..self.cfg.retry.clone()
        };
        let list = retry::run(&quick, &self.store(), "ListObjectsV2", || async {
            self.client
                .list_objects_v2()
                .bucket(&self.cfg.bucket)
                .max_keys(1)
                .send()
                .await
                .map_err(|e| self.map(e, "s3:ListBucket", None))
        })
        .await;
        if !r.check("reach the bucket and list it (s3:ListBucket)", &list) {
            return Ok(r);
        }
        let probe = format!("strongroom-probe/{}", uuid::Uuid::new_v4());
        let put = self
            .client
            .put_object()
            .bucket(&self.cfg.bucket)
            .key(&probe)
            .body(ByteStream::from_static(b"strongroom connection test"))
            .checksum_algorithm(s3t::ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(|e| self.map(e, "s3:PutObject", Some(&probe)));
        if !r.check("write (s3:PutObject)", &put) {
            return Ok(r);
        }
        let get = self
            .client
            .get_object()
            .bucket(&self.cfg.bucket)
            .key(&probe)
            .send()
            .await
            .map_err(|e| self.map(e, "s3:GetObject", Some(&probe)));
        r.check("read (s3:GetObject)", &get);
        let del = self
            .client
            .delete_object()
            .bucket(&self.cfg.bucket)
            .key(&probe)
            .send()
            .await
            .map_err(|e| self.map(e, "s3:DeleteObject", Some(&probe)));
        r.check("delete (s3:DeleteObject)", &del);
        Ok(r)
    }

    async fn abort_abandoned_uploads(&self, older_than: Duration) -> Result<u64> {
        self.need_credentials()?;
        let cutoff = std::time::SystemTime::now() - older_than;
        let mut aborted = 0;
        let mut key_marker: Option<String> = None;
        let mut id_marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_multipart_uploads()
                .bucket(&self.cfg.bucket)
                .set_key_marker(key_marker.clone())
                .set_upload_id_marker(id_marker.clone())
                .send()
                .await
                .map_err(|e| self.map(e, "s3:ListBucketMultipartUploads", None))?;
            for u in out.uploads() {
                let old = u
                    .initiated()
                    .and_then(|t| std::time::SystemTime::try_from(*t).ok())
                    .is_none_or(|t| t <= cutoff);
                if let (true, Some(k), Some(id)) = (old, u.key(), u.upload_id()) {
                    self.abort_upload(k, id).await?;
                    aborted += 1;
                }
            }
            if out.is_truncated() == Some(true) {
                key_marker = out.next_key_marker().map(str::to_string);
                id_marker = out.next_upload_id_marker().map(str::to_string);
            } else {
                return Ok(aborted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::primitives::SdkBody;

    fn store() -> S3Store {
        S3Store::new(S3StoreConfig::new(
            "bucket",
            "us-east-1",
            Some("http://127.0.0.1:9"),
        ))
        .unwrap()
    }

    fn service(code: &str, status: u16) -> SdkError<GetObjectError, HttpResponse> {
        let err = GetObjectError::generic(ErrorMetadata::builder().code(code).message("m").build());
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn service_errors_map_to_stable_codes() {
        let s = store();
        let cases = [
            ("InvalidAccessKeyId", 403, "credentials_invalid"),
            ("SignatureDoesNotMatch", 403, "credentials_invalid"),
            ("AccessDenied", 403, "permission_denied"),
            ("NoSuchBucket", 404, "destination_missing"),
            ("NoSuchKey", 404, "not_found"),
            ("InvalidObjectState", 403, "object_archived"),
            ("PreconditionFailed", 412, "already_exists"),
            ("SlowDown", 503, "store_error"),
            ("InternalError", 500, "store_error"),
            ("", 502, "store_error"),
            ("MalformedXML", 400, "store_error"),
        ];
        for (code, status, want) in cases {
            let e = s.map(service(code, status), "s3:GetObject", Some("k"));
            assert_eq!(e.code(), want, "{code} {status}");
        }
        let denied = s.map(service("AccessDenied", 403), "s3:PutObject", Some("k"));
        assert!(denied.to_string().contains("s3:PutObject"), "{denied}");
        // Transient or not.
        assert!(retry::is_transient(&s.map(
            service("SlowDown", 503),
            "x",
            None
        )));
        assert!(retry::is_transient(&s.map(service("", 502), "x", None)));
        assert!(!retry::is_transient(&s.map(
            service("MalformedXML", 400),
            "x",
            None
        )));
        assert!(!retry::is_transient(&s.map(
            service("AccessDenied", 403),
            "x",
            None
        )));
    }

    #[test]
    fn connection_failures_are_unreachable_and_transient() {
        let s = store();
        let io: SdkError<GetObjectError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(std::io::Error::from(
                std::io::ErrorKind::ConnectionReset,
            ))));
        let e = s.map(io, "s3:GetObject", None);
        assert_eq!(e.code(), "store_unreachable");
        assert!(retry::is_transient(&e));
        let timeout: SdkError<GetObjectError, HttpResponse> = SdkError::dispatch_failure(
            ConnectorError::timeout(Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut))),
        );
        assert_eq!(
            s.map(timeout, "s3:GetObject", None).code(),
            "store_unreachable"
        );
    }

    #[test]
    fn missing_credentials_are_reported_before_any_call() {
        let e = store().need_credentials().unwrap_err();
        assert_eq!(e.code(), "credentials_missing");
        assert!(e.to_string().contains("AWS_ACCESS_KEY_ID"));
        let s = S3Store::new(
            S3StoreConfig::new("b", "us-east-1", None)
                .with_credentials("AKID", Sensitive::new("canary-s3-secret".into())),
        )
        .unwrap();
        assert!(s.need_credentials().is_ok());
        assert!(!format!("{s:?}").contains("canary"));
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused() {
        let e = S3Store::new(S3StoreConfig::new(
            "b",
            "us-east-1",
            Some("http://s3.example.org"),
        ))
        .unwrap_err();
        assert_eq!(e.code(), "insecure_endpoint");
    }
}
