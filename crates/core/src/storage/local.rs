//! A folder on this computer (or a mounted drive) as an object store: the embedded default.
//!
//! Object `a/b` is the file `<root>/a/b`; its metadata is `<root>/.strongroom/meta/a/b.json`.
//! Writes go to `<root>/.strongroom/tmp`, are fsynced, then renamed (or hard-linked, which fails
//! when the key exists, for a conditional create) into place, so a reader never sees half a file.
//! No path outside the root is ever written: keys are validated and no symlink is followed.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::key::{validate_key, validate_prefix, RESERVED_PREFIX};
use super::verify::{expected_sha, HashingWriter};
use super::{
    file_sha256, metadata_with_sha, GetOptions, ListPage, ObjectInfo, ObjectMetadata, ObjectStore,
    PrepareOptions, PrepareReport, PutOptions, PutOutcome, TestReport,
};
use crate::progress::{Cancel, Progress};
use crate::{Error, Result};

const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store rooted at `root`; the folder is made by the first write or by `prepare`.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn store_name(&self) -> String {
        format!("the local folder {}", self.root.display())
    }

    fn ensure_root(&self) -> Result<()> {
        fs::create_dir_all(self.tmp_dir()).map_err(|e| Error::io("created", self.tmp_dir(), e))?;
        Ok(())
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(RESERVED_PREFIX).join("tmp")
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.root
            .join(RESERVED_PREFIX)
            .join("meta")
            .join(format!("{key}.json"))
    }

    /// The file of `key`, after checking that no folder on the way (below the root) is a symlink.
    /// With `create`, missing folders are made.
    fn object_path(&self, key: &str, create: bool) -> Result<PathBuf> {
        validate_key(key)?;
        let mut dir = self.root.clone();
        let segments: Vec<&str> = key.split('/').collect();
        let (file, folders) = segments.split_last().expect("validated key has a segment");
        for seg in folders {
            dir.push(seg);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_symlink() => return Err(self.escape(key)),
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(Error::Store {
                        store: self.store_name(),
                        detail: format!(
                            "{} is a file, so {key} cannot be stored under it",
                            dir.display()
                        ),
                        transient: false,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    match fs::create_dir(&dir) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            if fs::symlink_metadata(&dir)
                                .map(|m| m.file_type().is_symlink())
                                .unwrap_or(true)
                            {
                                return Err(self.escape(key));
                            }
                        }
                        Err(e) => return Err(Error::io("created", &dir, e)),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::NotFound {
                        what: format!("{key} in {}", self.store_name()),
                    })
                }
                Err(e) => return Err(Error::io("read", &dir, e)),
            }
        }
        let path = dir.join(file);
        if let Ok(m) = fs::symlink_metadata(&path) {
            if m.file_type().is_symlink() {
                return Err(self.escape(key));
            }
        }
        Ok(path)
    }

    fn escape(&self, key: &str) -> Error {
        Error::Invalid {
            code: "object_key_invalid",
            field: "key",
            message: format!(
                "the object key {key:?} leads through a symbolic link in {}; remove the link",
                self.root.display()
            ),
        }
    }

    fn not_found(&self, key: &str) -> Error {
        Error::NotFound {
            what: format!("{key} in {}", self.store_name()),
        }
    }

    /// Writes `fill`'s output to a temp file, fsyncs it, and publishes it under `key`.
    fn publish(
        &self,
        key: &str,
        opts: &PutOptions,
        md: &ObjectMetadata,
        fill: impl FnOnce(&mut File) -> Result<u64>,
    ) -> Result<u64> {
        self.ensure_root()?;
        let path = self.object_path(key, true)?;
        let tmp_dir = self.tmp_dir();
        let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir)
            .map_err(|e| Error::io("created", &tmp_dir, e))?;
        let size = fill(tmp.as_file_mut())?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io("written", tmp.path(), e))?;
        if opts.if_not_exists {
            match fs::hard_link(tmp.path(), &path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(Error::AlreadyExists {
                        what: format!("{key} in {}", self.store_name()),
                    })
                }
                Err(_) => {
                    // Filesystems without hard links (FAT, exFAT): O_EXCL create, then copy.
                    let mut out = OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                        .map_err(|e| match e.kind() {
                            std::io::ErrorKind::AlreadyExists => Error::AlreadyExists {
                                what: format!("{key} in {}", self.store_name()),
                            },
                            _ => Error::io("created", &path, e),
                        })?;
                    let mut src = tmp.reopen().map_err(|e| Error::io("read", tmp.path(), e))?;
                    std::io::copy(&mut src, &mut out)
                        .and_then(|_| out.sync_all())
                        .map_err(|e| Error::io("written", &path, e))?;
                }
            }
        } else {
            tmp.persist(&path)
                .map_err(|e| Error::io("written", &path, e.error))?;
        }
        sync_dir(path.parent().unwrap_or(&self.root));
        self.write_meta(key, md)?;
        Ok(size)
    }

    fn write_meta(&self, key: &str, md: &ObjectMetadata) -> Result<()> {
        let path = self.meta_path(key);
        let dir = path.parent().expect("meta path has a parent");
        fs::create_dir_all(dir).map_err(|e| Error::io("created", dir, e))?;
        let json = serde_json::to_vec(md).map_err(|e| Error::Internal(e.to_string()))?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io("created", dir, e))?;
        tmp.write_all(&json)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| Error::io("written", tmp.path(), e))?;
        tmp.persist(&path)
            .map_err(|e| Error::io("written", &path, e.error))?;
        Ok(())
    }

    fn read_meta(&self, key: &str) -> ObjectMetadata {
        fs::read(self.meta_path(key))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn info(&self, key: &str, path: &Path) -> Result<ObjectInfo> {
        let m = match fs::symlink_metadata(path) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Err(self.not_found(key)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(self.not_found(key)),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let mut info = ObjectInfo::new(key, m.len());
        info.metadata = self.read_meta(key);
        info.last_modified = m.modified().ok().and_then(|t| {
            time::OffsetDateTime::from(t)
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
        Ok(info)
    }

    fn walk(&self, dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("read", dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", dir, e))?;
            let name = match entry.file_name().into_string() {
                Ok(n) => n,
                Err(_) => continue,
            };
            if rel.is_empty() && name == RESERVED_PREFIX {
                continue;
            }
            let key = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let ft = entry
                .file_type()
                .map_err(|e| Error::io("read", entry.path(), e))?;
            if ft.is_dir() {
                self.walk(&entry.path(), &key, out)?;
            } else if ft.is_file() && validate_key(&key).is_ok() {
                out.push(key);
            }
        }
        Ok(())
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("file task failed: {e}")))?
}

#[async_trait]
impl ObjectStore for LocalStore {
    fn provider(&self) -> &'static str {
        "local folder"
    }

    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
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
        cancel.check()?;
        let sha = file_sha256(source).await?;
        let md = metadata_with_sha(opts, &sha)?;
        let store = self.clone();
        let (key_owned, source_owned, opts_owned) =
            (key.to_string(), source.to_path_buf(), opts.clone());
        let cancel = cancel.clone();
        // Progress is reported from this task after the copy: the blocking copy cannot borrow it.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, u64)>();
        let job = tokio::task::spawn_blocking(move || {
            let mut src =
                File::open(&source_owned).map_err(|e| Error::io("opened", &source_owned, e))?;
            let total = src.metadata().map(|m| m.len()).unwrap_or(0);
            store.publish(&key_owned, &opts_owned, &md, |out| {
                let mut buf = vec![0u8; CHUNK];
                let mut done = 0u64;
                loop {
                    cancel.check()?;
                    let n = src
                        .read(&mut buf)
                        .map_err(|e| Error::io("read", &source_owned, e))?;
                    if n == 0 {
                        break;
                    }
                    out.write_all(&buf[..n])
                        .map_err(|e| Error::io("written", "a temporary file", e))?;
                    done += n as u64;
                    let _ = tx.send((done, total));
                }
                Ok(done)
            })
        });
        let mut last = 0u64;
        while let Some((done, total)) = rx.recv().await {
            if done - last >= 8 * CHUNK as u64 || done == total {
                progress.stage("upload", done, Some(total));
                last = done;
            }
        }
        let size = job
            .await
            .map_err(|e| Error::Internal(format!("file task failed: {e}")))??;
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

    async fn put_bytes(&self, key: &str, data: Bytes, opts: &PutOptions) -> Result<PutOutcome> {
        validate_key(key)?;
        let sha = super::bytes_sha256(&data);
        let md = metadata_with_sha(opts, &sha)?;
        let store = self.clone();
        let (key_owned, opts_owned) = (key.to_string(), opts.clone());
        let size = data.len() as u64;
        blocking(move || {
            store.publish(&key_owned, &opts_owned, &md, |out| {
                out.write_all(&data)
                    .map_err(|e| Error::io("written", "a temporary file", e))?;
                Ok(data.len() as u64)
            })
        })
        .await?;
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

    async fn get_to(
        &self,
        key: &str,
        opts: &GetOptions,
        out: &mut (dyn Write + Send),
        progress: &dyn Progress,
    ) -> Result<ObjectInfo> {
        let path = self.object_path(key, false)?;
        let info = self.info(key, &path)?;
        let mut f = File::open(&path).map_err(|e| Error::io("opened", &path, e))?;
        let (start, end) = match &opts.range {
            Some(r) => (
                r.start.min(info.size),
                r.end.min(info.size).max(r.start.min(info.size)),
            ),
            None => (0, info.size),
        };
        f.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io("read", &path, e))?;
        let mut left = end - start;
        let mut w = HashingWriter::new(out);
        let mut buf = vec![0u8; CHUNK];
        while left > 0 {
            let want = left.min(CHUNK as u64) as usize;
            let n = f
                .read(&mut buf[..want])
                .map_err(|e| Error::io("read", &path, e))?;
            if n == 0 {
                break;
            }
            w.write_chunk(&buf[..n])?;
            left -= n as u64;
            progress.stage("download", w.written, Some(end - start));
        }
        w.finish(
            &self.store_name(),
            key,
            expected_sha(opts, info.metadata.sha256.as_deref()),
        )?;
        Ok(info)
    }

    async fn head(&self, key: &str) -> Result<ObjectInfo> {
        let path = self.object_path(key, false)?;
        self.info(key, &path)
    }

    async fn list_page(&self, prefix: &str, next: Option<String>, max: usize) -> Result<ListPage> {
        validate_prefix(prefix)?;
        let max = max.clamp(1, 1000);
        let store = self.clone();
        let prefix_owned = prefix.to_string();
        let mut keys = blocking(move || {
            let mut keys = Vec::new();
            // Walk only the folder the prefix names, not the whole store.
            let (dir_rel, _) = prefix_owned.rsplit_once('/').unwrap_or(("", ""));
            let mut dir = store.root.clone();
            if !dir_rel.is_empty() {
                for seg in dir_rel.split('/') {
                    dir.push(seg);
                    if fs::symlink_metadata(&dir)
                        .map(|m| m.file_type().is_symlink())
                        .unwrap_or(false)
                    {
                        return Ok(keys);
                    }
                }
            }
            store.walk(&dir, dir_rel, &mut keys)?;
            Ok(keys)
        })
        .await?;
        keys.retain(|k| k.starts_with(prefix) && next.as_deref().is_none_or(|n| k.as_str() > n));
        keys.sort();
        let more = keys.len() > max;
        keys.truncate(max);
        let mut objects = Vec::with_capacity(keys.len());
        for k in &keys {
            let path = self.root.join(k);
            match self.info(k, &path) {
                Ok(i) => objects.push(i),
                Err(e) if e.code() == "not_found" => {}
                Err(e) => return Err(e),
            }
        }
        let next = if more { keys.last().cloned() } else { None };
        Ok(ListPage { objects, next })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = match self.object_path(key, false) {
            Ok(p) => p,
            Err(e) if e.code() == "not_found" => return Ok(()),
            Err(e) => return Err(e),
        };
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("deleted", &path, e)),
        }
        let _ = fs::remove_file(self.meta_path(key));
        Ok(())
    }

    async fn prepare(&self, _opts: &PrepareOptions) -> Result<PrepareReport> {
        let mut r = PrepareReport {
            store: self.describe(),
            ..Default::default()
        };
        let existed = self.root.is_dir();
        self.ensure_root()?;
        r.step(
            format!("folder {}", self.root.display()),
            if existed { "already" } else { "set" },
        );
        r.step(
            "retention (applied by Strongroom's own prune, not by the folder)",
            "unsupported",
        );
        Ok(r)
    }

    async fn test(&self) -> Result<TestReport> {
        let mut r = TestReport::new(self.describe());
        let exists = if self.root.is_dir() {
            Ok(())
        } else {
            Err(Error::DestinationMissing {
                store: self.store_name(),
            })
        };
        if !r.check("folder exists", &exists) {
            return Ok(r);
        }
        let probe = format!("{}-probe", uuid::Uuid::new_v4());
        let write = self.ensure_root().and_then(|_| {
            let p = self.tmp_dir().join(&probe);
            fs::write(&p, b"probe").map_err(|e| Error::io("written", &p, e))?;
            fs::remove_file(&p).map_err(|e| Error::io("deleted", &p, e))
        });
        r.check("write", &write);
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    #[tokio::test]
    async fn symlinks_out_of_the_root_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        let root = t.path().join("root");
        fs::create_dir_all(&root).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, root.join("evil")).unwrap();
        let store = LocalStore::new(&root).unwrap();
        #[cfg(unix)]
        {
            let e = store
                .put_bytes(
                    "evil/x",
                    Bytes::from_static(b"data"),
                    &PutOptions::default(),
                )
                .await
                .unwrap_err();
            assert_eq!(e.code(), "object_key_invalid");
            assert!(
                fs::read_dir(&outside).unwrap().next().is_none(),
                "nothing written outside"
            );
            let mut sink = Vec::new();
            assert!(store
                .get_to("evil/x", &GetOptions::default(), &mut sink, &NoProgress)
                .await
                .is_err());
        }
        let e = store
            .put_bytes("../x", Bytes::from_static(b"data"), &PutOptions::default())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "object_key_invalid");
        assert!(!t.path().join("x").exists());
    }

    #[tokio::test]
    async fn no_temp_files_are_left_and_metadata_is_kept() {
        let t = tempfile::tempdir().unwrap();
        let store = LocalStore::new(t.path()).unwrap();
        store
            .put_bytes("a/b", Bytes::from_static(b"hello"), &PutOptions::default())
            .await
            .unwrap();
        assert_eq!(fs::read(t.path().join("a/b")).unwrap(), b"hello");
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
        let info = store.head("a/b").await.unwrap();
        assert_eq!(
            info.metadata.sha256.as_deref(),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        let listed = (&store as &dyn ObjectStore).list_all("").await.unwrap();
        assert_eq!(
            listed.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(),
            ["a/b"]
        );
    }
}
