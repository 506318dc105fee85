//! What the fuzz targets check, shared with the test suite.
//!
//! Every target is a `check_*` function here that panics when a property
//! fails; `fuzz_targets/*.rs` only hand libFuzzer's bytes to it. The test
//! suite compiles this same file (`tests/fuzz_regressions.rs`, through
//! `#[path]`) and replays every saved case of `tests/fuzz-cases/<target>/`
//! with [`check`], so a crash found once is checked by every `cargo test`.
//!
//! This file may use only `sslrequire` and `arbitrary` (the two crates both
//! the fuzz crate and the test suite have) and must not touch the file
//! system: `file()`, `filesize()` and the file tests go through
//! [`FuzzEnv`], which refuses every path but one in-memory file.

use std::sync::OnceLock;

use arbitrary::Unstructured;
use sslrequire::env::cert::Cert;
use sslrequire::env::{resolve, FileInfo, Files, Resolved, Var};
use sslrequire::session::{EnvOptions, LazyCert, Session, SessionEnv};
use sslrequire::syntax::{
    CmpOp, ExprKind, List, Name, Regex, StrPart, VarRef, Word, WordKind, DEFAULT_SIZE_LIMIT,
};
use sslrequire::{
    Dialect, Env, Error, ErrorKind, Expr, Machine, ParserBuilder, ProgramBuilder, Reparser, Span,
    VarMap,
};

/// The fuzz targets, by name (also the folders of `tests/fuzz-cases/`).
pub const TARGETS: &[&str] = &["parse", "compile_eval", "roundtrip", "cert_env", "session"];

/// Runs the check of `target` on one input (panics on a failed property).
pub fn check(target: &str, data: &[u8]) {
    match target {
        "parse" => check_parse(data),
        "compile_eval" => check_compile_eval(data),
        "roundtrip" => check_roundtrip(data),
        "cert_env" => check_cert_env(data),
        "session" => check_session(data),
        _ => panic!("unknown fuzz target `{target}`"),
    }
}

// ======================================================================
// The environment
// ======================================================================

/// The only path [`FuzzEnv::read_file`] answers (from memory).
pub const VIRTUAL_FILE: &[u8] = b"/fuzz/virtual";
/// Its content (a NUL inside: `file()` returns a C string).
pub const VIRTUAL_CONTENT: &[u8] = b"virtual file\0after the NUL";

/// A [`VarMap`] whose `file()` and file tests never reach the file system.
#[derive(Debug, Clone)]
pub struct FuzzEnv(pub VarMap);

impl Env for FuzzEnv {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        self.0.var(var)
    }

    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        self.0.peer_extensions(id, numeric_only)
    }

    fn files(&self) -> &dyn Files {
        &VirtualFiles
    }
}

/// The fuzz environment's file system: one file, in memory.
#[derive(Debug)]
pub struct VirtualFiles;

impl Files for VirtualFiles {
    fn read(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        if path == VIRTUAL_FILE {
            return Ok(VIRTUAL_CONTENT.to_vec());
        }
        Err(refused(path))
    }

    fn stat(&self, path: &[u8], _follow: bool) -> Result<Option<FileInfo>, ErrorKind> {
        Err(refused(path))
    }
}

fn refused(path: &[u8]) -> ErrorKind {
    ErrorKind::FileDenied {
        path: String::from_utf8_lossy(path).into_owned(),
        reason: "the fuzz environment reads no files".into(),
    }
}

/// A fixed environment: a dozen SSL_*, REMOTE_ADDR and TIME_* values, a
/// request header and two `PeerExtList("1.2.3.4.5.6")` values.
pub fn fuzz_env() -> &'static FuzzEnv {
    static ENV: OnceLock<FuzzEnv> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut m = VarMap::new();
        let values: &[(&str, &[u8])] = &[
            ("SSL_CLIENT_S_DN_CN", b"Alice Example"),
            ("SSL_CLIENT_S_DN_O", b"Snake Oil, Ltd."),
            ("SSL_CLIENT_S_DN_OU", b"Staff"),
            (
                "SSL_CLIENT_S_DN",
                b"CN=Alice Example,OU=Staff,O=Snake Oil\\, Ltd.,C=US",
            ),
            ("SSL_CLIENT_I_DN_CN", b"Oracle Test Intermediate CA"),
            ("SSL_CLIENT_VERIFY", b"SUCCESS"),
            ("SSL_CLIENT_M_SERIAL", b"1001"),
            ("SSL_CLIENT_V_END", b"Nov 25 16:43:29 2027 GMT"),
            ("SSL_CLIENT_SAN_Email_0", b"alice@example.com"),
            ("SSL_CIPHER", b"ECDHE-RSA-AES256-GCM-SHA384"),
            ("SSL_CIPHER_USEKEYSIZE", b"256"),
            ("SSL_PROTOCOL", b"TLSv1.3"),
            ("SSL_TLS_SNI", b"www.example.com"),
            ("HTTPS", b"on"),
            ("REMOTE_ADDR", b"192.76.162.40"),
            ("REMOTE_USER", b"al\0ice"),
            ("QUERY_STRING", b"\xc3\xa9t\xc3\xa9=\xff"),
            ("TIME_YEAR", b"2026"),
            ("TIME_MON", b"11"),
            ("TIME_DAY", b"25"),
            ("TIME_HOUR", b"16"),
            ("TIME_MIN", b"49"),
            ("TIME_SEC", b"37"),
            ("TIME_WDAY", b"3"),
            ("TIME", b"20261125164937"),
            ("http:User-Agent", b"curl/8.5.0"),
            ("env:path", VIRTUAL_FILE),
        ];
        for (name, value) in values {
            m.set(name, *value)
                .unwrap_or_else(|e| panic!("fuzz env: {name}: {e}"));
        }
        m.add_extension("1.2.3.4.5.6", "hello-oracle");
        m.add_extension("1.2.3.4.5.6", "second\0cut");
        m.add_extension("subjectAltName", "DNS:alice.example.com");
        FuzzEnv(m)
    })
}

/// Both dialects, 2.4 first.
pub const DIALECTS: [Dialect; 2] = [Dialect::V24, Dialect::V22];

fn reparser(d: Dialect) -> &'static Reparser {
    // Small caches, shared across inputs: eviction runs too.
    static R24: OnceLock<Reparser> = OnceLock::new();
    static R22: OnceLock<Reparser> = OnceLock::new();
    match d {
        Dialect::V24 => R24.get_or_init(|| Reparser::with_dialect(Dialect::V24, 4)),
        Dialect::V22 => R22.get_or_init(|| Reparser::with_dialect(Dialect::V22, 4)),
    }
}

/// An outcome comparable across modes: the verdict or the error code.
pub fn outcome(r: &Result<bool, Error>) -> Result<bool, &'static str> {
    match r {
        Ok(b) => Ok(*b),
        Err(e) => Err(e.code()),
    }
}

/// An error must render (the caret drawing slices the source by its span).
fn render(e: &Error, stage: char) {
    let text = e.to_string();
    assert!(text.contains(e.code()), "{text}");
    assert!(
        e.code().as_bytes()[1] == stage as u8,
        "{} is not an E{stage}xx error: {e}",
        e.code()
    );
    let _ = e.line_col();
}

fn text_of(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

// ======================================================================
// parse: any bytes, both dialects; what parses prints back to itself
// ======================================================================

/// Parses `data` (lossy UTF-8) in both dialects. A tree must print
/// (`Display` and `{:#}`) to text that parses back to an equal tree; an
/// error must be an `E1xx` that renders.
pub fn check_parse(data: &[u8]) {
    let src = text_of(data);
    for d in DIALECTS {
        let parser = ParserBuilder::new().dialect(d).build();
        match parser.parse(&src) {
            Ok(e) => check_reprint(d, &e, &src),
            Err(err) => render(&err, '1'),
        }
    }
}

/// `e` printed both ways parses back (in dialect `d`) to a tree equal to
/// `e`. `src`, if given, is what `e` was parsed from (for messages).
pub fn check_reprint(d: Dialect, e: &Expr, src: &str) {
    let parser = ParserBuilder::new().dialect(d).build();
    for (how, printed) in [("Display", e.to_string()), ("{:#}", e.to_parenthesized())] {
        if printed.len() > DEFAULT_SIZE_LIMIT {
            continue; // escaping can outgrow the size limit; nothing to learn
        }
        let back = match parser.parse(&printed) {
            Ok(back) => back,
            Err(err) => panic!(
                "{d}: the {how} form of the tree does not parse\n\
                 source:  {src:?}\nprinted: {printed:?}\ntree: {e:?}\n{err}"
            ),
        };
        if has_fallback_regex(e) {
            // The printer had to spell `/` as `\x2F`: equal up to that.
            continue;
        }
        assert!(
            back == *e,
            "{d}: the {how} form reads back differently\n\
             source:  {src:?}\nprinted: {printed:?}\nbefore: {e:?}\nafter:  {back:?}"
        );
    }
}

/// Regex delimiters the printer may use (`Display for Regex`).
const PRINT_DELIMS: &[char] = &[
    '/', '#', '|', '!', ',', ';', ':', '%', '^', '?', '-', '.', '$', '\'', '"',
];

fn prints_with_fallback(r: &Regex) -> bool {
    PRINT_DELIMS.iter().all(|d| r.pattern.contains(*d))
}

/// Whether some regex of `e` holds every delimiter (printed with `\x2F`).
fn has_fallback_regex(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Match { regex, .. } => prints_with_fallback(regex),
        ExprKind::Not(i) => has_fallback_regex(i),
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().any(has_fallback_regex),
        _ => false,
    }
}

// ======================================================================
// compile_eval: compiled, reparse mode and the reprinted text agree
// ======================================================================

/// Compiles `data` (lossy UTF-8) in both dialects and evaluates it against
/// [`fuzz_env`]: compiled mode (twice on one machine, and traced), reparse
/// mode and the compiled `Display` form must give the same verdict or the
/// same error code.
pub fn check_compile_eval(data: &[u8]) {
    let src = text_of(data);
    let env = fuzz_env();
    for d in DIALECTS {
        let mut builder = ProgramBuilder::new();
        builder.dialect(d);
        let reparsed = reparser(d).eval(&src, &mut Machine::new(), env);
        let program = match builder.build(&src) {
            Ok(p) => p,
            Err(e) => {
                render(&e, if e.code().starts_with("E1") { '1' } else { '2' });
                assert_eq!(
                    outcome(&reparsed),
                    Err(e.code()),
                    "{d}: reparse mode disagrees on a compile error: {src:?}"
                );
                continue;
            }
        };
        let _ = program.listing();
        let _ = (
            program.vars(),
            program.tests(),
            program.reads_certificates(),
        );
        let mut m = Machine::new();
        let first = program.eval_with(&mut m, env);
        if let Err(e) = &first {
            render(e, '3');
        }
        let again = program.eval_with(&mut m, env);
        let traced = program.eval_traced(&mut Machine::new(), env);
        // A machine is reused across programs (one per thread): one that
        // ran another program first must give the same answer.
        let mut used = Machine::new();
        let _ = warm_up(d).eval_with(&mut used, env);
        let after_other = program.eval_with(&mut used, env);
        let want = outcome(&first);
        assert_eq!(
            outcome(&again),
            want,
            "{d}: a reused machine disagrees: {src:?}"
        );
        assert_eq!(
            outcome(&traced.result),
            want,
            "{d}: traced evaluation disagrees: {src:?}"
        );
        assert_eq!(
            outcome(&reparsed),
            want,
            "{d}: reparse mode disagrees: {src:?}"
        );
        assert_eq!(
            outcome(&after_other),
            want,
            "{d}: a machine that ran another program first disagrees: {src:?}"
        );
        for step in &traced.steps {
            assert!(step.span.end <= src.len() && step.span.start <= step.span.end);
        }
        // Printing keeps the meaning: the Display form compiles to the same
        // verdict (unless a regex needed the `\x2F` spelling).
        let expr = ParserBuilder::new()
            .dialect(d)
            .build()
            .parse(&src)
            .expect("it compiled");
        if has_fallback_regex(&expr) {
            continue;
        }
        let printed = expr.to_string();
        if printed.len() > DEFAULT_SIZE_LIMIT {
            continue;
        }
        let via_print = builder.build(&printed).and_then(|p| p.eval(env));
        assert_eq!(
            outcome(&via_print),
            want,
            "{d}: the Display form evaluates differently\nsource:  {src:?}\nprinted: {printed:?}"
        );
    }
}

/// A program with captures in regexes of every size (1, 9, 0, 2, 2
/// groups) that (in 2.4) reads `$N`, so the machine keeps capture state;
/// run on a machine before the input's program.
fn warm_up(d: Dialect) -> &'static sslrequire::Program {
    static W24: OnceLock<sslrequire::Program> = OnceLock::new();
    static W22: OnceLock<sslrequire::Program> = OnceLock::new();
    const SRC: &str = r#""a" =~ m/(a)/ && "abcdefghi" =~ m/(a)(b)(c)(d)(e)(f)(g)(h)(i)/
        && "x" =~ m/x/ && "ab" =~ m/(a)(b)?/ && "zz" =~ m/(z)(z)/"#;
    let (cell, src) = match d {
        Dialect::V24 => (&W24, format!("{SRC} && $2 == \"z\"")),
        // 2.2 has no `$N`.
        Dialect::V22 => (&W22, SRC.to_string()),
    };
    cell.get_or_init(|| {
        let mut b = ProgramBuilder::new();
        b.dialect(d);
        b.build(&src).expect("the warm-up program compiles")
    })
}

// ======================================================================
// roundtrip: generated trees print and read back
// ======================================================================

/// Builds a printable tree from `data` (2.4 or 2.2 shaped, by the first
/// choice) and checks that it prints back to itself ([`check_reprint`]).
pub fn check_roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok((d, e)) = generate(&mut u) else {
        return;
    };
    check_reprint(d, &e, "(generated)");
}

/// A tree for the dialect the data picks.
pub fn generate(u: &mut Unstructured<'_>) -> arbitrary::Result<(Dialect, Expr)> {
    let d = if u.ratio(1, 4)? {
        Dialect::V22
    } else {
        Dialect::V24
    };
    let mut g = Gen {
        u,
        v22: d == Dialect::V22,
        budget: 200,
    };
    let e = g.expr(0)?;
    Ok((d, e))
}

/// Deepest expression nesting generated (the parser's limit is 128; every
/// level adds at most one to what the limit counts).
const MAX_DEPTH: u32 = 24;

struct Gen<'a, 'u> {
    u: &'u mut Unstructured<'a>,
    v22: bool,
    /// Nodes left; at 0 only leaves are made.
    budget: u32,
}

fn sp() -> Span {
    Span::default()
}

fn expr(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}

fn word(kind: WordKind) -> Word {
    Word { kind, span: sp() }
}

fn name(s: impl Into<String>) -> Name {
    Name {
        name: s.into(),
        span: sp(),
    }
}

/// Keywords that cannot be 2.4 identifiers (function names).
const KEYWORDS: &[&str] = &[
    "true", "false", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "in",
];
const VAR_NAMES: &[&str] = &[
    "SSL_CLIENT_S_DN_CN",
    "SSL_CLIENT_S_DN_OU",
    "SSL_CLIENT_VERIFY",
    "SSL_CIPHER",
    "SSL_PROTOCOL",
    "REMOTE_ADDR",
    "HTTPS",
    "TIME_HOUR",
    "ssl_client_s_dn_cn",
    "SSL_BOGUS",
];
const FUNCS: &[&str] = &[
    "tolower", "toupper", "escape", "unescape", "base64", "unbase64", "sha1", "md5", "file",
    "filesize", "req", "http", "env", "osenv", "note", "resp", "reqenv", "SSL", "TOLOWER",
];
const BINARY_OPS: &[&str] = &["ipmatch", "strmatch", "strcmatch", "fnmatch", "nosuch"];
const INTERESTING_BYTES: &[u8] = b"aAz09 -_.,;:%{}$\"'\\/\n\t\x00\x7f\x80\xc3\xa9\xff";
const REGEX_CHARS: &[char] = &[
    'a', 'b', 'A', '.', '*', '+', '?', '(', ')', '[', ']', '^', '$', '|', '\\', '{', '}', ',', '1',
    'd', 'w', 's', '/', '#', '"', '\'', '-', ':', '%', '!', ';', ' ', 'é',
];

impl Gen<'_, '_> {
    fn spend(&mut self) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        true
    }

    fn expr(&mut self, depth: u32) -> arbitrary::Result<Expr> {
        let leaf = depth >= MAX_DEPTH || !self.spend();
        let kinds = if leaf {
            3
        } else if self.v22 {
            7
        } else {
            9
        };
        Ok(match self.u.choose_index(kinds)? {
            0 => expr(ExprKind::Bool(self.u.arbitrary()?)),
            1 => {
                let op = *self.u.choose(&[
                    CmpOp::Eq,
                    CmpOp::Ne,
                    CmpOp::Lt,
                    CmpOp::Le,
                    CmpOp::Gt,
                    CmpOp::Ge,
                ])?;
                let lhs = self.word(depth + 1)?;
                let rhs = self.word(depth + 1)?;
                expr(ExprKind::Cmp { op, lhs, rhs })
            }
            2 => {
                let lhs = self.word(depth + 1)?;
                let regex = self.regex()?;
                let negated = self.u.arbitrary()?;
                expr(ExprKind::Match {
                    lhs,
                    regex,
                    negated,
                })
            }
            3 => expr(ExprKind::Not(Box::new(self.expr(depth + 1)?))),
            4 | 5 => {
                let n = self.u.int_in_range(2..=4)?;
                let items = (0..n)
                    .map(|_| self.expr(depth + 1))
                    .collect::<arbitrary::Result<Vec<_>>>()?;
                expr(if self.u.arbitrary()? {
                    ExprKind::And(items)
                } else {
                    ExprKind::Or(items)
                })
            }
            6 => {
                let lhs = self.word(depth + 1)?;
                let list = if self.u.ratio(1, 4)? {
                    let n = if self.v22 {
                        self.u.choose(&["OID", "oid", "Oid"])?.to_string()
                    } else if self.u.arbitrary()? {
                        "PeerExtList".to_string()
                    } else {
                        self.ident()?
                    };
                    List::Func {
                        name: name(n),
                        arg: Box::new(self.word(depth + 1)?),
                    }
                } else {
                    let n = self.u.int_in_range(1..=4)?;
                    List::Words(
                        (0..n)
                            .map(|_| self.word(depth + 1))
                            .collect::<arbitrary::Result<_>>()?,
                    )
                };
                expr(ExprKind::In { lhs, list })
            }
            7 => {
                let op = (*self.u.choose(b"nzTRdefsLhxFUA_q")? as char).to_string();
                expr(ExprKind::Unary {
                    op: name(op),
                    arg: self.word(depth + 1)?,
                })
            }
            _ => {
                let op = if self.u.arbitrary()? {
                    self.u.choose(BINARY_OPS)?.to_string()
                } else {
                    let mut s = self.ident()?;
                    if s.len() < 2 || KEYWORDS.contains(&s.as_str()) {
                        s.push('x');
                    }
                    s
                };
                let lhs = self.word(depth + 1)?;
                let rhs = self.word(depth + 1)?;
                expr(ExprKind::Binary {
                    op: name(op),
                    lhs,
                    rhs,
                })
            }
        })
    }

    /// `[A-Za-z][A-Za-z0-9_]*`, not a keyword.
    fn ident(&mut self) -> arbitrary::Result<String> {
        const FIRST: &[u8] = b"abcmxzABMXZ";
        const REST: &[u8] = b"abmxz09_AZ";
        let mut s = String::new();
        s.push(*self.u.choose(FIRST)? as char);
        for _ in 0..self.u.int_in_range(0..=6)? {
            s.push(*self.u.choose(REST)? as char);
        }
        if KEYWORDS.contains(&s.as_str()) {
            s.push('_');
        }
        Ok(s)
    }

    fn var_name(&mut self) -> arbitrary::Result<String> {
        if self.u.arbitrary()? {
            return Ok(self.u.choose(VAR_NAMES)?.to_string());
        }
        let mut s = self.ident()?;
        if self.v22 {
            // 2.2 names may hold `:` and `-`; some are reserved words.
            if self.u.arbitrary()? {
                s.push_str(self.u.choose(&[":X-Foo", "-a", ":b"])?);
            }
            let reserved = matches!(s.as_str(), "file") || s.eq_ignore_ascii_case("oid");
            if reserved || (s.starts_with('m') && s.len() <= 2) {
                s.insert(0, 'V');
            }
        }
        Ok(s)
    }

    fn func_name(&mut self) -> arbitrary::Result<String> {
        if self.u.ratio(3, 4)? {
            Ok(self.u.choose(FUNCS)?.to_string())
        } else {
            self.ident()
        }
    }

    fn bytes(&mut self) -> arbitrary::Result<Vec<u8>> {
        let n = self.u.int_in_range(1..=8)?;
        (0..n)
            .map(|_| {
                if self.u.arbitrary()? {
                    self.u.choose(INTERESTING_BYTES).copied()
                } else {
                    self.u.arbitrary()
                }
            })
            .collect()
    }

    fn digits(&mut self) -> arbitrary::Result<String> {
        let mut s = String::new();
        if !self.v22 && self.u.ratio(1, 4)? {
            s.push('-');
        }
        for _ in 0..self.u.int_in_range(1..=4)? {
            s.push(char::from(b'0' + self.u.int_in_range(0..=9)?));
        }
        Ok(s)
    }

    fn word(&mut self, depth: u32) -> arbitrary::Result<Word> {
        let leaf = depth >= MAX_DEPTH || !self.spend();
        if self.v22 {
            return Ok(word(
                match self.u.choose_index(if leaf { 3 } else { 4 })? {
                    0 => WordKind::Digits(self.digits()?),
                    1 => WordKind::Str(self.parts22()?),
                    2 => WordKind::Var(VarRef::Name(name(self.var_name()?))),
                    _ => WordKind::Call {
                        name: name("file"),
                        arg: Box::new(word(WordKind::Str(self.parts22()?))),
                    },
                },
            ));
        }
        let kinds = if leaf { 4 } else { 6 };
        Ok(match self.u.choose_index(kinds)? {
            0 => word(WordKind::Digits(self.digits()?)),
            1 => word(WordKind::Backref(self.u.int_in_range(0..=9)?)),
            2 => word(WordKind::Var(VarRef::Name(name(self.var_name()?)))),
            3 => word(WordKind::Str(if leaf {
                self.lit_parts()?
            } else {
                self.parts(depth + 1)?
            })),
            4 => word(WordKind::Var(self.var_func(depth + 1)?)),
            _ => {
                if self.u.arbitrary()? {
                    let n = self.u.int_in_range(2..=4)?;
                    let words = (0..n)
                        .map(|_| self.atom(depth + 1))
                        .collect::<arbitrary::Result<_>>()?;
                    word(WordKind::Concat(words))
                } else {
                    word(WordKind::Call {
                        name: name(self.func_name()?),
                        arg: Box::new(self.word(depth + 1)?),
                    })
                }
            }
        })
    }

    /// A word that is not a concatenation (an element of one).
    fn atom(&mut self, depth: u32) -> arbitrary::Result<Word> {
        loop {
            let w = self.word(depth)?;
            if !matches!(w.kind, WordKind::Concat(_)) {
                return Ok(w);
            }
            if self.u.is_empty() {
                return Ok(word(WordKind::Digits("0".into())));
            }
        }
    }

    /// `%{func:arg}`; the argument cannot be empty.
    fn var_func(&mut self, depth: u32) -> arbitrary::Result<VarRef> {
        let mut arg = if depth >= MAX_DEPTH {
            self.lit_parts()?
        } else {
            self.parts(depth + 1)?
        };
        if arg.is_empty() {
            arg.push(StrPart::Lit(b"x".to_vec()));
        }
        Ok(VarRef::Func {
            name: name(self.func_name()?),
            arg,
        })
    }

    fn lit_parts(&mut self) -> arbitrary::Result<Vec<StrPart>> {
        Ok(if self.u.arbitrary()? {
            vec![StrPart::Lit(self.bytes()?)]
        } else {
            Vec::new()
        })
    }

    /// 2.4 string pieces, normalised as the parser makes them: no empty
    /// literal, no two literals in a row.
    fn parts(&mut self, depth: u32) -> arbitrary::Result<Vec<StrPart>> {
        let n = self.u.int_in_range(0..=4)?;
        let mut out = Vec::new();
        for _ in 0..n {
            let leaf = depth >= MAX_DEPTH || !self.spend();
            let part = match self.u.choose_index(if leaf { 2 } else { 3 })? {
                0 => StrPart::Lit(self.bytes()?),
                1 => StrPart::Backref(self.u.int_in_range(0..=9)?),
                _ => StrPart::Var(if self.u.arbitrary()? {
                    VarRef::Name(name(self.var_name()?))
                } else {
                    self.var_func(depth + 1)?
                }),
            };
            push_part(&mut out, part);
        }
        Ok(out)
    }

    /// 2.2 string pieces: literals and the scanner's bad escapes.
    fn parts22(&mut self) -> arbitrary::Result<Vec<StrPart>> {
        let n = self.u.int_in_range(0..=3)?;
        let mut out: Vec<StrPart> = Vec::new();
        for _ in 0..n {
            let part = if self.u.ratio(1, 6)? {
                let bad = *self
                    .u
                    .choose(&["\\8", "\\9", "\\777", "\\400", "\\0123", "\\19"])?;
                StrPart::BadEscape(bad.to_string())
            } else {
                StrPart::Lit(self.bytes()?)
            };
            push_part(&mut out, part);
        }
        Ok(out)
    }

    fn regex(&mut self) -> arbitrary::Result<Regex> {
        let n = self.u.int_in_range(0..=12)?;
        let mut pattern = String::new();
        for _ in 0..n {
            if self.u.ratio(1, 8)? {
                pattern.push(self.u.arbitrary()?);
            } else {
                pattern.push(*self.u.choose(REGEX_CHARS)?);
            }
        }
        let mut r = Regex {
            pattern,
            icase: self.u.arbitrary()?,
            delim: *self.u.choose(&['/', '#', '|', '!', '$', '_', '{', 'x'])?,
            span: sp(),
        };
        if prints_with_fallback(&r) {
            // Only patterns the printer can write as they are.
            r.pattern = r.pattern.replace('/', "");
        }
        Ok(r)
    }
}

fn push_part(out: &mut Vec<StrPart>, part: StrPart) {
    match (out.last_mut(), part) {
        (_, StrPart::Lit(b)) if b.is_empty() => {}
        (Some(StrPart::Lit(prev)), StrPart::Lit(b)) => prev.extend_from_slice(&b),
        (_, p) => out.push(p),
    }
}

// ======================================================================
// cert_env: any bytes as a certificate, every variable
// ======================================================================

/// A session holding `chain` (client chain; the leaf also serves as the
/// server's certificate), with a fixed time.
fn session_with(chain: &[Vec<u8>]) -> Session {
    let mut s = Session::from_json(r#"{"time": "2026-11-25T16:49:37Z", "protocol": "TLSv1.3"}"#)
        .expect("fixed session");
    s.client_chain = chain
        .iter()
        .map(|d| LazyCert::from_der(d.clone()))
        .collect();
    s.server_chain = chain
        .iter()
        .take(1)
        .map(|d| LazyCert::from_der(d.clone()))
        .collect();
    s
}

/// Reads `data` as one DER certificate and (when it is text) as a PEM
/// chain; every certificate that parses is exported, alone and as the
/// client chain of a session, with every option set.
pub fn check_cert_env(data: &[u8]) {
    let mut ders: Vec<Vec<u8>> = Vec::new();
    if let Ok(c) = Cert::from_der(data) {
        assert_eq!(c.der(), data, "from_der keeps the DER as given");
        exercise_cert(&c);
        ders.push(c.der().to_vec());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(chain) = Cert::from_pem_chain(text) {
            for c in &chain {
                exercise_cert(c);
                // The PEM a certificate exports reads back to the same DER.
                let again = Cert::from_pem_chain(&c.pem()).expect("exported PEM parses");
                assert_eq!(again.len(), 1);
                assert_eq!(again[0].der(), c.der(), "PEM export round trip");
            }
            ders.extend(chain.iter().map(|c| c.der().to_vec()));
        }
    }
    if ders.is_empty() {
        return;
    }
    let session = session_with(&ders);
    export_all(&session);
}

fn exercise_cert(c: &Cert) {
    use sslrequire::env::{DnAttr, NameKind, SanKind};
    let _ = (
        c.m_version(),
        c.m_serial(),
        c.v_start(),
        c.v_end(),
        c.a_sig(),
        c.a_key(),
    );
    let _ = (
        c.v_remain(0),
        c.v_remain(i64::MAX),
        c.v_remain(i64::MIN),
        c.not_after_unix(),
    );
    let _ = (c.rfc4523_cea(), c.pem());
    for which in [NameKind::Subject, NameKind::Issuer] {
        let _ = (
            c.dn(which, false),
            c.dn(which, true),
            c.dn_bytes(which, true),
        );
        for attr in DnAttr::ALL {
            for i in 0..3 {
                let _ = (
                    c.dn_component(which, attr, i, false),
                    c.dn_component(which, attr, i, true),
                );
            }
        }
    }
    for kind in [
        SanKind::Email,
        SanKind::Dns,
        SanKind::MsUpn,
        SanKind::DnsSrv,
    ] {
        for i in 0..3 {
            let _ = (c.san(kind, i), c.san_bytes(kind, i));
        }
    }
    for id in [
        "1.2.3.4.5.6",
        "2.5.29.17",
        "2.5.29.19",
        "2.5.29.15",
        "2.5.29.37",
        "subjectAltName",
        "basicConstraints",
        "keyUsage",
        "extendedKeyUsage",
        "2.5.29.14",
        "2.5.29.35",
        "1.3.6.1.5.5.7.1.1",
        "2.5.29.31",
        "2.5.29.32",
        "",
        "1",
        "0.0",
        "x",
    ] {
        for numeric in [false, true] {
            for v in c.extension_values(id, numeric) {
                assert!(!v.contains(&0), "extension values are cut at NUL");
            }
        }
    }
    for prefix in ["SSL_CLIENT", "SSL_SERVER"] {
        let _ = (
            c.export_vars(prefix, 0, false),
            c.export_vars(prefix, i64::MAX, true),
        );
    }
}

/// Exports every variable of `session` under each option set, reads each
/// exported name back through `Env::var`, and evaluates an expression
/// reading many variables (compiled and in reparse mode).
fn export_all(session: &Session) {
    const EXPR: &str = r#"%{SSL_CLIENT_S_DN} =~ m/./ || %{SSL_CLIENT_I_DN_CN} == %{SSL_SERVER_S_DN_CN}
        || "x" in PeerExtList("1.2.3.4.5.6") || "x" in PeerExtList("subjectAltName")
        || %{SSL_CLIENT_SAN_DNS_0} . %{SSL_CLIENT_SAN_Email_0} == %{SSL_CLIENT_M_SERIAL}
        || %{SSL_CLIENT_V_REMAIN} < 10 || %{SSL_CLIENT_CERT_RFC4523_CEA} != ""
        || %{SSL_CLIENT_CERT_CHAIN_0} =~ m/^-----BEGIN/ || %{SSL_CLIENT_S_DN_CN_1_RAW} == "x""#;
    const EXPR22: &str = r#"%{SSL_CLIENT_S_DN} =~ m/./ || "x" in OID("1.2.3.4.5.6")
        || %{SSL_CLIENT_S_DN_Email} == %{SSL_CLIENT_A_KEY}"#;
    for (legacy, dialect) in [
        (false, Dialect::V24),
        (true, Dialect::V24),
        (false, Dialect::V22),
    ] {
        let opts = EnvOptions {
            legacy_dn: legacy,
            dialect,
            now: None,
            verify: Some("SUCCESS".into()),
            ..EnvOptions::default()
        };
        let env = SessionEnv::new(session, opts);
        let vars = env.export();
        for w in vars.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "export is sorted and unique: {} {}",
                w[0].0,
                w[1].0
            );
        }
        for (name, value) in &vars {
            if let Resolved::Var(var) = resolve(name, Dialect::V24) {
                let read = env.var(&var).unwrap_or(b"");
                assert_eq!(
                    cstr(read),
                    cstr(value),
                    "{dialect} legacy={legacy}: exported {name} differs from what an expression reads"
                );
            }
        }
        let src = if dialect == Dialect::V24 {
            EXPR
        } else {
            EXPR22
        };
        let mut b = ProgramBuilder::new();
        b.dialect(dialect);
        let p = b.build(src).expect("fixed expression compiles");
        let compiled = p.eval(&env);
        let reparsed = reparser(dialect).eval(src, &mut Machine::new(), &env);
        assert_eq!(outcome(&compiled), outcome(&reparsed));
    }
}

fn cstr(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

// ======================================================================
// session: any bytes as a captured-session JSON line
// ======================================================================

/// Reads `data` (lossy UTF-8) as a session; one that loads exports every
/// variable ([`export_all`]).
pub fn check_session(data: &[u8]) {
    let text = text_of(data);
    match Session::from_json(&text) {
        Ok(mut s) => {
            if s.time.is_none() {
                // A fixed clock: no dependence on when the fuzzer runs.
                s.time = session_with(&[]).time;
            }
            export_all(&s);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
