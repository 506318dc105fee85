//! Every verdict a real Apache httpd 2.4.71 gave (tests/apache-2.4.71/,
//! measured: 185 expressions × 11 client certificates over TLS 1.3 and 1.2,
//! under `SSLVerifyClient optional_no_ca` and `optional`, plus 37 probes),
//! replayed through the engine twice:
//!
//! * against the SSL variables Apache exported for each certificate
//!   (`env/<client>.json`), which isolates the language from the
//!   environment;
//! * end to end, against a captured session (the JSON format `--session`
//!   reads) built from the certificate chains and the run's facts
//!   (`meta-*.json`), so every variable — and `PeerExtList` — is computed.
//!
//! Rows whose TLS handshake failed never reached SSLRequire and are counted
//! apart. Rows the variable dumps cannot decide are listed in `PENDING` with
//! the reason; a pending expression whose rows all pass fails the test, so
//! the list cannot go stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sslrequire::env::FileAccess;
use sslrequire::session::{EnvOptions, Session, SessionEnv};
use sslrequire::{Env, Machine, Program, Reparser, VarMap};

/// (expression, why the variable dumps cannot decide it): the dumps hold no
/// extension values; the session replay checks these rows.
const PENDING: &[(&str, &str)] = &[
    (
        r#""hello-oracle" in PeerExtList("1.2.3.4.5.6")"#,
        "needs the client certificate's extensions",
    ),
    (
        r#""carol-ia5" in PeerExtList("1.2.3.4.5.6")"#,
        "needs the client certificate's extensions",
    ),
    (
        r#""second ext" in PeerExtList("1.2.3.4.5.7")"#,
        "needs the client certificate's extensions",
    ),
    (
        r#""CA:FALSE" in PeerExtList("2.5.29.19")"#,
        "needs the client certificate's extensions",
    ),
    (
        r#""CA:FALSE" in PeerExtList("basicConstraints")"#,
        "needs the client certificate's extensions",
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

/// The captured session of `cert` in a run, as JSON: what a TLS terminator
/// would record (chains, protocol, cipher, verify result, request).
fn session_json(meta: &Value, dump: &Value, cert: &str, n: usize) -> String {
    let root = root();
    let pems = |file: &str| -> Vec<String> {
        let text = std::fs::read_to_string(root.join("certs").join(file)).expect("chain file");
        text.split_inclusive("-----END CERTIFICATE-----\n")
            .map(str::to_string)
            .collect()
    };
    let facts = &meta["sessions"][cert];
    let mut client_chain = if cert == "none" {
        Vec::new()
    } else {
        pems(&format!("{cert}-chain.crt"))
    };
    if cert == "dave" {
        // The test client completed dave's one-certificate chain with the root.
        client_chain.extend(pems("root-ca.crt"));
    }
    let mut vars = dump["other_env"].as_object().expect("other_env").clone();
    vars.remove("HTTPS");
    let port = dump["other_env"]["SERVER_PORT"].as_str().expect("port");
    vars.insert("HTTP_HOST".into(), format!("localhost:{port}").into());
    vars.insert("REQUEST_METHOD".into(), "GET".into());
    vars.insert("REQUEST_URI".into(), format!("/e/{n}.txt").into());
    serde_json::json!({
        "id": cert,
        "time": meta["started_local"],
        "protocol": facts["SSL_PROTOCOL"],
        "cipher": facts["SSL_CIPHER"],
        "sni": "localhost",
        "resumed": false,
        "secure_reneg": true,
        "verify": facts["SSL_CLIENT_VERIFY"],
        "client_chain": client_chain,
        "server_chain": pems("server-chain.crt"),
        "vars": vars,
    })
    .to_string()
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Against the exported variables (env/*.json).
    Dumps,
    /// Against a captured session built from the chains.
    Sessions,
}

#[derive(Default)]
struct Tally {
    agree: usize,
    handshake_failed: usize,
    /// expression → (rows, rows that happened to agree).
    pending: BTreeMap<String, (usize, usize)>,
    failures: Vec<String>,
}

fn replay(verdicts: &str, meta: &str, env_dir: &str, mode: Mode, tally: &mut Tally) {
    let root = root();
    let data = root.join("data");
    let meta = read_json(&root.join(meta));
    let started = meta["started_local"]
        .as_str()
        .expect("started_local")
        .to_string();
    let text = std::fs::read_to_string(root.join(verdicts)).expect("verdicts");
    let mut dumps: BTreeMap<String, Value> = BTreeMap::new();
    let mut order: BTreeMap<String, usize> = BTreeMap::new();
    let reparser = Reparser::new();
    let mut machine = Machine::new();
    // Apache's file() read the data directory; so may ours.
    let files = FileAccess::under(&data).expect("data directory");
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
        let dump = dumps
            .entry(key.to_string())
            .or_insert_with(|| read_json(&root.join(env_dir).join(format!("{key}.json"))));
        let session: Session;
        let session_env: SessionEnv<'_>;
        let mut var_map: VarMap;
        let env: &dyn Env = match mode {
            Mode::Dumps => {
                var_map = environment(dump, &started, n);
                var_map.set_files(files.clone());
                &var_map
            }
            Mode::Sessions => {
                let json = session_json(&meta, dump, key, n);
                session = Session::from_json(&json).unwrap_or_else(|e| panic!("{where_}: {e}"));
                let opts = EnvOptions {
                    files: files.clone(),
                    ..EnvOptions::default()
                };
                session_env = SessionEnv::new(&session, opts);
                &session_env
            }
        };
        let compiled = Program::new(&expr);
        let got = compiled
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|p| p.eval_with(&mut machine, env));
        // Reparse mode must agree with compiled mode on every row.
        let reparsed = reparser.eval(&expr, &mut machine, env);
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
        let pending = PENDING
            .iter()
            .find(|(e, _)| *e == expr_raw && mode == Mode::Dumps);
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

const RUNS: &[(&str, &str, &str)] = &[
    ("verdicts-tls13.jsonl", "meta-tls13.json", "env"),
    ("verdicts-tls12.jsonl", "meta-tls12.json", "env-tls12"),
    (
        "verdicts-probes-tls13.jsonl",
        "meta-probes-tls13.json",
        "env",
    ),
    // SSLVerifyClient optional: untrusted chains fail the handshake; the
    // others see the same variables as under optional_no_ca.
    (
        "verdicts-verify-optional.jsonl",
        "meta-verify-optional.json",
        "env",
    ),
];

fn run(mode: Mode) {
    for (verdicts, meta, env_dir) in RUNS {
        let mut t = Tally::default();
        replay(verdicts, meta, env_dir, mode, &mut t);
        report(verdicts, &t);
        assert!(t.agree > 300, "only {} rows checked", t.agree);
    }
}

#[test]
fn verdicts_against_exported_variables() {
    run(Mode::Dumps);
}

#[test]
fn verdicts_end_to_end_through_captured_sessions() {
    run(Mode::Sessions);
}
