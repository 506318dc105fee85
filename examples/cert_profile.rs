//! A certificate read, or a session's every variable printed, in a loop:
//! the workload of the `certificate` rows of BENCHMARKS.md, for a profiler.
//!
//! ```text
//! cargo build --release --example cert_profile
//! N=2000 valgrind --tool=callgrind ./target/release/examples/cert_profile parse
//! N=2000 valgrind --tool=callgrind ./target/release/examples/cert_profile all
//! perf record -g ./target/release/examples/cert_profile all
//! ```
//! (instructions, not time: this machine is shared, and instruction counts
//! are what compare from one change to the next).

use sslrequire::session::{EnvOptions, LazyCert, Session, SessionEnv};
fn main() {
    let pem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/apache-2.4.71/certs/alice.crt"
    ))
    .expect("alice.crt");
    let der = sslrequire::env::cert::Cert::from_pem_chain(&pem).unwrap()[0]
        .der()
        .to_vec();
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-25T16:49:37Z").unwrap();
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let t = std::time::Instant::now();
    let mut total = 0;
    for _ in 0..n {
        if mode == "parse" {
            total += sslrequire::env::cert::Cert::from_der(&der).is_ok() as usize;
        } else {
            let s = Session {
                time: Some(time),
                client_chain: vec![LazyCert::from_der(der.clone())],
                ..Session::default()
            };
            total += SessionEnv::new(&s, EnvOptions::default()).export().len();
        }
    }
    eprintln!("{} ns/iter ({total})", t.elapsed().as_nanos() / n as u128);
}
