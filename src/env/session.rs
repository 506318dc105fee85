//! Captured sessions and the environment built from them.
//!
//! A [`Session`] is what a TLS terminator knows about one connection: the
//! negotiated protocol and cipher, the certificate chains, the clock, and the
//! request variables. It reads from one JSON object (the captured-session
//! format, documented in the README); [`SessionEnv`] is the [`Env`] over it,
//! computing each variable only when an expression reads it and parsing a
//! certificate only when one of its variables is read.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use elsa::FrozenMap;
use serde::Deserialize;

use std::sync::Arc;

use super::cert::{Cert, CertError};
use super::cipher;
use super::var::*;
use super::verify::{Outcome, Verifier};
use super::{time_values, Env, VarMap};
use crate::error::ErrorKind;
use crate::syntax::Dialect;

/// A field of a captured session that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionError {
    /// The field, e.g. `client_chain[1]` or `vars.REMOTE_ADDR`.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for SessionError {}

fn field_error(field: impl Into<String>, message: impl Into<String>) -> SessionError {
    SessionError {
        field: field.into(),
        message: message.into(),
    }
}

/// The JSON shape, every field optional; unknown fields are refused so a
/// misspelt one is not silently ignored.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Record {
    id: Option<String>,
    time: Option<String>,
    protocol: Option<String>,
    cipher: Option<String>,
    cipher_bits: Option<u32>,
    cipher_alg_bits: Option<u32>,
    sni: Option<String>,
    session_id: Option<String>,
    resumed: Option<bool>,
    secure_reneg: Option<bool>,
    compression: Option<String>,
    verify: Option<String>,
    client_chain: Option<Vec<String>>,
    server_chain: Option<Vec<String>>,
    vars: Option<BTreeMap<String, String>>,
}

/// A certificate kept as DER and parsed on first use (once).
#[derive(Debug)]
pub struct LazyCert {
    der: Vec<u8>,
    parsed: OnceCell<Result<Cert, CertError>>,
}

impl LazyCert {
    /// Wraps DER bytes; nothing is parsed yet.
    pub fn from_der(der: Vec<u8>) -> LazyCert {
        LazyCert {
            der,
            parsed: OnceCell::new(),
        }
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Whether the certificate has been parsed yet.
    pub fn is_parsed(&self) -> bool {
        self.parsed.get().is_some()
    }

    /// The parsed certificate (parsed on the first call).
    ///
    /// # Errors
    /// Why the DER is not a certificate.
    pub fn get(&self) -> Result<&Cert, &CertError> {
        self.parsed
            .get_or_init(|| Cert::from_der(&self.der))
            .as_ref()
    }
}

impl Clone for LazyCert {
    fn clone(&self) -> LazyCert {
        LazyCert::from_der(self.der.clone())
    }
}

/// One TLS session (and its request), as captured or as negotiated.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// An identifier for reports (`id` in JSON).
    pub id: Option<String>,
    /// The instant of the request: fixes `TIME_*` (in its offset) and
    /// `V_REMAIN`. None: the environment's clock.
    pub time: Option<DateTime<FixedOffset>>,
    /// `TLSv1.3`, `TLSv1.2`, `TLSv1.1`, `TLSv1`, `SSLv3`.
    pub protocol: Option<String>,
    /// The cipher suite, by its OpenSSL name (as mod_ssl exports it).
    pub cipher: Option<String>,
    /// Secret bits used (`SSL_CIPHER_USEKEYSIZE`).
    pub cipher_bits: Option<u32>,
    /// Bits of the algorithm (`SSL_CIPHER_ALGKEYSIZE`).
    pub cipher_alg_bits: Option<u32>,
    /// The SNI host name sent by the client.
    pub sni: Option<String>,
    /// Session id, lowercase hex.
    pub session_id: Option<String>,
    /// Whether the session was resumed.
    pub resumed: Option<bool>,
    /// Secure renegotiation supported.
    pub secure_reneg: Option<bool>,
    /// `NULL`, `DEFLATE`, …
    pub compression: Option<String>,
    /// A recorded SSL_CLIENT_VERIFY (wins over any verification here).
    pub verify: Option<String>,
    /// The client's chain, leaf first.
    pub client_chain: Vec<LazyCert>,
    /// The server's chain, leaf first.
    pub server_chain: Vec<LazyCert>,
    /// Request and server variables (and overrides of any variable).
    pub vars: VarMap,
}

impl Session {
    /// Reads one captured session (a JSON object). Certificates are decoded
    /// and parsed here, so a malformed one is reported now, naming its
    /// field.
    ///
    /// # Errors
    /// A [`SessionError`] naming the field.
    pub fn from_json(text: &str) -> Result<Session, SessionError> {
        let r: Record = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            // serde names the field in its message for type errors.
            field_error(
                if e.is_syntax() || e.is_eof() {
                    "(json)"
                } else {
                    "(record)"
                },
                format!("{message}; expected one JSON object per session (see the README)"),
            )
        })?;
        let mut s = Session {
            id: r.id,
            ..Session::default()
        };
        if let Some(t) = r.time {
            s.time = Some(DateTime::parse_from_rfc3339(&t).map_err(|e| {
                field_error(
                    "time",
                    format!("`{t}` is not an RFC 3339 time ({e}); e.g. 2026-11-25T16:49:37Z"),
                )
            })?);
        }
        if let Some(p) = r.protocol {
            s.protocol = Some(normalize_protocol(&p).ok_or_else(|| {
                field_error(
                    "protocol",
                    format!(
                        "unknown protocol `{p}`; use TLSv1.3, TLSv1.2, TLSv1.1, TLSv1 or SSLv3"
                    ),
                )
            })?);
        }
        if let Some(c) = r.cipher {
            let suite = cipher::lookup(&c).ok_or_else(|| {
                field_error(
                    "cipher",
                    format!("unknown cipher suite `{c}`; give its OpenSSL or IANA name (e.g. ECDHE-RSA-AES256-GCM-SHA384)"),
                )
            })?;
            s.cipher = Some(suite.openssl.to_string());
            s.cipher_bits = Some(u32::from(suite.use_bits));
            s.cipher_alg_bits = Some(u32::from(suite.alg_bits));
        }
        s.cipher_bits = r.cipher_bits.or(s.cipher_bits);
        s.cipher_alg_bits = r.cipher_alg_bits.or(s.cipher_alg_bits);
        s.sni = r.sni;
        if let Some(id) = r.session_id {
            if !id.bytes().all(|b| b.is_ascii_hexdigit()) || id.len() % 2 != 0 {
                return Err(field_error(
                    "session_id",
                    format!("`{id}` is not hex bytes"),
                ));
            }
            s.session_id = Some(id.to_ascii_lowercase());
        }
        s.resumed = r.resumed;
        s.secure_reneg = r.secure_reneg;
        s.compression = r.compression;
        s.verify = r.verify;
        for (name, chain, out) in [
            ("client_chain", r.client_chain, &mut s.client_chain),
            ("server_chain", r.server_chain, &mut s.server_chain),
        ] {
            for (i, pem) in chain.unwrap_or_default().iter().enumerate() {
                let field = format!("{name}[{i}]");
                let certs =
                    Cert::from_pem_chain(pem).map_err(|e| field_error(&field, e.to_string()))?;
                if certs.len() != 1 {
                    return Err(field_error(
                        &field,
                        format!("holds {} certificates; give one per element", certs.len()),
                    ));
                }
                let lazy = LazyCert::from_der(certs[0].der().to_vec());
                let _ = lazy
                    .parsed
                    .set(Ok(certs.into_iter().next().expect("one certificate")));
                out.push(lazy);
            }
        }
        for (name, value) in r.vars.unwrap_or_default() {
            s.vars
                .set(&name, value.into_bytes())
                .map_err(|e| field_error(format!("vars.{name}"), e))?;
        }
        Ok(s)
    }
}

/// `TLSv1.3` from the spellings people and libraries use.
fn normalize_protocol(p: &str) -> Option<String> {
    let norm: String = p
        .chars()
        .filter(|c| !matches!(c, '_' | ' ' | '.'))
        .collect::<String>()
        .to_ascii_lowercase();
    Some(
        match norm.as_str() {
            "tlsv13" | "tls13" => "TLSv1.3",
            "tlsv12" | "tls12" => "TLSv1.2",
            "tlsv11" | "tls11" => "TLSv1.1",
            "tlsv1" | "tlsv10" | "tls10" | "tls1" => "TLSv1",
            "sslv3" | "ssl3" => "SSLv3",
            _ => return None,
        }
        .to_string(),
    )
}

/// How a [`SessionEnv`] renders what the session does not fix.
#[derive(Clone, Debug, Default)]
pub struct EnvOptions {
    /// `SSLOptions +LegacyDNStringFormat` (always on for 2.2).
    pub legacy_dn: bool,
    /// The dialect whose formats to use.
    pub dialect: Dialect,
    /// The clock when the session has no `time` (default: now, local zone).
    pub now: Option<DateTime<FixedOffset>>,
    /// SSL_CLIENT_VERIFY when the session records none, a client
    /// certificate was sent and no `verifier` is given.
    pub verify: Option<String>,
    /// Verifies client chains the session has no recorded result for, as
    /// mod_ssl with `SSLCACertificateFile`, `SSLVerifyDepth` and
    /// `SSLVerifyClient` would.
    pub verifier: Option<Arc<Verifier>>,
}

/// The environment of one session: every variable computed on first read
/// and kept for the rest of the evaluation.
pub struct SessionEnv<'s> {
    session: &'s Session,
    opts: EnvOptions,
    now: DateTime<FixedOffset>,
    memo: FrozenMap<Var, Box<[u8]>>,
    verified: OnceCell<Option<Outcome>>,
}

impl fmt::Debug for SessionEnv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionEnv")
            .field("session", &self.session.id)
            .field("opts", &self.opts)
            .finish()
    }
}

impl<'s> SessionEnv<'s> {
    /// The environment of `session`.
    pub fn new(session: &'s Session, opts: EnvOptions) -> SessionEnv<'s> {
        let now = session
            .time
            .or(opts.now)
            .unwrap_or_else(|| chrono::Local::now().fixed_offset());
        SessionEnv {
            session,
            opts,
            now,
            memo: FrozenMap::new(),
            verified: OnceCell::new(),
        }
    }

    /// The verifier's verdict on the client chain, when there is a
    /// verifier and the session records no result (computed once).
    fn verification(&self) -> Option<&Outcome> {
        self.verified
            .get_or_init(|| {
                let s = self.session;
                let verifier = self.opts.verifier.as_ref()?;
                if s.verify.is_some() {
                    return None;
                }
                let chain: Vec<Vec<u8>> = s.client_chain.iter().map(|c| c.der().to_vec()).collect();
                let tls13 = s.protocol.as_deref() == Some("TLSv1.3");
                Some(verifier.verify(&chain, self.now.timestamp(), tls13))
            })
            .as_ref()
    }

    /// Why the TLS handshake of this session would fail under the
    /// verifier (mod_ssl then never evaluates `SSLRequire`): an expired
    /// certificate, an untrusted chain under `SSLVerifyClient optional`…
    pub fn handshake_failure(&self) -> Option<&str> {
        match self.verification()? {
            Outcome::HandshakeFails(reason) => Some(reason),
            Outcome::Verify(_) => None,
        }
    }

    fn legacy(&self) -> bool {
        self.opts.legacy_dn || self.opts.dialect == Dialect::V22
    }

    fn cert(&self, side: Side) -> Option<&'s Cert> {
        let chain = match side {
            Side::Client => &self.session.client_chain,
            Side::Server => &self.session.server_chain,
        };
        // Certificates from JSON were checked when loaded; one from another
        // source that does not parse reads as absent.
        chain.first().and_then(|c| c.get().ok())
    }

    /// `CertUnreadable` when `var` is computed from a certificate of the
    /// session that does not parse. Apache's TLS layer parsed every
    /// certificate it accepted, so such a session (say, a captured one whose
    /// client PEM is garbage but verify=SUCCESS) has no faithful value:
    /// reading it as "no certificate" would let `%{SSL_CLIENT_S_DN_O} ne
    /// "Evil"` allow. Given variables (`vars`) win, as everywhere.
    fn cert_error(&self, var: &Var) -> Result<(), ErrorKind> {
        let s = self.session;
        let lazy = match var {
            Var::Cert(Side::Client, _) | Var::Session(SessionVar::ClientCertRfc4523Cea) => {
                s.client_chain.first()
            }
            Var::Cert(Side::Server, _) => s.server_chain.first(),
            Var::ClientCertChain(n) => s.client_chain.get(*n as usize + 1),
            _ => None,
        };
        match lazy.map(LazyCert::get) {
            Some(Err(e)) if s.vars.var(var).is_none() => Err(ErrorKind::CertUnreadable {
                var: var.to_string(),
                reason: e.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Computes a variable (None: unset).
    fn compute(&self, var: &Var) -> Option<Cow<'s, [u8]>> {
        let s: &'s Session = self.session;
        // Session fields and constants are borrowed; only computed values
        // are allocated (and kept in the memo).
        let text = |v: &'s Option<String>| v.as_deref().map(|x| Cow::Borrowed(x.as_bytes()));
        let word = |w: &'static str| Some(Cow::Borrowed(w.as_bytes()));
        let owned = |v: String| Cow::Owned(v.into_bytes());
        match var {
            Var::Core(c) => {
                if let Some(t) = c.as_time() {
                    let values = time_values(&self.now);
                    return values
                        .into_iter()
                        .find(|(k, _)| *k == t)
                        .map(|(_, v)| owned(v));
                }
                if c.name() == "HTTPS" {
                    return word("on");
                }
                None
            }
            Var::Session(v) => match v {
                SessionVar::Protocol => text(&s.protocol),
                // Uppercase hex in mod_ssl 2.2 (and 2.4.0–2.4.4), lowercase since.
                SessionVar::SessionId if self.opts.dialect == Dialect::V22 => s
                    .session_id
                    .as_ref()
                    .map(|id| owned(id.to_ascii_uppercase())),
                SessionVar::SessionId => text(&s.session_id),
                SessionVar::SessionResumed => s
                    .resumed
                    .and_then(|r| word(if r { "Resumed" } else { "Initial" })),
                SessionVar::Cipher => text(&s.cipher),
                SessionVar::CipherExport => s
                    .cipher_bits
                    .and_then(|b| word(if b < 56 { "true" } else { "false" })),
                SessionVar::CipherUseKeySize => s.cipher_bits.map(|b| owned(b.to_string())),
                SessionVar::CipherAlgKeySize => s.cipher_alg_bits.map(|b| owned(b.to_string())),
                SessionVar::CompressMethod => text(&s.compression).or_else(|| word("NULL")),
                SessionVar::TlsSni => text(&s.sni),
                SessionVar::SecureReneg => s
                    .secure_reneg
                    .and_then(|b| word(if b { "true" } else { "false" })),
                SessionVar::SrpUser | SessionVar::SrpUserInfo => None,
                SessionVar::VersionInterface => {
                    word(concat!("sslrequire/", env!("CARGO_PKG_VERSION")))
                }
                SessionVar::VersionLibrary => None,
                SessionVar::ClientVerify => match (&s.verify, self.verification()) {
                    (Some(v), _) => Some(Cow::Borrowed(v.as_bytes())),
                    (None, Some(Outcome::Verify(v))) => Some(owned(v.clone())),
                    // Apache would not get here; if asked anyway, say why.
                    (None, Some(Outcome::HandshakeFails(r))) => Some(owned(format!("FAILED:{r}"))),
                    (None, None) if s.client_chain.is_empty() => word("NONE"),
                    (None, None) => self.opts.verify.clone().map(owned),
                },
                SessionVar::ClientCertRfc4523Cea => {
                    self.cert(Side::Client).map(|c| owned(c.rfc4523_cea()))
                }
            },
            Var::Cert(side, cv) => {
                let cert = self.cert(*side)?;
                Some(Cow::Owned(match *cv {
                    CertVar::MVersion => cert.m_version().into_bytes(),
                    CertVar::MSerial => cert.m_serial().into_bytes(),
                    CertVar::VStart => cert.v_start().into_bytes(),
                    CertVar::VEnd => cert.v_end().into_bytes(),
                    CertVar::VRemain => cert.v_remain(self.now.timestamp()).into_bytes(),
                    CertVar::Dn(n) => cert.dn_bytes(n, self.legacy()),
                    CertVar::DnAttr {
                        name,
                        attr,
                        index,
                        raw,
                    } => {
                        // 2.2 exports the raw ASN.1 bytes (no UTF-8 conversion).
                        let raw = raw || self.opts.dialect == Dialect::V22;
                        cert.dn_component(name, attr, index as usize, raw)?
                    }
                    CertVar::San { kind, index } => cert.san_bytes(kind, usize::from(index))?,
                    CertVar::ASig => cert.a_sig().into_bytes(),
                    CertVar::AKey => cert.a_key().into_bytes(),
                    CertVar::Cert => cert.pem().into_bytes(),
                }))
            }
            Var::ClientCertChain(n) => {
                let c = s.client_chain.get(*n as usize + 1)?.get().ok()?;
                Some(Cow::Owned(c.pem().into_bytes()))
            }
            Var::Lookup(..) => None,
        }
    }

    /// Every variable Apache exports for this session with `SSLOptions
    /// +StdEnvVars +ExportCertData` (plus `HTTPS` and the request variables
    /// the session gives), sorted by name.
    pub fn export(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let session_vars = [
            SessionVar::VersionInterface,
            SessionVar::VersionLibrary,
            SessionVar::Protocol,
            SessionVar::SecureReneg,
            SessionVar::CompressMethod,
            SessionVar::Cipher,
            SessionVar::CipherExport,
            SessionVar::CipherUseKeySize,
            SessionVar::CipherAlgKeySize,
            SessionVar::ClientVerify,
            SessionVar::ClientCertRfc4523Cea,
            SessionVar::SessionId,
            SessionVar::SessionResumed,
            SessionVar::TlsSni,
        ];
        for v in session_vars {
            let var = Var::Session(v);
            if let Some(value) = self.var(&var) {
                out.insert(var.to_string(), value.to_vec());
            }
        }
        if let Some(https) = CoreVar::lookup("HTTPS", Dialect::V24) {
            out.insert(
                "HTTPS".into(),
                self.var(&Var::Core(https)).unwrap_or(b"on").to_vec(),
            );
        }
        let legacy = self.legacy();
        for (side, prefix) in [(Side::Client, "SSL_CLIENT"), (Side::Server, "SSL_SERVER")] {
            match self.cert(side) {
                Some(c) => out.extend(c.export_vars(prefix, self.now.timestamp(), legacy)),
                None => {
                    out.insert(format!("{prefix}_CERT"), Vec::new());
                }
            }
        }
        for (i, c) in self.session.client_chain.iter().skip(1).enumerate() {
            if let Ok(c) = c.get() {
                out.insert(format!("SSL_CLIENT_CERT_CHAIN_{i}"), c.pem().into_bytes());
            }
        }
        if self.opts.dialect == Dialect::V22 {
            // 2.2 exports DN components as their raw ASN.1 bytes, as an
            // expression reads them. See: tests/fuzz-cases/cert_env/export-22-dn-utf8-cn.der
            for (name, value) in out.iter_mut() {
                if let Resolved::Var(var @ Var::Cert(_, CertVar::DnAttr { .. })) =
                    resolve(name, Dialect::V24)
                {
                    if let Some(v) = self.var(&var) {
                        *value = v.to_vec();
                    }
                }
            }
        }
        // Given variables win, as they do for `var`.
        for (var, value) in self.session.vars.iter() {
            out.insert(var.to_string(), value.to_vec());
        }
        out.into_iter().collect()
    }
}

impl Env for SessionEnv<'_> {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        if let Some(v) = self.session.vars.var(var) {
            return Some(v);
        }
        if let Some(v) = self.memo.get(var) {
            return Some(v);
        }
        match self.compute(var)? {
            Cow::Borrowed(b) => Some(b),
            Cow::Owned(v) => Some(self.memo.insert(var.clone(), v.into_boxed_slice())),
        }
    }

    fn try_var_in(&self, _program: u64, _slot: u32, var: &Var) -> Result<Option<&[u8]>, ErrorKind> {
        self.cert_error(var)?;
        Ok(self.var(var))
    }

    fn try_peer_extensions(
        &self,
        id: &[u8],
        numeric_only: bool,
    ) -> Result<Vec<Vec<u8>>, ErrorKind> {
        if let Some(Err(e)) = self.session.client_chain.first().map(LazyCert::get) {
            return Err(ErrorKind::CertUnreadable {
                var: format!("PeerExtList(\"{}\")", String::from_utf8_lossy(id)),
                reason: e.to_string(),
            });
        }
        Ok(self.peer_extensions(id, numeric_only))
    }

    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        match self.cert(Side::Client) {
            Some(c) => c.extension_values(&String::from_utf8_lossy(id), numeric_only),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Program;

    fn alice() -> Vec<u8> {
        let pem = include_str!("../../tests/apache-2.4.71/certs/alice.crt");
        Cert::from_pem_chain(pem).unwrap()[0].der().to_vec()
    }

    #[test]
    fn certificates_are_parsed_only_when_read() {
        let session = Session {
            protocol: Some("TLSv1.3".into()),
            client_chain: vec![LazyCert::from_der(alice())],
            ..Session::default()
        };
        let env = SessionEnv::new(&session, EnvOptions::default());
        assert!(Program::new(r#"%{SSL_PROTOCOL} == "TLSv1.3""#)
            .unwrap()
            .eval(&env)
            .unwrap());
        assert!(!session.client_chain[0].is_parsed());
        assert!(Program::new(r#"%{SSL_CLIENT_S_DN_UID} == "alice""#)
            .unwrap()
            .eval(&env)
            .unwrap());
        assert!(session.client_chain[0].is_parsed());
    }

    #[test]
    fn a_certificate_that_does_not_parse_is_an_evaluation_error() {
        let session = Session {
            client_chain: vec![LazyCert::from_der(vec![0x30, 0x03, 1, 2])],
            ..Session::default()
        };
        let env = SessionEnv::new(&session, EnvOptions::default());
        let err = Program::new(r#"%{SSL_CLIENT_S_DN_CN} == """#)
            .unwrap()
            .eval(&env)
            .unwrap_err();
        assert_eq!(err.code(), "E305");
        // Variables that do not come from the certificate still read.
        assert!(Program::new(r#"%{SSL_PROTOCOL} == """#)
            .unwrap()
            .eval(&env)
            .unwrap());
    }

    #[test]
    fn dialect_22_formats() {
        let session = Session {
            session_id: Some("0a1b".into()),
            client_chain: vec![LazyCert::from_der(alice())],
            ..Session::default()
        };
        let opts = EnvOptions {
            dialect: Dialect::V22,
            ..EnvOptions::default()
        };
        let env = SessionEnv::new(&session, opts);
        let p = crate::ProgramBuilder::new()
            .dialect(Dialect::V22)
            .build(r#"%{SSL_SESSION_ID} eq "0A1B" and %{SSL_CLIENT_S_DN} eq "/C=US/ST=California/L=San Francisco/O=Snake Oil, Ltd./OU=Engineering/OU=Security/CN=Alice Example/emailAddress=alice@example.com/UID=alice""#)
            .unwrap();
        assert!(p.eval(&env).unwrap());
    }

    #[test]
    fn protocol_spellings() {
        for p in ["TLSv1.3", "TLSv1_3", "tls13", "TLS 1.3"] {
            assert_eq!(normalize_protocol(p).as_deref(), Some("TLSv1.3"), "{p}");
        }
        assert_eq!(normalize_protocol("TLSv9"), None);
    }
}
