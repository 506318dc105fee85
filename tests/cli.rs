//! The CLI, run as a real binary: output and exit codes (0 true, 1 false,
//! 2 error).

use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_sslrequire"))
        .args(args)
        .output()
        .expect("run sslrequire");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

macro_rules! cli_test {
    ($name:ident, [$($arg:expr),*], $code:expr, $stdout:expr) => {
        #[test]
        fn $name() {
            let r = run(&[$($arg),*]);
            assert_eq!(r.code, $code, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
            assert_eq!(r.stdout, $stdout, "stderr: {}", r.stderr);
        }
    };
}

cli_test!(
    eval_true,
    [
        "eval",
        "--var",
        "SSL_CLIENT_S_DN_CN=alice",
        r#"%{SSL_CLIENT_S_DN_CN} eq "alice""#
    ],
    0,
    "true\n"
);
cli_test!(
    eval_false,
    ["eval", r#"%{SSL_CLIENT_S_DN_CN} eq "alice""#],
    1,
    "false\n"
);
cli_test!(
    eval_leading_dash_after_double_dash,
    ["eval", "--", "-1 < 5"],
    1,
    "false\n"
);
cli_test!(
    eval_dialect_22,
    ["eval", "--dialect", "2.2", r#"%{X} == """#],
    0,
    "true\n"
);
cli_test!(
    eval_now_fixes_time,
    [
        "eval",
        "--now",
        "2026-11-25T14:00:00+01:00",
        r#"%{TIME} == "20261125140000" && %{TIME_WDAY} == 3"#
    ],
    0,
    "true\n"
);
cli_test!(
    check_ok,
    ["check", "true", r#"%{SSL_CIPHER} =~ m/GCM/"#],
    0,
    "ok: 2 expressions compile\n"
);

#[test]
fn parse_error_shows_caret_and_exits_2() {
    let r = run(&["eval", r#"%{SSL_CIPHER} in {"a","#]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("\n                          ^\nerror[E100]: expected a word"),
        "{}",
        r.stderr
    );
}

#[test]
fn eval_error_denies_with_exit_2() {
    let r = run(&[
        "eval",
        "--file-root",
        "/",
        r#"file("/nonexistent/sslrequire") == """#,
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("error[E300]: cannot open file /nonexistent/sslrequire"),
        "{}",
        r.stderr
    );
}

#[test]
fn file_access_needs_a_root_and_stays_inside_it() {
    let dir = std::env::temp_dir().join(format!("sslrequire-root-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("inside")).unwrap();
    std::fs::write(dir.join("inside/user.txt"), "alice").unwrap();
    std::fs::write(dir.join("secret.txt"), "s3cret").unwrap();
    let root = dir.join("inside");
    let (root_s, file_s) = (root.to_str().unwrap(), root.join("user.txt"));
    let expr = format!(r#"file("{}") == "alice""#, file_s.display());
    // No root: refused, and the message says how to allow it.
    let r = run(&["eval", &expr]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("E303") && r.stderr.contains("--file-root"),
        "{}",
        r.stderr
    );
    let r = run(&["eval", "--file-root", root_s, &expr]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "true\n"), "{}", r.stderr);
    // `..` and symlinks do not escape.
    let escape = format!(r#"file("{}/../secret.txt") == "s3cret""#, root_s);
    let r = run(&["eval", "--file-root", root_s, &escape]);
    assert!(
        r.code == 2
            && r.stderr.contains("E303")
            && r.stderr.contains("outside the allowed directory"),
        "{}",
        r.stderr
    );
    std::os::unix::fs::symlink(dir.join("secret.txt"), root.join("link")).ok();
    let link = format!(r#"-f "{}/link""#, root_s);
    let r = run(&["eval", "--file-root", root_s, "--", &link]);
    assert!(
        r.code == 2 && r.stderr.contains("E303") && r.stderr.contains("leads outside"),
        "{}",
        r.stderr
    );
    let r = run(&["eval", "--file-root", "/nonexistent/dir", "true"]);
    assert!(
        r.code == 2 && r.stderr.contains("--file-root /nonexistent/dir"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn check_reports_every_failure() {
    let r = run(&["check", "true", "%{NOPE} == 1", "TRUE"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("argument 2:3:") && r.stderr.contains("error[E200]"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("argument 3:5:") && r.stderr.contains("2 of 3 expressions failed"));
}

#[test]
fn bad_arguments_exit_2_and_say_what_to_do() {
    let r = run(&["eval", "--var", "FOO=1", "true"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--var FOO=") && r.stderr.contains("not a variable"),
        "{}",
        r.stderr
    );
    let r = run(&["eval", "--var", "novalue", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("NAME=VALUE"), "{}", r.stderr);
    let r = run(&["eval", "--now", "yesterday", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("RFC 3339"), "{}", r.stderr);
    let r = run(&["eval", "--dialect", "3.0", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("use 2.4 or 2.2"), "{}", r.stderr);
}

fn session(name: &str) -> String {
    format!("{}/tests/sessions/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn temp(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("sslrequire-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn eval_against_a_captured_session() {
    let alice = session("alice-tls13.json");
    let r = run(&[
        "eval",
        "--session",
        &alice,
        r#"%{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd." && %{SSL_CLIENT_S_DN_OU_1} == "Security""#,
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "true\n"), "{}", r.stderr);
    let r = run(&[
        "eval",
        "--session",
        &alice,
        r#""hello-oracle" in PeerExtList("1.2.3.4.5.6")"#,
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "true\n"), "{}", r.stderr);
    // The session's time fixes V_REMAIN and TIME_*; --now overrides it.
    let r = run(&[
        "eval",
        "--session",
        &alice,
        r#"%{SSL_CLIENT_V_REMAIN} == 364 && %{TIME_YEAR} == 2026"#,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&[
        "eval",
        "--session",
        &alice,
        "--now",
        "2027-11-25T00:00:00Z",
        r#"%{SSL_CLIENT_V_REMAIN} == 0"#,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // --var overrides the session.
    let r = run(&[
        "eval",
        "--session",
        &alice,
        "--var",
        "REMOTE_ADDR=10.9.9.9",
        r#"%{REMOTE_ADDR} == "10.9.9.9""#,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The rogue certificate copies alice's DN; only the verify result tells.
    let rogue = session("rogue-tls12.json");
    let r = run(&[
        "eval",
        "--session",
        &rogue,
        r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (1, "false\n"), "{}", r.stderr);
}

#[test]
fn client_cert_flag_and_legacy_dn() {
    let cert = format!(
        "{}/tests/apache-2.4.71/certs/alice-chain.crt",
        env!("CARGO_MANIFEST_DIR")
    );
    let r = run(&[
        "eval",
        "--client-cert",
        &cert,
        "--legacy-dn",
        r#"%{SSL_CLIENT_S_DN} =~ m#^/C=US/ST=California/#"#,
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "true\n"), "{}", r.stderr);
    let r = run(&[
        "eval",
        "--client-cert",
        &cert,
        r#"%{SSL_CLIENT_S_DN} =~ m#^UID=alice,#"#,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn vars_lines_and_json() {
    let alice = session("alice-tls13.json");
    let r = run(&["vars", "--session", &alice]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("\nSSL_CLIENT_S_DN_OU=Engineering\nSSL_CLIENT_S_DN_OU_1=Security\n"),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains("SSL_CLIENT_CERT=-----BEGIN CERTIFICATE-----\\nMII"));
    let names: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.split('=').next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let r = run(&["vars", "--session", &alice, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["SSL_CLIENT_S_DN_O"], "Snake Oil, Ltd.");
    assert!(v["SSL_CLIENT_CERT"]
        .as_str()
        .unwrap()
        .ends_with("-----END CERTIFICATE-----\n"));
    let r = run(&["vars", "--session", &session("none-tls13.json"), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (
            v["SSL_CLIENT_VERIFY"].as_str(),
            v["SSL_CLIENT_CERT"].as_str()
        ),
        (Some("NONE"), Some(""))
    );
}

#[test]
fn bad_session_inputs_name_the_field() {
    let cases = [
        (r#"{"protocol": "TLSv9"}"#, "field `protocol`"),
        (r#"{"cipher": "NOPE-CIPHER"}"#, "field `cipher`"),
        (r#"{"time": "yesterday"}"#, "field `time`"),
        (
            r#"{"client_chain": ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]}"#,
            "field `client_chain[0]`",
        ),
        (r#"{"protocl": "TLSv1.3"}"#, "unknown field `protocl`"),
        (r#"{"resumed": "yes"}"#, "invalid type"),
        ("{\"id\": 1}\n{\"id\": 2}\n", "several sessions"),
        ("not json", "expected"),
    ];
    for (i, (content, needle)) in cases.iter().enumerate() {
        let path = temp(&format!("bad{i}.json"), content);
        let r = run(&["eval", "--session", &path, "true"]);
        assert_eq!(r.code, 2, "{content}");
        assert!(
            r.stderr.contains(needle) && r.stderr.contains(&path),
            "{content}: {}",
            r.stderr
        );
    }
    // Issue 18: an unknown name is kept (in the per-request environment)
    // and warned about, not fatal.
    let path = temp("unknown-var.json", r#"{"vars": {"NO_SUCH": "x"}}"#);
    let r = run(&["eval", "--session", &path, r#"reqenv("NO_SUCH") == "x""#]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "true\n"), "{}", r.stderr);
    assert!(
        r.stderr.contains("warning:") && r.stderr.contains("field `vars.NO_SUCH`"),
        "{}",
        r.stderr
    );
    let r = run(&["eval", "--session", "/nonexistent/session.json", "true"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot read session file /nonexistent/session.json"),
        "{}",
        r.stderr
    );
    let pem = temp("bad.pem", "not a certificate");
    let r = run(&["eval", "--client-cert", &pem, "true"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--client-cert") && r.stderr.contains("PEM"),
        "{}",
        r.stderr
    );
}

#[test]
fn ca_verifies_client_chains_like_mod_ssl() {
    let certs = format!("{}/tests/apache-2.4.71/certs", env!("CARGO_MANIFEST_DIR"));
    let ca = format!("{certs}/root-ca.crt");
    let now = "2026-11-25T16:49:37Z";
    let verify = |cert: &str, extra: &[&str]| {
        let chain = format!("{certs}/{cert}-chain.crt");
        let mut args = vec!["eval", "--now", now, "--client-cert", &chain, "--ca", &ca];
        args.extend_from_slice(extra);
        args.push(r#"%{SSL_CLIENT_VERIFY} == "SUCCESS""#);
        run(&args)
    };
    let r = verify("alice", &["--verify-depth", "5"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "true\n"), "{}", r.stderr);
    // Apache's default SSLVerifyDepth 1: alice's chain needs 2.
    let r = verify("alice", &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("handshake would fail (certificate chain too long)"),
        "{}",
        r.stderr
    );
    let r = verify(
        "expired",
        &["--verify-depth", "5", "--verify-client", "optional_no_ca"],
    );
    assert!(
        r.code == 2 && r.stderr.contains("certificate has expired"),
        "{}",
        r.stderr
    );
    // optional_no_ca lets an unknown CA through as GENEROUS (no protocol
    // given: TLS 1.2 behaviour).
    let rogue = format!("{certs}/rogue-chain.crt");
    let r = run(&[
        "vars",
        "--now",
        now,
        "--client-cert",
        &rogue,
        "--ca",
        &ca,
        "--verify-depth",
        "5",
        "--verify-client",
        "optional_no_ca",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["SSL_CLIENT_VERIFY"], "GENEROUS");
    // --verify-depth needs --ca.
    let r = run(&["eval", "--verify-depth", "3", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--ca"), "{}", r.stderr);
}
