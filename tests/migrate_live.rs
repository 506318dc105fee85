//! `sslrequire migrate` against a real Apache httpd 2.4: for every
//! expression of tests/compat/corpus.txt that Apache accepts as
//! SSLRequire, the migrated `Require expr` must give the same verdict, on
//! the same server, for every client certificate and TLS version.
//!
//! Each expression gets one `<Location /e/N.txt>` holding both forms:
//!
//! ```apache
//! <Location /e/N.txt>
//! <If "-n %{HTTP:X-Migrated}">
//! Require expr <migrated>
//! </If>
//! <Else>
//! SSLRequire <original>
//! </Else>
//! </Location>
//! ```
//!
//! and each client requests every /e/N.txt twice on one connection, without
//! and with an `X-Migrated` header (which no corpus expression reads): same
//! URL, same connection, the same second in practice. 200 = allow, 403 =
//! deny (or, with "Failed to execute SSL requirement expression" logged for
//! the request, an SSLRequire evaluation error), 500 = a `Require expr`
//! evaluation error (mod_authz_core answers AUTHZ_GENERAL_ERROR); an
//! evaluation error and a deny are both refusals, so they count as the same
//! verdict, and the difference in status is reported.
//!
//! It prints `migrate-compat: N pairs, N agree, N differ` and fails on any
//! difference, on a migrated expression Apache refuses, and on an expression
//! `migrate` cannot translate that is not listed (with its reason) in
//! tests/compat/migrate-unsupported.txt. Without Apache it is skipped
//! loudly, except under CI=true, where that fails.

#[path = "support/apache_live/mod.rs"]
mod live;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use live::client::{self, Conn, TlsChoice};
use live::files::write_files;
use live::pki::Pki;
use live::server::{self, Running, Site, WorkDir};
use sslrequire::migrate::{migrate, migrate_config, MigrateError};
use sslrequire::Dialect;

const USER_AGENT: &str = "sslrequire-compat/1.0";
const X_TEST: &str = "Hello, World";

fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn corpus() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/corpus.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// `expression :: reason` lines: expressions `migrate` refuses, and why.
fn unsupported_list() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/migrate-unsupported.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (e, r) = l.rsplit_once(" :: ").unwrap_or_else(|| {
                panic!("migrate-unsupported.txt: `{l}`: expected `expression :: reason`")
            });
            (e.to_string(), r.to_string())
        })
        .collect()
}

/// Configuration files through `migrate --config`, served side by side:
/// the original under `/oN`, the migration under `/mN` (`{P}`), each path
/// requested by every client. Keys in the status table: `CASE_BASE + 10 *
/// case + path`.
const CONFIG_CASES: &[(&str, &str, &[&str])] = &[
    (
        "a parent that denies: SSLRequire held in addition, so must Require expr (AuthMerging And)",
        "<Location {P}/p>\nRequire all denied\n</Location>\n<Location {P}/p/in>\n  SSLRequire %{SSL_CLIENT_VERIFY} eq \"SUCCESS\"\n</Location>\n",
        &["/p/in/x.txt", "/p/x.txt"],
    ),
    (
        "a parent that grants; a continued line",
        "<Location {P}/q>\nRequire all granted\n</Location>\n<Location {P}/q/in>\n  SSLRequire %{SSL_CLIENT_VERIFY} eq \"SUCCESS\" \\\n      and %{TIME_HOUR} <= 23\n</Location>\n",
        &["/q/in/x.txt", "/q/x.txt"],
    ),
    (
        "a child section with its own Require and AuthMerging And keeps the parent's restriction",
        "<Location {P}/r>\nSSLRequire %{SSL_CLIENT_S_DN_CN} =~ m/^[a-m]/i\n</Location>\n<Location {P}/r/s>\nRequire all granted\nAuthMerging And\n</Location>\n",
        &["/r/x.txt", "/r/s/x.txt"],
    ),
];
const CASE_BASE: usize = 1_000_000;

/// (task, expression, migrated?) → (HTTP status, probe id).
type Statuses = HashMap<(usize, usize, bool), (u16, String)>;

#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Allow,
    Deny,
    /// An evaluation error: a refusal, like Deny.
    Error(u16),
    Other(u16),
}

impl Verdict {
    fn refuses(&self) -> bool {
        matches!(self, Verdict::Deny | Verdict::Error(_))
    }
    fn same(&self, other: &Verdict) -> bool {
        *self == Verdict::Allow && *other == Verdict::Allow || self.refuses() && other.refuses()
    }
}

/// The Location blocks, appended to the suite's base configuration.
fn locations(pairs: &[(usize, String, String)]) -> (String, BTreeMap<usize, usize>) {
    let mut c = String::new();
    let mut lines = BTreeMap::new();
    for (n, original, migrated) in pairs {
        let _ = writeln!(c, "<Location /e/{n}.txt>");
        let _ = writeln!(c, "<If \"-n %{{HTTP:X-Migrated}}\">");
        lines.insert(c.lines().count() + 1, *n);
        let _ = writeln!(c, "Require expr {migrated}");
        let _ = writeln!(c, "</If>\n<Else>");
        let _ = writeln!(c, "SSLRequire {original}");
        let _ = writeln!(c, "</Else>\n</Location>");
    }
    (c, lines)
}

#[test]
fn migrated_require_expr_gives_sslrequires_verdicts() {
    let started = Instant::now();
    let Some(apache) = server::find_or_skip("migrate-compat") else {
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
    // The originals Apache accepts.
    let refused = server::parse_errors(&apache, &site);
    let listed = unsupported_list();
    let mut unsupported: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut pairs_src: Vec<(usize, String, String)> = Vec::new();
    for (n, e) in exprs.iter().filter(|(n, _)| !refused.contains_key(n)) {
        match migrate(e, Dialect::V24) {
            Ok(m) => pairs_src.push((*n, e.clone(), m.expr)),
            Err(err) => {
                let why = match &err {
                    MigrateError::Parse(p) => format!("{} {}", p.code(), p.message()),
                    MigrateError::Unsupported { message, .. } => message.clone(),
                };
                if listed.contains_key(&corpus[*n]) {
                    unsupported.push(format!("{}  ({why})", corpus[*n]));
                } else {
                    failures.push(format!(
                        "migrate refused `{}`: {why} (list it in tests/compat/migrate-unsupported.txt with its reason if that is right)",
                        corpus[*n]
                    ));
                }
            }
        }
    }
    for e in listed.keys() {
        if !corpus.contains(e) {
            failures.push(format!(
                "migrate-unsupported.txt: `{e}` is not in the corpus"
            ));
        }
    }
    // The whole configuration through `migrate --config`: Apache must load
    // the result (Require expr + AuthMerging And in every <Location>).
    let accepted: Vec<(usize, String)> = exprs
        .iter()
        .filter(|(n, _)| !refused.contains_key(n))
        .cloned()
        .collect();
    let (original_conf, _) = server::config(
        &apache,
        &Site {
            exprs: &accepted,
            ..site
        },
    );
    let migrated_conf = migrate_config(&original_conf, Dialect::V24);
    let conf_path = work.write("conf/migrated-config.conf", &migrated_conf.text, 0o644);
    if let Some(out) = server::check(&apache, &conf_path) {
        failures.push(format!(
            "httpd -t refused the output of migrate --config:\n{out}"
        ));
    }
    let config_changes = migrated_conf.changes.len();
    if config_changes + migrated_conf.problems.len() != accepted.len()
        || migrated_conf.text.matches("\nSSLRequire ").count() != migrated_conf.problems.len()
    {
        failures.push(format!(
            "migrate --config: {config_changes} rewritten + {} left for {} SSLRequire lines",
            migrated_conf.problems.len(),
            accepted.len()
        ));
    }
    let (base, _) = server::config(&apache, &Site { exprs: &[], ..site });
    // A migrated expression Apache refuses is a failure; find them one by
    // one (httpd -t stops at the first).
    let conf = work.path("conf/migrate.conf");
    loop {
        let (locs, lines) = locations(&pairs_src);
        let offset = base.lines().count();
        std::fs::write(&conf, format!("{base}{locs}")).expect("write migrate.conf");
        let Some(out) = server::check(&apache, &conf) else {
            break;
        };
        let line = out
            .split("Syntax error on line ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|l| lines.get(&(l - offset)));
        let Some(&n) = line else {
            panic!("httpd -t refused the migrate configuration:\n{out}");
        };
        let (_, original, migrated) = pairs_src
            .iter()
            .find(|(m, _, _)| *m == n)
            .cloned()
            .expect("a pair");
        failures.push(format!(
            "Apache refused the migrated form of `{original}`:\n    Require expr {migrated}\n    {}",
            out.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" ")
        ));
        pairs_src.retain(|(m, _, _)| *m != n);
    }
    let mut case_text = String::new();
    let mut case_keys: Vec<(usize, usize, usize)> = Vec::new(); // (key, case, path)
    for (i, (what, template, paths)) in CONFIG_CASES.iter().enumerate() {
        case_text.push_str(&template.replace("{P}", &format!("/o{i}")));
        let m = migrate_config(&template.replace("{P}", &format!("/m{i}")), Dialect::V24);
        assert!(
            m.problems.is_empty() && !m.text.contains("SSLRequire"),
            "config case {i} ({what}): {:?}",
            m.problems
        );
        case_text.push_str(&m.text);
        for (j, _) in paths.iter().enumerate() {
            case_keys.push((CASE_BASE + 10 * i + j, i, j));
        }
    }
    let _ = writeln!(
        case_text,
        "AliasMatch ^/[om][0-9]+/ {}",
        work.path("htdocs/ok.txt").display()
    );
    let served = std::fs::read_to_string(&conf).expect("migrate.conf");
    std::fs::write(&conf, format!("{served}{case_text}")).expect("write migrate.conf");
    if let Some(out) = server::check(&apache, &conf) {
        panic!("httpd -t refused the configuration cases:\n{out}\n{case_text}");
    }
    let mut httpd = Running::start(&apache, &conf, &work, port);
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            pki.root.der.clone(),
        ))
        .expect("root");
    let mut tasks: Vec<(usize, TlsChoice)> = Vec::new();
    for (i, _) in pki.clients.iter().enumerate() {
        for tls13 in [true, false] {
            tasks.push((
                i,
                TlsChoice {
                    tls13,
                    rsa_server: (i % 2 == 0) ^ tls13,
                    cipher: (i + usize::from(tls13)) % 3,
                },
            ));
        }
    }
    let ns: Vec<usize> = pairs_src.iter().map(|(n, _, _)| *n).collect();
    // (task, n, migrated) → (status, probe)
    let statuses: Mutex<Statuses> = Mutex::new(HashMap::new());
    let next = AtomicUsize::new(0);
    let host = format!("localhost:{port}");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let t = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(ci, choice)) = tasks.get(t) else {
                    break;
                };
                let c = &pki.clients[ci];
                let mut conn: Option<Conn> = None;
                let mut failures = 0;
                let mut jobs: Vec<(usize, bool)> = ns
                    .iter()
                    .chain(case_keys.iter().map(|(k, _, _)| k))
                    .flat_map(|&n| [(n, false), (n, true)])
                    .collect();
                jobs.reverse();
                while let Some(&(n, migrated)) = jobs.last() {
                    if conn.is_none() {
                        conn = Some(
                            client::connect(port, &roots, &c.chain, c.key.as_deref(), choice)
                                .unwrap_or_else(|e| {
                                    panic!("{}: TLS connection failed: {e}", c.name)
                                }),
                        );
                    }
                    let probe = format!("m{t}.{n}.{}", u8::from(migrated));
                    let target = if n >= CASE_BASE {
                        let (case, path) = ((n - CASE_BASE) / 10, (n - CASE_BASE) % 10);
                        let side = if migrated { 'm' } else { 'o' };
                        format!("/{side}{case}{}", CONFIG_CASES[case].2[path])
                    } else {
                        format!("/e/{n}.txt?n={n}&q=caf%C3%A9")
                    };
                    let mut headers = vec![
                        ("Host", host.as_str()),
                        ("User-Agent", USER_AGENT),
                        ("Accept", "*/*"),
                        ("X-Probe", probe.as_str()),
                        ("X-Test", X_TEST),
                    ];
                    if migrated {
                        headers.push(("X-Migrated", "1"));
                    }
                    match conn.as_mut().expect("connected").get(&target, &headers) {
                        Ok(resp) => {
                            if resp
                                .header("Connection")
                                .is_some_and(|v| v.eq_ignore_ascii_case("close"))
                            {
                                conn = None;
                            }
                            statuses
                                .lock()
                                .unwrap()
                                .insert((t, n, migrated), (resp.status, probe));
                            jobs.pop();
                        }
                        Err(e) => {
                            failures += 1;
                            assert!(failures < 5, "{}: GET {target}: {e}", c.name);
                            conn = None;
                        }
                    }
                }
            });
        }
    });
    let log = httpd.error_log();
    httpd.stop();
    let mut ssl_errors: BTreeSet<String> = BTreeSet::new();
    for line in log.lines() {
        if let Some(p) = line.find("[probe ") {
            if line.contains("Failed to execute SSL requirement expression") {
                ssl_errors.insert(line[p + 7..].split(']').next().unwrap_or("").to_string());
            }
        }
    }
    let statuses = statuses.into_inner().unwrap();
    let verdict = |status: u16, probe: &str| match status {
        200 => Verdict::Allow,
        403 if ssl_errors.contains(probe) => Verdict::Error(403),
        403 | 401 => Verdict::Deny,
        500 => Verdict::Error(500),
        s => Verdict::Other(s),
    };
    let (mut pairs, mut agree) = (0usize, 0usize);
    let mut status_differs = 0usize;
    let mut diffs: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (t, (ci, choice)) in tasks.iter().enumerate() {
        for &n in &ns {
            let (s0, p0) = &statuses[&(t, n, false)];
            let (s1, p1) = &statuses[&(t, n, true)];
            let (a, b) = (verdict(*s0, p0), verdict(*s1, p1));
            pairs += 1;
            if a.same(&b) {
                agree += 1;
                if s0 != s1 {
                    status_differs += 1;
                }
            } else {
                diffs.entry(n).or_default().push(format!(
                    "{}@{} SSLRequire {a:?} vs Require expr {b:?}",
                    pki.clients[*ci].name,
                    if choice.tls13 { "TLSv1.3" } else { "TLSv1.2" }
                ));
            }
        }
    }
    let mut case_pairs = 0usize;
    for (t, (ci, choice)) in tasks.iter().enumerate() {
        for &(key, case, path) in &case_keys {
            let (s0, p0) = &statuses[&(t, key, false)];
            let (s1, p1) = &statuses[&(t, key, true)];
            let (a, b) = (verdict(*s0, p0), verdict(*s1, p1));
            pairs += 1;
            case_pairs += 1;
            if a.same(&b) {
                agree += 1;
            } else {
                failures.push(format!(
                    "config case {case} ({}), {}: {}@{} original {a:?} vs migrated {b:?}",
                    CONFIG_CASES[case].0,
                    CONFIG_CASES[case].2[path],
                    pki.clients[*ci].name,
                    if choice.tls13 { "TLSv1.3" } else { "TLSv1.2" }
                ));
            }
        }
    }
    for (n, list) in &diffs {
        let (_, original, migrated) = pairs_src.iter().find(|(m, _, _)| m == n).expect("pair");
        failures.push(format!(
            "verdicts differ for `{original}`\n    migrated: {migrated}\n    {}",
            list.join("\n    ")
        ));
    }
    say(&format!(
        "migrate-compat: {pairs} pairs, {agree} agree, {} differ; migrate --config: {config_changes} SSLRequire lines rewritten, httpd -t accepts the result, {case_pairs} pairs from {} section layouts; {} expressions migrated ({} refused by Apache as SSLRequire, {} listed as not migratable), {} clients x 2 TLS versions; {status_differs} refusals with another status (403 vs 500 for an evaluation error); {} ({:.1} s)",
        pairs - agree,
        CONFIG_CASES.len(),
        ns.len(),
        refused.len(),
        unsupported.len(),
        pki.clients.len(),
        apache.version,
        started.elapsed().as_secs_f64()
    ));
    for u in &unsupported {
        say(&format!("migrate-compat: not migratable (listed): {u}"));
    }
    assert!(
        failures.is_empty(),
        "{} migrate failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
