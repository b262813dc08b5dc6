//! Chunk framing: `flags (1) || ciphertext length (u32 BE) || ciphertext || tag (16)`.

/// The chunk is the last of the backup.
pub(crate) const FLAG_FINAL: u8 = 0x01;
/// The chunk carries the trailer rather than content.
pub(crate) const FLAG_TRAILER: u8 = 0x02;
/// Length of a frame header.
pub(crate) const FRAME_HEADER_LEN: usize = 5;
/// Largest trailer accepted (the manifest of a very large document set).
pub(crate) const MAX_TRAILER_LEN: usize = 64 * 1024 * 1024;

pub(crate) fn frame_header(flags: u8, sealed_len: usize) -> [u8; FRAME_HEADER_LEN] {
    let mut h = [0u8; FRAME_HEADER_LEN];
    h[0] = flags;
    h[1..].copy_from_slice(&(sealed_len as u32).to_be_bytes());
    h
}
