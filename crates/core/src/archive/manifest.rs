//! What a backup holds. The caller fills a [`Manifest`]; the writer seals it in the trailer
//! together with the length and SHA-256 of the plaintext.

use serde::{Deserialize, Serialize};

/// The kind of content, e.g. [`Manifest::REGISTRY_SNAPSHOT`].
pub type ContentKind = String;

/// Counts of what a registry snapshot holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Counts {
    pub cases: u64,
    pub documents: u64,
    pub audit_records: u64,
}

/// One document named by a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentEntry {
    /// The case number, e.g. `2026-000123`.
    pub case: String,
    /// The key of the document in the documents store.
    pub store_key: String,
    /// The store's version id, where the store has versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// SHA-256 of the document, 64 lowercase hex digits.
    pub sha256: String,
    pub size: u64,
}

/// The caller's description of a backup's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// What the plaintext is: [`Manifest::REGISTRY_SNAPSHOT`], [`Manifest::DOCUMENT`], …
    pub kind: ContentKind,
    /// The registry schema version of a snapshot (0 when not a snapshot).
    #[serde(default)]
    pub schema_version: u32,
    #[serde(default)]
    pub counts: Counts,
    #[serde(default)]
    pub documents: Vec<DocumentEntry>,
}

impl Manifest {
    /// A consistent copy of the SQLite registry.
    pub const REGISTRY_SNAPSHOT: &'static str = "registry_snapshot";
    /// One case document, sealed for a local destination.
    pub const DOCUMENT: &'static str = "document";

    pub fn registry_snapshot(schema_version: u32, counts: Counts) -> Self {
        Self {
            kind: Self::REGISTRY_SNAPSHOT.into(),
            schema_version,
            counts,
            documents: Vec::new(),
        }
    }
}

/// The sealed trailer: the manifest and the facts the reader checks the content against. `M`
/// is what the manifest is read into (a reader that drops the document list reads a lighter
/// type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Trailer<M = Manifest> {
    pub plaintext_len: u64,
    /// SHA-256 of the plaintext (before compression), 64 lowercase hex digits.
    pub plaintext_sha256: String,
    /// Bytes of content after compression (the sum of the content chunks' plaintext).
    pub stored_len: u64,
    /// Number of content chunks.
    pub content_chunks: u64,
    pub manifest: M,
}

impl<M> Trailer<M> {
    /// The same trailer with its manifest turned into another type.
    pub(crate) fn map_manifest<N>(self, f: impl FnOnce(M) -> N) -> Trailer<N> {
        Trailer {
            plaintext_len: self.plaintext_len,
            plaintext_sha256: self.plaintext_sha256,
            stored_len: self.stored_len,
            content_chunks: self.content_chunks,
            manifest: f(self.manifest),
        }
    }
}

/// The trailer as written: the same fields as [`Trailer`], the manifest borrowed and of any
/// type that serialises like a [`Manifest`] (a backup streams its document list from the
/// snapshot rather than holding it).
#[derive(Serialize)]
pub(crate) struct TrailerOut<'a, M: Serialize> {
    pub plaintext_len: u64,
    pub plaintext_sha256: &'a str,
    pub stored_len: u64,
    pub content_chunks: u64,
    pub manifest: &'a M,
}
