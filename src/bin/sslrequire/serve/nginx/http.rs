//! nginx's `auth_request`: the subrequest's `X-SSLRequire-*` headers (the
//! README's snippet sets them from nginx's variables) as mod_ssl's
//! variables, and the answer: 200 (allowed), 403 (refused) or 503 (a
//! temporary refusal; nginx answers the client 500).

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{HeaderMap, Response, StatusCode};

use super::super::policy::{Decision, Policy};
use super::{header, is_ip, parsed, respond, Answer, Asked, Fields};

/// `X-SSLRequire-*` header → nginx variable → the log field (and so the
/// variable) it becomes. The README's snippet is this table.
pub const HEADERS: &[(&str, &str, &str)] = &[
    ("x-sslrequire-remote-addr", "$remote_addr", "REMOTE_ADDR"),
    ("x-sslrequire-remote-port", "$remote_port", "REMOTE_PORT"),
    ("x-sslrequire-server-name", "$server_name", "SERVER_NAME"),
    ("x-sslrequire-server-port", "$server_port", "SERVER_PORT"),
    ("x-sslrequire-request", "$request", "THE_REQUEST"),
    ("x-sslrequire-method", "$request_method", "REQUEST_METHOD"),
    (
        "x-sslrequire-server-protocol",
        "$server_protocol",
        "SERVER_PROTOCOL",
    ),
    ("x-sslrequire-remote-user", "$remote_user", "REMOTE_USER"),
    ("x-sslrequire-ssl-protocol", "$ssl_protocol", "SSL_PROTOCOL"),
    ("x-sslrequire-ssl-cipher", "$ssl_cipher", "SSL_CIPHER"),
    (
        "x-sslrequire-ssl-server-name",
        "$ssl_server_name",
        "SSL_TLS_SNI",
    ),
    (
        "x-sslrequire-ssl-session-id",
        "$ssl_session_id",
        "SSL_SESSION_ID",
    ),
    (
        "x-sslrequire-ssl-session-reused",
        "$ssl_session_reused",
        "SSL_SESSION_RESUMED",
    ),
    (
        "x-sslrequire-ssl-client-verify",
        "$ssl_client_verify",
        "SSL_CLIENT_VERIFY",
    ),
    (
        "x-sslrequire-ssl-client-cert",
        "$ssl_client_escaped_cert",
        "ssl_client_escaped_cert",
    ),
];

/// The original request's target (`$request_uri`): its path, decoded,
/// is `REQUEST_URI` and what `locations` match; its query `QUERY_STRING`.
pub const URI_HEADER: &str = "x-sslrequire-uri";

/// Headers of the subrequest that are not the client's: nginx's own
/// (`Connection`, `Content-Length` of the snippet) and ours.
fn is_own(name: &str) -> bool {
    name.starts_with("x-sslrequire-") || matches!(name, "connection" | "content-length")
}

/// nginx's variables of one subrequest, by the log field names of
/// `sslrequire::capture::from_nginx_fields`, and the decoded path.
///
/// # Errors
/// No `X-SSLRequire-Uri` (not a subrequest of the README's snippet), or a
/// `$remote_addr` that is no address.
pub fn fields(headers: &HeaderMap) -> Result<(Vec<u8>, Fields), String> {
    let target = header(headers, URI_HEADER);
    if !target.starts_with(b"/") {
        return Err(format!(
            "no {URI_HEADER} header with the request's URI ($request_uri): \
             not an auth_request subrequest of the README's nginx snippet"
        ));
    }
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, &b""[..]),
    };
    let path = sslrequire::session::unescape_url_path(path);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut set = |name: &str, value: &[u8]| {
        if !value.is_empty() {
            out.push((name.to_string(), value.to_vec()));
        }
    };
    set("REQUEST_URI", &path);
    set("QUERY_STRING", query);
    for (h, _, field) in HEADERS {
        set(field, header(headers, h));
    }
    let addr = header(headers, "x-sslrequire-remote-addr");
    if !addr.is_empty() && !is_ip(addr) {
        return Err(format!(
            "X-SSLRequire-Remote-Addr `{}` is not an IP address",
            String::from_utf8_lossy(addr).escape_debug()
        ));
    }
    // The client's own headers (auth_request passes them on).
    for (name, value) in headers {
        if !is_own(name.as_str()) {
            set(&format!("http:{name}"), value.as_bytes());
        }
    }
    Ok((path, out))
}

/// The answer to one subrequest.
pub fn answer(
    headers: &HeaderMap,
    policy: &Policy,
    listener: &str,
) -> (Asked, Decision, Response<Full<Bytes>>) {
    let text = |name: &str| String::from_utf8_lossy(header(headers, name)).into_owned();
    let asked = Asked {
        kind: "http",
        client: text("x-sslrequire-remote-addr"),
        what: format!("uri={:?}", text(URI_HEADER)),
        verify: text("x-sslrequire-ssl-client-verify"),
    };
    let decision = match fields(headers) {
        Ok((path, fields)) => super::decide(policy, fields, "http", listener, Some(&path)),
        Err(e) => Decision::error(policy, e),
    };
    let (status, reason) = match parsed(&decision) {
        Answer::Ok(_) => (StatusCode::OK, ""),
        Answer::Dunno => (StatusCode::FORBIDDEN, "access denied by policy"),
        Answer::Refuse {
            temporary, text, ..
        } => (
            if temporary {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::FORBIDDEN
            },
            text,
        ),
    };
    let mut h: Vec<(&'static str, &str)> = vec![
        ("x-sslrequire-rule", &decision.rule),
        ("x-sslrequire-verdict", decision.verdict),
    ];
    if !reason.is_empty() {
        h.push(("x-sslrequire-reason", reason));
    }
    let response = respond(status, &h);
    (asked, decision, response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snippets_headers() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("x-sslrequire-uri", "/caf%C3%A9/x.txt?n=1&q=%41"),
            ("x-sslrequire-remote-addr", "10.0.0.1"),
            ("x-sslrequire-ssl-protocol", "TLSv1.3"),
            ("user-agent", "curl/8"),
            ("connection", "close"),
        ] {
            h.append(n, v.parse().unwrap());
        }
        let (path, f) = fields(&h).unwrap();
        assert_eq!(path, "/café/x.txt".as_bytes());
        let get = |n: &str| f.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_slice());
        assert_eq!(get("QUERY_STRING"), Some(&b"n=1&q=%41"[..]));
        assert_eq!(get("REMOTE_ADDR"), Some(&b"10.0.0.1"[..]));
        assert_eq!(get("http:user-agent"), Some(&b"curl/8"[..]));
        assert_eq!(get("http:connection"), None);
        assert!(fields(&HeaderMap::new()).is_err());
    }
}
