//! Buffers handed back and forth between the pipeline's threads, so a multi-gigabyte backup
//! allocates (and the kernel zero-fills) a handful of buffers rather than one per chunk.

use crossbeam_channel::{bounded, Receiver, Sender};

#[derive(Clone)]
pub(crate) struct BufferPool {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
}

impl BufferPool {
    /// A pool keeping at most `max` idle buffers.
    pub(crate) fn new(max: usize) -> Self {
        let (tx, rx) = bounded(max);
        Self { tx, rx }
    }

    /// An idle buffer (with whatever length it had), or a new empty one.
    pub(crate) fn take(&self, capacity: usize) -> Vec<u8> {
        self.rx
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(capacity))
    }

    /// Returns a buffer for reuse; dropped when the pool is full.
    pub(crate) fn give(&self, buf: Vec<u8>) {
        let _ = self.tx.try_send(buf);
    }
}
