//! Azure Blob Storage through `azure_storage_blob` 1.x, authorized with a SAS token, the
//! account key (our own SharedKey signing policy, see `azure_auth.rs`) or a Microsoft Entra ID
//! token (`azure_identity`: a service principal, or the machine's managed identity).
//!
//! Large files are staged as blocks in parallel and committed at the end; the block ids are
//! recorded in the upload journal, so an interrupted put continues (checked against the
//! uncommitted block list) without re-sending a finished block. The SDK's retries are off:
//! [`super::retry`] decides.
//!
//! Legal holds: version-level immutability needs an account with versioning and immutable
//! storage at version level, which Azurite does not offer; this provider answers `Unsupported`
//! for holds (Strongroom keeps holds in its registry regardless).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, Etag, NoFormat, RequestContent, RetryOptions, Url};
use azure_identity::{
    ClientSecretCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId,
};
use azure_storage_blob::models::{
    AccessTier, ArchiveStatus, BlobClientDownloadOptions, BlobClientGetPropertiesResultHeaders,
    BlobClientSetTierOptions, BlobContainerClientListBlobsOptions,
    BlockBlobClientCommitBlockListOptions, BlockBlobClientUploadOptions, BlockListType,
    BlockLookupList, HttpRange, ListBlobsIncludeItem, RehydratePriority,
};
use azure_storage_blob::{
    BlobClient, BlobClientOptions, BlobContainerClient, BlobContainerClientOptions,
};
use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;

use super::azure_auth::{ConnectionString, SharedKeyPolicy};
use super::journal::{MemoryJournal, PartDone, UploadJournal, UploadRecord};
use super::key::{validate_key, validate_prefix};
use super::retry::{self, RetryPolicy};
use super::verify::{expected_sha, HashingWriter};
use super::{
    check_endpoint, file_sha256, metadata_with_sha, plan_parts, read_part, source_len, GetOptions,
    ListPage, ObjectInfo, ObjectMetadata, ObjectStore, PrepareOptions, PrepareReport, PutOptions,
    PutOutcome, RestoreSpeed, RestoreStatus, TestReport, Tier, DEFAULT_CONCURRENCY,
    DEFAULT_PART_SIZE,
};
use crate::config::{secret_names, AzureCredentials, Settings};
use crate::progress::{Cancel, Progress};
use crate::secrets::{Keyring, Sensitive};
use crate::{Error, Result};

/// How requests are authorized.
#[derive(Debug, Clone)]
pub enum AzureAuth {
    /// The storage account key (SharedKey signing).
    AccountKey(Sensitive<String>),
    /// A SAS token (the query string, with or without the leading `?`).
    Sas(Sensitive<String>),
    /// Microsoft Entra ID tokens (https endpoints only).
    EntraId(Arc<dyn TokenCredential>),
    /// Nothing was configured: every call answers `credentials_missing`.
    Missing,
}

/// Everything an [`AzureStore`] needs.
#[derive(Debug, Clone)]
pub struct AzureStoreConfig {
    pub account: String,
    /// The blob service endpoint, e.g. `https://acct.blob.core.windows.net` or Azurite's
    /// `http://127.0.0.1:10000/devstoreaccount1`.
    pub endpoint: String,
    pub container: String,
    pub auth: AzureAuth,
    pub part_size: u64,
    pub concurrency: usize,
    pub single_put_limit: u64,
    pub retry: RetryPolicy,
}

impl AzureStoreConfig {
    /// The token credential handed to the SDK's clients (Entra ID only).
    fn token_credential(&self) -> Option<Arc<dyn TokenCredential>> {
        match &self.auth {
            AzureAuth::EntraId(c) => Some(c.clone()),
            _ => None,
        }
    }

    pub fn new(endpoint: &str, account: &str, container: &str, auth: AzureAuth) -> Self {
        Self {
            account: account.to_string(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            container: container.to_string(),
            auth,
            part_size: DEFAULT_PART_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            single_put_limit: DEFAULT_PART_SIZE,
            retry: RetryPolicy::default(),
        }
    }

    /// The settings' Azure configuration (container left empty: the caller picks one).
    /// Precedence: connection string, then account name + key, then SAS.
    pub fn from_settings(settings: &Settings, keyring: &Keyring) -> Result<Self> {
        let az = &settings.azure;
        let mut account = az.account_name.clone();
        let mut endpoint = az.blob_endpoint.clone();
        let mut auth = AzureAuth::Missing;
        if let Some(cs) = settings.secret(keyring, secret_names::AZURE_STORAGE_CONNECTION_STRING)? {
            let cs = ConnectionString::parse(&cs)?;
            account = account.or(cs.account_name.clone());
            endpoint = endpoint.or(cs.blob_endpoint.clone()).or_else(|| {
                cs.account_name.as_ref().map(|a| {
                    format!(
                        "{}://{a}.blob.{}",
                        cs.protocol.as_deref().unwrap_or("https"),
                        cs.endpoint_suffix.as_deref().unwrap_or("core.windows.net")
                    )
                })
            });
            if let Some(k) = cs.account_key {
                auth = AzureAuth::AccountKey(k);
            } else if let Some(s) = cs.sas {
                auth = AzureAuth::Sas(s);
            }
        }
        if az.credential_source() == AzureCredentials::EntraId {
            auth = AzureAuth::EntraId(entra_credential(settings, keyring)?);
        }
        if matches!(auth, AzureAuth::Missing) {
            if let Some(k) = settings.secret(keyring, secret_names::AZURE_STORAGE_ACCOUNT_KEY)? {
                auth = AzureAuth::AccountKey(k);
            } else if let Some(s) =
                settings.secret(keyring, secret_names::AZURE_STORAGE_SAS_TOKEN)?
            {
                auth = AzureAuth::Sas(s);
            }
        }
        let account = account.ok_or_else(|| Error::Config {
            message: "cloud storage is Azure but AZURE_STORAGE_ACCOUNT_NAME (azure.account_name) is not set".into(),
        })?;
        let endpoint =
            endpoint.unwrap_or_else(|| format!("https://{account}.blob.core.windows.net"));
        let mut c = Self::new(&endpoint, &account, "", auth);
        if let Some(mib) = az.part_size_mib {
            c.part_size = mib.max(1) * 1024 * 1024;
            c.single_put_limit = c.part_size;
        }
        if let Some(n) = az.concurrency {
            c.concurrency = n.clamp(1, 32);
        }
        Ok(c)
    }
}

/// The Entra ID credential of the settings: a service principal when a client secret is
/// given (keyring or AZURE_CLIENT_SECRET), else the managed identity (user-assigned when a
/// client id is given).
fn entra_credential(settings: &Settings, keyring: &Keyring) -> Result<Arc<dyn TokenCredential>> {
    let az = &settings.azure;
    let invalid = |e: azure_core::Error| Error::Config {
        message: format!(
            "the Entra ID settings (azure.tenant_id, azure.client_id) cannot be used: {e}"
        ),
    };
    let secret = settings.secret(keyring, secret_names::AZURE_CLIENT_SECRET)?;
    match (&az.tenant_id, &az.client_id, secret) {
        (Some(tenant), Some(client), Some(secret)) => {
            let cred = ClientSecretCredential::new(
                tenant,
                client.clone(),
                Secret::new(secret.expose().clone()),
                None,
            )
            .map_err(invalid)?;
            Ok(cred)
        }
        (_, client, _) => {
            let cred = ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: client.clone().map(UserAssignedId::ClientId),
                ..Default::default()
            }))
            .map_err(invalid)?;
            Ok(cred)
        }
    }
}

#[derive(Clone)]
pub struct AzureStore {
    cfg: Arc<AzureStoreConfig>,
    options: ClientOptions,
    container_url: Url,
    container: Arc<BlobContainerClient>,
}

impl std::fmt::Debug for AzureStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureStore")
            .field("endpoint", &self.cfg.endpoint)
            .field("container", &self.cfg.container)
            .finish_non_exhaustive()
    }
}

fn access_tier(tier: Tier) -> Result<AccessTier> {
    Ok(match tier {
        Tier::Hot => AccessTier::Hot,
        Tier::Cool => AccessTier::Cool,
        Tier::Cold => AccessTier::Cold,
        Tier::Archive => AccessTier::Archive,
        Tier::DeepArchive => {
            return Err(Error::Unsupported {
                feature: "the DEEP_ARCHIVE tier (use Archive)",
                provider: "Azure Blob",
            })
        }
    })
}

fn tier_of(s: &str) -> Option<Tier> {
    match s {
        "Hot" => Some(Tier::Hot),
        "Cool" => Some(Tier::Cool),
        "Cold" => Some(Tier::Cold),
        "Archive" => Some(Tier::Archive),
        _ => None,
    }
}

fn rfc3339(t: Option<time::OffsetDateTime>) -> Option<String> {
    t.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

/// Block ids: the same length for every block of a blob, unique per upload.
fn block_id(upload: &str, part: u32) -> Vec<u8> {
    format!("{upload}-{part:06}").into_bytes()
}

impl AzureStore {
    pub fn new(cfg: AzureStoreConfig) -> Result<Self> {
        check_endpoint(&cfg.endpoint)?;
        let mut options = ClientOptions {
            retry: RetryOptions::none(),
            ..Default::default()
        };
        if let AzureAuth::AccountKey(key) = &cfg.auth {
            options
                .per_try_policies
                .push(Arc::new(SharedKeyPolicy::new(&cfg.account, key)?));
        }
        if matches!(cfg.auth, AzureAuth::EntraId(_)) && !cfg.endpoint.starts_with("https://") {
            return Err(Error::Config {
                message: format!(
                    "Entra ID tokens are only sent over https, and the Azure endpoint is {}",
                    cfg.endpoint
                ),
            });
        }
        let container_url = Self::url_for(&cfg, &[])?;
        let container = BlobContainerClient::new(
            container_url.clone(),
            cfg.token_credential(),
            Some(BlobContainerClientOptions {
                client_options: options.clone(),
                ..Default::default()
            }),
        )
        .map_err(|e| Error::Config {
            // The SDK's message would repeat the URL, which may carry a SAS: not shown.
            message: format!(
                "the Azure endpoint {} cannot be used ({})",
                cfg.endpoint,
                e.kind()
            ),
        })?;
        Ok(Self {
            cfg: Arc::new(cfg),
            options,
            container_url,
            container: Arc::new(container),
        })
    }

    /// `<endpoint>/<container>/<key segments>` with the SAS appended when that is the auth.
    fn url_for(cfg: &AzureStoreConfig, key_segments: &[&str]) -> Result<Url> {
        let mut url = Url::parse(&cfg.endpoint).map_err(|e| Error::Config {
            message: format!(
                "the Azure endpoint {} is not a valid URL ({e})",
                cfg.endpoint
            ),
        })?;
        {
            let mut segs = url.path_segments_mut().map_err(|_| Error::Config {
                message: format!("the Azure endpoint {} cannot hold a path", cfg.endpoint),
            })?;
            segs.pop_if_empty();
            segs.push(if cfg.container.is_empty() {
                "-"
            } else {
                &cfg.container
            });
            segs.extend(key_segments);
        }
        if let AzureAuth::Sas(sas) = &cfg.auth {
            url.set_query(Some(sas.expose().trim_start_matches('?')));
        }
        Ok(url)
    }

    fn blob(&self, key: &str) -> Result<BlobClient> {
        let url = Self::url_for(&self.cfg, &key.split('/').collect::<Vec<_>>())?;
        BlobClient::new(
            url,
            self.cfg.token_credential(),
            Some(BlobClientOptions {
                client_options: self.options.clone(),
                ..Default::default()
            }),
        )
        .map_err(|e| Error::Internal(format!("a blob client could not be made ({})", e.kind())))
    }

    fn store(&self) -> String {
        format!("the Azure container {}", self.cfg.container)
    }

    fn need_credentials(&self) -> Result<()> {
        match self.cfg.auth {
            AzureAuth::Missing => Err(Error::CredentialsMissing {
                provider: "Azure Blob",
                what: "account key, connection string, SAS token or Entra ID (AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN, AZURE_TENANT_ID + AZURE_CLIENT_ID)",
            }),
            _ => Ok(()),
        }
    }

    /// Maps an SDK error. `permission` names what the call needs (SAS letter / RBAC action).
    fn map(&self, e: azure_core::Error, permission: &str, key: Option<&str>) -> Error {
        use azure_core::error::ErrorKind;
        let store = self.store();
        let what = key
            .map(|k| format!("{k} in {store}"))
            .unwrap_or(store.clone());
        match e.kind() {
            ErrorKind::HttpResponse {
                status,
                error_code,
                raw_response,
            } => {
                let status = u16::from(*status);
                let code = error_code
                    .clone()
                    .or_else(|| {
                        raw_response.as_ref().and_then(|r| {
                            r.headers().get_optional_string(
                                &azure_core::http::headers::HeaderName::from_static(
                                    "x-ms-error-code",
                                ),
                            )
                        })
                    })
                    .unwrap_or_default();
                // The account key grants everything: a 403 under it means the key is wrong.
                if status == 403
                    && code.is_empty()
                    && matches!(self.cfg.auth, AzureAuth::AccountKey(_))
                {
                    return Error::CredentialsInvalid { store };
                }
                match (code.as_str(), status) {
                    // Azure answers a bad signature with AuthenticationFailed, Azurite with
                    // AuthorizationFailure; permission problems have their own codes below.
                    (
                        "AuthenticationFailed"
                        | "InvalidAuthenticationInfo"
                        | "AuthorizationFailure",
                        _,
                    ) => Error::CredentialsInvalid { store },
                    ("ContainerNotFound", _) => Error::DestinationMissing { store },
                    ("BlobNotFound" | "InvalidBlockList", 404) => Error::NotFound { what },
                    ("BlobArchived", _) => Error::ObjectArchived {
                        store,
                        key: key.unwrap_or_default().to_string(),
                    },
                    ("BlobAlreadyExists" | "ConditionNotMet", _) | (_, 412) => {
                        Error::AlreadyExists { what }
                    }
                    (
                        "AuthorizationPermissionMismatch"
                        | "AuthorizationResourceTypeMismatch"
                        | "AuthorizationServiceMismatch"
                        | "AuthorizationSourceIPMismatch"
                        | "AuthorizationProtocolMismatch",
                        _,
                    )
                    | (_, 403) => Error::PermissionDenied {
                        store,
                        permission: permission.to_string(),
                    },
                    ("ServerBusy" | "OperationTimedOut" | "InternalError", _) => Error::Store {
                        store,
                        detail: format!("{permission} answered {code} ({status})"),
                        transient: true,
                    },
                    (_, 404) => Error::NotFound { what },
                    (_, s) if s >= 500 || s == 429 || s == 408 => Error::Store {
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
            ErrorKind::Io | ErrorKind::Connection => Error::StoreUnreachable {
                store,
                detail: "the connection failed, timed out or was reset".into(),
            },
            ErrorKind::Credential => Error::CredentialsInvalid { store },
            _ => Error::Store {
                store,
                // Only the kind: the SDK's message may repeat a URL carrying a SAS.
                detail: format!("{permission} failed ({})", e.kind()),
                transient: false,
            },
        }
    }

    fn metadata(md: &ObjectMetadata) -> HashMap<String, String> {
        md.to_map().into_iter().collect()
    }

    async fn single_put(
        &self,
        key: &str,
        data: Bytes,
        md: &ObjectMetadata,
        opts: &PutOptions,
    ) -> Result<(Option<String>, Option<String>)> {
        let tier = opts.tier.map(access_tier).transpose()?;
        let blob = self.blob(key)?;
        retry::run(&self.cfg.retry, &self.store(), "PutBlob", || async {
            let o = BlockBlobClientUploadOptions {
                metadata: Some(Self::metadata(md)),
                if_none_match: opts.if_not_exists.then(|| Etag::from("*")),
                tier: tier.clone(),
                ..Default::default()
            };
            let content: RequestContent<Bytes, NoFormat> = data.clone().into();
            let r = blob
                .block_blob_client()
                .upload(content, Some(o))
                .await
                .map_err(|e| self.map(e, "write (w)", Some(key)))?;
            Ok((r.etag.map(|e| e.to_string()), r.version_id))
        })
        .await
    }

    async fn uncommitted_blocks(&self, blob: &BlobClient) -> Result<BTreeMap<Vec<u8>, u64>> {
        let list = retry::run(&self.cfg.retry, &self.store(), "GetBlockList", || async {
            blob.block_blob_client()
                .get_block_list(BlockListType::Uncommitted, None)
                .await
                .map_err(|e| self.map(e, "read (r)", None))?
                .into_model()
                .map_err(|e| self.map(e, "read (r)", None))
        })
        .await?;
        Ok(list
            .uncommitted_blocks
            .unwrap_or_default()
            .into_iter()
            .filter_map(|b| Some((b.name?, b.size.unwrap_or(0).max(0) as u64)))
            .collect())
    }

    #[allow(clippy::too_many_arguments)]
    async fn put_blocks(
        &self,
        key: &str,
        source: &Path,
        size: u64,
        sha: &str,
        md: &ObjectMetadata,
        opts: &PutOptions,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<PutOutcome> {
        let dest = self.describe();
        let b64 = &base64::engine::general_purpose::STANDARD;
        let (part_size, nparts) = plan_parts(size, opts.part_size.unwrap_or(self.cfg.part_size));
        let blob = self.blob(key)?;
        let own_journal;
        let journal: &dyn UploadJournal = match &opts.journal {
            Some(j) => j.as_ref(),
            None => {
                own_journal = MemoryJournal::new();
                &own_journal
            }
        };
        let mut done: BTreeMap<u32, PartDone> = BTreeMap::new();
        let mut upload = None;
        if let Some(rec) = journal.find(&dest, key)? {
            if rec.matches(&dest, key, source, size, sha) && rec.part_size == part_size {
                let server = self.uncommitted_blocks(&blob).await?;
                for p in rec.parts_done {
                    let id = b64.decode(&p.etag).unwrap_or_default();
                    if server.get(&id) == Some(&p.size) {
                        done.insert(p.part, p);
                    }
                }
                tracing::info!(key, blocks = done.len(), "continuing an interrupted upload");
                upload = Some(rec.upload_id);
            } else {
                journal.finish(&dest, key)?;
            }
        }
        let upload = match upload {
            Some(u) => u,
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
                let u = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
                journal.start(&UploadRecord {
                    destination: dest.clone(),
                    key: key.to_string(),
                    source: source.to_path_buf(),
                    total_size: size,
                    part_size,
                    sha256: sha.to_string(),
                    upload_id: u.clone(),
                    parts_done: vec![],
                    started: time::OffsetDateTime::now_utc()
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                })?;
                u
            }
        };
        let parts_resumed = done.len() as u32;
        let confirmed = AtomicU64::new(done.values().map(|p| p.size).sum());
        let sent = AtomicU64::new(0);
        progress.stage("upload", confirmed.load(Ordering::SeqCst), Some(size));
        let todo: Vec<u32> = (1..=nparts).filter(|n| !done.contains_key(n)).collect();
        let results: Vec<Result<Option<PartDone>>> = futures::stream::iter(todo)
            .map(|part| {
                let (blob, upload, confirmed, sent, dest) =
                    (&blob, &upload, &confirmed, &sent, &dest);
                async move {
                    if cancel.is_cancelled() {
                        return Ok(None);
                    }
                    let offset = (part as u64 - 1) * part_size;
                    let len = part_size.min(size - offset);
                    let body = read_part(source, offset, len).await?;
                    let id = block_id(upload, part);
                    retry::run(&self.cfg.retry, &self.store(), "PutBlock", || {
                        let (bb, id, body, this) = (
                            blob.block_blob_client(),
                            id.clone(),
                            body.clone(),
                            self.clone(),
                        );
                        let key = key.to_string();
                        async move {
                            tokio::spawn(async move {
                                bb.stage_block(&id, len, body.into(), None)
                                    .await
                                    .map(|_| ())
                                    .map_err(|e| this.map(e, "write (w)", Some(&key)))
                            })
                            .await
                            .map_err(|e| Error::Internal(format!("upload task failed: {e}")))?
                        }
                    })
                    .await?;
                    let pd = PartDone {
                        part,
                        etag: b64.encode(&id),
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
        if let Some(e) =
            first_err.or_else(|| (done.len() as u32 != nparts).then_some(Error::Cancelled))
        {
            // Uncommitted blocks are discarded by Azure after 7 days; nothing to abort.
            return Err(e);
        }
        let ids: Vec<Vec<u8>> = done.keys().map(|p| block_id(&upload, *p)).collect();
        let tier = opts.tier.map(access_tier).transpose()?;
        let committed = retry::run(&self.cfg.retry, &self.store(), "PutBlockList", || async {
            let list = BlockLookupList {
                latest: Some(ids.clone()),
                ..Default::default()
            };
            let o = BlockBlobClientCommitBlockListOptions {
                metadata: Some(Self::metadata(md)),
                if_none_match: opts.if_not_exists.then(|| Etag::from("*")),
                tier: tier.clone(),
                ..Default::default()
            };
            let content: RequestContent<BlockLookupList, azure_core::http::XmlFormat> = list
                .try_into()
                .map_err(|e: azure_core::Error| Error::Internal(format!("block list: {e}")))?;
            let r = blob
                .block_blob_client()
                .commit_block_list(content, Some(o))
                .await
                .map_err(|e| self.map(e, "write (w)", Some(key)))?;
            Ok(r.headers()
                .get_optional_string(&azure_core::http::headers::ETAG))
        })
        .await;
        let etag = match committed {
            Ok(e) => e,
            Err(e) => {
                if matches!(e, Error::AlreadyExists { .. }) {
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
            etag,
            version_id: None,
            parts_sent: nparts - parts_resumed,
            bytes_sent: sent.load(Ordering::SeqCst),
            parts_resumed,
        })
    }
}

#[async_trait]
impl ObjectStore for AzureStore {
    fn provider(&self) -> &'static str {
        "Azure Blob"
    }

    fn describe(&self) -> String {
        let mut u = self.container_url.clone();
        u.set_query(None);
        format!("azure:{u}")
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
        let sha = file_sha256(source).await?;
        let md = metadata_with_sha(opts, &sha)?;
        let limit = opts.part_size.unwrap_or(self.cfg.single_put_limit);
        if size <= limit {
            let data = read_part(source, 0, size).await?;
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
        self.put_blocks(key, source, size, &sha, &md, opts, progress, cancel)
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
        let info = self.head(key).await?;
        if info.tier == Some(Tier::Archive) {
            return Err(Error::ObjectArchived {
                store: self.store(),
                key: key.to_string(),
            });
        }
        let (start, end) = match &opts.range {
            Some(r) => (r.start.min(info.size), r.end.min(info.size)),
            None => (0, info.size),
        };
        let blob = self.blob(key)?;
        let mut w = HashingWriter::new(out);
        let mut pos = start;
        let mut failures = 0u32;
        while pos < end {
            let resp = retry::run(&self.cfg.retry, &self.store(), "GetBlob", || async {
                let o = BlobClientDownloadOptions {
                    range: Some(HttpRange::new(pos, end - pos)),
                    parallel: std::num::NonZero::new(1),
                    partition_size: std::num::NonZero::new(
                        (end - pos).min(usize::MAX as u64) as usize
                    ),
                    ..Default::default()
                };
                blob.download(Some(o))
                    .await
                    .map_err(|e| self.map(e, "read (r)", Some(key)))
            })
            .await?;
            let mut body = resp.body;
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
                            return Err(self.map(e, "read (r)", Some(key)));
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
        self.need_credentials()?;
        let blob = self.blob(key)?;
        let r = retry::run(
            &self.cfg.retry,
            &self.store(),
            "GetBlobProperties",
            || async {
                blob.get_properties(None)
                    .await
                    .map_err(|e| self.map(e, "read (r)", Some(key)))
            },
        )
        .await?;
        let conv = |e: azure_core::Error| self.map(e, "read (r)", Some(key));
        let mut info = ObjectInfo::new(key, r.content_length().map_err(conv)?.unwrap_or(0));
        info.etag = r.etag().map_err(conv)?.map(|e| e.to_string());
        info.last_modified = rfc3339(r.last_modified().map_err(conv)?);
        info.tier = r.access_tier().map_err(conv)?.as_deref().and_then(tier_of);
        info.version_id = r.version_id().map_err(conv)?;
        info.legal_hold = r.legal_hold().map_err(conv)?;
        let md = r.metadata().map_err(conv)?;
        info.metadata = ObjectMetadata::from_map(md.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(info)
    }

    async fn list_page(&self, prefix: &str, next: Option<String>, max: usize) -> Result<ListPage> {
        validate_prefix(prefix)?;
        self.need_credentials()?;
        let page = retry::run(&self.cfg.retry, &self.store(), "ListBlobs", || async {
            let o = BlobContainerClientListBlobsOptions {
                prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
                marker: next.clone(),
                maxresults: Some(max.clamp(1, 1000) as i32),
                include: Some(vec![ListBlobsIncludeItem::Metadata]),
                ..Default::default()
            };
            let pager = self
                .container
                .list_blobs(Some(o))
                .map_err(|e| self.map(e, "list (l)", None))?;
            let mut pages = pager.into_pages();
            match pages.next().await {
                Some(p) => p
                    .map_err(|e| self.map(e, "list (l)", None))?
                    .into_model()
                    .map_err(|e| self.map(e, "list (l)", None)),
                None => Err(Error::Store {
                    store: self.store(),
                    detail: "the listing returned no page".into(),
                    transient: true,
                }),
            }
        })
        .await?;
        let objects = page
            .blob_items
            .iter()
            .filter_map(|b| {
                let name = b.name.clone()?;
                let props = b.properties.as_ref();
                let mut i =
                    ObjectInfo::new(&name, props.and_then(|p| p.content_length).unwrap_or(0));
                i.etag = props.and_then(|p| p.etag.as_ref()).map(|e| e.to_string());
                i.last_modified = rfc3339(props.and_then(|p| p.last_modified));
                i.tier = props
                    .and_then(|p| p.access_tier.as_ref())
                    .and_then(|t| tier_of(t.as_ref()));
                if let Some(values) = b.metadata.as_ref().and_then(|m| m.values.as_ref()) {
                    i.metadata = ObjectMetadata::from_map(
                        values.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    );
                }
                Some(i)
            })
            .collect();
        Ok(ListPage {
            objects,
            next: page.next_marker.filter(|m| !m.is_empty()),
        })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        self.need_credentials()?;
        let blob = self.blob(key)?;
        let r = retry::run(&self.cfg.retry, &self.store(), "DeleteBlob", || async {
            blob.delete(None)
                .await
                .map(|_| ())
                .map_err(|e| self.map(e, "delete (d)", Some(key)))
        })
        .await;
        match r {
            Err(Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    async fn set_tier(&self, key: &str, tier: Tier) -> Result<()> {
        validate_key(key)?;
        self.need_credentials()?;
        let t = access_tier(tier)?;
        let blob = self.blob(key)?;
        retry::run(&self.cfg.retry, &self.store(), "SetBlobTier", || async {
            blob.set_tier(t.clone(), None)
                .await
                .map(|_| ())
                .map_err(|e| self.map(e, "write (w)", Some(key)))
        })
        .await
    }

    /// Rehydrates in place by moving the blob back to the Hot tier (Azure's "set tier" rehydration).
    async fn request_restore(
        &self,
        key: &str,
        _days: u32,
        speed: RestoreSpeed,
    ) -> Result<RestoreStatus> {
        validate_key(key)?;
        self.need_credentials()?;
        match self.restore_status(key).await? {
            RestoreStatus::Archived => {}
            other => return Ok(other),
        }
        let blob = self.blob(key)?;
        let priority = match speed {
            RestoreSpeed::Expedited => RehydratePriority::High,
            _ => RehydratePriority::Standard,
        };
        retry::run(&self.cfg.retry, &self.store(), "SetBlobTier", || async {
            let o = BlobClientSetTierOptions {
                rehydrate_priority: Some(priority.clone()),
                ..Default::default()
            };
            blob.set_tier(AccessTier::Hot, Some(o))
                .await
                .map(|_| ())
                .map_err(|e| self.map(e, "write (w)", Some(key)))
        })
        .await?;
        self.restore_status(key).await
    }

    async fn restore_status(&self, key: &str) -> Result<RestoreStatus> {
        validate_key(key)?;
        self.need_credentials()?;
        let blob = self.blob(key)?;
        let r = retry::run(
            &self.cfg.retry,
            &self.store(),
            "GetBlobProperties",
            || async {
                blob.get_properties(None)
                    .await
                    .map_err(|e| self.map(e, "read (r)", Some(key)))
            },
        )
        .await?;
        let conv = |e: azure_core::Error| self.map(e, "read (r)", Some(key));
        let pending = r.archive_status().map_err(conv)?;
        let tier = r.access_tier().map_err(conv)?.as_deref().and_then(tier_of);
        Ok(match (tier, pending) {
            (
                _,
                Some(
                    ArchiveStatus::RehydratePendingToHot
                    | ArchiveStatus::RehydratePendingToCool
                    | ArchiveStatus::RehydratePendingToCold,
                ),
            ) => RestoreStatus::InProgress,
            (Some(Tier::Archive), _) => RestoreStatus::Archived,
            _ => RestoreStatus::NotArchived,
        })
    }

    /// Azure keeps no upload to abort: uncommitted blocks cannot be deleted one by one and the
    /// service discards them by itself 7 days after they were staged. Nothing is left to clean.
    async fn abort_abandoned_uploads(&self, _older_than: Duration) -> Result<u64> {
        self.need_credentials()?;
        tracing::debug!(store = %self.describe(), "uncommitted blocks expire by themselves after 7 days");
        Ok(0)
    }

    async fn prepare(&self, opts: &PrepareOptions) -> Result<PrepareReport> {
        self.need_credentials()?;
        let mut r = PrepareReport {
            store: self.describe(),
            ..Default::default()
        };
        match self.container.create(None).await {
            Ok(_) => r.step(
                format!("private container {} created", self.cfg.container),
                "set",
            ),
            Err(e) => match self.map(e, "create container (c)", None) {
                Error::AlreadyExists { .. } => {
                    r.step(format!("container {}", self.cfg.container), "already")
                }
                Error::Store { detail, .. } if detail.contains("ContainerAlreadyExists") => {
                    r.step(format!("container {}", self.cfg.container), "already")
                }
                other => return Err(other),
            },
        }
        r.step("blob versioning, soft delete and lifecycle (account settings: apply the management policy below)", "unsupported");
        if opts.legal_holds {
            r.step("legal holds on blobs (version-level immutability is not offered by this provider; holds are kept in the registry)", "unsupported");
        }
        let mut base_blob = serde_json::Map::new();
        if let Some(days) = opts.archive_after_days {
            base_blob.insert(
                "tierToArchive".into(),
                serde_json::json!({ "daysAfterModificationGreaterThan": days }),
            );
        }
        if let Some(days) = opts.retention_days {
            base_blob.insert(
                "delete".into(),
                serde_json::json!({ "daysAfterModificationGreaterThan": days }),
            );
        }
        let container = &self.cfg.container;
        let mut rules = vec![serde_json::json!({
            "enabled": true,
            "name": format!("strongroom-{container}-versions"),
            "type": "Lifecycle",
            "definition": {
                "filters": { "blobTypes": ["blockBlob"], "prefixMatch": [format!("{container}/")] },
                "actions": {
                    "version": { "delete": { "daysAfterCreationGreaterThan": opts.noncurrent_expire_days.max(1) } }
                }
            }
        })];
        if !base_blob.is_empty() {
            // Only the backups: the recovery files beside them must never expire.
            rules.push(serde_json::json!({
                "enabled": true,
                "name": format!("strongroom-{container}-retention"),
                "type": "Lifecycle",
                "definition": {
                    "filters": {
                        "blobTypes": ["blockBlob"],
                        "prefixMatch": [format!("{container}/{}", opts.lifecycle_prefix)]
                    },
                    "actions": { "baseBlob": base_blob }
                }
            }));
        }
        if let Some(days) = opts.archive_copies_days {
            rules.push(serde_json::json!({
                "enabled": true,
                "name": format!("strongroom-{container}-archive-copies"),
                "type": "Lifecycle",
                "definition": {
                    "filters": {
                        "blobTypes": ["blockBlob"],
                        "prefixMatch": [format!("{container}/{}", super::ARCHIVE_PREFIX)]
                    },
                    "actions": { "baseBlob": { "delete": { "daysAfterCreationGreaterThan": days } } }
                }
            }));
        }
        let policy = serde_json::json!({ "rules": rules });
        r.management_policy = Some(policy);
        Ok(r)
    }

    async fn test(&self) -> Result<TestReport> {
        let mut r = TestReport::new(self.describe());
        if !r.check("credentials", &self.need_credentials()) {
            return Ok(r);
        }
        let quick = RetryPolicy {
            max_attempts: 2,
            attempt_timeout: Duration::from_secs(20),
            ..self.cfg.retry.clone()
        };
        let list = retry::run(&quick, &self.store(), "ListBlobs", || async {
            let o = BlobContainerClientListBlobsOptions {
                maxresults: Some(1),
                ..Default::default()
            };
            let pager = self
                .container
                .list_blobs(Some(o))
                .map_err(|e| self.map(e, "list (l)", None))?;
            match pager.into_pages().next().await {
                Some(p) => p.map(|_| ()).map_err(|e| self.map(e, "list (l)", None)),
                None => Ok(()),
            }
        })
        .await;
        if !r.check("reach the container and list it (list, l)", &list) {
            return Ok(r);
        }
        let probe = format!("strongroom-probe/{}", uuid::Uuid::new_v4());
        let blob = self.blob(&probe)?;
        let put = blob
            .block_blob_client()
            .upload(
                Bytes::from_static(b"strongroom connection test").into(),
                None,
            )
            .await
            .map_err(|e| self.map(e, "write (w)", Some(&probe)));
        if !r.check("write (w)", &put) {
            return Ok(r);
        }
        let get = blob
            .get_properties(None)
            .await
            .map_err(|e| self.map(e, "read (r)", Some(&probe)));
        r.check("read (r)", &get);
        let del = blob
            .delete(None)
            .await
            .map_err(|e| self.map(e, "delete (d)", Some(&probe)));
        r.check("delete (d)", &del);
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_urls() {
        let e = AzureStore::new(AzureStoreConfig::new(
            "http://blob.example.org/acct",
            "acct",
            "c",
            AzureAuth::Missing,
        ))
        .unwrap_err();
        assert_eq!(e.code(), "insecure_endpoint");
        let s = AzureStore::new(AzureStoreConfig::new(
            "http://127.0.0.1:10000/devstoreaccount1/",
            "devstoreaccount1",
            "backups",
            AzureAuth::Sas(Sensitive::new("?sv=1&sig=canary".into())),
        ))
        .unwrap();
        assert_eq!(
            s.describe(),
            "azure:http://127.0.0.1:10000/devstoreaccount1/backups"
        );
        let url = AzureStore::url_for(&s.cfg, &["a", "b c"]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:10000/devstoreaccount1/backups/a/b%20c?sv=1&sig=canary"
        );
        assert!(!format!("{s:?}").contains("canary"));
        assert_eq!(s.need_credentials().map(|_| ()).ok(), Some(()));
    }

    #[test]
    fn tiers_map_both_ways() {
        for t in [Tier::Hot, Tier::Cool, Tier::Cold, Tier::Archive] {
            let a = access_tier(t).unwrap();
            assert_eq!(tier_of(a.as_ref()), Some(t));
        }
        assert_eq!(
            access_tier(Tier::DeepArchive).unwrap_err().code(),
            "unsupported"
        );
    }

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let t = tempfile::tempdir().unwrap();
        let home = crate::paths::Home::at(t.path());
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::load_with_env(&home, &|k| map.get(k).cloned()).unwrap()
    }

    const ENTRA: [(&str, &str); 6] = [
        ("BACKUP_CLOUD_STORAGE_ENABLED", "true"),
        ("BACKUP_CLOUD_PROVIDER", "azure"),
        ("AZURE_STORAGE_ACCOUNT_NAME", "agencystore"),
        ("AZURE_BACKUP_CONTAINER", "backups"),
        ("AZURE_DOCUMENTS_CONTAINER", "documents"),
        ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
    ];

    #[test]
    fn entra_id_with_a_client_secret_is_a_service_principal() {
        let mut env = ENTRA.to_vec();
        env.push(("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000002"));
        env.push(("AZURE_CLIENT_SECRET", "canary-entra-secret"));
        let s = settings(&env);
        assert_eq!(s.azure.credential_source(), AzureCredentials::EntraId);
        let cfg = AzureStoreConfig::from_settings(&s, &Keyring::for_station("unused")).unwrap();
        let AzureAuth::EntraId(cred) = &cfg.auth else {
            panic!("not Entra ID: {:?}", cfg.auth);
        };
        assert!(
            format!("{cred:?}").contains("ClientSecretCredential"),
            "{cred:?}"
        );
        assert_eq!(cfg.endpoint, "https://agencystore.blob.core.windows.net");
        let store = AzureStore::new(AzureStoreConfig {
            container: "backups".into(),
            ..cfg
        })
        .unwrap();
        assert!(store.need_credentials().is_ok());
        assert!(!format!("{store:?}").contains("canary"));
    }

    #[test]
    fn entra_id_without_a_secret_is_the_managed_identity_and_needs_https() {
        let mut env = ENTRA.to_vec();
        env.push(("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000002"));
        env.push((
            "AZURE_STORAGE_BLOB_ENDPOINT",
            "http://127.0.0.1:10000/agencystore",
        ));
        let s = settings(&env);
        let cfg = AzureStoreConfig::from_settings(&s, &Keyring::for_station("unused")).unwrap();
        let AzureAuth::EntraId(cred) = &cfg.auth else {
            panic!("not Entra ID: {:?}", cfg.auth);
        };
        assert!(
            format!("{cred:?}").contains("ManagedIdentityCredential"),
            "{cred:?}"
        );
        let e = AzureStore::new(cfg).unwrap_err();
        assert_eq!(e.code(), "config_invalid");
        assert!(e.to_string().contains("https"), "{e}");
    }

    #[test]
    fn a_tenant_alone_does_not_switch_to_entra_id() {
        let s = settings(&ENTRA);
        assert_eq!(s.azure.credential_source(), AzureCredentials::SharedKey);
        let cfg = AzureStoreConfig::from_settings(&s, &Keyring::for_station("unused")).unwrap();
        assert!(matches!(cfg.auth, AzureAuth::Missing), "{:?}", cfg.auth);
    }

    #[test]
    fn block_ids_have_one_length() {
        assert_eq!(block_id("abcd", 1).len(), block_id("abcd", 9999).len());
    }
}
