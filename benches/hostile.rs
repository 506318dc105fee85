//! Hostile client certificates (tests/support/hostile.rs) beside a normal
//! one: parsing, and parsing plus every exported variable and the
//! extension lists an expression can read. See BENCHMARKS.md.

#[path = "../tests/support/hostile.rs"]
mod hostile;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use sslrequire::env::cert::Cert;
use sslrequire::session::{EnvOptions, LazyCert, Session, SessionEnv};

fn hostile_certificates(c: &mut Criterion) {
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-25T16:49:37Z").expect("time");
    let certs = [("normal", hostile::normal()), ("worst", hostile::worst())];
    let mut g = c.benchmark_group("hostile");
    for (label, der) in &certs {
        g.bench_function(format!("parse/{label}"), |b| {
            b.iter(|| Cert::from_der(black_box(der)).is_ok())
        });
        g.bench_function(format!("parse+print-all/{label}"), |b| {
            b.iter(|| {
                let s = Session {
                    time: Some(time),
                    client_chain: vec![LazyCert::from_der(black_box(der).clone())],
                    ..Session::default()
                };
                let env = SessionEnv::new(&s, EnvOptions::default());
                let n = env.export().len();
                let cert = s.client_chain[0].get().expect("parses");
                let exts: usize = ["subjectAltName", "certificatePolicies", "extendedKeyUsage"]
                    .iter()
                    .map(|id| cert.extension_values(id, false).len())
                    .sum();
                n + exts
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hostile_certificates);
criterion_main!(benches);
