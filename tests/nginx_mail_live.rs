//! `sslrequire serve nginx` behind a real nginx (issue 13): nginx's mail
//! proxy (`auth_http`) and an HTTPS server (`auth_request`, the README's
//! snippet) in front of the server, with the certificates of
//! tests/apache-2.4.71/certs and real clients (curl, `openssl s_client`):
//! IMAP, POP3 and SMTP logins over implicit TLS and STARTTLS, and HTTPS
//! requests, allowed or refused as the policy says — per protocol, per
//! listener port (`auth_http_header`), per URI prefix, with and without
//! `auth_http_pass_client_cert`.
//!
//! nginx runs from a temporary prefix with its own configuration on
//! 127.0.0.1, stopped by its own PID (also on panic). Without nginx, its
//! mail module, curl or openssl the test is skipped with a loud message,
//! except under CI=true, where that fails.

#[path = "support/apache_live/mod.rs"]
mod live;
#[path = "support/nginx.rs"]
mod nginx;
#[path = "postfix_util/mod.rs"]
mod util;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use live::server::{free_port, WorkDir};

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
    let mut conf = nginx::preamble(&prefix, &format!("load_module {};\n", module.display()));
    conf.push_str(&format!(
        "  upstream sslrequire {{ server 127.0.0.1:{}; keepalive 4; }}\n  server {{\n    listen 127.0.0.1:{} ssl;\n    server_name localhost;\n    ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_client_certificate {};\n    ssl_verify_client optional_no_ca;\n    ssl_verify_depth 3;\n    root {};\n    location / {{\n      auth_request /_sslrequire;\n      try_files /ok.txt =404;\n    }}\n{}  }}\n}}\n",
        sslrequire.port,
        ports["https"],
        cert("server-chain.crt"),
        cert("server.key"),
        cert("root-ca.crt"),
        work.path("htdocs").display(),
        nginx::auth_location("sslrequire"),
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
