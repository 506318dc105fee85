//! `sslrequire audit` over access logs (issue 18): the documented Apache
//! and nginx formats, detection per file, errors with their line, warnings
//! once. tests/capture_live.rs checks the same against real servers.

use std::process::Command;

const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/apache-2.4.71/certs");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_sslrequire"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run sslrequire");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn temp(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("sslrequire-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.display().to_string()
}

/// `ap_escape_logitem` for a PEM (newlines as `\n`).
fn apache_escaped(pem: &str) -> String {
    pem.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn leaf_and_chain(name: &str) -> (String, String) {
    let chain = std::fs::read_to_string(format!("{CERTS}/{name}-chain.crt")).unwrap();
    let end = "-----END CERTIFICATE-----\n";
    let mut parts = chain.split_inclusive(end);
    (
        parts.next().unwrap().to_string(),
        parts.next().unwrap_or("").to_string(),
    )
}

fn apache_line(name: &str, proto: &str, verify: &str) -> String {
    let (leaf, int) = leaf_and_chain(name);
    format!(
        r#"time="2026-11-25T16:49:37+0000" status="200" REMOTE_ADDR="192.0.2.7" REMOTE_PORT="50312" THE_REQUEST="GET /a?x=1 HTTP/1.1" REQUEST_METHOD="GET" REQUEST_URI="/a" QUERY_STRING="?x=1" http:Host="www.example.com" http:User-Agent="curl/8.5.0 \"q\"" SSL_TLS_SNI="www.example.com" SSL_PROTOCOL="{proto}" SSL_CIPHER="TLS_AES_256_GCM_SHA384" SSL_SESSION_RESUMED="Initial" SSL_CLIENT_VERIFY="{verify}" SSL_CLIENT_CERT="{}" SSL_CLIENT_CERT_CHAIN_0="{}" SSL_CLIENT_CERT_CHAIN_1="-" SSL_SERVER_CERT="-""#,
        apache_escaped(&leaf),
        apache_escaped(&int)
    )
}

fn nginx_line(name: &str) -> String {
    let (leaf, _) = leaf_and_chain(name);
    let escaped: String = leaf
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    serde_json::json!({
        "time": "2026-11-25T16:49:37+00:00", "status": "403", "REMOTE_ADDR": "192.0.2.8",
        "REQUEST_METHOD": "GET", "REQUEST_URI": "/a", "QUERY_STRING": "x=1",
        "http:User-Agent": "curl/8.5.0", "SSL_PROTOCOL": "TLSv1.2",
        "SSL_CIPHER": "ECDHE-RSA-AES128-GCM-SHA256", "SSL_SESSION_RESUMED": ".",
        "SSL_CLIENT_VERIFY": "SUCCESS", "ssl_client_escaped_cert": escaped, "REMOTE_USER": ""
    })
    .to_string()
}

const EXPR: &str = r#"%{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd." and %{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{HTTP_USER_AGENT} =~ m/^curl/ and %{QUERY_STRING} == "x=1" and %{REQUEST_URI} == "/a""#;

#[test]
fn apache_log_lines_are_sessions() {
    let log = format!(
        "{}\n{}\n\nnot a log line\n{}\n",
        apache_line("alice", "TLSv1.3", "SUCCESS"),
        apache_line("rogue", "TLSv1.2", "GENEROUS"),
        apache_line("alice", "TLSv9", "SUCCESS"),
    );
    let file = temp("access.log", &log);
    let r = run(&["audit", "--sessions", &file, EXPR]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "1\tallow\t", "{}", r.stdout);
    assert_eq!(lines[1], "2\tdeny\t");
    assert!(
        lines[2].starts_with("4\terror\tline 4: field `column 1`"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("5\terror\tline 5: field `SSL_PROTOCOL`"),
        "{}",
        lines[3]
    );
    assert!(
        r.stderr
            .contains("audit: 4 sessions: 1 allow, 1 deny, 2 error;"),
        "{}",
        r.stderr
    );
    // The chain and the request headers, one table.
    let r = run(&[
        "audit",
        "--format",
        "apache",
        "--json",
        "--sessions",
        &file,
        r#"%{SSL_CLIENT_CERT_CHAIN_0} =~ m/BEGIN CERTIFICATE/ and req("user-agent") == "curl/8.5.0 \"q\"" and %{SSL_CLIENT_CERT_CHAIN_1} == """#,
    ]);
    let first: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["verdict"], "allow", "{}", r.stdout);
    assert_eq!(first["status"], 200);
}

#[test]
fn nginx_log_lines_are_sessions_and_formats_are_detected_per_file() {
    let nginx = temp(
        "nginx.log",
        &format!("{}\n{{\"SSL_PROTOCOL\": 3}}\n", nginx_line("alice")),
    );
    let apache = temp(
        "apache.log",
        &(apache_line("alice", "TLSv1.3", "SUCCESS") + "\n"),
    );
    let json = temp("day.jsonl", "{\"id\": \"plain\", \"vars\": {\"HTTP_USER_AGENT\": \"curl/1\", \"MY_NOTE\": \"1\"}}\n{\"vars\": {\"MY_NOTE\": \"2\"}}\n");
    let r = run(&[
        "audit",
        "--sessions",
        &nginx,
        "--sessions",
        &apache,
        "--sessions",
        &json,
        EXPR,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", r.stdout);
    assert_eq!(lines[0], format!("{nginx}:1\tallow\t"));
    assert!(
        lines[1].starts_with(&format!(
            "{nginx}:2\terror\t{nginx}: line 2: field `SSL_PROTOCOL`: expected a string"
        )),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], format!("{apache}:1\tallow\t"));
    assert_eq!(lines[3], "plain\tdeny\t");
    // An unknown name: kept, and reported once (with its line).
    assert_eq!(r.stderr.matches("warning:").count(), 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("warning: {json} line 1: field `vars.MY_NOTE`")),
        "{}",
        r.stderr
    );
    // A forced format reads the line as that format.
    let r = run(&["audit", "--format", "apache", "--sessions", &nginx, "true"]);
    assert!(
        r.stdout.starts_with("1\terror\tline 1: field `column 1`"),
        "{}",
        r.stdout
    );
    let r = run(&["audit", "--format", "xml", "--sessions", &nginx, "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown format `xml`"), "{}", r.stderr);
}

#[test]
fn pcap_flags_and_bad_captures() {
    // Not a capture: an error naming the file, exit 2.
    let file = temp("not.pcap", "hello, not a capture");
    let r = run(&["audit", "--pcap", &file, "true"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!("--pcap {file}")) && r.stderr.contains("not a pcap or pcapng"),
        "{}",
        r.stderr
    );
    // --keylog needs --pcap; a bad key log names its line.
    let keys = temp(
        "keys.log",
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 11\nnonsense\n",
    );
    let r = run(&["audit", "--sessions", &file, "--keylog", &keys, "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--pcap"), "{}", r.stderr);
    let empty = temp("empty.pcap", "");
    let r = run(&["audit", "--pcap", &empty, "--keylog", &keys, "true"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!("--keylog {keys}: line 2")),
        "{}",
        r.stderr
    );
    // Neither --sessions nor --pcap.
    let r = run(&["audit", "true"]);
    assert_eq!(r.code, 2);
}

/// The lines the README tells users to copy are the ones the parsers and
/// tests/capture_live.rs use.
#[test]
fn the_readme_shows_the_documented_formats() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for line in [
        sslrequire::capture::APACHE_LOG_FORMAT,
        sslrequire::capture::NGINX_LOG_FORMAT,
    ] {
        assert!(readme.contains(line), "README.md lacks:\n{line}");
    }
}
