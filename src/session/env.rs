//! [`SessionEnv`]: the variables of one request over a [`Session`], as
//! mod_ssl computes them.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use elsa::FrozenMap;

use super::{Format, Session};
use crate::dialect::Dialect;
#[cfg(test)]
use crate::env::time_values;
use crate::env::var::*;
use crate::env::verify::{Outcome, Verifier};
use crate::env::Env;
use crate::env::{resolve, Resolved};
use crate::x509::cert::Cert;

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
    /// What `file()` and the file tests may see (default: nothing).
    pub files: crate::env::FileAccess,
}

/// The environment of one request over a session: the request's own
/// variables ([`SessionEnv::with_request`]) over the session's, every
/// computed variable made on first read and kept for the rest of the
/// request.
///
/// A [`Session`] is `Send + Sync`: a server builds it once per connection
/// (its certificates are parsed at most once), shares it between the
/// connection's requests (`Arc<Session>`), and makes a `SessionEnv` per
/// request.
pub struct SessionEnv<'s> {
    session: &'s Session,
    request: Option<&'s dyn Env>,
    opts: EnvOptions,
    now: DateTime<FixedOffset>,
    memo: FrozenMap<Var, Box<[u8]>>,
    verified: OnceCell<Option<Outcome>>,
    times: OnceCell<TimeText>,
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
            request: None,
            opts,
            now,
            memo: FrozenMap::new(),
            verified: OnceCell::new(),
            times: OnceCell::new(),
        }
    }

    /// Layers one request's variables (`REMOTE_ADDR`, headers, the URI …)
    /// over the session's: they are read first, and the session is not
    /// copied.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sslrequire::session::{EnvOptions, Session, SessionEnv};
    /// use sslrequire::{Program, VarMap};
    ///
    /// // Per connection (here by hand; from rustls: `session_from_rustls`).
    /// let conn = Arc::new(Session {
    ///     protocol: Some("TLSv1.3".into()),
    ///     ..Session::default()
    /// });
    /// let program = Program::new(r#"%{SSL_PROTOCOL} == "TLSv1.3" and %{REMOTE_ADDR} == "10.0.0.1""#)?;
    /// // Per request:
    /// let mut request = VarMap::new();
    /// request.set("REMOTE_ADDR", "10.0.0.1")?;
    /// let env = SessionEnv::new(&conn, EnvOptions::default()).with_request(&request);
    /// assert!(program.eval(&env)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_request(mut self, request: &'s dyn Env) -> SessionEnv<'s> {
        self.request = Some(request);
        self
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
        // source that does not parse gives `None` here, and reading its
        // variables an error (`unreadable`), not "no certificate".
        chain.first().and_then(|c| c.get().ok())
    }

    fn format(&self) -> Format {
        Format {
            legacy: self.legacy(),
            v22: self.opts.dialect == Dialect::V22,
        }
    }

    /// A certificate field as mod_ssl prints it (`V_REMAIN` aside).
    fn print(&self, cert: &Cert, field: CertVar) -> Option<Vec<u8>> {
        Some(match field {
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
        })
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
            // V_REMAIN depends on the clock; every other field of a
            // certificate is printed once per connection.
            Var::Cert(side, cv) if *cv != CertVar::VRemain => {
                let chain = match side {
                    Side::Client => &s.client_chain,
                    Side::Server => &s.server_chain,
                };
                let lazy = chain.first()?;
                let cert = lazy.get().ok()?;
                let format = self.format();
                lazy.printed(*cv, format, || self.print(cert, *cv))
                    .map(Cow::Borrowed)
            }
            Var::Cert(side, cv) => {
                let cert = self.cert(*side)?;
                self.print(cert, *cv).map(Cow::Owned)
            }
            Var::ClientCertChain(n) => {
                let lazy = s.client_chain.get(*n as usize + 1)?;
                let cert = lazy.get().ok()?;
                lazy.printed(CertVar::Cert, self.format(), || {
                    Some(cert.pem().into_bytes())
                })
                .map(Cow::Borrowed)
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
            let name = match var {
                // Request headers under their CGI names, as Apache exports them.
                Var::Lookup(Table::RequestHeader, h) => header_cgi_name(h),
                _ => var.to_string(),
            };
            out.insert(name, value.to_vec());
        }
        out.into_iter().collect()
    }
}

/// The `TIME_*` values of one request, formatted on first read into one
/// fixed buffer: `env::time_values`' strings, without allocating.
struct TimeText {
    buf: [u8; 48],
    /// Where each [`TimeVar`] ends in `buf` (each starts where the last ends).
    ends: [u8; 8],
}

impl TimeText {
    fn new(t: &DateTime<FixedOffset>) -> TimeText {
        use chrono::{Datelike, Timelike};
        use std::io::Write as _;
        let (y, mo, d) = (t.year(), t.month(), t.day());
        // chrono counts a leap second as second 59 + nanoseconds ≥ 1e9.
        let sec = t.second() + u32::from(t.nanosecond() >= 1_000_000_000);
        let (h, mi) = (t.hour(), t.minute());
        let wday = t.weekday().num_days_from_sunday();
        let mut buf = [0u8; 48];
        let mut ends = [0u8; 8];
        let mut w = std::io::Cursor::new(&mut buf[..]);
        // In `TimeVar` order; the buffer holds the longest years chrono has.
        let _ = write!(w, "{y:04}");
        ends[0] = w.position() as u8;
        for (i, v) in [mo, d, h, mi, sec].into_iter().enumerate() {
            let _ = write!(w, "{v:02}");
            ends[i + 1] = w.position() as u8;
        }
        let _ = write!(w, "{wday}");
        ends[6] = w.position() as u8;
        let _ = write!(w, "{y:04}{mo:02}{d:02}{h:02}{mi:02}{sec:02}");
        ends[7] = w.position() as u8;
        TimeText { buf, ends }
    }

    fn get(&self, which: TimeVar) -> &[u8] {
        let i = which as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[usize::from(start)..usize::from(self.ends[i])]
    }
}

impl Env for SessionEnv<'_> {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        if let Some(v) = self.request.and_then(|r| r.var(var)) {
            return Some(v);
        }
        if let Some(v) = self.session.vars.var(var) {
            return Some(v);
        }
        if let Var::Core(c) = var {
            if let Some(t) = c.as_time() {
                return Some(self.times.get_or_init(|| TimeText::new(&self.now)).get(t));
            }
        }
        if let Some(v) = self.memo.get(var) {
            return Some(v);
        }
        match self.compute(var)? {
            Cow::Borrowed(b) => Some(b),
            Cow::Owned(v) => Some(self.memo.insert(var.clone(), v.into_boxed_slice())),
        }
    }

    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        match self.cert(Side::Client) {
            Some(c) => c.extension_values(&String::from_utf8_lossy(id), numeric_only),
            None => Vec::new(),
        }
    }

    fn unreadable(&self, var: &Var) -> Option<crate::error::ErrorKind> {
        let (chain, index, which) = match var {
            Var::Cert(Side::Client, _) | Var::Session(SessionVar::ClientCertRfc4523Cea) => (
                &self.session.client_chain,
                0,
                "client certificate".to_string(),
            ),
            Var::Cert(Side::Server, _) => (
                &self.session.server_chain,
                0,
                "server certificate".to_string(),
            ),
            Var::ClientCertChain(n) => {
                let i = *n as usize + 1;
                (
                    &self.session.client_chain,
                    i,
                    format!("client chain certificate {i}"),
                )
            }
            _ => return None,
        };
        let error = chain.get(index)?.get().err()?;
        Some(crate::error::ErrorKind::CertUnreadable {
            which,
            reason: error.to_string(),
        })
    }

    fn files(&self) -> &dyn crate::env::Files {
        &self.opts.files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_text_is_time_values() {
        for t in [
            "2026-03-01T03:04:05+01:00",
            "1999-12-31T23:59:59-08:00",
            "2026-11-26T00:00:00+00:00",
        ] {
            let t = DateTime::parse_from_rfc3339(t).unwrap();
            let text = TimeText::new(&t);
            for (var, value) in time_values(&t) {
                assert_eq!(text.get(var), value.as_bytes(), "{t} {var:?}");
            }
        }
    }
}
