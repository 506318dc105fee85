//! The live compatibility suite: a real Apache httpd 2.4 with mod_ssl on
//! loopback against sslrequire, verdict by verdict.
//!
//! * A test PKI is made here (tests/support/apache_live/pki.rs): root and
//!   intermediate CAs, the server, a dozen clients with varied DNs, SANs,
//!   extensions, serials and key types, one from an unknown CA, and none.
//! * One Apache configuration in a temporary ServerRoot holds a
//!   `<Location /e/N.txt>` with `SSLRequire <expr>` for every expression of
//!   tests/compat/corpus.txt that `httpd -t` accepts (the others are
//!   Apache's parse errors, found one by one), plus a CGI at /env that dumps
//!   its environment (`SSLOptions +StdEnvVars +ExportCertData`).
//! * A rustls client per (certificate, TLS version) GETs /env and every
//!   /e/N.txt on one keep-alive connection: 200 = allow, 403 = deny, 403
//!   with "Failed to execute SSL requirement expression" in the error log
//!   (found by the request's X-Probe header) = evaluation error.
//! * sslrequire evaluates each expression against the captured session
//!   built from the same chains, protocol, cipher, instant (the response's
//!   Date) and request; every SSL_* variable of the /env dump is compared
//!   with `SessionEnv::export()`.
//!
//! Any difference not listed (with its reason) in
//! tests/compat/known-differences.txt fails the test, and so does a listed
//! one that no longer occurs. Without Apache the test is skipped, except
//! under CI (CI=true), where that is a failure. SSLREQUIRE_APACHE names the
//! httpd binary (SSLREQUIRE_APACHE_MODULES its modules directory);
//! SSLREQUIRE_KEEP_WORKDIR keeps the ServerRoot for a look.

#[path = "support/apache_live/mod.rs"]
mod live;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use live::client::{self, Conn, TlsChoice};
use live::files::write_files;
use live::pki::{Client, Pki};
use live::server::{self, Running, Site, WorkDir};
use sslrequire::env::verify::{Outcome, Verifier, VerifyMode};
use sslrequire::env::FileAccess;
use sslrequire::session::{cipher, EnvOptions, LazyCert, Session, SessionEnv};
use sslrequire::Program;

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

// ---------------------------------------------------------------------------
// corpus and known differences

/// The corpus: one expression per line; `#` comments and blank lines
/// skipped. `@DATA@` is the directory of the files the test makes.
fn corpus() -> Vec<String> {
    let path = compat_dir().join("corpus.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        // A config line ending in `\` continues on the next one.
        assert!(
            !line.ends_with('\\') && !line.contains("${"),
            "corpus.txt:{}: an expression may not end with `\\` or hold `${{` (Apache's config reader changes it)",
            i + 1
        );
        assert!(
            seen.insert(line),
            "corpus.txt:{}: duplicate expression",
            i + 1
        );
        out.push(line.to_string());
    }
    out
}

/// One line of known-differences.txt: `expression :: client :: reason`,
/// client `*`, a name, or `name@TLSv1.2` / `*@TLSv1.3`. An expression of
/// the form `variable NAME` is a difference in the /env dump.
struct Known {
    line: usize,
    expr: String,
    client: String,
    /// Why it differs (documentation for the reader; shown when stale).
    reason: String,
    used: bool,
}

fn known_differences() -> Vec<Known> {
    let path = compat_dir().join("known-differences.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.rsplitn(3, " :: ").collect();
        assert!(
            parts.len() == 3 && !parts[0].trim().is_empty(),
            "known-differences.txt:{}: expected `expression :: client :: reason`",
            i + 1
        );
        out.push(Known {
            line: i + 1,
            expr: parts[2].to_string(),
            client: parts[1].trim().to_string(),
            reason: parts[0].trim().to_string(),
            used: false,
        });
    }
    out
}

fn client_matches(pattern: &str, client: &str, proto: &str) -> bool {
    let (name, version) = pattern.split_once('@').unwrap_or((pattern, "*"));
    (name == "*" || name == client) && (version == "*" || version == proto)
}

// ---------------------------------------------------------------------------
// verdicts

#[derive(Clone, Debug)]
enum Verdict {
    Allow,
    Deny,
    /// An evaluation error (a 403 for Apache), with its message.
    Error(String),
    /// The expression was refused when read.
    ParseError(String),
    /// Anything else (an unexpected HTTP status, …).
    Other(String),
}

impl Verdict {
    fn same(&self, other: &Verdict) -> bool {
        matches!(
            (self, other),
            (Verdict::Allow, Verdict::Allow)
                | (Verdict::Deny, Verdict::Deny)
                | (Verdict::Error(_), Verdict::Error(_))
                | (Verdict::ParseError(_), Verdict::ParseError(_))
        )
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Allow => f.write_str("allow"),
            Verdict::Deny => f.write_str("deny"),
            Verdict::Error(m) => write!(f, "eval-error ({m})"),
            Verdict::ParseError(m) => write!(f, "parse-error ({m})"),
            Verdict::Other(m) => write!(f, "other ({m})"),
        }
    }
}

// ---------------------------------------------------------------------------
// the run

/// One connection's facts, from the client and from the /env dump.
struct ConnFacts {
    local_port: u16,
    tls13: bool,
    suite_id: u16,
    server_chain: Vec<Vec<u8>>,
    /// The CGI environment of /env.
    dump: BTreeMap<String, Vec<u8>>,
    /// The Date of the /env response.
    dump_date: String,
}

/// One request to /e/N.txt.
struct Row {
    conn: usize,
    expr: usize,
    status: u16,
    date: String,
    probe: String,
}

/// What one (client, TLS version) task saw.
struct TaskResult {
    conns: Vec<ConnFacts>,
    rows: Vec<Row>,
}

const USER_AGENT: &str = "sslrequire-compat/1.0";
const X_TEST: &str = "Hello, World";

fn target(n: usize) -> String {
    format!("/e/{n}.txt?n={n}&q=caf%C3%A9")
}

fn query(n: usize) -> String {
    format!("n={n}&q=caf%C3%A9")
}

fn parse_env(body: &[u8]) -> BTreeMap<String, Vec<u8>> {
    body.split(|&b| b == 0)
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let eq = kv.iter().position(|&b| b == b'=')?;
            Some((
                String::from_utf8_lossy(&kv[..eq]).into_owned(),
                kv[eq + 1..].to_vec(),
            ))
        })
        .collect()
}

fn run_task(
    task: usize,
    client: &Client,
    choice: TlsChoice,
    port: u16,
    roots: &rustls::RootCertStore,
    exprs: &[usize],
) -> TaskResult {
    let host = format!("localhost:{port}");
    let mut result = TaskResult {
        conns: Vec::new(),
        rows: Vec::new(),
    };
    let mut conn: Option<Conn> = None;
    let mut i = 0;
    let mut failures = 0;
    while i < exprs.len() {
        if conn.is_none() {
            let mut c = client::connect(port, roots, &client.chain, client.key.as_deref(), choice)
                .unwrap_or_else(|e| panic!("{}: TLS connection failed: {e}", client.name));
            let probe = format!("{task}.{}.env", result.conns.len());
            let resp = c
                .get(
                    "/env",
                    &[
                        ("Host", &host),
                        ("User-Agent", USER_AGENT),
                        ("X-Probe", &probe),
                    ],
                )
                .unwrap_or_else(|e| panic!("{}: GET /env: {e}", client.name));
            assert_eq!(resp.status, 200, "{}: GET /env", client.name);
            result.conns.push(ConnFacts {
                local_port: c.local_port,
                tls13: c.tls13,
                suite_id: c.suite_id,
                server_chain: c.server_chain.clone(),
                dump: parse_env(&resp.body),
                dump_date: resp.header("Date").expect("Date").to_string(),
            });
            conn = Some(c);
        }
        let n = exprs[i];
        let probe = format!("{task}.{}.{n}", result.conns.len() - 1);
        let c = conn.as_mut().expect("connected");
        match c.get(
            &target(n),
            &[
                ("Host", &host),
                ("User-Agent", USER_AGENT),
                ("Accept", "*/*"),
                ("X-Probe", &probe),
                ("X-Test", X_TEST),
            ],
        ) {
            Ok(resp) => {
                let close = resp
                    .header("Connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                result.rows.push(Row {
                    conn: result.conns.len() - 1,
                    expr: n,
                    status: resp.status,
                    date: resp.header("Date").expect("Date").to_string(),
                    probe,
                });
                i += 1;
                if close {
                    conn = None;
                }
            }
            Err(e) => {
                // The server closed the connection: reconnect and retry.
                failures += 1;
                assert!(failures < 5, "{}: GET {}: {e}", client.name, target(n));
                conn = None;
            }
        }
    }
    result
}

fn http_date(date: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc2822(date)
        .unwrap_or_else(|e| panic!("Date {date:?}: {e}"))
        .with_timezone(&chrono::Local)
        .fixed_offset()
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// The captured session of a connection, as a TLS terminator would record
/// it: the chains sent, the protocol and cipher negotiated, SNI; given from
/// the run (not derived from certificates): the session id, the server's
/// version strings and the verification result Apache reported.
fn base_session(client: &Client, facts: &ConnFacts, work: &WorkDir, port: u16) -> Session {
    let d = |k: &str| facts.dump.get(k).map(|v| lossy(v));
    let suite = cipher::by_id(facts.suite_id).expect("a suite OpenSSL knows");
    let mut s = Session {
        id: Some(client.name.to_string()),
        protocol: Some(if facts.tls13 { "TLSv1.3" } else { "TLSv1.2" }.to_string()),
        cipher: Some(suite.openssl.to_string()),
        cipher_bits: Some(suite.use_bits.into()),
        cipher_alg_bits: Some(suite.alg_bits.into()),
        sni: Some("localhost".into()),
        session_id: d("SSL_SESSION_ID"),
        resumed: Some(false),
        // rustls offers RFC 5746 (renegotiation_info) only when TLS 1.2 is
        // enabled; OpenSSL reports what the client offered.
        secure_reneg: Some(!facts.tls13),
        compression: Some("NULL".into()),
        verify: d("SSL_CLIENT_VERIFY"),
        client_chain: client
            .chain
            .iter()
            .map(|c| LazyCert::from_der(c.clone()))
            .collect(),
        server_chain: facts
            .server_chain
            .iter()
            .map(|c| LazyCert::from_der(c.clone()))
            .collect(),
        ..Session::default()
    };
    let mut set = |k: &str, v: &str| {
        s.vars.set(k, v).unwrap_or_else(|e| panic!("vars.{k}: {e}"));
    };
    for k in [
        "SSL_VERSION_INTERFACE",
        "SSL_VERSION_LIBRARY",
        "SERVER_SOFTWARE",
    ] {
        set(k, &d(k).unwrap_or_default());
    }
    let host = format!("localhost:{port}");
    let port_s = port.to_string();
    let remote_port = facts.local_port.to_string();
    let docroot = work.path("htdocs").display().to_string();
    let file = work.path("htdocs/ok.txt").display().to_string();
    for (k, v) in [
        ("REMOTE_ADDR", "127.0.0.1"),
        ("REMOTE_PORT", remote_port.as_str()),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", port_s.as_str()),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_ADMIN", "admin@localhost"),
        ("DOCUMENT_ROOT", docroot.as_str()),
        ("REQUEST_METHOD", "GET"),
        ("REQUEST_SCHEME", "https"),
        ("REQUEST_FILENAME", file.as_str()),
        ("SCRIPT_FILENAME", file.as_str()),
        ("IS_SUBREQ", "false"),
        ("HTTP_HOST", host.as_str()),
        ("HTTP_USER_AGENT", USER_AGENT),
        ("HTTP_ACCEPT", "*/*"),
        ("http:Host", host.as_str()),
        ("http:User-Agent", USER_AGENT),
        ("http:Accept", "*/*"),
        ("http:X-Test", X_TEST),
    ] {
        set(k, v);
    }
    for (k, v) in server::environment() {
        set(&format!("env:{k}"), &v);
        set(&format!("osenv:{k}"), &v);
    }
    s
}

/// The request's own variables.
fn request_session(s: &mut Session, row: &Row) {
    s.time = Some(http_date(&row.date));
    let n = row.expr;
    for (k, v) in [
        ("REQUEST_URI", format!("/e/{n}.txt")),
        ("QUERY_STRING", query(n)),
        ("THE_REQUEST", format!("GET {} HTTP/1.1", target(n))),
        ("http:X-Probe", row.probe.clone()),
    ] {
        s.vars.set(k, v).expect("request variable");
    }
}

/// A line on stderr that the test harness does not capture.
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn apache_httpd_agrees_with_sslrequire() {
    let started = Instant::now();
    let Some(apache) = server::find_or_skip("apache-compat") else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let pki = Pki::generate(now);
    let work = WorkDir::new();
    write_files(&work, &pki);
    let data = work.path("data").display().to_string();

    let corpus = corpus();
    let exprs: Vec<(usize, String)> = corpus
        .iter()
        .enumerate()
        .map(|(n, e)| (n, e.replace("@DATA@", &data)))
        .collect();
    let port = server::free_port();
    let site = Site {
        port,
        work: &work,
        exprs: &exprs,
    };
    let refused = server::parse_errors(&apache, &site);
    let accepted: Vec<(usize, String)> = exprs
        .iter()
        .filter(|(n, _)| !refused.contains_key(n))
        .cloned()
        .collect();
    let (conf_text, _) = server::config(
        &apache,
        &Site {
            exprs: &accepted,
            ..site
        },
    );
    let conf = work.write("conf/httpd.conf", conf_text, 0o644);
    if let Some(out) = server::check(&apache, &conf) {
        panic!("httpd -t refused the final configuration:\n{out}");
    }
    let mut httpd = Running::start(&apache, &conf, &work, port);

    // --- the clients ------------------------------------------------------
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            pki.root.der.clone(),
        ))
        .expect("root");
    let probe_list: Vec<usize> = accepted.iter().map(|(n, _)| *n).collect();
    let mut tasks: Vec<(usize, bool, TlsChoice)> = Vec::new();
    for (i, _) in pki.clients.iter().enumerate() {
        for tls13 in [true, false] {
            tasks.push((
                i,
                tls13,
                TlsChoice {
                    tls13,
                    rsa_server: (i % 2 == 0) ^ tls13,
                    cipher: (i + usize::from(tls13)) % 3,
                },
            ));
        }
    }
    let clients_started = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TaskResult>>> =
        Mutex::new((0..tasks.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let t = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(ci, _, choice)) = tasks.get(t) else {
                    break;
                };
                let r = run_task(t, &pki.clients[ci], choice, port, &roots, &probe_list);
                results.lock().unwrap()[t] = Some(r);
            });
        }
    });
    let client_secs = clients_started.elapsed().as_secs_f64();
    let error_log = httpd.error_log();
    httpd.stop();
    let results: Vec<TaskResult> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect();

    // Evaluation errors, by probe.
    let mut eval_errors: HashMap<String, String> = HashMap::new();
    for line in error_log.lines() {
        const MARK: &str = "Failed to execute SSL requirement expression: ";
        if let (Some(p), Some(m)) = (line.find("[probe "), line.find(MARK)) {
            let probe = line[p + 7..].split(']').next().unwrap_or("").to_string();
            eval_errors.insert(probe, line[m + MARK.len()..].to_string());
        }
    }

    // --- sslrequire's verdicts -------------------------------------------
    let programs: Vec<Result<Program, sslrequire::Error>> =
        exprs.iter().map(|(_, e)| Program::new(e)).collect();
    let mut known = known_differences();
    let mut pairs = 0usize;
    let mut agree = 0usize;
    let mut listed = 0usize;
    // (difference, the clients it occurs for)
    let mut failures: Vec<(String, Vec<String>)> = Vec::new();
    // expression → Apache's verdict per client and version (written to
    // logs/verdicts.txt with SSLREQUIRE_KEEP_WORKDIR, to review the corpus).
    let mut table: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut record = |expr: usize, client: &str, proto: &str, apache: &Verdict, ours: &Verdict| {
        pairs += 1;
        let short = match apache {
            Verdict::Allow => "A",
            Verdict::Deny => "D",
            Verdict::Error(_) => "E",
            Verdict::ParseError(_) => "P",
            Verdict::Other(_) => "?",
        };
        table
            .entry(expr)
            .or_default()
            .push(format!("{client}{}:{short}", &proto[5..]));
        if apache.same(ours) {
            agree += 1;
            return;
        }
        let raw = &corpus[expr];
        match known
            .iter_mut()
            .find(|k| k.expr == *raw && client_matches(&k.client, client, proto))
        {
            Some(k) => {
                k.used = true;
                listed += 1;
            }
            None => {
                let key = format!("{raw}\n    Apache: {apache}\n    sslrequire: {ours}");
                let at = format!("{client}@{proto}");
                match failures.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, clients)) => clients.push(at),
                    None => failures.push((key, vec![at])),
                }
            }
        }
    };
    let ours_for = |n: usize, env: &SessionEnv<'_>| -> Verdict {
        match &programs[n] {
            Err(e) if !e.code().starts_with("E3") => {
                Verdict::ParseError(format!("{} {e}", e.code()))
            }
            Err(e) => Verdict::Error(format!("{} {e}", e.code())),
            Ok(p) => match p.eval(env) {
                Ok(true) => Verdict::Allow,
                Ok(false) => Verdict::Deny,
                Err(e) => Verdict::Error(format!("{} {e}", e.code())),
            },
        }
    };

    // The verifier, as Apache is configured, for SSL_CLIENT_VERIFY.
    let verifier =
        Verifier::new(vec![pki.root.der.clone()], 5, VerifyMode::OptionalNoCa).expect("verifier");
    let mut vars_compared = 0usize;
    let mut var_failures: Vec<(String, String, String, String)> = Vec::new();

    for (t, result) in results.iter().enumerate() {
        let (ci, tls13, _) = tasks[t];
        let client = &pki.clients[ci];
        let proto = if tls13 { "TLSv1.3" } else { "TLSv1.2" };
        // Parse errors: one pair per client and version, as for the rest.
        for (n, message) in &refused {
            let session = Session::default();
            let env = SessionEnv::new(&session, as_apache());
            record(
                *n,
                client.name,
                proto,
                &Verdict::ParseError(message.clone()),
                &ours_for(*n, &env),
            );
        }
        let mut sessions: Vec<Session> = result
            .conns
            .iter()
            .map(|f| base_session(client, f, &work, port))
            .collect();
        // The /env dumps against SessionEnv::export().
        for (facts, session) in result.conns.iter().zip(&mut sessions) {
            if std::env::var_os("SSLREQUIRE_KEEP_WORKDIR").is_some() {
                let text: String = facts
                    .dump
                    .iter()
                    .map(|(k, v)| format!("{k}={}\n", lossy(v).escape_debug()))
                    .collect();
                work.write(
                    &format!("logs/env-{}-{proto}.txt", client.name),
                    text,
                    0o644,
                );
            }
            assert_eq!(facts.tls13, tls13, "{} negotiated {proto}", client.name);
            session.time = Some(http_date(&facts.dump_date));
            let env = SessionEnv::new(session, as_apache());
            let ours: BTreeMap<String, Vec<u8>> = env.export().into_iter().collect();
            let mut diff = |var: &str, apache: String, ours: String| {
                var_failures.push((
                    var.to_string(),
                    client.name.to_string(),
                    proto.to_string(),
                    format!("Apache {apache:?}, sslrequire {ours:?}"),
                ));
            };
            for (k, v) in facts.dump.iter().filter(|(k, _)| k.starts_with("SSL_")) {
                vars_compared += 1;
                match ours.get(k) {
                    Some(o) if o == v => {}
                    Some(o) => diff(k, lossy(v), lossy(o)),
                    None => diff(k, lossy(v), "(not exported)".into()),
                }
            }
            for (k, o) in ours.iter().filter(|(k, _)| k.starts_with("SSL_")) {
                if !facts.dump.contains_key(k) {
                    diff(k, "(not exported)".into(), lossy(o));
                }
            }
            // SSL_CLIENT_VERIFY computed by sslrequire's verifier.
            if !client.chain.is_empty() {
                vars_compared += 1;
                let t = http_date(&facts.dump_date).timestamp();
                let got = match verifier.verify(&client.chain, t, tls13) {
                    Outcome::Verify(v) => v,
                    Outcome::HandshakeFails(r) => format!("(handshake fails: {r})"),
                };
                let want = facts
                    .dump
                    .get("SSL_CLIENT_VERIFY")
                    .map(|v| lossy(v))
                    .unwrap_or_default();
                if got != want {
                    diff("SSL_CLIENT_VERIFY(computed)", want, got);
                }
            }
        }
        for row in &result.rows {
            let session = &mut sessions[row.conn];
            request_session(session, row);
            let env = SessionEnv::new(session, as_apache());
            let apache = match row.status {
                200 => Verdict::Allow,
                403 => match eval_errors.get(&row.probe) {
                    Some(m) => Verdict::Error(m.clone()),
                    None => Verdict::Deny,
                },
                s => Verdict::Other(format!("HTTP {s}")),
            };
            record(
                row.expr,
                client.name,
                proto,
                &apache,
                &ours_for(row.expr, &env),
            );
        }
    }
    let mut vars_listed = 0;
    for (var, client, proto, detail) in &var_failures {
        let key = format!("variable {var}");
        match known
            .iter_mut()
            .find(|k| k.expr == key && client_matches(&k.client, client, proto))
        {
            Some(k) => {
                k.used = true;
                vars_listed += 1;
            }
            None => failures.push((
                format!("{key}: {detail}"),
                vec![format!("{client}@{proto}")],
            )),
        }
    }
    for k in known.iter().filter(|k| !k.used) {
        failures.push((
            format!(
                "known-differences.txt:{}: `{}` [{}] no longer differs (was: {}); remove the entry",
                k.line, k.expr, k.client, k.reason
            ),
            Vec::new(),
        ));
    }
    if std::env::var_os("SSLREQUIRE_KEEP_WORKDIR").is_some() {
        let text: String = table
            .iter()
            .map(|(n, v)| {
                let allow = v.iter().filter(|x| x.ends_with(":A")).count();
                format!(
                    "{n}\t{allow}/{}\t{}\n\t{}\n",
                    v.len(),
                    corpus[*n],
                    v.join(" ")
                )
            })
            .collect();
        work.write("logs/verdicts.txt", text, 0o644);
    }
    let differ = pairs - agree;
    // Written to the process's stderr, past the test harness's capture, so
    // the line shows in every `cargo test` run.
    say(&format!(
        "apache-compat: {pairs} pairs, {agree} agree, {differ} differ ({listed} listed in known-differences.txt); \
         {vars_compared} SSL_* variables compared, {} differ ({vars_listed} listed); \
         {} expressions ({} refused by Apache), {} clients x 2 TLS versions; {} ({:.1} s, of which {:.1} s of requests)",
        var_failures.len(),
        corpus.len(),
        refused.len(),
        pki.clients.len(),
        apache.version,
        started.elapsed().as_secs_f64(),
        client_secs,
    ));
    let connections = tasks.len();
    if !failures.is_empty() {
        let shown: Vec<String> = failures
            .iter()
            .take(100)
            .map(|(what, clients)| {
                if clients.is_empty() {
                    what.clone()
                } else if clients.len() == connections {
                    format!("{what}\n    for: every client, both TLS versions")
                } else {
                    format!("{what}\n    for: {}", clients.join(" "))
                }
            })
            .collect();
        panic!(
            "{} differences from Apache not explained in tests/compat/known-differences.txt:\n{}{}",
            failures.len(),
            shown.join("\n"),
            if failures.len() > 100 { "\n…" } else { "" }
        );
    }
}

/// Options under which sslrequire sees what this Apache sees: every file
/// the server can read (the library's default reads none).
fn as_apache() -> EnvOptions {
    EnvOptions {
        files: FileAccess::under("/").expect("/"),
        ..EnvOptions::default()
    }
}
