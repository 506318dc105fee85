//! Policy decisions per second of `sslrequire serve postfix`, end to end:
//! the release binary started as Postfix would use it, the test policy of
//! tests/postfix_util (6 rules), the 74 recorded requests of the mail
//! reference in turn, over one connection and over 8 concurrent ones (each
//! carrying requests one after the other, as Postfix does). The server logs
//! every decision to stderr, as in production.
//!
//! Run: `cargo bench --bench postfix` (BENCHMARKS.md, "Postfix policy server").

#[path = "../tests/postfix_util/mod.rs"]
mod postfix_util;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use postfix_util::*;

const CONCURRENT: usize = 8;

fn requests() -> Vec<Vec<u8>> {
    recorded()
        .iter()
        .flat_map(|s| s.requests.iter().map(|r| encode(r)))
        .collect()
}

/// One request out, one answer back.
fn roundtrip(s: &mut TcpStream, request: &[u8]) {
    s.write_all(request).unwrap();
    read_answer(s).expect("an answer");
}

fn bench(c: &mut Criterion) {
    let dir = scratch("bench");
    let server = Server::start(&dir, &test_policy(), &[]);
    let requests = requests();
    assert_eq!(requests.len(), 74);

    let mut g = c.benchmark_group("postfix_policy");
    g.measurement_time(Duration::from_secs(8));
    g.sample_size(30);

    g.throughput(Throughput::Elements(1));
    let mut one = server.connect();
    let mut i = 0;
    g.bench_function("one_connection", |b| {
        b.iter(|| {
            roundtrip(&mut one, &requests[i % requests.len()]);
            i += 1;
        })
    });

    g.throughput(Throughput::Elements(CONCURRENT as u64));
    let mut conns: Vec<TcpStream> = (0..CONCURRENT).map(|_| server.connect()).collect();
    g.bench_function(format!("{CONCURRENT}_connections"), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for (k, conn) in conns.iter_mut().enumerate() {
                    let requests = &requests;
                    scope.spawn(move || {
                        for n in 0..iters as usize {
                            roundtrip(conn, &requests[(n + k * 9) % requests.len()]);
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    g.finish();
    assert!(server.log_lines(" verdict=").len() > 1000);
}

criterion_group!(benches, bench);
criterion_main!(benches);
