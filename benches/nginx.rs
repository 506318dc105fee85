//! Requests per second through a real nginx with `auth_request` to
//! `sslrequire serve nginx` (the README's snippet, a keep-alive upstream),
//! against the same nginx serving the same file without it: HTTPS over
//! TLS 1.3 with a client certificate, keep-alive connections (rustls
//! clients), loopback, one run. The policy reads the client certificate
//! (verification result, O and OU), so each request parses it.
//!
//! Prints `nginx-rps:` (short interleaved rounds, the order rotated each
//! round, the ratio taken within each round), then criterion's figures.
//!
//! Run: `cargo bench --bench nginx` (BENCHMARKS.md, "nginx auth_request").
//! Needs nginx (SSLREQUIRE_NGINX, else /usr/sbin/nginx); without it the
//! benchmark says so and measures nothing.

#[path = "../tests/support/apache_live/mod.rs"]
mod live;
#[path = "../tests/support/nginx.rs"]
mod nginx;
#[path = "../tests/postfix_util/mod.rs"]
mod util;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use live::client::{self, Conn, TlsChoice};
use live::pki::Pki;
use live::server::{free_port, WorkDir};

const CONNECTIONS: usize = 4;
const ROUNDS: usize = 15;
const ROUND: u64 = 400;

const POLICY: &str = r#"
[[rule]]
name = "staff"
locations = ["/with/"]
require = '%{SSL_CLIENT_VERIFY} == "SUCCESS" && %{SSL_CLIENT_S_DN_O} == "Snake Oil, Ltd." && %{SSL_CLIENT_S_DN_OU} in {"Staff", "Engineering", "Dev"}'
deny = "DENY staff only"
"#;

struct Setup {
    pki: Pki,
    roots: rustls::RootCertStore,
    port: u16,
    client: usize,
}

impl Setup {
    fn connect(&self) -> Conn {
        let c = &self.pki.clients[self.client];
        let choice = TlsChoice {
            tls13: true,
            rsa_server: false,
            cipher: 0,
        };
        client::connect(self.port, &self.roots, &c.chain, c.key.as_deref(), choice)
            .expect("TLS connection to nginx")
    }
}

/// `total` GETs of `path` spread over `conns`, one thread each; every
/// response must be 200.
fn run(conns: &mut [Conn], path: &str, total: u64, host: &str) -> Duration {
    let left = AtomicU64::new(total);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for conn in conns.iter_mut() {
            let left = &left;
            scope.spawn(move || {
                while left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let r = conn.get(path, &[("Host", host)]).expect("a response");
                    assert_eq!(r.status, 200, "{path}");
                }
            });
        }
    });
    start.elapsed()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn through_nginx(c: &mut Criterion) {
    let Ok(bin) = nginx::find() else {
        eprintln!("nginx-rps: SKIPPED, no nginx binary (set SSLREQUIRE_NGINX)");
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let pki = Pki::generate(now);
    // A client the policy allows: verified, O = Snake Oil, OU Engineering.
    let client = pki
        .clients
        .iter()
        .position(|c| c.name == "alice")
        .expect("alice in the live PKI");
    let work = WorkDir::new();
    live::files::write_files(&work, &pki);
    let dir = util::scratch("nginx-bench");
    let sslrequire = util::Server::start_as("nginx", &dir, POLICY, &[]);
    let port = free_port();
    let prefix = work.path("nginx");
    let p = |s: &str| work.path(s).display().to_string();
    let mut conf = nginx::preamble(&prefix, "");
    conf = conf.replace(" info;", " warn;");
    conf.push_str(&format!(
        "  upstream sslrequire {{ server 127.0.0.1:{}; keepalive 16; }}\n  server {{\n    listen 127.0.0.1:{port} ssl;\n    server_name localhost;\n    ssl_protocols TLSv1.3;\n    ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_client_certificate {};\n    ssl_verify_client optional_no_ca;\n    ssl_verify_depth 5;\n    root {};\n    location /with/ {{ auth_request /_sslrequire; try_files /ok.txt =404; }}\n    location /without/ {{ try_files /ok.txt =404; }}\n{}  }}\n}}\n",
        sslrequire.port,
        p("certs/server-ec.pem"),
        p("certs/server-ec.key"),
        p("certs/root-ca.pem"),
        p("htdocs"),
        nginx::auth_location("sslrequire"),
    ));
    let _nginx = nginx::Nginx::start(&bin, &prefix, &conf, port).expect("nginx starts");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            pki.root.der.clone(),
        ))
        .unwrap();
    let setup = Setup {
        pki,
        roots,
        port,
        client,
    };
    let host = format!("localhost:{port}");
    let mut with: Vec<Conn> = (0..CONNECTIONS).map(|_| setup.connect()).collect();
    let mut without: Vec<Conn> = (0..CONNECTIONS).map(|_| setup.connect()).collect();
    // Warm up both paths (and check the policy allows).
    run(&mut with, "/with/x", 200, &host);
    run(&mut without, "/without/x", 200, &host);

    let (mut rps_with, mut rps_without, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut t = [0f64; 2];
        for k in 0..2 {
            let which = (k + round) % 2;
            let d = if which == 0 {
                run(&mut without, "/without/x", ROUND, &host)
            } else {
                run(&mut with, "/with/x", ROUND, &host)
            };
            t[which] = ROUND as f64 / d.as_secs_f64();
        }
        rps_without.push(t[0]);
        rps_with.push(t[1]);
        ratios.push(t[1] / t[0]);
    }
    let mut sorted = ratios.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let q = |f: f64| sorted[((sorted.len() - 1) as f64 * f).round() as usize];
    eprintln!(
        "nginx-rps: {CONNECTIONS} keep-alive HTTPS connections (TLS 1.3, client certificate), {ROUNDS} interleaved rounds of {ROUND}, medians: without sslrequire {:.0} req/s, with auth_request to sslrequire {:.0} req/s, per-round ratio {:.2} [quartiles {:.2}, {:.2}]",
        median(&mut rps_without),
        median(&mut rps_with),
        q(0.5),
        q(0.25),
        q(0.75)
    );

    let mut g = c.benchmark_group("nginx_auth_request");
    g.measurement_time(Duration::from_secs(6));
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    g.bench_function("without_sslrequire", |b| {
        b.iter_custom(|iters| run(&mut without, "/without/x", iters, &host))
    });
    g.bench_function("with_sslrequire", |b| {
        b.iter_custom(|iters| run(&mut with, "/with/x", iters, &host))
    });
    g.finish();
    let allowed = sslrequire.log_lines("rule=staff verdict=allow").len();
    assert!(allowed > 1000, "the policy was asked: {allowed} decisions");
}

criterion_group!(benches, through_nginx);
criterion_main!(benches);
