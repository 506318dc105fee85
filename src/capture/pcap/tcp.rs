//! One direction of a TCP connection, reassembled in order, bounded.

use std::collections::BTreeMap;

use super::*;

/// One direction of a TCP connection, reassembled in order.
#[derive(Default)]
pub(super) struct Stream {
    /// Sequence number of the first payload byte.
    pub(super) start: Option<u32>,
    pub(super) data: Vec<u8>,
    /// Segments ahead of `data`, by offset.
    pub(super) ahead: BTreeMap<u64, Vec<u8>>,
    pub(super) ahead_bytes: usize,
    /// Bytes of `data` already read as TLS records.
    pub(super) read: usize,
}

impl Stream {
    /// Adds a segment; returns the bytes newly buffered, or an error when
    /// the stream is over its bound.
    pub(super) fn add(&mut self, seq: u32, payload: &[u8]) -> Result<usize, String> {
        let Some(start) = self.start else {
            return Ok(0);
        };
        // Offsets relative to the first byte (sequence numbers wrap).
        let off = u64::from(seq.wrapping_sub(start));
        if off > (1 << 31) {
            return Ok(0); // a retransmission from before the start
        }
        let have = self.data.len() as u64;
        let before = self.data.len() + self.ahead_bytes;
        if off + payload.len() as u64 <= have {
            return Ok(0);
        }
        if off <= have {
            let skip = (have - off) as usize;
            self.data.extend_from_slice(&payload[skip..]);
            // Segments that now fit.
            while let Some((&o, _)) = self.ahead.iter().next() {
                if o > self.data.len() as u64 {
                    break;
                }
                let seg = self.ahead.remove(&o).expect("present");
                self.ahead_bytes -= seg.len();
                let end = o + seg.len() as u64;
                if end > self.data.len() as u64 {
                    let skip = (self.data.len() as u64 - o) as usize;
                    self.data.extend_from_slice(&seg[skip..]);
                }
            }
        } else if !self.ahead.contains_key(&off) {
            self.ahead_bytes += payload.len();
            self.ahead.insert(off, payload.to_vec());
        }
        let after = self.data.len() + self.ahead_bytes;
        if after > MAX_STREAM {
            return Err(format!(
                "over {} KiB of handshake in one direction: not rebuilt (bound of a connection)",
                MAX_STREAM >> 10
            ));
        }
        Ok(after.saturating_sub(before))
    }

    pub(super) fn buffered(&self) -> usize {
        self.data.len() + self.ahead_bytes
    }
}
