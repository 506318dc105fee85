//! Hostile sizes: each gives a clear error or the correct answer — never a
//! panic or a stack overflow. Results are asserted, never durations.
//!
//! Every expression goes through the parser, the compiler (`Program`) and
//! reparse mode (`Reparser`), in both dialects where the syntax allows.

use std::sync::Arc;

use sslrequire::env::{FileAccess, FileInfo, Files, MAX_FILE_SIZE};
use sslrequire::{
    Dialect, Env, ErrorKind, Machine, ParserBuilder, Program, ProgramBuilder, Reparser, Var, VarMap,
};

const MIB: usize = 1 << 20;

/// The outcome of `src` in `dialect`, compiled and in reparse mode (which
/// must agree): the verdict or the error code.
fn run(dialect: Dialect, src: &str, env: &dyn Env) -> Result<bool, &'static str> {
    run_sized(dialect, MIB, src, env)
}

/// [`run`] with another size limit.
fn run_sized(
    dialect: Dialect,
    size_limit: usize,
    src: &str,
    env: &dyn Env,
) -> Result<bool, &'static str> {
    let mut b = ProgramBuilder::new();
    b.dialect(dialect).size_limit(size_limit);
    let compiled = b.build(src).and_then(|p| p.eval(env)).map_err(|e| {
        // The diagnostic renders (it shows an excerpt, not 10 MiB).
        let text = e.to_string();
        assert!(text.len() < 2000, "{} bytes of diagnostic", text.len());
        e.code()
    });
    let reparsed = Reparser::with_builder(b, 0)
        .eval(src, &mut Machine::new(), env)
        .map_err(|e| e.code());
    assert_eq!(compiled, reparsed, "{dialect}: reparse mode disagrees");
    compiled
}

fn both(src: &str) -> [Result<bool, &'static str>; 2] {
    let env = VarMap::new();
    [run(Dialect::V24, src, &env), run(Dialect::V22, src, &env)]
}

#[test]
fn hundred_thousand_nested_parentheses_are_refused() {
    let deep = format!("{}true{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(both(&deep), [Err("E102"), Err("E102")]);
    let err = sslrequire::parse(&deep).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NestTooDeep { limit: 128 });
    // Unbalanced, and through `!`, `not` and nested `%{…}`.
    assert_eq!(both(&"(".repeat(100_000)), [Err("E102"), Err("E102")]);
    let nots = format!("{}true", "!".repeat(100_000));
    assert_eq!(both(&nots), [Err("E102"), Err("E102")]);
    let nots = format!("{}true", "not ".repeat(100_000));
    assert_eq!(both(&nots), [Err("E102"), Err("E102")]);
    let env = VarMap::new();
    let vars = format!(
        "{}x{} == \"x\"",
        "%{tolower:".repeat(100_000),
        "}".repeat(100_000)
    );
    // Over 1 MiB: lift the size limit so the nesting check speaks.
    assert_eq!(run(Dialect::V24, &vars, &env), Err("E101"));
    assert_eq!(run_sized(Dialect::V24, 4 * MIB, &vars, &env), Err("E102"));
    let calls = format!(
        "{}\"x\"{} == \"x\"",
        "tolower(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert_eq!(run_sized(Dialect::V24, 4 * MIB, &calls, &env), Err("E102"));
}

/// The nesting limit can be raised to 1000 at most: that deep must still
/// parse, compile, evaluate and print on an ordinary 2 MiB thread. A stack
/// overflow aborts the whole process, so the work runs in a child process:
/// this same test, re-run with `SSLREQUIRE_LIMITS_CHILD=1`.
#[test]
fn the_deepest_allowed_nesting_evaluates() {
    if std::env::var_os("SSLREQUIRE_LIMITS_CHILD").is_some() {
        deepest_allowed_nesting();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_deepest_allowed_nesting_evaluates",
            "--nocapture",
        ])
        .env("SSLREQUIRE_LIMITS_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "nesting at the cap of 1000 fails ({}):\n{stderr}",
        out.status
    );
}

fn deepest_allowed_nesting() {
    let work = || {
        let mut b = ProgramBuilder::new();
        b.nest_limit(100_000); // capped at 1000
        let mut env = VarMap::new();
        env.set("REMOTE_USER", "x").unwrap();
        // `!(` is two levels: 998 in all; an odd number of `!`.
        let nots = 499;
        let src = format!(
            "{}%{{REMOTE_USER}} == \"x\"{}",
            "!(".repeat(nots),
            ")".repeat(nots)
        );
        let e = ParserBuilder::new()
            .nest_limit(1000)
            .build()
            .parse(&src)
            .unwrap();
        assert_eq!(e.to_string().matches('!').count(), nots);
        assert!(!b.build(&src).unwrap().eval(&env).unwrap());
        let src = format!("{}true{}", "(true && ".repeat(999), ")".repeat(999));
        assert!(b.build(&src).unwrap().eval(&env).unwrap());
        // One level more than the cap is refused.
        let src = format!("{}true{}", "(".repeat(1001), ")".repeat(1001));
        assert_eq!(b.build(&src).unwrap_err().code(), "E102");
    };
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(work)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn a_ten_mib_expression_is_refused() {
    let mut src = String::with_capacity(10 * MIB + 16);
    while src.len() < 10 * MIB {
        src.push_str("true && ");
    }
    src.push_str("true");
    assert_eq!(both(&src), [Err("E101"), Err("E101")]);
    let err = sslrequire::parse(&src).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InputTooLong { limit: MIB });
    // Just under the default limit it is an ordinary expression.
    let n = (MIB - 4) / 8;
    let src = format!("{}true", "true && ".repeat(n));
    assert!(src.len() <= MIB);
    assert_eq!(both(&src), [Ok(true), Ok(true)]);
}

#[test]
fn a_ten_mib_string_literal_is_refused() {
    let src = format!("\"{}\" == \"x\"", "a".repeat(10 * MIB));
    assert_eq!(both(&src), [Err("E101"), Err("E101")]);
    // With the size limit lifted, the literal's own limit speaks: 8191 bytes
    // in 2.4 (ap_expr's buffer), 2047 in 2.2. (1 MiB here: a 10 MiB parse
    // gives the same answer but takes seconds in a debug build.)
    let src = format!("\"{}\" == \"x\"", "a".repeat(MIB));
    for (dialect, limit) in [(Dialect::V24, 8191), (Dialect::V22, 2047)] {
        let p = ParserBuilder::new()
            .dialect(dialect)
            .size_limit(2 * MIB)
            .build()
            .parse(&src);
        let err = p.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::StringTooLong { limit }, "{dialect}");
    }
}

/// `(a{1000}){1000}` is a million-state automaton for the `regex` crate;
/// it runs in PCRE2 instead, and answers correctly. A hundred times more is
/// a compile error (PCRE2's "regular expression is too large").
#[test]
fn regexes_with_a_huge_compiled_size() {
    let million = vec![b'a'; 1_000_000];
    for dialect in [Dialect::V24, Dialect::V22] {
        for (value, want) in [
            (b"on".to_vec(), false),
            (million.clone(), true),
            ([&million[..], b"a"].concat(), false),
        ] {
            let mut env = VarMap::new();
            env.set("HTTPS", value.clone()).unwrap();
            let got = run(dialect, "%{HTTPS} =~ m/^(a{1000}){1000}$/", &env);
            assert_eq!(got, Ok(want), "{dialect}: {} bytes", value.len());
            // A back-reference (PCRE2 only): 1000 more.
            let with_backref = [&value[..], &[b'a'; 1000][..]].concat();
            env.set("HTTPS", with_backref).unwrap();
            let got = run(dialect, "%{HTTPS} =~ m/^(a{1000}){1000}\\1$/", &env);
            assert_eq!(got, Ok(want), "{dialect}: {} bytes + 1000", value.len());
        }
        let env = VarMap::new();
        for src in [
            "%{HTTPS} =~ m/((a{100}){100}){100}/",
            "%{HTTPS} =~ m/((a{10}){100}){1000}/",
        ] {
            let got = run(dialect, src, &env);
            assert_eq!(got, Err("E205"), "{dialect}: {src}");
        }
    }
}

#[test]
fn a_hundred_thousand_element_list() {
    let items: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let src = format!("%{{REMOTE_USER}} in {{{}}}", items.join(", "));
    assert!(src.len() < MIB, "{}", src.len());
    let p = Program::new(&src).unwrap();
    let p22 = ProgramBuilder::new()
        .dialect(Dialect::V22)
        .build(&src)
        .unwrap();
    for (user, want) in [
        ("0", true),
        ("99999", true),
        ("50000", true),
        ("100000", false),
        ("", false),
    ] {
        let mut env = VarMap::new();
        env.set("REMOTE_USER", user).unwrap();
        assert_eq!(p.eval(&env).unwrap(), want, "{user}");
        assert_eq!(p22.eval(&env).unwrap(), want, "2.2: {user}");
    }
    // Computed elements too, each read at run time (`$1`, set by the match).
    let items: Vec<&str> = vec!["$1"; 100_000];
    let list = items.join(", ");
    let src = format!("%{{REMOTE_USER}} =~ m/(.*)/ && \"x\" in {{{list}}}");
    let p = Program::new(&src).unwrap();
    for (user, want) in [("x", true), ("y", false), ("", false)] {
        let mut env = VarMap::new();
        env.set("REMOTE_USER", user).unwrap();
        assert_eq!(p.eval(&env).unwrap(), want, "{user}");
    }
}

/// `file()` answers every path with `content`.
struct BigFile {
    content: Arc<Vec<u8>>,
}

impl Env for BigFile {
    fn var(&self, _: &Var) -> Option<&[u8]> {
        None
    }
    fn files(&self) -> &dyn Files {
        self
    }
}

impl std::fmt::Debug for BigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BigFile({} bytes)", self.content.len())
    }
}

impl Files for BigFile {
    fn read(&self, _: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        Ok(self.content.as_ref().clone())
    }
    fn stat(&self, _: &[u8], _: bool) -> Result<Option<FileInfo>, ErrorKind> {
        Ok(None)
    }
}

fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_ten_mib_file_is_read_whole() {
    let mut content = vec![b'a'; MAX_FILE_SIZE as usize - 1];
    content.push(b'b');
    let digest = sha1_hex(&content);
    let env = BigFile {
        content: Arc::new(content),
    };
    for src in [
        r#"file("big") =~ m/^a*b$/"#.to_string(),
        r#"file("big") . "" =~ m/ab$/ && -n file("big")"#.to_string(),
        format!(r#"sha1(file("big")) == "{digest}""#),
        r#"file("big") > "b" && file("big") != "b""#.to_string(),
    ] {
        assert_eq!(run(Dialect::V24, &src, &env), Ok(true), "{src}");
    }
    // 2.2's file("…") too.
    assert_eq!(run(Dialect::V22, r#"file("big") =~ m/b$/"#, &env), Ok(true));
}

#[test]
fn a_file_over_ten_mib_is_an_evaluation_error() {
    let dir = std::env::temp_dir().join(format!("sslrequire-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exact = dir.join("exact");
    let over = dir.join("over");
    std::fs::write(&exact, vec![b'x'; MAX_FILE_SIZE as usize]).unwrap();
    std::fs::write(&over, vec![b'x'; MAX_FILE_SIZE as usize + 1]).unwrap();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();

    let files = FileAccess::under(&dir).unwrap();
    assert_eq!(
        files.read(path(&exact).as_bytes()).unwrap().len(),
        MAX_FILE_SIZE as usize
    );
    let err = files.read(path(&over).as_bytes()).unwrap_err();
    assert!(matches!(err, ErrorKind::FileTooLarge { .. }), "{err:?}");
    assert_eq!(err.code(), "E301");

    // Through an expression, with VarMap's file access.
    let mut env = VarMap::new();
    env.set_files(files);
    let src = format!(r#"file("{}") =~ m/^x+$/"#, path(&exact));
    assert_eq!(run(Dialect::V24, &src, &env), Ok(true));
    assert_eq!(run(Dialect::V22, &src, &env), Ok(true));
    let src = format!(r#"file("{}") == """#, path(&over));
    assert_eq!(run(Dialect::V24, &src, &env), Err("E301"));
    assert_eq!(run(Dialect::V22, &src, &env), Err("E301"));
    // An error denies even when the rest would allow.
    let src = format!(r#"file("{}") == "" || true"#, path(&over));
    assert_eq!(run(Dialect::V24, &src, &env), Err("E301"));
    std::fs::remove_dir_all(&dir).unwrap();
}
