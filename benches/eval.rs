//! sslrequire against the limit (hand-written Rust) and against a peer
//! (CEL, the `cel` crate), on four workloads; plus compile, per-request
//! environment, reparse mode, certificates, audit and scale.
//!
//! Run: `cargo bench --bench eval`. Ratios, not absolute times, are what
//! BENCHMARKS.md reports (this machine is shared and noisy).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use regex::bytes::Regex;
use sslrequire::session::{EnvOptions, LazyCert, Session, SessionEnv};
use sslrequire::{Machine, Program, Reparser, VarMap};

const W1: &str = r#"( %{SSL_CIPHER} !~ m/^(EXP|NULL)-/ and %{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd." and %{SSL_CLIENT_S_DN_OU} in {"Staff", "CA", "Dev"} and %{TIME_WDAY} >= 1 and %{TIME_WDAY} <= 5 and %{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20 ) or %{REMOTE_ADDR} =~ m/^192\.76\.162\.[0-9]+$/"#;
const W2: &str = r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq "alice""#;
const W4: &str = r#"%{SSL_CLIENT_S_DN} =~ m/^CN=[a-z]+,OU=Staff,O=Snake Oil/i"#;

fn w3() -> String {
    let names: Vec<String> = (0..49)
        .map(|i| format!("\"user{i:02}\""))
        .chain(["\"alice\"".into()])
        .collect();
    format!("%{{SSL_CLIENT_S_DN_CN}} in {{ {} }}", names.join(", "))
}

/// The 20 variables a proxy supplies per request, borrowed.
const NAMES: [&str; 20] = [
    "SSL_CIPHER",
    "SSL_PROTOCOL",
    "SSL_CLIENT_S_DN_O",
    "SSL_CLIENT_S_DN_OU",
    "SSL_CLIENT_S_DN_CN",
    "SSL_CLIENT_S_DN",
    "SSL_CLIENT_I_DN",
    "SSL_CLIENT_VERIFY",
    "SSL_CLIENT_M_SERIAL",
    "SSL_CLIENT_V_END",
    "SSL_TLS_SNI",
    "SSL_SESSION_ID",
    "TIME_WDAY",
    "TIME_HOUR",
    "REMOTE_ADDR",
    "HTTP_HOST",
    "HTTP_USER_AGENT",
    "REQUEST_URI",
    "SSL_CIPHER_USEKEYSIZE",
    "SERVER_NAME",
];

fn values() -> [String; 20] {
    [
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLSv1.2",
        "Snake Oil, Ltd.",
        "Dev",
        "alice",
        "CN=alice,OU=Staff,O=Snake Oil\\, Ltd.",
        "CN=Snake Oil CA,O=Snake Oil\\, Ltd.",
        "SUCCESS",
        "0A1B2C",
        "Nov 25 16:43:29 2027 GMT",
        "www.example.com",
        "426e903793db1d0a78ac08ada9d04ecf8fd4bec7c206e17f427732d34469c8ef",
        "3",
        "14",
        "10.1.2.3",
        "www.example.com",
        "curl/8.5.0",
        "/index.html",
        "256",
        "www.example.com",
    ]
    .map(String::from)
}

/// The limit: hand-written Rust per workload, regexes compiled once,
/// variables in fixed fields.
struct Fixed {
    cipher: String,
    o: String,
    ou: String,
    cn: String,
    dn: String,
    verify: String,
    wday: String,
    hour: String,
    addr: String,
}

struct Hand {
    exp_null: Regex,
    addr: Regex,
    w4: Regex,
    w3: Vec<&'static [u8]>,
}

/// mod_ssl's strcmplex, written out.
fn lex(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        a.iter()
            .zip(b)
            .find(|(x, y)| x != y)
            .map_or(std::cmp::Ordering::Equal, |(x, y)| {
                (*x as i8).cmp(&(*y as i8))
            })
    })
}

impl Hand {
    fn new() -> Hand {
        let w3: Vec<&'static [u8]> = (0..49)
            .map(|i| &*Box::leak(format!("user{i:02}").into_bytes().into_boxed_slice()))
            .chain([&b"alice"[..]])
            .collect();
        Hand {
            exp_null: Regex::new("(?s-u)^(EXP|NULL)-").unwrap(),
            addr: Regex::new(r"(?s-u)^192\.76\.162\.[0-9]+$").unwrap(),
            w4: Regex::new("(?is-u)^CN=[a-z]+,OU=Staff,O=Snake Oil").unwrap(),
            w3,
        }
    }

    fn w1(&self, f: &Fixed) -> bool {
        use std::cmp::Ordering::*;
        (!self.exp_null.is_match(f.cipher.as_bytes())
            && f.o == "Snake Oil, Ltd."
            && ["Staff", "CA", "Dev"].contains(&f.ou.as_str())
            && lex(f.wday.as_bytes(), b"1") != Less
            && lex(f.wday.as_bytes(), b"5") != Greater
            && lex(f.hour.as_bytes(), b"8") != Less
            && lex(f.hour.as_bytes(), b"20") != Greater)
            || self.addr.is_match(f.addr.as_bytes())
    }

    fn w2(&self, f: &Fixed) -> bool {
        f.verify == "SUCCESS" && f.cn == "alice"
    }

    fn w3(&self, f: &Fixed) -> bool {
        self.w3.contains(&f.cn.as_bytes())
    }

    fn w4(&self, f: &Fixed) -> bool {
        self.w4.is_match(f.dn.as_bytes())
    }
}

fn fixed(v: &[String; 20]) -> Fixed {
    Fixed {
        cipher: v[0].clone(),
        o: v[2].clone(),
        ou: v[3].clone(),
        cn: v[4].clone(),
        dn: v[5].clone(),
        verify: v[7].clone(),
        wday: v[12].clone(),
        hour: v[13].clone(),
        addr: v[14].clone(),
    }
}

/// The peer: the same policies in CEL. Differences: CEL compares strings
/// lexicographically, so TIME_* are given as integers; `in` is list
/// membership; regexes are RE2 (the `regex` crate) over Unicode strings.
const CEL_W1: &str = r#"(!cipher.matches('^(EXP|NULL)-') && o == 'Snake Oil, Ltd.' && ou in ['Staff', 'CA', 'Dev'] && wday >= 1 && wday <= 5 && hour >= 8 && hour <= 20) || addr.matches('^192\\.76\\.162\\.[0-9]+$')"#;
/// CEL with the regexes compiled once, as host functions (CEL's own
/// `matches` compiles its pattern on every call).
const CEL_W1_PRE: &str = r#"(!exp_null(cipher) && o == 'Snake Oil, Ltd.' && ou in ['Staff', 'CA', 'Dev'] && wday >= 1 && wday <= 5 && hour >= 8 && hour <= 20) || addr_192(addr)"#;
const CEL_W2: &str = r#"verify == 'SUCCESS' && cn == 'alice'"#;
const CEL_W4: &str = r#"dn.matches('(?i)^CN=[a-z]+,OU=Staff,O=Snake Oil')"#;

fn cel_w3() -> String {
    let names: Vec<String> = (0..49)
        .map(|i| format!("'user{i:02}'"))
        .chain(["'alice'".into()])
        .collect();
    format!("cn in [{}]", names.join(", "))
}

fn cel_context(v: &[String; 20]) -> cel::Context<'static, 'static> {
    let mut ctx = cel::Context::default();
    for (name, i) in [
        ("cipher", 0),
        ("o", 2),
        ("ou", 3),
        ("cn", 4),
        ("dn", 5),
        ("verify", 7),
        ("addr", 14),
    ] {
        ctx.add_variable_from_value(name, v[i].clone());
    }
    ctx.add_variable_from_value("wday", v[12].parse::<i64>().unwrap());
    ctx.add_variable_from_value("hour", v[13].parse::<i64>().unwrap());
    let exp_null = Arc::new(regex::Regex::new("^(EXP|NULL)-").unwrap());
    let addr = Arc::new(regex::Regex::new(r"^192\.76\.162\.[0-9]+$").unwrap());
    ctx.add_function("exp_null", move |s: Arc<String>| exp_null.is_match(&s))
        .expect("function");
    ctx.add_function("addr_192", move |s: Arc<String>| addr.is_match(&s))
        .expect("function");
    ctx
}

fn eval(c: &mut Criterion) {
    let v = values();
    let refs: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
    let f = fixed(&v);
    let hand = Hand::new();
    let ctx = cel_context(&v);
    let w3 = w3();
    let cel_w3 = cel_w3();
    let mut g = c.benchmark_group("eval");
    type Case<'a> = (&'a str, &'a str, &'a dyn Fn(&Fixed) -> bool, &'a str);
    let cases: [Case<'_>; 4] = [
        ("W1", W1, &|f| hand.w1(f), CEL_W1),
        ("W2", W2, &|f| hand.w2(f), CEL_W2),
        ("W3", &w3, &|f| hand.w3(f), &cel_w3),
        ("W4", W4, &|f| hand.w4(f), CEL_W4),
    ];
    for (name, src, hand_fn, cel_src) in cases {
        let p = Program::new(src).expect("compiles");
        let layout = p.layout(&NAMES).expect("layout");
        let env = layout.bind(&p, &refs).expect("the layout of p");
        let mut m = Machine::new();
        assert!(env.eval_with(&mut m).unwrap(), "{name}");
        assert!(hand_fn(&f), "{name} hand-written");
        let cel = cel::Program::compile(cel_src).expect("CEL compiles");
        assert_eq!(
            cel.execute(&ctx).unwrap(),
            cel::Value::Bool(true),
            "{name} CEL"
        );
        g.bench_function(format!("{name}/sslrequire"), |b| {
            b.iter(|| black_box(&env).eval_with(&mut m))
        });
        g.bench_function(format!("{name}/hand-written"), |b| {
            b.iter(|| hand_fn(black_box(&f)))
        });
        g.bench_function(format!("{name}/cel"), |b| {
            b.iter(|| cel.execute(black_box(&ctx)))
        });
    }
    let cel_pre = cel::Program::compile(CEL_W1_PRE).unwrap();
    assert_eq!(cel_pre.execute(&ctx).unwrap(), cel::Value::Bool(true));
    g.bench_function("W1/cel-precompiled-regex", |b| {
        b.iter(|| cel_pre.execute(black_box(&ctx)))
    });
    g.finish();
}

/// What the machine keeps between evaluations: PCRE2's match data and
/// context (a pattern with lookahead runs in PCRE2), and capture scratch
/// when one machine alternates between programs, as a multi-tenant proxy
/// does on every request.
fn machine(c: &mut Criterion) {
    let v = values();
    let refs: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
    let mut g = c.benchmark_group("machine");
    let mut m = Machine::new();
    let pcre = Program::new(r#"%{SSL_CLIENT_S_DN_CN} =~ m/^(?=a)alice$/"#).unwrap();
    assert!(pcre.listing().contains("pcre2"));
    let layout = pcre.layout(&NAMES).unwrap();
    let env = layout.bind(&pcre, &refs).unwrap();
    assert!(env.eval_with(&mut m).unwrap());
    g.bench_function("pcre2-match", |b| {
        b.iter(|| black_box(&env).eval_with(&mut m))
    });
    let one = Program::new(r#"%{SSL_CLIENT_S_DN_CN} =~ m/^(a)l/ and $1 == "a""#).unwrap();
    let two = Program::new(r#"%{SSL_CIPHER} =~ m/^(\w+)-(\w+)/ and $2 == "RSA""#).unwrap();
    let mut env = VarMap::new();
    for (n, val) in NAMES.iter().zip(&v) {
        env.set(n, val.as_bytes()).unwrap();
    }
    assert!(one.eval_with(&mut m, &env).unwrap() && two.eval_with(&mut m, &env).unwrap());
    g.bench_function("captures-two-programs-alternating", |b| {
        b.iter(|| {
            one.eval_with(&mut m, black_box(&env)).unwrap()
                && two.eval_with(&mut m, black_box(&env)).unwrap()
        })
    });
    g.finish();
}

fn per_request(c: &mut Criterion) {
    let v = values();
    let p = Program::new(W1).unwrap();
    let layout = p.layout(&NAMES).unwrap();
    let mut m = Machine::new();
    let mut g = c.benchmark_group("per-request");
    // From 20 borrowed strings to a verdict: bind + eval.
    g.bench_function("W1/bind+eval", |b| {
        b.iter(|| {
            let refs: [&[u8]; 20] = std::array::from_fn(|i| black_box(v[i].as_bytes()));
            let env = layout.bind(&p, &refs).expect("the layout of p");
            env.eval_with(&mut m)
        })
    });
    // The same through a name-keyed map (what a caller without a layout
    // would do).
    g.bench_function("W1/varmap+eval", |b| {
        b.iter(|| {
            let mut env = sslrequire::VarMap::new();
            for (n, val) in NAMES.iter().zip(&v) {
                env.set(n, black_box(val.as_bytes())).unwrap();
            }
            p.eval_with(&mut m, &env)
        })
    });
    // The same by name over borrowed values (`VarRefs`: names resolved
    // once per thread, values not copied).
    g.bench_function("W1/varrefs+eval", |b| {
        b.iter(|| {
            let mut env = sslrequire::VarRefs::new();
            for (n, val) in NAMES.iter().zip(&v) {
                env.set(n, black_box(val.as_bytes())).unwrap();
            }
            p.eval_with(&mut m, &env)
        })
    });
    g.finish();
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    let w3 = w3();
    for (name, src) in [("W1", W1), ("W2", W2), ("W3", w3.as_str()), ("W4", W4)] {
        // Regexes come from the process-wide cache while a program that
        // uses them is loaded (the cache holds them weakly): keep one.
        let _loaded = Program::new(src).unwrap();
        g.bench_function(format!("{name}/regexes-cached"), |b| {
            b.iter(|| Program::new(black_box(src)))
        });
    }
    // Every iteration a new pattern, so its regexes are compiled.
    let mut n = 0u64;
    g.bench_function("W1/with-regex-compilation", |b| {
        b.iter_batched(
            || {
                n += 1;
                W1.replace("NULL)-", &format!("NULL)-{n}"))
            },
            |src| Program::new(&src),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("W1/parse-only", |b| {
        b.iter(|| sslrequire::parse(black_box(W1)))
    });
    g.finish();
}

fn reparse(c: &mut Criterion) {
    let v = values();
    let refs: Vec<&[u8]> = v.iter().map(|s| s.as_bytes()).collect();
    let mut env = sslrequire::VarMap::new();
    for (n, val) in NAMES.iter().zip(&refs) {
        env.set(n, *val).unwrap();
    }
    let mut m = Machine::new();
    let mut g = c.benchmark_group("reparse");
    let cached = Reparser::new();
    cached.eval(W1, &mut m, &env).unwrap();
    g.bench_function("W1/cache-hit+eval", |b| {
        b.iter(|| cached.eval(black_box(W1), &mut m, &env))
    });
    g.bench_function("W1/cache-hit-lookup", |b| {
        b.iter(|| cached.program(black_box(W1)))
    });
    let cold = Reparser::with_dialect(sslrequire::Dialect::V24, 0);
    g.bench_function("W1/cold+eval", |b| {
        b.iter(|| cold.eval(black_box(W1), &mut m, &env))
    });
    g.finish();
}

fn certificate(c: &mut Criterion) {
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
    g.bench_function("parse", |b| {
        b.iter(|| sslrequire::env::cert::Cert::from_der(black_box(&der)))
    });
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
    // Issue 11: the worst certificates we built (tests/hostile_cert.rs),
    // parsed and then every variable read, beside alice's.
    let huge_arc = hostile::alice_with(
        None,
        &[hostile::extension(&hostile::huge_arc_oid(60_000), "x")],
    );
    let long_oids: Vec<Vec<u8>> = (0..80)
        .map(|i| {
            let mut oid = hostile::long_oid(580);
            oid.push(i);
            hostile::extension(&oid, "x")
        })
        .collect();
    let long_rdns: Vec<u8> = (0..80)
        .flat_map(|i: u8| {
            let mut oid = hostile::long_oid(580);
            oid.push(i);
            hostile::rdn(&oid, "v")
        })
        .collect();
    let many_long_oids = hostile::alice_with(Some(long_rdns), &long_oids);
    let many: Vec<Vec<u8>> = (0..256u32)
        .map(|i| {
            let arc = 128 + i;
            hostile::extension(&[42, 3, 0x80 | (arc >> 7) as u8, (arc & 0x7f) as u8], "e")
        })
        .collect();
    let rdns: Vec<u8> = (0..247)
        .flat_map(|_| hostile::rdn(&[85, 4, 11], "ou"))
        .collect();
    let many_parts = hostile::alice_with(Some(rdns), &many);
    for (name, der) in [
        ("alice", &der),
        ("60KB-arc-extension", &huge_arc),
        ("160-oids-of-581B-in-names-and-extensions", &many_long_oids),
        ("256-extensions-256-attributes", &many_parts),
    ] {
        g.bench_function(format!("hostile/{name}/{}B/parse", der.len()), |b| {
            b.iter(|| sslrequire::env::cert::Cert::from_der(black_box(der)))
        });
        g.bench_function(
            format!("hostile/{name}/{}B/all-variables", der.len()),
            |b| {
                b.iter(|| {
                    let s = session_with(black_box(der));
                    SessionEnv::new(&s, EnvOptions::default()).export().len()
                })
            },
        );
    }
    g.finish();
}

#[path = "../tests/support/hostile_cert.rs"]
#[allow(dead_code)]
mod hostile;

fn audit(c: &mut Criterion) {
    let alice = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sessions/alice-tls13.json"
    ))
    .unwrap();
    let full: serde_json::Value = serde_json::from_str(&alice).unwrap();
    let mut plain = full.clone();
    plain
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.ends_with("_chain"));
    let (full, plain) = (full.to_string(), plain.to_string());
    let p = Program::new(W1).unwrap();
    let mut m = Machine::new();
    let mut g = c.benchmark_group("audit");
    for (name, line) in [
        ("session-without-certificates", &plain),
        ("session-with-certificates", &full),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let s = Session::from_json(black_box(line)).unwrap();
                p.eval_with(&mut m, &SessionEnv::new(&s, EnvOptions::default()))
            })
        });
    }
    // As `audit` reads a log: one CertCache for the run, so a line whose
    // certificates an earlier line had parses none of them again.
    let certs = sslrequire::session::CertCache::default();
    g.bench_function("session-with-certificates/shared", |b| {
        b.iter(|| {
            let (s, _) = Session::from_json_shared(black_box(&full), &certs).unwrap();
            p.eval_with(&mut m, &SessionEnv::new(&s, EnvOptions::default()))
        })
    });
    g.finish();
}

/// 10 000 distinct policies of W1's size: compile them all, and evaluate
/// with all of them loaded. Resident memory is printed once.
fn scale(c: &mut Criterion) {
    let policies: Vec<String> = (0..10_000)
        .map(|i| W1.replace("\"Snake Oil, Ltd.\"", &format!("\"Tenant {i}, Ltd.\"")))
        .collect();
    let rss = || {
        std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| {
                s.split_whitespace()
                    .nth(1)
                    .and_then(|p| p.parse::<u64>().ok())
            })
            .map_or(0, |pages| pages * 4096)
    };
    let before = rss();
    let t = std::time::Instant::now();
    let programs: Vec<Program> = policies.iter().map(|s| Program::new(s).unwrap()).collect();
    let elapsed = t.elapsed();
    let after = rss();
    eprintln!(
        "scale: 10000 W1-sized policies compiled in {:.3} s; resident memory +{:.1} MiB ({} B per program)",
        elapsed.as_secs_f64(),
        (after.saturating_sub(before)) as f64 / (1 << 20) as f64,
        after.saturating_sub(before) / 10_000
    );
    let v = values();
    let mut env = sslrequire::VarMap::new();
    for (n, val) in NAMES.iter().zip(&v) {
        env.set(n, val.as_bytes()).unwrap();
    }
    let mut g = c.benchmark_group("scale");
    g.sample_size(10);
    g.bench_function("compile-10000-policies", |b| {
        b.iter(|| {
            policies
                .iter()
                .map(|s| Program::new(s).unwrap())
                .collect::<Vec<_>>()
        })
    });
    let mut m = Machine::new();
    let mut i = 0;
    g.bench_function("eval-one-of-10000", |b| {
        b.iter(|| {
            i = (i + 7919) % programs.len();
            programs[i].eval_with(&mut m, black_box(&env))
        })
    });
    g.finish();
}

/// Issue 11: what the worst expressions of about 1 KiB cost, beside W1.
/// `check` (compile) of 80 nested `base64()` stops at the 1 MiB value
/// limit (E209); evaluating 40 capture doublings stops there too (E305);
/// and the same with a 16 MiB limit, for the trade-off.
fn hostile(c: &mut Criterion) {
    let mut g = c.benchmark_group("hostile");
    g.sample_size(10);
    let nested = format!(
        "{}\"{}\"{} == \"x\"",
        "base64(".repeat(80),
        "a".repeat(100),
        ")".repeat(80)
    );
    assert_eq!(Program::new(&nested).unwrap_err().code(), "E209");
    g.bench_function("check/W1", |b| b.iter(|| Program::new(black_box(W1))));
    g.bench_function("check/nested-base64-749B", |b| {
        b.iter(|| Program::new(black_box(&nested)))
    });
    let doubling = format!(
        "%{{REMOTE_USER}} =~ m/(.+)/ and {}",
        vec!["$0 . $0 =~ m/(.*)/"; 40].join(" and ")
    );
    let p = Program::new(&doubling).unwrap();
    let mut env = VarMap::new();
    env.set("REMOTE_USER", vec![b'u'; 1024]).unwrap();
    assert_eq!(p.eval(&env).unwrap_err().code(), "E305");
    let mut large = sslrequire::ProgramBuilder::new();
    large.value_limit(16 << 20);
    let p_large = large.build(&doubling).unwrap();
    let nested_large = large.build(&nested).unwrap_err();
    assert_eq!(nested_large.code(), "E209");
    let mut m = Machine::new();
    g.bench_function("eval/capture-doubling-945B", |b| {
        b.iter(|| p.eval_with(&mut m, black_box(&env)))
    });
    g.bench_function("check/nested-base64-749B-limit-16MiB", |b| {
        b.iter(|| large.build(black_box(&nested)))
    });
    g.bench_function("eval/capture-doubling-945B-limit-16MiB", |b| {
        b.iter(|| p_large.eval_with(&mut m, black_box(&env)))
    });
    g.finish();
}

criterion_group!(
    benches,
    eval,
    hostile,
    machine,
    per_request,
    compile,
    reparse,
    certificate,
    audit,
    scale
);
criterion_main!(benches);
