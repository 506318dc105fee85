//! The session environment: what a TLS terminator knows about one
//! connection, and the variables mod_ssl shows for it.
//!
//! A [`Session`] is one connection: the negotiated protocol and cipher, the
//! certificate chains, the clock, and the request variables. It reads from
//! one JSON object (the captured-session format, documented in the README),
//! or from a rustls connection (`session_from_rustls`, feature `rustls`);
//! [`SessionEnv`] (in `env.rs`) is the [`Env`](crate::Env) over it for one
//! request, computing each variable only when an expression reads it and
//! parsing a certificate only when one of its variables is read. The
//! cipher table (`cipher`) gives mod_ssl's key sizes.

mod certs;
pub mod cipher;
mod env;
#[cfg(feature = "rustls")]
mod tls;

pub(crate) use certs::Format;
pub use certs::{CertCache, LazyCert};
pub use env::{EnvOptions, SessionEnv};
#[cfg(feature = "rustls")]
pub use tls::{session_from_rustls, ClientAuth};

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::env::var::*;
use crate::env::VarMap;
use crate::func::string::Escapes;
use crate::x509::cert::Cert;

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
struct Record<'a> {
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
    /// Each element as its JSON text: a certificate seen before is found
    /// by that text (see [`CertCache`]) without decoding it again.
    #[serde(borrow)]
    client_chain: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    server_chain: Option<Vec<&'a RawValue>>,
    vars: Option<BTreeMap<String, String>>,
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
        Session::from_json_with_warnings(text).map(|(s, _)| s)
    }

    /// [`Session::from_json`], also returning what was kept but deserves a
    /// warning: a `vars` name that is no variable Apache provides (kept in
    /// the per-request environment that `reqenv()` and `env()` read).
    ///
    /// # Errors
    /// A [`SessionError`] naming the field.
    pub fn from_json_with_warnings(
        text: &str,
    ) -> Result<(Session, Vec<SessionError>), SessionError> {
        Session::read_json(text, None)
    }

    /// [`Session::from_json_with_warnings`], taking each certificate from
    /// `certs` when its PEM text was seen before (and keeping it there):
    /// sessions that carry the same certificate share one parse and one
    /// set of printed fields.
    ///
    /// # Errors
    /// A [`SessionError`] naming the field.
    pub fn from_json_shared(
        text: &str,
        certs: &CertCache,
    ) -> Result<(Session, Vec<SessionError>), SessionError> {
        Session::read_json(text, Some(certs))
    }

    /// Takes each certificate of the chains from `certs` (keyed by its DER),
    /// so that sessions carrying the same certificate, from any source,
    /// share one parse and one set of printed fields.
    pub fn share_certs(&mut self, certs: &CertCache) {
        for lazy in self.client_chain.iter_mut().chain(&mut self.server_chain) {
            *lazy = certs.der(lazy.der());
        }
    }

    fn read_json(
        text: &str,
        certs: Option<&CertCache>,
    ) -> Result<(Session, Vec<SessionError>), SessionError> {
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
            for (i, json) in chain.unwrap_or_default().iter().enumerate() {
                let cert = match certs {
                    Some(cache) => cache.pem(json.get(), one_certificate),
                    None => one_certificate(json.get()),
                };
                out.push(cert.map_err(|e| field_error(format!("{name}[{i}]"), e))?);
            }
        }
        let vars = r.vars.unwrap_or_default();
        let warnings = s.add_vars(vars.into_iter().map(|(k, v)| (k, v.into_bytes())));
        Ok((s, warnings))
    }

    /// Sets request and server variables as the JSON format's `vars` do
    /// (by expression name, `func:name`, or as a CGI script under Apache
    /// sees them): returns a warning for each name kept in the per-request
    /// environment because it is no variable Apache provides.
    pub fn add_vars(
        &mut self,
        vars: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Vec<SessionError> {
        set_vars(&mut self.vars, vars.into_iter().collect())
    }
}

/// The one certificate of a chain element (a JSON string of PEM text),
/// checked now, so that a bad one is reported naming its field.
fn one_certificate(json: &str) -> Result<LazyCert, String> {
    let pem: String = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut certs = Cert::from_pem_chain(&pem).map_err(|e| e.to_string())?;
    match (certs.pop(), certs.len()) {
        (Some(cert), 0) => Ok(LazyCert::from_cert(cert)),
        (None, _) => Err("holds no certificate".into()),
        (Some(_), more) => Err(format!(
            "holds {} certificates; give one per element",
            more + 1
        )),
    }
}

/// Sets the `vars` of a session, as a CGI script under Apache would have
/// printed them or by their expression names: `HTTP_*` names are request
/// headers; names only CGI sees (`GATEWAY_INTERFACE`, `SCRIPT_NAME` …) and
/// unknown ones go to the per-request environment (`reqenv()`, `env()`),
/// the unknown ones with a warning. In a CGI dump (`GATEWAY_INTERFACE`
/// present) `REQUEST_URI` is the raw request target, while the expression
/// variable is its path alone: the query is cut off.
fn set_vars(map: &mut VarMap, vars: BTreeMap<String, Vec<u8>>) -> Vec<SessionError> {
    let cgi = vars.contains_key("GATEWAY_INTERFACE");
    let mut warnings = Vec::new();
    for (name, value) in vars {
        let var = match crate::env::input_var(&name) {
            Ok(Var::Core(c)) if cgi && c.name() == "REQUEST_URI" => {
                let path = value.split(|&b| b == b'?').next().unwrap_or_default();
                map.insert(Var::Core(c), unescape_url_path(path));
                continue;
            }
            Ok(var) => var,
            Err(e) => {
                if let Some(h) = cgi_header(&name) {
                    Var::Lookup(Table::RequestHeader, h.into())
                } else {
                    if !CGI_ONLY.contains(&name.as_str()) {
                        warnings.push(field_error(
                            format!("vars.{name}"),
                            format!("{e}; kept in the request environment (reqenv(), env())"),
                        ));
                    }
                    Var::Lookup(Table::RequestEnv, name.as_str().into())
                }
            }
        };
        map.insert(var, value);
    }
    warnings
}

/// `ap_unescape_url`'s decoding of a request path, as Apache's
/// `REQUEST_URI` shows it (a request with a bad escape, `%00` or `%2F`
/// never reaches access checks; such a value is kept as it is).
pub fn unescape_url_path(b: &[u8]) -> Vec<u8> {
    match crate::func::string::percent_decode(b, false) {
        (
            out,
            Escapes {
                bad: false,
                nul: false,
                slash: false,
            },
        ) => out,
        _ => b.to_vec(),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::dialect::Dialect;
    use crate::Program;

    #[test]
    fn request_paths_decode_as_ap_unescape_url() {
        assert_eq!(unescape_url_path(b"/a%20b/%C3%A9"), b"/a b/\xc3\xa9");
        // A request Apache refuses before access checks keeps its bytes:
        // a bad escape (`+` is not a hex digit), `%00`, `%2F`.
        for kept in [&b"/a%+1"[..], b"/a%2", b"/a%00b", b"/a%2Fb", b"/%20%2f"] {
            assert_eq!(unescape_url_path(kept), kept);
        }
    }

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
    fn a_connection_is_shared_by_its_requests() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Session>();
        send_sync::<EnvOptions>();
        // One connection, its certificate parsed by whichever request reads
        // it first; each request's variables layered over it, uncopied.
        let conn = Arc::new(Session {
            protocol: Some("TLSv1.3".into()),
            client_chain: vec![LazyCert::from_der(alice())],
            ..Session::default()
        });
        let p = Arc::new(
            Program::new(r#"%{SSL_CLIENT_S_DN_UID} == "alice" and %{REMOTE_ADDR} == "10.0.0.1""#)
                .unwrap(),
        );
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (conn, p) = (Arc::clone(&conn), Arc::clone(&p));
                std::thread::spawn(move || {
                    let mut request = crate::VarMap::new();
                    request.set("REMOTE_ADDR", format!("10.0.0.{t}")).unwrap();
                    let env = SessionEnv::new(&conn, EnvOptions::default()).with_request(&request);
                    p.eval(&env).unwrap()
                })
            })
            .collect();
        let verdicts: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(verdicts, [false, true, false, false]);
        assert!(conn.client_chain[0].is_parsed());
        assert!(conn.vars.iter().next().is_none());
    }

    #[test]
    fn a_certificate_that_does_not_parse_is_not_no_certificate() {
        // The TLS layer said verified; the certificate does not parse.
        let session = Session {
            verify: Some("SUCCESS".into()),
            client_chain: vec![LazyCert::from_der(vec![0x30, 0x03, 1, 2])],
            ..Session::default()
        };
        let env = SessionEnv::new(&session, EnvOptions::default());
        for src in [
            r#"%{SSL_CLIENT_S_DN_O} ne "Evil""#,
            r#"%{SSL_CLIENT_S_DN_CN} == """#,
            r#""x" in PeerExtList("1.2.3")"#,
            r#"tolower(%{SSL_CLIENT_CERT}) == """#,
        ] {
            let e = Program::new(src).unwrap().eval(&env).unwrap_err();
            assert_eq!(e.code(), "E308", "{src}: {e}");
        }
        // What does not read the certificate still evaluates.
        assert!(Program::new(r#"%{SSL_CLIENT_VERIFY} == "SUCCESS""#)
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
    fn a_cgi_dump_is_accepted_whole() {
        let (s, warnings) = Session::from_json_with_warnings(
            r#"{"vars": {"GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "/env",
                "HTTP_USER_AGENT": "curl/8", "HTTP_X_TEST": "Hello", "REQUEST_URI": "/caf%C3%A9.txt?q=1",
                "SERVER_SOFTWARE": "Apache/2.4.71", "MY_SETENV": "x"}}"#,
        )
        .unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].field, "vars.MY_SETENV");
        let env = SessionEnv::new(&s, EnvOptions::default());
        for expr in [
            r#"%{HTTP_USER_AGENT} == "curl/8" && req("user-agent") == "curl/8" && %{http:User-Agent} == "curl/8""#,
            r#"req("X-Test") == "Hello" && reqenv("SCRIPT_NAME") == "/env" && env("GATEWAY_INTERFACE") == "CGI/1.1""#,
            r#"%{REQUEST_URI} == "/café.txt" && %{SERVER_SOFTWARE} == "Apache/2.4.71" && reqenv("MY_SETENV") == "x""#,
        ] {
            assert!(Program::new(expr).unwrap().eval(&env).unwrap(), "{expr}");
        }
        let p22 = crate::ProgramBuilder::new()
            .dialect(Dialect::V22)
            .build(r#"%{HTTP:User-Agent} eq "curl/8" and %{ENV:SCRIPT_NAME} eq "/env""#)
            .unwrap();
        assert!(p22.eval(&env).unwrap());
        let export = env.export();
        assert!(export
            .iter()
            .any(|(k, v)| k == "HTTP_X_TEST" && v == b"Hello"));
    }

    #[test]
    fn protocol_spellings() {
        for p in ["TLSv1.3", "TLSv1_3", "tls13", "TLS 1.3"] {
            assert_eq!(normalize_protocol(p).as_deref(), Some("TLSv1.3"), "{p}");
        }
        assert_eq!(normalize_protocol("TLSv9"), None);
    }
}
