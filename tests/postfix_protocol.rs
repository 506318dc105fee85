//! `sslrequire serve postfix` over TCP, without Postfix: every recorded
//! request of the mail reference (mail-reference/postfix/requests.jsonl)
//! against a policy, malformed input, SIGHUP reload, and refused files.

mod postfix_util;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use postfix_util::*;

const ERROR_ANSWER: &str = "DEFER_IF_PERMIT 4.7.0 policy evaluation error";

#[test]
fn every_recorded_request_is_answered_as_the_policy_says() {
    let dir = scratch("recorded");
    let server = Server::start(&dir, &test_policy(), &[]);
    let sessions = recorded();
    assert_eq!(sessions.len(), 37, "requests.jsonl has 37 sessions");
    // Four connections at once, each carrying many requests (as Postfix
    // reuses its connection).
    let chunks: Vec<Vec<&Recorded>> = (0..4)
        .map(|k| sessions.iter().skip(k).step_by(4).collect())
        .collect();
    let mut checked = 0;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let server = &server;
                scope.spawn(move || {
                    let mut s = server.connect();
                    let mut n = 0;
                    for session in chunk {
                        assert_eq!(session.requests.len(), 2, "{}", session.case);
                        for attrs in &session.requests {
                            let get = |k: &str| {
                                attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
                            };
                            let state = get("protocol_state").unwrap();
                            let tls = !get("encryption_protocol").unwrap().is_empty();
                            let full_chain = session.case.ends_with("/openssl");
                            let want = expected(state, tls, &session.cert, full_chain);
                            let got = ask(&mut s, attrs);
                            assert_eq!(
                                got, want,
                                "{} {} {} at {state}",
                                session.case, session.cert, session.digest
                            );
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        for h in handles {
            checked += h.join().unwrap();
        }
    });
    assert_eq!(checked, 74);
    // One decision line per request, naming the rule that answered.
    let lines = server.wait_log_count(" verdict=", 74, Duration::from_secs(5));
    assert!(lines.is_some(), "74 decision lines:\n{}", server.log_text());
    let alice = server.log_lines("ccert=Alice+20Example");
    assert!(alice
        .iter()
        .any(|l| l.contains("state=RCPT") && l.contains("rule=staff verdict=allow action=\"OK\"")));
    let rogue = server.log_lines("rule=untrusted verdict=deny");
    assert!(!rogue.is_empty());
}

fn request(state: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut attrs = pairs(&[
        ("request", "smtpd_access_policy"),
        ("protocol_state", state),
        ("client_address", "127.0.0.1"),
        ("sender", "sender@example.com"),
        ("encryption_protocol", "TLSv1.3"),
        ("encryption_cipher", "TLS_AES_256_GCM_SHA384"),
        ("encryption_keysize", "256"),
    ]);
    attrs.extend(pairs(extra));
    attrs
}

fn alice() -> Vec<(String, String)> {
    request(
        "RCPT",
        &[
            ("ccert_subject", "Alice+20Example"),
            ("ccert_issuer", "Oracle+20Test+20Intermediate+20CA"),
            ("ccert_fingerprint", "AA:BB"),
        ],
    )
}

/// A connection that stays open through all the malformed ones must still
/// be answered, and the process must be alive.
fn still_serving(server: &mut Server, keeper: &mut std::net::TcpStream) {
    assert_eq!(ask(keeper, &alice()), "OK");
    assert!(server.alive(), "the server died:\n{}", server.log_text());
}

#[test]
fn malformed_requests_get_a_safe_answer_and_the_server_stays() {
    let dir = scratch("malformed");
    let mut server = Server::start(&dir, &test_policy(), &["--max-attributes", "64"]);
    let mut keeper = server.connect();
    still_serving(&mut server, &mut keeper);

    // No empty line before EOF: no answer, the connection closes, a log line.
    let mut s = server.connect();
    s.write_all(b"request=smtpd_access_policy\nprotocol_state=RCPT\n")
        .unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(read_answer(&mut s), None);
    assert!(server
        .wait_log("in the middle of a request", Duration::from_secs(5))
        .is_some());
    still_serving(&mut server, &mut keeper);

    // A huge line (1 MiB, no newline): the safe answer, then closed.
    let mut s = server.connect();
    let huge = vec![b'x'; 1 << 20];
    let _ = s.write_all(b"request=");
    let _ = s.write_all(&huge);
    assert_eq!(read_answer(&mut s).as_deref(), Some(ERROR_ANSWER));
    assert_eq!(read_answer(&mut s), None);
    assert!(server
        .wait_log("longer than 4096 bytes", Duration::from_secs(5))
        .is_some());
    still_serving(&mut server, &mut keeper);

    // Too many attributes: the safe answer, then closed.
    let mut s = server.connect();
    let mut many = Vec::new();
    for i in 0..1000 {
        many.extend_from_slice(format!("x{i}=y\n").as_bytes());
    }
    let _ = s.write_all(&many);
    assert_eq!(read_answer(&mut s).as_deref(), Some(ERROR_ANSWER));
    assert_eq!(read_answer(&mut s), None);
    assert!(server
        .wait_log("more than 64 attributes", Duration::from_secs(5))
        .is_some());
    still_serving(&mut server, &mut keeper);

    // Framing intact: non-UTF-8, a line without `=`, a bad attribute name,
    // bad xtext, no request=, another request type: each the safe answer,
    // and the same connection goes on to answer a good request.
    let mut s = server.connect();
    let mut bytes = b"request=smtpd_access_policy\nsender=\xff\xfe\n\n".to_vec();
    s.write_all(&bytes).unwrap();
    assert_eq!(read_answer(&mut s).as_deref(), Some(ERROR_ANSWER));
    bytes = b"request=smtpd_access_policy\nno equals sign\n\n".to_vec();
    s.write_all(&bytes).unwrap();
    assert_eq!(read_answer(&mut s).as_deref(), Some(ERROR_ANSWER));
    let bad_name = request("RCPT", &[("bad name", "x")]);
    assert_eq!(ask(&mut s, &bad_name), ERROR_ANSWER);
    let bad_xtext = request("RCPT", &[("ccert_subject", "Alice+2")]);
    assert_eq!(ask(&mut s, &bad_xtext), ERROR_ANSWER);
    let no_request: Vec<_> = alice().into_iter().skip(1).collect();
    assert_eq!(ask(&mut s, &no_request), ERROR_ANSWER);
    let mut other = alice();
    other[0].1 = "junk".into();
    assert_eq!(ask(&mut s, &other), ERROR_ANSWER);
    assert_eq!(ask(&mut s, &alice()), "OK");
    for needle in [
        "is not UTF-8",
        "is not name=value",
        "not a Postfix attribute name",
        "is not xtext",
        "no request= attribute",
        "request=junk",
    ] {
        assert!(
            server.wait_log(needle, Duration::from_secs(5)).is_some(),
            "log line with {needle:?}:\n{}",
            server.log_text()
        );
    }

    // Attributes of later Postfix versions are accepted and readable.
    let newer = {
        let mut a = alice();
        a.push(("mail_version".into(), "3.8.4".into()));
        a.push(("compatibility_level".into(), "3.6".into()));
        a
    };
    assert_eq!(ask(&mut s, &newer), "OK");
    // CRLF line ends are read too.
    let crlf = String::from_utf8(encode(&alice()))
        .unwrap()
        .replace('\n', "\r\n");
    s.write_all(crlf.as_bytes()).unwrap();
    assert_eq!(read_answer(&mut s).as_deref(), Some("OK"));
    still_serving(&mut server, &mut keeper);
}

#[test]
fn idle_connections_are_closed() {
    let dir = scratch("idle");
    let mut server = Server::start(&dir, &test_policy(), &["--idle-timeout", "1"]);
    let mut idle = server.connect();
    assert_eq!(ask(&mut idle, &alice()), "OK");
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(read_answer(&mut idle), None, "closed after 1 s idle");
    assert!(server
        .wait_log("idle for 1 s", Duration::from_secs(5))
        .is_some());
    let mut fresh = server.connect();
    assert_eq!(ask(&mut fresh, &alice()), "OK");
    assert!(server.alive());
}

#[test]
fn evaluation_errors_answer_on_error_and_are_logged() {
    let dir = scratch("evalerror");
    let policy = r#"
on_error = "DEFER 4.3.0 try again later"
[[rule]]
name = "reads-a-file"
require = 'file("/etc/hostname") eq ""'
allow = "OK"
"#;
    let server = Server::start(&dir, policy, &[]);
    let mut s = server.connect();
    assert_eq!(ask(&mut s, &alice()), "DEFER 4.3.0 try again later");
    let line = server
        .wait_log("verdict=error", Duration::from_secs(5))
        .unwrap();
    assert!(
        line.contains("rule=reads-a-file") && line.contains("error=\"E303"),
        "{line}"
    );
    // The connection goes on.
    assert_eq!(ask(&mut s, &alice()), "DEFER 4.3.0 try again later");
}

#[test]
fn sighup_reloads_a_good_file_and_refuses_a_bad_one() {
    let dir = scratch("reload");
    let allow_all = "[[rule]]\nname = \"a\"\nrequire = 'true'\nallow = \"OK\"\n";
    let mut server = Server::start(&dir, allow_all, &[]);
    let mut s = server.connect();
    assert_eq!(ask(&mut s, &alice()), "OK");

    std::fs::write(
        &server.policy,
        "[[rule]]\nname = \"broken\"\nrequire = '%{SSL_CLIENT_S_DN_CN} eq'\n",
    )
    .unwrap();
    server.signal("HUP");
    let refused = server
        .wait_log("reload refused", Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no refusal:\n{}", server.log_text()));
    assert!(refused.contains("rule 1 (`broken`)"), "{refused}");
    assert!(server.log_text().contains('^'), "the caret diagnostic");
    assert_eq!(ask(&mut s, &alice()), "OK", "the old policy stays");

    std::fs::write(
        &server.policy,
        "[[rule]]\nname = \"b\"\nrequire = '%{SSL_CLIENT_S_DN_CN} eq \"bob\"'\ndeny = \"REJECT 5.7.1 bob only\"\n",
    )
    .unwrap();
    server.signal("HUP");
    assert!(server
        .wait_log("reloaded:", Duration::from_secs(10))
        .is_some());
    // The same connection, now under the new policy.
    assert_eq!(ask(&mut s, &alice()), "REJECT 5.7.1 bob only");
    let mut fresh = server.connect();
    assert_eq!(ask(&mut fresh, &alice()), "REJECT 5.7.1 bob only");
    assert!(server.alive());
}

fn check(policy: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = scratch("check");
    let path = dir.join("p.toml");
    std::fs::write(&path, policy).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "postfix", "--check", "--policy"])
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_policy_files_are_refused_with_a_clear_error() {
    let (code, out, _) = check(&test_policy(), &[]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("ok: policy file ") && out.contains("6 rules compile"),
        "{out}"
    );
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "[[rule]]\nname = \"x\"\nrequire = '%{SSL_CLIENT_S_DN_CN} eq'\n",
            &[],
            &["rule 1 (`x`)", "does not compile", "^", "E1"],
        ),
        (
            "[[rule]]\nname = \"x\"\nrequire = 'true'\nstates = [\"RCTP\"]\n",
            &[],
            &["`RCTP` is not a Postfix protocol_state", "RCPT"],
        ),
        (
            "[[rule]]\nname = \"x\"\nrequire = 'true'\nallow = \"ACCEPT\"\n",
            &[],
            &["allow", "`ACCEPT` is not a Postfix action"],
        ),
        (
            "[[rule]]\nname = \"x\"\nrequire = 'true'\nlisteners = [\"submission\"]\n",
            &[],
            &["no listener is named `submission`"],
        ),
        (
            "dialect = \"3\"\n[[rule]]\nname = \"x\"\nrequire = 'true'\n",
            &[],
            &["dialect"],
        ),
        (
            "[[rule]]\nname = \"x\"\nrequre = 'true'\n",
            &[],
            &["not a valid policy", "requre"],
        ),
        ("dialect = \"2.4\"\n", &[], &["no rules"]),
        (
            "[[rule]]\nname = \"x\"\nrequire = 'true'\n[[rule]]\nname = \"x\"\nrequire = 'true'\n",
            &[],
            &["names must be unique"],
        ),
    ];
    for (policy, extra, needles) in cases {
        let (code, _, err) = check(policy, extra);
        assert_eq!(code, 2, "{policy}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{policy}: {n:?} not in\n{err}");
        }
    }
    // A listener named on the command line may be used.
    let (code, _, err) = check(
        "[[rule]]\nname = \"x\"\nrequire = 'true'\nlisteners = [\"submission\"]\n",
        &["--listen", "submission=127.0.0.1:0"],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn rules_apply_per_state_and_per_listener() {
    let dir = scratch("listeners");
    let policy = r#"
[[rule]]
name = "submission-needs-cert"
listeners = ["submission"]
states = ["rcpt"]
require = '%{SSL_CLIENT_VERIFY} eq "SUCCESS"'
deny = "REJECT 5.7.1 certificate required on submission"
"#;
    // Two listeners: the default one and `submission`.
    let server = Server::start(&dir, policy, &["--listen", "submission=127.0.0.1:0"]);
    let sub_line = server
        .wait_log("(listener `submission`)", Duration::from_secs(10))
        .unwrap();
    let sub_port: u16 = sub_line
        .split("listening on 127.0.0.1:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let nocert = request("RCPT", &[]);
    let mut other = server.connect();
    assert_eq!(ask(&mut other, &nocert), "DUNNO");
    let mut sub = std::net::TcpStream::connect(("127.0.0.1", sub_port)).unwrap();
    assert_eq!(
        ask(&mut sub, &nocert),
        "REJECT 5.7.1 certificate required on submission"
    );
    assert_eq!(ask(&mut sub, &request("MAIL", &[])), "DUNNO");
    assert_eq!(ask(&mut sub, &alice()), "DUNNO");
}

#[test]
fn the_readme_policy_compiles() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme
        .find("### The policy file")
        .expect("README: Postfix policy file")..];
    let start = section.find("```toml\n").unwrap() + "```toml\n".len();
    let policy = &section[start..start + section[start..].find("```").unwrap()];
    let (code, out, err) = check(policy, &["--listen", "smtp=127.0.0.1:10040"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 rules compile"), "{out}");
}

#[test]
fn connections_beyond_the_limit_are_closed_and_sigterm_stops_cleanly() {
    let dir = scratch("limit");
    let mut server = Server::start(&dir, &test_policy(), &["--max-connections", "1"]);
    let mut first = server.connect();
    assert_eq!(ask(&mut first, &alice()), "OK");
    let mut second = server.connect();
    let _ = second.write_all(&encode(&alice()));
    assert_eq!(read_answer(&mut second), None, "closed: over the limit");
    assert!(server
        .wait_log("too many connections", Duration::from_secs(5))
        .is_some());
    assert_eq!(ask(&mut first, &alice()), "OK", "the first is unaffected");
    drop(first);
    // Its slot is free again.
    let end = std::time::Instant::now() + Duration::from_secs(5);
    let answer = loop {
        let mut third = server.connect();
        let _ = third.write_all(&encode(&alice()));
        match read_answer(&mut third) {
            Some(a) => break a,
            None if std::time::Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(50))
            }
            None => panic!("the slot was never freed:\n{}", server.log_text()),
        }
    };
    assert_eq!(answer, "OK");
    server.signal("TERM");
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", server.log_text());
    assert!(server
        .wait_log("stopping", Duration::from_secs(5))
        .is_some());
}
