//! Sealed copies of the local document store in the backups destination. When documents live
//! in the local folder, each `backup create` also copies there the documents not yet copied —
//! each sealed with the backup format under the station's master key, so a lost disk loses no
//! document and a lost backup drive reveals none. Names are content-addressed but keyed
//! (`sealed-documents/<HMAC-SHA256(master key, sha256)>.srd`): a document held by several cases
//! is copied once, and a name says nothing of the content to whoever lacks the key. After a key
//! rotation the names under every key of the station are recognised.
//!
//! `doc get` falls back to the sealed copy when the document store has lost the file (a new
//! workstation after a disaster, a deleted folder); the SHA-256 is checked as always.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};

use serde_json::json;

use super::{block_on, Context};
use crate::archive::{self, DocumentEntry, Manifest, WriteParams};
use crate::audit::{self, AuditEvent, EventType};
use crate::crypto::{KeySet, KeyStore};
use crate::progress::{Cancel, Progress};
use crate::registry::documents::{self, Document};
use crate::registry::Registry;
use crate::storage::{Destinations, GetOptions, PutOptions};
use crate::{Error, Result};

/// Where sealed copies live in the backups destination.
pub const SEALED_PREFIX: &str = "sealed-documents/";
/// File suffix of a sealed document.
pub const SEALED_SUFFIX: &str = ".srd";
/// Documents read from the registry at a time while looking for those without a sealed copy.
const PAGE: u32 = 1_000;

fn key_for(name: &str) -> String {
    format!("{SEALED_PREFIX}{name}{SEALED_SUFFIX}")
}

/// Whether the documents of these destinations need sealed copies (they are in a local folder).
pub fn wanted(dest: &Destinations) -> bool {
    dest.documents.provider() == "local folder"
}

/// Copies every document that has no sealed copy yet into the backups destination. Returns how
/// many were copied. Each copy is audited (DOCUMENT_UPLOADED with `"copy": "sealed"`).
pub fn seal_missing(
    ctx: &Context,
    reg: &mut Registry,
    dest: &Destinations,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<u32> {
    if !wanted(dest) {
        return Ok(0);
    }
    // A page of documents at a time: a registry naming 100,000 documents is not held whole.
    let mut page = reg.read(|db| documents::page_after(db, 0, PAGE))?;
    if page.is_empty() {
        return Ok(0);
    }
    let keys = KeyStore::for_station(&ctx.station.id).key_set()?;
    let current = keys.current_key().ok_or_else(|| Error::KeyMissing {
        key_id: keys.current.to_hex(),
    })?;
    let present: HashSet<String> = block_on(dest.backups.list_all(SEALED_PREFIX))??
        .into_iter()
        .map(|o| o.key)
        .collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut copied = 0;
    while let Some(last) = page.last().map(|d| d.id) {
        for doc in page {
            cancel.check()?;
            let sealed_already = keys
                .keys
                .iter()
                .any(|k| present.contains(&key_for(&k.sealed_document_name(&doc.sha256))));
            if sealed_already || !done.insert(doc.sha256.clone()) {
                continue;
            }
            let key = key_for(&current.sealed_document_name(&doc.sha256));
            progress.stage("seal_documents", u64::from(copied), None);
            seal_one(ctx, dest, &keys, &doc, &key, cancel)?;
            let event = AuditEvent::new(EventType::DocumentUploaded)
                .case(&doc.case)
                .resource(key.clone())
                .details(json!({
                    "id": doc.id, "copy": "sealed", "store": dest.backups.describe(),
                    "sha256": doc.sha256, "size": doc.size,
                }));
            reg.write(|tx| audit::append(tx, &ctx.actor, &event))?;
            copied += 1;
        }
        page = reg.read(|db| documents::page_after(db, last, PAGE))?;
    }
    if copied > 0 {
        tracing::info!(copied, "documents sealed into the backups destination");
    }
    Ok(copied)
}

/// Fetches `doc` from the documents store (checked), seals it into a temp file and stores it.
fn seal_one(
    ctx: &Context,
    dest: &Destinations,
    keys: &KeySet,
    doc: &Document,
    key: &str,
    cancel: &Cancel,
) -> Result<()> {
    let tmp = ctx.home.tmp_dir();
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io("created", &tmp, e))?;
    let plain = tempfile::NamedTempFile::new_in(&tmp).map_err(|e| Error::io("created", &tmp, e))?;
    {
        let mut w = BufWriter::new(plain.as_file());
        let got = block_on(dest.documents.get_to(
            &doc.key,
            &GetOptions {
                range: None,
                expected_sha256: Some(doc.sha256.clone()),
            },
            &mut w,
            &crate::progress::NoProgress,
        ))?;
        got?;
        w.flush()
            .map_err(|e| Error::io("written", plain.path(), e))?;
    }
    let sealed =
        tempfile::NamedTempFile::new_in(&tmp).map_err(|e| Error::io("created", &tmp, e))?;
    let master = keys.current_key().ok_or_else(|| Error::KeyMissing {
        key_id: keys.current.to_hex(),
    })?;
    let manifest = Manifest {
        kind: Manifest::DOCUMENT.into(),
        documents: vec![DocumentEntry {
            case: doc.case.clone(),
            store_key: doc.key.clone(),
            version_id: None,
            sha256: doc.sha256.clone(),
            size: doc.size,
        }],
        ..Manifest::default()
    };
    let mut input = File::open(plain.path()).map_err(|e| Error::io("opened", plain.path(), e))?;
    archive::write(
        &mut input,
        BufWriter::new(sealed.as_file()),
        master,
        WriteParams::new(&ctx.station.id),
        &manifest,
    )?;
    sealed
        .as_file()
        .sync_all()
        .map_err(|e| Error::io("synced", sealed.path(), e))?;
    let opts = PutOptions {
        if_not_exists: true,
        ..PutOptions::default()
    };
    match block_on(dest.backups.put_file(
        key,
        sealed.path(),
        &opts,
        &crate::progress::NoProgress,
        cancel,
    ))? {
        Ok(_) => Ok(()),
        // Sealed by an earlier, interrupted run: the name is the content's.
        Err(e) if e.code() == "already_exists" => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes the plaintext of `doc`'s sealed copy to `out` when the backups destination has one.
/// `Ok(false)` when there is none. The reader authenticates every chunk and the plaintext's
/// SHA-256 against the sealed trailer; the caller still checks it against the registry.
pub fn unseal(
    ctx: &Context,
    dest: &Destinations,
    doc: &Document,
    out: &mut (dyn Write + Send),
) -> Result<bool> {
    let keys = KeyStore::for_station(&ctx.station.id).key_set()?;
    for k in &keys.keys {
        let key = key_for(&k.sealed_document_name(&doc.sha256));
        match block_on(dest.backups.head(&key))? {
            Ok(_) => {}
            Err(e) if e.code() == "not_found" => continue,
            Err(e) => return Err(e),
        }
        let tmp = ctx.home.tmp_dir();
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io("created", &tmp, e))?;
        let sealed =
            tempfile::NamedTempFile::new_in(&tmp).map_err(|e| Error::io("created", &tmp, e))?;
        {
            let mut w = BufWriter::new(sealed.as_file());
            block_on(dest.backups.get_to(
                &key,
                &GetOptions::default(),
                &mut w,
                &crate::progress::NoProgress,
            ))??;
            w.flush()
                .map_err(|e| Error::io("written", sealed.path(), e))?;
        }
        let file = File::open(sealed.path()).map_err(|e| Error::io("opened", sealed.path(), e))?;
        let reader = archive::Reader::open(BufReader::new(file), &keys)?;
        let report = reader.decrypt_to(&mut *out)?;
        if report.manifest.kind != Manifest::DOCUMENT
            || !report
                .manifest
                .documents
                .iter()
                .any(|d| d.sha256 == doc.sha256)
        {
            return Err(Error::BackupCorrupt {
                detail: format!("{key} does not hold the document it is named for"),
            });
        }
        return Ok(true);
    }
    Ok(false)
}
