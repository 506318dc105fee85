//! The CLI's commands run as the real binary: explain, why, check -f/--json,
//! eval --json and audit (including a 100 000-line audit, parallel vs
//! single-threaded).

use std::io::Write;
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sslrequire"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sslrequire");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with_stdin(args, None)
}

fn temp(name: &str, content: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("sslrequire-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

fn session(name: &str) -> String {
    format!("{}/tests/sessions/{name}", env!("CARGO_MANIFEST_DIR"))
}

const MANUAL: &str = r#"%{SSL_CIPHER} !~ m/^(EXP|NULL)-/ and %{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd." and %{SSL_CLIENT_S_DN_OU} in {"Staff", "CA", "Dev"} or %{REMOTE_ADDR} =~ m/^192\.76\.162\./"#;

#[test]
fn explain_shows_precedence_variables_and_bytecode() {
    let r = run(&["explain", MANUAL]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\n  (%{SSL_CIPHER} !~ m/^(EXP|NULL)-/ && %{SSL_CLIENT_S_DN_O} == \"Snake Oil, Ltd.\" && %{SSL_CLIENT_S_DN_OU} in {\"Staff\", \"CA\", \"Dev\"}) || %{REMOTE_ADDR} =~ m/^192\\.76\\.162\\./\n"), "{}", r.stdout);
    assert!(r.stdout.contains(
        "variables read:\n  SSL_CIPHER\n  SSL_CLIENT_S_DN_O\n  SSL_CLIENT_S_DN_OU\n  REMOTE_ADDR\n"
    ));
    assert!(
        r.stdout
            .contains("0000  nomatch  %{SSL_CIPHER}, m/^(EXP|NULL)-/"),
        "{}",
        r.stdout
    );
    let r = run(&["explain", "%{NOPE} == 1"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("E200"));
}

#[test]
fn why_names_the_deciding_test() {
    let r = run(&[
        "why",
        "--session",
        &session("rogue-tls12.json"),
        r#"%{SSL_CLIENT_S_DN_CN} eq "Alice Example" and %{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU} in {"Staff"}"#,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(r#"deny: %{SSL_CLIENT_VERIFY} eq "SUCCESS" was false ("GENEROUS" vs "SUCCESS")"#)
    );
    assert!(
        r.stdout
            .contains("  true   %{SSL_CLIENT_S_DN_CN} eq \"Alice Example\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  skip   %{SSL_CLIENT_S_DN_OU} in {\"Staff\"}"),
        "{}",
        r.stdout
    );
    let r = run(&[
        "why",
        "--session",
        &session("alice-tls13.json"),
        r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("allow: "), "{}", r.stdout);
}

#[test]
fn check_file_and_json_diagnostics() {
    let file = temp(
        "policies.txt",
        b"# policies\n\ntrue\n%{SSL_CIPHER} in {\"a\",}\n  # indented comment\n%{NOPE} == 1\n",
    );
    let r = run(&["check", "-f", &file]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!("{file}:4:")) && r.stderr.contains(&format!("{file}:6:")),
        "{}",
        r.stderr
    );
    let r = run(&["check", "--json", "-f", &file]);
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["checked"].as_u64(), v["failed"].as_u64()),
        (Some(3), Some(2))
    );
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E100");
    assert_eq!(d["line"], 4);
    assert_eq!(d["column"], 23);
    assert_eq!(d["span"], serde_json::json!([22, 23]));
    assert_eq!(v["diagnostics"][1]["code"], "E200");
    let r = run(&["check", "--json", "true"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["failed"], 0);
    let r = run(&["check", "-f", "/nonexistent/policies.txt"]);
    assert_eq!(r.code, 2);
    assert!(r
        .stderr
        .contains("cannot read expression file /nonexistent/policies.txt"));
}

#[test]
fn eval_json() {
    let r = run(&["eval", "--json", "--var", "HTTPS=on", r#"%{HTTPS} == "on""#]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["result"].as_bool(), v["dialect"].as_str()),
        (Some(true), Some("2.4"))
    );
    let r = run(&["eval", "--json", "%{NOPE} == 1"]);
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["result"].is_null());
    assert_eq!(v["error"]["code"], "E200");
    assert_eq!(v["error"]["span"], serde_json::json!([2, 6]));
}

fn sessions_jsonl() -> String {
    let alice = std::fs::read_to_string(session("alice-tls13.json")).unwrap();
    let rogue = std::fs::read_to_string(session("rogue-tls12.json")).unwrap();
    let compact = |s: &str| {
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(s).unwrap()).unwrap()
    };
    format!(
        "{}\n{}\nnot json\n\n{{\"protocol\": \"TLSv9\"}}\n{{\"id\": \"plain\", \"vars\": {{\"REMOTE_ADDR\": \"192.76.162.9\"}}}}\n",
        compact(&alice),
        compact(&rogue)
    )
}

#[test]
fn audit_reports_each_session_and_goes_on_after_bad_lines() {
    let file = temp("day.jsonl", sessions_jsonl().as_bytes());
    let r = run(&["audit", "--sessions", &file, MANUAL]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", r.stdout);
    assert!(lines[0].starts_with("alice-tls13\tdeny\t"), "{}", lines[0]);
    assert!(lines[1].starts_with("rogue-tls12\tdeny\t"));
    assert!(
        lines[2].starts_with("3\terror\tline 3: field `(json)`"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("5\terror\tline 5: field `protocol`"),
        "{}",
        lines[3]
    );
    assert!(lines[4].starts_with("plain\tallow\t"));
    assert!(
        r.stderr
            .contains("audit: 5 sessions: 1 allow, 2 deny, 2 error;"),
        "{}",
        r.stderr
    );
    // --json lines.
    let r = run(&["audit", "--json", "--sessions", &file, MANUAL]);
    let rows: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["id"], "alice-tls13");
    assert_eq!(rows[2]["verdict"], "error");
    assert_eq!(rows[2]["line"], 3);
    // --compare shows only the changes.
    let r = run(&[
        "audit",
        "--sessions",
        &file,
        "--compare",
        r#"%{SSL_CLIENT_S_DN_CN} eq "Alice Example""#,
        MANUAL,
    ]);
    let changed: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| !l.contains("\terror\t"))
        .collect();
    assert_eq!(
        changed,
        [
            "alice-tls13\tdeny\twas allow",
            "rogue-tls12\tdeny\twas allow",
            "plain\tallow\twas deny"
        ]
    );
    assert!(
        r.stderr.contains("; 3 verdicts differ from --compare"),
        "{}",
        r.stderr
    );
    // stdin.
    let r = run_with_stdin(&["audit", "--sessions", "-", "true"], Some(b"{}\n{}\n"));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "1\tallow\t\n2\tallow\t\n"),
        "{}",
        r.stderr
    );
    // Missing file.
    let r = run(&["audit", "--sessions", "/nonexistent/x.jsonl", "true"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot read sessions file /nonexistent/x.jsonl"),
        "{}",
        r.stderr
    );
    // Unreadable: a directory opens but cannot be read.
    let dir = std::env::temp_dir();
    let r = run(&["audit", "--sessions", dir.to_str().unwrap(), "true"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("at line 1") && r.stderr.contains("directory"),
        "{}",
        r.stderr
    );
}

#[test]
fn audit_100k_lines_parallel_equals_single_threaded() {
    let mut text = String::with_capacity(100_000 * 90);
    for i in 0..100_000u32 {
        if i % 25_000 == 12_345 {
            text.push_str("{\"protocol\": \"TLSv9\"}\n");
            continue;
        }
        let addr = format!(
            "{}.{}.{}.{}",
            [10, 192, 172][i as usize % 3],
            i % 256,
            (i / 256) % 256,
            i % 7
        );
        let proto = if i % 2 == 0 { "TLSv1.3" } else { "TLSv1.2" };
        text.push_str(&format!("{{\"id\": \"s{i}\", \"protocol\": \"{proto}\", \"vars\": {{\"REMOTE_ADDR\": \"{addr}\"}}}}\n"));
    }
    let file = temp("100k.jsonl", text.as_bytes());
    let expr = r#"%{REMOTE_ADDR} -ipmatch "10.0.0.0/8" && %{SSL_PROTOCOL} == "TLSv1.3""#;
    let parallel = run(&["audit", "--jobs", "4", "--sessions", &file, expr]);
    let single = run(&["audit", "--jobs", "1", "--sessions", &file, expr]);
    assert_eq!(parallel.code, 2, "{}", parallel.stderr);
    assert_eq!(parallel.stdout.lines().count(), 100_000);
    assert!(
        parallel.stdout == single.stdout,
        "parallel and single-threaded outputs differ"
    );
    let errors: Vec<&str> = parallel
        .stdout
        .lines()
        .filter(|l| l.contains("\terror\t"))
        .collect();
    assert_eq!(errors.len(), 4);
    assert!(
        errors[0].starts_with("12346\terror\tline 12346: field `protocol`"),
        "{}",
        errors[0]
    );
    assert!(
        parallel.stderr.contains("audit: 100000 sessions: "),
        "{}",
        parallel.stderr
    );
}

/// Issue 11: one bad line of a capture is an error on that line; the audit
/// goes on.
#[test]
fn audit_survives_non_utf8_and_gigantic_lines() {
    let mut input = b"{}\n{\"vars\": {\"REMOTE_USER\": \"\xff\xfe\"}}\n".to_vec();
    // 17 MiB on one line: over the 16 MiB limit of a session line.
    input.extend(std::iter::repeat_n(b' ', 17 << 20));
    input.extend_from_slice(b"{}\n{}\n");
    let r = run_with_stdin(&["audit", "--sessions", "-", "true"], Some(&input));
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert_eq!(lines[0], "1\tallow\t");
    assert!(
        lines[1].starts_with("2\terror\tline 2: not UTF-8 (byte 26)"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("3\terror\tline 3: 17825794 bytes, over the"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "4\tallow\t");
    assert!(
        r.stderr
            .contains("audit: 4 sessions: 2 allow, 0 deny, 2 error;"),
        "{}",
        r.stderr
    );
}

/// Issue 11: `sslrequire … | head` ends quietly when `head` has gone.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::process::{Command, Stdio};
    let sessions: String = "{}\n".repeat(50_000);
    let file = std::env::temp_dir().join(format!("sslrequire-pipe-{}.jsonl", std::process::id()));
    std::fs::write(&file, sessions).unwrap();
    for args in [
        vec!["eval", "true"],
        vec!["vars", "--json"],
        vec!["audit", "--sessions", file.to_str().unwrap(), "true"],
        vec!["explain", "true"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sslrequire"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run sslrequire");
        // The reader goes away before reading anything (`| head -0`).
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
    std::fs::remove_file(&file).unwrap();
}
