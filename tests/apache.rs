//! Every verdict a real Apache httpd 2.4.71 gave (tests/apache-2.4.71/,
//! measured: 185 expressions × 11 client certificates over TLS 1.3 and 1.2,
//! plus 37 probes), replayed through the engine against the SSL variables
//! Apache exported for each certificate (`env/<client>.json`).
//!
//! Rows whose TLS handshake failed never reached SSLRequire and are counted
//! apart. Rows that need something the variable dumps cannot give are
//! listed in `PENDING` with the reason; a pending expression whose rows all
//! pass fails the test, so the list cannot go stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sslrequire::{Machine, Program, Reparser, VarMap};

/// (expression, why it cannot be checked from the variable dumps yet).
const PENDING: &[(&str, &str)] = &[
    (
        r#""hello-oracle" in PeerExtList("1.2.3.4.5.6")"#,
        "needs the client certificate's extensions (issue 3)",
    ),
    (
        r#""carol-ia5" in PeerExtList("1.2.3.4.5.6")"#,
        "needs the client certificate's extensions (issue 3)",
    ),
    (
        r#""second ext" in PeerExtList("1.2.3.4.5.7")"#,
        "needs the client certificate's extensions (issue 3)",
    ),
    (
        r#""CA:FALSE" in PeerExtList("2.5.29.19")"#,
        "needs the client certificate's extensions (issue 3)",
    ),
    (
        r#""CA:FALSE" in PeerExtList("basicConstraints")"#,
        "needs the client certificate's extensions (issue 3)",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apache-2.4.71")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The environment Apache evaluated the expression in: every variable of
/// the dump, the request the harness made (README: `GET
/// https://localhost:<port>/e/<n>.txt`), and the clock at the run's start.
fn environment(dump: &Value, started: &str, n: usize) -> VarMap {
    let mut env = VarMap::new();
    for section in ["ssl_env", "other_env"] {
        for (k, v) in dump[section].as_object().expect("env object") {
            let v = v.as_str().expect("string value");
            env.set(k, v).unwrap_or_else(|e| panic!("{k}: {e}"));
        }
    }
    let port = dump["other_env"]["SERVER_PORT"].as_str().expect("port");
    env.set("HTTP_HOST", format!("localhost:{port}")).unwrap();
    env.set("REQUEST_METHOD", "GET").unwrap();
    env.set("REQUEST_URI", format!("/e/{n}.txt")).unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(started).expect("started_local");
    env.set_time(&t);
    env
}

#[derive(Default)]
struct Tally {
    agree: usize,
    handshake_failed: usize,
    /// expression → (rows, rows that happened to agree).
    pending: BTreeMap<String, (usize, usize)>,
    failures: Vec<String>,
}

fn replay(verdicts: &str, meta: &str, env_dir: &str, tally: &mut Tally) {
    let root = root();
    let data = root.join("data");
    let meta = read_json(&root.join(meta));
    let started = meta["started_local"]
        .as_str()
        .expect("started_local")
        .to_string();
    let text = std::fs::read_to_string(root.join(verdicts)).expect("verdicts");
    let mut dumps: BTreeMap<String, VarMap> = BTreeMap::new();
    let mut order: BTreeMap<String, usize> = BTreeMap::new();
    let reparser = Reparser::new();
    let mut machine = Machine::new();
    for (line_no, line) in text.lines().enumerate() {
        let row: Value = serde_json::from_str(line).expect("jsonl row");
        let expr_raw = row["expr"].as_str().expect("expr");
        let n = order.len();
        let n = *order.entry(expr_raw.to_string()).or_insert(n);
        let cert = row["cert"].as_str().expect("cert");
        let verdict = row["verdict"].as_str().expect("verdict");
        let reason = row["reason"].as_str().unwrap_or("");
        if verdict == "error" {
            tally.handshake_failed += 1;
            continue;
        }
        let expr = expr_raw.replace("@DATA@", data.to_str().expect("utf-8 path"));
        let where_ = format!("{verdicts}:{} [{cert}] {expr_raw}", line_no + 1);
        // A configuration Apache refused has no session to read: any
        // environment will do (expired/notyet have no dump).
        let key = if verdict == "parse-error" {
            "none"
        } else {
            cert
        };
        let env = dumps.entry(key.to_string()).or_insert_with(|| {
            let dump = read_json(&root.join(env_dir).join(format!("{key}.json")));
            environment(&dump, &started, n)
        });
        env.set("REQUEST_URI", format!("/e/{n}.txt")).unwrap();
        let compiled = Program::new(&expr);
        let got = compiled
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|p| p.eval_with(&mut machine, &*env));
        // Reparse mode must agree with compiled mode on every row.
        let reparsed = reparser.eval(&expr, &mut machine, &*env);
        assert_eq!(
            got.as_ref().map_err(|e| e.code()),
            reparsed.as_ref().map_err(|e| e.code()),
            "reparse differs: {where_}"
        );
        let ok = match verdict {
            "allow" => matches!(got, Ok(true)),
            "deny" if reason.starts_with("eval-error:") => {
                matches!(&got, Err(e) if e.code().starts_with("E3"))
            }
            "deny" => matches!(got, Ok(false)),
            "parse-error" => matches!(&compiled, Err(e) if !e.code().starts_with("E3")),
            other => panic!("unknown verdict {other}"),
        };
        let pending = PENDING.iter().find(|(e, _)| *e == expr_raw);
        match (ok, pending) {
            (true, None) => tally.agree += 1,
            (_, Some((e, _))) => {
                let p = tally.pending.entry(e.to_string()).or_default();
                p.0 += 1;
                p.1 += usize::from(ok);
            }
            (false, None) => tally.failures.push(format!(
                "{where_}: Apache {verdict} {reason}, sslrequire {}",
                match &got {
                    Ok(b) => b.to_string(),
                    Err(e) => e.to_string(),
                }
            )),
        }
    }
}

fn report(name: &str, t: &Tally) {
    let pending: usize = t.pending.values().map(|p| p.0).sum();
    eprintln!(
        "{name}: {} rows agree with Apache 2.4.71, {pending} pending, {} handshake failures (SSLRequire never ran)",
        t.agree, t.handshake_failed
    );
    let mut failures = t.failures.clone();
    for (e, (rows, agree)) in &t.pending {
        let why = PENDING.iter().find(|(x, _)| x == e).map_or("", |(_, w)| w);
        eprintln!("  pending: {e}  ({why}; {agree} of {rows} rows agree already)");
        if agree == rows {
            failures.push(format!("{e}: every row passes now; remove it from PENDING"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows differ from Apache:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn verdicts_tls13() {
    let mut t = Tally::default();
    replay("verdicts-tls13.jsonl", "meta-tls13.json", "env", &mut t);
    report("verdicts-tls13", &t);
    assert!(t.agree > 1500, "only {} rows checked", t.agree);
}

#[test]
fn verdicts_tls12() {
    let mut t = Tally::default();
    replay(
        "verdicts-tls12.jsonl",
        "meta-tls12.json",
        "env-tls12",
        &mut t,
    );
    report("verdicts-tls12", &t);
    assert!(t.agree > 1500, "only {} rows checked", t.agree);
}

#[test]
fn verdicts_probes() {
    let mut t = Tally::default();
    replay(
        "verdicts-probes-tls13.jsonl",
        "meta-probes-tls13.json",
        "env",
        &mut t,
    );
    report("verdicts-probes", &t);
    assert!(t.pending.is_empty());
    assert_eq!(t.agree + t.handshake_failed, 407);
}

/// The same expressions under `SSLVerifyClient optional`: untrusted chains
/// fail the handshake; the others see the same variables as under
/// `optional_no_ca` (the dumps in env/).
#[test]
fn verdicts_verify_optional() {
    let mut t = Tally::default();
    replay(
        "verdicts-verify-optional.jsonl",
        "meta-verify-optional.json",
        "env",
        &mut t,
    );
    report("verdicts-verify-optional", &t);
    assert!(t.agree > 1000, "only {} rows checked", t.agree);
}
