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

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::Read;
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, FixedOffset, Local, TimeZone};
use pcap_parser::data::{get_packetdata, PacketData};
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};
use ring::{aead, hkdf};
use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_message_handshake, parse_tls_raw_record,
    parse_tls_server_hello_extensions, TlsExtension, TlsMessage, TlsMessageHandshake,
};

use crate::env::cipher;
use crate::env::{LazyCert, Session};

/// Handshake bytes kept per direction of one connection.
pub const MAX_STREAM: usize = 512 << 10;
/// Bytes kept over all open connections.
pub const MAX_BUFFERED: usize = 256 << 20;
/// Connections open (handshake not finished) at once.
pub const MAX_OPEN: usize = 100_000;

/// The secrets of an `SSLKEYLOGFILE` (NSS key log format) that the
/// handshake needs: TLS 1.3's handshake traffic secrets, by client random.
#[derive(Debug, Default)]
pub struct KeyLog {
    client_hs: HashMap<Vec<u8>, Vec<u8>>,
    server_hs: HashMap<Vec<u8>, Vec<u8>>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl KeyLog {
    /// Reads a key log (`LABEL <client random hex> <secret hex>` lines).
    ///
    /// # Errors
    /// The first malformed line, with its number.
    pub fn parse(text: &str) -> Result<KeyLog, String> {
        let mut k = KeyLog::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            let (label, random, secret) = match parts.as_slice() {
                [l, r, s] => (*l, unhex(r), unhex(s)),
                _ => {
                    return Err(format!(
                        "line {}: expected `LABEL <client random> <secret>` (NSS key log format)",
                        i + 1
                    ))
                }
            };
            let (Some(random), Some(secret)) = (random, secret) else {
                return Err(format!(
                    "line {}: the client random and the secret must be hex",
                    i + 1
                ));
            };
            match label {
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => {
                    k.client_hs.insert(random, secret);
                }
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" => {
                    k.server_hs.insert(random, secret);
                }
                // Other secrets of the format: not needed for the handshake.
                "CLIENT_RANDOM"
                | "CLIENT_EARLY_TRAFFIC_SECRET"
                | "CLIENT_TRAFFIC_SECRET_0"
                | "SERVER_TRAFFIC_SECRET_0"
                | "EXPORTER_SECRET"
                | "EARLY_EXPORTER_SECRET" => {}
                other => {
                    return Err(format!(
                        "line {}: unknown label `{other}` (not an SSLKEYLOGFILE?)",
                        i + 1
                    ))
                }
            }
        }
        Ok(k)
    }

    /// How many TLS 1.3 connections it has keys for.
    pub fn len(&self) -> usize {
        self.client_hs.len()
    }

    /// Whether it holds no TLS 1.3 handshake secret.
    pub fn is_empty(&self) -> bool {
        self.client_hs.is_empty()
    }
}

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

/// One direction of a TCP connection, reassembled in order.
#[derive(Default)]
struct Stream {
    /// Sequence number of the first payload byte.
    start: Option<u32>,
    data: Vec<u8>,
    /// Segments ahead of `data`, by offset.
    ahead: BTreeMap<u64, Vec<u8>>,
    ahead_bytes: usize,
    /// Bytes of `data` already read as TLS records.
    read: usize,
}

impl Stream {
    /// Adds a segment; returns the bytes newly buffered, or an error when
    /// the stream is over its bound.
    fn add(&mut self, seq: u32, payload: &[u8]) -> Result<usize, String> {
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

    fn buffered(&self) -> usize {
        self.data.len() + self.ahead_bytes
    }
}

/// Traffic keys of one direction (TLS 1.3).
struct Keys {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, "", len) (RFC 8446 §7.1).
fn expand_label(alg: hkdf::Algorithm, secret: &[u8], label: &str, out: &mut [u8]) -> Option<()> {
    let full = format!("tls13 {label}");
    let len = (out.len() as u16).to_be_bytes();
    let label_len = [full.len() as u8];
    let ctx_len = [0u8];
    let info: [&[u8]; 4] = [&len, &label_len, full.as_bytes(), &ctx_len];
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    prk.expand(&info, Len(out.len())).ok()?.fill(out).ok()
}

impl Keys {
    fn new(suite: u16, secret: &[u8]) -> Result<Keys, String> {
        let (aead_alg, hkdf_alg) = match suite {
            0x1301 => (&aead::AES_128_GCM, hkdf::HKDF_SHA256),
            0x1302 => (&aead::AES_256_GCM, hkdf::HKDF_SHA384),
            0x1303 => (&aead::CHACHA20_POLY1305, hkdf::HKDF_SHA256),
            other => {
                return Err(format!(
                    "TLS 1.3 cipher suite 0x{other:04x} cannot be decrypted here"
                ))
            }
        };
        let mut key = vec![0u8; aead_alg.key_len()];
        let mut iv = [0u8; 12];
        expand_label(hkdf_alg, secret, "key", &mut key)
            .and_then(|_| expand_label(hkdf_alg, secret, "iv", &mut iv))
            .ok_or("the key log's secret has the wrong length for the cipher suite")?;
        let key = aead::UnboundKey::new(aead_alg, &key).map_err(|_| "bad key length")?;
        Ok(Keys {
            key: aead::LessSafeKey::new(key),
            iv,
            seq: 0,
        })
    }

    /// Decrypts one record: its inner content type and plaintext.
    fn open(&mut self, header: &[u8], body: &[u8]) -> Result<(u8, Vec<u8>), String> {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq += 1;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(header),
                &mut buf,
            )
            .map_err(|_| {
                "a handshake record does not decrypt with the key log's secret (wrong key log?)"
            })?;
        let end = plain
            .iter()
            .rposition(|&b| b != 0)
            .ok_or("an empty encrypted record")?;
        let kind = plain[end];
        Ok((kind, plain[..end].to_vec()))
    }
}

const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// What the handshake has shown so far.
#[derive(Default)]
struct Tls {
    client_random: Option<Vec<u8>>,
    client_session_id: Vec<u8>,
    sni: Option<Vec<u8>>,
    reneg_offered: bool,
    version: Option<u16>,
    suite: Option<u16>,
    compression: u8,
    server_session_id: Vec<u8>,
    psk: bool,
    server_chain: Option<Vec<Vec<u8>>>,
    client_chain: Option<Vec<Vec<u8>>>,
    /// Handshake bytes not yet a whole message, per direction.
    pending: [Vec<u8>; 2],
    keys: [Option<Keys>; 2],
    server_done: bool,
    client_done: bool,
}

enum Step {
    /// Nothing more can be read now.
    Wait,
    /// Read something; try again.
    Progress,
}

/// A connection being rebuilt.
struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    packet: u64,
    time: Option<DateTime<FixedOffset>>,
    streams: [Stream; 2],
    tls: Tls,
}

fn tls13_certificate(body: &[u8]) -> Option<Vec<Vec<u8>>> {
    let ctx = usize::from(*body.first()?);
    let rest = body.get(1 + ctx..)?;
    let list_len = u24(rest)?;
    let mut list = rest.get(3..3 + list_len)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let n = u24(list)?;
        out.push(list.get(3..3 + n)?.to_vec());
        let ext = usize::from(u16::from_be_bytes([*list.get(3 + n)?, *list.get(4 + n)?]));
        list = list.get(5 + n + ext..)?;
    }
    Some(out)
}

fn u24(b: &[u8]) -> Option<usize> {
    Some(
        (usize::from(*b.first()?) << 16) | (usize::from(*b.get(1)?) << 8) | usize::from(*b.get(2)?),
    )
}

impl Conn {
    /// Reads what the streams hold; `Ok(true)` once the handshake is known.
    fn advance(&mut self, keylog: Option<&KeyLog>) -> Result<bool, String> {
        loop {
            let mut progress = false;
            for dir in [0usize, 1] {
                if let Step::Progress = self.records(dir, keylog)? {
                    progress = true;
                }
            }
            if self.done() {
                return Ok(true);
            }
            if !progress {
                return Ok(false);
            }
        }
    }

    fn done(&self) -> bool {
        let t = &self.tls;
        t.server_done && t.client_done
    }

    /// Reads the whole TLS records of direction `dir` (0: from the client).
    fn records(&mut self, dir: usize, keylog: Option<&KeyLog>) -> Result<Step, String> {
        let mut step = Step::Wait;
        loop {
            if (dir == 0 && self.tls.client_done) || (dir == 1 && self.tls.server_done) {
                return Ok(step);
            }
            let s = &self.streams[dir];
            let input = &s.data[s.read..];
            if input.len() < 5 {
                return Ok(step);
            }
            let (rest, record) = match parse_tls_raw_record(input) {
                Ok(r) => r,
                Err(tls_parser::Err::Incomplete(_)) => return Ok(step),
                Err(_) => {
                    return Err(format!(
                        "the {} sent something that is not TLS (at byte {})",
                        if dir == 0 { "client" } else { "server" },
                        s.read
                    ))
                }
            };
            let used = input.len() - rest.len();
            let header = input[..5].to_vec();
            let kind = record.hdr.record_type.0;
            let body = record.data.to_vec();
            // An encrypted record needs its keys: wait for the other side.
            if kind == 23 && self.tls.keys[dir].is_none() {
                let tls13 = self.tls.version == Some(0x0304);
                if !tls13 {
                    if self.tls.version.is_none() {
                        return Ok(step);
                    }
                    return Err("application data before the handshake finished".into());
                }
                self.tls13_keys(dir, keylog)?;
            }
            self.streams[dir].read += used;
            step = Step::Progress;
            match kind {
                22 => {
                    self.tls.pending[dir].extend_from_slice(&body);
                    self.messages(dir)?;
                }
                20 => {
                    // ChangeCipherSpec: in TLS ≤ 1.2 the client's ends what
                    // the handshake shows in clear.
                    if self.tls.version.is_some_and(|v| v < 0x0304) {
                        if dir == 0 {
                            self.tls.client_done = true;
                        } else {
                            self.tls.server_done = true;
                        }
                    }
                }
                21 => {
                    let what = match body.get(1) {
                        Some(&d) => format!("alert {d}"),
                        None => "an alert".into(),
                    };
                    return Err(format!(
                        "the {} sent {what}: the handshake failed",
                        if dir == 0 { "client" } else { "server" }
                    ));
                }
                23 => {
                    let keys = self.tls.keys[dir].as_mut().expect("keys set above");
                    let (inner, plain) = keys.open(&header, &body)?;
                    match inner {
                        22 => {
                            self.tls.pending[dir].extend_from_slice(&plain);
                            self.messages(dir)?;
                        }
                        21 => {
                            return Err(format!(
                                "the {} sent an alert (alert {}): the handshake failed",
                                if dir == 0 { "client" } else { "server" },
                                plain.get(1).copied().unwrap_or(0)
                            ))
                        }
                        _ => return Err("application data before the handshake finished".into()),
                    }
                }
                other => return Err(format!("TLS record of unknown type {other}")),
            }
        }
    }

    fn tls13_keys(&mut self, dir: usize, keylog: Option<&KeyLog>) -> Result<(), String> {
        let Some(keylog) = keylog else {
            return Err("TLS 1.3: the certificates are encrypted; give the key log of the client or server (--keylog SSLKEYLOGFILE)".into());
        };
        let random = self.tls.client_random.clone().ok_or("no ClientHello")?;
        let table = if dir == 0 {
            &keylog.client_hs
        } else {
            &keylog.server_hs
        };
        let secret = table.get(&random).ok_or_else(|| {
            format!(
                "TLS 1.3: no {} for client random {} in the key log",
                if dir == 0 {
                    "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
                } else {
                    "SERVER_HANDSHAKE_TRAFFIC_SECRET"
                },
                random
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )
        })?;
        let suite = self.tls.suite.ok_or("no ServerHello")?;
        self.tls.keys[dir] = Some(Keys::new(suite, secret)?);
        Ok(())
    }

    /// Reads the whole handshake messages of direction `dir`.
    fn messages(&mut self, dir: usize) -> Result<(), String> {
        loop {
            let buf = &self.tls.pending[dir];
            if buf.len() < 4 {
                return Ok(());
            }
            let len = u24(&buf[1..]).expect("4 bytes");
            if buf.len() < 4 + len {
                return Ok(());
            }
            let msg: Vec<u8> = self.tls.pending[dir].drain(..4 + len).collect();
            self.message(dir, msg[0], &msg)?;
        }
    }

    fn message(&mut self, dir: usize, kind: u8, msg: &[u8]) -> Result<(), String> {
        let t = &mut self.tls;
        let tls13 = t.version == Some(0x0304);
        let who = if dir == 0 { "client" } else { "server" };
        let bad = |what: &str| format!("the {who}'s {what} does not parse");
        match kind {
            // Certificate, TLS 1.3 form.
            11 if tls13 => {
                let chain = tls13_certificate(&msg[4..]).ok_or_else(|| bad("Certificate"))?;
                if dir == 0 {
                    t.client_chain = Some(chain);
                } else {
                    t.server_chain = Some(chain);
                }
            }
            // Finished (TLS 1.3: the end of each side's handshake).
            20 if tls13 => {
                if dir == 0 {
                    t.client_done = true;
                } else {
                    t.server_done = true;
                }
            }
            _ => {
                let parsed = match parse_tls_message_handshake(msg) {
                    Ok((_, TlsMessage::Handshake(h))) => h,
                    _ if kind == 4 || kind == 8 || kind == 13 || kind == 15 || kind == 22 => {
                        return Ok(())
                    }
                    _ => return Err(bad(&format!("handshake message {kind}"))),
                };
                match parsed {
                    TlsMessageHandshake::ClientHello(ch) if dir == 0 => {
                        t.client_random = Some(ch.random.to_vec());
                        t.client_session_id = ch.session_id.unwrap_or_default().to_vec();
                        t.reneg_offered |= ch.ciphers.iter().any(|c| c.0 == 0x00ff);
                        if let Some(ext) = ch.ext {
                            let (_, exts) = parse_tls_client_hello_extensions(ext)
                                .map_err(|_| bad("ClientHello's extensions"))?;
                            for e in exts {
                                match e {
                                    TlsExtension::SNI(names) => {
                                        t.sni = names
                                            .iter()
                                            .find(|(k, _)| k.0 == 0)
                                            .map(|(_, n)| n.to_vec());
                                    }
                                    TlsExtension::RenegotiationInfo(_) => t.reneg_offered = true,
                                    _ => {}
                                }
                            }
                        }
                    }
                    TlsMessageHandshake::ServerHello(sh) if dir == 1 => {
                        if sh.random == HRR_RANDOM {
                            // HelloRetryRequest: a second ClientHello follows.
                            return Ok(());
                        }
                        t.version = Some(sh.version.0);
                        t.suite = Some(sh.cipher.0);
                        t.compression = sh.compression.0;
                        t.server_session_id = sh.session_id.unwrap_or_default().to_vec();
                        if let Some(ext) = sh.ext {
                            let (_, exts) = parse_tls_server_hello_extensions(ext)
                                .map_err(|_| bad("ServerHello's extensions"))?;
                            for e in exts {
                                match e {
                                    TlsExtension::SupportedVersions(v) => {
                                        if let Some(v) = v.first() {
                                            t.version = Some(v.0);
                                        }
                                    }
                                    TlsExtension::PreSharedKey(_) => t.psk = true,
                                    _ => {}
                                }
                            }
                        }
                        if t.version == Some(0x0304) && t.psk {
                            return Err("a resumed TLS 1.3 session (pre-shared key): the certificates were sent in an earlier connection".into());
                        }
                        if t.version.is_some_and(|v| v < 0x0304)
                            && !t.client_session_id.is_empty()
                            && t.client_session_id == t.server_session_id
                        {
                            return Err("a resumed session (abbreviated handshake): the certificates were sent in an earlier connection".into());
                        }
                    }
                    TlsMessageHandshake::Certificate(c) => {
                        let chain = c.cert_chain.iter().map(|c| c.data.to_vec()).collect();
                        if dir == 0 {
                            t.client_chain = Some(chain);
                        } else {
                            t.server_chain = Some(chain);
                        }
                    }
                    TlsMessageHandshake::ServerDone(_) if dir == 1 => {}
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn session(&self) -> Result<Session, String> {
        let t = &self.tls;
        let version = t.version.ok_or("no ServerHello")?;
        let protocol = match version {
            0x0304 => "TLSv1.3",
            0x0303 => "TLSv1.2",
            0x0302 => "TLSv1.1",
            0x0301 => "TLSv1",
            0x0300 => "SSLv3",
            v => return Err(format!("unknown TLS version 0x{v:04x}")),
        };
        let suite_id = t.suite.ok_or("no cipher suite")?;
        let suite = cipher::by_id(suite_id)
            .ok_or_else(|| format!("cipher suite 0x{suite_id:04x} is not one OpenSSL names"))?;
        let sni = match &t.sni {
            Some(n) => Some(String::from_utf8(n.clone()).map_err(|_| "the SNI name is not text")?),
            None => None,
        };
        let lazy = |c: &Option<Vec<Vec<u8>>>| -> Vec<LazyCert> {
            c.iter()
                .flatten()
                .map(|d| LazyCert::from_der(d.clone()))
                .collect()
        };
        let mut s = Session {
            id: Some(format!("{}->{}", self.client, self.server)),
            time: self.time,
            protocol: Some(protocol.into()),
            cipher: Some(suite.openssl.to_string()),
            cipher_bits: Some(suite.use_bits.into()),
            cipher_alg_bits: Some(suite.alg_bits.into()),
            sni,
            session_id: (version < 0x0304 && !t.server_session_id.is_empty()).then(|| {
                t.server_session_id
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            }),
            resumed: Some(false),
            secure_reneg: Some(t.reneg_offered),
            compression: Some(
                if t.compression == 0 {
                    "NULL"
                } else {
                    "DEFLATE"
                }
                .into(),
            ),
            client_chain: lazy(&t.client_chain),
            server_chain: lazy(&t.server_chain),
            ..Session::default()
        };
        let ip = self.client.ip().to_string();
        let port = self.client.port().to_string();
        for (k, v) in [
            ("REMOTE_ADDR", &ip),
            ("CONN_REMOTE_ADDR", &ip),
            ("REMOTE_PORT", &port),
        ] {
            s.vars
                .set(k, v.as_bytes())
                .map_err(|e| format!("{k}: {e}"))?;
        }
        Ok(s)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_log_lines() {
        let k = KeyLog::parse("# comment\nCLIENT_HANDSHAKE_TRAFFIC_SECRET 0a0b 0c0d\nSERVER_HANDSHAKE_TRAFFIC_SECRET 0a0b 0e0f\nCLIENT_RANDOM 00 11\n").unwrap();
        assert_eq!(k.len(), 1);
        assert!(KeyLog::parse("CLIENT_HANDSHAKE_TRAFFIC_SECRET zz 00")
            .unwrap_err()
            .starts_with("line 1:"));
        assert!(KeyLog::parse("\nBOGUS 00 00")
            .unwrap_err()
            .starts_with("line 2: unknown label"));
    }

    #[test]
    fn hkdf_expand_label_matches_rfc8448() {
        // RFC 8448 §3 (simple 1-RTT): server handshake traffic secret → key, iv.
        let secret =
            unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38").unwrap();
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        expand_label(hkdf::HKDF_SHA256, &secret, "key", &mut key).unwrap();
        expand_label(hkdf::HKDF_SHA256, &secret, "iv", &mut iv).unwrap();
        assert_eq!(
            key.to_vec(),
            unhex("3fce516009c21727d0f2e4e86ee403bc").unwrap()
        );
        assert_eq!(iv.to_vec(), unhex("5d313eb2671276ee13000b30").unwrap());
    }

    #[test]
    fn streams_reassemble_out_of_order_and_bound() {
        let mut s = Stream {
            start: Some(u32::MAX - 1),
            ..Stream::default()
        };
        s.add(2, b"cd").unwrap(); // wraps: offset 4
        s.add(u32::MAX - 1, b"ab").unwrap();
        assert_eq!(s.data, b"ab");
        s.add(0, b"xc").unwrap(); // offset 2: fills the gap
        assert_eq!(s.data, b"abxccd");
        let big = vec![0u8; MAX_STREAM];
        assert!(s.add(5u32.wrapping_add(u32::MAX - 1), &big).is_err());
    }

    /// A pcap file of Ethernet/IPv4/TCP packets: (from client?, seq, flags
    /// "S"/"A"/"F"/"R", payload).
    fn pcap(packets: &[(bool, u32, &str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for v in [
            0xa1b2c3d4u32.to_le_bytes().to_vec(),
            vec![2, 0, 4, 0],
            vec![0; 8],
            65535u32.to_le_bytes().to_vec(),
            1u32.to_le_bytes().to_vec(),
        ] {
            out.extend(v);
        }
        for (i, (from_client, seq, flags, payload)) in packets.iter().enumerate() {
            let (sp, dp, sa, da) = if *from_client {
                (40000, 443, [10, 0, 0, 1], [10, 0, 0, 2])
            } else {
                (443, 40000, [10, 0, 0, 2], [10, 0, 0, 1])
            };
            let mut b = etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
                .ipv4(sa, da, 64)
                .tcp(sp, dp, *seq, 1000);
            if flags.contains('S') {
                b = b.syn();
            }
            if flags.contains('A') {
                b = b.ack(1);
            }
            if flags.contains('F') {
                b = b.fin();
            }
            if flags.contains('R') {
                b = b.rst();
            }
            let mut frame = Vec::new();
            b.write(&mut frame, payload).unwrap();
            for v in [
                (i as u32 + 1_700_000_000).to_le_bytes(),
                0u32.to_le_bytes(),
                (frame.len() as u32).to_le_bytes(),
                (frame.len() as u32).to_le_bytes(),
            ] {
                out.extend(v);
            }
            out.extend(frame);
        }
        out
    }

    /// The same packets as a pcapng file (section, interface, enhanced
    /// packet blocks).
    fn pcapng(packets: &[(bool, u32, &str, &[u8])]) -> Vec<u8> {
        let legacy = pcap(packets);
        let mut out = Vec::new();
        let block = |out: &mut Vec<u8>, kind: u32, body: &[u8]| {
            let len = (12 + body.len().next_multiple_of(4)) as u32;
            out.extend(kind.to_le_bytes());
            out.extend(len.to_le_bytes());
            out.extend(body);
            out.extend(std::iter::repeat_n(
                0u8,
                body.len().next_multiple_of(4) - body.len(),
            ));
            out.extend(len.to_le_bytes());
        };
        let mut shb = 0x1A2B3C4Du32.to_le_bytes().to_vec();
        shb.extend([1, 0, 0, 0]);
        shb.extend((-1i64).to_le_bytes());
        block(&mut out, 0x0A0D0D0A, &shb);
        let mut idb = vec![1, 0, 0, 0];
        idb.extend(65535u32.to_le_bytes());
        block(&mut out, 1, &idb);
        let mut rest = &legacy[24..];
        while rest.len() >= 16 {
            let len = u32::from_le_bytes(rest[8..12].try_into().unwrap()) as usize;
            let secs = u64::from(u32::from_le_bytes(rest[0..4].try_into().unwrap()));
            let ts = secs * 1_000_000;
            let mut epb = 0u32.to_le_bytes().to_vec();
            epb.extend(((ts >> 32) as u32).to_le_bytes());
            epb.extend((ts as u32).to_le_bytes());
            epb.extend((len as u32).to_le_bytes());
            epb.extend((len as u32).to_le_bytes());
            epb.extend(&rest[16..16 + len]);
            let pad = epb.len().next_multiple_of(4) - epb.len();
            epb.extend(std::iter::repeat_n(0u8, pad));
            block(&mut out, 6, &epb);
            rest = &rest[16 + len..];
        }
        out
    }

    #[test]
    fn pcapng_reads_as_pcap() {
        let packets: [(bool, u32, &str, &[u8]); 3] = [
            (true, 100, "S", b""),
            (false, 500, "SA", b""),
            (true, 101, "A", b"GET / HTTP/1.1\r\n\r\n"),
        ];
        let a = read(pcap(&packets));
        let b = read(pcapng(&packets));
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 1);
        assert_eq!(reason(&a[0]), reason(&b[0]));
        let (Ok(a), Ok(b)) = (&a[0], &b[0]) else {
            panic!()
        };
        assert_eq!(
            (a.client, a.server, a.packet),
            (b.client, b.server, b.packet)
        );
    }

    fn read(bytes: Vec<u8>) -> Vec<Result<Connection, String>> {
        Reader::new(std::io::Cursor::new(bytes), None)
            .unwrap()
            .collect()
    }

    fn reason(c: &Result<Connection, String>) -> String {
        match c {
            Ok(c) => c.session.as_ref().err().cloned().unwrap_or_default(),
            Err(e) => e.clone(),
        }
    }

    #[test]
    fn connections_that_cannot_be_rebuilt_say_why() {
        // Not TLS.
        let r = read(pcap(&[
            (true, 100, "S", b""),
            (false, 500, "SA", b""),
            (true, 101, "A", b"GET / HTTP/1.1\r\n\r\n"),
        ]));
        assert_eq!(r.len(), 1);
        assert!(reason(&r[0]).contains("not TLS"), "{}", reason(&r[0]));
        // A ClientHello cut short, then the capture ends.
        let r = read(pcap(&[
            (true, 100, "S", b""),
            (true, 101, "A", &[22, 3, 1, 0, 200, 1, 0]),
        ]));
        assert!(
            reason(&r[0]).starts_with("the capture ends: no TLS handshake"),
            "{}",
            reason(&r[0])
        );
        // A missing segment.
        let r = read(pcap(&[
            (true, 100, "S", b""),
            (true, 150, "A", &[22, 3, 1, 0, 5]),
            (true, 150, "F", b""),
        ]));
        assert!(
            reason(&r[0]).contains("TCP segments are missing"),
            "{}",
            reason(&r[0])
        );
        // No SYN: the capture began later.
        let r = read(pcap(&[(true, 100, "A", b"xx"), (true, 102, "A", b"yy")]));
        assert_eq!(r.len(), 1);
        assert!(reason(&r[0]).contains("no SYN"), "{}", reason(&r[0]));
        // An alert from the server.
        let r = read(pcap(&[
            (true, 100, "S", b""),
            (false, 500, "SA", b""),
            (false, 501, "A", &[21, 3, 3, 0, 2, 2, 40]),
        ]));
        assert!(reason(&r[0]).contains("alert 40"), "{}", reason(&r[0]));
        // A damaged file after a good packet.
        let mut bytes = pcap(&[(true, 100, "S", b"")]);
        bytes.extend([0xff; 40]);
        let r = read(bytes);
        assert!(
            r.iter().any(|c| c.is_err() || !reason(c).is_empty()),
            "{r:?}"
        );
    }

    #[test]
    fn a_flood_of_segments_is_bounded() {
        let mut packets: Vec<(bool, u32, &str, &[u8])> = vec![(true, 0, "S", b"")];
        let chunk = [7u8; 1400];
        // Out of order, never filling the first byte: all kept ahead.
        for i in 0..500u32 {
            packets.push((true, 2 + i * 1400, "A", &chunk));
        }
        let r = read(pcap(&packets));
        assert_eq!(r.len(), 1);
        assert!(
            reason(&r[0]).contains("KiB of handshake"),
            "{}",
            reason(&r[0])
        );
    }

    #[test]
    fn garbage_never_panics() {
        // Pseudo-random payloads, sequence numbers and flags.
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let payloads: Vec<Vec<u8>> = (0..300)
            .map(|_| {
                let n = (next() % 300) as usize;
                let mut p: Vec<u8> = (0..n).map(|_| next() as u8).collect();
                if next() % 3 == 0 && p.len() > 5 {
                    p[0] = 22;
                    p[1] = 3;
                    p[2] = 3;
                }
                p
            })
            .collect();
        let flags = ["S", "A", "SA", "F", "R", "A"];
        let packets: Vec<(bool, u32, &str, &[u8])> = payloads
            .iter()
            .map(|p| {
                (
                    next() % 2 == 0,
                    (next() % 4000) as u32,
                    flags[(next() % 6) as usize],
                    p.as_slice(),
                )
            })
            .collect();
        let _ = read(pcap(&packets));
    }

    #[test]
    fn not_a_capture() {
        let e = Reader::new(
            std::io::Cursor::new(b"hello world, not pcap".to_vec()),
            None,
        )
        .unwrap_err();
        assert!(e.contains("not a pcap"), "{e}");
    }
}
