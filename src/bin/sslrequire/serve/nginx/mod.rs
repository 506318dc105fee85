//! `sslrequire serve nginx`: one HTTP server for nginx's two ways of asking
//! someone else whether a client may go on.
//!
//! * The mail proxy's `auth_http` (ngx_mail_auth_http_module): a request
//!   with `Auth-Protocol`, `Auth-SSL-*` … headers, answered with
//!   `Auth-Status` and, on success, the backend (`Auth-Server`,
//!   `Auth-Port`): [`mail`].
//! * HTTP's `auth_request` (ngx_http_auth_request_module): a subrequest
//!   carrying the variables the README's snippet passes as `X-SSLRequire-*`
//!   headers, answered 200, 403 or 503 (which nginx turns into 500): [`http`].
//!
//! A request with an `Auth-Protocol` header is a mail request, any other an
//! HTTP one. Both become a [`Session`](sslrequire::session::Session) through
//! the mapping of nginx's log variables
//! ([`sslrequire::capture::from_nginx_fields`]) and are decided by the
//! shared policy file ([`super::policy`]).

pub mod dn;
pub mod http;
pub mod mail;

use std::cell::RefCell;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use sslrequire::session::{CertCache, EnvOptions, SessionEnv};
use sslrequire::Machine;

use super::policy::{Decision, Policy, Protocol};
use super::{log, Conn, ServeCommon, Shared};
use crate::Outcome;

/// The request kinds a rule's `protocols` may name.
pub const PROTOCOLS: &[&str] = &["http", "imap", "pop3", "smtp"];

/// The head of a request nginx sends (the escaped client certificate is its
/// longest header; a 100 KiB certificate, OpenSSL's limit, is ~140 KiB of
/// PEM).
pub const DEFAULT_MAX_HEAD: usize = 256 << 10;

/// The policy-file rules of the nginx server.
pub struct Nginx;

impl Protocol for Nginx {
    fn default_on_error(&self) -> &'static str {
        "DENY policy evaluation error"
    }
    fn default_answer(&self) -> &'static str {
        "OK"
    }
    fn default_allow(&self) -> &'static str {
        "DUNNO"
    }
    fn default_deny(&self) -> &'static str {
        "DENY access denied by policy"
    }
    fn check_answer(&self, answer: &str) -> Result<(), String> {
        Answer::parse(answer).map(|_| ())
    }
    fn check_state(&self, state: &str) -> Result<(), String> {
        if PROTOCOLS.iter().any(|p| p.eq_ignore_ascii_case(state)) {
            Ok(())
        } else {
            Err(format!(
                "`{state}` is not a request kind of serve nginx (one of: {})",
                PROTOCOLS.join(", ")
            ))
        }
    }
    fn states_key(&self) -> &'static str {
        "protocols"
    }
    fn check_location(&self, location: &str) -> Result<(), String> {
        if !location.starts_with('/') {
            return Err(format!(
                "`{}` is not a URI path prefix: write it as nginx's `location /prefix` (starting with /)",
                location.escape_debug()
            ));
        }
        if location.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(format!(
                "`{}` has a control character",
                location.escape_debug()
            ));
        }
        Ok(())
    }
    fn check_backends(
        &self,
        backends: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), String> {
        for (proto, addr) in backends {
            if !["imap", "pop3", "smtp"].contains(&proto.as_str()) {
                return Err(format!(
                    "`{proto}` is not a mail protocol: the keys are imap, pop3 and smtp"
                ));
            }
            parse_backend(addr).map_err(|e| format!("{proto}: {e}"))?;
        }
        Ok(())
    }
}

/// `IP:PORT` (nginx's `Auth-Server` must be an IP address, not a name).
fn parse_backend(addr: &str) -> Result<SocketAddr, String> {
    addr.parse::<SocketAddr>().map_err(|_| {
        format!(
            "`{}` is not IP:PORT (nginx needs an address, not a host name), e.g. 127.0.0.1:143",
            addr.escape_debug()
        )
    })
}

/// An answer of the policy file, as written in `allow`, `deny`, `default`
/// and `on_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<'a> {
    /// `OK` or `OK IP:PORT`: allowed (HTTP 200; mail: `Auth-Status: OK` and
    /// the given backend, else the policy's `[backends]` one).
    Ok(Option<SocketAddr>),
    /// `DUNNO`: this rule has nothing to say; the next one decides.
    Dunno,
    /// `DENY [CODE] [text]`: refused for good (HTTP 403; mail: `Auth-Status:
    /// text`, and nginx closes the session) or, with `DEFER`, for now (HTTP
    /// 503, which nginx turns into 500; mail: `Auth-Wait`, the client may
    /// try again). CODE (`535 5.7.8`) is SMTP's `Auth-Error-Code`.
    Refuse {
        temporary: bool,
        code: Option<&'a str>,
        text: &'a str,
    },
}

impl<'a> Answer<'a> {
    /// Reads an answer.
    ///
    /// # Errors
    /// Why nginx could not be told it, and what to write instead.
    pub fn parse(answer: &'a str) -> Result<Answer<'a>, String> {
        let what = "write OK, \"OK 127.0.0.1:143\", DUNNO, \"DENY text\", \"DENY 535 5.7.8 text\" or \"DEFER text\"";
        if answer.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(format!(
                "`{}` has a control character (it would end the header line): keep it on one line",
                answer.escape_debug()
            ));
        }
        if answer.len() > 1000 {
            return Err("the answer is longer than 1000 bytes: shorten its text".into());
        }
        let answer = answer.trim();
        let (word, rest) = answer.split_once(' ').unwrap_or((answer, ""));
        let rest = rest.trim_start();
        match word.to_ascii_uppercase().as_str() {
            "OK" if rest.is_empty() => Ok(Answer::Ok(None)),
            "OK" => Ok(Answer::Ok(Some(parse_backend(rest)?))),
            "DUNNO" if rest.is_empty() => Ok(Answer::Dunno),
            "DUNNO" => Err(format!("DUNNO takes no text (`{answer}`)")),
            w @ ("DENY" | "DEFER") => {
                let (code, text) = split_code(rest);
                Ok(Answer::Refuse {
                    temporary: w == "DEFER",
                    code,
                    text,
                })
            }
            "" => Err(format!("the answer is empty: {what}")),
            _ => Err(format!("`{word}` is not an answer of serve nginx: {what}")),
        }
    }
}

/// `550 5.7.1 text` → (`550 5.7.1`, `text`); a text without a reply code
/// → (None, text).
fn split_code(text: &str) -> (Option<&str>, &str) {
    let is_reply = |w: &str| {
        w.len() == 3
            && matches!(w.as_bytes()[0], b'4' | b'5')
            && w.bytes().all(|b| b.is_ascii_digit())
    };
    let is_enhanced = |w: &str| {
        let parts: Vec<&str> = w.split('.').collect();
        parts.len() == 3
            && matches!(parts[0], "4" | "5")
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut words = text.splitn(3, ' ');
    let first = words.next().unwrap_or("");
    if !is_reply(first) {
        return (None, text);
    }
    let second = words.next().unwrap_or("");
    let end = if is_enhanced(second) {
        first.len() + 1 + second.len()
    } else {
        first.len()
    };
    (Some(&text[..end]), text[end..].trim_start())
}

/// What one request asks and how it went, for the log and the answer.
pub struct Asked {
    /// `http`, `imap`, `pop3`, `smtp`.
    pub kind: &'static str,
    /// The client nginx serves (`$remote_addr`, `Client-IP`).
    pub client: String,
    /// The URI (HTTP) or user (mail), for the log.
    pub what: String,
    /// `SSL_CLIENT_VERIFY` as nginx sent it.
    pub verify: String,
}

thread_local! {
    /// Scratch space of the evaluations on this worker thread.
    static MACHINE: RefCell<Machine> = RefCell::new(Machine::new());
}

/// Runs `f` with this thread's machine.
pub fn with_machine<T>(f: impl FnOnce(&mut Machine) -> T) -> T {
    MACHINE.with(|m| f(&mut m.borrow_mut()))
}

/// Answers one request, whichever protocol it speaks.
fn answer(
    req: &Request<Incoming>,
    policy: &Policy,
    listener: &str,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let headers = req.headers();
    let (asked, decision, response) = if headers.contains_key("auth-protocol") {
        mail::answer(headers, policy, listener)
    } else {
        http::answer(headers, policy, listener)
    };
    log(
        "nginx",
        format_args!(
            "conn={peer} listener={listener} kind={} client={} {} verify={} rule={} verdict={} answer={:?}{}",
            asked.kind,
            or_dash(&asked.client),
            asked.what,
            or_dash(&asked.verify),
            decision.rule,
            decision.verdict,
            decision.action,
            decision
                .error
                .as_ref()
                .map(|e| format!(" error={e:?}"))
                .unwrap_or_default()
        ),
    );
    response
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// A response with `status`, `headers` and an empty body.
pub fn respond(status: StatusCode, headers: &[(&'static str, &str)]) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    for (name, value) in headers {
        // Answers are checked at load (no control characters); a value
        // that still is no header value (e.g. a rule name) is left out.
        if let Ok(v) = HeaderValue::from_str(value) {
            r.headers_mut().append(HeaderName::from_static(name), v);
        }
    }
    r
}

/// The decision's answer as read back: `on_error` (checked at load) when it
/// somehow does not parse.
pub fn parsed(decision: &Decision) -> Answer<'_> {
    Answer::parse(&decision.action).unwrap_or(Answer::Refuse {
        temporary: false,
        code: None,
        text: "access denied by policy",
    })
}

/// A header's value as text (`""` when absent; Latin-1 bytes kept as they
/// are, nginx's values are bytes).
pub fn header<'h>(headers: &'h hyper::HeaderMap, name: &str) -> &'h [u8] {
    headers.get(name).map_or(&[][..], HeaderValue::as_bytes)
}

/// nginx's variables by their log field names, with their values.
pub type Fields = Vec<(String, Vec<u8>)>;

/// Decides a request of `kind` from nginx's variables by their log field
/// names (mapped onto a session as an nginx log line is), with the rules
/// that apply to `kind`, `listener` and `path`.
pub fn decide(
    policy: &Policy,
    fields: Fields,
    kind: &str,
    listener: &str,
    path: Option<&[u8]>,
) -> Decision {
    let capture = match sslrequire::capture::from_nginx_fields_shared(fields, certs()) {
        Ok(c) => c,
        Err(e) => return Decision::error(policy, format!("request: {e}")),
    };
    let opts = EnvOptions {
        dialect: policy.dialect,
        ..EnvOptions::default()
    };
    let env = SessionEnv::new(&capture.session, opts);
    let rules = policy
        .rules
        .iter()
        .filter(|r| r.applies(kind, listener) && r.applies_to_path(path));
    with_machine(|m| policy.decide(rules, m, &env))
}

/// The certificates of recent requests, parsed and printed once: a client
/// logs in again and again with the same certificate. Bounded in bytes
/// (16 MiB), so certificates from the network cannot grow it.
fn certs() -> &'static CertCache {
    static CERTS: OnceLock<CertCache> = OnceLock::new();
    CERTS.get_or_init(|| CertCache::new(16 << 20))
}

/// Whether `ip` parses as an address (for `Client-IP`, `$remote_addr`).
pub fn is_ip(ip: &[u8]) -> bool {
    std::str::from_utf8(ip).is_ok_and(|s| s.parse::<IpAddr>().is_ok())
}

/// Serves one connection (HTTP/1.1 keep-alive, or HTTP/1.0 as nginx's mail
/// module speaks it) until it closes, errs or idles out.
async fn connection(conn: Conn) {
    let Conn {
        stream,
        peer,
        listener,
        shared,
    } = conn;
    let _ = stream.set_nodelay(true);
    let limits = shared.limits;
    let io = hyper_util::rt::TokioIo::new(stream);
    let svc = {
        let listener = listener.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let shared: Arc<Shared> = shared.clone();
            let listener = listener.clone();
            async move {
                let policy = shared.policy();
                Ok::<_, Infallible>(answer(&req, &policy, &listener, peer))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        // Also bounds how long a kept-alive connection may sit idle.
        .header_read_timeout(limits.idle)
        // The head exactly; the read buffer a little above it (hyper
        // checks the head's size once it is whole).
        .max_header_size(limits.max_line)
        .max_buf_size(limits.max_line.max(8192) + 8192)
        .max_headers(limits.max_attributes);
    if let Err(e) = builder.serve_connection(io, svc).await {
        // A head over the bounds was already answered 431 by hyper.
        log(
            "nginx",
            format_args!("conn={peer} listener={listener} closed: {e}"),
        );
    }
}

/// `sslrequire serve nginx`.
pub fn run(mut args: ServeCommon) -> Outcome {
    args.max_line.get_or_insert(DEFAULT_MAX_HEAD);
    super::run("nginx", args, Nginx, connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(Answer::parse("OK").unwrap(), Answer::Ok(None));
        assert_eq!(
            Answer::parse("ok 127.0.0.1:143").unwrap(),
            Answer::Ok(Some("127.0.0.1:143".parse().unwrap()))
        );
        assert_eq!(Answer::parse("DUNNO").unwrap(), Answer::Dunno);
        assert_eq!(
            Answer::parse("DENY 535 5.7.8 no such user").unwrap(),
            Answer::Refuse {
                temporary: false,
                code: Some("535 5.7.8"),
                text: "no such user"
            }
        );
        assert_eq!(
            Answer::parse("DEFER try later").unwrap(),
            Answer::Refuse {
                temporary: true,
                code: None,
                text: "try later"
            }
        );
        assert_eq!(
            Answer::parse("DENY 550 text").unwrap(),
            Answer::Refuse {
                temporary: false,
                code: Some("550"),
                text: "text"
            }
        );
        for bad in [
            "",
            "ALLOW",
            "OK mail.example.com:143",
            "DENY a\r\nb",
            "DUNNO x",
        ] {
            assert!(Answer::parse(bad).is_err(), "{bad:?}");
        }
    }
}
