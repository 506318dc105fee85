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
//! * `mail_and_https_through_nginx`: nginx's mail proxy (`auth_http`) and an
//!   HTTPS server in front of the server, with the certificates of
//!   tests/apache-2.4.71/certs and real clients (curl, `openssl s_client`):
//!   IMAP, POP3 and SMTP logins over implicit TLS and STARTTLS, and HTTPS
//!   requests, allowed or refused as the policy says.
//!
//! nginx runs from a temporary prefix with its own configuration on
//! 127.0.0.1, stopped by its own PID (also on panic). Without nginx, its
//! mail module or Apache the test is skipped with a loud message, except
//! under CI=true, where that fails.

#[path = "support/apache_live/mod.rs"]
mod live;
#[path = "support/nginx.rs"]
mod nginx;
#[path = "postfix_util/mod.rs"]
mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use live::client::{self, TlsChoice};
use live::pki::Pki;
use live::server::{self, Running, Site, WorkDir};
use sslrequire::env::{SessionVar, Side, Table, Var};
use sslrequire::Program;

/// The `auth_request` location of the README (the variables nginx passes),
/// proxied to `upstream`.
fn auth_location(upstream: &str) -> String {
    format!(
        r#"    location = /_sslrequire {{
        internal;
        proxy_pass http://{upstream};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header Host $http_host;
        proxy_set_header X-SSLRequire-Uri $request_uri;
        proxy_set_header X-SSLRequire-Request $request;
        proxy_set_header X-SSLRequire-Method $request_method;
        proxy_set_header X-SSLRequire-Server-Protocol $server_protocol;
        proxy_set_header X-SSLRequire-Remote-Addr $remote_addr;
        proxy_set_header X-SSLRequire-Remote-Port $remote_port;
        proxy_set_header X-SSLRequire-Remote-User $remote_user;
        proxy_set_header X-SSLRequire-Server-Name $server_name;
        proxy_set_header X-SSLRequire-Server-Port $server_port;
        proxy_set_header X-SSLRequire-SSL-Protocol $ssl_protocol;
        proxy_set_header X-SSLRequire-SSL-Cipher $ssl_cipher;
        proxy_set_header X-SSLRequire-SSL-Server-Name $ssl_server_name;
        proxy_set_header X-SSLRequire-SSL-Session-Id $ssl_session_id;
        proxy_set_header X-SSLRequire-SSL-Session-Reused $ssl_session_reused;
        proxy_set_header X-SSLRequire-SSL-Client-Verify $ssl_client_verify;
        proxy_set_header X-SSLRequire-SSL-Client-Cert $ssl_client_escaped_cert;
    }}
"#
    )
}

/// The beginning of every configuration here: foreground, pid and logs in
/// the prefix.
fn preamble(prefix: &Path, modules: &str) -> String {
    let p = |s: &str| prefix.join(s).display().to_string();
    let mut c = format!(
        "{modules}daemon off;\nmaster_process on;\nworker_processes 1;\npid {};\nerror_log {} info;\nevents {{ worker_connections 512; }}\n",
        p("run/nginx.pid"),
        p("logs/nginx-error.log")
    );
    c.push_str("http {\n  access_log off;\n  keepalive_requests 100000;\n");
    for t in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        c.push_str(&format!("  {t}_temp_path {};\n", p(&format!("run/{t}"))));
    }
    c
}

fn free_port() -> u16 {
    server::free_port()
}

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
) -> Vec<(String, Vec<client::Response>)> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(String, Vec<client::Response>)>>> =
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
    let mut c = preamble(&prefix, "");
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
    c.push_str(&auth_location("sslrequire"));
    c.push_str("  }\n}\n");
    let mut nginx = nginx::Nginx::start(&nginx_bin, &prefix, &c, nport)
        .unwrap_or_else(|e| panic!("nginx-compat: nginx is installed but did not start: {e}"));
    let nginx_started = Instant::now();
    let nginx_results = run_tasks(nport, &pki, &roots, &tasks, &ns, "/verify", nginx_verify);
    let nginx_secs = nginx_started.elapsed().as_secs_f64();
    nginx.stop();

    // --- the verdicts -----------------------------------------------------
    let reads_verify = |n: usize| {
        Program::new(&exprs.iter().find(|(m, _)| *m == n).unwrap().1)
            .unwrap()
            .vars()
            .contains(&Var::Session(SessionVar::ClientVerify))
    };
    let (mut pairs, mut agree) = (0usize, 0usize);
    let mut explained: BTreeMap<String, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
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
            } else if a_verify != n_verify && reads_verify(n) {
                // nginx verifies the client itself: where its result is not
                // mod_ssl's, a rule on SSL_CLIENT_VERIFY sees nginx's.
                *explained
                    .entry(format!(
                        "{who}: nginx's $ssl_client_verify `{n_verify}`, mod_ssl's SSL_CLIENT_VERIFY `{a_verify}`"
                    ))
                    .or_default() += 1;
            } else {
                unexplained.push(format!(
                    "{who} `{}`: Apache {theirs:?}, nginx + sslrequire {ours:?}",
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
    for (why, count) in &explained {
        eprintln!("nginx-compat: differ ({count} expressions reading SSL_CLIENT_VERIFY): {why}");
    }
    for d in &unexplained {
        eprintln!("nginx-compat: DIFFERS: {d}");
    }
    assert!(
        unexplained.is_empty(),
        "{} verdicts differ from Apache's without a known cause; server log:\n{}",
        unexplained.len(),
        sslrequire.log_lines(" error=").join("\n")
    );
    assert!(pairs > 1000 && agree > pairs * 9 / 10, "{agree} of {pairs}");
}

// --- mail and HTTPS through nginx ---------------------------------------------

/// A dummy mail backend (IMAP, POP3 or SMTP) that accepts everything, as
/// mail-reference/nginx/servers.py: nginx hands it the client after
/// `auth_http` allowed it.
fn backend(kind: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                let _ = serve_backend(kind, stream);
            });
        }
    });
    port
}

fn serve_backend(kind: &str, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = stream.try_clone()?;
    let r = BufReader::new(stream);
    let greeting = match kind {
        "imap" => "* OK backend ready\r\n",
        "pop3" => "+OK backend ready\r\n",
        _ => "220 backend ESMTP\r\n",
    };
    w.write_all(greeting.as_bytes())?;
    let (mut login_tag, mut data): (Option<String>, bool) = (None, false);
    for line in r.lines() {
        let line = line?;
        let reply = match kind {
            "imap" if line.ends_with('}') => {
                login_tag.get_or_insert_with(|| line.split(' ').next().unwrap_or("").to_string());
                "+ go ahead\r\n".to_string()
            }
            "imap" if login_tag.is_some() => {
                format!("{} OK LOGIN completed\r\n", login_tag.take().unwrap())
            }
            "imap" => {
                let mut p = line.split(' ');
                let (tag, cmd) = (
                    p.next().unwrap_or(""),
                    p.next().unwrap_or("").to_ascii_uppercase(),
                );
                if cmd == "LOGOUT" {
                    w.write_all(format!("* BYE\r\n{tag} OK LOGOUT completed\r\n").as_bytes())?;
                    return Ok(());
                }
                format!("{tag} OK {cmd} completed\r\n")
            }
            "pop3" => {
                let cmd = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                if cmd == "QUIT" {
                    w.write_all(b"+OK bye\r\n")?;
                    return Ok(());
                }
                if matches!(cmd.as_str(), "LIST" | "UIDL" | "CAPA") {
                    "+OK\r\n.\r\n"
                } else {
                    "+OK\r\n"
                }
                .to_string()
            }
            _ if data => {
                if line == "." {
                    data = false;
                    "250 queued\r\n".to_string()
                } else {
                    continue;
                }
            }
            _ => match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                Some("EHLO") => "250-backend\r\n250 8BITMIME\r\n".to_string(),
                Some("DATA") => {
                    data = true;
                    "354 go\r\n".to_string()
                }
                Some("QUIT") => {
                    w.write_all(b"221 bye\r\n")?;
                    return Ok(());
                }
                _ => "250 OK\r\n".to_string(),
            },
        };
        w.write_all(reply.as_bytes())?;
    }
    Ok(())
}

fn certs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apache-2.4.71/certs")
}

/// A client run: its exit code and what it printed.
struct Run {
    ok: bool,
    transcript: String,
}

fn run(cmd: &mut Command, stdin: &str) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    // s_client reads its commands as the server answers: feed them slowly.
    let feeder = std::thread::spawn(move || {
        for line in stdin.lines() {
            std::thread::sleep(Duration::from_millis(300));
            let _ = input.write_all(format!("{line}\n").as_bytes());
        }
        std::thread::sleep(Duration::from_millis(500));
    });
    let out = child.wait_with_output().unwrap();
    let _ = feeder.join();
    Run {
        ok: out.status.success(),
        transcript: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn curl(cert: &str, user: &str, url: &str, extra: &[&str], port: u16) -> Command {
    let c = certs_dir();
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-v", "--max-time", "15", "--resolve"])
        .arg(format!("localhost:{port}:127.0.0.1"))
        .arg("--cacert")
        .arg(c.join("root-ca.crt"));
    if cert != "none" {
        cmd.arg("--cert").arg(c.join(format!("{cert}-chain.crt")));
        cmd.arg("--key").arg(c.join(format!("{cert}.key")));
    }
    if !user.is_empty() {
        cmd.args(["--user", &format!("{user}:p@ss w%rd")]);
    }
    cmd.args(extra).arg(url);
    cmd
}

fn s_client(cert: &str, port: u16, starttls: &str) -> Command {
    let c = certs_dir();
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-servername",
        "localhost",
    ])
    .arg("-CAfile")
    .arg(c.join("root-ca.crt"))
    .args([
        "-brief",
        "-nocommands",
        "-ign_eof",
        "-crlf",
        "-starttls",
        starttls,
    ]);
    if cert != "none" {
        cmd.arg("-cert").arg(c.join(format!("{cert}.crt")));
        cmd.arg("-key").arg(c.join(format!("{cert}.key")));
        cmd.arg("-cert_chain").arg(c.join("int-ca.crt"));
    }
    cmd
}

#[test]
fn mail_and_https_through_nginx() {
    let label = "nginx-live";
    let Some(nginx_bin) = nginx::find_or_skip(label) else {
        return;
    };
    let module = match nginx::mail_module() {
        Ok(m) => m,
        Err(why) => return nginx::skip(label, &why),
    };
    for tool in ["curl", "openssl"] {
        if Command::new(tool).arg("--version").output().is_err()
            && Command::new(tool).arg("version").output().is_err()
        {
            return nginx::skip(label, &format!("no `{tool}`"));
        }
    }
    let (imap_be, pop3_be, smtp_be) = (backend("imap"), backend("pop3"), backend("smtp"));
    let ports: BTreeMap<&str, u16> = [
        "imaps",
        "imap",
        "pop3s",
        "pop3",
        "smtp",
        "smtps",
        "imaps-names",
        "https",
    ]
    .into_iter()
    .map(|n| (n, free_port()))
    .collect();
    let policy = format!(
        r#"default = "OK"
[backends]
imap = "127.0.0.1:{imap_be}"
pop3 = "127.0.0.1:{pop3_be}"
smtp = "127.0.0.1:{smtp_be}"

[[rule]]
name = "imap-staff"
protocols = ["imap"]
require = '%{{SSL_CLIENT_VERIFY}} == "SUCCESS" && %{{SSL_CLIENT_S_DN_O}} == "Snake Oil, Ltd." && %{{SSL_PROTOCOL}} =~ /^TLSv1\.[23]$/'
deny = "DENY certificate not accepted"

[[rule]]
name = "imap-security-port"
protocols = ["imap"]
require = '%{{SERVER_PORT}} != "{names}" || %{{SSL_CLIENT_S_DN_OU_1}} == "Security"'
deny = "DENY security staff only"

[[rule]]
name = "pop3-zoe"
protocols = ["pop3"]
require = '%{{SSL_CLIENT_VERIFY}} == "SUCCESS" && %{{SSL_CLIENT_S_DN_CN}} == "Zoë Ünïcode"'

[[rule]]
name = "smtp-verified"
protocols = ["smtp"]
require = '%{{SSL_CLIENT_VERIFY}} == "SUCCESS" && %{{SSL_CLIENT_I_DN_CN}} == "Oracle Test Intermediate CA"'
deny = "DENY 550 5.7.1 client certificate required"

[[rule]]
name = "https-admin"
protocols = ["http"]
locations = ["/admin/"]
require = '%{{SSL_CLIENT_VERIFY}} == "SUCCESS" && %{{SSL_CLIENT_S_DN_UID}} == "alice" && %{{REQUEST_URI}} =~ m#^/admin/#'
deny = "DENY alice only"
"#,
        names = ports["imaps-names"]
    );
    let dir = util::scratch("nginx-live");
    let sslrequire = util::Server::start_as("nginx", &dir, &policy, &[]);
    let work = WorkDir::new();
    let prefix = work.path("nginx");
    let c = certs_dir();
    let cert = |f: &str| c.join(f).display().to_string();
    let mut conf = preamble(&prefix, &format!("load_module {};\n", module.display()));
    conf.push_str(&format!(
        "  upstream sslrequire {{ server 127.0.0.1:{}; keepalive 4; }}\n  server {{\n    listen 127.0.0.1:{} ssl;\n    server_name localhost;\n    ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_client_certificate {};\n    ssl_verify_client optional_no_ca;\n    ssl_verify_depth 3;\n    root {};\n    location / {{\n      auth_request /_sslrequire;\n      try_files /ok.txt =404;\n    }}\n{}  }}\n}}\n",
        sslrequire.port,
        ports["https"],
        cert("server-chain.crt"),
        cert("server.key"),
        cert("root-ca.crt"),
        work.path("htdocs").display(),
        auth_location("sslrequire"),
    ));
    work.write("htdocs/ok.txt", "ok\n", 0o644);
    conf.push_str(&format!(
        "mail {{\n  server_name mail.test;\n  auth_http http://127.0.0.1:{}/auth;\n  auth_http_pass_client_cert on;\n  proxy_pass_error_message on;\n  ssl_certificate {};\n  ssl_certificate_key {};\n  ssl_client_certificate {};\n  ssl_verify_depth 3;\n  ssl_protocols TLSv1.2 TLSv1.3;\n  ssl_verify_client optional_no_ca;\n  ssl_session_cache off;\n  imap_auth plain login;\n  pop3_auth plain;\n  smtp_auth none plain login;\n  xclient off;\n",
        sslrequire.port,
        cert("server-chain.crt"),
        cert("server.key"),
        cert("root-ca.crt"),
    ));
    for (name, proto, tls, extra) in [
        ("imaps", "imap", " ssl", ""),
        ("imap", "imap", "", " starttls on;"),
        ("pop3s", "pop3", " ssl", ""),
        ("pop3", "pop3", "", " starttls on;"),
        ("smtp", "smtp", "", " starttls on;"),
        ("smtps", "smtp", " ssl", " smtp_auth plain login;"),
        (
            "imaps-names",
            "imap",
            " ssl",
            " auth_http_pass_client_cert off;",
        ),
    ] {
        conf.push_str(&format!(
            "  server {{ listen 127.0.0.1:{}{tls}; protocol {proto};{extra} auth_http_header X-SSLRequire-Server-Port {}; }}\n",
            ports[name], ports[name]
        ));
    }
    conf.push_str("}\n");
    let _nginx = nginx::Nginx::start(&nginx_bin, &prefix, &conf, ports["https"])
        .unwrap_or_else(|e| panic!("{label}: nginx did not start: {e}"));
    let msg = work.write("data/msg.eml", "Subject: test\r\n\r\nhello\r\n", 0o644);
    let msg = msg.display().to_string();

    // (what, cert, user, expected allowed, the client)
    type Case = (&'static str, &'static str, bool, Box<dyn Fn() -> Run>);
    let p = ports.clone();
    let mut cases: Vec<Case> = Vec::new();
    for (cert, allowed) in [
        ("alice", true),
        ("carol", true),
        ("bob", false),
        ("rogue", false),
        ("none", false),
    ] {
        let port = p["imaps"];
        cases.push((
            "imaps/curl",
            cert,
            allowed,
            Box::new(move || {
                run(
                    &mut curl(cert, cert, &format!("imaps://localhost:{port}/"), &[], port),
                    "",
                )
            }),
        ));
    }
    for (cert, allowed) in [("alice", true), ("carol", false)] {
        let port = p["imaps-names"];
        cases.push((
            "imaps-names-only/curl",
            cert,
            allowed,
            Box::new(move || {
                run(
                    &mut curl(
                        cert,
                        cert,
                        &format!("imaps://localhost:{port}/"),
                        &["--tls-max", "1.2"],
                        port,
                    ),
                    "",
                )
            }),
        ));
    }
    for (cert, allowed) in [("alice", true), ("bob", false)] {
        let port = p["imap"];
        cases.push((
            "imap-starttls/openssl",
            cert,
            allowed,
            Box::new(move || {
                let mut r = run(
                    &mut s_client(cert, port, "imap"),
                    &format!("a1 LOGIN \"{cert}\" \"p@ss w%rd\"\na2 LOGOUT"),
                );
                r.ok = r.transcript.contains("a1 OK");
                r
            }),
        ));
    }
    for (cert, allowed) in [("zoe", true), ("alice", false)] {
        let port = p["pop3s"];
        cases.push((
            "pop3s/curl",
            cert,
            allowed,
            Box::new(move || {
                run(
                    &mut curl(cert, cert, &format!("pop3s://localhost:{port}/"), &[], port),
                    "",
                )
            }),
        ));
        let port = p["pop3"];
        cases.push((
            "pop3-starttls/openssl",
            cert,
            allowed,
            Box::new(move || {
                let mut r = run(
                    &mut s_client(cert, port, "pop3"),
                    &format!("USER {cert}\nPASS p@ss w%rd\nQUIT"),
                );
                r.ok = r.transcript.contains("+OK bye");
                r
            }),
        ));
    }
    for (cert, allowed) in [("alice", true), ("selfsigned", false)] {
        let port = p["smtp"];
        let msg = msg.clone();
        cases.push((
            "smtp-starttls/curl",
            cert,
            allowed,
            Box::new(move || {
                run(
                    &mut curl(
                        cert,
                        cert,
                        &format!("smtp://localhost:{port}/client.test"),
                        &[
                            "--ssl-reqd",
                            "--login-options",
                            "AUTH=PLAIN",
                            "--mail-from",
                            "sender@example.com",
                            "--mail-rcpt",
                            "rcpt@example.net",
                            "-T",
                            &msg,
                        ],
                        port,
                    ),
                    "",
                )
            }),
        ));
    }
    for (cert, allowed) in [("bob", true), ("none", false)] {
        let port = p["smtps"];
        let msg = msg.clone();
        cases.push((
            "smtps/curl",
            cert,
            allowed,
            Box::new(move || {
                run(
                    &mut curl(
                        cert,
                        cert,
                        &format!("smtps://localhost:{port}/client.test"),
                        &[
                            "--login-options",
                            "AUTH=LOGIN",
                            "--mail-from",
                            "sender@example.com",
                            "--mail-rcpt",
                            "rcpt@example.net",
                            "-T",
                            &msg,
                        ],
                        port,
                    ),
                    "",
                )
            }),
        ));
    }
    for (path, cert, allowed) in [
        ("/admin/x", "alice", true),
        ("/admin/x", "bob", false),
        ("/admin/x", "rogue", false),
        ("/public/x", "bob", true),
    ] {
        let port = p["https"];
        cases.push((
            "https/curl",
            cert,
            allowed,
            Box::new(move || {
                let mut r = run(
                    &mut curl(
                        cert,
                        "",
                        &format!("https://localhost:{port}{path}"),
                        &["-o", "/dev/null", "-w", "status=%{http_code}"],
                        port,
                    ),
                    "",
                );
                r.ok = r.transcript.contains("status=200");
                r
            }),
        ));
    }
    let mut wrong = Vec::new();
    let total = cases.len();
    for (what, cert, allowed, client) in cases {
        let before = sslrequire.log_lines(" verdict=").len();
        let r = client();
        let decisions = sslrequire.log_lines(" verdict=");
        let decided = decisions.len() > before;
        if r.ok != allowed || !decided {
            wrong.push(format!(
                "{what} {cert}: expected {}, got {} (sslrequire decided: {decided}; {})\n{}",
                if allowed { "allowed" } else { "refused" },
                if r.ok { "allowed" } else { "refused" },
                decisions.last().cloned().unwrap_or_default(),
                r.transcript
                    .lines()
                    .rev()
                    .take(12)
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {total} clients:\n{}",
        wrong.len(),
        wrong.join("\n\n")
    );
    eprintln!("{label}: {total} client runs (IMAP, POP3, SMTP over implicit TLS and STARTTLS; HTTPS) allowed or refused as the policy says");
}
