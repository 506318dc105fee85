//! The harness of tests/mtls_proxy.rs: the environment, an upstream that
//! echoes what it received, the proxy binary started from a temporary
//! directory, curl, the policies and clients.

use super::*;

// ---------------------------------------------------------------------------
// environment

pub(crate) fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

pub(crate) fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Skips loudly, or fails under CI.
pub(crate) fn skip(why: &str) {
    if under_ci() {
        panic!("mtls-proxy: required under CI: {why}");
    }
    say(&format!("mtls-proxy: SKIPPED: {why}"));
}

pub(crate) fn data_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SSLREQUIRE_APACHE_DATA").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apache-2.4.71")),
    ];
    candidates.into_iter().flatten().find(|d| {
        d.join("certs/server-chain.crt").is_file() && d.join("verdicts-tls13.jsonl").is_file()
    })
}

pub(crate) fn have_curl() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The data directory when curl and the data are there; else skipped.
pub(crate) fn setup() -> Option<PathBuf> {
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

pub(crate) fn certs(dir: &Path) -> PathBuf {
    dir.join("certs")
}

/// `ssl_env` of env/<client>.json: what Apache exported for that client.
pub(crate) fn apache_env(dir: &Path, client: &str) -> BTreeMap<String, String> {
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
pub(crate) async fn echo(
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
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

pub(crate) fn upstream() -> SocketAddr {
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
pub(crate) fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

// ---------------------------------------------------------------------------
// the proxy

pub(crate) fn proxy_binary() -> PathBuf {
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

pub(crate) struct Proxy {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) log: Arc<Mutex<String>>,
    pub(crate) _dir: TempDir,
}

pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> TempDir {
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
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Waits until the log holds `needle` (stderr is read by a thread).
    pub(crate) fn wait_log(&self, needle: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// A configuration: the common part plus `extra` (mode, headers, policies).
pub(crate) fn config(dir: &Path, upstream: SocketAddr, extra: &str) -> String {
    let c = certs(dir);
    format!(
        "listen = \"127.0.0.1:0\"\nupstream = \"{upstream}\"\ncert = \"{}\"\nkey = \"{}\"\nca = \"{}\"\n{extra}",
        c.join("server-chain.crt").display(),
        c.join("server.key").display(),
        c.join("root-ca.crt").display(),
    )
}

/// Starts the proxy; Err(its output) when it exits instead of listening.
pub(crate) fn try_start(config: &str) -> Result<Proxy, String> {
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

pub(crate) fn start(config: &str) -> Proxy {
    try_start(config).unwrap_or_else(|e| panic!("the proxy did not start: {e}"))
}

// ---------------------------------------------------------------------------
// curl

#[derive(Debug)]
pub(crate) struct Got {
    /// 0: no HTTP response (the handshake failed, …).
    pub(crate) status: u16,
    pub(crate) http_version: String,
    pub(crate) body: String,
}

impl Got {
    /// The value of a header the upstream received.
    pub(crate) fn upstream_header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}: ", name.to_ascii_lowercase());
        self.body
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
    }
}

pub(crate) const MARK: &str = "\n@@curl@@ ";

/// One curl request; `client` names a certificate of the test PKI (or
/// `none`).
pub(crate) fn curl(dir: &Path, client: &str, args: &[&str], url: &str) -> Got {
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

pub(crate) const HTTP: [(&str, &str); 2] = [("--http1.1", "1.1"), ("--http2", "2")];

// ---------------------------------------------------------------------------
// the modes

pub(crate) const HEADERS: &str = r#"
[headers]
"X-SSL-Client-S-DN" = "SSL_CLIENT_S_DN"
"X-SSL-Client-Verify" = "SSL_CLIENT_VERIFY"
"X-SSL-Client-I-DN-CN" = "SSL_CLIENT_I_DN_CN"
"X-SSL-Protocol" = "SSL_PROTOCOL"
"X-SSL-Client-Cert" = "SSL_CLIENT_CERT"
"#;

pub(crate) const POLICIES: &str = r#"
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

pub(crate) const CLIENTS: [&str; 9] = [
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

// ---------------------------------------------------------------------------
// A rustls client's identity and trust

pub(crate) fn roots(dir: &Path) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(certs(dir).join("root-ca.crt")).expect("root-ca") {
        roots.add(c.expect("root-ca")).expect("root");
    }
    roots
}

pub(crate) fn identity(dir: &Path, client: &str) -> (Vec<Vec<u8>>, Vec<u8>) {
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
pub(crate) fn tls13() -> client::TlsChoice {
    client::TlsChoice {
        tls13: true,
        rsa_server: true,
        cipher: 0,
    }
}
