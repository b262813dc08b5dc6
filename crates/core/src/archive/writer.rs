//! Writing a backup: plaintext in through [`std::io::Write`], a sealed backup file out.
//!
//! The caller's thread hashes the plaintext and hands it in 1 MiB pieces to a compression
//! thread (zstd, itself using `threads` workers); compressed bytes come back cut into chunks,
//! which the caller's thread seals with AES-256-GCM and writes. Channels are bounded, so memory
//! stays at a few chunks plus zstd's window whatever the size of the backup.

use std::io::{self, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver, Select, Sender, TryRecvError, TrySendError};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::frame::{frame_header, FLAG_FINAL, FLAG_TRAILER, MAX_TRAILER_LEN};
use super::header::{CompressionKind, Header};
use super::manifest::{Manifest, TrailerOut};
use super::pool::BufferPool;
use crate::crypto::{chunk_cipher, wrap_data_key, ChunkCipher, KeyId, MasterKey};
use crate::{Error, Result};

/// Default plaintext size of a chunk: 1 MiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 1024 * 1024;
/// Default zstd level. Level 1 keeps a backup within reach of `zstd -T2 -1` on two cores; a
/// SQLite registry compresses only a few percent better at level 3 for half the speed.
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;
/// The highest zstd level accepted: its window (8 MiB) bounds the reader's memory.
pub const MAX_ZSTD_LEVEL: i32 = 19;
/// How much plaintext the caller's thread hands over at a time.
const STAGE_LEN: usize = 1024 * 1024;
/// Bytes of plaintext per zstd worker job.
const JOB_SIZE: u32 = 1024 * 1024;
/// Pieces in flight on each channel.
const IN_FLIGHT: usize = 4;

/// How the content is compressed before it is sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Stored as is (for content that is already compressed, e.g. scanned PDFs).
    None,
    /// zstd at `level` (1..=19).
    Zstd { level: i32 },
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Zstd {
            level: DEFAULT_ZSTD_LEVEL,
        }
    }
}

/// What the header of a new backup says, and how to write it.
#[derive(Debug, Clone)]
pub struct WriteParams {
    pub station_id: String,
    pub backup_id: Uuid,
    pub created_at: OffsetDateTime,
    pub chunk_size: u32,
    pub compression: Compression,
    /// zstd worker threads (0 = compress on the compression thread alone). Default: the
    /// number of cores, at most 4.
    pub threads: u32,
}

impl WriteParams {
    /// A new backup of `station_id`, now, with a random id and the defaults.
    pub fn new(station_id: &str) -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get().min(4) as u32)
            .unwrap_or(2);
        Self {
            station_id: station_id.to_string(),
            backup_id: Uuid::new_v4(),
            created_at: OffsetDateTime::now_utc(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            compression: Compression::default(),
            threads,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub backup_id: Uuid,
    pub station_id: String,
    pub key_id: KeyId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Bytes of the backup file.
    pub file_len: u64,
    /// SHA-256 of the backup file, 64 lowercase hex digits.
    pub file_sha256: String,
    pub plaintext_len: u64,
    pub plaintext_sha256: String,
    /// Bytes of content after compression.
    pub stored_len: u64,
    /// Chunks written, the trailer's included.
    pub chunks: u64,
}

struct Pipeline {
    to_compress: Option<Sender<Vec<u8>>>,
    compressed: Receiver<Vec<u8>>,
    worker: Option<JoinHandle<io::Result<()>>>,
}

/// Writes one backup to `out`. Write the plaintext through [`io::Write`], then call
/// [`Writer::finish`] with the manifest. A writer dropped without `finish` leaves an
/// incomplete file that every reader refuses as truncated.
pub struct Writer<W: Write> {
    out: W,
    header: Header,
    cipher: ChunkCipher,
    index: u64,
    plain_hash: Sha256,
    plain_len: u64,
    file_hash: Sha256,
    file_len: u64,
    stored_len: u64,
    stage: Vec<u8>,
    pipeline: Pipeline,
    /// Plaintext pieces coming back from the compressor.
    stage_pool: BufferPool,
    /// Chunk buffers going back to the compressor.
    chunk_pool: BufferPool,
}

impl<W: Write> Writer<W> {
    /// Starts a backup sealed under a fresh data key wrapped by `master`; writes the header.
    pub fn new(out: W, master: &MasterKey, params: WriteParams) -> Result<Self> {
        Self::new_with_rng(out, master, params, &mut rand::rngs::OsRng)
    }

    pub(crate) fn new_with_rng<R: RngCore + CryptoRng>(
        out: W,
        master: &MasterKey,
        params: WriteParams,
        rng: &mut R,
    ) -> Result<Self> {
        let kind = match params.compression {
            Compression::None => CompressionKind::None,
            Compression::Zstd { level } if (1..=MAX_ZSTD_LEVEL).contains(&level) => {
                CompressionKind::Zstd
            }
            Compression::Zstd { level } => {
                return Err(Error::Invalid {
                    code: "compression_level_invalid",
                    field: "compression",
                    message: format!("zstd level {level} is not between 1 and {MAX_ZSTD_LEVEL}"),
                })
            }
        };
        let mut header = Header::new_v1(
            params.backup_id,
            params.created_at,
            master.id(),
            params.chunk_size,
            kind,
            &params.station_id,
        )?;
        let data_key = crate::crypto::random_data_key(rng);
        let wrapped = wrap_data_key(master, &data_key, header.wrap_aad(), rng);
        header.set_wrapped_key(wrapped);
        let cipher = chunk_cipher(&data_key);

        let (to_compress, compress_rx) = bounded::<Vec<u8>>(2);
        let (compressed_tx, compressed) = bounded::<Vec<u8>>(IN_FLIGHT);
        let chunk_size = params.chunk_size as usize;
        let compression = params.compression;
        let threads = params.threads;
        let stage_pool = BufferPool::new(2);
        let chunk_pool = BufferPool::new(IN_FLIGHT + 2);
        let (sp, cp) = (stage_pool.clone(), chunk_pool.clone());
        let worker = std::thread::Builder::new()
            .name("backup-compress".into())
            .spawn(move || {
                let sink = ChunkSink {
                    buf: Vec::with_capacity(chunk_size),
                    chunk_size,
                    tx: compressed_tx,
                    pool: cp,
                };
                compress(compress_rx, sp, sink, compression, threads)
            })
            .map_err(|e| Error::Internal(format!("cannot start the compression thread: {e}")))?;

        let mut w = Self {
            out,
            header,
            cipher,
            index: 0,
            plain_hash: Sha256::new(),
            plain_len: 0,
            file_hash: Sha256::new(),
            file_len: 0,
            stored_len: 0,
            stage: Vec::with_capacity(STAGE_LEN),
            pipeline: Pipeline {
                to_compress: Some(to_compress),
                compressed,
                worker: Some(worker),
            },
            stage_pool,
            chunk_pool,
        };
        let raw = w.header.raw.clone();
        w.emit(&raw)
            .map_err(|e| Error::io("written", "the backup", e))?;
        Ok(w)
    }

    /// The header of the backup being written.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Plaintext bytes written so far.
    pub fn plaintext_len(&self) -> u64 {
        self.plain_len
    }

    /// Seals the rest, then the trailer with `manifest`, and flushes. The backup is complete
    /// (and readable) only once this returns `Ok`.
    pub fn finish(self, manifest: &Manifest) -> Result<Summary> {
        self.finish_with(manifest)
    }

    /// [`Writer::finish`] with a manifest of any type that serialises like a [`Manifest`]
    /// (its JSON is sealed as it is produced, never held whole).
    pub fn finish_with<M: serde::Serialize>(mut self, manifest: &M) -> Result<Summary> {
        let io_err = |e: io::Error| Error::io("written", "the backup", e);
        if !self.stage.is_empty() {
            let last = std::mem::take(&mut self.stage);
            self.hand_over(last).map_err(io_err)?;
        }
        // No more input: the compressor flushes its frame, then ends.
        drop(self.pipeline.to_compress.take());
        while let Ok(chunk) = self.pipeline.compressed.recv() {
            self.seal_content(chunk).map_err(io_err)?;
        }
        self.join_worker().map_err(io_err)?;

        let content_chunks = self.index;
        let plaintext_sha256 = hex::encode(self.plain_hash.clone().finalize());
        let trailer = TrailerOut {
            plaintext_len: self.plain_len,
            plaintext_sha256: &plaintext_sha256,
            stored_len: self.stored_len,
            content_chunks,
            manifest,
        };
        let chunk_size = self.header.chunk_size as usize;
        let mut sink = TrailerSink {
            writer: &mut self,
            piece: Vec::with_capacity(chunk_size),
            chunk_size,
            total: 0,
        };
        match serde_json::to_writer(&mut sink, &trailer) {
            Ok(()) => {}
            Err(_) if sink.total > MAX_TRAILER_LEN => return Err(manifest_too_large()),
            Err(e) if e.is_io() => return Err(io_err(e.into())),
            Err(e) => return Err(Error::Internal(e.to_string())),
        }
        let last = std::mem::take(&mut sink.piece);
        self.seal_and_emit(last, FLAG_TRAILER | FLAG_FINAL)
            .map_err(io_err)?;
        self.out.flush().map_err(io_err)?;
        Ok(Summary {
            backup_id: self.header.backup_id,
            station_id: self.header.station_id.clone(),
            key_id: self.header.key_id,
            created_at: self.header.created_at,
            file_len: self.file_len,
            file_sha256: hex::encode(self.file_hash.clone().finalize()),
            plaintext_len: self.plain_len,
            plaintext_sha256,
            stored_len: self.stored_len,
            chunks: self.index,
        })
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.file_hash.update(bytes);
        self.file_len += bytes.len() as u64;
        Ok(())
    }

    fn seal_and_emit(&mut self, mut chunk: Vec<u8>, flags: u8) -> io::Result<()> {
        let tag = self
            .cipher
            .seal(self.index, flags, &self.header.raw, &mut chunk);
        self.emit(&frame_header(flags, chunk.len() + tag.len()))?;
        self.emit(&chunk)?;
        self.emit(&tag)?;
        self.index += 1;
        self.chunk_pool.give(chunk);
        Ok(())
    }

    fn seal_content(&mut self, chunk: Vec<u8>) -> io::Result<()> {
        self.stored_len += chunk.len() as u64;
        self.seal_and_emit(chunk, 0)
    }

    /// Gives a piece of plaintext to the compressor, sealing compressed chunks while waiting
    /// for room (the two channels are drained together, so neither side can block the other).
    fn hand_over(&mut self, piece: Vec<u8>) -> io::Result<()> {
        let mut piece = piece;
        loop {
            let Some(tx) = self.pipeline.to_compress.as_ref() else {
                return Err(io::Error::other("the backup writer is already finished"));
            };
            match tx.try_send(piece) {
                Ok(()) => break,
                Err(TrySendError::Full(p)) => piece = p,
                Err(TrySendError::Disconnected(_)) => return Err(self.worker_failure()),
            }
            let ready = {
                let mut sel = Select::new();
                sel.send(tx);
                let r = sel.recv(&self.pipeline.compressed);
                sel.ready() == r
            };
            if ready {
                self.drain_one()?;
            }
        }
        while let Ok(chunk) = self.pipeline.compressed.try_recv() {
            self.seal_content(chunk)?;
        }
        Ok(())
    }

    fn drain_one(&mut self) -> io::Result<()> {
        match self.pipeline.compressed.try_recv() {
            Ok(chunk) => self.seal_content(chunk),
            Err(TryRecvError::Empty) => Ok(()),
            Err(TryRecvError::Disconnected) => Err(self.worker_failure()),
        }
    }

    fn join_worker(&mut self) -> io::Result<()> {
        match self.pipeline.worker.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the compression thread failed"))),
            None => Ok(()),
        }
    }

    fn worker_failure(&mut self) -> io::Error {
        drop(self.pipeline.to_compress.take());
        match self.join_worker() {
            Err(e) => e,
            Ok(()) => io::Error::other("the compression thread stopped early"),
        }
    }
}

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.plain_hash.update(data);
        self.plain_len += data.len() as u64;
        let mut rest = data;
        while !rest.is_empty() {
            let take = (STAGE_LEN - self.stage.len()).min(rest.len());
            self.stage.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.stage.len() == STAGE_LEN {
                let mut next = self.stage_pool.take(STAGE_LEN);
                next.clear();
                let full = std::mem::replace(&mut self.stage, next);
                self.hand_over(full)?;
            }
        }
        Ok(data.len())
    }

    /// Does nothing: data is sealed in whole chunks, and [`Writer::finish`] seals the rest.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for Writer<W> {
    fn drop(&mut self) {
        // Closing both channels stops the compressor wherever it is.
        drop(self.pipeline.to_compress.take());
        let (_, dead) = bounded::<Vec<u8>>(0);
        drop(std::mem::replace(&mut self.pipeline.compressed, dead));
        let _ = self.join_worker();
    }
}

fn manifest_too_large() -> Error {
    Error::Invalid {
        code: "manifest_too_large",
        field: "manifest",
        message: "the manifest is larger than 64 MiB; split the backup".into(),
    }
}

/// Seals the trailer's JSON as it is serialised: each full chunk as a trailer chunk, the last
/// one held back for the caller to seal as final.
struct TrailerSink<'w, W: Write> {
    writer: &'w mut Writer<W>,
    piece: Vec<u8>,
    chunk_size: usize,
    total: usize,
}

impl<W: Write> Write for TrailerSink<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.total += data.len();
        if self.total > MAX_TRAILER_LEN {
            return Err(io::Error::other("the manifest is larger than 64 MiB"));
        }
        let mut rest = data;
        while !rest.is_empty() {
            if self.piece.len() == self.chunk_size {
                let full = std::mem::replace(&mut self.piece, Vec::with_capacity(self.chunk_size));
                self.writer.seal_and_emit(full, FLAG_TRAILER)?;
            }
            let take = (self.chunk_size - self.piece.len()).min(rest.len());
            self.piece.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Collects compressed bytes into chunks of exactly `chunk_size` (the last may be shorter).
struct ChunkSink {
    buf: Vec<u8>,
    chunk_size: usize,
    tx: Sender<Vec<u8>>,
    pool: BufferPool,
}

impl ChunkSink {
    fn send(&mut self) -> io::Result<()> {
        let mut next = self.pool.take(self.chunk_size);
        next.clear();
        let full = std::mem::replace(&mut self.buf, next);
        self.tx
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the backup writer stopped"))
    }

    fn finish(mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            let take = (self.chunk_size - self.buf.len()).min(rest.len());
            self.buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buf.len() == self.chunk_size {
                self.send()?;
            }
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn compress(
    input: Receiver<Vec<u8>>,
    stage_pool: BufferPool,
    mut sink: ChunkSink,
    compression: Compression,
    threads: u32,
) -> io::Result<()> {
    match compression {
        Compression::None => {
            for piece in input {
                sink.write_all(&piece)?;
                stage_pool.give(piece);
            }
            sink.finish()
        }
        Compression::Zstd { level } => {
            let mut enc = zstd::stream::write::Encoder::new(sink, level)?;
            if threads > 0 {
                enc.multithread(threads)?;
                // zstd's default job (4 windows: 2 MiB at level 1) keeps about 27 MiB of
                // buffers for two workers; 1 MiB jobs halve that.
                enc.set_parameter(zstd::stream::raw::CParameter::JobSize(JOB_SIZE))?;
            }
            for piece in input {
                enc.write_all(&piece)?;
                stage_pool.give(piece);
            }
            enc.finish()?.finish()
        }
    }
}
