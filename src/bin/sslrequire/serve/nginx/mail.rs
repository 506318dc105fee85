//! nginx's mail proxy (`auth_http`): its request headers as mod_ssl's
//! variables, and the answer nginx understands.
//!
//! What nginx 1.22 sends, byte for byte, is recorded in
//! mail-reference/nginx/ (README.md, requests.jsonl): `Auth-Method`,
//! `Auth-User`, `Auth-Pass` (percent-escaped), `Auth-Protocol`,
//! `Auth-Login-Attempt`, `Client-IP`, `Client-Host`, `Auth-SMTP-*`,
//! `Auth-SSL` (`on`), `Auth-SSL-Protocol`, `Auth-SSL-Cipher`,
//! `Auth-SSL-Verify`, `Auth-SSL-Subject`, `Auth-SSL-Issuer`,
//! `Auth-SSL-Serial`, `Auth-SSL-Fingerprint`, `Auth-SSL-Cert`.

use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{HeaderMap, Response, StatusCode};

use super::super::policy::{Decision, Policy};
use super::{dn, header, is_ip, parsed, respond, Answer, Asked, Fields};

/// Headers that are no request variable: the password (never exposed to
/// expressions or logs) and the certificate (its variables are).
const HIDDEN: &[&str] = &["auth-pass", "auth-ssl-cert"];

/// The header naming the port of the mail listener, for `SERVER_PORT`
/// (nginx sends it when told: `auth_http_header X-SSLRequire-Server-Port 993;`).
pub const PORT_HEADER: &str = "x-sslrequire-server-port";

/// nginx's variables of one `auth_http` request, by the log field names of
/// `sslrequire::capture::from_nginx_fields`.
///
/// # Errors
/// An unknown `Auth-Protocol`, a `Client-IP` that is no address, a subject
/// or issuer that is not an RFC 2253 name.
pub fn fields(headers: &HeaderMap) -> Result<(&'static str, Fields), String> {
    let get = |name: &str| header(headers, name);
    let kind = match get("auth-protocol") {
        b"imap" => "imap",
        b"pop3" => "pop3",
        b"smtp" => "smtp",
        other => {
            return Err(format!(
                "Auth-Protocol `{}` is not imap, pop3 or smtp",
                String::from_utf8_lossy(other).escape_debug()
            ))
        }
    };
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut set = |name: &str, value: &[u8]| {
        if !value.is_empty() {
            out.push((name.to_string(), value.to_vec()));
        }
    };
    // Every header nginx sent, as a request header: req("Auth-User"),
    // %{HTTP:Auth-SMTP-From} … (values as sent).
    for (name, value) in headers {
        if !HIDDEN.contains(&name.as_str()) {
            set(&format!("http:{name}"), value.as_bytes());
        }
    }
    let ip = get("client-ip");
    if !ip.is_empty() && !is_ip(ip) {
        return Err(format!(
            "Client-IP `{}` is not an IP address",
            String::from_utf8_lossy(ip).escape_debug()
        ));
    }
    set("REMOTE_ADDR", ip);
    set("SERVER_PORT", get(PORT_HEADER));
    set(
        "REMOTE_USER",
        &sslrequire::capture::percent_decode(get("auth-user")),
    );
    if get("auth-ssl") != b"on" {
        // No TLS: mod_ssl's variables are empty, HTTPS is "off".
        set("HTTPS", b"off");
        return Ok((kind, out));
    }
    set("SSL_PROTOCOL", get("auth-ssl-protocol"));
    set("SSL_CIPHER", get("auth-ssl-cipher"));
    set("SSL_CLIENT_VERIFY", get("auth-ssl-verify"));
    let cert = get("auth-ssl-cert");
    if !cert.is_empty() {
        // Every certificate variable from the certificate itself.
        set("ssl_client_escaped_cert", cert);
        return Ok((kind, out));
    }
    // auth_http_pass_client_cert off: what the names and serial tell.
    for (h, prefix) in [
        ("auth-ssl-subject", "SSL_CLIENT_S_DN"),
        ("auth-ssl-issuer", "SSL_CLIENT_I_DN"),
    ] {
        let name = get(h);
        if name.is_empty() {
            continue;
        }
        let dn = dn::parse(name).map_err(|e| format!("{h}: {e}"))?;
        set(prefix, &dn.text);
        for (var, value) in dn.vars(prefix) {
            set(&var, &value);
        }
    }
    set("SSL_CLIENT_M_SERIAL", get("auth-ssl-serial"));
    Ok((kind, out))
}

/// The answer to one `auth_http` request.
pub fn answer(
    headers: &HeaderMap,
    policy: &Policy,
    listener: &str,
) -> (Asked, Decision, Response<Full<Bytes>>) {
    let text = |name: &str| String::from_utf8_lossy(header(headers, name)).into_owned();
    let mut asked = Asked {
        kind: "mail",
        client: text("client-ip"),
        what: format!(
            "user={:?} ccert={:?}",
            text("auth-user"),
            text("auth-ssl-subject")
        ),
        verify: text("auth-ssl-verify"),
    };
    let mut decision = match fields(headers) {
        Ok((kind, fields)) => {
            asked.kind = kind;
            super::decide(policy, fields, kind, listener, None)
        }
        Err(e) => Decision::error(policy, e),
    };
    let smtp = asked.kind == "smtp";
    let response = match parsed(&decision) {
        Answer::Ok(explicit) => {
            let backend = explicit.or_else(|| {
                policy
                    .backends
                    .get(asked.kind)
                    .and_then(|b| b.parse::<SocketAddr>().ok())
            });
            match backend {
                Some(b) => respond(
                    StatusCode::OK,
                    &[
                        ("auth-status", "OK"),
                        ("auth-server", &b.ip().to_string()),
                        ("auth-port", &b.port().to_string()),
                    ],
                ),
                None => {
                    decision.error = Some(format!(
                        "allowed, but the policy names no backend for {}: add `{} = \"IP:PORT\"` to [backends] or answer \"OK IP:PORT\"",
                        asked.kind, asked.kind
                    ));
                    refuse(true, None, "temporary authentication failure", smtp)
                }
            }
        }
        // `default` and `on_error` may say DUNNO: nothing allowed it.
        Answer::Dunno => refuse(false, None, "", smtp),
        Answer::Refuse {
            temporary,
            code,
            text,
        } => refuse(temporary, code, text, smtp),
    };
    (asked, decision, response)
}

/// `Auth-Status: text` (nginx then closes the session, or with `Auth-Wait`
/// lets the client try again), and SMTP's `Auth-Error-Code`.
fn refuse(temporary: bool, code: Option<&str>, text: &str, smtp: bool) -> Response<Full<Bytes>> {
    let text = if text.is_empty() {
        "access denied by policy"
    } else {
        text
    };
    let mut h: Vec<(&'static str, &str)> = vec![("auth-status", text)];
    if smtp {
        let default = if temporary { "451 4.7.0" } else { "535 5.7.8" };
        h.push(("auth-error-code", code.unwrap_or(default)));
    }
    if temporary {
        h.push(("auth-wait", "3"));
    }
    respond(StatusCode::OK, &h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn names_without_the_certificate() {
        let h = headers(&[
            ("auth-protocol", "imap"),
            ("auth-user", "alice%20x"),
            ("auth-pass", "secret"),
            ("client-ip", "127.0.0.1"),
            ("auth-ssl", "on"),
            ("auth-ssl-protocol", "TLSv1.3"),
            ("auth-ssl-cipher", "TLS_AES_256_GCM_SHA384"),
            ("auth-ssl-verify", "SUCCESS"),
            ("auth-ssl-subject", "CN=Zo\\C3\\AB,OU=b,OU=a"),
            ("auth-ssl-serial", "1001"),
        ]);
        let (kind, f) = fields(&h).unwrap();
        assert_eq!(kind, "imap");
        let get = |n: &str| f.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_slice());
        assert_eq!(get("REMOTE_USER"), Some(&b"alice x"[..]));
        assert_eq!(get("SSL_CLIENT_S_DN"), Some("CN=Zoë,OU=b,OU=a".as_bytes()));
        assert_eq!(get("SSL_CLIENT_S_DN_OU_1"), Some(&b"b"[..]));
        assert_eq!(get("SSL_CLIENT_M_SERIAL"), Some(&b"1001"[..]));
        assert_eq!(get("http:auth-pass"), None);
        assert!(fields(&headers(&[("auth-protocol", "nntp")])).is_err());
        assert!(fields(&headers(&[("auth-protocol", "imap"), ("client-ip", "x")])).is_err());
    }
}
