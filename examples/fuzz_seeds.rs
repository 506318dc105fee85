//! Writes the fuzzers' seed corpora (`fuzz/corpus/<target>/`) from the
//! repository's test data: `cargo run --example fuzz_seeds` (fuzz/run.sh does
//! it before fuzzing). `SSLREQUIRE_SEED_DIR` overrides the output directory.
//!
//! - `parse`, `compile_eval`: every expression of tests/vectors/*.toml and of
//!   the Apache verdict files (with `@DATA@` as written);
//! - `roundtrip`: the same bytes (the tree generator reads them);
//! - `cert_env`: every certificate of tests/apache-2.4.71/certs/, as PEM and
//!   as DER; and the hostile certificates of tests/support/hostile.rs
//!   (OIDs over OpenSSL's 586-byte bound, a 2000-byte arc, 150 extensions);
//! - `session`: tests/sessions/*.json as given and on one line.
//!
//! File names hash the content (FNV-1a), so reruns add nothing twice.

use std::path::{Path, PathBuf};

#[path = "../tests/support/hostile.rs"]
mod hostile;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// A stable file name for `data`.
fn seed_name(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("seed-{h:016x}")
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

fn main() {
    let out = std::env::var_os("SSLREQUIRE_SEED_DIR")
        .map_or_else(|| root().join("fuzz/corpus"), PathBuf::from);
    let tests = root().join("tests");
    let mut exprs: Vec<String> = Vec::new();
    for p in files(&tests.join("vectors"), "toml") {
        let doc: toml::Value = toml::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        for t in doc["test"].as_array().into_iter().flatten() {
            if let Some(e) = t.get("expr").and_then(|e| e.as_str()) {
                exprs.push(e.to_string());
            }
        }
    }
    for p in files(&tests.join("apache-2.4.71"), "jsonl") {
        for line in std::fs::read_to_string(&p).unwrap().lines() {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(e) = row["expr"].as_str() {
                if !exprs.iter().any(|x| x == e) {
                    exprs.push(e.to_string());
                }
            }
        }
    }
    // The hostile shapes of issue 11 (tests/hostile.rs): nested pure
    // functions, captures that double, dead branches with errors, the
    // 2.2 → 2.4 retry, deep nesting behind a string.
    let nest = |f: &str, depth: usize, inner: &str| {
        format!(
            "{}{inner}{}",
            format!("{f}(").repeat(depth),
            ")".repeat(depth)
        )
    };
    exprs.extend([
        format!(
            "{} == \"x\"",
            nest("base64", 80, &format!("\"{}\"", "a".repeat(100)))
        ),
        format!("{} == \"x\"", nest("escape", 30, "%{REMOTE_USER}")),
        format!("{} != \"\"", nest("toupper", 40, "%{HTTP_USER_AGENT}")),
        format!(
            "%{{REMOTE_USER}} =~ m/(.+)/ and {}",
            vec!["$0 . $0 =~ m/(.*)/"; 30].join(" and ")
        ),
        r#"%{HTTP_USER_AGENT} !~ m/^(a+)+(?!x)$/"#.to_string(),
        r#"true or %{NOT_A_VAR} == "x""#.to_string(),
        r#"true or %{SSL_CLIENT_S_DN_CN} =~ m/[z-a]/"#.to_string(),
        r#"false and %{HTTPS} =~ m/(/ "#.to_string(),
        r#"true || "10.1.2.3" -ipmatch "10.0.0.0/99""#.to_string(),
        format!(
            r#"'"' == 'x' || {}'a' == 'a'{} || 'x"' == 'y'"#,
            "(".repeat(200),
            ")".repeat(200)
        ),
    ]);
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    for e in &exprs {
        for target in ["parse", "compile_eval", "roundtrip"] {
            seeds.push((target, e.as_bytes().to_vec()));
        }
    }
    for p in files(&tests.join("apache-2.4.71/certs"), "crt") {
        let pem = std::fs::read_to_string(&p).unwrap();
        for cert in sslrequire::env::cert::Cert::from_pem_chain(&pem).unwrap() {
            seeds.push(("cert_env", cert.der().to_vec()));
            seeds.push(("cert_env", cert.pem().into_bytes()));
        }
    }
    for der in hostile::fuzz_seeds() {
        seeds.push(("cert_env", der));
    }
    for p in files(&tests.join("sessions"), "json") {
        let text = std::fs::read_to_string(&p).unwrap();
        let one_line = serde_json::from_str::<serde_json::Value>(&text)
            .unwrap()
            .to_string();
        seeds.push(("session", text.into_bytes()));
        seeds.push(("session", one_line.into_bytes()));
    }
    let mut written = 0;
    for (target, data) in &seeds {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let path = dir.join(seed_name(data));
        if !path.exists() {
            std::fs::write(&path, data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            written += 1;
        }
    }
    eprintln!(
        "fuzz seeds: {} inputs, {written} new, in {}",
        seeds.len(),
        out.display()
    );
}
