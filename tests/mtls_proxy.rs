//! The example proxy (examples/mtls_proxy.rs), run for real: its binary
//! on loopback in front of a small upstream (hyper, in this test), driven by
//! `curl` (HTTP/1.1 and HTTP/2) and by a rustls client, with the test PKI
//! and the verdicts Apache 2.4.71 recorded for it (tests/apache-2.4.71, a
//! copy of /work/shared/apache-2.4.71; SSLREQUIRE_APACHE_DATA overrides).
//!
//! * Every mode (require, optional, optional_no_ca): which handshakes
//!   succeed, which requests the policies allow (the upstream's body, with
//!   the SSL_* headers it received, compared with what Apache exported for
//!   the same certificate), which get 403.
//! * Keep-alive (HTTP/1.1) and concurrent HTTP/2 streams on one connection.
//! * Safe refusals: an upstream that is down (502), a path with dot
//!   segments (400), a malformed request, a plain-text client, a bad
//!   policy (the proxy refuses to start); the proxy keeps serving.
//! * proxy-compat: the corpus expressions of Apache's recorded verdicts
//!   that need only what the proxy knows, one `[[policy]]` each, requested
//!   through the proxy with each client certificate, verdict by verdict:
//!   verdicts-tls13.jsonl and verdicts-tls12.jsonl (`SSLVerifyClient
//!   optional_no_ca`, the proxy's mode `optional_no_ca`) and
//!   verdicts-verify-optional.jsonl (`optional`, the proxy's `optional`:
//!   rustls's WebPkiClientVerifier decides which handshakes fail).
//!   Left out, and counted: expressions Apache refused (the proxy refuses
//!   to start with them), `file()` and file tests (the proxy grants no file
//!   access), `TIME_*` and `SSL_*_V_REMAIN` (they hold for the instant of
//!   the recording), `SSL_SESSION_ID`, `SSL_VERSION_*`, `SSL_SECURE_RENEG`
//!   and variables only Apache has (`ENV:`, `DOCUMENT_ROOT`, …).
//!
//! `curl` is required; without it (or without the recorded data) the test
//! says SKIPPED on stderr, and fails under CI=true.

#[path = "support/apache_live/client.rs"]
#[allow(dead_code)]
mod client;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

// ---------------------------------------------------------------------------
// environment

fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Skips loudly, or fails under CI.
fn skip(why: &str) {
    if under_ci() {
        panic!("mtls-proxy: required under CI: {why}");
    }
    say(&format!("mtls-proxy: SKIPPED: {why}"));
}

fn data_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SSLREQUIRE_APACHE_DATA").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apache-2.4.71")),
    ];
    candidates.into_iter().flatten().find(|d| {
        d.join("certs/server-chain.crt").is_file() && d.join("verdicts-tls13.jsonl").is_file()
    })
}

fn have_curl() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The data directory when curl and the data are there; else skipped.
fn setup() -> Option<PathBuf> {
    let Some(dir) = data_dir() else {
        skip("no recorded Apache data with its certificates (set SSLREQUIRE_APACHE_DATA)");
        return None;
    };
    if !have_curl() {
        skip("curl is not installed");
        return None;
    }
    Some(dir)
}

fn certs(dir: &Path) -> PathBuf {
    dir.join("certs")
}

/// `ssl_env` of env/<client>.json: what Apache exported for that client.
fn apache_env(dir: &Path, client: &str) -> BTreeMap<String, String> {
    let path = dir.join(format!("env/{client}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("env json");
    v["ssl_env"]
        .as_object()
        .expect("ssl_env")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

// ---------------------------------------------------------------------------
// the upstream: echoes what it received

/// Answers every request with `upstream METHOD URI` and the headers it
/// received (`name: value`, one a line); `/slow` waits first.
async fn echo(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let mut body = format!(
        "upstream {} {} {:?}\n",
        req.method(),
        req.uri(),
        req.version()
    )
    .into_bytes();
    for (k, v) in req.headers() {
        body.extend_from_slice(k.as_str().as_bytes());
        body.extend_from_slice(b": ");
        body.extend_from_slice(v.as_bytes());
        body.push(b'\n');
    }
    if req.uri().path() == "/slow" {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(Response::new(Full::new(Bytes::from(body))))
}

fn upstream() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(tcp), hyper::service::service_fn(echo))
                            .await;
                    });
                }
            });
        });
        addr
    })
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

// ---------------------------------------------------------------------------
// the proxy

fn proxy_binary() -> PathBuf {
    // target/<profile>/deps/mtls_proxy-<hash> → target/<profile>/examples/mtls_proxy
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join("examples").join("mtls_proxy");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mtls_proxy.rs");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if !bin.is_file() || modified(&bin) < modified(&source) {
        // `cargo test --test mtls_proxy` does not build examples: build it
        // when it is missing or older than its source.
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--example", "mtls_proxy"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo build --example mtls_proxy");
        assert!(status.success(), "cargo build --example mtls_proxy failed");
    }
    assert!(bin.is_file(), "{} not built", bin.display());
    bin
}

struct Proxy {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "sslrequire-mtls-proxy-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Waits until the log holds `needle` (stderr is read by a thread).
    fn wait_log(&self, needle: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// A configuration: the common part plus `extra` (mode, headers, policies).
fn config(dir: &Path, upstream: SocketAddr, extra: &str) -> String {
    let c = certs(dir);
    format!(
        "listen = \"127.0.0.1:0\"\nupstream = \"{upstream}\"\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\n{extra}",
        c.join("server-chain.crt").display(),
        c.join("server.key").display(),
        c.join("root-ca.crt").display(),
    )
}

/// Starts the proxy; Err(its output) when it exits instead of listening.
fn try_start(config: &str) -> Result<Proxy, String> {
    let dir = TempDir::new();
    let path = dir.0.join("proxy.toml");
    std::fs::write(&path, config).expect("write config");
    let mut child = Command::new(proxy_binary())
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mtls_proxy");
    let log = Arc::new(Mutex::new(String::new()));
    {
        let log = log.clone();
        let mut stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let _ = stdout.read_line(&mut line);
    let Some(addr) = line.trim().strip_prefix("listening on ") else {
        let status = child.wait().expect("wait");
        std::thread::sleep(Duration::from_millis(50));
        let out = log.lock().unwrap().clone();
        return Err(format!("{status}: {out}"));
    };
    let port = addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    Ok(Proxy {
        child,
        port,
        log,
        _dir: dir,
    })
}

fn start(config: &str) -> Proxy {
    try_start(config).unwrap_or_else(|e| panic!("the proxy did not start: {e}"))
}

// ---------------------------------------------------------------------------
// curl

#[derive(Debug)]
struct Got {
    /// 0: no HTTP response (the handshake failed, …).
    status: u16,
    http_version: String,
    body: String,
}

impl Got {
    /// The value of a header the upstream received.
    fn upstream_header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.body
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
    }
}

const MARK: &str = "\n@@curl@@ ";

/// One curl request; `client` names a certificate of the test PKI (or
/// `none`).
fn curl(dir: &Path, client: &str, args: &[&str], url: &str) -> Got {
    let c = certs(dir);
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "--cacert"])
        .arg(c.join("root-ca.crt"))
        .args(["-w", &format!("{MARK}%{{http_code}} %{{http_version}}")]);
    if client != "none" {
        cmd.arg("--cert")
            .arg(c.join(format!("{client}-chain.crt")))
            .arg("--key")
            .arg(c.join(format!("{client}.key")));
    }
    cmd.args(args).arg(url);
    let out = cmd.output().expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, tail) = text.rsplit_once(MARK).unwrap_or(("", "000 0"));
    let mut it = tail.split_whitespace();
    Got {
        status: it.next().and_then(|s| s.parse().ok()).unwrap_or(0),
        http_version: it.next().unwrap_or("").to_string(),
        body: body.to_string(),
    }
}

const HTTP: [(&str, &str); 2] = [("--http1.1", "1.1"), ("--http2", "2")];

// ---------------------------------------------------------------------------
// the modes

const HEADERS: &str = r#"
[headers]
"X-SSL-Client-S-DN" = "SSL_CLIENT_S_DN"
"X-SSL-Client-Verify" = "SSL_CLIENT_VERIFY"
"X-SSL-Client-I-DN-CN" = "SSL_CLIENT_I_DN_CN"
"X-SSL-Protocol" = "SSL_PROTOCOL"
"X-SSL-Client-Cert" = "SSL_CLIENT_CERT"
"#;

const POLICIES: &str = r#"
[[policy]]
path = "/"
require = '%{SSL_CLIENT_VERIFY} eq "SUCCESS"'

[[policy]]
path = "/open"
require = 'true'

[[policy]]
path = "/staff/"
require = '%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU} in {"Engineering", "Support"}'

[[policy]]
path = "/staff/get-only"
require = '%{REQUEST_METHOD} eq "GET" and %{HTTP:X-Team} eq "blue" and %{REQUEST_URI} =~ m#^/staff/#'

[[policy]]
path = "/err"
require = 'file("/etc/hostname") eq "x"'
"#;

const CLIENTS: [&str; 9] = [
    "none",
    "alice",
    "bob",
    "carol",
    "dave",
    "zoe",
    "bigserial",
    "rogue",
    "selfsigned",
];

#[test]
fn optional_no_ca_policies_http1_and_http2() {
    let Some(dir) = setup() else { return };
    let proxy = start(&config(
        &dir,
        upstream(),
        &format!("mode = \"optional_no_ca\"\n{HEADERS}{POLICIES}"),
    ));
    let mut checked = 0;
    for client in CLIENTS {
        let apache = apache_env(&dir, client);
        let verify = apache.get("SSL_CLIENT_VERIFY").cloned().unwrap_or_default();
        let ou = apache
            .get("SSL_CLIENT_S_DN_OU")
            .cloned()
            .unwrap_or_default();
        for (flag, version) in HTTP {
            let at = format!("{client} {flag}");
            // Open to all: the SSL_* headers the upstream received are what
            // Apache exported for this certificate; a forged one is gone.
            let got = curl(
                &dir,
                client,
                &[flag, "-H", "X-SSL-Client-S-DN: forged"],
                &proxy.url("/open/x?y=1"),
            );
            assert_eq!(got.status, 200, "{at}: /open: {got:?}\n{}", proxy.log());
            assert_eq!(got.http_version, version, "{at}");
            assert!(
                got.body.starts_with("upstream GET /open/x?y=1 HTTP/1.1\n"),
                "{at}: {got:?}"
            );
            assert_eq!(
                got.upstream_header("X-SSL-Client-Verify"),
                Some(verify.as_str()),
                "{at}"
            );
            assert_eq!(
                got.upstream_header("X-SSL-Client-S-DN"),
                apache.get("SSL_CLIENT_S_DN").map(String::as_str),
                "{at}"
            );
            assert_eq!(
                got.upstream_header("X-SSL-Client-I-DN-CN"),
                apache.get("SSL_CLIENT_I_DN_CN").map(String::as_str),
                "{at}"
            );
            assert_eq!(
                got.upstream_header("X-SSL-Protocol"),
                Some("TLSv1.3"),
                "{at}"
            );
            assert!(
                !got.body.contains("forged"),
                "{at}: a forged header went upstream"
            );
            assert_eq!(
                got.upstream_header("host"),
                Some(format!("localhost:{}", proxy.port).as_str()),
                "{at}"
            );
            // The PEM's newlines are percent-encoded.
            if client == "none" {
                assert_eq!(got.upstream_header("X-SSL-Client-Cert"), None, "{at}");
            } else {
                let pem = got.upstream_header("X-SSL-Client-Cert").unwrap_or("");
                assert!(
                    pem.starts_with("-----BEGIN CERTIFICATE-----%0A"),
                    "{at}: {pem}"
                );
            }

            // "/": only a verified certificate.
            let got = curl(&dir, client, &[flag], &proxy.url("/a/b"));
            let want = if verify == "SUCCESS" { 200 } else { 403 };
            assert_eq!(got.status, want, "{at}: / ({verify}): {got:?}");
            if want == 403 {
                assert_eq!(got.body, "forbidden\n", "{at}");
            } else {
                assert!(got.body.starts_with("upstream GET /a/b"), "{at}");
            }

            // "/staff/": the longest prefix wins over "/".
            let got = curl(&dir, client, &[flag], &proxy.url("/staff/list"));
            let want = if verify == "SUCCESS" && (ou == "Engineering" || ou == "Support") {
                200
            } else {
                403
            };
            assert_eq!(got.status, want, "{at}: /staff/ (OU {ou:?}): {got:?}");

            // "/staff/get-only": request variables (method, header, URI).
            let url = proxy.url("/staff/get-only");
            assert_eq!(
                curl(&dir, client, &[flag, "-H", "X-Team: blue"], &url).status,
                200,
                "{at}"
            );
            assert_eq!(
                curl(&dir, client, &[flag, "-H", "X-Team: red"], &url).status,
                403,
                "{at}"
            );
            assert_eq!(
                curl(
                    &dir,
                    client,
                    &[flag, "-H", "X-Team: blue", "-X", "DELETE"],
                    &url
                )
                .status,
                403,
                "{at}"
            );

            // An evaluation error denies, and is logged.
            let got = curl(&dir, client, &[flag], &proxy.url("/err"));
            assert_eq!(got.status, 403, "{at}: /err");
            checked += 1;
        }
    }
    assert!(
        proxy.wait_log("failed to evaluate"),
        "no evaluation error logged:\n{}",
        proxy.log()
    );

    // Certificates mod_ssl refuses in the handshake even under optional_no_ca.
    for client in ["expired", "notyet"] {
        for (flag, _) in HTTP {
            let got = curl(&dir, client, &[flag], &proxy.url("/open"));
            assert_eq!(got.status, 0, "{client}: the handshake must fail: {got:?}");
        }
    }
    assert!(proxy.wait_log("handshake failed"), "{}", proxy.log());
    say(&format!(
        "mtls-proxy: optional_no_ca: {checked} client x HTTP version runs checked"
    ));
}

#[test]
fn require_and_optional_modes() {
    let Some(dir) = setup() else { return };
    let extra = format!("{HEADERS}{POLICIES}");
    let require = start(&config(
        &dir,
        upstream(),
        &format!("mode = \"require\"\n{extra}"),
    ));
    let optional = start(&config(
        &dir,
        upstream(),
        &format!("mode = \"optional\"\n{extra}"),
    ));
    for (flag, version) in HTTP {
        // A certificate the CA verifies: both modes.
        for proxy in [&require, &optional] {
            let got = curl(&dir, "alice", &[flag], &proxy.url("/staff/x"));
            assert_eq!(
                (got.status, got.http_version.as_str()),
                (200, version),
                "alice {flag}: {got:?}"
            );
            let got = curl(&dir, "dave", &[flag], &proxy.url("/open"));
            assert_eq!(got.upstream_header("X-SSL-Client-Verify"), Some("SUCCESS"));
            assert_eq!(got.upstream_header("X-SSL-Client-S-DN"), Some("CN=dave"));
            let got = curl(&dir, "bob", &[flag], &proxy.url("/staff/x"));
            assert_eq!(got.status, 403, "bob (OU Sales) {flag}");
            // Untrusted, expired: no handshake.
            for bad in ["rogue", "selfsigned", "expired", "notyet"] {
                let got = curl(&dir, bad, &[flag], &proxy.url("/open"));
                assert_eq!(got.status, 0, "{bad} {flag}: {got:?}");
            }
        }
        // No certificate: require refuses the handshake (TLS 1.3 tells the
        // client after its Finished), optional lets it in with NONE.
        let got = curl(&dir, "none", &[flag], &require.url("/open"));
        assert_eq!(got.status, 0, "require, no certificate {flag}: {got:?}");
        let got = curl(&dir, "none", &[flag], &optional.url("/open"));
        assert_eq!(got.status, 200, "optional, no certificate {flag}: {got:?}");
        assert_eq!(got.upstream_header("X-SSL-Client-Verify"), Some("NONE"));
        assert_eq!(got.upstream_header("X-SSL-Client-S-DN"), None);
        assert_eq!(curl(&dir, "none", &[flag], &optional.url("/")).status, 403);
    }
    assert!(require.wait_log("handshake failed"), "{}", require.log());
}

#[test]
fn keep_alive_and_concurrent_http2_streams() {
    let Some(dir) = setup() else { return };
    let proxy = start(&config(
        &dir,
        upstream(),
        &format!("mode = \"optional_no_ca\"\n{HEADERS}{POLICIES}"),
    ));
    let c = certs(&dir);
    let run = |flags: &[&str], urls: &[String]| -> Vec<String> {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(c.join("root-ca.crt"))
            .arg("--cert")
            .arg(c.join("alice-chain.crt"))
            .arg("--key")
            .arg(c.join("alice.key"))
            .args(flags)
            .args(["-w", "%{http_code} %{http_version} %{num_connects}\n"])
            .args(urls.iter().flat_map(|u| ["-o", "/dev/null", u.as_str()]))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    // HTTP/1.1 keep-alive: one connection, allowed and denied requests on it.
    let urls: Vec<String> = ["/open", "/err", "/staff/a", "/open/b", "/err"]
        .iter()
        .map(|p| proxy.url(p))
        .collect();
    let lines = run(&["--http1.1"], &urls);
    assert_eq!(
        lines,
        [
            "200 1.1 1",
            "403 1.1 0",
            "200 1.1 0",
            "200 1.1 0",
            "403 1.1 0"
        ],
        "HTTP/1.1 keep-alive\n{}",
        proxy.log()
    );
    // HTTP/2: twenty streams at once on one connection; /slow takes 300 ms
    // upstream, so twenty served one after another would take 6 s.
    let urls: Vec<String> = (0..20)
        .map(|i| proxy.url(if i % 2 == 0 { "/slow" } else { "/err" }))
        .collect();
    let started = Instant::now();
    let lines = run(&["--http2", "--parallel", "--parallel-max", "20"], &urls);
    let took = started.elapsed();
    assert_eq!(lines.len(), 20, "{lines:?}");
    let allowed = lines.iter().filter(|l| l.starts_with("200 2 ")).count();
    let denied = lines.iter().filter(|l| l.starts_with("403 2 ")).count();
    assert_eq!((allowed, denied), (10, 10), "{lines:?}");
    let connects: usize = lines
        .iter()
        .filter_map(|l| l.rsplit(' ').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(connects, 1, "one HTTP/2 connection: {lines:?}");
    assert!(
        took < Duration::from_secs(4),
        "streams not served concurrently: {took:?}"
    );
}

#[test]
fn refuses_safely_and_keeps_serving() {
    let Some(dir) = setup() else { return };
    // A bad policy: the proxy refuses to start, naming it.
    let bad = config(
        &dir,
        upstream(),
        "mode = \"optional_no_ca\"\n[[policy]]\npath = \"/\"\nrequire = '%{SSL_CLIENT_S_DN_CN} eq'\n",
    );
    let err = try_start(&bad)
        .err()
        .expect("a bad policy must stop the proxy");
    assert!(err.contains("policy for /"), "{err}");
    let typo = config(&dir, upstream(), "mode = \"sometimes\"\n");
    assert!(
        try_start(&typo).is_err(),
        "an unknown mode must stop the proxy"
    );

    // No policy for a path: no SSLRequire (allowed, as in Apache).
    let mut proxy = start(&config(
        &dir,
        upstream(),
        "mode = \"optional_no_ca\"\n[[policy]]\npath = \"/private/\"\nrequire = 'false'\n",
    ));
    assert_eq!(curl(&dir, "none", &[], &proxy.url("/public")).status, 200);
    assert_eq!(
        curl(&dir, "alice", &[], &proxy.url("/private/x")).status,
        403
    );
    // Dot segments and encoded dots or slashes: 400, not matched.
    for path in [
        "/public/../private/x",
        "/private/%2e%2e/x",
        "/public%2Fx",
        "/./private/x",
    ] {
        let got = curl(&dir, "alice", &["--path-as-is"], &proxy.url(path));
        assert_eq!(got.status, 400, "{path}: {got:?}");
    }
    // A plain-text client on the TLS port, a client that hangs up in the
    // handshake, a malformed request over TLS.
    let mut plain = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut buf = Vec::new();
    plain.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let _ = plain.read_to_end(&mut buf);
    drop(TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect"));
    let roots = roots(&dir);
    let (chain, key) = identity(&dir, "alice");
    let mut conn =
        client::connect(proxy.port, &roots, &chain, Some(&key), tls13()).expect("connect");
    let resp = conn.get("/x y z", &[("Host", "localhost")]);
    match resp {
        Ok(r) => assert_eq!(r.status, 400, "malformed request line"),
        Err(e) => assert!(e.kind() != std::io::ErrorKind::TimedOut, "{e}"),
    }
    assert!(proxy.alive(), "the proxy died:\n{}", proxy.log());
    assert_eq!(curl(&dir, "alice", &[], &proxy.url("/public")).status, 200);
    assert!(proxy.wait_log("handshake failed"), "{}", proxy.log());
    drop(proxy);

    // The upstream is down: 502, logged, and the proxy goes on.
    let mut proxy = start(&config(
        &dir,
        format!("127.0.0.1:{}", closed_port()).parse().unwrap(),
        "mode = \"optional_no_ca\"\n",
    ));
    for (flag, _) in HTTP {
        let got = curl(&dir, "alice", &[flag], &proxy.url("/x"));
        assert_eq!(got.status, 502, "{flag}: {got:?}");
    }
    assert!(proxy.wait_log("502 GET"), "{}", proxy.log());
    assert!(proxy.alive());
}

// ---------------------------------------------------------------------------
// Apache's recorded verdicts, through the proxy

fn roots(dir: &Path) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(certs(dir).join("root-ca.crt")).expect("root-ca") {
        roots.add(c.expect("root-ca")).expect("root");
    }
    roots
}

fn identity(dir: &Path, client: &str) -> (Vec<Vec<u8>>, Vec<u8>) {
    let c = certs(dir);
    let chain = CertificateDer::pem_file_iter(c.join(format!("{client}-chain.crt")))
        .expect("chain")
        .map(|c| c.expect("cert").to_vec())
        .collect();
    let key = match PrivateKeyDer::from_pem_file(c.join(format!("{client}.key"))).expect("key") {
        PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
        other => panic!("{client}.key: expected PKCS#8, got {other:?}"),
    };
    (chain, key)
}

/// TLS 1.3 with AES-256-GCM, as Apache's recorded run negotiated.
fn tls13() -> client::TlsChoice {
    client::TlsChoice {
        tls13: true,
        rsa_server: true,
        cipher: 0,
    }
}

/// Why an expression is left out of the comparison, if it is: it reads
/// something only Apache has, or what depends on the instant of the
/// recording.
fn outside_proxy(expr: &str, program: &sslrequire::Program) -> Option<&'static str> {
    const REQUEST: [&str; 15] = [
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "REQUEST_METHOD",
        "REQUEST_SCHEME",
        "REQUEST_URI",
        "QUERY_STRING",
        "THE_REQUEST",
        "SERVER_PROTOCOL",
        "HTTPS",
        "HTTP_HOST",
        "HTTP_USER_AGENT",
        "HTTP_ACCEPT",
        "HTTP_COOKIE",
        "HTTP_REFERER",
        "HTTP_FORWARDED",
    ];
    if expr.contains("file(") || expr.contains("filesize(") {
        return Some("reads a file (the proxy grants no file access)");
    }
    let file_test = [
        "-d ", "-e ", "-f ", "-s ", "-L ", "-h ", "-F ", "-U ", "-A ",
    ];
    if file_test.iter().any(|t| {
        expr.starts_with(t)
            || expr.contains(&format!(" {t}"))
            || expr.contains(&format!("!{t}"))
            || expr.contains(&format!("({t}"))
    }) {
        return Some("a file test");
    }
    for var in program.vars() {
        let name = var.to_string();
        if name.starts_with("TIME") || name.ends_with("_V_REMAIN") {
            return Some("depends on the instant of Apache's recorded run");
        }
        if matches!(
            name.as_str(),
            "SSL_SESSION_ID" | "SSL_VERSION_INTERFACE" | "SSL_VERSION_LIBRARY" | "SSL_SECURE_RENEG"
        ) {
            return Some("an SSL_* value rustls does not expose or that names the server");
        }
        if let Some(rest) = name.strip_prefix("SSL_") {
            let _ = rest;
            continue;
        }
        if name.starts_with("HTTP:") {
            continue;
        }
        if !REQUEST.contains(&name.as_str()) {
            return Some("a variable only Apache knows");
        }
    }
    None
}

#[derive(serde::Deserialize)]
struct Recorded {
    expr: String,
    cert: String,
    verdict: String,
    #[serde(default)]
    reason: Option<String>,
}

/// One recorded run through the proxy.
struct CompatRun {
    pairs: usize,
    agree: usize,
    differences: Vec<String>,
    kept: usize,
    clients: usize,
    left_out: BTreeMap<&'static str, usize>,
}

fn compat_run(dir: &Path, file: &str, mode: &str, tls13: bool) -> CompatRun {
    let text = std::fs::read_to_string(dir.join(file)).expect("verdicts");
    let recorded: Vec<Recorded> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("verdict line"))
        .collect();
    let corpus_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/corpus.txt"),
    )
    .expect("corpus.txt");
    let corpus: std::collections::HashSet<&str> = corpus_text.lines().collect();

    // The expressions, in order of first appearance, and which are kept.
    let mut exprs: Vec<&str> = Vec::new();
    for r in &recorded {
        if !exprs.contains(&r.expr.as_str()) {
            exprs.push(&r.expr);
        }
    }
    let mut kept: Vec<(usize, &str)> = Vec::new();
    let mut left_out: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut differences: Vec<String> = Vec::new();
    let mut pairs = 0usize;
    let mut agree = 0usize;
    for (n, expr) in exprs.iter().enumerate() {
        if !corpus.contains(expr) {
            *left_out.entry("not in corpus.txt").or_default() += 1;
            continue;
        }
        let apache_refused = recorded
            .iter()
            .any(|r| r.expr == *expr && r.verdict == "parse-error");
        match sslrequire::Program::new(expr) {
            Err(_) if apache_refused => {
                *left_out.entry("refused by Apache's parser").or_default() += 1;
            }
            Err(e) => {
                // The proxy could not be configured with it: every pair differs.
                for r in recorded.iter().filter(|r| r.expr == *expr) {
                    pairs += 1;
                    differences.push(format!(
                        "{expr} :: {} :: Apache {}, the proxy refuses the policy: {e}",
                        r.cert, r.verdict
                    ));
                }
            }
            Ok(_) if apache_refused => {
                for r in recorded.iter().filter(|r| r.expr == *expr) {
                    pairs += 1;
                    differences.push(format!(
                        "{expr} :: {} :: Apache refused it, the proxy accepts it",
                        r.cert
                    ));
                }
            }
            Ok(p) => match outside_proxy(expr, &p) {
                Some(why) => *left_out.entry(why).or_default() += 1,
                None => kept.push((n, expr)),
            },
        }
    }
    let mut policies = format!("mode = \"{mode}\"\n");
    for (n, expr) in &kept {
        policies.push_str(&format!(
            "[[policy]]\npath = \"/e/{n}.txt\"\nrequire = {}\n",
            toml_string(expr)
        ));
    }
    let proxy = start(&config(dir, upstream(), &policies));
    let roots = roots(dir);
    let host = format!("localhost:{}", proxy.port);
    let choice = client::TlsChoice {
        tls13,
        rsa_server: true,
        cipher: 0,
    };

    let mut clients: Vec<&str> = Vec::new();
    for r in &recorded {
        if !clients.contains(&r.cert.as_str()) {
            clients.push(&r.cert);
        }
    }
    for client in &clients {
        // One keep-alive connection per client, every kept expression on it.
        let (chain, key) = if *client == "none" {
            (Vec::new(), None)
        } else {
            let (c, k) = identity(dir, client);
            (c, Some(k))
        };
        let mut conn = client::connect(proxy.port, &roots, &chain, key.as_deref(), choice).ok();
        if let Some(c) = &conn {
            assert_eq!(c.tls13, tls13, "{client}: negotiated the recorded version");
        }
        for (n, expr) in &kept {
            let apache = recorded
                .iter()
                .find(|r| r.expr == **expr && r.cert == **client)
                .unwrap_or_else(|| panic!("no recorded verdict for {expr} :: {client}"));
            let ours = match conn.as_mut() {
                None => "error".to_string(),
                Some(c) => match c.get(
                    &format!("/e/{n}.txt"),
                    &[
                        ("Host", &host),
                        ("User-Agent", "sslrequire-proxy-compat"),
                        ("Accept", "*/*"),
                    ],
                ) {
                    Ok(r) if r.status == 200 && r.body.starts_with(b"upstream GET") => {
                        "allow".to_string()
                    }
                    Ok(r) if r.status == 403 => "deny".to_string(),
                    Ok(r) => format!("HTTP {}", r.status),
                    // TLS 1.3: the server refuses the client's certificate
                    // after the client's handshake is done; the first read
                    // gets its alert.
                    Err(e)
                        if e.to_string().contains("alert") || e.to_string().contains("closed") =>
                    {
                        conn = None;
                        "error".to_string()
                    }
                    Err(e) => panic!("{client}: /e/{n}.txt: {e}\n{}", proxy.log()),
                },
            };
            pairs += 1;
            if ours == apache.verdict {
                agree += 1;
            } else {
                differences.push(format!(
                    "{expr} :: {client} :: Apache {}{}, proxy {ours}",
                    apache.verdict,
                    apache
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    CompatRun {
        pairs,
        agree,
        differences,
        kept: kept.len(),
        clients: clients.len(),
        left_out,
    }
}

#[test]
fn proxy_agrees_with_apache_recorded_verdicts() {
    let Some(dir) = setup() else { return };
    let runs = [
        ("verdicts-tls13.jsonl", "optional_no_ca", true),
        ("verdicts-tls12.jsonl", "optional_no_ca", false),
        ("verdicts-verify-optional.jsonl", "optional", true),
    ];
    let (mut pairs, mut agree) = (0, 0);
    let mut differences = Vec::new();
    let mut parts = Vec::new();
    for (file, mode, tls13) in runs {
        let run = compat_run(&dir, file, mode, tls13);
        assert!(
            run.kept >= 100,
            "{file}: only {} expressions compared",
            run.kept
        );
        let left: Vec<String> = run
            .left_out
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        parts.push(format!(
            "{file} ({mode}, TLS {}): {} pairs, {} agree = {} expressions x {} clients; left out: {}",
            if tls13 { "1.3" } else { "1.2" },
            run.pairs,
            run.agree,
            run.kept,
            run.clients,
            left.join(", ")
        ));
        pairs += run.pairs;
        agree += run.agree;
        differences.extend(run.differences.into_iter().map(|d| format!("{file}: {d}")));
    }
    say(&format!(
        "proxy-compat: {pairs} pairs, {agree} agree, {} differ\n  {}",
        pairs - agree,
        parts.join("\n  ")
    ));
    assert!(
        differences.is_empty(),
        "{} differences from Apache's recorded verdicts:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// A TOML literal string (or a basic one when the text holds `'`).
fn toml_string(s: &str) -> String {
    if !s.contains('\'') && !s.contains('\n') {
        return format!("'{s}'");
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
