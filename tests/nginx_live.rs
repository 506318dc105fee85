//! `sslrequire serve nginx` behind a real nginx (issue 13).
//!
//! * `nginx_compat`: a real Apache httpd 2.4 with mod_ssl and a real nginx
//!   with `auth_request` to `sslrequire serve nginx` (the README's snippet)
//!   serve the live suite's clients (every client certificate, TLS 1.3 and
//!   1.2, one keep-alive connection each) for every expression of
//!   tests/compat/corpus.txt that needs only what nginx passes; every
//!   verdict nginx + sslrequire gives must be Apache's (`SSLRequire` in a
//!   `<Location>` per expression). Prints `nginx-compat: N pairs, N agree,
//!   N differ` and how long it took.
//! * tests/nginx_mail_live.rs: nginx's mail proxy and HTTPS with real
//!   clients.
//!
//! nginx runs from a temporary prefix with its own configuration on
//! 127.0.0.1, stopped by its own PID (also on panic). Without nginx or
//! Apache the test is skipped with a loud message, except
//! under CI=true, where that fails.

#[path = "support/apache_live/mod.rs"]
mod live;
#[path = "support/nginx.rs"]
mod nginx;
#[path = "postfix_util/mod.rs"]
mod util;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use live::client::{self, TlsChoice};
use live::pki::Pki;
use live::server::{self, free_port, Running, Site, WorkDir};
use sslrequire::env::{SessionVar, Side, Table, Var};
use sslrequire::Program;

// --- nginx-compat ------------------------------------------------------------

/// Whether nginx passes what `var` needs to have Apache's value (the
/// README's "What nginx does not tell").
fn passed(var: &Var) -> bool {
    match var {
        Var::Session(v) => !matches!(
            v,
            SessionVar::VersionInterface
                | SessionVar::VersionLibrary
                | SessionVar::SecureReneg
                | SessionVar::SessionId
        ),
        Var::Cert(Side::Client, _) => true,
        Var::Cert(Side::Server, _) | Var::ClientCertChain(_) => false,
        Var::Core(c) => {
            c.request_header().is_some()
                || matches!(
                    c.name(),
                    "HTTPS"
                        | "REMOTE_ADDR"
                        | "REMOTE_PORT"
                        | "SERVER_NAME"
                        | "SERVER_PORT"
                        | "THE_REQUEST"
                        | "REQUEST_METHOD"
                        | "REQUEST_URI"
                        | "QUERY_STRING"
                        | "SERVER_PROTOCOL"
                        | "REMOTE_USER"
                )
                || c.name().starts_with("TIME")
        }
        Var::Lookup(Table::RequestHeader, _) => true,
        _ => false,
    }
}

/// Whether an expression reads files (the server never lets it: an
/// evaluation error, where Apache reads the file).
fn reads_files(expr: &str) -> bool {
    expr.contains("file(")
        || expr.contains("filesize(")
        || expr
            .split(|c: char| c.is_whitespace() || c == '(' || c == '!')
            .any(|w| {
                matches!(
                    w,
                    "-d" | "-e" | "-f" | "-s" | "-L" | "-h" | "-F" | "-U" | "-A" | "-x"
                )
            })
}

#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Allow,
    Deny,
    Error,
    Other(String),
}

fn target(n: usize) -> String {
    format!("/e/{n}.txt?n={n}&q=caf%C3%A9")
}

/// Every client certificate over TLS 1.3 and 1.2 (as the live suite).
fn tasks(pki: &Pki) -> Vec<(usize, TlsChoice)> {
    let mut out = Vec::new();
    for (i, _) in pki.clients.iter().enumerate() {
        for tls13 in [true, false] {
            let choice = TlsChoice {
                tls13,
                rsa_server: (i % 2 == 0) ^ tls13,
                cipher: (i + usize::from(tls13)) % 3,
            };
            out.push((i, choice));
        }
    }
    out
}

/// Per task: the verification result the server shows (`verify_path`'s
/// body, reduced by `verify_of`), and the response to every expression's
/// URL. One keep-alive connection per task, two at a time.
fn run_tasks(
    port: u16,
    pki: &Pki,
    roots: &rustls::RootCertStore,
    tasks: &[(usize, TlsChoice)],
    exprs: &[usize],
    verify_path: &str,
    verify_of: fn(&[u8]) -> String,
) -> Vec<TaskResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TaskResult>>> =
        Mutex::new((0..tasks.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let t = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(ci, choice)) = tasks.get(t) else {
                    break;
                };
                let c = &pki.clients[ci];
                let host = format!("localhost:{port}");
                let mut conn = client::connect(port, roots, &c.chain, c.key.as_deref(), choice)
                    .unwrap_or_else(|e| panic!("{}: TLS connection failed: {e}", c.name));
                let probe = format!("{t}.v");
                let v = conn
                    .get(verify_path, &[("Host", &host), ("X-Probe", &probe)])
                    .unwrap_or_else(|e| panic!("{}: GET {verify_path}: {e}", c.name));
                let verify = verify_of(&v.body);
                let mut out = Vec::with_capacity(exprs.len());
                for &n in exprs {
                    let probe = format!("{t}.{n}");
                    let r = conn
                        .get(
                            &target(n),
                            &[
                                ("Host", &host),
                                ("User-Agent", "sslrequire-nginx-compat/1.0"),
                                ("Accept", "*/*"),
                                ("X-Probe", &probe),
                            ],
                        )
                        .unwrap_or_else(|e| panic!("{}: GET {}: {e}", c.name, target(n)));
                    assert!(
                        !r.header("Connection")
                            .is_some_and(|v| v.eq_ignore_ascii_case("close")),
                        "the server closed the keep-alive connection"
                    );
                    out.push(r);
                }
                results.lock().unwrap()[t] = Some((verify, out));
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect()
}

/// A task's verification result and responses.
type TaskResult = (String, Vec<client::Response>);

fn apache_verify(body: &[u8]) -> String {
    body.split(|&b| b == 0)
        .find_map(|kv| kv.strip_prefix(b"SSL_CLIENT_VERIFY="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default()
}

fn nginx_verify(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

#[test]
fn nginx_compat() {
    let started = Instant::now();
    let Some(apache) = server::find_or_skip("nginx-compat") else {
        return;
    };
    let Some(nginx_bin) = nginx::find_or_skip("nginx-compat") else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let pki = Pki::generate(now);
    let work = WorkDir::new();
    live::files::write_files(&work, &pki);

    let corpus = live::files::corpus_without_data();
    let (mut exprs, mut not_passed, mut files, mut refused) = (Vec::new(), 0, 0, 0);
    for (n, e) in &corpus {
        let Ok(p) = Program::new(e) else {
            // Refused by sslrequire, and by Apache (tests/apache_live.rs).
            refused += 1;
            continue;
        };
        if !p.vars().iter().all(passed) {
            not_passed += 1;
        } else if reads_files(e) {
            files += 1;
        } else if !e.contains("'''") {
            exprs.push((*n, e.clone()));
        }
    }
    let ns: Vec<usize> = exprs.iter().map(|(n, _)| *n).collect();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            pki.root.der.clone(),
        ))
        .expect("root");
    let tasks = tasks(&pki);

    // --- Apache -----------------------------------------------------------
    let port = free_port();
    let site = Site {
        port,
        work: &work,
        exprs: &exprs,
    };
    let (conf_text, _) = server::config(&apache, &site);
    let conf = work.write("conf/httpd.conf", conf_text, 0o644);
    if let Some(out) = server::check(&apache, &conf) {
        panic!("httpd -t refused the configuration:\n{out}");
    }
    let mut httpd = Running::start(&apache, &conf, &work, port);
    let apache_started = Instant::now();
    let apache_results = run_tasks(port, &pki, &roots, &tasks, &ns, "/env", apache_verify);
    let apache_secs = apache_started.elapsed().as_secs_f64();
    let error_log = httpd.error_log();
    httpd.stop();
    let failed: BTreeSet<String> = error_log
        .lines()
        .filter(|l| l.contains("Failed to execute SSL requirement expression"))
        .filter_map(|l| Some(l[l.find("[probe ")? + 7..].split(']').next()?.to_string()))
        .collect();

    // --- nginx + sslrequire serve nginx -----------------------------------
    let mut policy = String::from("default = \"DENY no rule for this location\"\n");
    for (n, e) in &exprs {
        policy.push_str(&format!(
            "[[rule]]\nname = \"e{n}\"\nlocations = [\"/e/{n}.txt\"]\nrequire = '''{e}'''\nallow = \"OK\"\n"
        ));
    }
    let dir = util::scratch("nginx-compat");
    let sslrequire = util::Server::start_as("nginx", &dir, &policy, &[]);
    let nport = free_port();
    let prefix = work.path("nginx");
    let p = |s: &str| work.path(s).display().to_string();
    let mut c = nginx::preamble(&prefix, "");
    c.push_str(&format!(
        "  upstream sslrequire {{ server 127.0.0.1:{}; keepalive 8; }}\n  server {{\n    listen 127.0.0.1:{nport} ssl;\n    server_name localhost;\n    ssl_protocols TLSv1.2 TLSv1.3;\n",
        sslrequire.port
    ));
    for kind in ["rsa", "ec"] {
        c.push_str(&format!(
            "    ssl_certificate {};\n    ssl_certificate_key {};\n",
            p(&format!("certs/server-{kind}.pem")),
            p(&format!("certs/server-{kind}.key"))
        ));
    }
    c.push_str(&format!(
        "    ssl_client_certificate {};\n    ssl_verify_client optional_no_ca;\n    ssl_verify_depth 5;\n    root {};\n",
        p("certs/root-ca.pem"),
        p("htdocs")
    ));
    c.push_str("    location = /verify { return 200 \"$ssl_client_verify\"; }\n");
    c.push_str("    location /e/ {\n      auth_request /_sslrequire;\n      auth_request_set $sslrequire_verdict $upstream_http_x_sslrequire_verdict;\n      add_header X-SSLRequire-Verdict $sslrequire_verdict always;\n      try_files /ok.txt =404;\n    }\n");
    c.push_str(&nginx::auth_location("sslrequire"));
    c.push_str("  }\n}\n");
    let mut nginx = nginx::Nginx::start(&nginx_bin, &prefix, &c, nport)
        .unwrap_or_else(|e| panic!("nginx-compat: nginx is installed but did not start: {e}"));
    let nginx_started = Instant::now();
    let nginx_results = run_tasks(nport, &pki, &roots, &tasks, &ns, "/verify", nginx_verify);
    let nginx_secs = nginx_started.elapsed().as_secs_f64();
    nginx.stop();

    // --- the verdicts -----------------------------------------------------
    let (mut pairs, mut agree) = (0usize, 0usize);
    let mut differ_lines = Vec::new();
    for (t, ((a_verify, a), (n_verify, b))) in apache_results.iter().zip(&nginx_results).enumerate()
    {
        let (ci, choice) = tasks[t];
        let who = format!(
            "{}@TLSv1.{}",
            pki.clients[ci].name,
            if choice.tls13 { 3 } else { 2 }
        );
        for (i, &n) in ns.iter().enumerate() {
            let theirs = match a[i].status {
                200 => Verdict::Allow,
                403 if failed.contains(&format!("{t}.{n}")) => Verdict::Error,
                403 => Verdict::Deny,
                s => Verdict::Other(format!("HTTP {s}")),
            };
            let ours = match (b[i].status, b[i].header("X-SSLRequire-Verdict")) {
                (200, _) => Verdict::Allow,
                (403, Some("deny")) => Verdict::Deny,
                (403, Some("error")) => Verdict::Error,
                (s, v) => Verdict::Other(format!("HTTP {s} {v:?}")),
            };
            pairs += 1;
            if theirs == ours {
                agree += 1;
            } else {
                differ_lines.push(format!(
                    "{who} `{}`: Apache {theirs:?}, nginx + sslrequire {ours:?} (SSL_CLIENT_VERIFY: mod_ssl `{a_verify}`, nginx `{n_verify}`)",
                    exprs[i].1
                ));
            }
        }
    }
    let differ = pairs - agree;
    eprintln!("nginx-compat: {pairs} pairs, {agree} agree, {differ} differ");
    eprintln!(
        "nginx-compat: {} expressions ({} of {} corpus expressions; {refused} do not compile, {not_passed} read what nginx does not pass, {files} read files, which the server never allows) x {} clients x 2 TLS versions; Apache {apache_secs:.1} s, nginx + sslrequire {nginx_secs:.1} s, {:.1} s in all",
        ns.len(),
        ns.len(),
        corpus.len(),
        pki.clients.len(),
        started.elapsed().as_secs_f64()
    );
    for d in &differ_lines {
        eprintln!("nginx-compat: DIFFERS: {d}");
    }
    assert!(
        differ_lines.is_empty(),
        "{} verdicts differ from Apache's; server log:\n{}",
        differ_lines.len(),
        sslrequire.log_lines(" error=").join("\n")
    );
    assert!(pairs > 1000 && agree > pairs * 9 / 10, "{agree} of {pairs}");
}
