//! Shared by the policy-server tests and benchmarks: start
//! `sslrequire serve postfix` (or `serve nginx`) on a free port, read its
//! log, talk the Postfix policy protocol.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sslrequire");
pub const REFERENCE: &str = "/work/shared/mail-reference/postfix";
pub const CERTS: &str = "/work/shared/apache-2.4.71/certs";

/// The reference data directory: `SSLREQUIRE_MAIL_REFERENCE` or the
/// shared default.
pub fn reference() -> PathBuf {
    std::env::var_os("SSLREQUIRE_MAIL_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(REFERENCE))
}

/// The test certificates: `SSLREQUIRE_CERTS` or the shared default.
pub fn certs() -> PathBuf {
    std::env::var_os("SSLREQUIRE_CERTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CERTS))
}

/// A fresh directory under cargo's test temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "postfix-{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `sslrequire serve …`, killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
    pub policy: PathBuf,
}

impl Server {
    /// Starts the server on 127.0.0.1 (free port) with `policy` written to
    /// `dir/policy.toml` and the extra flags.
    pub fn start(dir: &Path, policy: &str, extra: &[&str]) -> Server {
        Server::start_as("postfix", dir, policy, extra)
    }

    /// [`Server::start`] for `sslrequire serve SERVER`.
    pub fn start_as(server: &str, dir: &Path, policy: &str, extra: &[&str]) -> Server {
        let path = dir.join("policy.toml");
        std::fs::write(&path, policy).unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", server, "--policy"])
            .arg(&path)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start sslrequire serve {server}: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        // Drain stderr for the server's whole life (a full pipe would block it).
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut server = Server {
            child,
            port: 0,
            log,
            policy: path,
        };
        let line = server
            .wait_log("(listener `127.0.0.1:0`)", Duration::from_secs(20))
            .unwrap_or_else(|| {
                panic!(
                    "the server did not start listening; its log:\n{}",
                    server.log_text()
                )
            });
        let port = line
            .split("listening on 127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect("port in the listening line");
        server.port = port;
        server
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The log lines containing `needle`.
    pub fn log_lines(&self, needle: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }

    /// Waits until a log line contains `needle`; the first such line.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        self.wait_log_count(needle, 1, timeout)
    }

    /// Waits until `n` log lines contain `needle`; the n-th.
    pub fn wait_log_count(&self, needle: &str, n: usize, timeout: Duration) -> Option<String> {
        let end = Instant::now() + timeout;
        loop {
            let lines = self.log_lines(needle);
            if lines.len() >= n {
                return lines.get(n - 1).cloned();
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the server");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends a signal to the server (by its pid).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One policy request's bytes: name=value lines and the empty line.
pub fn encode(attrs: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, v) in attrs {
        out.extend_from_slice(n.as_bytes());
        out.push(b'=');
        out.extend_from_slice(v.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

/// Reads one answer (`action=…` and the empty line); None when the
/// connection is closed (EOF, or reset before any byte of an answer). The
/// server sends nothing unasked, so reading in chunks cannot take bytes of
/// a later answer (asserted).
pub fn read_answer(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    while !buf.ends_with(b"\n\n") {
        match s.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // Closed with our bytes unread: a reset, also "closed".
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && buf.is_empty() => {
                return None
            }
            Err(e) => panic!("reading the answer: {e} (so far {buf:?})"),
        }
    }
    let text = String::from_utf8(buf).expect("UTF-8 answer");
    let action = text
        .strip_prefix("action=")
        .unwrap_or_else(|| panic!("answer without action=: {text:?}"));
    let action = action.strip_suffix("\n\n").unwrap();
    assert!(!action.contains('\n'), "one answer at a time: {text:?}");
    Some(action.to_string())
}

/// Sends one request and reads its answer.
pub fn ask(s: &mut TcpStream, attrs: &[(String, String)]) -> String {
    s.write_all(&encode(attrs)).unwrap();
    read_answer(s).expect("an answer, not EOF")
}

/// `[("a","b")]` → owned pairs.
pub fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Every recorded request of requests.jsonl, per session: (case, client
/// cert, digest, [attrs]).
pub struct Recorded {
    pub case: String,
    pub cert: String,
    pub digest: String,
    pub requests: Vec<Vec<(String, String)>>,
}

pub fn recorded() -> Vec<Recorded> {
    let path = reference().join("requests.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set SSLREQUIRE_MAIL_REFERENCE)", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap().to_string();
            Recorded {
                case: s("case"),
                cert: s("client_cert"),
                digest: s("fingerprint_digest"),
                requests: v["policy_requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        r["attrs"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| {
                                (
                                    p[0].as_str().unwrap().to_string(),
                                    p[1].as_str().unwrap().to_string(),
                                )
                            })
                            .collect()
                    })
                    .collect(),
            }
        })
        .collect()
}

/// `openssl x509 -noout -fingerprint -DIGEST` of a certificate, the part
/// after `=` (Postfix's ccert_fingerprint format).
pub fn fingerprint(cert: &str, digest: &str) -> String {
    let out = Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-fingerprint",
            &format!("-{digest}"),
            "-in",
        ])
        .arg(certs().join(format!("{cert}.crt")))
        .output()
        .expect("openssl");
    assert!(out.status.success(), "openssl x509 -fingerprint failed");
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().split_once('=').unwrap().1.to_string()
}

/// The policy the tests and the benchmark use, with bob's certificate
/// pinned by its sha256 and md5 fingerprints.
pub fn test_policy() -> String {
    format!(
        r#"# The policy of tests/postfix_protocol.rs and tests/postfix_live.rs.
dialect = "2.4"
default = "DEFER_IF_PERMIT 4.7.1 no acceptable client certificate"

[[rule]]
name = "starttls"
require = '%{{HTTPS}} eq "on"'
deny = "REJECT 5.7.0 Must issue a STARTTLS command first"

[[rule]]
name = "sender"
states = ["MAIL"]
require = '%{{ENV:postfix_sender}} =~ /@example\.com$/ and -R "127.0.0.0/8"'
allow = "OK"
deny = "REJECT 5.7.1 sender not allowed"

[[rule]]
name = "cipher"
states = ["RCPT"]
require = '%{{SSL_PROTOCOL}} eq "TLSv1.3" or (%{{SSL_CIPHER}} =~ /^ECDHE-/ and %{{SSL_CIPHER_ALGKEYSIZE}} == 256 and %{{SSL_CIPHER_USEKEYSIZE}} >= 128)'
deny = "REJECT 5.7.0 cipher too weak"

[[rule]]
name = "staff"
states = ["RCPT"]
require = '%{{SSL_CLIENT_VERIFY}} eq "SUCCESS" and %{{SSL_CLIENT_S_DN_CN}} in {{"Alice Example", "Zoë Ünïcode"}} and %{{SSL_CLIENT_I_DN_CN}} eq "Oracle Test Intermediate CA"'
allow = "OK"
deny = "DUNNO"

[[rule]]
name = "untrusted"
states = ["RCPT"]
require = '%{{SSL_CLIENT_VERIFY}} !~ /^FAILED:/'
deny = "REJECT 5.7.1 untrusted client certificate"

[[rule]]
name = "pinned"
states = ["RCPT"]
require = 'reqenv("postfix_ccert_fingerprint") in {{"{}", "{}"}}'
allow = "OK"
deny = "DUNNO"
"#,
        fingerprint("bob", "sha256"),
        fingerprint("bob", "md5"),
    )
}

/// What [`test_policy`] answers, worked out from the reference README
/// rather than from the server's code: a certificate is trusted when it is
/// issued under the root and sent with its chain (openssl s_client), or is
/// dave's (issued by the root itself, trusted leaf-only).
pub fn expected(state: &str, tls: bool, cert: &str, full_chain: bool) -> &'static str {
    if !tls {
        return "REJECT 5.7.0 Must issue a STARTTLS command first";
    }
    if state == "MAIL" {
        return "OK";
    }
    let issued = ["alice", "bob", "carol", "dave", "zoe", "bigserial"].contains(&cert);
    let trusted = issued && (full_chain || cert == "dave");
    match cert {
        "none" => "DEFER_IF_PERMIT 4.7.1 no acceptable client certificate",
        _ if !trusted => "REJECT 5.7.1 untrusted client certificate",
        "alice" | "zoe" | "bob" => "OK",
        _ => "DEFER_IF_PERMIT 4.7.1 no acceptable client certificate",
    }
}

/// One HTTP exchange on `s` (for `serve nginx`): writes `request`, reads
/// the response head and its `Content-Length` body. None when the
/// connection closes first.
pub fn http_exchange(s: &mut TcpStream, request: &[u8]) -> Option<HttpAnswer> {
    s.write_all(request).ok()?;
    read_http(s)
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one HTTP response from `s` (byte by byte up to the head's end, so
/// nothing of a following response is consumed).
pub fn read_http(s: &mut TcpStream) -> Option<HttpAnswer> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).ok()? == 0 {
            return None;
        }
        head.push(b[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut answer = HttpAnswer {
        status,
        headers,
        body: Vec::new(),
    };
    let len: usize = answer
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    answer.body = vec![0; len];
    s.read_exact(&mut answer.body).ok()?;
    Some(answer)
}
