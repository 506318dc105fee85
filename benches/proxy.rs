//! Requests per second through the example proxy (examples/mtls_proxy.rs)
//! with a W1-sized policy against the same proxy with no policy, and — in
//! process — what the library adds per request: the environment over the
//! connection's shared `Session` and the evaluation.
//!
//! Run: `cargo bench --bench proxy` (it builds the example with
//! `cargo build --release --example mtls_proxy` first). BENCHMARKS.md,
//! "Through a proxy", reports the figures. The PKI is made here (rcgen):
//! the client is `CN=alice, OU=Staff, O=Snake Oil, Ltd.`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use sslrequire::env::time_values;
use sslrequire::session::{session_from_rustls, ClientAuth, EnvOptions, Session, SessionEnv};
use sslrequire::{Env, Machine, Program, VarMap};

// ---------------------------------------------------------------------------
// allocations, counted

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations per call of `f`, over `n` calls.
fn allocations_per_call(n: usize, mut f: impl FnMut()) -> f64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..n {
        f();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / n as f64
}

// ---------------------------------------------------------------------------
// the policy

/// The mod_ssl manual's example (W1), adapted so it allows the benchmark's
/// client at any hour: its OU list names "Staff" already; the address
/// alternative is loopback's instead of 192.76.162.x. On weekdays 08–20
/// the first branch allows (seven tests); otherwise it fails at the
/// TIME_* tests and the REMOTE_ADDR regex allows.
const W1_LOOPBACK: &str = r#"( %{SSL_CIPHER} !~ m/^(EXP|NULL)-/ and %{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd." and %{SSL_CLIENT_S_DN_OU} in {"Staff", "CA", "Dev"} and %{TIME_WDAY} >= 1 and %{TIME_WDAY} <= 5 and %{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20 ) or %{REMOTE_ADDR} =~ m/^127\.0\.0\.[0-9]+$/"#;

// ---------------------------------------------------------------------------
// the PKI

struct Pki {
    ca: CertificateDer<'static>,
    ca_pem: String,
    server: (
        CertificateDer<'static>,
        String,
        PrivateKeyDer<'static>,
        String,
    ),
    client: (CertificateDer<'static>, PrivateKeyDer<'static>),
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(DnType::CommonName, "Bench CA");
    let ca_cert = ca.self_signed(&ca_key).expect("ca");
    let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
    let leaf = |cn: &str, sans: Vec<SanType>| {
        let key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name
            .push(DnType::OrganizationName, "Snake Oil, Ltd.");
        p.distinguished_name
            .push(DnType::OrganizationalUnitName, "Staff");
        p.distinguished_name.push(DnType::CommonName, cn);
        p.subject_alt_names = sans;
        let cert = p.signed_by(&key, &issuer).expect("leaf");
        (cert, key)
    };
    let (server, server_key) = leaf(
        "localhost",
        vec![SanType::DnsName("localhost".try_into().expect("dns"))],
    );
    let (client, client_key) = leaf("alice", Vec::new());
    Pki {
        ca: ca_cert.der().clone(),
        ca_pem: ca_cert.pem(),
        server: (
            server.der().clone(),
            server.pem(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            server_key.serialize_pem(),
        ),
        client: (
            client.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(client_key.serialize_der())),
        ),
    }
}

fn roots(pki: &Pki) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).expect("root");
    Arc::new(roots)
}

fn client_config(pki: &Pki) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots(pki))
            .with_client_auth_cert(vec![pki.client.0.clone()], pki.client.1.clone_key())
            .expect("client auth"),
    )
}

// ---------------------------------------------------------------------------
// through the proxy

fn example_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--example", "mtls_proxy"])
        .current_dir(root)
        .status()
        .expect("cargo build --release --example mtls_proxy");
    assert!(status.success(), "building the example failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join("release/examples/mtls_proxy")
}

struct Proxy {
    child: Child,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy(
    bin: &Path,
    dir: &Path,
    name: &str,
    upstream: SocketAddr,
    policy: Option<&str>,
) -> Proxy {
    let mut config = format!(
        "listen = \"127.0.0.1:0\"\nupstream = \"{upstream}\"\ncert = \"{d}/server.crt\"\nkey = \"{d}/server.key\"\nca = \"{d}/ca.crt\"\nmode = \"require\"\n",
        d = dir.display()
    );
    if let Some(expr) = policy {
        config.push_str(&format!("[[policy]]\npath = \"/\"\nrequire = '{expr}'\n"));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, config).expect("config");
    let mut child = Command::new(bin)
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the proxy");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let port = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the proxy did not start: {line:?}"));
    Proxy { child, port }
}

async fn upstream_answer(
    _req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok\n"))))
}

/// A trivial upstream on its own runtime thread.
fn start_upstream() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            TokioIo::new(tcp),
                            hyper::service::service_fn(upstream_answer),
                        )
                        .await;
                });
            }
        });
    });
    addr
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// `n` keep-alive HTTP/1.1 connections to the proxy, TLS with the client
/// certificate.
async fn connect_all(port: u16, config: Arc<ClientConfig>, n: usize) -> Vec<Sender> {
    let connector = tokio_rustls::TlsConnector::from(config);
    let mut senders = Vec::new();
    for _ in 0..n {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let tls = connector
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await
            .expect("handshake");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .expect("http1");
        tokio::spawn(conn);
        senders.push(sender);
    }
    senders
}

/// Sends `total` GETs spread over the connections (each sequential on its
/// connection, the connections concurrent); every answer must be 200.
async fn run_requests(senders: &mut [Sender], host: &str, total: u64) -> Duration {
    let n = senders.len() as u64;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, sender) in senders.iter_mut().enumerate() {
        let count = total / n + u64::from((i as u64) < total % n);
        let host = host.to_string();
        tasks.push(async move {
            for _ in 0..count {
                sender.ready().await.expect("ready");
                let req = Request::get("/bench")
                    .header("host", &host)
                    .header("user-agent", "proxy-bench")
                    .body(Empty::new())
                    .expect("request");
                let resp = sender.send_request(req).await.expect("response");
                assert_eq!(resp.status(), 200, "the policy must allow the client");
                resp.into_body().collect().await.expect("body");
            }
        });
    }
    futures_join(tasks).await;
    started.elapsed()
}

async fn futures_join<F: std::future::Future<Output = ()>>(tasks: Vec<F>) {
    let handles: Vec<_> = tasks.into_iter().map(Box::pin).collect();
    // Poll all on this task (the connections' I/O runs on spawned tasks).
    let mut handles: Vec<_> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for h in handles.iter_mut() {
            if let Some(f) = h {
                if f.as_mut().poll(cx).is_ready() {
                    *h = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
}

const CONNECTIONS: usize = 8;

fn through_the_proxy(c: &mut Criterion) {
    let pki = pki();
    let dir = std::env::temp_dir().join(format!("sslrequire-proxy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("server.crt"), &pki.server.1).expect("write");
    std::fs::write(dir.join("server.key"), &pki.server.3).expect("write");
    std::fs::write(dir.join("ca.crt"), &pki.ca_pem).expect("write");
    let bin = example_binary();
    let upstream = start_upstream();
    let plain = start_proxy(&bin, &dir, "none", upstream, None);
    let trivial = start_proxy(&bin, &dir, "true", upstream, Some("true"));
    let w1 = start_proxy(&bin, &dir, "w1", upstream, Some(W1_LOOPBACK));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let config = client_config(&pki);
    let mut plain_conns = rt.block_on(connect_all(plain.port, config.clone(), CONNECTIONS));
    let mut trivial_conns = rt.block_on(connect_all(trivial.port, config.clone(), CONNECTIONS));
    let mut w1_conns = rt.block_on(connect_all(w1.port, config, CONNECTIONS));
    let plain_host = format!("localhost:{}", plain.port);
    let trivial_host = format!("localhost:{}", trivial.port);
    let w1_host = format!("localhost:{}", w1.port);

    // Short interleaved rounds, the order rotated each round, so the three
    // see the same machine; ratios are taken within a round (adjacent in
    // time) and their median reported. `true` costs the request's
    // environment but no real evaluation.
    const ROUND: u64 = 1000;
    const ROUNDS: usize = 31;
    for (conns, host) in [
        (&mut plain_conns, &plain_host),
        (&mut trivial_conns, &trivial_host),
        (&mut w1_conns, &w1_host),
    ] {
        rt.block_on(run_requests(conns, host, 500));
    }
    let mut rates: [Vec<f64>; 3] = Default::default();
    let mut ratios: [Vec<f64>; 2] = Default::default();
    for round in 0..ROUNDS {
        let mut rate = [0.0; 3];
        for k in 0..3 {
            let which = (round + k) % 3;
            let (conns, host) = match which {
                0 => (&mut plain_conns, &plain_host),
                1 => (&mut trivial_conns, &trivial_host),
                _ => (&mut w1_conns, &w1_host),
            };
            let t = rt.block_on(run_requests(conns, host, ROUND));
            rate[which] = ROUND as f64 / t.as_secs_f64();
        }
        for k in 0..3 {
            rates[k].push(rate[k]);
        }
        ratios[0].push(rate[1] / rate[0]);
        ratios[1].push(rate[2] / rate[0]);
    }
    let quartiles = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        (v[v.len() / 4], v[v.len() / 2], v[3 * v.len() / 4])
    };
    let [none, always, policy] = rates.map(|mut v| quartiles(&mut v).1);
    let [r_true, r_w1] = ratios.map(|mut v| quartiles(&mut v));
    eprintln!(
        "proxy-rps: {CONNECTIONS} keep-alive HTTP/1.1 connections, {ROUNDS} interleaved rounds of {ROUND}, medians: \
         no policy {none:.0} req/s, policy `true` {always:.0} req/s, W1 policy {policy:.0} req/s; \
         per-round ratio to no policy (quartiles): true {:.3} [{:.3}, {:.3}], W1 {:.3} [{:.3}, {:.3}]",
        r_true.1, r_true.0, r_true.2, r_w1.1, r_w1.0, r_w1.2
    );

    let mut g = c.benchmark_group("through the proxy");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("no policy", |b| {
        b.iter_custom(|iters| rt.block_on(run_requests(&mut plain_conns, &plain_host, iters)))
    });
    g.bench_function("policy true", |b| {
        b.iter_custom(|iters| rt.block_on(run_requests(&mut trivial_conns, &trivial_host, iters)))
    });
    g.bench_function("W1 policy", |b| {
        b.iter_custom(|iters| rt.block_on(run_requests(&mut w1_conns, &w1_host, iters)))
    });
    g.finish();
    drop((plain_conns, trivial_conns, w1_conns));
    drop((plain, trivial, w1));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------
// the environment alone

/// A real rustls handshake in memory; the server's side.
fn handshake(pki: &Pki) -> ServerConnection {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(pki), provider.clone())
        .build()
        .expect("verifier");
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server.0.clone()], pki.server.2.clone_key())
        .expect("server");
    let mut server = ServerConnection::new(Arc::new(server)).expect("server");
    let mut client = ClientConnection::new(
        client_config(pki),
        ServerName::try_from("localhost").expect("name"),
    )
    .expect("client");
    for _ in 0..10 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).expect("write");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).expect("read");
            server.process_new_packets().expect("server");
        }
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).expect("write");
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            client.read_tls(&mut rd).expect("read");
            client.process_new_packets().expect("client");
        }
        if !client.is_handshaking() && !server.is_handshaking() {
            break;
        }
    }
    assert!(!server.is_handshaking(), "handshake incomplete");
    server
}

/// What the proxy sets per request (examples/mtls_proxy.rs, request_vars).
fn request_vars() -> VarMap {
    let mut vars = VarMap::new();
    for (k, v) in [
        ("REMOTE_ADDR", "127.0.0.1"),
        ("REMOTE_PORT", "51234"),
        ("REQUEST_METHOD", "GET"),
        ("REQUEST_SCHEME", "https"),
        ("REQUEST_URI", "/bench"),
        ("QUERY_STRING", ""),
        ("THE_REQUEST", "GET /bench HTTP/1.1"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("HTTP_HOST", "localhost:8443"),
        ("http:Host", "localhost:8443"),
        ("HTTP_USER_AGENT", "proxy-bench"),
        ("http:User-Agent", "proxy-bench"),
    ] {
        vars.set(k, v).expect("known variable");
    }
    vars
}

fn environment_alone(c: &mut Criterion) {
    let pki = pki();
    let conn = handshake(&pki);
    let session: Arc<Session> = Arc::new(session_from_rustls(
        &conn,
        &[pki.server.0.as_ref()],
        ClientAuth::Verified,
    ));
    let program = Program::new(W1_LOOPBACK).expect("W1");
    let mut machine = Machine::new();

    // Per request, as the example does: a VarMap of the request's
    // variables, SessionEnv over the shared Session, eval.
    let varmap_request = |machine: &mut Machine| {
        let vars = request_vars();
        let env = SessionEnv::new(&session, EnvOptions::default()).with_request(&vars);
        program.allows(machine, &env, |e| panic!("{e}"))
    };
    assert!(varmap_request(&mut machine), "W1 must allow");
    // The same with the request's VarMap made beforehand (SessionEnv + eval).
    let vars = request_vars();
    let env_only = |machine: &mut Machine| {
        let env = SessionEnv::new(&session, EnvOptions::default()).with_request(&vars);
        program.allows(machine, &env, |e| panic!("{e}"))
    };

    // The slot path: the program's variables laid out once; per connection
    // its SSL_* values read once from the session; per request borrowed
    // values bound to slots. TIME_* come from a per-second cache the proxy
    // would keep (made here once).
    let names: Vec<String> = program.vars().iter().map(|v| v.to_string()).collect();
    let layout = program.layout(&names).expect("layout");
    let conn_env = SessionEnv::new(&session, EnvOptions::default());
    let conn_values: Vec<Option<Vec<u8>>> = program
        .vars()
        .iter()
        .map(|v| conn_env.var(v).map(<[u8]>::to_vec))
        .collect();
    let now = chrono::Local::now().fixed_offset();
    let times = time_values(&now);
    let remote_addr = b"127.0.0.1".to_vec();
    let per_request: Vec<&[u8]> = names
        .iter()
        .zip(&conn_values)
        .map(|(name, conn)| {
            if name == "REMOTE_ADDR" {
                remote_addr.as_slice()
            } else if let Some(t) = name.strip_prefix("TIME_") {
                times
                    .iter()
                    .find(|(v, _)| format!("{v:?}").eq_ignore_ascii_case(t))
                    .map(|(_, s)| s.as_bytes())
                    .unwrap_or_else(|| panic!("{name}"))
            } else {
                conn.as_deref().unwrap_or(b"")
            }
        })
        .collect();
    let slots_request = |machine: &mut Machine| {
        let slots = layout.bind(&program, &per_request).expect("layout");
        slots.allows(machine, |e| panic!("{e}"))
    };
    assert!(slots_request(&mut machine), "W1 (slots) must allow");
    // The two must agree with the environment the proxy builds.
    assert_eq!(
        slots_request(&mut machine),
        varmap_request(&mut machine),
        "slot and SessionEnv paths disagree"
    );

    let allocs = (
        allocations_per_call(10_000, || {
            black_box(varmap_request(&mut machine));
        }),
        allocations_per_call(10_000, || {
            black_box(env_only(&mut machine));
        }),
        allocations_per_call(10_000, || {
            black_box(slots_request(&mut machine));
        }),
    );
    eprintln!(
        "proxy-env allocations per request: VarMap + SessionEnv + eval {:.1}; SessionEnv + eval (VarMap made beforehand) {:.1}; Layout/Slots bind + eval {:.1}",
        allocs.0, allocs.1, allocs.2
    );
    let mut g = c.benchmark_group("environment per request (W1)");
    g.bench_function("VarMap of the request + SessionEnv + eval", |b| {
        b.iter(|| black_box(varmap_request(&mut machine)))
    });
    g.bench_function("SessionEnv + eval (request VarMap made beforehand)", |b| {
        b.iter(|| black_box(env_only(&mut machine)))
    });
    g.bench_function("Layout/Slots bind + eval", |b| {
        b.iter(|| black_box(slots_request(&mut machine)))
    });
    g.finish();
}

criterion_group!(benches, environment_alone, through_the_proxy);
criterion_main!(benches);
