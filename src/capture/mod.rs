//! Sessions from where they are captured: access logs written with the
//! documented formats ([`APACHE_LOG_FORMAT`], [`NGINX_LOG_FORMAT`]) and the
//! captured-session JSON format, one record per line.
//!
//! A log line is a flat list of `name = value` pairs whose names are Apache's
//! own variable names (`SSL_PROTOCOL`, `SSL_CLIENT_CERT`, `REMOTE_ADDR`,
//! `http:User-Agent` …) plus `time`, `status` and `id`; [`parse`] turns one
//! into a [`Session`] with the same rules and errors as the JSON format.

mod apache_log;
mod nginx_log;
#[cfg(feature = "cli")]
pub mod pcap;

use std::collections::BTreeMap;
use std::fmt;

use crate::session::{CertCache, Session, SessionError};

pub use apache_log::APACHE_LOG_FORMAT;
pub use nginx_log::NGINX_LOG_FORMAT;

/// Where a record comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The captured-session JSON format (README, "Captured sessions").
    Json,
    /// An Apache access log written with [`APACHE_LOG_FORMAT`].
    Apache,
    /// An nginx access log written with [`NGINX_LOG_FORMAT`].
    Nginx,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Apache => "apache",
            Format::Nginx => "nginx",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "json" => Ok(Format::Json),
            "apache" => Ok(Format::Apache),
            "nginx" => Ok(Format::Nginx),
            _ => Err(format!("unknown format `{s}`; use json, apache or nginx")),
        }
    }
}

/// The top-level fields of the captured-session JSON format.
const JSON_FIELDS: &[&str] = &[
    "id",
    "time",
    "protocol",
    "cipher",
    "cipher_bits",
    "cipher_alg_bits",
    "sni",
    "session_id",
    "resumed",
    "secure_reneg",
    "compression",
    "verify",
    "client_chain",
    "server_chain",
    "vars",
];

/// The format of a file from its first non-blank line: a JSON object whose
/// fields are all the session format's is `json`, any other JSON object an
/// nginx log line, anything else an Apache log line.
pub fn detect(first_line: &str) -> Format {
    let t = first_line.trim_start();
    if !t.starts_with('{') {
        return Format::Apache;
    }
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(t) {
        Ok(m) if !m.is_empty() && m.keys().all(|k| JSON_FIELDS.contains(&k.as_str())) => {
            Format::Json
        }
        Ok(m) if m.is_empty() => Format::Json,
        Ok(_) => Format::Nginx,
        // Not even JSON: let the JSON reader say why, with the line.
        Err(_) => Format::Json,
    }
}

/// One record read from a capture.
#[derive(Debug)]
pub struct Capture {
    /// The session it describes.
    pub session: Session,
    /// The response status the server logged (`status`), if any.
    pub status: Option<u16>,
    /// Names kept but worth a warning (see [`Session::from_json_with_warnings`]).
    pub warnings: Vec<SessionError>,
}

/// Reads one record (one line) of a capture in `format`.
///
/// # Errors
/// A [`SessionError`] naming the field (the log's own name for it).
pub fn parse(format: Format, line: &str) -> Result<Capture, SessionError> {
    read(format, line, None)
}

/// [`parse`], sharing certificates between records through `certs` (see
/// [`Session::from_json_shared`]): what makes an audit of real traffic,
/// where the same certificates come back line after line, fast.
///
/// # Errors
/// A [`SessionError`] naming the field (the log's own name for it).
pub fn parse_shared(
    format: Format,
    line: &str,
    certs: &CertCache,
) -> Result<Capture, SessionError> {
    read(format, line, Some(certs))
}

fn read(format: Format, line: &str, certs: Option<&CertCache>) -> Result<Capture, SessionError> {
    let json = |text: &str| match certs {
        Some(c) => Session::from_json_shared(text, c),
        None => Session::from_json_with_warnings(text),
    };
    match format {
        Format::Json => {
            let (session, warnings) = json(line)?;
            Ok(Capture {
                session,
                status: None,
                warnings,
            })
        }
        Format::Apache => from_fields(apache_log::fields(line)?, Format::Apache, false, json),
        Format::Nginx => from_fields(nginx_log::fields(line)?, Format::Nginx, false, json),
    }
}

fn error(field: impl Into<String>, message: impl Into<String>) -> SessionError {
    SessionError {
        field: field.into(),
        message: message.into(),
    }
}

/// Builds a session from nginx's variables by their log field names (the
/// names of [`NGINX_LOG_FORMAT`]: `SSL_PROTOCOL` for `$ssl_protocol`,
/// `ssl_client_escaped_cert` for `$ssl_client_escaped_cert`, `REMOTE_ADDR`,
/// `http:User-Agent` …): the mapping of an nginx log line, for servers that
/// receive the same variables another way (`sslrequire serve nginx`). An
/// empty value is unset.
///
/// # Errors
/// A [`SessionError`] naming the field.
pub fn from_nginx_fields(fields: Vec<(String, Vec<u8>)>) -> Result<Capture, SessionError> {
    from_fields(
        fields,
        Format::Nginx,
        true,
        Session::from_json_with_warnings,
    )
}

/// [`from_nginx_fields`], sharing certificates between requests through
/// `certs` (see [`Session::from_json_shared`]): a server sees the same
/// client certificates login after login.
///
/// # Errors
/// A [`SessionError`] naming the field.
pub fn from_nginx_fields_shared(
    fields: Vec<(String, Vec<u8>)>,
    certs: &CertCache,
) -> Result<Capture, SessionError> {
    from_fields(fields, Format::Nginx, true, |text| {
        Session::from_json_shared(text, certs)
    })
}

/// The instant of a log line: RFC 3339, Apache's `%{%Y-%m-%dT%H:%M:%S%z}t`
/// or its default `%t` (`[10/Oct/2026:13:55:36 -0700]`).
fn time(v: &str) -> Option<String> {
    use chrono::DateTime;
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.to_rfc3339());
    }
    let v = v.trim_start_matches('[').trim_end_matches(']');
    ["%Y-%m-%dT%H:%M:%S%z", "%d/%b/%Y:%H:%M:%S %z"]
        .iter()
        .find_map(|f| DateTime::parse_from_str(v, f).ok())
        .map(|t| t.to_rfc3339())
}

/// Builds the session of one log line from its `(name, value)` pairs (an
/// empty value is unset, as `-` is in Apache's logs): mapped onto the
/// captured-session JSON and read by `json`. `asked`: the fields come from
/// nginx asking a server (`auth_request`, `auth_http`), which it does only
/// for a connection its own verification let through.
fn from_fields(
    fields: Vec<(String, Vec<u8>)>,
    format: Format,
    asked: bool,
    json: impl FnOnce(&str) -> Result<(Session, Vec<SessionError>), SessionError>,
) -> Result<Capture, SessionError> {
    use serde_json::{json, Map, Value};
    let mut rec = Map::new();
    // Which log field filled which session field, to name it in errors.
    let mut origin: Vec<(String, String)> = Vec::new();
    let mut client: BTreeMap<u32, (String, String)> = BTreeMap::new();
    let mut vars: Vec<(String, Vec<u8>)> = Vec::new();
    let mut status = None;
    for (key, value) in fields {
        if value.is_empty() {
            continue;
        }
        let text = || {
            String::from_utf8(value.clone()).map_err(|_| {
                error(
                    &key,
                    "not UTF-8 text (only request variables may hold other bytes)",
                )
            })
        };
        let mut set = |field: &str, v: Value| {
            origin.push((field.to_string(), key.clone()));
            rec.insert(field.to_string(), v);
        };
        match key.as_str() {
            "id" => set("id", json!(text()?)),
            "time" => {
                let t = text()?;
                let rfc = time(&t).ok_or_else(|| {
                    error(
                        &key,
                        format!("`{t}` is not a time (RFC 3339, %{{%Y-%m-%dT%H:%M:%S%z}}t or %t)"),
                    )
                })?;
                set("time", json!(rfc));
            }
            "status" => {
                let t = text()?;
                status = Some(
                    t.parse::<u16>()
                        .map_err(|_| error(&key, format!("`{t}` is not an HTTP status")))?,
                );
            }
            "SSL_PROTOCOL" => set("protocol", json!(text()?)),
            "SSL_CIPHER" => set("cipher", json!(text()?)),
            "SSL_TLS_SNI" => set("sni", json!(text()?)),
            "SSL_SESSION_ID" => set("session_id", json!(text()?)),
            "SSL_COMPRESS_METHOD" => set("compression", json!(text()?)),
            "SSL_CLIENT_VERIFY" => set("verify", json!(text()?)),
            "SSL_SESSION_RESUMED" => {
                let t = text()?;
                let b = match t.as_str() {
                    "Resumed" | "r" => true,
                    "Initial" | "." => false,
                    _ => {
                        return Err(error(
                            &key,
                            format!("`{t}`: expected Resumed or Initial (nginx: r or .)"),
                        ))
                    }
                };
                set("resumed", json!(b));
            }
            "SSL_SECURE_RENEG" => {
                let t = text()?;
                let b = match t.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(error(&key, format!("`{t}`: expected true or false"))),
                };
                set("secure_reneg", json!(b));
            }
            "SSL_CIPHER_USEKEYSIZE" | "SSL_CIPHER_ALGKEYSIZE" => {
                let t = text()?;
                let n: u32 = t
                    .parse()
                    .map_err(|_| error(&key, format!("`{t}` is not a number of bits")))?;
                let field = if key == "SSL_CIPHER_USEKEYSIZE" {
                    "cipher_bits"
                } else {
                    "cipher_alg_bits"
                };
                set(field, json!(n));
            }
            "SSL_CLIENT_CERT" => {
                client.insert(0, (key.clone(), text()?));
            }
            "ssl_client_escaped_cert" => {
                let pem = String::from_utf8(percent_decode(&value)).map_err(|_| {
                    error(
                        &key,
                        "not a URL-escaped PEM certificate (decodes to non-UTF-8)",
                    )
                })?;
                client.insert(0, (key.clone(), pem));
            }
            "SSL_SERVER_CERT" => set("server_chain", json!([text()?])),
            k => match k
                .strip_prefix("SSL_CLIENT_CERT_CHAIN_")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n < 64)
            {
                Some(n) => {
                    client.insert(n + 1, (key.clone(), text()?));
                }
                None => {
                    let mut value = value;
                    if format == Format::Apache && key == "QUERY_STRING" {
                        // `%q` is `?` and the query, or empty.
                        if value.first() == Some(&b'?') {
                            value.remove(0);
                        }
                    }
                    if !value.is_empty() {
                        vars.push((key, value));
                    }
                }
            },
        }
    }
    // The client chain: the leaf, then SSL_CLIENT_CERT_CHAIN_0, _1 … with no gap.
    let mut chain = Vec::new();
    for (i, (n, (key, pem))) in client.into_iter().enumerate() {
        if n as usize != i {
            let missing = if i == 0 {
                "SSL_CLIENT_CERT".to_string()
            } else {
                format!("SSL_CLIENT_CERT_CHAIN_{}", i - 1)
            };
            return Err(error(
                &key,
                format!("given without {missing}; a chain is the client certificate, then CHAIN_0, CHAIN_1 … in order"),
            ));
        }
        origin.push((format!("client_chain[{i}]"), key));
        chain.push(json!(pem));
    }
    if !chain.is_empty() {
        rec.insert("client_chain".into(), Value::Array(chain));
    }
    let text = Value::Object(rec).to_string();
    let (mut session, mut warnings) = json(&text).map_err(|mut e| {
        if let Some((_, key)) = origin.iter().find(|(f, _)| *f == e.field) {
            e.field = key.clone();
        }
        e
    })?;
    if format == Format::Nginx && (asked || status.is_some_and(|s| s != 400)) {
        as_mod_ssl_verifies(&mut session);
    }
    warnings.extend(session.add_vars(vars).into_iter().map(|mut w| {
        w.field = w.field.trim_start_matches("vars.").to_string();
        w
    }));
    Ok(Capture {
        session,
        status,
        warnings,
    })
}

/// nginx's `$ssl_client_verify` as mod_ssl's `SSL_CLIENT_VERIFY` would read
/// the same connection, for a connection nginx let through. nginx lets a
/// verification failure through only under `ssl_verify_client
/// optional_no_ca` and only for the errors mod_ssl's `optional_no_ca`
/// accepts too (it answers 400 to the others), so the failure is mod_ssl's
/// `GENEROUS` over TLS 1.2 and below (`SUCCESS` on a resumed session, as
/// Apache shows it) and stays `FAILED:…` over TLS 1.3
/// ([`crate::env::verify::mod_ssl_client_verify`]). Without the protocol it
/// stays as nginx wrote it; without `$ssl_session_reused` (the mail module
/// does not send it) the session counts as new.
fn as_mod_ssl_verifies(session: &mut Session) {
    // The protocol as the session normalised it (`TLSv1.3`, `TLSv1.2` …).
    let (Some(verify), Some(protocol)) = (&session.verify, &session.protocol) else {
        return;
    };
    let tls13 = protocol == "TLSv1.3";
    let resumed = session.resumed == Some(true);
    if let Some(shown) = crate::env::verify::mod_ssl_client_verify(verify, tls13, resumed) {
        session.verify = Some(shown.to_string());
    }
}

/// `%XX` escapes decoded (an invalid escape is kept as it is): nginx's
/// escaping of `$ssl_client_escaped_cert` and of its mail `auth_http`
/// headers (`+` is not a space).
pub fn percent_decode(b: &[u8]) -> Vec<u8> {
    crate::func::string::percent_decode(b, false).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        assert_eq!(detect(r#"{"id": "a", "vars": {}}"#), Format::Json);
        assert_eq!(detect(r#"{"SSL_PROTOCOL": "TLSv1.3"}"#), Format::Nginx);
        assert_eq!(detect(r#"time="x" status=200"#), Format::Apache);
        assert_eq!(detect("{not json"), Format::Json);
    }

    #[test]
    fn times() {
        for t in [
            "2026-12-03T06:39:46+0000",
            "2026-12-03T06:39:46+00:00",
            "[03/Dec/2026:06:39:46 +0000]",
        ] {
            assert_eq!(time(t).as_deref(), Some("2026-12-03T06:39:46+00:00"), "{t}");
        }
        assert_eq!(time("yesterday"), None);
    }

    #[test]
    fn nginx_verify_failures_read_as_mod_ssl_shows_them() {
        let line = |status: &str, protocol: &str, reused: &str| {
            let line = format!(
                r#"{{"status":"{status}","SSL_PROTOCOL":"{protocol}","SSL_SESSION_RESUMED":"{reused}","SSL_CLIENT_VERIFY":"FAILED:self-signed certificate"}}"#
            );
            parse(Format::Nginx, &line).unwrap().session.verify.unwrap()
        };
        assert_eq!(line("200", "TLSv1.2", "."), "GENEROUS");
        assert_eq!(line("403", "TLSv1.2", "r"), "SUCCESS");
        assert_eq!(
            line("200", "TLSv1.3", "."),
            "FAILED:self-signed certificate"
        );
        // Any spelling of TLS 1.3 is TLS 1.3 (as the session reads it).
        assert_eq!(line("200", "TLS1.3", "."), "FAILED:self-signed certificate");
        // 400: nginx may have refused the certificate itself (its `optional`
        // or `on`), where mod_ssl refuses the handshake.
        assert_eq!(
            line("400", "TLSv1.2", "."),
            "FAILED:self-signed certificate"
        );
        assert_eq!(line("", "TLSv1.2", "."), "FAILED:self-signed certificate");
        // Asked by nginx: it let the connection through.
        let fields = |p: &str| {
            vec![
                ("SSL_PROTOCOL".to_string(), p.as_bytes().to_vec()),
                (
                    "SSL_CLIENT_VERIFY".to_string(),
                    b"FAILED:unable to verify the first certificate".to_vec(),
                ),
            ]
        };
        let verify = |p| {
            from_nginx_fields(fields(p))
                .unwrap()
                .session
                .verify
                .unwrap()
        };
        assert_eq!(verify("TLSv1.2"), "GENEROUS");
        assert_eq!(
            verify("TLSv1.3"),
            "FAILED:unable to verify the first certificate"
        );
    }
}
