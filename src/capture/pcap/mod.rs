//! TLS sessions rebuilt from packet captures (pcap and pcapng, feature
//! `cli`): each TCP connection's streams are reassembled in order, the TLS
//! handshake is read from them (tls-parser), and for TLS 1.3 its encrypted
//! part is decrypted with the handshake traffic secrets of an
//! `SSLKEYLOGFILE` ([`KeyLog`]; HKDF-Expand-Label and the AEAD from `ring`).
//! A connection whose handshake cannot be rebuilt is returned with the
//! reason (no key, truncated capture, resumed session …), never skipped.
//!
//! Memory is bounded: at most [`MAX_STREAM`] bytes of handshake per
//! direction and connection, [`MAX_BUFFERED`] bytes over all open
//! connections, [`MAX_OPEN`] connections open at once; what crosses a
//! bound is reported on its connection.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read;
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, FixedOffset, Local, TimeZone};
use pcap_parser::data::{get_packetdata, PacketData};
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};

use crate::session::Session;

/// Handshake bytes kept per direction of one connection.
pub const MAX_STREAM: usize = 512 << 10;
/// Bytes kept over all open connections.
pub const MAX_BUFFERED: usize = 256 << 20;
/// Connections open (handshake not finished) at once.
pub const MAX_OPEN: usize = 100_000;

mod handshake;
mod keylog;
mod tcp;
#[cfg(test)]
mod tests;
mod tls13;

use handshake::*;
pub use keylog::KeyLog;

/// One TCP connection of the capture.
#[derive(Debug)]
pub struct Connection {
    /// The client's address and port.
    pub client: SocketAddr,
    /// The server's.
    pub server: SocketAddr,
    /// The capture's packet number (1-based) of its first packet.
    pub packet: u64,
    /// Its session, or why it could not be rebuilt.
    pub session: Result<Session, String>,
}

impl Connection {
    /// `client->server`, its name in reports.
    pub fn name(&self) -> String {
        format!("{}->{}", self.client, self.server)
    }
}

/// The TLS connections of a capture, in the order their handshakes end.
pub struct Reader<'k> {
    pcap: Box<dyn pcap_parser::traits::PcapReaderIterator + Send>,
    /// Link type and timestamp resolution (pcapng: per interface).
    links: Vec<(Linktype, u64)>,
    legacy: Option<(Linktype, bool)>,
    keylog: Option<&'k KeyLog>,
    open: HashMap<(SocketAddr, SocketAddr), Conn>,
    /// Connections finished (or failed) whose later packets are ignored.
    closed: HashSet<(SocketAddr, SocketAddr)>,
    ready: VecDeque<Connection>,
    buffered: usize,
    packet: u64,
    eof: bool,
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("packet", &self.packet)
            .finish()
    }
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl<'k> Reader<'k> {
    /// Starts reading a pcap or pcapng capture.
    ///
    /// # Errors
    /// The input is neither.
    pub fn new(
        input: impl Read + Send + 'static,
        keylog: Option<&'k KeyLog>,
    ) -> Result<Reader<'k>, String> {
        let pcap = pcap_parser::create_reader(1 << 20, input).map_err(|e| match e {
            PcapError::Eof => "an empty file (not a pcap or pcapng capture)".to_string(),
            e => format!("not a pcap or pcapng capture ({e})"),
        })?;
        Ok(Reader {
            pcap,
            links: Vec::new(),
            legacy: None,
            keylog,
            open: HashMap::new(),
            closed: HashSet::new(),
            ready: VecDeque::new(),
            buffered: 0,
            packet: 0,
            eof: false,
        })
    }

    fn finish(&mut self, k: (SocketAddr, SocketAddr), result: Result<(), String>) {
        if let Some(c) = self.open.remove(&k) {
            self.buffered -= c.streams[0].buffered() + c.streams[1].buffered();
            let session = result.and_then(|()| c.session());
            self.closed.insert(k);
            self.ready.push_back(Connection {
                client: c.client,
                server: c.server,
                packet: c.packet,
                session,
            });
        }
    }

    /// A connection that ended (FIN, RST, end of capture) before its
    /// handshake did.
    fn incomplete(c: &Conn, why: &str) -> String {
        let gap = c.streams.iter().any(|s| !s.ahead.is_empty());
        let what = if gap {
            "TCP segments are missing (packets the capture dropped?)"
        } else if c.tls.version.is_none() {
            "no TLS handshake (not TLS, or the capture is truncated)"
        } else {
            "the handshake is incomplete (a truncated capture or a failed handshake)"
        };
        format!("{why}: {what}")
    }

    fn packet(&mut self, data: &[u8], link: Linktype, time: Option<DateTime<FixedOffset>>) {
        let Some(pd) = get_packetdata(data, link, data.len()) else {
            return;
        };
        let sliced = match pd {
            PacketData::L2(eth) => match link {
                Linktype::LINUX_SLL => etherparse::SlicedPacket::from_linux_sll(eth),
                _ => etherparse::SlicedPacket::from_ethernet(eth),
            },
            PacketData::L3(_, ip) => etherparse::SlicedPacket::from_ip(ip),
            _ => return,
        };
        let Ok(p) = sliced else { return };
        let (src_ip, dst_ip): (IpAddr, IpAddr) = match &p.net {
            Some(etherparse::NetSlice::Ipv4(v4)) => (
                v4.header().source_addr().into(),
                v4.header().destination_addr().into(),
            ),
            Some(etherparse::NetSlice::Ipv6(v6)) => (
                v6.header().source_addr().into(),
                v6.header().destination_addr().into(),
            ),
            _ => return,
        };
        let Some(etherparse::TransportSlice::Tcp(tcp)) = &p.transport else {
            return;
        };
        let src = SocketAddr::new(src_ip, tcp.source_port());
        let dst = SocketAddr::new(dst_ip, tcp.destination_port());
        let k = key(src, dst);
        if tcp.syn() && !tcp.ack() {
            // A new connection (also on a reused port pair).
            if let Some(c) = self.open.get(&k) {
                if c.client == src
                    && c.streams[0].start == Some(tcp.sequence_number().wrapping_add(1))
                {
                    return; // a retransmitted SYN
                }
                let why = Reader::incomplete(c, "a new connection on the same ports");
                self.finish(k, Err(why));
            }
            self.closed.remove(&k);
            if self.open.len() >= MAX_OPEN {
                self.closed.insert(k);
                self.ready.push_back(Connection {
                    client: src,
                    server: dst,
                    packet: self.packet,
                    session: Err(format!(
                        "more than {MAX_OPEN} connections open at once: not followed (bound)"
                    )),
                });
                return;
            }
            let mut c = Conn {
                client: src,
                server: dst,
                packet: self.packet,
                time,
                streams: Default::default(),
                tls: Tls::default(),
            };
            c.streams[0].start = Some(tcp.sequence_number().wrapping_add(1));
            self.open.insert(k, c);
            return;
        }
        if self.closed.contains(&k) {
            return;
        }
        let Some(c) = self.open.get_mut(&k) else {
            // The capture began after this connection opened.
            self.closed.insert(k);
            let (client, server) = if tcp.destination_port() < tcp.source_port() {
                (src, dst)
            } else {
                (dst, src)
            };
            self.ready.push_back(Connection {
                client,
                server,
                packet: self.packet,
                session: Err("the capture began after the connection opened (no SYN): its handshake is not in it".into()),
            });
            return;
        };
        let dir = usize::from(src != c.client);
        if dir == 1 && tcp.syn() && c.streams[1].start.is_none() {
            c.streams[1].start = Some(tcp.sequence_number().wrapping_add(1));
        }
        let payload = tcp.payload();
        let mut result = Ok(false);
        if !payload.is_empty() {
            let before = c.streams[dir].buffered();
            let added = c.streams[dir].add(tcp.sequence_number(), payload);
            // What the stream holds now, whether or not it went over its bound.
            self.buffered = self.buffered + c.streams[dir].buffered() - before;
            result = match added {
                Ok(_) => c.advance(self.keylog),
                Err(e) => Err(e),
            };
        }
        if self.buffered > MAX_BUFFERED && !matches!(result, Ok(true)) {
            result = Err(format!(
                "over {} MiB buffered across open connections: this one was dropped (bound)",
                MAX_BUFFERED >> 20
            ));
        }
        match result {
            Ok(true) => self.finish(k, Ok(())),
            Err(e) => self.finish(k, Err(e)),
            Ok(false) if tcp.rst() || tcp.fin() => {
                let c = &self.open[&k];
                let why = Reader::incomplete(c, if tcp.rst() { "reset" } else { "closed" });
                self.finish(k, Err(why));
            }
            Ok(false) => {}
        }
    }

    fn timestamp(secs: u64, frac: u64, per_sec: u64) -> Option<DateTime<FixedOffset>> {
        let nanos = if per_sec == 0 {
            0
        } else {
            (frac as u128 * 1_000_000_000 / per_sec as u128) as u32
        };
        Local
            .timestamp_opt(i64::try_from(secs).ok()?, nanos.min(999_999_999))
            .single()
            .map(|t| t.fixed_offset())
    }

    /// Reads the capture until a connection is ready (or it ends).
    fn fill(&mut self) -> Result<(), String> {
        while self.ready.is_empty() && !self.eof {
            match self.pcap.next() {
                Ok((offset, block)) => {
                    let mut pkt: Option<(Vec<u8>, Linktype, Option<DateTime<FixedOffset>>)> = None;
                    match block {
                        PcapBlockOwned::LegacyHeader(h) => {
                            self.legacy = Some((h.network, h.is_nanosecond_precision()));
                        }
                        PcapBlockOwned::Legacy(b) => {
                            let (link, nano) = self.legacy.unwrap_or((Linktype::ETHERNET, false));
                            let per = if nano { 1_000_000_000 } else { 1_000_000 };
                            pkt = Some((
                                b.data.to_vec(),
                                link,
                                Reader::timestamp(u64::from(b.ts_sec), u64::from(b.ts_usec), per),
                            ));
                        }
                        PcapBlockOwned::NG(pcap_parser::Block::SectionHeader(_)) => {
                            self.links.clear()
                        }
                        PcapBlockOwned::NG(pcap_parser::Block::InterfaceDescription(idb)) => {
                            let res = idb.ts_resolution().unwrap_or(1_000_000);
                            self.links.push((idb.linktype, res));
                        }
                        PcapBlockOwned::NG(pcap_parser::Block::EnhancedPacket(epb)) => {
                            let (link, res) = self
                                .links
                                .get(epb.if_id as usize)
                                .copied()
                                .unwrap_or((Linktype::ETHERNET, 1_000_000));
                            let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                            let (secs, frac) = match ts.checked_div(res) {
                                Some(secs) => (secs, ts % res),
                                None => (ts, 0),
                            };
                            let caplen = (epb.caplen as usize).min(epb.data.len());
                            pkt = Some((
                                epb.data[..caplen].to_vec(),
                                link,
                                Reader::timestamp(secs, frac, res),
                            ));
                        }
                        PcapBlockOwned::NG(pcap_parser::Block::SimplePacket(spb)) => {
                            let (link, _) = self
                                .links
                                .first()
                                .copied()
                                .unwrap_or((Linktype::ETHERNET, 1_000_000));
                            pkt = Some((spb.data.to_vec(), link, None));
                        }
                        PcapBlockOwned::NG(_) => {}
                    }
                    self.pcap.consume(offset);
                    if let Some((data, link, time)) = pkt {
                        self.packet += 1;
                        self.packet(&data, link, time);
                    }
                }
                Err(PcapError::Eof) => self.end(),
                Err(PcapError::Incomplete(_)) => {
                    if self.pcap.reader_exhausted() {
                        self.end_truncated();
                    } else {
                        self.pcap.refill().map_err(|e| {
                            format!("reading the capture after packet {}: {e}", self.packet)
                        })?;
                    }
                }
                Err(e) => {
                    return Err(format!(
                        "the capture is damaged after packet {}: {e}",
                        self.packet
                    ))
                }
            }
        }
        Ok(())
    }

    fn end_truncated(&mut self) {
        self.eof = true;
        let keys: Vec<_> = self.open.keys().copied().collect();
        for k in keys {
            let why = Reader::incomplete(
                &self.open[&k],
                "the capture file ends in the middle of a packet",
            );
            self.finish(k, Err(why));
        }
    }

    fn end(&mut self) {
        self.eof = true;
        let mut keys: Vec<_> = self.open.iter().map(|(k, c)| (c.packet, *k)).collect();
        keys.sort();
        for (_, k) in keys {
            let why = Reader::incomplete(&self.open[&k], "the capture ends");
            self.finish(k, Err(why));
        }
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Connection, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.fill() {
            self.eof = true;
            self.open.clear();
            return Some(Err(e));
        }
        self.ready.pop_front().map(Ok)
    }
}
