//! Reading a backup: authenticate every chunk, decompress, and check the plaintext against the
//! sealed trailer. Reading (and decryption) runs on the caller's thread, decompression on a
//! second, hashing and writing the plaintext on a third; bounded channels keep memory at a few
//! chunks plus zstd's window (at most 8 MiB).
//!
//! Only authenticated bytes ever reach the output. A backup that fails part-way has had its
//! authentic beginning written: the caller discards the output on error (restores write to a
//! temporary file and verify first).

use std::io::{self, Read, Write};

use crossbeam_channel::{bounded, Receiver, Sender};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::frame::{FLAG_FINAL, FLAG_TRAILER, FRAME_HEADER_LEN, MAX_TRAILER_LEN};
use super::header::{corrupt, read_exact, read_up_to, truncated, CompressionKind, Header};
use super::manifest::{Manifest, Trailer};
use super::pool::BufferPool;
use crate::crypto::{chunk_cipher, unwrap_data_key, ChunkCipher, KeyId, MasterKeys, TAG_LEN};
use crate::progress::Cancel;
use crate::{Error, Result};

/// zstd window bound for reading (2^23 = 8 MiB, the window of level 19).
const MAX_WINDOW_LOG: u32 = 23;
/// How far around a chunk's expected position a misplaced chunk is looked for.
const REORDER_WINDOW: u64 = 64;
const IN_FLIGHT: usize = 4;
const PLAIN_BATCH: usize = 1024 * 1024;

/// What a backup holds, established by authenticating every byte of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub backup_id: Uuid,
    pub station_id: String,
    pub key_id: KeyId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub manifest: Manifest,
    pub plaintext_len: u64,
    pub plaintext_sha256: String,
    /// Bytes of content after compression.
    pub stored_len: u64,
    /// Chunks read, the trailer's included.
    pub chunks: u64,
    /// Bytes of the backup file.
    pub file_len: u64,
}

/// Reads the header of a backup without any key: id, station, key id, time.
pub fn peek_header(mut input: impl Read) -> Result<Header> {
    Header::read_from(&mut input)
}

/// Authenticates every byte of a backup and checks its plaintext against the trailer, writing
/// the plaintext nowhere. The report's `manifest.documents` is empty (see
/// [`Reader::without_document_list`]).
pub fn verify(input: impl Read + Send, keys: &dyn MasterKeys) -> Result<VerifyReport> {
    Reader::open(input, keys)?
        .without_document_list()
        .decrypt_to(io::sink())
}

/// An opened backup: its header is read and its data key unwrapped.
pub struct Reader<R: Read> {
    input: R,
    header: Header,
    cipher: ChunkCipher,
    cancel: Option<Cancel>,
    /// Whether the manifest's document list is kept in the report (each entry is read and
    /// checked either way).
    keep_documents: bool,
}

impl<R: Read + Send> Reader<R> {
    /// Reads the header and unwraps the data key with the master key the header names.
    ///
    /// Errors: `not_a_backup`, `format_unsupported`, `backup_truncated`, `backup_corrupt`
    /// (header altered), `key_missing` (this station's key is not in `keys`),
    /// `backup_foreign_key` (another station's key).
    pub fn open(mut input: R, keys: &dyn MasterKeys) -> Result<Self> {
        let header = Header::read_from(&mut input)?;
        let Some(master) = keys.master_key(&header.key_id)? else {
            return Err(if header.station_id != keys.station_id() {
                Error::BackupForeignKey {
                    station: header.station_id.clone(),
                    key_id: header.key_id.to_hex(),
                }
            } else {
                Error::KeyMissing {
                    key_id: header.key_id.to_hex(),
                }
            });
        };
        let data_key = unwrap_data_key(&master, &header.wrapped_key, header.wrap_aad())
            .ok_or_else(|| corrupt("the header or its sealed data key was altered"))?;
        Ok(Self {
            input,
            cipher: chunk_cipher(&data_key),
            header,
            cancel: None,
            keep_documents: true,
        })
    }

    /// Reads the manifest's document list entry by entry without keeping it: the report's
    /// `manifest.documents` is empty. A registry of 2 GB names about 100,000 documents, some
    /// 45 MB in memory, that a verify or a restore never looks at.
    pub fn without_document_list(mut self) -> Self {
        self.keep_documents = false;
        self
    }

    /// Stops between chunks with `cancelled` once `cancel` is set.
    pub fn with_cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = Some(cancel);
        self
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Decrypts and decompresses the backup into `out`, checking every chunk, the trailer and
    /// the plaintext's length and SHA-256. On error, discard what was written to `out`.
    pub fn decrypt_to<W: Write + Send>(mut self, out: W) -> Result<VerifyReport> {
        let compression = self.header.compression;
        std::thread::scope(|s| {
            let (stored_tx, stored_rx) = bounded::<Vec<u8>>(IN_FLIGHT);
            let (plain_tx, plain_rx) = bounded::<Vec<u8>>(IN_FLIGHT);
            let stored_pool = BufferPool::new(IN_FLIGHT + 2);
            let plain_pool = BufferPool::new(IN_FLIGHT + 2);
            let (sp, pp) = (stored_pool.clone(), plain_pool.clone());
            let decompressor = std::thread::Builder::new()
                .name("backup-decompress".into())
                .spawn_scoped(s, move || {
                    let sink = PlainSink {
                        buf: Vec::with_capacity(PLAIN_BATCH),
                        tx: plain_tx,
                        pool: pp,
                    };
                    decompress(stored_rx, sp, sink, compression)
                })
                .map_err(|e| Error::Internal(format!("cannot start a thread: {e}")))?;
            let sink = std::thread::Builder::new()
                .name("backup-output".into())
                .spawn_scoped(s, move || hash_and_write(plain_rx, plain_pool, out))
                .map_err(|e| Error::Internal(format!("cannot start a thread: {e}")))?;

            let frames = self.read_chunks(stored_tx, &stored_pool);
            let decompressed = decompressor
                .join()
                .unwrap_or_else(|_| Err(Stage::Failed(Error::Internal("decompressor".into()))));
            let written = sink
                .join()
                .unwrap_or_else(|_| Err(Error::Internal("output thread failed".into())));

            // The first real cause wins: a broken backup, else a failed output, else a
            // decompression failure.
            let (trailer, chunks, file_len) = match frames {
                Ok(v) => v,
                Err(Stage::Failed(e)) => return Err(e),
                Err(Stage::Closed) => {
                    written?;
                    decompressed.map_err(Stage::into_error)?;
                    return Err(Error::Internal("the backup reader stopped early".into()));
                }
            };
            let (plain_len, plain_sha) = written?;
            decompressed.map_err(Stage::into_error)?;
            if plain_len != trailer.plaintext_len || plain_sha != trailer.plaintext_sha256 {
                return Err(corrupt(
                    "the restored content does not match the length and SHA-256 sealed in the trailer",
                ));
            }
            Ok(VerifyReport {
                backup_id: self.header.backup_id,
                station_id: self.header.station_id.clone(),
                key_id: self.header.key_id,
                created_at: self.header.created_at,
                manifest: trailer.manifest,
                plaintext_len: plain_len,
                plaintext_sha256: plain_sha,
                stored_len: trailer.stored_len,
                chunks,
                file_len,
            })
        })
    }

    /// Reads, authenticates and forwards every content chunk; returns the trailer, parsed as
    /// its chunks are read (never held whole), the number of chunks and the file's length.
    fn read_chunks(
        &mut self,
        stored: Sender<Vec<u8>>,
        pool: &BufferPool,
    ) -> std::result::Result<(Trailer, u64, u64), Stage> {
        let max_sealed = self.header.chunk_size as usize + TAG_LEN;
        let mut file_len = self.header.len() as u64;
        let mut index: u64 = 0;
        let mut stored_len: u64 = 0;
        let (first, flags) = loop {
            if let Some(c) = &self.cancel {
                c.check()?;
            }
            // A reused buffer keeps its length: resizing zero-fills only growth.
            let mut buf = pool.take(max_sealed);
            let frame = self.next_frame(index, &mut buf, false)?;
            file_len += frame.len;
            index += 1;
            if frame.flags != 0 {
                break (buf, frame.flags);
            }
            stored_len += buf.len() as u64;
            stored.send(buf).map_err(|_| Stage::Closed)?;
        };
        drop(stored);
        let keep_documents = self.keep_documents;
        let mut stream = TrailerStream {
            reader: self,
            chunk: first,
            pos: 0,
            last: flags & FLAG_FINAL != 0,
            index,
            file_len,
            len: 0,
            failed: None,
        };
        stream.counted()?;
        let parsed = {
            let input = io::BufReader::with_capacity(64 * 1024, &mut stream);
            if keep_documents {
                serde_json::from_reader::<_, Trailer>(input)
            } else {
                serde_json::from_reader::<_, Trailer<ManifestSkim>>(input)
                    .map(|t| t.map_manifest(Manifest::from))
            }
        };
        if let Some(e) = stream.failed.take() {
            return Err(e.into());
        }
        let trailer = parsed.map_err(|_| corrupt("the sealed trailer cannot be read"))?;
        let (trailer_len, index, file_len) = (stream.len, stream.index, stream.file_len);
        let mut probe = [0u8; 1];
        if read_up_to(&mut self.input, &mut probe)? != 0 {
            return Err(corrupt("there are bytes after the end of the backup").into());
        }
        let content_chunks = index - trailer_len.div_ceil(self.header.chunk_size as usize) as u64;
        if trailer.content_chunks != content_chunks || trailer.stored_len != stored_len {
            return Err(corrupt("the chunks do not match the count sealed in the trailer").into());
        }
        Ok((trailer, index, file_len))
    }

    /// Reads chunk `index` into `buf` and authenticates it: its flags and its length in the file.
    fn next_frame(&mut self, index: u64, buf: &mut Vec<u8>, in_trailer: bool) -> Result<Frame> {
        let max_sealed = self.header.chunk_size as usize + TAG_LEN;
        let mut fh = [0u8; FRAME_HEADER_LEN];
        let got = read_up_to(&mut self.input, &mut fh)?;
        if got == 0 {
            return Err(truncated(&if in_trailer {
                "the file ends inside the trailer".to_string()
            } else {
                format!("the file ends after {index} chunks without its trailer")
            }));
        }
        if got < FRAME_HEADER_LEN {
            return Err(truncated("the file ends inside a chunk"));
        }
        let flags = fh[0];
        let sealed_len = u32::from_be_bytes([fh[1], fh[2], fh[3], fh[4]]) as usize;
        if flags & !(FLAG_FINAL | FLAG_TRAILER) != 0 || flags == FLAG_FINAL {
            return Err(corrupt(&format!("chunk {index} has invalid flags")));
        }
        if sealed_len < TAG_LEN + usize::from(flags == 0) || sealed_len > max_sealed {
            return Err(corrupt(&format!("chunk {index} has an impossible length")));
        }
        buf.resize(sealed_len - TAG_LEN, 0);
        let mut tag = [0u8; TAG_LEN];
        read_exact(&mut self.input, buf, "the file ends inside a chunk")?;
        read_exact(&mut self.input, &mut tag, "the file ends inside a chunk")?;
        if !self.cipher.open(index, flags, &self.header.raw, buf, &tag) {
            return Err(self.diagnose(index, flags, buf, &tag));
        }
        Ok(Frame {
            flags,
            len: (FRAME_HEADER_LEN + sealed_len) as u64,
        })
    }

    /// A chunk failed to authenticate at `index`: was it a genuine chunk in the wrong place
    /// (moved, duplicated, or a neighbour dropped), or altered bytes?
    fn diagnose(&self, index: u64, flags: u8, buf: &mut [u8], tag: &[u8; TAG_LEN]) -> Error {
        let lo = index.saturating_sub(REORDER_WINDOW);
        let hi = index.saturating_add(REORDER_WINDOW);
        for j in lo..=hi {
            for f in [0, FLAG_TRAILER, FLAG_TRAILER | FLAG_FINAL] {
                if (j, f) == (index, flags) {
                    continue;
                }
                if self.cipher.open(j, f, &self.header.raw, buf, tag) {
                    buf.fill(0);
                    if j == index {
                        return corrupt(&format!("the flags of chunk {index} were altered"));
                    }
                    return Error::BackupReordered {
                        detail: format!(
                            "position {index} holds the chunk that belongs at position {j}"
                        ),
                    };
                }
            }
        }
        corrupt(&format!("chunk {index} failed authentication"))
    }
}

/// Why the chunk reader stopped.
enum Stage {
    /// The backup (or the input) is bad.
    Failed(Error),
    /// A later stage hung up; its own error says why.
    Closed,
}

impl From<Error> for Stage {
    fn from(e: Error) -> Self {
        Stage::Failed(e)
    }
}

impl Stage {
    fn into_error(self) -> Error {
        match self {
            Stage::Failed(e) => e,
            Stage::Closed => Error::Internal("the backup output stopped early".into()),
        }
    }
}

/// One chunk as read: its flags and the bytes it took in the file.
struct Frame {
    flags: u8,
    len: u64,
}

/// The trailer's plaintext, authenticated chunk by chunk as the parser asks for more: only
/// authenticated bytes reach the parser, and only one chunk of them is held at a time.
struct TrailerStream<'a, R: Read + Send> {
    reader: &'a mut Reader<R>,
    chunk: Vec<u8>,
    pos: usize,
    /// The chunk held is the final one.
    last: bool,
    /// The index of the next chunk.
    index: u64,
    file_len: u64,
    /// Trailer bytes read so far.
    len: usize,
    /// Why reading stopped, when the backup itself is at fault (the parser only sees an I/O
    /// error).
    failed: Option<Error>,
}

impl<R: Read + Send> TrailerStream<'_, R> {
    /// Counts the chunk just read against the trailer's size limit.
    fn counted(&mut self) -> Result<()> {
        self.len += self.chunk.len();
        if self.len > MAX_TRAILER_LEN {
            return Err(corrupt("the trailer is too large"));
        }
        Ok(())
    }

    fn next_chunk(&mut self) -> Result<()> {
        if let Some(c) = &self.reader.cancel {
            c.check()?;
        }
        let frame = self.reader.next_frame(self.index, &mut self.chunk, true)?;
        self.index += 1;
        self.file_len += frame.len;
        if frame.flags & FLAG_TRAILER == 0 {
            return Err(corrupt("content follows the trailer"));
        }
        self.last = frame.flags & FLAG_FINAL != 0;
        self.pos = 0;
        self.counted()
    }
}

impl<R: Read + Send> Read for TrailerStream<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            if self.last || self.failed.is_some() {
                return Ok(0);
            }
            if let Err(e) = self.next_chunk() {
                self.failed = Some(e);
                return Err(io::Error::other("the trailer could not be read"));
            }
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A [`Manifest`] whose document list is read entry by entry, each checked and dropped.
#[derive(serde::Deserialize)]
struct ManifestSkim {
    kind: super::manifest::ContentKind,
    #[serde(default)]
    schema_version: u32,
    #[serde(default)]
    counts: super::manifest::Counts,
    #[serde(default, rename = "documents")]
    _documents: SkippedDocuments,
}

/// A document list read and not kept.
#[derive(Default)]
struct SkippedDocuments;

impl<'de> serde::Deserialize<'de> for SkippedDocuments {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = SkippedDocuments;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of documents")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                while seq
                    .next_element::<super::manifest::DocumentEntry>()?
                    .is_some()
                {}
                Ok(SkippedDocuments)
            }
        }
        d.deserialize_seq(Entries)
    }
}

impl From<ManifestSkim> for Manifest {
    fn from(m: ManifestSkim) -> Self {
        Manifest {
            kind: m.kind,
            schema_version: m.schema_version,
            counts: m.counts,
            documents: Vec::new(),
        }
    }
}

/// Batches plaintext into pieces for the output thread.
struct PlainSink {
    buf: Vec<u8>,
    tx: Sender<Vec<u8>>,
    pool: BufferPool,
}

impl PlainSink {
    fn send(&mut self) -> io::Result<()> {
        let mut next = self.pool.take(PLAIN_BATCH);
        next.clear();
        let full = std::mem::replace(&mut self.buf, next);
        self.tx
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "output closed"))
    }
}

impl Write for PlainSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let take = (PLAIN_BATCH - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..take]);
        if self.buf.len() == PLAIN_BATCH {
            self.send()?;
        }
        Ok(take)
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

fn decompress(
    stored: Receiver<Vec<u8>>,
    stored_pool: BufferPool,
    mut sink: PlainSink,
    compression: CompressionKind,
) -> std::result::Result<(), Stage> {
    let broken = |e: io::Error| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stage::Closed
        } else {
            Stage::Failed(corrupt("the sealed content is not a valid zstd stream"))
        }
    };
    match compression {
        CompressionKind::None => {
            for piece in stored {
                sink.write_all(&piece).map_err(broken)?;
                stored_pool.give(piece);
            }
            sink.flush().map_err(broken)
        }
        CompressionKind::Zstd => {
            let mut dec = zstd::stream::write::Decoder::new(sink)
                .map_err(|e| Stage::Failed(Error::Internal(format!("zstd: {e}"))))?;
            dec.window_log_max(MAX_WINDOW_LOG)
                .map_err(|e| Stage::Failed(Error::Internal(format!("zstd: {e}"))))?;
            for piece in stored {
                dec.write_all(&piece).map_err(broken)?;
                stored_pool.give(piece);
            }
            let mut sink = dec.finish().map_err(broken)?;
            sink.flush().map_err(broken)
        }
    }
}

fn hash_and_write<W: Write>(
    plain: Receiver<Vec<u8>>,
    pool: BufferPool,
    mut out: W,
) -> Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut n = 0u64;
    for piece in plain {
        h.update(&piece);
        n += piece.len() as u64;
        out.write_all(&piece)
            .map_err(|e| Error::io("written", "the restored content", e))?;
        pool.give(piece);
    }
    out.flush()
        .map_err(|e| Error::io("written", "the restored content", e))?;
    Ok((n, hex::encode(h.finalize())))
}
