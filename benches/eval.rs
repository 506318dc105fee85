//! Evaluation cost of the mod_ssl manual's example and simple policies
//! (the full comparison with baselines is issue 7's).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sslrequire::{Machine, Program, VarMap};

const W1: &str = r#"( %{SSL_CIPHER} !~ m/^(EXP|NULL)-/ and %{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd." and %{SSL_CLIENT_S_DN_OU} in {"Staff", "CA", "Dev"} and %{TIME_WDAY} >= 1 and %{TIME_WDAY} <= 5 and %{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20 ) or %{REMOTE_ADDR} =~ m/^192\.76\.162\.[0-9]+$/"#;
const W2: &str = r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq "alice""#;
const W4: &str = r#"%{SSL_CLIENT_S_DN} =~ m/^CN=[a-z]+,OU=Staff,O=Snake Oil/i"#;

fn env() -> VarMap {
    let mut env = VarMap::new();
    for (k, v) in [
        ("SSL_CIPHER", "ECDHE-RSA-AES256-GCM-SHA384"),
        ("SSL_CLIENT_S_DN_O", "Snake Oil, Ltd."),
        ("SSL_CLIENT_S_DN_OU", "Dev"),
        ("TIME_WDAY", "3"),
        ("TIME_HOUR", "14"),
        ("REMOTE_ADDR", "10.1.2.3"),
        ("SSL_CLIENT_VERIFY", "SUCCESS"),
        ("SSL_CLIENT_S_DN_CN", "alice"),
        ("SSL_CLIENT_S_DN", "CN=alice,OU=Staff,O=Snake Oil\\, Ltd."),
    ] {
        env.set(k, v).expect("known variable");
    }
    env
}

fn eval(c: &mut Criterion) {
    let env = env();
    let mut g = c.benchmark_group("eval");
    for (name, src) in [("W1", W1), ("W2", W2), ("W4", W4)] {
        let p = Program::new(src).expect("compiles");
        let mut m = Machine::new();
        assert!(p.eval_with(&mut m, &env).expect("evaluates"));
        g.bench_function(name, |b| b.iter(|| p.eval_with(&mut m, black_box(&env))));
    }
    g.finish();
    c.bench_function("compile/W1", |b| b.iter(|| Program::new(black_box(W1))));
}

/// Certificate → variables: parse the DER and compute every exported
/// variable, or only what W1 reads.
fn certificate(c: &mut Criterion) {
    use sslrequire::env::{EnvOptions, LazyCert, Session, SessionEnv};
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/apache-2.4.71/certs/alice.crt"
    ))
    .expect("alice.crt");
    let der = sslrequire::env::cert::Cert::from_pem_chain(&pem).expect("pem")[0]
        .der()
        .to_vec();
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-25T16:49:37Z").expect("time");
    let session_with = |der: &[u8]| Session {
        time: Some(time),
        client_chain: vec![LazyCert::from_der(der.to_vec())],
        ..Session::default()
    };
    let mut g = c.benchmark_group("certificate");
    g.bench_function("all-variables", |b| {
        b.iter(|| {
            let s = session_with(black_box(&der));
            SessionEnv::new(&s, EnvOptions::default()).export().len()
        })
    });
    let w1 = Program::new(W1).expect("W1");
    let mut m = Machine::new();
    g.bench_function("W1-variables", |b| {
        b.iter(|| {
            let s = session_with(black_box(&der));
            w1.eval_with(&mut m, &SessionEnv::new(&s, EnvOptions::default()))
        })
    });
    g.finish();
}

criterion_group!(benches, eval, certificate);
criterion_main!(benches);
