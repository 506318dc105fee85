//! What a tenant's expression or a client's request can do to the engine
//! (issue 11): each test asserts the outcome — an error code with its span,
//! a verdict, or that the engine is still there — never a duration.
//! Hostile certificates: tests/hostile_cert.rs; the CLI's input: tests/cli.rs.

use std::sync::Arc;

use sslrequire::env::{FileAccess, Files};
use sslrequire::session::{EnvOptions, Session, SessionEnv};
use sslrequire::{Dialect, Env, Machine, ParserBuilder, Program, ProgramBuilder, RegexLimits};
use sslrequire::{Reparser, VarMap};

fn compile(dialect: Dialect, src: &str) -> Result<Program, sslrequire::Error> {
    ProgramBuilder::new().dialect(dialect).build(src)
}

fn code(dialect: Dialect, src: &str) -> &'static str {
    match compile(dialect, src) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

// ------------------------------------------------ 1. dead code is checked

#[test]
fn branches_that_never_run_are_checked_as_apache_does() {
    for (src, want, at) in [
        (r#"true or %{NOT_A_VAR} == "x""#, "E200", "NOT_A_VAR"),
        (r#"true or nosuchfunc("a") == "a""#, "E201", "nosuchfunc"),
        (r#"true or %{SSL_CLIENT_S_DN_CN} =~ m/[z-a]/"#, "E205", "a]"),
        (r#"false and %{X} =~ m/(/"#, "E200", "X"),
        (r#"false and %{HTTPS} =~ m/(/"#, "E205", "/"),
        (
            r#"true || "10.1.2.3" -ipmatch "10.0.0.0/99""#,
            "E208",
            "\"10.0.0.0/99\"",
        ),
        (
            r#"false && -R "not-a-subnet""#,
            "E208",
            "-R \"not-a-subnet\"",
        ),
        (r#"true or -q "x""#, "E203", "-q"),
        (
            r#"false and ("a" == "a" or nosuch("x") == "")"#,
            "E201",
            "nosuch",
        ),
        (r#"!(true || %{NOPE} == "")"#, "E200", "NOPE"),
    ] {
        let e = compile(Dialect::V24, src).expect_err(src);
        assert_eq!(e.code(), want, "{src}: {e}");
        assert_eq!(&src[e.span().start..e.span().end], at, "{src}: {e}");
    }
    // mod_ssl 2.2 compiles its regexes in the parser too; unknown
    // variables are "" there, so only the regex is an error.
    assert_eq!(code(Dialect::V22, r#"true or %{X} =~ m/(/"#), "E205");
    assert_eq!(code(Dialect::V22, r#"true or %{NOT_A_VAR} eq "x""#), "ok");
    // Folding still removes what never runs.
    let p = compile(Dialect::V24, r#"true or %{HTTPS} =~ m/(a)/"#).unwrap();
    assert_eq!(p.listing(), "0000  true\n");
    assert!(p.vars().is_empty());
}

// -------------------------------------------- 2. values cannot grow unbounded

/// `base64(base64(…(text)…))`, `depth` levels.
fn nested_base64(depth: usize, text: &str) -> String {
    format!("{}\"{text}\"{}", "base64(".repeat(depth), ")".repeat(depth))
}

#[test]
fn folding_stops_at_the_value_limit_with_a_span() {
    // About 700 bytes of text that would fold to petabytes.
    let src = format!("{} == \"x\"", nested_base64(80, &"a".repeat(100)));
    let e = compile(Dialect::V24, &src).unwrap_err();
    assert_eq!(e.code(), "E209", "{e}");
    assert!(src[e.span().start..].starts_with("base64("), "{e}");
    // Under the limit, folding is exact.
    let mut b = ProgramBuilder::new();
    b.value_limit(8);
    let e = b
        .build(&format!("{} == \"x\"", nested_base64(3, "abc")))
        .unwrap_err();
    assert_eq!(e.code(), "E209");
    assert!(b
        .build(&format!("{} == \"WVdKag==\"", nested_base64(2, "abc")))
        .unwrap()
        .eval(&VarMap::new())
        .unwrap());
    // Constant concatenation counts too.
    b.value_limit(10);
    assert_eq!(
        b.build(r#""abcdef" . "ghijkl" == "x""#).unwrap_err().code(),
        "E209"
    );
}

#[test]
fn values_built_while_evaluating_stop_at_the_limit() {
    // Every test doubles $0: 2^40 bytes unbounded.
    let doubling = vec![r#"$0 . $0 =~ m/(.*)/"#; 40].join(" and ");
    let src = format!(r#"%{{REMOTE_USER}} =~ m/(.+)/ and {doubling}"#);
    let p = Program::new(&src).unwrap();
    let mut env = VarMap::new();
    env.set("REMOTE_USER", vec![b'u'; 1024]).unwrap();
    let e = p.eval(&env).unwrap_err();
    assert_eq!(e.code(), "E305", "{e}");
    let mut reported = None;
    assert!(!p.allows(&mut Machine::new(), &env, |e| reported = Some(e.code())));
    assert_eq!(reported, Some("E305"));
    // A function of a variable, nested.
    let src = format!(
        "{} == \"x\"",
        nested_base64(60, "").replace("\"\"", "%{REMOTE_USER}")
    );
    let p = Program::new(&src).unwrap();
    assert_eq!(p.eval(&env).unwrap_err().code(), "E305");
    // A small limit applies to the run too, and leaves smaller values be.
    let mut b = ProgramBuilder::new();
    b.value_limit(2000);
    let p = b.build(r#"%{REMOTE_USER} . %{REMOTE_USER} != """#).unwrap();
    assert_eq!(p.eval(&env).unwrap_err().code(), "E305");
    let p = b.build(r#"%{REMOTE_USER} . "x" != """#).unwrap();
    assert!(p.eval(&env).unwrap());
}

#[test]
fn all_an_evaluation_builds_is_bounded_too() {
    // Each test builds 800 bytes, under a 1 KiB value limit; twenty of them
    // are over the evaluation's budget of 8 KiB.
    let mut b = ProgramBuilder::new();
    b.value_limit(1024);
    let test = r#"%{REMOTE_USER} . %{REMOTE_USER} != "" "#;
    let p = b.build(&[test; 20].join(" and ")).unwrap();
    let mut env = VarMap::new();
    env.set("REMOTE_USER", vec![b'u'; 400]).unwrap();
    assert_eq!(p.eval(&env).unwrap_err().code(), "E307");
    let p = b.build(&[test; 5].join(" and ")).unwrap();
    assert!(p.eval(&env).unwrap());
}

#[test]
fn file_keeps_apaches_own_bound_not_the_value_limit() {
    // A 2 MiB file is over the 1 MiB default value limit; Apache reads it,
    // and so does file().
    let d = scratch("bigfile");
    let big = d.join("allowed/big");
    std::fs::write(&big, vec![b'x'; 2 << 20]).unwrap();
    let mut env = VarMap::new();
    env.set_files(FileAccess::under(d.join("allowed")).unwrap());
    let src = format!(r#"file("{}") =~ m/^x+$/"#, big.display());
    assert!(Program::new(&src).unwrap().eval(&env).unwrap());
    std::fs::remove_dir_all(&d).unwrap();
}

// ------------------------------------------------------- 4. PCRE2 limits

/// A subject that makes `^(a+)+(?!x)$` (PCRE2: lookahead) backtrack
/// exponentially.
const BACKTRACK: &str = r#"%{HTTP_USER_AGENT} !~ m/^(a+)+(?!x)$/"#;

fn agent() -> VarMap {
    let mut env = VarMap::new();
    env.set("HTTP_USER_AGENT", format!("{}!", "a".repeat(40)))
        .unwrap();
    env
}

#[test]
fn a_pcre_limit_hit_is_no_match_as_in_apache_or_an_error_when_strict() {
    // Apache: pcre2_match fails, "no match", so `!~` allows.
    assert!(Program::new(BACKTRACK).unwrap().eval(&agent()).unwrap());
    let mut strict = RegexLimits::DEFAULT;
    strict.strict = true;
    let p = ProgramBuilder::new()
        .regex_limits(strict)
        .build(BACKTRACK)
        .unwrap();
    let e = p.eval(&agent()).unwrap_err();
    assert_eq!(e.code(), "E306", "{e}");
    assert!(e.to_string().contains("limit"), "{e}");
    // A heap limit is set (PCRE2's own is 20 GB): a deep match stops at it.
    let mut small = RegexLimits::DEFAULT;
    small.heap_limit_kib = 1;
    small.strict = true;
    let p = ProgramBuilder::new()
        .regex_limits(small)
        .build(r#"%{HTTP_USER_AGENT} =~ m/^(a|b)*(?=!)c/"#)
        .unwrap();
    let mut env = VarMap::new();
    env.set("HTTP_USER_AGENT", "ab".repeat(50_000)).unwrap();
    assert_eq!(p.eval(&env).unwrap_err().code(), "E306");
    // Patterns the regex crate runs never stop early.
    let p = ProgramBuilder::new()
        .regex_limits(strict)
        .build(r#"%{HTTP_USER_AGENT} =~ m/^(a+)+$/"#)
        .unwrap();
    assert!(!p.eval(&agent()).unwrap());
}

// ---------------------------------------- 5. the 2.2 → "2.4 syntax" retry

#[test]
fn the_2_4_retry_of_a_2_2_expression_scans_with_2_4_rules() {
    // 2.2 reads `"' … '"` as one string, so its scan sees no nesting; 2.4
    // reads two single-quoted strings around real parentheses.
    let nested = |depth: usize| {
        format!(
            r#"'"' == 'x' || {}'a' == 'a'{} || 'x"' == 'y'"#,
            "(".repeat(depth),
            ")".repeat(depth)
        )
    };
    let p22 = || {
        let mut b = ParserBuilder::new();
        b.dialect(Dialect::V22);
        b.build()
    };
    // Within the 2.4 limits: said to be 2.4 syntax.
    let e = p22().parse(&nested(100)).unwrap_err();
    assert_eq!(e.code(), "E112", "{e}");
    // Beyond them: the 2.2 syntax error, without the 2.4 parse running.
    for depth in [200, 5_000, 100_000] {
        let e = p22().parse(&nested(depth)).unwrap_err();
        assert_eq!(e.code(), "E100", "{depth}: {e}");
    }
}

// --------------------------------------------------------- 6. file access

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sslrequire-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("allowed/sub")).unwrap();
    std::fs::write(d.join("allowed/user.txt"), "alice").unwrap();
    std::fs::write(d.join("secret.txt"), "s3cret").unwrap();
    d
}

#[test]
fn the_library_reads_no_file_unless_a_directory_is_allowed() {
    let d = scratch("deny");
    let file = d.join("allowed/user.txt");
    let read = format!(r#"file("{}") == "alice""#, file.display());
    let test = format!(r#"-f "{}""#, file.display());
    let size = format!(r#"filesize("{}") == "5""#, file.display());
    // VarMap and SessionEnv: nothing by default.
    let session = Session::default();
    let envs: [&dyn Env; 2] = [
        &VarMap::new(),
        &SessionEnv::new(&session, EnvOptions::default()),
    ];
    for env in envs {
        for src in [&read, &test, &size] {
            let e = Program::new(src).unwrap().eval(env).unwrap_err();
            assert_eq!(e.code(), "E303", "{src}: {e}");
        }
    }
    // Allowed: read as Apache reads.
    let mut env = VarMap::new();
    env.set_files(FileAccess::under(d.join("allowed")).unwrap());
    for src in [&read, &test, &size] {
        assert!(Program::new(src).unwrap().eval(&env).unwrap(), "{src}");
    }
    let opts = EnvOptions {
        files: FileAccess::under(d.join("allowed")).unwrap(),
        ..EnvOptions::default()
    };
    let session_env = SessionEnv::new(&session, opts);
    assert!(Program::new(&read).unwrap().eval(&session_env).unwrap());
    std::fs::remove_dir_all(&d).unwrap();
}

#[cfg(unix)]
#[test]
fn nothing_leads_out_of_the_allowed_directory() {
    let d = scratch("escape");
    let allowed = d.join("allowed");
    std::os::unix::fs::symlink(d.join("secret.txt"), allowed.join("link")).unwrap();
    std::os::unix::fs::symlink("..", allowed.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("../..", allowed.join("sub/out")).unwrap();
    let files = FileAccess::under(&allowed).unwrap();
    let a = allowed.display();
    for path in [
        format!("{}/../secret.txt", a),
        format!("{a}/link"),
        format!("{a}/sub/out/secret.txt"),
        d.join("secret.txt").display().to_string(),
        "/etc/hostname".to_string(),
    ] {
        let e = files.read(path.as_bytes()).unwrap_err();
        assert_eq!(e.code(), "E303", "{path}: {e}");
        let e = files.stat(path.as_bytes(), true).unwrap_err();
        assert_eq!(e.code(), "E303", "{path}: {e}");
    }
    // A symlink that stays inside is followed; `..` that stays inside too.
    assert_eq!(
        files
            .read(format!("{a}/sub/up/user.txt").as_bytes())
            .unwrap(),
        b"alice"
    );
    assert_eq!(
        files
            .read(format!("{a}/sub/../user.txt").as_bytes())
            .unwrap(),
        b"alice"
    );
    // lstat of the escaping link itself is fine: it is inside.
    assert!(files
        .stat(format!("{a}/link").as_bytes(), false)
        .unwrap()
        .is_some());
    std::fs::remove_dir_all(&d).unwrap();
}

#[cfg(unix)]
#[test]
fn a_symlink_swapped_in_after_the_check_cannot_escape() {
    // Another thread keeps swapping `target` between a file inside and a
    // symlink to a file outside; every read either sees the inside file or
    // is refused: never the secret.
    let d = scratch("swap");
    let allowed = d.join("allowed");
    let files = FileAccess::under(&allowed).unwrap();
    let target = allowed.join("target");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (target, secret, stop) = (target.clone(), d.join("secret.txt"), Arc::clone(&stop));
        let inside = allowed.join("user.txt");
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let tmp = target.with_extension("tmp");
                let _ = std::fs::remove_file(&tmp);
                std::os::unix::fs::symlink(&secret, &tmp).unwrap();
                std::fs::rename(&tmp, &target).unwrap();
                let _ = std::fs::remove_file(&tmp);
                std::fs::copy(&inside, &tmp).unwrap();
                std::fs::rename(&tmp, &target).unwrap();
            }
        })
    };
    let path = target.display().to_string();
    for _ in 0..2000 {
        // (Which state a read meets depends on the scheduler; what matters
        // is that none of them is the secret.)
        match files.read(path.as_bytes()) {
            Ok(content) => assert_eq!(content, b"alice"),
            Err(e) => assert!(matches!(e.code(), "E303" | "E300"), "{e}"),
        }
        if let Ok(Some(info)) = files.stat(path.as_bytes(), true) {
            assert_eq!(info.len, 5, "stat followed the link out");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn file_keeps_apaches_ten_mib_cap() {
    let d = scratch("cap");
    let big = d.join("allowed/big");
    std::fs::write(&big, vec![b'x'; (10 << 20) + 1]).unwrap();
    let files = FileAccess::under(d.join("allowed")).unwrap();
    let e = files
        .read(big.display().to_string().as_bytes())
        .unwrap_err();
    assert_eq!(e.code(), "E301", "{e}");
    assert!(e.to_string().contains("too large"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

// ------------------------------------------------------- 7. reparse mode

#[test]
fn reparse_mode_is_bounded_by_bytes_and_shared_by_threads() {
    let capacity = 256 << 10;
    let r = Arc::new(Reparser::with_dialect(Dialect::V24, capacity));
    // A tenant sending 1 MiB expressions cannot pin more than the capacity.
    let huge = format!(r#""{}" == "x""#, "a".repeat(8000));
    let mut m = Machine::new();
    for i in 0..100 {
        let src = format!("{huge} || \"{i}\" == \"y\"");
        assert!(!r.eval(&src, &mut m, &VarMap::new()).unwrap());
        assert!(r.cached_bytes() <= capacity);
    }
    // Four threads, hits and misses interleaved: every answer right.
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let r = Arc::clone(&r);
            std::thread::spawn(move || {
                let mut m = Machine::new();
                let mut env = VarMap::new();
                env.set("REMOTE_USER", format!("u{t}")).unwrap();
                for i in 0..2000 {
                    let src = format!(r#"%{{REMOTE_USER}} == "u{}""#, i % 8);
                    assert_eq!(r.eval(&src, &mut m, &env).unwrap(), i % 8 == t);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(r.cached_bytes() <= capacity);
}
