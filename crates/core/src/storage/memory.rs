//! An object store in memory, for tests. Same key rules and semantics as the others; holds,
//! tiers and restores are `Unsupported`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use super::key::{validate_key, validate_prefix};
use super::verify::{expected_sha, HashingWriter};
use super::{
    bytes_sha256, metadata_with_sha, GetOptions, ListPage, ObjectInfo, ObjectMetadata, ObjectStore,
    PrepareOptions, PrepareReport, PutOptions, PutOutcome, TestReport,
};
use crate::progress::{Cancel, Progress};
use crate::{Error, Result};

#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, (Bytes, ObjectMetadata)>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (Bytes, ObjectMetadata)>> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces an object's bytes without touching its metadata (tests of hash checks).
    pub fn tamper(&self, key: &str, data: Bytes) -> Result<()> {
        let mut objects = self.lock();
        let entry = objects.get_mut(key).ok_or_else(|| Error::NotFound {
            what: key.to_string(),
        })?;
        entry.0 = data;
        Ok(())
    }

    fn insert(&self, key: &str, data: Bytes, opts: &PutOptions) -> Result<PutOutcome> {
        validate_key(key)?;
        let sha = bytes_sha256(&data);
        let md = metadata_with_sha(opts, &sha)?;
        let mut objects = self.lock();
        if opts.if_not_exists && objects.contains_key(key) {
            return Err(Error::AlreadyExists {
                what: format!("{key} in memory"),
            });
        }
        let size = data.len() as u64;
        objects.insert(key.to_string(), (data, md));
        Ok(PutOutcome {
            key: key.to_string(),
            size,
            sha256: sha,
            etag: None,
            version_id: None,
            parts_sent: 0,
            bytes_sent: size,
            parts_resumed: 0,
        })
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    fn provider(&self) -> &'static str {
        "memory"
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    async fn put_file(
        &self,
        key: &str,
        source: &Path,
        opts: &PutOptions,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<PutOutcome> {
        cancel.check()?;
        let data = tokio::fs::read(source)
            .await
            .map_err(|e| Error::io("read", source, e))?;
        let out = self.insert(key, Bytes::from(data), opts)?;
        progress.stage("upload", out.size, Some(out.size));
        Ok(out)
    }

    async fn put_bytes(&self, key: &str, data: Bytes, opts: &PutOptions) -> Result<PutOutcome> {
        self.insert(key, data, opts)
    }

    async fn get_to(
        &self,
        key: &str,
        opts: &GetOptions,
        out: &mut (dyn Write + Send),
        progress: &dyn Progress,
    ) -> Result<ObjectInfo> {
        validate_key(key)?;
        let (data, md) = self
            .lock()
            .get(key)
            .cloned()
            .ok_or_else(|| Error::NotFound {
                what: format!("{key} in memory"),
            })?;
        let slice = match &opts.range {
            Some(r) => {
                let start = r.start.min(data.len() as u64) as usize;
                let end = r.end.min(data.len() as u64) as usize;
                data.slice(start..end.max(start))
            }
            None => data.clone(),
        };
        let mut w = HashingWriter::new(out);
        w.write_chunk(&slice)?;
        progress.stage("download", slice.len() as u64, Some(slice.len() as u64));
        w.finish("memory", key, expected_sha(opts, md.sha256.as_deref()))?;
        let mut info = ObjectInfo::new(key, data.len() as u64);
        info.metadata = md;
        Ok(info)
    }

    async fn head(&self, key: &str) -> Result<ObjectInfo> {
        validate_key(key)?;
        let objects = self.lock();
        let (data, md) = objects.get(key).ok_or_else(|| Error::NotFound {
            what: format!("{key} in memory"),
        })?;
        let mut info = ObjectInfo::new(key, data.len() as u64);
        info.metadata = md.clone();
        Ok(info)
    }

    async fn list_page(&self, prefix: &str, next: Option<String>, max: usize) -> Result<ListPage> {
        validate_prefix(prefix)?;
        let max = max.clamp(1, 1000);
        let objects = self.lock();
        let mut page: Vec<ObjectInfo> = objects
            .range(next.clone().unwrap_or_else(|| prefix.to_string())..)
            .filter(|(k, _)| next.as_deref() != Some(k.as_str()))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(max + 1)
            .map(|(k, (d, md))| {
                let mut i = ObjectInfo::new(k, d.len() as u64);
                i.metadata = md.clone();
                i
            })
            .collect();
        let next = if page.len() > max {
            page.truncate(max);
            page.last().map(|i| i.key.clone())
        } else {
            None
        };
        Ok(ListPage {
            objects: page,
            next,
        })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        self.lock().remove(key);
        Ok(())
    }

    async fn prepare(&self, _opts: &PrepareOptions) -> Result<PrepareReport> {
        let mut r = PrepareReport {
            store: self.describe(),
            ..Default::default()
        };
        r.step("store in memory (nothing to set)", "already");
        Ok(r)
    }

    async fn test(&self) -> Result<TestReport> {
        let mut r = TestReport::new(self.describe());
        r.check::<()>("reachable", &Ok(()));
        Ok(r)
    }
}
