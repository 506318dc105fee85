//! A real Postfix asks `sslrequire serve postfix` about real SMTP sessions.
//!
//! A private Postfix instance (its own config, queue and data directories
//! in a temporary directory; smtpd on 127.0.0.1, a free port;
//! `check_policy_service` at MAIL and RCPT pointing at the server started
//! here) gets one session per client certificate of the test PKI, sent by
//! `openssl s_client -starttls smtp` (full chain, TLS 1.3 and 1.2) and swaks
//! (leaf only), plus one without STARTTLS, exactly as the mail reference
//! recorded them. Each MAIL and RCPT must be accepted or refused as the
//! policy (tests/postfix_util: `test_policy`, `expected`) says.
//!
//! Needs root, /usr/sbin/postfix, openssl and swaks. Without them the test
//! is skipped with a loud message, except under CI=true, where it fails.
//! The machine's own Postfix and /etc are never used.

mod postfix_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use postfix_util::*;

const CLIENTS: [&str; 11] = [
    "none",
    "alice",
    "bob",
    "carol",
    "dave",
    "zoe",
    "rogue",
    "selfsigned",
    "bigserial",
    "expired",
    "notyet",
];

fn missing(what: &str) -> bool {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("postfix_live: {what}: required under CI=true (.ci/run installs postfix and swaks)");
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! postfix_live SKIPPED: {what}.\n\
         !! The real-Postfix test did NOT run (under CI=true this fails).\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    true
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The private Postfix instance; stopped (and its directory removed) on drop.
struct Postfix {
    dir: PathBuf,
    conf: PathBuf,
    port: u16,
}

impl Postfix {
    fn start(policy_port: u16) -> Postfix {
        let dir = std::env::temp_dir().join(format!(
            "sslrequire-postfix-live-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        let conf = dir.join("etc");
        for d in [&conf, &dir.join("queue"), &dir.join("data")] {
            std::fs::create_dir_all(d).unwrap();
        }
        run(Command::new("chmod").arg("755").arg(&dir));
        run(Command::new("chown").arg("postfix").arg(dir.join("data")));
        let port = free_port();
        let reference = reference();
        let main = std::fs::read_to_string(reference.join("main.cf.in"))
            .unwrap()
            .replace("@SCRATCH@", dir.to_str().unwrap())
            .replace("@CERTS@", certs().to_str().unwrap())
            .replace("@DIGEST@", "sha256")
            .replace(
                "inet:127.0.0.1:19100",
                &format!("inet:127.0.0.1:{policy_port}"),
            )
            // A DEFER_IF_PERMIT answer must reach the client with the
            // policy's own text, so a permit follows the policy service
            // (the template ends with `reject`); Postfix insists on
            // reject_unauth_destination in the relay restrictions.
            .replace(
                &format!("inet:127.0.0.1:{policy_port}, reject"),
                &format!(
                    "inet:127.0.0.1:{policy_port}, permit_mynetworks, reject_unauth_destination"
                ),
            );
        assert!(main.contains(&format!("127.0.0.1:{policy_port}, permit_mynetworks")));
        std::fs::write(conf.join("main.cf"), main).unwrap();
        let master = std::fs::read_to_string(reference.join("master.cf.in"))
            .unwrap()
            .replace("127.0.0.1:19525", &format!("127.0.0.1:{port}"));
        std::fs::write(conf.join("master.cf"), master).unwrap();
        let pf = Postfix { dir, conf, port };
        run(Command::new("postfix").arg("-c").arg(&pf.conf).arg("check"));
        run(Command::new("postfix").arg("-c").arg(&pf.conf).arg("start"));
        // Ready when smtpd greets.
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut b = [0u8; 64];
                if s.read(&mut b).is_ok_and(|n| b[..n].starts_with(b"220")) {
                    let _ = s.write_all(b"QUIT\r\n");
                    break;
                }
            }
            assert!(
                Instant::now() < end,
                "Postfix's smtpd never greeted on 127.0.0.1:{port}; its log:\n{}",
                pf.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        pf
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postfix.log")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .status();
        std::thread::sleep(Duration::from_millis(500));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One SMTP session as the mail reference drove it.
struct Session {
    case: &'static str,
    cert: &'static str,
    tls: bool,
    full_chain: bool,
}

/// Runs the client; its whole output.
fn drive(s: &Session, port: u16, scratch: &Path) -> String {
    let certs = certs();
    let crt = |n: &str| certs.join(format!("{n}.crt"));
    let key = |n: &str| certs.join(format!("{n}.key"));
    let mut cmd;
    let mut input = None;
    if s.case.contains("swaks") {
        cmd = Command::new("swaks");
        cmd.args(["--server", "127.0.0.1", "--port", &port.to_string()])
            .args(["--ehlo", "client.test", "--from", "sender@example.com"])
            .args(["--to", "rcpt@example.net", "--quit-after", "RCPT"])
            .args(["--timeout", "10"]);
        if s.tls {
            cmd.arg("--tls");
            if s.cert != "none" {
                // swaks loads only the leaf of the chain file.
                cmd.arg("--tls-cert")
                    .arg(certs.join(format!("{}-chain.crt", s.cert)))
                    .arg("--tls-key")
                    .arg(key(s.cert));
            }
        }
    } else {
        cmd = Command::new("openssl");
        cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-servername", "localhost", "-CAfile"])
            .arg(crt("root-ca"))
            .args(["-brief", "-ign_eof", "-crlf", "-starttls", "smtp"])
            .args(["-name", "client.test"]);
        if s.case.contains("tls1.2") {
            cmd.arg("-tls1_2");
        }
        if s.cert != "none" {
            cmd.arg("-cert")
                .arg(crt(s.cert))
                .arg("-key")
                .arg(key(s.cert));
            // The chain file without its leaf.
            let chain =
                std::fs::read_to_string(certs.join(format!("{}-chain.crt", s.cert))).unwrap();
            let end = "-----END CERTIFICATE-----";
            let rest: Vec<&str> = chain
                .split(end)
                .skip(1)
                .filter(|p| !p.trim().is_empty())
                .collect();
            if !rest.is_empty() {
                let extra =
                    scratch.join(format!("{}-{}-extra.crt", s.cert, s.case.replace('/', "_")));
                let text: String = rest
                    .iter()
                    .map(|p| format!("{}\n{end}\n", p.trim()))
                    .collect();
                std::fs::write(&extra, text).unwrap();
                cmd.arg("-cert_chain").arg(extra);
            }
        }
        input = Some(
            "EHLO client.test\nMAIL FROM:<sender@example.com>\nRCPT TO:<rcpt@example.net>\nQUIT\n",
        );
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    // One command at a time, paced as the mail reference's clients.py
    // (EHLO after STARTTLS, then MAIL, RCPT, QUIT): Postfix refuses
    // unannounced pipelining where smtpd_forbid_unauth_pipelining is on.
    let writer = std::thread::spawn(move || {
        if let Some(text) = input {
            for (i, line) in text.lines().enumerate() {
                std::thread::sleep(Duration::from_millis(if i == 0 { 1000 } else { 400 }));
                if stdin.write_all(format!("{line}\n").as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let end = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.wait();
    let _ = writer.join();
    reader.join().unwrap() + &err_reader.join().unwrap()
}

/// The SMTP reply to MAIL or RCPT in a client transcript: the line whose
/// reply names the address or says the command's success code.
fn reply<'a>(transcript: &'a str, address: &str, ok: &str) -> Option<&'a str> {
    transcript.lines().map(str::trim).find(|l| {
        let l = l.trim_start_matches(|c: char| "<~*- ".contains(c));
        l.len() > 4
            && l.as_bytes()[..3].iter().all(u8::is_ascii_digit)
            && (l.contains(&format!("<{address}>:")) || l.contains(ok))
    })
}

/// Whether Postfix's reply is what the policy's answer means: OK → 250;
/// REJECT/DEFER_IF_PERMIT → the policy's status code and text.
fn as_answered(reply: Option<&str>, answer: &str) -> bool {
    let Some(reply) = reply else { return false };
    let reply = reply.trim_start_matches(|c: char| "<~*- ".contains(c));
    match answer {
        "OK" => reply.starts_with("250 "),
        _ => {
            let mut words = answer.splitn(3, ' ');
            let (kind, status, text) = (
                words.next().unwrap(),
                words.next().unwrap(),
                words.next().unwrap(),
            );
            let code = if kind == "REJECT" { '5' } else { '4' };
            reply.starts_with(code) && reply.contains(status) && reply.ends_with(text)
        }
    }
}

#[test]
fn real_postfix_accepts_and_refuses_as_the_policy_says() {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !Path::new("/usr/sbin/postfix").exists() {
        missing("/usr/sbin/postfix is not installed (apt-get install postfix)");
        return;
    }
    if !is_root && missing("Postfix's master must be started as root") {
        return;
    }
    for tool in ["swaks", "openssl"] {
        if !have(tool) && missing(&format!("{tool} is not installed")) {
            return;
        }
    }
    let support = Command::new("swaks").arg("--support").output().unwrap();
    let tls = String::from_utf8_lossy(&support.stdout).contains("=== TLS supported");
    if !tls
        && missing(
            "swaks cannot speak TLS without Net::SSLeay (apt-get install libnet-ssleay-perl)",
        )
    {
        return;
    }
    let dir = scratch("live");
    let server = Server::start(&dir, &test_policy(), &[]);
    let postfix = Postfix::start(server.port);

    let mut sessions = Vec::new();
    for cert in CLIENTS {
        sessions.push(Session {
            case: "smtp-starttls/openssl",
            cert,
            tls: true,
            full_chain: true,
        });
        sessions.push(Session {
            case: "smtp-starttls/swaks",
            cert,
            tls: true,
            full_chain: false,
        });
    }
    for cert in ["alice", "bob", "zoe"] {
        sessions.push(Session {
            case: "smtp-starttls-tls1.2/openssl",
            cert,
            tls: true,
            full_chain: true,
        });
    }
    sessions.push(Session {
        case: "smtp-plaintext/swaks",
        cert: "none",
        tls: false,
        full_chain: false,
    });

    // Four sessions at a time.
    let transcripts: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<&Session>> = (0..4)
            .map(|k| sessions.iter().skip(k).step_by(4).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (port, dir) = (postfix.port, dir.clone());
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|s| (s as *const Session as usize, drive(s, port, &dir)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, String)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_by_key(|(p, _)| *p);
        all.into_iter().map(|(_, t)| t).collect()
    });

    let (mut same, mut differ, mut policy_requests) = (0, Vec::new(), 0);
    for (s, transcript) in sessions.iter().zip(&transcripts) {
        let mail_answer = expected("MAIL", s.tls, s.cert, s.full_chain);
        let mail = reply(transcript, "sender@example.com", "2.1.0 Ok");
        let mut ok = as_answered(mail, mail_answer);
        policy_requests += 1;
        if mail_answer == "OK" {
            let rcpt_answer = expected("RCPT", s.tls, s.cert, s.full_chain);
            let rcpt_line = reply(transcript, "rcpt@example.net", "2.1.5 Ok");
            ok &= as_answered(rcpt_line, rcpt_answer);
            policy_requests += 1;
            eprintln!(
                "{:<30} {:<10} MAIL {:?} RCPT {:?} ({})",
                s.case,
                s.cert,
                mail.unwrap_or("-"),
                rcpt_line.unwrap_or("-"),
                if ok { "as the policy says" } else { "DIFFERS" }
            );
            if !ok {
                differ.push(format!("{} {}: expected MAIL {mail_answer:?}, RCPT {rcpt_answer:?}; got MAIL {mail:?}, RCPT {rcpt_line:?}\n{transcript}", s.case, s.cert));
            }
        } else {
            eprintln!(
                "{:<30} {:<10} MAIL {:?} ({})",
                s.case,
                s.cert,
                mail.unwrap_or("-"),
                if ok { "as the policy says" } else { "DIFFERS" }
            );
            if !ok {
                differ.push(format!(
                    "{} {}: expected MAIL {mail_answer:?}; got {mail:?}\n{transcript}",
                    s.case, s.cert
                ));
            }
        }
        if ok {
            same += 1;
        }
    }
    println!(
        "postfix-policy: {} sessions, {same} as the policy says, {} differ",
        sessions.len(),
        differ.len()
    );
    eprintln!(
        "postfix-policy: {} sessions, {same} as the policy says, {} differ",
        sessions.len(),
        differ.len()
    );
    assert!(
        differ.is_empty(),
        "{} sessions differ from the policy:\n{}\n--- policy server log:\n{}\n--- Postfix log:\n{}",
        differ.len(),
        differ.join("\n"),
        server.log_text(),
        postfix.log()
    );
    // Postfix asked the server once per MAIL and RCPT, and each was logged.
    assert!(
        server
            .wait_log_count(" verdict=", policy_requests, Duration::from_secs(5))
            .is_some(),
        "{policy_requests} decisions expected in the server log:\n{}",
        server.log_text()
    );
    // Postfix's own view of trust agrees with the inference.
    let log = postfix.log();
    assert!(log.contains("Trusted TLS connection established"), "{log}");
    assert!(
        log.contains("Untrusted TLS connection established"),
        "{log}"
    );
}
