//! A TLS-terminating reverse proxy that enforces `SSLRequire` policies, as
//! a proxy author would write it with this library (tokio, tokio-rustls,
//! hyper 1, hyper-util).
//!
//! ```text
//! cargo run --release --example mtls_proxy -- proxy.toml
//! ```
//!
//! It prints `listening on ADDR` once it accepts connections (port 0 picks a
//! free one), and logs one line per refused request, failed handshake or
//! upstream error on stderr. Ctrl-C stops it.
//!
//! # Configuration (TOML)
//!
//! ```toml
//! listen   = "127.0.0.1:8443"         # where clients connect (TLS)
//! upstream = "127.0.0.1:8080"         # plain HTTP/1.1 backend
//! cert     = "certs/server-chain.crt" # server chain, leaf first (PEM)
//! key      = "certs/server.key"       # its key (PEM)
//! ca       = "certs/root-ca.crt"      # CAs for client certificates (PEM)
//! mode     = "optional_no_ca"         # require | optional | optional_no_ca
//! verify_depth = 5                    # SSLVerifyDepth (optional_no_ca's verdict)
//!
//! # SSL_* (or any) variables sent upstream as request headers. Headers of
//! # these names sent by the client are removed first, so they cannot be
//! # forged.
//! [headers]
//! "X-SSL-Client-S-DN" = "SSL_CLIENT_S_DN"
//! "X-SSL-Client-Verify" = "SSL_CLIENT_VERIFY"
//!
//! # Like Apache's <Location PATH> blocks with `SSLRequire EXPR`: the
//! # longest matching path prefix wins (plain string prefix, as <Location>).
//! [[policy]]
//! path = "/"
//! require = '%{SSL_CLIENT_VERIFY} eq "SUCCESS"'
//!
//! [[policy]]
//! path = "/admin/"
//! require = '%{SSL_CLIENT_S_DN_OU} in {"Staff", "CA"} and %{REQUEST_METHOD} eq "GET"'
//! ```
//!
//! Modes (Apache's `SSLVerifyClient`):
//! * `require`: rustls's `WebPkiClientVerifier` with `ca`; no certificate or
//!   one it does not verify fails the handshake.
//! * `optional`: the same with `allow_unauthenticated()`: a client may send
//!   no certificate (`SSL_CLIENT_VERIFY` = `NONE`).
//! * `optional_no_ca`: any chain is accepted (its handshake signature is
//!   still checked) unless mod_ssl would fail the handshake too (an expired
//!   or not-yet-valid certificate, …: the library's `Verifier` says so).
//!   The session is built with `ClientAuth::Unverified` and
//!   `SSL_CLIENT_VERIFY` is the verdict mod_ssl gives under
//!   `SSLVerifyClient optional_no_ca` with `SSLCACertificateFile ca`:
//!   `SUCCESS` for a chain `ca` verifies, `GENEROUS` otherwise — computed
//!   once per connection.
//!
//! A path with no matching policy has no `SSLRequire` (allowed, as in
//! Apache); add `path = "/"` for a default. Only the longest matching
//! prefix applies: Apache, unlike this proxy, appends the `SSLRequire`s of
//! every matching `<Location>` (mod_ssl merges them, all must hold), so
//! write each policy whole. All policies are compiled at
//! start-up: a bad expression stops the proxy before it listens.
//!
//! Per request the policy sees the connection's SSL_* variables (the
//! `Session` is built once per connection and shared by its requests,
//! HTTP/1.1 keep-alive or HTTP/2 streams), the clock (`TIME_*`), and the
//! request's variables: `REMOTE_ADDR`, `REMOTE_PORT`, `REQUEST_METHOD`,
//! `REQUEST_SCHEME`, `REQUEST_URI` (the path as sent, not decoded),
//! `QUERY_STRING`, `THE_REQUEST`, `SERVER_PROTOCOL`, `HTTPS`, `HTTP_HOST`
//! (the Host header, or HTTP/2's `:authority`), `HTTP_USER_AGENT`,
//! `HTTP_ACCEPT`, `HTTP_COOKIE`, `HTTP_REFERER`, `HTTP_FORWARDED`, and
//! every header as `%{HTTP:Name}` / `req('Name')`. It does not know what
//! only Apache knows (`DOCUMENT_ROOT`, `REQUEST_FILENAME`, `SERVER_*` but
//! `SERVER_PROTOCOL`, `SSL_SESSION_ID`, …: they read as `""`), and
//! `file()` and the file tests see no file (an evaluation error: denied).
//!
//! Answers: allowed → the upstream's response; denied or an evaluation
//! error → 403 (the error is logged); a path with `.`/`..` segments or an
//! encoded `.`/`/` (which the upstream could resolve differently from the
//! prefix matched here) → 400; upstream unreachable → 502, too slow → 504.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use serde::Deserialize;
use sslrequire::env::input_var;
use sslrequire::env::verify::{Outcome, Verifier, VerifyMode};
use sslrequire::session::{session_from_rustls, ClientAuth, EnvOptions, Session, SessionEnv};
use sslrequire::{Env, Machine, Program, Var, VarMap};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

type Body = BoxBody<Bytes, hyper::Error>;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// configuration

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    listen: SocketAddr,
    upstream: String,
    cert: PathBuf,
    key: PathBuf,
    ca: Option<PathBuf>,
    mode: Mode,
    #[serde(default = "default_depth")]
    verify_depth: u32,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default, rename = "policy")]
    policies: Vec<PolicyConfig>,
}

fn default_depth() -> u32 {
    5
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Require,
    Optional,
    OptionalNoCa,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyConfig {
    path: String,
    require: String,
}

struct Policy {
    prefix: String,
    program: Program,
}

/// What every connection shares; built once at start-up.
struct State {
    upstream: String,
    server_chain: Vec<CertificateDer<'static>>,
    mode: Mode,
    /// optional_no_ca: mod_ssl's verdict on a chain (SSL_CLIENT_VERIFY).
    verdict: Option<Verifier>,
    /// Longest prefix first.
    policies: Vec<Policy>,
    /// (header, variable) sent upstream.
    forward: Vec<(HeaderName, Var)>,
    client: Client<HttpConnector, Incoming>,
}

impl State {
    fn policy_for(&self, path: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| path.starts_with(&p.prefix))
    }
}

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("mtls_proxy: {what}");
    std::process::exit(2);
}

fn read_certs(path: &PathBuf) -> Vec<CertificateDer<'static>> {
    let certs: Result<Vec<_>, _> = match CertificateDer::pem_file_iter(path) {
        Ok(iter) => iter.collect(),
        Err(e) => fail(format_args!("{}: {e}", path.display())),
    };
    match certs {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => fail(format_args!("{}: no certificate", path.display())),
        Err(e) => fail(format_args!("{}: {e}", path.display())),
    }
}

fn load(config_path: &str) -> (SocketAddr, TlsAcceptor, State) {
    let text = std::fs::read_to_string(config_path)
        .unwrap_or_else(|e| fail(format_args!("{config_path}: {e}")));
    let config: Config =
        toml::from_str(&text).unwrap_or_else(|e| fail(format_args!("{config_path}: {e}")));

    // Policies, compiled once; longest prefix first.
    let mut policies: Vec<Policy> = config
        .policies
        .iter()
        .map(|p| match Program::new(&p.require) {
            Ok(program) => Policy {
                prefix: p.path.clone(),
                program,
            },
            Err(e) => fail(format_args!("policy for {}:\n{e}", p.path)),
        })
        .collect();
    policies.sort_by_key(|p| std::cmp::Reverse(p.prefix.len()));
    for pair in policies.windows(2) {
        if pair[0].prefix == pair[1].prefix {
            fail(format_args!("two policies for {}", pair[0].prefix));
        }
    }
    let forward = config
        .headers
        .iter()
        .map(|(header, var)| {
            let name = HeaderName::from_bytes(header.as_bytes())
                .unwrap_or_else(|e| fail(format_args!("header {header:?}: {e}")));
            let var =
                input_var(var).unwrap_or_else(|e| fail(format_args!("headers.{header}: {e}")));
            (name, var)
        })
        .collect();

    // TLS. The crypto provider is chosen here, explicitly.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_chain = read_certs(&config.cert);
    let key = PrivateKeyDer::from_pem_file(&config.key)
        .unwrap_or_else(|e| fail(format_args!("{}: {e}", config.key.display())));
    let cas = config.ca.as_ref().map(read_certs);
    let mut roots = RootCertStore::empty();
    for ca in cas.iter().flatten() {
        roots
            .add(ca.clone())
            .unwrap_or_else(|e| fail(format_args!("ca: {e}")));
    }
    let roots = Arc::new(roots);
    let webpki = || WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
    let mut verdict = None;
    let verifier: Arc<dyn ClientCertVerifier> = match config.mode {
        Mode::Require | Mode::Optional if cas.is_none() => fail("mode require/optional needs `ca`"),
        Mode::Require => webpki().build().unwrap_or_else(|e| fail(e)),
        Mode::Optional => webpki()
            .allow_unauthenticated()
            .build()
            .unwrap_or_else(|e| fail(e)),
        Mode::OptionalNoCa => {
            let anchors = cas.iter().flatten().map(|c| c.to_vec()).collect();
            let apache = Verifier::new(anchors, config.verify_depth, VerifyMode::OptionalNoCa)
                .unwrap_or_else(|e| fail(format_args!("ca: {e}")));
            verdict = Some(apache.clone());
            Arc::new(AnyChain {
                apache,
                algorithms: provider.signature_verification_algorithms,
                hints: roots.subjects(),
            })
        }
    };
    let mut tls = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| fail(e))
        .with_client_cert_verifier(verifier)
        .with_single_cert(server_chain.clone(), key)
        .unwrap_or_else(|e| fail(format_args!("cert/key: {e}")));
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build_http();
    let state = State {
        upstream: config.upstream,
        server_chain,
        mode: config.mode,
        verdict,
        policies,
        forward,
        client,
    };
    (config.listen, TlsAcceptor::from(Arc::new(tls)), state)
}

// ---------------------------------------------------------------------------
// optional_no_ca: accept any chain mod_ssl would let through

/// Accepts any client chain whose handshake signature is valid, unless
/// mod_ssl would fail the handshake under `optional_no_ca` (expired, not
/// yet valid, …). It does not vouch for the chain: the session is built with
/// `ClientAuth::Unverified`.
#[derive(Debug)]
struct AnyChain {
    apache: Verifier,
    algorithms: WebPkiSupportedAlgorithms,
    hints: Vec<DistinguishedName>,
}

impl ClientCertVerifier for AnyChain {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let chain: Vec<Vec<u8>> = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.to_vec())
            .collect();
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        // TLS 1.3 or 1.2 changes only the wording of a verdict, not whether
        // the handshake fails.
        match self.apache.verify(&chain, now, true) {
            Outcome::HandshakeFails(reason) => Err(rustls::Error::General(reason)),
            Outcome::Verify(_) => Ok(ClientCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

// ---------------------------------------------------------------------------
// connections

fn main() {
    let Some(config_path) = std::env::args().nth(1) else {
        fail("usage: mtls_proxy CONFIG.toml")
    };
    // The application chooses rustls's crypto provider (the library does not).
    let _ = CryptoProvider::install_default(rustls::crypto::ring::default_provider());
    let (listen, acceptor, state) = load(&config_path);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(e));
    runtime.block_on(serve(listen, acceptor, Arc::new(state)));
}

async fn serve(listen: SocketAddr, acceptor: TlsAcceptor, state: Arc<State>) {
    let listener = TcpListener::bind(listen)
        .await
        .unwrap_or_else(|e| fail(format_args!("listen {listen}: {e}")));
    let addr = listener.local_addr().unwrap_or(listen);
    println!("listening on {addr}");
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    tokio::spawn(connection(acceptor.clone(), state.clone(), tcp, peer));
                }
                Err(e) => {
                    // EMFILE and the like: wait instead of spinning.
                    eprintln!("mtls_proxy: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("mtls_proxy: stopping");
                return;
            }
        }
    }
}

async fn connection(acceptor: TlsAcceptor, state: Arc<State>, tcp: TcpStream, peer: SocketAddr) {
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            eprintln!("mtls_proxy: {peer}: handshake failed: {e}");
            return;
        }
        Err(_) => {
            eprintln!("mtls_proxy: {peer}: handshake timed out");
            return;
        }
    };
    // The connection's session: once, shared by all its requests.
    let session = {
        let (_, server) = tls.get_ref();
        let chain: Vec<&[u8]> = state.server_chain.iter().map(|c| c.as_ref()).collect();
        let auth = match state.mode {
            Mode::Require | Mode::Optional => ClientAuth::Verified,
            Mode::OptionalNoCa => ClientAuth::Unverified,
        };
        let mut session = session_from_rustls(server, &chain, auth);
        if let (Some(verifier), None) = (&state.verdict, &session.verify) {
            let chain: Vec<Vec<u8>> = session
                .client_chain
                .iter()
                .map(|c| c.der().to_vec())
                .collect();
            let tls13 = session.protocol.as_deref() == Some("TLSv1.3");
            let now = chrono::Utc::now().timestamp();
            // A resumed session was verified at its full handshake: mod_ssl
            // then reports what OpenSSL stored (Verifier::verify_resumed).
            let outcome = if session.resumed == Some(true) {
                verifier.verify_resumed(&chain, now, tls13)
            } else {
                verifier.verify(&chain, now, tls13)
            };
            session.verify = Some(match outcome {
                Outcome::Verify(v) => v,
                // The handshake would have failed (a certificate that
                // expired since it was checked): nothing is SUCCESS.
                Outcome::HandshakeFails(reason) => format!("FAILED:{reason}"),
            });
        }
        Arc::new(session)
    };
    let service = hyper::service::service_fn(move |req| {
        let state = state.clone();
        let session = session.clone();
        async move { Ok::<_, Infallible>(handle(&state, &session, peer, req).await) }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    builder.http2().timer(TokioTimer::new());
    if let Err(e) = builder.serve_connection(TokioIo::new(tls), service).await {
        eprintln!("mtls_proxy: {peer}: connection: {e}");
    }
}

// ---------------------------------------------------------------------------
// requests

fn answer(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    resp
}

/// A path whose prefix could mean something else upstream: dot segments,
/// or `.` and `/` percent-encoded.
fn ambiguous(path: &str) -> bool {
    path.split('/').any(|seg| seg == "." || seg == "..")
        || path
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && matches!(&w[1..], b"2e" | b"2E" | b"2f" | b"2F"))
}

fn protocol(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The request's variables, layered over the connection's.
fn request_vars(req: &Request<Incoming>, peer: SocketAddr) -> VarMap {
    let mut vars = VarMap::new();
    let uri = req.uri();
    let path_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let host = req
        .headers()
        .get(HOST)
        .map(|h| h.as_bytes().to_vec())
        .or_else(|| uri.authority().map(|a| a.as_str().as_bytes().to_vec()));
    let fixed: [(&str, Vec<u8>); 8] = [
        ("REMOTE_ADDR", peer.ip().to_string().into_bytes()),
        ("REMOTE_PORT", peer.port().to_string().into_bytes()),
        ("REQUEST_METHOD", req.method().as_str().as_bytes().to_vec()),
        ("REQUEST_SCHEME", b"https".to_vec()),
        ("REQUEST_URI", uri.path().as_bytes().to_vec()),
        (
            "QUERY_STRING",
            uri.query().unwrap_or("").as_bytes().to_vec(),
        ),
        (
            "THE_REQUEST",
            format!("{} {path_query} {}", req.method(), protocol(req.version())).into_bytes(),
        ),
        (
            "SERVER_PROTOCOL",
            protocol(req.version()).as_bytes().to_vec(),
        ),
    ];
    for (name, value) in fixed {
        // Names from the fixed list above: they are known to Apache.
        let _ = vars.set(name, value);
    }
    if let Some(host) = host {
        let _ = vars.set("HTTP_HOST", host.clone());
        let _ = vars.set("http:Host", host);
    }
    for (name, core) in [
        ("user-agent", "HTTP_USER_AGENT"),
        ("accept", "HTTP_ACCEPT"),
        ("cookie", "HTTP_COOKIE"),
        ("referer", "HTTP_REFERER"),
        ("forwarded", "HTTP_FORWARDED"),
    ] {
        if let Some(v) = req.headers().get(name) {
            let _ = vars.set(core, v.as_bytes());
        }
    }
    for name in req.headers().keys() {
        // The first value, as apr_table_get; names are case-insensitive.
        if let Some(v) = req.headers().get(name) {
            let _ = vars.set(&format!("http:{name}"), v.as_bytes());
        }
    }
    vars
}

/// A header value from a variable: as is when it is a valid header value,
/// else percent-encoded outside printable ASCII (PEMs have newlines).
fn header_value(bytes: &[u8]) -> Option<HeaderValue> {
    if let Ok(v) = HeaderValue::from_bytes(bytes) {
        return Some(v);
    }
    let mut s = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&s).ok()
}

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
];

thread_local! {
    static MACHINE: std::cell::RefCell<Machine> = std::cell::RefCell::new(Machine::new());
}

async fn handle(
    state: &State,
    session: &Session,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let path = req.uri().path();
    if ambiguous(path) {
        eprintln!("mtls_proxy: {peer}: 400 {}: ambiguous path", req.uri());
        return answer(StatusCode::BAD_REQUEST, "bad request\n");
    }
    let policy = state.policy_for(path);
    let mut extra: Vec<(HeaderName, HeaderValue)> = Vec::new();
    if policy.is_some() || !state.forward.is_empty() {
        // Everything synchronous happens here: the environment borrows the
        // request and is gone before the first await.
        let vars = request_vars(&req, peer);
        let env = SessionEnv::new(session, EnvOptions::default()).with_request(&vars);
        if let Some(policy) = policy {
            let allowed = MACHINE.with(|m| match m.try_borrow_mut() {
                Ok(mut machine) => policy.program.allows(&mut machine, &env, |err| {
                    eprintln!(
                        "mtls_proxy: {peer}: {} {}: SSLRequire of {} failed to evaluate:\n{err}",
                        req.method(),
                        req.uri(),
                        policy.prefix
                    )
                }),
                Err(_) => policy.program.allows(&mut Machine::new(), &env, |err| {
                    eprintln!("mtls_proxy: {peer}: {}: {err}", req.uri())
                }),
            });
            if !allowed {
                eprintln!(
                    "mtls_proxy: {peer}: 403 {} {} (policy {})",
                    req.method(),
                    req.uri(),
                    policy.prefix
                );
                return answer(StatusCode::FORBIDDEN, "forbidden\n");
            }
        }
        for (name, var) in &state.forward {
            if let Some(value) = env.var(var).and_then(header_value) {
                extra.push((name.clone(), value));
            }
        }
    }
    forward(state, peer, req, extra).await
}

async fn forward(
    state: &State,
    peer: SocketAddr,
    req: Request<Incoming>,
    extra: Vec<(HeaderName, HeaderValue)>,
) -> Response<Body> {
    let (mut parts, body) = req.into_parts();
    let path_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri: hyper::Uri = match format!("http://{}{path_query}", state.upstream).parse() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("mtls_proxy: {peer}: 400 {}: {e}", parts.uri);
            return answer(StatusCode::BAD_REQUEST, "bad request\n");
        }
    };
    let host = parts.headers.get(HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    // Hop-by-hop headers, and those named in `Connection`, stay here.
    let named: Vec<HeaderName> = parts
        .headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(state.forward.iter().map(|(n, _)| n)) {
        parts.headers.remove(name);
    }
    for name in HOP_BY_HOP {
        parts.headers.remove(name);
    }
    if let Some(host) = host {
        parts.headers.insert(HOST, host);
    }
    for (name, value) in extra {
        parts.headers.append(name, value);
    }
    let method = parts.method.clone();
    let shown = parts.uri.clone();
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    let upstream = Request::from_parts(parts, body);
    match tokio::time::timeout(UPSTREAM_TIMEOUT, state.client.request(upstream)).await {
        Ok(Ok(resp)) => {
            let (mut parts, body) = resp.into_parts();
            for name in HOP_BY_HOP {
                parts.headers.remove(name);
            }
            Response::from_parts(parts, body.boxed())
        }
        Ok(Err(e)) => {
            eprintln!("mtls_proxy: {peer}: 502 {method} {shown}: upstream: {e}");
            answer(StatusCode::BAD_GATEWAY, "bad gateway\n")
        }
        Err(_) => {
            eprintln!("mtls_proxy: {peer}: 504 {method} {shown}: upstream timed out");
            answer(StatusCode::GATEWAY_TIMEOUT, "gateway timeout\n")
        }
    }
}
