//! proxy-compat: Apache's recorded verdicts, through the proxy.

use super::harness::*;
use super::*;

/// Why an expression is left out of the comparison, if it is: it reads
/// something only Apache has, or what depends on the instant of the
/// recording.
fn outside_proxy(expr: &str, program: &sslrequire::Program) -> Option<&'static str> {
    const REQUEST: [&str; 15] = [
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "REQUEST_METHOD",
        "REQUEST_SCHEME",
        "REQUEST_URI",
        "QUERY_STRING",
        "THE_REQUEST",
        "SERVER_PROTOCOL",
        "HTTPS",
        "HTTP_HOST",
        "HTTP_USER_AGENT",
        "HTTP_ACCEPT",
        "HTTP_COOKIE",
        "HTTP_REFERER",
        "HTTP_FORWARDED",
    ];
    if expr.contains("file(") || expr.contains("filesize(") {
        return Some("reads a file (the proxy grants no file access)");
    }
    let file_test = [
        "-d ", "-e ", "-f ", "-s ", "-L ", "-h ", "-F ", "-U ", "-A ",
    ];
    if file_test.iter().any(|t| {
        expr.starts_with(t)
            || expr.contains(&format!(" {t}"))
            || expr.contains(&format!("!{t}"))
            || expr.contains(&format!("({t}"))
    }) {
        return Some("a file test");
    }
    for var in program.vars() {
        let name = var.to_string();
        if name.starts_with("TIME") || name.ends_with("_V_REMAIN") {
            return Some("depends on the instant of Apache's recorded run");
        }
        if matches!(
            name.as_str(),
            "SSL_SESSION_ID" | "SSL_VERSION_INTERFACE" | "SSL_VERSION_LIBRARY" | "SSL_SECURE_RENEG"
        ) {
            return Some("an SSL_* value rustls does not expose or that names the server");
        }
        if let Some(rest) = name.strip_prefix("SSL_") {
            let _ = rest;
            continue;
        }
        if name.starts_with("HTTP:") {
            continue;
        }
        if !REQUEST.contains(&name.as_str()) {
            return Some("a variable only Apache knows");
        }
    }
    None
}

#[derive(serde::Deserialize)]
struct Recorded {
    expr: String,
    cert: String,
    verdict: String,
    #[serde(default)]
    reason: Option<String>,
}

/// One recorded run through the proxy.
struct CompatRun {
    pairs: usize,
    agree: usize,
    differences: Vec<String>,
    kept: usize,
    clients: usize,
    left_out: BTreeMap<&'static str, usize>,
}

fn compat_run(dir: &Path, file: &str, mode: &str, tls13: bool) -> CompatRun {
    let text = std::fs::read_to_string(dir.join(file)).expect("verdicts");
    let recorded: Vec<Recorded> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("verdict line"))
        .collect();
    let corpus_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/corpus.txt"),
    )
    .expect("corpus.txt");
    let corpus: std::collections::HashSet<&str> = corpus_text.lines().collect();

    // The expressions, in order of first appearance, and which are kept.
    let mut exprs: Vec<&str> = Vec::new();
    for r in &recorded {
        if !exprs.contains(&r.expr.as_str()) {
            exprs.push(&r.expr);
        }
    }
    let mut kept: Vec<(usize, &str)> = Vec::new();
    let mut left_out: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut differences: Vec<String> = Vec::new();
    let mut pairs = 0usize;
    let mut agree = 0usize;
    for (n, expr) in exprs.iter().enumerate() {
        if !corpus.contains(expr) {
            *left_out.entry("not in corpus.txt").or_default() += 1;
            continue;
        }
        let apache_refused = recorded
            .iter()
            .any(|r| r.expr == *expr && r.verdict == "parse-error");
        match sslrequire::Program::new(expr) {
            Err(_) if apache_refused => {
                *left_out.entry("refused by Apache's parser").or_default() += 1;
            }
            Err(e) => {
                // The proxy could not be configured with it: every pair differs.
                for r in recorded.iter().filter(|r| r.expr == *expr) {
                    pairs += 1;
                    differences.push(format!(
                        "{expr} :: {} :: Apache {}, the proxy refuses the policy: {e}",
                        r.cert, r.verdict
                    ));
                }
            }
            Ok(_) if apache_refused => {
                for r in recorded.iter().filter(|r| r.expr == *expr) {
                    pairs += 1;
                    differences.push(format!(
                        "{expr} :: {} :: Apache refused it, the proxy accepts it",
                        r.cert
                    ));
                }
            }
            Ok(p) => match outside_proxy(expr, &p) {
                Some(why) => *left_out.entry(why).or_default() += 1,
                None => kept.push((n, expr)),
            },
        }
    }
    let mut policies = format!("mode = \"{mode}\"\n");
    for (n, expr) in &kept {
        policies.push_str(&format!(
            "[[policy]]\npath = \"/e/{n}.txt\"\nrequire = {}\n",
            toml_string(expr)
        ));
    }
    let proxy = start(&config(dir, upstream(), &policies));
    let roots = roots(dir);
    let host = format!("localhost:{}", proxy.port);
    let choice = client::TlsChoice {
        tls13,
        rsa_server: true,
        cipher: 0,
    };

    let mut clients: Vec<&str> = Vec::new();
    for r in &recorded {
        if !clients.contains(&r.cert.as_str()) {
            clients.push(&r.cert);
        }
    }
    for client in &clients {
        // One keep-alive connection per client, every kept expression on it.
        let (chain, key) = if *client == "none" {
            (Vec::new(), None)
        } else {
            let (c, k) = identity(dir, client);
            (c, Some(k))
        };
        let mut conn = client::connect(proxy.port, &roots, &chain, key.as_deref(), choice).ok();
        if let Some(c) = &conn {
            assert_eq!(c.tls13, tls13, "{client}: negotiated the recorded version");
        }
        for (n, expr) in &kept {
            let apache = recorded
                .iter()
                .find(|r| r.expr == **expr && r.cert == **client)
                .unwrap_or_else(|| panic!("no recorded verdict for {expr} :: {client}"));
            let ours = match conn.as_mut() {
                None => "error".to_string(),
                Some(c) => match c.get(
                    &format!("/e/{n}.txt"),
                    &[
                        ("Host", &host),
                        ("User-Agent", "sslrequire-proxy-compat"),
                        ("Accept", "*/*"),
                    ],
                ) {
                    Ok(r) if r.status == 200 && r.body.starts_with(b"upstream GET") => {
                        "allow".to_string()
                    }
                    Ok(r) if r.status == 403 => "deny".to_string(),
                    Ok(r) => format!("HTTP {}", r.status),
                    // TLS 1.3: the server refuses the client's certificate
                    // after the client's handshake is done; the first read
                    // gets its alert.
                    Err(e)
                        if e.to_string().contains("alert") || e.to_string().contains("closed") =>
                    {
                        conn = None;
                        "error".to_string()
                    }
                    Err(e) => panic!("{client}: /e/{n}.txt: {e}\n{}", proxy.log()),
                },
            };
            pairs += 1;
            if ours == apache.verdict {
                agree += 1;
            } else {
                differences.push(format!(
                    "{expr} :: {client} :: Apache {}{}, proxy {ours}",
                    apache.verdict,
                    apache
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    CompatRun {
        pairs,
        agree,
        differences,
        kept: kept.len(),
        clients: clients.len(),
        left_out,
    }
}

#[test]
fn proxy_agrees_with_apache_recorded_verdicts() {
    let Some(dir) = setup() else { return };
    let runs = [
        ("verdicts-tls13.jsonl", "optional_no_ca", true),
        ("verdicts-tls12.jsonl", "optional_no_ca", false),
        ("verdicts-verify-optional.jsonl", "optional", true),
    ];
    let (mut pairs, mut agree) = (0, 0);
    let mut differences = Vec::new();
    let mut parts = Vec::new();
    for (file, mode, tls13) in runs {
        let run = compat_run(&dir, file, mode, tls13);
        assert!(
            run.kept >= 100,
            "{file}: only {} expressions compared",
            run.kept
        );
        let left: Vec<String> = run
            .left_out
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        parts.push(format!(
            "{file} ({mode}, TLS {}): {} pairs, {} agree = {} expressions x {} clients; left out: {}",
            if tls13 { "1.3" } else { "1.2" },
            run.pairs,
            run.agree,
            run.kept,
            run.clients,
            left.join(", ")
        ));
        pairs += run.pairs;
        agree += run.agree;
        differences.extend(run.differences.into_iter().map(|d| format!("{file}: {d}")));
    }
    say(&format!(
        "proxy-compat: {pairs} pairs, {agree} agree, {} differ\n  {}",
        pairs - agree,
        parts.join("\n  ")
    ));
    assert!(
        differences.is_empty(),
        "{} differences from Apache's recorded verdicts:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// A TOML literal string (or a basic one when the text holds `'`).
fn toml_string(s: &str) -> String {
    if !s.contains('\'') && !s.contains('\n') {
        return format!("'{s}'");
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
