//! Test vectors from files: every `tests/vectors/*.toml`, each `[[test]]`
//! run in both dialects, compiled and in reparse mode.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use sslrequire::{Dialect, Machine, ProgramBuilder, Reparser, VarMap};

#[derive(Deserialize)]
struct File {
    test: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    expr: String,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    env22: BTreeMap<String, String>,
    #[serde(default)]
    env24: BTreeMap<String, String>,
    #[serde(default)]
    ext: Vec<(String, String)>,
    expect22: Option<Expect>,
    expect24: Option<Expect>,
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Expect {
    Bool(bool),
    /// "parse", "eval" or an error code.
    Error(String),
}

fn outcome(r: &Result<bool, sslrequire::Error>) -> String {
    match r {
        Ok(b) => b.to_string(),
        Err(e) => e.code().to_string(),
    }
}

fn matches(expect: &Expect, got: &Result<bool, sslrequire::Error>) -> bool {
    match (expect, got) {
        (Expect::Bool(b), Ok(g)) => b == g,
        (Expect::Error(e), Err(err)) => match e.as_str() {
            "parse" => !err.code().starts_with("E3"),
            "eval" => err.code().starts_with("E3"),
            code => err.code() == code,
        },
        _ => false,
    }
}

#[test]
fn vector_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let tmp = std::env::temp_dir().join(format!("sslrequire-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let yes = tmp.join("f");
    std::fs::write(&yes, "yes\n").unwrap();

    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut names = std::collections::HashSet::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for v in file.test {
            assert!(
                names.insert(v.name.clone()),
                "duplicate vector name {}",
                v.name
            );
            let expr = v.expr.replace("@FILE@", yes.to_str().unwrap());
            for (dialect, expect, extra) in [
                (Dialect::V22, &v.expect22, &v.env22),
                (Dialect::V24, &v.expect24, &v.env24),
            ] {
                let Some(expect) = expect else { continue };
                let mut env = VarMap::new();
                // The vectors read files as Apache does: anywhere.
                env.set_files(sslrequire::env::FileAccess::under("/").expect("/"));
                for (k, val) in v.env.iter().chain(extra) {
                    env.set(k, val.as_bytes())
                        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
                }
                for (id, val) in &v.ext {
                    env.add_extension(id, val.as_bytes());
                }
                let mut b = ProgramBuilder::new();
                b.dialect(dialect);
                let got = b.build(&expr).and_then(|p| p.eval(&env));
                let reparsed =
                    Reparser::with_dialect(dialect, 4).eval(&expr, &mut Machine::new(), &env);
                checked += 1;
                if !matches(expect, &got) {
                    failures.push(format!(
                        "{} [{dialect}] {expr}: expected {expect:?}, got {}",
                        v.name,
                        match &got {
                            Ok(b) => b.to_string(),
                            Err(e) => e.to_string(),
                        }
                    ));
                }
                if outcome(&got) != outcome(&reparsed) {
                    failures.push(format!("{} [{dialect}]: reparse mode differs", v.name));
                }
            }
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
    assert!(
        failures.is_empty(),
        "{} of {checked} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{checked} vector runs passed");
}
