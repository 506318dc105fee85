//! `migrate` without Apache: the migrated expression gives the original's
//! verdict over many environments (tests/migrate_live.rs checks the same on
//! a real Apache); configuration files are rewritten line for line; the
//! CLI's `migrate` and `check` lint flags.
//!
//! Why sslrequire's own engine can stand in for `Require expr` here:
//! `migrate` writes orderings as regexes (or, for variables whose values
//! make the two orders agree, as `%{VAR} -ge 128`) and equality only as
//! `==`/`!=`, which mean the same with and without
//! `AP_EXPR_FLAG_SSL_EXPR_COMPAT`; the test asserts that shape of every
//! output. The integer forms are checked against Apache itself in
//! tests/migrate_live.rs.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use sslrequire::migrate::{migrate, migrate_config, MigrateError};
use sslrequire::syntax::ast::{CmpOp, Expr, ExprKind};
use sslrequire::{Dialect, Program, ProgramBuilder, VarMap};

/// No ordering operator, except `%{VAR} -ge 128`-style integer forms (which
/// migrate writes only for variables whose values make length-first and
/// integer order agree; tests/migrate_live.rs checks those on Apache).
fn no_ordering(e: &Expr) -> bool {
    use sslrequire::syntax::ast::WordKind;
    match &e.kind {
        ExprKind::Cmp { op, lhs, rhs } => {
            matches!(op, CmpOp::Eq | CmpOp::Ne)
                || matches!(
                    (&lhs.kind, &rhs.kind),
                    (WordKind::Var(_), WordKind::Digits(_))
                )
        }
        ExprKind::Not(i) => no_ordering(i),
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().all(no_ordering),
        _ => true,
    }
}

/// Environments that exercise the shapes the corpus tests.
fn environments() -> Vec<VarMap> {
    let mut out = Vec::new();
    let base = |m: &mut VarMap| {
        m.set("SSL_CLIENT_VERIFY", "SUCCESS").unwrap();
        m.set("SSL_PROTOCOL", "TLSv1.2").unwrap();
        m.set("SSL_CIPHER", "ECDHE-RSA-AES256-GCM-SHA384").unwrap();
        m.set("REMOTE_ADDR", "192.0.2.7").unwrap();
    };
    for hour in [0, 7, 8, 9, 10, 19, 20, 21, 23] {
        let mut m = VarMap::new();
        base(&mut m);
        let t = chrono::DateTime::parse_from_rfc3339(&format!(
            "2026-03-0{}T{hour:02}:05:09+00:00",
            1 + hour % 7
        ))
        .unwrap();
        m.set_time(&t);
        out.push(m);
    }
    let dn_values: [&[u8]; 7] = [
        b"alice",
        b"Alice Example",
        b"",
        b"\x80x",
        b"zz",
        b"Snake Oil, Ltd.",
        b"10",
    ];
    for (i, v) in dn_values.iter().enumerate() {
        let mut m = VarMap::new();
        base(&mut m);
        for name in [
            "SSL_CLIENT_S_DN_CN",
            "SSL_CLIENT_S_DN_O",
            "SSL_CLIENT_S_DN_OU",
            "SSL_CLIENT_I_DN_CN",
            "SSL_CLIENT_M_SERIAL",
            "SSL_CLIENT_V_REMAIN",
            "HTTP_USER_AGENT",
        ] {
            m.set(name, v.to_vec()).unwrap();
        }
        m.set(
            "SSL_CIPHER_USEKEYSIZE",
            ["40", "128", "256", "0", "56", "112", "168"][i],
        )
        .unwrap();
        m.set(
            "SSL_PROTOCOL",
            [
                "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "SSLv3", "TLSv1.3", "TLSv1",
            ][i],
        )
        .unwrap();
        m.set(
            "SSL_CLIENT_VERIFY",
            [
                "NONE", "SUCCESS", "GENEROUS", "FAILED:x", "SUCCESS", "SUCCESS", "NONE",
            ][i],
        )
        .unwrap();
        m.set(
            "SSL_CLIENT_M_VERSION",
            ["1", "3", "2", "", "3", "3", "10"][i],
        )
        .unwrap();
        out.push(m);
    }
    out
}

fn verdict(p: &Program, env: &VarMap) -> Option<bool> {
    p.eval(env).ok()
}

/// (dialect, expression, its own environment) from the corpus and vectors.
fn expressions() -> Vec<(Dialect, String, Option<VarMap>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let text = std::fs::read_to_string(root.join("tests/compat/corpus.txt")).unwrap();
    for l in text.lines() {
        if !l.trim().is_empty() && !l.starts_with('#') {
            out.push((Dialect::V24, l.to_string(), None));
        }
    }
    #[derive(serde::Deserialize)]
    struct File {
        test: Vec<Vector>,
    }
    #[derive(serde::Deserialize)]
    struct Vector {
        expr: String,
        #[serde(default)]
        env: BTreeMap<String, String>,
        #[serde(default)]
        env22: BTreeMap<String, String>,
        #[serde(default)]
        env24: BTreeMap<String, String>,
    }
    for f in ["spec.toml", "library.toml"] {
        let v: File =
            toml::from_str(&std::fs::read_to_string(root.join("tests/vectors").join(f)).unwrap())
                .unwrap();
        for t in v.test {
            for (d, extra) in [(Dialect::V24, &t.env24), (Dialect::V22, &t.env22)] {
                let mut m = VarMap::new();
                let ok = t
                    .env
                    .iter()
                    .chain(extra)
                    .all(|(k, v)| m.set(k, v.as_bytes().to_vec()).is_ok());
                out.push((d, t.expr.clone(), ok.then_some(m)));
            }
        }
    }
    out
}

#[test]
fn migrated_expressions_keep_every_verdict() {
    let envs = environments();
    let (mut checked, mut pairs, mut refused) = (0, 0, Vec::new());
    let mut failures = Vec::new();
    for (d, src, own) in expressions() {
        let Ok(original) = ProgramBuilder::new().dialect(d).build(&src) else {
            continue;
        };
        let m = match migrate(&src, d) {
            Ok(m) => m,
            Err(MigrateError::Unsupported { message, .. }) => {
                refused.push(format!("{} {src}: {message}", d.as_str()));
                continue;
            }
            Err(MigrateError::Parse(e)) => panic!("{src}: compiles but migrate says {e}"),
        };
        let tree = sslrequire::parse(&m.expr)
            .unwrap_or_else(|e| panic!("{src} → {}: not a 2.4 expression: {e}", m.expr));
        assert!(
            no_ordering(&tree),
            "{src} → {}: an ordering operator",
            m.expr
        );
        let migrated =
            Program::compile(&tree, &m.expr).unwrap_or_else(|e| panic!("{src} → {}: {e}", m.expr));
        checked += 1;
        for env in own.iter().chain(&envs) {
            pairs += 1;
            let (a, b) = (verdict(&original, env), verdict(&migrated, env));
            // An evaluation error denies, in both.
            if a.unwrap_or(false) != b.unwrap_or(false) {
                failures.push(format!(
                    "{} `{src}` → `{}`: {a:?} vs {b:?}",
                    d.as_str(),
                    m.expr
                ));
                break;
            }
        }
    }
    eprintln!(
        "migrate (offline): {checked} expressions, {pairs} verdicts compared, {} differ; {} refused",
        failures.len(),
        refused.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 600, "only {checked} expressions migrated");
    // Only orderings of two variables are refused.
    for r in &refused {
        assert!(
            r.contains("two non-constant words") || r.contains("bad escape"),
            "{r}"
        );
    }
}

#[test]
fn orderings_become_length_first_regexes() {
    let m = migrate("%{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20", Dialect::V24).unwrap();
    assert_eq!(
        m.expr,
        r"%{TIME_HOUR} !~ m#\A(?s:|[\x01-\x37\x80-\xff])\z# && %{TIME_HOUR} -le 20"
    );
    assert_eq!(m.lints.len(), 1);
    assert_eq!(m.lints[0].code, "L101");
    // Integer forms only where both orders agree.
    assert_eq!(
        migrate(
            "%{SSL_CIPHER_USEKEYSIZE} >= 128 && 1 < %{SSL_CLIENT_M_VERSION}",
            Dialect::V24
        )
        .unwrap()
        .expr,
        "%{SSL_CIPHER_USEKEYSIZE} -ge 128 && %{SSL_CLIENT_M_VERSION} -gt 1"
    );
    for src in [
        "%{SSL_CIPHER_USEKEYSIZE} >= 0128",
        "%{SSL_CIPHER_USEKEYSIZE} >= 0",
        "%{SSL_CLIENT_V_REMAIN} > 30",
        "%{TIME_MIN} < 5",
    ] {
        assert!(
            migrate(src, Dialect::V24).unwrap().expr.contains(" m#"),
            "{src}"
        );
    }
    // Two constants fold; equality stays a string comparison.
    assert_eq!(migrate(r#""10" > "9""#, Dialect::V24).unwrap().expr, "true");
    assert_eq!(
        migrate(r#"%{SSL_CLIENT_S_DN_O} eq "Staff""#, Dialect::V24)
            .unwrap()
            .expr,
        r#"%{SSL_CLIENT_S_DN_O} == "Staff""#
    );
    // A whole-quoted argument keeps its quotes (mod_authz_core strips one pair).
    assert_eq!(
        migrate(r#""a" == "a""#, Dialect::V24).unwrap().expr,
        r#"("a" == "a")"#
    );
    // 2.2: OID, unknown names, regex options.
    assert_eq!(
        migrate(
            r#""x" in OID("1.2.3") and %{NOPE} == "" and %{X} =~ m/a.b$/"#,
            Dialect::V22
        )
        .unwrap()
        .expr,
        r#""x" in PeerExtList("1.2.3") && "" == "" && "" =~ m/(?-s)a.b(?=\n?\z)/"#
    );
    match migrate("%{SSL_CLIENT_V_START} < %{SSL_CLIENT_V_END}", Dialect::V24) {
        Err(MigrateError::Unsupported { message, span }) => {
            assert!(message.contains("two non-constant words"));
            assert_eq!((span.start, span.end), (0, 43));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        migrate("%{SSL_CIPHER} in {", Dialect::V24),
        Err(MigrateError::Parse(_))
    ));
}

const CONF: &str = concat!(
    "ServerName example\r\n",
    "<Location /a>\r\n",
    "    SSLRequire %{SSL_CLIENT_VERIFY} eq \"SUCCESS\" \\\r\n",
    "        and %{TIME_HOUR} >= 8\r\n",
    "</Location>\r\n",
    "<Directory /srv>\r\n",
    "  Require valid-user\r\n",
    "  SSLRequire %{SSL_CLIENT_S_DN_O} eq \"Example\"\r\n",
    "</Directory>\r\n",
    "<Files x>\r\n",
    "SSLRequire true\r\n",
    "SSLRequire false\r\n",
    "</Files>\r\n",
    "<Location /b>\r\n",
    "  <IfModule mod_ssl.c>\r\n",
    "  SSLRequire \"a\" == \"a\"\r\n",
    "  </IfModule>\r\n",
    "  AuthMerging and\r\n",
    "</Location>\r\n",
    "<Location /c>\r\n",
    "  SSLRequire %{SSL_CIPHER} in {\r\n",
    "</Location>\r\n",
    "<Location /d>\r\n",
    "  SSLRequire true\r\n",
    "  AuthMerging Or\r\n",
    "</Location>",
);

#[test]
fn config_files_are_rewritten_in_place() {
    let m = migrate_config(CONF, Dialect::V24);
    let want = CONF
        .replace(
            "    SSLRequire %{SSL_CLIENT_VERIFY} eq \"SUCCESS\" \\\r\n        and %{TIME_HOUR} >= 8\r\n",
            "    Require expr %{SSL_CLIENT_VERIFY} == \"SUCCESS\" && %{TIME_HOUR} !~ m#\\A(?s:|[\\x01-\\x37\\x80-\\xff])\\z#\r\n    AuthMerging And\r\n",
        )
        .replace(
            "  SSLRequire \"a\" == \"a\"\r\n",
            "  Require expr (\"a\" == \"a\")\r\n",
        );
    assert_eq!(m.text, want);
    assert_eq!(
        m.changes.iter().map(|c| c.line).collect::<Vec<_>>(),
        [3, 16]
    );
    assert_eq!(m.changes[0].lints[0].code, "L101");
    let problems: Vec<(usize, &str)> = m
        .problems
        .iter()
        .map(|p| (p.line, p.message.as_str()))
        .collect();
    assert_eq!(problems.len(), 5, "{problems:?}");
    assert_eq!(problems[4].0, 24);
    assert!(problems[4].1.contains("AuthMerging Or"));
    assert_eq!(problems[0].0, 8);
    assert!(problems[0].1.contains("also has Require lines"));
    assert_eq!((problems[1].0, problems[2].0), (11, 12));
    assert!(problems[1].1.contains("must all hold"));
    assert_eq!(problems[3].0, 21);
    assert!(problems[3]
        .1
        .contains("not a valid SSLRequire expression (E100)"));
}

#[test]
fn config_notes_sections_that_would_lose_the_restriction() {
    let text = "<Location /r>\nSSLRequire %{SSL_CLIENT_VERIFY} eq \"SUCCESS\"\n</Location>\n\
                <Location /r/open>\nRequire all granted\n</Location>\n\
                <Location /r/kept>\nRequire all granted\nAuthMerging And\n</Location>\n";
    let m = migrate_config(text, Dialect::V24);
    assert!(m.problems.is_empty());
    assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
    assert_eq!(m.notes[0].line, 4);
    assert!(m.notes[0].message.contains("add AuthMerging And"));
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_sslrequire"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run sslrequire");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn temp(name: &str, content: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("sslrequire-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::File::create(&p)
        .and_then(|mut f| f.write_all(content))
        .unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn cli_migrate() {
    let r = run(&[
        "migrate",
        r#"%{SSL_CLIENT_S_DN_O} eq "Example" and %{TIME_HOUR} <= 20"#,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "%{SSL_CLIENT_S_DN_O} == \"Example\" && %{TIME_HOUR} -le 20\n"
    );
    assert!(r.stderr.contains("warning[L120]"), "{}", r.stderr);
    let r = run(&["migrate", "--json", r#"%{TIME_HOUR} < 8"#]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["lints"][0]["code"], "L101");
    assert!(v["migrated"]
        .as_str()
        .unwrap()
        .starts_with("%{TIME_HOUR} =~ m#"));
    let r = run(&["migrate", "%{SSL_CLIENT_V_START} < %{SSL_CLIENT_V_END}"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot migrate"), "{}", r.stderr);
    // Config: stdout, then --in-place.
    let file = temp("site.conf", CONF.as_bytes());
    let r = run(&["migrate", "--config", &file]);
    assert_eq!(r.code, 2, "problems were reported");
    assert_eq!(r.stdout, migrate_config(CONF, Dialect::V24).text);
    assert!(
        r.stderr.contains(&format!("{file}:8: not migrated:")),
        "{}",
        r.stderr
    );
    let r = run(&["migrate", "--config", &file, "--in-place"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        migrate_config(CONF, Dialect::V24).text
    );
    let clean = temp(
        "clean.conf",
        b"<Location />\nSSLRequire %{HTTPS} == \"on\"\n</Location>\n",
    );
    let r = run(&["migrate", "--config", &clean]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "<Location />\nRequire expr %{HTTPS} == \"on\"\nAuthMerging And\n</Location>\n"
    );
}

#[test]
fn cli_check_lints() {
    // Lints do not change the exit status…
    let r = run(&["check", "%{TIME_HOUR} >= 8"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "ok: 1 expression compile\n");
    assert!(
        r.stderr.contains("argument 1:1: warning[L101]"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("fix: %{TIME_HOUR} >= \"08\""),
        "{}",
        r.stderr
    );
    // … unless --deny-warnings.
    let r = run(&["check", "--deny-warnings", "%{TIME_HOUR} >= 8"]);
    assert_eq!(r.code, 2);
    let r = run(&[
        "check",
        "--deny-warnings",
        "--allow",
        "L101",
        "%{TIME_HOUR} >= 8",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Notes are not warnings.
    let r = run(&[
        "check",
        "--deny-warnings",
        r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU} eq "x""#,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("note[L111]"));
    let r = run(&["check", "--allow", "L999", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a lint code"), "{}", r.stderr);
    // The comment form in -f files applies to the next expression only.
    let file = temp(
        "policies.txt",
        b"# sslrequire: allow L101\n%{TIME_HOUR} >= 8\n%{TIME_HOUR} < 8\n",
    );
    let r = run(&["check", "--json", "--deny-warnings", "-f", &file]);
    assert_eq!(r.code, 2);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["warnings"], 1);
    assert_eq!(v["failed"], 0);
    assert_eq!(v["lints"][0]["line"], 3);
    assert_eq!(v["lints"][0]["code"], "L101");
    assert_eq!(v["lints"][0]["severity"], "warning");
    assert_eq!(v["lints"][0]["span"], serde_json::json!([0, 16]));
    let bad = temp("bad.txt", b"# sslrequire: allow NOPE\ntrue\n");
    let r = run(&["check", "-f", &bad]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.txt:1:"), "{}", r.stderr);
}
