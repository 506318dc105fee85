//! The TLS handshake of one connection, read from its two streams.

use std::net::SocketAddr;

use chrono::{DateTime, FixedOffset};
use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_message_handshake, parse_tls_raw_record,
    parse_tls_server_hello_extensions, TlsExtension, TlsMessage, TlsMessageHandshake,
};

use super::tcp::*;
use super::tls13::*;
use super::*;
use crate::session::cipher;
use crate::session::{LazyCert, Session};

pub(super) const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// What the handshake has shown so far.
#[derive(Default)]
pub(super) struct Tls {
    pub(super) client_random: Option<Vec<u8>>,
    pub(super) client_session_id: Vec<u8>,
    pub(super) sni: Option<Vec<u8>>,
    pub(super) reneg_offered: bool,
    pub(super) version: Option<u16>,
    pub(super) suite: Option<u16>,
    pub(super) compression: u8,
    pub(super) server_session_id: Vec<u8>,
    pub(super) psk: bool,
    pub(super) server_chain: Option<Vec<Vec<u8>>>,
    pub(super) client_chain: Option<Vec<Vec<u8>>>,
    /// Handshake bytes not yet a whole message, per direction.
    pub(super) pending: [Vec<u8>; 2],
    pub(super) keys: [Option<Keys>; 2],
    pub(super) server_done: bool,
    pub(super) client_done: bool,
}

pub(super) enum Step {
    /// Nothing more can be read now.
    Wait,
    /// Read something; try again.
    Progress,
}

/// A connection being rebuilt.
pub(super) struct Conn {
    pub(super) client: SocketAddr,
    pub(super) server: SocketAddr,
    pub(super) packet: u64,
    pub(super) time: Option<DateTime<FixedOffset>>,
    pub(super) streams: [Stream; 2],
    pub(super) tls: Tls,
}

pub(super) fn tls13_certificate(body: &[u8]) -> Option<Vec<Vec<u8>>> {
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

pub(super) fn u24(b: &[u8]) -> Option<usize> {
    Some(
        (usize::from(*b.first()?) << 16) | (usize::from(*b.get(1)?) << 8) | usize::from(*b.get(2)?),
    )
}

impl Conn {
    /// Reads what the streams hold; `Ok(true)` once the handshake is known.
    pub(super) fn advance(&mut self, keylog: Option<&KeyLog>) -> Result<bool, String> {
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

    pub(super) fn done(&self) -> bool {
        let t = &self.tls;
        t.server_done && t.client_done
    }

    /// Reads the whole TLS records of direction `dir` (0: from the client).
    pub(super) fn records(&mut self, dir: usize, keylog: Option<&KeyLog>) -> Result<Step, String> {
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

    pub(super) fn tls13_keys(&mut self, dir: usize, keylog: Option<&KeyLog>) -> Result<(), String> {
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
    pub(super) fn messages(&mut self, dir: usize) -> Result<(), String> {
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

    pub(super) fn message(&mut self, dir: usize, kind: u8, msg: &[u8]) -> Result<(), String> {
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

    pub(super) fn session(&self) -> Result<Session, String> {
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
