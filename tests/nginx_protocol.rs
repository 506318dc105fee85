//! `sslrequire serve nginx` without nginx: every `auth_http` request real
//! nginx 1.22 sent (mail-reference/nginx/requests.jsonl, byte for byte) is
//! replayed, and the variables it becomes must be what Apache 2.4.71 showed
//! for the same certificate (tests/apache-2.4.71/env/*.json) — once with
//! the certificate (`auth_http_pass_client_cert on`), once with only the
//! names and serial. Then malformed and hostile requests, the answers'
//! format, and reload on SIGHUP.

#[path = "postfix_util/mod.rs"]
mod util;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use util::*;

const NGINX_REFERENCE: &str = "/work/shared/mail-reference/nginx";

fn nginx_reference() -> std::path::PathBuf {
    std::env::var_os("SSLREQUIRE_NGINX_MAIL_REFERENCE")
        .map(Into::into)
        .unwrap_or_else(|| NGINX_REFERENCE.into())
}

/// One recorded auth_http request: its case, certificate and headers.
struct Recorded {
    case: String,
    cert: String,
    headers: Vec<(String, String)>,
}

fn recorded() -> Vec<Recorded> {
    let path = nginx_reference().join("requests.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for r in v["auth_requests"].as_array().unwrap() {
            out.push(Recorded {
                case: format!(
                    "{} {} {}",
                    v["case"], v["client_cert"], v["ssl_verify_client"]
                ),
                cert: v["client_cert"].as_str().unwrap().to_string(),
                headers: r["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| {
                        (
                            h[0].as_str().unwrap().to_string(),
                            h[1].as_str().unwrap().to_string(),
                        )
                    })
                    .collect(),
            });
        }
    }
    out
}

fn request(headers: &[(String, String)]) -> Vec<u8> {
    let mut r = b"GET /auth HTTP/1.0\r\n".to_vec();
    for (k, v) in headers {
        // Latin-1 on the wire, as recorded.
        r.extend(format!("{k}: ").bytes());
        r.extend(v.chars().map(|c| c as u32 as u8));
        r.extend(b"\r\n");
    }
    r.extend(b"\r\n");
    r
}

fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Apache's certificate variables for `cert` (its env dump), those that
/// nginx's names and serial carry (`names_only`) or all that the
/// certificate does.
fn apache_vars(cert: &str, names_only: bool) -> Option<BTreeMap<String, String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/apache-2.4.71/env")
        .join(format!("{cert}.json"));
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let env = v["ssl_env"].as_object().unwrap();
    Some(
        env.iter()
            .filter(|(k, _)| {
                let by_name = k.starts_with("SSL_CLIENT_S_DN")
                    || k.starts_with("SSL_CLIENT_I_DN")
                    || *k == "SSL_CLIENT_M_SERIAL";
                let by_cert = k.starts_with("SSL_CLIENT_")
                    && !k.starts_with("SSL_CLIENT_CERT_CHAIN")
                    && !matches!(k.as_str(), "SSL_CLIENT_VERIFY" | "SSL_CLIENT_V_REMAIN");
                if names_only {
                    by_name
                } else {
                    by_cert
                }
            })
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect(),
    )
}

fn fingerprint(cert: &str) -> String {
    use sha1::Digest as _;
    let Ok(pem) = std::fs::read_to_string(certs().join(format!("{cert}.crt"))) else {
        return "-".into();
    };
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64_decode(&b64);
    sha1::Sha1::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

const BACKENDS: &str = r#"
[backends]
imap = "127.0.0.1:1143"
pop3 = "127.0.0.1:1110"
smtp = "127.0.0.1:1025"
"#;

/// A policy whose rules deny (naming what differs) when a variable is not
/// Apache's value for the certificate with that fingerprint.
fn comparison_policy(certs: &[&str], names_only: bool) -> String {
    let mut p = format!("default = \"OK\"\n{BACKENDS}");
    let session = r#"%{REMOTE_ADDR} == "127.0.0.1" && -R "127.0.0.0/8"
        && (%{HTTPS} == "on" || req("Auth-SSL") == "")
        && (req("Auth-SSL") == "" || (%{SSL_CIPHER_USEKEYSIZE} == "256" && %{SSL_CIPHER_ALGKEYSIZE} == "256"
            && %{SSL_PROTOCOL} == req("Auth-SSL-Protocol") && %{SSL_CIPHER} == req("Auth-SSL-Cipher")))
        && (req("Auth-SSL-Verify") == "" || %{SSL_CLIENT_VERIFY} == req("Auth-SSL-Verify"))
        && %{REMOTE_USER} == req("Auth-User") && %{HTTP:Auth-Protocol} =~ /^(imap|pop3|smtp)$/"#;
    p.push_str(&format!(
        "[[rule]]\nname = \"session\"\nrequire = '''{session}'''\ndeny = \"DENY session variables differ\"\n"
    ));
    for cert in certs {
        let Some(vars) = apache_vars(cert, names_only) else {
            continue;
        };
        for (k, v) in vars {
            if v.contains('\n') {
                // A PEM: compared by its MD5 (md5() is Apache's too).
                use md5::Digest as _;
                let sum: String = md5::Md5::digest(v.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                p.push_str(&format!(
                    "[[rule]]\nname = \"{cert}-{k}\"\nrequire = '''req(\"Auth-SSL-Fingerprint\") != \"{}\" || md5(%{{{k}}}) == \"{sum}\"'''\ndeny = \"DENY {cert} {k} differs\"\n",
                    fingerprint(cert),
                ));
                continue;
            }
            p.push_str(&format!(
                "[[rule]]\nname = \"{cert}-{k}\"\nrequire = '''req(\"Auth-SSL-Fingerprint\") != \"{}\" || %{{{k}}} == {}'''\ndeny = \"DENY {cert} {k} differs\"\n",
                fingerprint(cert),
                quote(&v)
            ));
        }
    }
    p
}

#[test]
fn recorded_requests_become_apaches_variables() {
    let recorded = recorded();
    assert!(
        recorded.len() >= 100,
        "{} recorded requests",
        recorded.len()
    );
    let certs: Vec<&str> = {
        let mut c: Vec<&str> = recorded.iter().map(|r| r.cert.as_str()).collect();
        c.sort();
        c.dedup();
        c
    };
    let mut compared = 0;
    for names_only in [false, true] {
        let dir = scratch(if names_only {
            "nginx-names"
        } else {
            "nginx-cert"
        });
        let server = Server::start_as("nginx", &dir, &comparison_policy(&certs, names_only), &[]);
        for r in &recorded {
            let mut headers = r.headers.clone();
            if names_only {
                headers.retain(|(k, _)| k != "Auth-SSL-Cert");
            }
            let mut s = server.connect();
            let a = http_exchange(&mut s, &request(&headers))
                .unwrap_or_else(|| panic!("{}: no answer; log:\n{}", r.case, server.log_text()));
            let proto = headers
                .iter()
                .find(|(k, _)| k == "Auth-Protocol")
                .map(|(_, v)| v.as_str())
                .unwrap();
            let port = match proto {
                "imap" => "1143",
                "pop3" => "1110",
                _ => "1025",
            };
            assert_eq!(
                (
                    a.status,
                    a.header("Auth-Status"),
                    a.header("Auth-Server"),
                    a.header("Auth-Port")
                ),
                (200, Some("OK"), Some("127.0.0.1"), Some(port)),
                "{} (names only: {names_only}): {a:?}",
                r.case
            );
            if apache_vars(&r.cert, names_only).is_some() {
                // The rules select the certificate by fingerprint: they
                // must match the one nginx sent, else nothing is compared.
                let sent = headers.iter().find(|(k, _)| k == "Auth-SSL-Fingerprint");
                if let Some((_, fp)) = sent {
                    assert_eq!(fp, &fingerprint(&r.cert), "{}", r.case);
                    compared += 1;
                }
            }
        }
        let decisions = server.log_lines(" verdict=");
        assert_eq!(decisions.len(), recorded.len(), "{}", server.log_text());
        assert!(decisions.iter().all(|l| l.contains("kind=imap")
            || l.contains("kind=pop3")
            || l.contains("kind=smtp")));
        assert!(
            !server.log_text().contains("auth-pass") && !server.log_text().contains("p@ss"),
            "the password is never logged"
        );
    }
    eprintln!("nginx-protocol: {} recorded requests x 2 (certificate, names only); {compared} compared with Apache's variables for their certificate", recorded.len());
    assert!(compared > 150);
}

fn http_request(uri: &str, extra: &[(&str, &str)], keep_alive: bool) -> Vec<u8> {
    let mut r =
        format!("GET /_sslrequire HTTP/1.1\r\nHost: localhost\r\nX-SSLRequire-Uri: {uri}\r\n");
    for (k, v) in extra {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if !keep_alive {
        r.push_str("Connection: close\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

const HTTP_POLICY: &str = r#"
default = "OK"
[backends]
imap = "127.0.0.1:1143"

[[rule]]
name = "admin"
locations = ["/admin/"]
require = '%{SSL_CLIENT_VERIFY} == "SUCCESS" && %{SSL_CLIENT_S_DN_UID} == "alice"'
deny = "DENY alice only"

[[rule]]
name = "no-files"
locations = ["/files/"]
require = 'file("/etc/passwd") == ""'

[[rule]]
name = "busy"
locations = ["/busy/"]
require = 'false'
deny = "DEFER try again later"

[[rule]]
name = "smtp"
protocols = ["smtp"]
require = '%{SSL_CLIENT_VERIFY} == "SUCCESS"'
deny = "DENY 550 5.7.1 certificate required"

[[rule]]
name = "imap-wait"
protocols = ["imap"]
require = 'req("Auth-User") != "slow"'
deny = "DEFER wait a moment"
"#;

fn borrow<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn escaped_cert(name: &str) -> String {
    let pem = std::fs::read_to_string(certs().join(format!("{name}.crt"))).unwrap();
    pem.replace('\n', "%0A").replace(' ', "%20")
}

#[test]
fn http_answers_locations_and_hostile_requests() {
    let dir = scratch("nginx-http");
    let mut server = Server::start_as("nginx", &dir, HTTP_POLICY, &[]);
    let alice = escaped_cert("alice");
    let bob = escaped_cert("bob");
    let ask = |uri: &str, extra: &[(&str, &str)]| {
        let mut s = server.connect();
        http_exchange(&mut s, &http_request(uri, extra, false)).expect("an answer")
    };
    let verified = |cert: &str| -> Vec<(&str, String)> {
        vec![
            ("X-SSLRequire-SSL-Client-Verify", "SUCCESS".into()),
            ("X-SSLRequire-SSL-Client-Cert", cert.to_string()),
            ("X-SSLRequire-SSL-Protocol", "TLSv1.3".into()),
            ("X-SSLRequire-SSL-Cipher", "TLS_AES_256_GCM_SHA384".into()),
        ]
    };
    let a = verified(&alice);
    let b = verified(&bob);
    // Locations: a plain prefix of the decoded path.
    let r = ask("/admin/x?y=1", &borrow(&a));
    assert_eq!(
        (r.status, r.header("x-sslrequire-rule")),
        (200, Some("admin"))
    );
    let r = ask("/admin/x", &borrow(&b));
    assert_eq!(
        (r.status, r.header("x-sslrequire-reason")),
        (403, Some("alice only"))
    );
    let r = ask("/%61dmin/x", &borrow(&b));
    assert_eq!(r.status, 403, "the path is decoded before it is matched");
    let r = ask("/public/x", &borrow(&b));
    assert_eq!(
        (r.status, r.header("x-sslrequire-verdict")),
        (200, Some("none"))
    );
    // An evaluation error (file() is never allowed) denies, and is logged.
    let r = ask("/files/x", &[]);
    assert_eq!(
        (r.status, r.header("x-sslrequire-verdict")),
        (403, Some("error"))
    );
    assert!(server
        .wait_log("rule=no-files verdict=error", Duration::from_secs(5))
        .is_some());
    // DEFER: 503 (nginx answers its client 500).
    assert_eq!(ask("/busy/", &[]).status, 503);
    // Not a subrequest of the snippet, a bad certificate, an unknown
    // cipher, a bad address: refused, logged, never allowed.
    let mut s = server.connect();
    let r = http_exchange(
        &mut s,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(r.status, 403);
    for extra in [
        vec![(
            "X-SSLRequire-SSL-Client-Cert",
            "-----BEGIN%20CERTIFICATE-----%0AAAAA%0A-----END%20CERTIFICATE-----%0A",
        )],
        vec![("X-SSLRequire-SSL-Cipher", "NO-SUCH-CIPHER")],
        vec![("X-SSLRequire-Remote-Addr", "not-an-ip")],
        vec![("X-SSLRequire-SSL-Session-Reused", "maybe")],
    ] {
        let r = ask("/public/", &extra);
        assert_eq!(
            (r.status, r.header("x-sslrequire-verdict")),
            (403, Some("error")),
            "{extra:?}"
        );
    }
    // Keep-alive: many requests on one connection.
    let mut s = server.connect();
    for i in 0..5 {
        let r = http_exchange(
            &mut s,
            &http_request(&format!("/admin/{i}"), &borrow(&a), true),
        )
        .unwrap();
        assert_eq!(r.status, 200);
    }
    // Bounds: an oversized head, too many headers, garbage: answered by
    // the HTTP layer (431/400, which nginx turns into 500), logged.
    let mut s = server.connect();
    let huge = "a".repeat(300 << 10);
    let r = http_exchange(&mut s, &http_request("/", &[("X-Big", &huge)], false));
    assert!(r.as_ref().is_none_or(|r| r.status == 431), "{r:?}");
    let many: Vec<(String, String)> = (0..200).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut s = server.connect();
    let r = http_exchange(&mut s, &http_request("/", &many, false));
    assert!(r.as_ref().is_none_or(|r| r.status == 431), "{r:?}");
    let mut s = server.connect();
    let r = http_exchange(&mut s, b"HELLO\r\n\r\n");
    assert!(r.as_ref().is_none_or(|r| r.status == 400), "{r:?}");
    // Non-UTF-8 and Latin-1 values.
    let mut s = server.connect();
    let mut req = http_request("/public/", &[], false);
    req.truncate(req.len() - 2);
    req.extend(b"X-Latin: caf\xe9\r\n\r\n");
    assert_eq!(http_exchange(&mut s, &req).unwrap().status, 200);
    // Concurrent connections.
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let mut s = server.connect();
                for _ in 0..20 {
                    let r =
                        http_exchange(&mut s, &http_request("/admin/", &borrow(&a), true)).unwrap();
                    assert_eq!(r.status, 200);
                }
            });
        }
    });
    // A client that goes away mid-request.
    let mut s = server.connect();
    s.write_all(b"GET / HTTP/1.1\r\nX-SSLRe").unwrap();
    drop(s);
    assert!(server.alive(), "the server survives: {}", server.log_text());
}

#[test]
fn mail_answers() {
    let dir = scratch("nginx-mail");
    let server = Server::start_as("nginx", &dir, HTTP_POLICY, &[]);
    let ask = |headers: &[(&str, &str)]| {
        let h: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut s = server.connect();
        http_exchange(&mut s, &request(&h)).expect("an answer")
    };
    let tls = [
        ("Auth-SSL", "on"),
        ("Auth-SSL-Protocol", "TLSv1.3"),
        ("Auth-SSL-Cipher", "TLS_AES_256_GCM_SHA384"),
    ];
    let mut smtp = vec![
        ("Auth-Method", "none"),
        ("Auth-Protocol", "smtp"),
        ("Client-IP", "127.0.0.1"),
    ];
    smtp.extend(tls);
    let mut refused = smtp.clone();
    refused.push(("Auth-SSL-Verify", "NONE"));
    let r = ask(&refused);
    assert_eq!(
        (
            r.header("auth-status"),
            r.header("auth-error-code"),
            r.header("auth-wait")
        ),
        (Some("certificate required"), Some("550 5.7.1"), None)
    );
    // Allowed, but the policy names no SMTP backend: a temporary failure.
    let mut ok = smtp.clone();
    ok.push(("Auth-SSL-Verify", "SUCCESS"));
    let r = ask(&ok);
    assert_eq!(
        (r.header("auth-status"), r.header("auth-wait")),
        (Some("temporary authentication failure"), Some("3"))
    );
    assert!(server
        .wait_log("no backend for smtp", Duration::from_secs(5))
        .is_some());
    // IMAP: DEFER waits; otherwise the backend.
    let imap = |user: &'static str| {
        vec![
            ("Auth-Method", "plain"),
            ("Auth-User", user),
            ("Auth-Protocol", "imap"),
            ("Client-IP", "::1"),
        ]
    };
    let r = ask(&imap("slow"));
    assert_eq!(
        (
            r.header("auth-status"),
            r.header("auth-wait"),
            r.header("auth-error-code")
        ),
        (Some("wait a moment"), Some("3"), None)
    );
    let r = ask(&imap("alice"));
    assert_eq!(
        (
            r.header("auth-status"),
            r.header("auth-server"),
            r.header("auth-port")
        ),
        (Some("OK"), Some("127.0.0.1"), Some("1143"))
    );
    // Malformed: an unknown protocol, a bad Client-IP, a subject that is
    // not a name: refused (the on_error answer), logged.
    for bad in [
        vec![("Auth-Protocol", "nntp")],
        vec![("Auth-Protocol", "imap"), ("Client-IP", "x")],
        vec![
            ("Auth-Protocol", "imap"),
            ("Auth-SSL", "on"),
            ("Auth-SSL-Subject", "CN=a\\"),
        ],
        vec![
            ("Auth-Protocol", "imap"),
            ("Auth-SSL", "on"),
            ("Auth-SSL-Cipher", "NOPE"),
        ],
    ] {
        let r = ask(&bad);
        assert_eq!(
            r.header("auth-status"),
            Some("policy evaluation error"),
            "{bad:?}"
        );
    }
}

/// Each rule answers with its value of SSL_CLIENT_VERIFY in the header
/// nginx copies upstream (`x-sslrequire-rule`): the first that holds.
const VERIFY_POLICY: &str = r#"
default = "OK"
[backends]
imap = "127.0.0.1:1143"

[[rule]]
name = "generous"
require = '%{SSL_CLIENT_VERIFY} != "GENEROUS"'
deny = "DENY GENEROUS"

[[rule]]
name = "success"
require = '%{SSL_CLIENT_VERIFY} != "SUCCESS"'
deny = "DENY SUCCESS"

[[rule]]
name = "failed"
require = '%{SSL_CLIENT_VERIFY} !~ /^FAILED:/'
deny = "DENY FAILED"
"#;

/// nginx passes a chain no trusted CA signed (under its `optional_no_ca`)
/// as `FAILED:<reason>`; mod_ssl shows the same connection as GENEROUS over
/// TLS 1.2 (SUCCESS once resumed) and as the failure over TLS 1.3
/// (tests/compat: Apache 2.4.71's env-tls12/rogue.json against
/// env/rogue.json).
#[test]
fn nginx_verify_failures_read_as_mod_ssl_shows_them() {
    let dir = scratch("nginx-verify");
    let server = Server::start_as("nginx", &dir, VERIFY_POLICY, &[]);
    let rogue = escaped_cert("rogue");
    let http = |protocol: &str, verify: &str, reused: &str| {
        let extra = [
            ("X-SSLRequire-SSL-Client-Verify", verify),
            ("X-SSLRequire-SSL-Client-Cert", rogue.as_str()),
            ("X-SSLRequire-SSL-Protocol", protocol),
            ("X-SSLRequire-SSL-Session-Reused", reused),
        ];
        let mut s = server.connect();
        let r = http_exchange(&mut s, &http_request("/", &extra, false)).expect("an answer");
        r.header("x-sslrequire-rule").map(str::to_string)
    };
    let chain = "FAILED:self-signed certificate in certificate chain";
    let cases = [
        ("TLSv1.2", chain, ".", Some("generous")),
        ("TLSv1.2", chain, "r", Some("success")),
        ("TLSv1.3", chain, ".", Some("failed")),
        ("TLSv1.3", chain, "r", Some("failed")),
        // Errors nginx's optional_no_ca refuses itself never become GENEROUS.
        (
            "TLSv1.2",
            "FAILED:certificate has expired",
            ".",
            Some("failed"),
        ),
        ("TLSv1.2", "SUCCESS", ".", Some("success")),
    ];
    for (protocol, verify, reused, want) in cases {
        assert_eq!(
            http(protocol, verify, reused).as_deref(),
            want,
            "{protocol} {verify} {reused}"
        );
    }
    // The mail module sends no session reuse: a new session.
    let mail = |protocol: &str| {
        let h: Vec<(String, String)> = [
            ("Auth-Method", "plain"),
            ("Auth-Protocol", "imap"),
            ("Auth-User", "u"),
            ("Auth-Pass", "p"),
            ("Client-IP", "127.0.0.1"),
            ("Auth-SSL", "on"),
            ("Auth-SSL-Protocol", protocol),
            ("Auth-SSL-Verify", "FAILED:self-signed certificate"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut s = server.connect();
        let r = http_exchange(&mut s, &request(&h)).expect("an answer");
        r.header("auth-status").map(str::to_string)
    };
    assert_eq!(mail("TLSv1.2").as_deref(), Some("GENEROUS"));
    assert_eq!(mail("TLSv1.3").as_deref(), Some("FAILED"));
}

#[test]
fn reload_keeps_the_old_policy_when_the_new_one_is_bad() {
    let dir = scratch("nginx-reload");
    let policy = "[[rule]]\nname = \"a\"\nrequire = 'false'\n";
    let mut server = Server::start_as("nginx", &dir, policy, &[]);
    let mut kept = server.connect();
    let ask = |s: &mut std::net::TcpStream| {
        http_exchange(s, &http_request("/", &[], true))
            .unwrap()
            .status
    };
    assert_eq!(ask(&mut kept), 403);
    std::fs::write(
        &server.policy,
        "[[rule]]\nname = \"a\"\nrequire = '%{SSL_CLIENT_VERIFY} == '\n",
    )
    .unwrap();
    server.signal("HUP");
    let line = server
        .wait_log("reload refused", Duration::from_secs(10))
        .expect("a refused reload");
    assert!(line.contains("rule 1 (`a`)"), "{line}");
    assert_eq!(ask(&mut kept), 403, "the old policy stays");
    std::fs::write(&server.policy, "[[rule]]\nname = \"a\"\nrequire = 'true'\n").unwrap();
    server.signal("HUP");
    server
        .wait_log("reloaded:", Duration::from_secs(10))
        .expect("a reload");
    assert_eq!(
        ask(&mut kept),
        200,
        "the kept-alive connection sees the new policy"
    );
    assert!(server.alive());
}

#[test]
fn policies_nginx_cannot_use_are_refused_at_start() {
    let dir = scratch("nginx-check");
    for (policy, says) in [
        (
            "[[rule]]\nname='a'\nstates=['RCPT']\nrequire='true'\n",
            "write `protocols`",
        ),
        (
            "[[rule]]\nname='a'\nprotocols=['nntp']\nrequire='true'\n",
            "not a request kind",
        ),
        (
            "[[rule]]\nname='a'\nlocations=['admin']\nrequire='true'\n",
            "not a URI path prefix",
        ),
        (
            "[backends]\nimap='mail.example.com:143'\n[[rule]]\nname='a'\nrequire='true'\n",
            "IP:PORT",
        ),
        (
            "[backends]\nnntp='127.0.0.1:119'\n[[rule]]\nname='a'\nrequire='true'\n",
            "not a mail protocol",
        ),
        (
            "[[rule]]\nname='a'\nrequire='true'\nallow='ACCEPT'\n",
            "not an answer of serve nginx",
        ),
        (
            "[[rule]]\nname='a'\nrequire='true'\ndeny=\"DENY a\\nb\"\n",
            "control character",
        ),
    ] {
        let path = dir.join("bad.toml");
        std::fs::write(&path, policy).unwrap();
        let out = std::process::Command::new(BIN)
            .args(["serve", "nginx", "--check", "--policy"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{policy}: {err}");
        assert!(err.contains(says), "{policy}: {err}");
    }
    // And Postfix refuses nginx's keys.
    std::fs::write(
        dir.join("p.toml"),
        "[[rule]]\nname='a'\nlocations=['/']\nrequire='true'\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["serve", "postfix", "--check", "--policy"])
        .arg(dir.join("p.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("serve nginx"));
}
