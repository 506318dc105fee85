//! The lints: every documented example triggers its lint and its fixed form
//! does not; the public corpus (tests/compat/corpus.txt, tests/vectors/)
//! fires exactly the lints listed in tests/compat/lint-expected.txt — the
//! expressions there are footguns on purpose (the corpus tests Apache's
//! semantics: constant comparisons, identity without verification, names
//! that read "", …) — and nothing on any other expression.
//! `SSLREQUIRE_BLESS=1 cargo test --test lints` rewrites the list (review
//! the diff: every new line must be a real footgun).

use std::collections::BTreeMap;
use std::path::Path;

use sslrequire::lint::{lint, Severity, LINTS};
use sslrequire::{Dialect, ParserBuilder};

fn lints(src: &str, dialect: Dialect) -> Vec<sslrequire::Lint> {
    let e = ParserBuilder::new()
        .dialect(dialect)
        .build()
        .parse(src)
        .unwrap_or_else(|e| panic!("{src}: {e}"));
    lint(&e, src, dialect)
}

#[test]
fn every_example_triggers_its_lint_and_the_fix_is_clean() {
    for info in LINTS {
        let got = lints(info.example, info.dialect);
        assert!(
            got.iter().any(|l| l.code == info.code),
            "{}: the example `{}` does not trigger it: {got:?}",
            info.code,
            info.example
        );
        let after = lints(info.fixed, info.dialect);
        assert!(
            after.is_empty(),
            "{}: the fixed form `{}` still lints: {after:?}",
            info.code,
            info.fixed
        );
        // Both forms compile.
        for src in [info.example, info.fixed] {
            sslrequire::ProgramBuilder::new()
                .dialect(info.dialect)
                .build(src)
                .unwrap_or_else(|e| panic!("{}: {src}: {e}", info.code));
        }
        assert_eq!(
            got.iter().find(|l| l.code == info.code).unwrap().severity,
            info.severity
        );
    }
}

#[test]
fn suggested_fixes_are_clean_for_their_lint() {
    // Where a lint offers the fixed expression, that text no longer
    // triggers the same lint at the same place.
    for src in [
        r#"%{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20"#,
        r#"%{TIME_HOUR} < 8 or %{TIME_HOUR} > 18"#,
        r#"%{TIME_MON} == 3"#,
        r#"%{SSL_CIPHER_USEKEYSIZE} >= 0128"#,
        r#"%{SSL_CLIENT_S_DN_email} eq "a@example.com""#,
        r#"%{ssl_client_s_dn_cn} eq "alice""#,
        r#"%{SSL_CLIENT_VERIFY} in {"SUCCESS", "GENEROUS"}"#,
        r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN} eq "/C=US/O=Example/CN=alice""#,
        r#"%{SSL_CLIENT_S_DN_CN} eq "alice""#,
    ] {
        let before = lints(src, Dialect::V24);
        assert!(!before.is_empty(), "{src}: no lint");
        for l in before.iter().filter(|l| l.fix.is_some()) {
            let fixed = l.fix.as_deref().unwrap();
            let after = lints(fixed, Dialect::V24);
            assert!(
                !after
                    .iter()
                    .any(|a| a.code == l.code && a.message == l.message),
                "{src}: the fix `{fixed}` for {} does not fix it: {after:?}",
                l.code
            );
        }
    }
}

#[test]
fn measured_pitfalls() {
    let codes = |src: &str| -> Vec<&'static str> {
        lints(src, Dialect::V24).iter().map(|l| l.code).collect()
    };
    // The manual's office hours: >= 8 is always true, <= 20 is right.
    let l = lints(r#"%{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20"#, Dialect::V24);
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].code, "L101");
    assert!(l[0].message.contains("always true"), "{}", l[0].message);
    assert_eq!(
        l[0].fix.as_deref(),
        Some(r#"%{TIME_HOUR} >= "08" and %{TIME_HOUR} <= 20"#)
    );
    assert!(lints("%{TIME_HOUR} < 8", Dialect::V24)[0]
        .message
        .contains("always false"));
    assert_eq!(codes(r#"%{TIME_HOUR} == "8""#), ["L101"]);
    assert_eq!(codes(r#"%{TIME_HOUR} =~ m/^8$/"#), ["L104"]);
    assert!(codes(r#"%{TIME_HOUR} >= "08" and %{TIME_WDAY} >= 1"#).is_empty());
    assert_eq!(codes(r#"%{SSL_CIPHER_USEKEYSIZE} in {"0128"}"#), ["L104"]);
    assert!(codes(r#"%{SSL_CIPHER_USEKEYSIZE} >= 128"#).is_empty());
    assert!(codes(r#"%{SSL_PROTOCOL} >= "TLSv1.2""#).is_empty());
    // Verification: a guard in every allowing branch silences L120.
    assert!(
        codes(r#"%{SSL_CLIENT_VERIFY} == "SUCCESS" && %{SSL_CLIENT_S_DN_CN} == "a""#).is_empty()
    );
    assert!(codes(
        r#"(%{SSL_CLIENT_VERIFY} == "SUCCESS" && %{SSL_CLIENT_S_DN_CN} == "a") || (%{SSL_CLIENT_VERIFY} eq "SUCCESS" && %{SSL_CLIENT_SAN_Email_0} == "b")"#
    )
    .is_empty());
    assert_eq!(
        codes(
            r#"(%{SSL_CLIENT_VERIFY} == "SUCCESS" && %{SSL_CLIENT_S_DN_CN} == "a") || %{SSL_CLIENT_M_SERIAL} == "0A""#
        ),
        ["L120"]
    );
    assert_eq!(codes(r#"%{SSL_CLIENT_I_DN_CN} eq "My CA""#), ["L120"]);
    assert!(
        lints(r#"%{SSL_CLIENT_I_DN_CN} eq "My CA""#, Dialect::V24)[0]
            .message
            .contains("issuer")
    );
    assert_eq!(codes(r#"%{SSL_CLIENT_VERIFY} != "NONE""#), ["L121"]);
    assert_eq!(codes(r#"%{SSL_CLIENT_VERIFY} eq "SUCESS""#), ["L104"]);
    // Names.
    let l = lints(r#"%{SSL_CLIENT_S_DN_emailAddress} eq "x""#, Dialect::V24);
    assert!(
        l[0].message.contains("did you mean SSL_CLIENT_S_DN_Email"),
        "{l:?}"
    );
    // 2.2: unknown names are "".
    assert_eq!(
        lints(
            r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{REMOTE_USR} eq "x""#,
            Dialect::V22
        )
        .iter()
        .map(|l| l.code)
        .collect::<Vec<_>>(),
        ["L110"]
    );
    // `!~` and PCRE's limits; a plain pattern is fine.
    assert_eq!(codes(r#"%{HTTP_USER_AGENT} !~ m/(a|aa)*$/"#), ["L131"]);
    assert_eq!(codes(r#"%{HTTP_USER_AGENT} !~ m/^(\w+)\1$/"#), ["L131"]);
    assert!(codes(r#"%{HTTP_USER_AGENT} !~ m/^(EXP|NULL)-/"#).is_empty());
    assert!(codes(r#"%{HTTP_USER_AGENT} =~ m/^(a+)+$/"#).is_empty());
    // Unreachable.
    assert_eq!(codes(r#"false and %{HTTP_USER_AGENT} == "x""#), ["L103"]);
    // Severity: notes are not warnings.
    assert_eq!(
        lints(
            r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU} eq "x""#,
            Dialect::V24
        )[0]
        .severity,
        Severity::Note
    );
}

/// (dialect, expression) of the public corpus that parse.
fn public_corpus() -> Vec<(Dialect, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let text = std::fs::read_to_string(root.join("tests/compat/corpus.txt")).unwrap();
    for l in text.lines() {
        if !l.trim().is_empty() && !l.starts_with('#') {
            out.push((Dialect::V24, l.to_string()));
        }
    }
    #[derive(serde::Deserialize)]
    struct File {
        test: Vec<Vector>,
    }
    #[derive(serde::Deserialize)]
    struct Vector {
        expr: String,
    }
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/vectors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in files {
        let v: File = toml::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for t in v.test {
            for d in [Dialect::V24, Dialect::V22] {
                out.push((d, t.expr.clone()));
            }
        }
    }
    out
}

#[test]
fn the_public_corpus_fires_only_the_listed_lints() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/lint-expected.txt");
    let mut got: BTreeMap<(String, String), String> = BTreeMap::new();
    for (d, src) in public_corpus() {
        let Ok(e) = ParserBuilder::new().dialect(d).build().parse(&src) else {
            continue;
        };
        let mut codes: Vec<&str> = lint(&e, &src, d).iter().map(|l| l.code).collect();
        codes.sort();
        codes.dedup();
        if !codes.is_empty() {
            got.insert((d.as_str().to_string(), src), codes.join(" "));
        }
    }
    if std::env::var_os("SSLREQUIRE_BLESS").is_some() {
        let mut text = String::from(
            "# tests/lints.rs: the lints the public corpus fires, `dialect :: codes :: expression`.\n\
             # Every line is a footgun on purpose (the corpus tests Apache's semantics). Any\n\
             # other corpus expression must fire nothing. SSLREQUIRE_BLESS=1 rewrites this file.\n",
        );
        for ((d, src), codes) in &got {
            text.push_str(&format!("{d} :: {codes} :: {src}\n"));
        }
        std::fs::write(&path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut want: BTreeMap<(String, String), String> = BTreeMap::new();
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut parts = l.splitn(3, " :: ");
        let (d, codes, src) = (
            parts.next().unwrap(),
            parts.next().expect("codes"),
            parts.next().expect("expression"),
        );
        want.insert((d.to_string(), src.to_string()), codes.to_string());
    }
    let mut problems = Vec::new();
    for (k, codes) in &got {
        match want.get(k) {
            Some(w) if w == codes => {}
            Some(w) => problems.push(format!("{} `{}`: fires {codes}, listed {w}", k.0, k.1)),
            None => problems.push(format!("{} `{}`: fires {codes}, not listed", k.0, k.1)),
        }
    }
    for (k, w) in &want {
        if !got.contains_key(k) {
            problems.push(format!("{} `{}`: listed {w}, fires nothing", k.0, k.1));
        }
    }
    let clean = public_corpus().len() - got.len();
    eprintln!(
        "lints: {} corpus expressions fire the listed lints, {clean} fire none",
        got.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_readme_documents_every_lint() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let cell = |s: &str| s.replace('|', "\\|");
    for info in LINTS {
        let row = format!(
            "| {} | {} | {} | `{}` | `{}` |",
            info.code,
            info.severity.as_str(),
            cell(info.what),
            cell(info.example),
            cell(info.fixed)
        );
        assert!(
            readme.contains(&row),
            "README.md: the Lints table lacks (or has another text for) {}:\n{row}",
            info.code
        );
    }
}

#[test]
fn lint_and_migrate_never_panic_on_what_parses() {
    // Every prefix and suffix of every corpus expression (at char
    // boundaries), plus a few odd names, in both dialects: whatever parses
    // is linted and migrated without a panic.
    let mut inputs: Vec<String> = vec![
        "%{SSL_CLIENT_S_DN_é} == 1".into(),
        "%{SSL_CLIENT_S_DN_xé_RAW} == 1".into(),
        "%{SSL_CLIENT_é_DN_CN} < 1".into(),
        "%{TIME_HOUR} < \"\\377\"".into(),
        "%{SSL_PROTOCOL} >= \"\"".into(),
        "%{SSL_CLIENT_VERIFY} =~ m/$x|$/".into(),
    ];
    for (_, src) in public_corpus() {
        let cuts: Vec<usize> = src.char_indices().map(|(i, _)| i).step_by(3).collect();
        for &c in &cuts {
            inputs.push(src[..c].to_string());
            inputs.push(src[c..].to_string());
        }
    }
    let mut parsed = 0;
    for d in [Dialect::V24, Dialect::V22] {
        let parser = ParserBuilder::new().dialect(d).build();
        for src in &inputs {
            if let Ok(e) = parser.parse(src) {
                parsed += 1;
                let _ = lint(&e, src, d);
                let _ = sslrequire::migrate::migrate(src, d);
            }
        }
    }
    assert!(parsed > 1000, "{parsed}");
}
