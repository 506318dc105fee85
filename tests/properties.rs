//! Property tests on random expression trees and environments:
//!
//! * the VM, reparse mode and a small reference evaluator written here
//!   (tree-walking, mod_ssl's semantics re-implemented from the README, not
//!   from the engine) give the same verdict or the same error;
//! * `Display` then parse is the identity on trees (both dialects);
//! * the length-first comparison is a total order consistent with equality;
//! * constant folding never changes a result: a program with constants and
//!   the same program with every constant read from a variable agree.
//!
//! Case counts are tuned so the whole file runs in a few seconds (debug).
//! Failures are not persisted to files (`failure_persistence: None`): a
//! failing case is printed; add it to a unit test or tests/fuzz-cases/.

use std::cmp::Ordering;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use sslrequire::env::{FileInfo, Files};
use sslrequire::syntax::{CmpOp, ExprKind, List, Name, Regex, StrPart, VarRef, Word, WordKind};
use sslrequire::{
    Dialect, Env, ErrorKind, Expr, Machine, ParserBuilder, Program, ProgramBuilder, Reparser, Span,
    Var, VarMap, VarRefs,
};

/// `cases` unless `PROPTEST_CASES` says otherwise (for a longer run).
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ======================================================================
// Tree helpers
// ======================================================================

fn sp() -> Span {
    Span::default()
}
fn expr(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}
fn word(kind: WordKind) -> Word {
    Word { kind, span: sp() }
}
fn name(s: &str) -> Name {
    Name {
        name: s.to_string(),
        span: sp(),
    }
}
fn header(func: &str, h: &str) -> VarRef {
    VarRef::Func {
        name: name(func),
        arg: vec![StrPart::Lit(h.as_bytes().to_vec())],
    }
}

/// String pieces as the parser makes them: no empty literal, no two
/// literals in a row.
fn normalise_parts(parts: Vec<StrPart>) -> Vec<StrPart> {
    let mut out: Vec<StrPart> = Vec::new();
    for p in parts {
        match (out.last_mut(), p) {
            (_, StrPart::Lit(b)) if b.is_empty() => {}
            (Some(StrPart::Lit(prev)), StrPart::Lit(b)) => prev.extend_from_slice(&b),
            (_, p) => out.push(p),
        }
    }
    out
}

/// `a . (b . c)` cannot be written: concatenations are flat.
fn concat(words: Vec<Word>) -> Word {
    let mut flat = Vec::new();
    for w in words {
        match w.kind {
            WordKind::Concat(inner) => flat.extend(inner),
            k => flat.push(word(k)),
        }
    }
    word(WordKind::Concat(flat))
}

fn cstr(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

// ======================================================================
// The environment
// ======================================================================

/// Variables the evaluable trees read by name (`SSL_NOPE`: always "").
const NAMED: &[&str] = &[
    "REMOTE_USER",
    "HTTPS",
    "SSL_CLIENT_S_DN_CN",
    "SSL_CIPHER",
    "QUERY_STRING",
];
const EMPTY_NAME: &str = "SSL_NOPE";
/// Request headers (`%{http:h0}`, `req("H1")`; names are case-blind).
const HEADERS: &[&str] = &["h0", "h1"];
/// `PeerExtList` ids.
const EXT_IDS: &[&str] = &["1.2.3", "4.5"];

/// Values chosen to hit the interesting cases (`-T` words, NUL, signed
/// bytes, lengths), and random short byte strings.
const INTERESTING: &[&[u8]] = &[
    b"",
    b"a",
    b"A",
    b"b",
    b"aa",
    b"ok",
    b"okA",
    b"bad",
    b"0",
    b"off",
    b"No",
    b"FALSE",
    b"10",
    b"9",
    b"-1",
    b"\0",
    b"a\0b",
    b"\xff",
    b"\x80a",
    b"\xc3\xa9",
    b"h0",
    b"H1",
    b"1.2.3",
    b"%{",
    b"$1",
    b"\"'\\",
    b"ab\n",
];
const ALPHABET: &[u8] = b"aAbB09 -\0\xff\x80\x7fok\"'\\{}%$\n";

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(INTERESTING).prop_map(|s| s.to_vec()),
        2 => prop::collection::vec(select(ALPHABET), 0..5),
    ]
}

/// A random environment: each variable and header set or not, up to three
/// extension values.
#[derive(Clone, Debug)]
struct TestEnv {
    named: Vec<Option<Vec<u8>>>,
    headers: Vec<Option<Vec<u8>>>,
    exts: Vec<(usize, Vec<u8>)>,
    /// Extra headers `c0`, `c1` … (the constants of the folding property).
    consts: Vec<Vec<u8>>,
}

fn test_env() -> impl Strategy<Value = TestEnv> {
    (
        prop::collection::vec(prop::option::of(bytes()), NAMED.len()),
        prop::collection::vec(prop::option::of(bytes()), HEADERS.len()),
        prop::collection::vec((0..EXT_IDS.len(), bytes()), 0..3),
    )
        .prop_map(|(named, headers, exts)| TestEnv {
            named,
            headers,
            exts,
            consts: Vec::new(),
        })
}

/// What the engine is evaluated against: the same values in a [`VarMap`],
/// and a `file()` that answers paths starting with `ok` from memory.
struct EngineEnv(VarMap);

fn file_content(path: &[u8]) -> Vec<u8> {
    let mut v = b"<".to_vec();
    v.extend_from_slice(path);
    v.extend_from_slice(b">\0hidden");
    v
}

impl Env for EngineEnv {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        self.0.var(var)
    }
    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        self.0.peer_extensions(id, numeric_only)
    }
    fn files(&self) -> &dyn Files {
        &TestFiles
    }
}

/// `file()` reads `ok*` paths from memory; every other path, and every file
/// test, fails.
#[derive(Debug)]
struct TestFiles;

impl Files for TestFiles {
    fn read(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        if path.starts_with(b"ok") {
            Ok(file_content(path))
        } else {
            Err(ErrorKind::FileOpen {
                path: String::from_utf8_lossy(path).into_owned(),
                reason: "not found (test)".into(),
            })
        }
    }
    fn stat(&self, path: &[u8], _follow: bool) -> Result<Option<FileInfo>, ErrorKind> {
        Err(ErrorKind::FileDenied {
            path: String::from_utf8_lossy(path).into_owned(),
            reason: "test".into(),
        })
    }
}

impl TestEnv {
    fn engine(&self) -> EngineEnv {
        let mut m = VarMap::new();
        for (n, v) in NAMED.iter().zip(&self.named) {
            if let Some(v) = v {
                m.set(n, v.clone()).unwrap();
            }
        }
        for (h, v) in HEADERS.iter().zip(&self.headers) {
            if let Some(v) = v {
                m.set(&format!("http:{h}"), v.clone()).unwrap();
            }
        }
        for (i, v) in self.consts.iter().enumerate() {
            m.set(&format!("http:c{i}"), v.clone()).unwrap();
        }
        for (id, v) in &self.exts {
            m.add_extension(EXT_IDS[*id], v.clone());
        }
        EngineEnv(m)
    }

    fn named(&self, n: &str) -> Vec<u8> {
        NAMED
            .iter()
            .position(|x| *x == n)
            .and_then(|i| self.named[i].clone())
            .map(|v| cstr(&v).to_vec())
            .unwrap_or_default()
    }

    fn header(&self, h: &[u8]) -> Vec<u8> {
        // Header names compare case-blind; `cN` are the folding constants.
        let v = if let Some(i) = HEADERS
            .iter()
            .position(|x| x.as_bytes().eq_ignore_ascii_case(h))
        {
            self.headers[i].clone()
        } else {
            (0..self.consts.len())
                .find(|i| format!("c{i}").as_bytes().eq_ignore_ascii_case(h))
                .map(|i| self.consts[i].clone())
        };
        v.map(|v| cstr(&v).to_vec()).unwrap_or_default()
    }
}

// ======================================================================
// The reference evaluator
// ======================================================================

/// mod_ssl's `strcmplex`: the longer string is greater; at equal length the
/// first differing byte decides, compared as a signed char.
fn ref_strcmplex(a: &[u8], b: &[u8]) -> Ordering {
    if a.len() != b.len() {
        return if a.len() < b.len() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    for i in 0..a.len() {
        let (x, y) = (a[i] as i8, b[i] as i8);
        if x < y {
            return Ordering::Less;
        }
        if x > y {
            return Ordering::Greater;
        }
    }
    Ordering::Equal
}

fn ref_compare(op: CmpOp, a: &[u8], b: &[u8]) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => ref_strcmplex(a, b) == Ordering::Less,
        CmpOp::Le => ref_strcmplex(a, b) != Ordering::Greater,
        CmpOp::Gt => ref_strcmplex(a, b) == Ordering::Greater,
        CmpOp::Ge => ref_strcmplex(a, b) != Ordering::Less,
    }
}

/// Prefix that sends a pattern to PCRE2 without changing its meaning (an
/// empty lookahead): the reference strips it and runs the rest in `regex`.
const TO_PCRE: &str = "(?=)";

/// Evaluates trees of the generated subset with Apache's semantics. Errors
/// are their codes.
struct Reference<'e> {
    env: &'e TestEnv,
    /// `$0`–`$9` of the last capturing match that succeeded on a non-empty
    /// subject (None: unset or cleared by a failed capturing match).
    caps: Option<Vec<Option<Vec<u8>>>>,
}

type R<T> = Result<T, &'static str>;

impl Reference<'_> {
    fn eval(env: &TestEnv, e: &Expr) -> R<bool> {
        Reference { env, caps: None }.expr(e)
    }

    fn expr(&mut self, e: &Expr) -> R<bool> {
        Ok(match &e.kind {
            ExprKind::Bool(b) => *b,
            ExprKind::Not(i) => !self.expr(i)?,
            ExprKind::And(items) => {
                for i in items {
                    if !self.expr(i)? {
                        return Ok(false);
                    }
                }
                true
            }
            ExprKind::Or(items) => {
                for i in items {
                    if self.expr(i)? {
                        return Ok(true);
                    }
                }
                false
            }
            ExprKind::Cmp { op, lhs, rhs } => {
                let a = self.word(lhs)?;
                let b = self.word(rhs)?;
                ref_compare(*op, &a, &b)
            }
            ExprKind::In { lhs, list } => {
                let needle = self.word(lhs)?;
                match list {
                    // Apache walks the list last to first, stopping at a hit.
                    List::Words(ws) => {
                        for w in ws.iter().rev() {
                            if self.word(w)? == needle {
                                return Ok(true);
                            }
                        }
                        false
                    }
                    List::Func { arg, .. } => {
                        let id = self.word(arg)?;
                        self.env
                            .exts
                            .iter()
                            .any(|(i, v)| EXT_IDS[*i].as_bytes() == id && cstr(v) == needle)
                    }
                }
            }
            ExprKind::Match {
                lhs,
                regex,
                negated,
            } => {
                let subject = self.word(lhs)?;
                let pattern = regex
                    .pattern
                    .strip_prefix(TO_PCRE)
                    .unwrap_or(&regex.pattern);
                let re = regex::bytes::RegexBuilder::new(pattern)
                    .unicode(false)
                    .case_insensitive(regex.icase)
                    .dot_matches_new_line(true)
                    .build()
                    .expect("generated patterns are valid");
                let hit = if re.captures_len() > 1 {
                    // Only a regex with groups touches $0-$9.
                    match re.captures(&subject) {
                        Some(c) => {
                            self.caps = (!subject.is_empty()).then(|| {
                                (0..10)
                                    .map(|i| c.get(i).map(|m| m.as_bytes().to_vec()))
                                    .collect()
                            });
                            true
                        }
                        None => {
                            self.caps = None;
                            false
                        }
                    }
                } else {
                    re.is_match(&subject)
                };
                hit != *negated
            }
            ExprKind::Unary { op, arg } => {
                let v = self.word(arg)?;
                match op.name.as_str() {
                    "n" => !v.is_empty(),
                    "z" => v.is_empty(),
                    "T" => {
                        !(v.is_empty()
                            || ["0", "off", "no", "false"]
                                .iter()
                                .any(|f| v.eq_ignore_ascii_case(f.as_bytes())))
                    }
                    other => panic!("reference: no unary -{other}"),
                }
            }
            ExprKind::Binary { .. } => panic!("reference: no binary operators"),
        })
    }

    /// A word's value: every piece is a C string (cut at its first NUL).
    fn word(&mut self, w: &Word) -> R<Vec<u8>> {
        Ok(match &w.kind {
            WordKind::Digits(d) => d.as_bytes().to_vec(),
            WordKind::Str(parts) => self.parts(parts)?,
            WordKind::Var(v) => self.var(v)?,
            WordKind::Backref(n) => self.backref(*n),
            WordKind::Concat(ws) => {
                let mut out = Vec::new();
                for w in ws {
                    out.extend(self.word(w)?);
                }
                out
            }
            WordKind::Call { name, arg } => {
                let a = self.word(arg)?;
                self.call(&name.name, a)?
            }
        })
    }

    fn parts(&mut self, parts: &[StrPart]) -> R<Vec<u8>> {
        let mut out = Vec::new();
        for p in parts {
            match p {
                StrPart::Lit(b) => out.extend_from_slice(cstr(b)),
                StrPart::Var(v) => out.extend(self.var(v)?),
                StrPart::Backref(n) => out.extend(self.backref(*n)),
                StrPart::BadEscape(_) => panic!("reference: 2.4 only"),
            }
        }
        Ok(out)
    }

    fn var(&mut self, v: &VarRef) -> R<Vec<u8>> {
        match v {
            VarRef::Name(n) if n.name == EMPTY_NAME => Ok(Vec::new()),
            VarRef::Name(n) => Ok(self.env.named(&n.name)),
            VarRef::Func { name, arg } => {
                let a = self.parts(arg)?;
                self.call(&name.name, a)
            }
        }
    }

    fn backref(&self, n: u8) -> Vec<u8> {
        self.caps
            .as_ref()
            .and_then(|c| c[usize::from(n)].clone())
            .unwrap_or_default()
    }

    fn call(&mut self, f: &str, a: Vec<u8>) -> R<Vec<u8>> {
        let out = match f.to_ascii_lowercase().as_str() {
            "tolower" => a.to_ascii_lowercase(),
            "toupper" => a.to_ascii_uppercase(),
            "req" | "http" => self.env.header(&a),
            "file" => {
                if a.starts_with(b"ok") {
                    file_content(&a)
                } else {
                    return Err("E300");
                }
            }
            other => panic!("reference: no function {other}"),
        };
        Ok(cstr(&out).to_vec())
    }
}

// ======================================================================
// Evaluable trees (2.4)
// ======================================================================

/// Short regexes whose meaning PCRE2 and the `regex` crate share: literals,
/// `.`, classes, quantified single atoms, groups (never quantified, so
/// captures agree), alternation, anchors; sometimes with [`TO_PCRE`].
fn pattern() -> impl Strategy<Value = String> {
    let atom = select(
        &[
            "a", "b", "A", "0", ".", ".", ".", "[ab]", "[^a]", "\\.", "\\d", "\\$", " ",
        ][..],
    );
    let quant = select(&["", "", "*", "*", "+", "?", "?", "{1,2}", "*?"][..]);
    let piece = (atom, quant).prop_map(|(a, q)| format!("{a}{q}"));
    let seq = prop::collection::vec(piece.clone(), 0..3).prop_map(|v| v.concat());
    let alt = prop::collection::vec(seq, 1..3).prop_map(|v| v.join("|"));
    let group = (alt, any::<bool>()).prop_map(|(a, capture)| {
        if capture {
            format!("({a})")
        } else {
            format!("(?:{a})")
        }
    });
    let item = prop_oneof![3 => piece, 2 => group];
    (
        any::<bool>(),
        prop::collection::vec(item, 0..4),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(start, items, end, pcre)| {
            format!(
                "{}{}{}{}",
                if pcre { TO_PCRE } else { "" },
                if start { "^" } else { "" },
                items.concat(),
                if end { "$" } else { "" }
            )
        })
}

/// `$0`–`$9`, mostly the first few (the groups a short pattern has).
fn backref_number() -> impl Strategy<Value = u8> {
    prop_oneof![3 => 0u8..4, 1 => 0u8..10]
}

fn leaf_word() -> BoxedStrategy<Word> {
    prop_oneof![
        "-?[0-9]{1,3}".prop_map(|d| word(WordKind::Digits(d))),
        bytes().prop_map(|b| word(WordKind::Str(normalise_parts(vec![StrPart::Lit(b)])))),
        var_ref().prop_map(|v| word(WordKind::Var(v))),
        backref_number().prop_map(|n| word(WordKind::Backref(n))),
    ]
    .boxed()
}

fn var_ref() -> impl Strategy<Value = VarRef> {
    prop_oneof![
        select(
            &[
                "REMOTE_USER",
                "HTTPS",
                "SSL_CLIENT_S_DN_CN",
                "SSL_CIPHER",
                "QUERY_STRING",
                EMPTY_NAME
            ][..]
        )
        .prop_map(|n| VarRef::Name(name(n))),
        (
            select(&["http", "HTTP", "req"][..]),
            select(&["h0", "H0", "h1"][..])
        )
            .prop_map(|(f, h)| header(f, h)),
    ]
}

fn part() -> impl Strategy<Value = StrPart> {
    prop_oneof![
        bytes().prop_map(StrPart::Lit),
        var_ref().prop_map(StrPart::Var),
        backref_number().prop_map(StrPart::Backref),
    ]
}

fn eval_word() -> BoxedStrategy<Word> {
    leaf_word()
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(part(), 0..4)
                    .prop_map(|p| word(WordKind::Str(normalise_parts(p)))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(concat),
                (
                    select(&["tolower", "toupper", "TOUPPER", "file", "req"][..]),
                    inner
                )
                    .prop_map(|(f, a)| word(WordKind::Call {
                        name: name(f),
                        arg: Box::new(a),
                    })),
            ]
        })
        .boxed()
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    select(
        &[
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ][..],
    )
}

fn eval_expr() -> BoxedStrategy<Expr> {
    let w = eval_word;
    let leaf = prop_oneof![
        any::<bool>().prop_map(|b| expr(ExprKind::Bool(b))),
        (cmp_op(), w(), w()).prop_map(|(op, lhs, rhs)| expr(ExprKind::Cmp { op, lhs, rhs })),
        (w(), pattern(), any::<bool>(), any::<bool>()).prop_map(|(lhs, p, icase, negated)| {
            expr(ExprKind::Match {
                lhs,
                regex: Regex {
                    pattern: p,
                    icase,
                    delim: '/',
                    span: sp(),
                },
                negated,
            })
        }),
        (w(), prop::collection::vec(w(), 1..4)).prop_map(|(lhs, ws)| expr(ExprKind::In {
            lhs,
            list: List::Words(ws)
        })),
        (w(), w()).prop_map(|(lhs, arg)| expr(ExprKind::In {
            lhs,
            list: List::Func {
                name: name("PeerExtList"),
                arg: Box::new(arg),
            },
        })),
        (select(&["n", "z", "T"][..]), w())
            .prop_map(|(op, arg)| expr(ExprKind::Unary { op: name(op), arg })),
    ];
    boolean_tree(leaf.boxed(), 4, 24, 3)
}

/// `!`, `&&` and `||` over `leaf`, up to `depth` levels, about `size`
/// leaves, chains of 2 to `width` operands.
fn boolean_tree(
    leaf: BoxedStrategy<Expr>,
    depth: u32,
    size: u32,
    width: usize,
) -> BoxedStrategy<Expr> {
    leaf.prop_recursive(depth, size, 4, move |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| expr(ExprKind::Not(Box::new(e)))),
            prop::collection::vec(inner.clone(), 2..=width).prop_map(|v| expr(ExprKind::And(v))),
            prop::collection::vec(inner, 2..=width).prop_map(|v| expr(ExprKind::Or(v))),
        ]
    })
    .boxed()
}

/// A verdict or an error code.
type Outcome = Result<bool, &'static str>;

fn outcome(r: Result<bool, sslrequire::Error>) -> Outcome {
    r.map_err(|e| e.code())
}

fn compiled(e: &Expr, env: &EngineEnv) -> Outcome {
    let text = e.to_string();
    let p = Program::compile(e, &text).unwrap_or_else(|err| panic!("{text}\n{err}"));
    outcome(p.eval_with(&mut Machine::new(), env))
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn vm_reparse_and_reference_agree(e in eval_expr(), env in test_env()) {
        let text = e.to_string();
        let engine_env = env.engine();
        let want = Reference::eval(&env, &e);
        prop_assert_eq!(compiled(&e, &engine_env), want, "compiled: {}", text);
        let reparse = Reparser::new().eval(&text, &mut Machine::new(), &engine_env);
        prop_assert_eq!(outcome(reparse), want, "reparse mode: {}", text);
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// One machine per thread evaluates many programs: a machine that ran
    /// another program first gives the same answer as a fresh one.
    #[test]
    fn a_reused_machine_answers_like_a_fresh_one(
        first in prop_oneof![
            // Captures of every size, read (so the machine keeps their state).
            Just(sslrequire::parse(
                r#""a" =~ m/(a)/ && "abcdefghi" =~ m/(a)(b)(c)(d)(e)(f)(g)(h)(i)/
                   && "ab" =~ m/(a)(b)?/ && "zz" =~ m/(z)(z)/ && $2 == "z""#
            ).unwrap()),
            eval_expr(),
        ],
        e in eval_expr(),
        env in test_env()
    ) {
        let engine_env = env.engine();
        let p1 = Program::compile(&first, &first.to_string()).unwrap();
        let p2 = Program::compile(&e, &e.to_string()).unwrap();
        let mut m = Machine::new();
        let _ = p1.eval_with(&mut m, &engine_env);
        let reused = outcome(p2.eval_with(&mut m, &engine_env));
        prop_assert_eq!(reused, compiled(&e, &engine_env), "{}\nafter: {}", e, first);
    }
}

// ======================================================================
// Constant folding
// ======================================================================

/// The same tree with every constant read from a header `cN` instead
/// (digits, string literals, `true`/`false`); the values go to `consts`.
fn unfold(e: &Expr, consts: &mut Vec<Vec<u8>>) -> Expr {
    fn var(consts: &mut Vec<Vec<u8>>, value: Vec<u8>) -> VarRef {
        consts.push(value);
        header("http", &format!("c{}", consts.len() - 1))
    }
    fn w(x: &Word, c: &mut Vec<Vec<u8>>) -> Word {
        word(match &x.kind {
            WordKind::Digits(d) => WordKind::Var(var(c, d.clone().into_bytes())),
            WordKind::Str(parts) => WordKind::Str(
                parts
                    .iter()
                    .map(|p| match p {
                        StrPart::Lit(b) => StrPart::Var(var(c, b.clone())),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            WordKind::Concat(ws) => WordKind::Concat(ws.iter().map(|x| w(x, c)).collect()),
            WordKind::Call { name, arg } => WordKind::Call {
                name: name.clone(),
                arg: Box::new(w(arg, c)),
            },
            // `%{http:h0}`'s name stays: it is not a value.
            k => k.clone(),
        })
    }
    expr(match &e.kind {
        ExprKind::Bool(b) => {
            let v = var(consts, if *b { b"1".to_vec() } else { b"0".to_vec() });
            ExprKind::Cmp {
                op: CmpOp::Eq,
                lhs: word(WordKind::Var(v)),
                rhs: word(WordKind::Str(vec![StrPart::Lit(b"1".to_vec())])),
            }
        }
        ExprKind::Not(i) => ExprKind::Not(Box::new(unfold(i, consts))),
        ExprKind::And(v) => ExprKind::And(v.iter().map(|i| unfold(i, consts)).collect()),
        ExprKind::Or(v) => ExprKind::Or(v.iter().map(|i| unfold(i, consts)).collect()),
        ExprKind::Cmp { op, lhs, rhs } => ExprKind::Cmp {
            op: *op,
            lhs: w(lhs, consts),
            rhs: w(rhs, consts),
        },
        ExprKind::In { lhs, list } => ExprKind::In {
            lhs: w(lhs, consts),
            list: match list {
                List::Words(ws) => List::Words(ws.iter().map(|x| w(x, consts)).collect()),
                List::Func { name, arg } => List::Func {
                    name: name.clone(),
                    arg: Box::new(w(arg, consts)),
                },
            },
        },
        ExprKind::Match {
            lhs,
            regex,
            negated,
        } => ExprKind::Match {
            lhs: w(lhs, consts),
            regex: regex.clone(),
            negated: *negated,
        },
        ExprKind::Unary { op, arg } => ExprKind::Unary {
            op: op.clone(),
            arg: w(arg, consts),
        },
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: op.clone(),
            lhs: w(lhs, consts),
            rhs: w(rhs, consts),
        },
    })
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn constant_folding_never_changes_a_result(e in eval_expr(), env in test_env()) {
        let mut env = env;
        let mut consts = Vec::new();
        let unfolded = unfold(&e, &mut consts);
        env.consts = consts;
        let engine_env = env.engine();
        let folded = compiled(&e, &engine_env);
        prop_assert_eq!(
            compiled(&unfolded, &engine_env),
            folded,
            "with constants: {}\nfrom variables: {}",
            e,
            unfolded
        );
        prop_assert_eq!(folded, Reference::eval(&env, &unfolded), "reference: {}", unfolded);
    }
}

#[test]
fn unfolding_reads_every_constant_from_a_variable() {
    let e = sslrequire::parse(r#"true && 12 == "a%{HTTPS}b" . tolower("X")"#).unwrap();
    let mut consts = Vec::new();
    let u = unfold(&e, &mut consts);
    assert_eq!(
        u.to_string(),
        r#"%{http:c0} == "1" && %{http:c1} == "%{http:c2}%{HTTPS}%{http:c3}" . tolower("%{http:c4}")"#
    );
    let lits: Vec<&[u8]> = consts.iter().map(Vec::as_slice).collect();
    assert_eq!(lits, [&b"1"[..], b"12", b"a", b"b", b"X"]);
    // … and the program really does read them: nothing left to fold.
    let p = Program::compile(&u, &u.to_string()).unwrap();
    assert!(p.listing().contains("c4"), "{}", p.listing());
}

// ======================================================================
// The comparison order
// ======================================================================

fn cmp_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(select(&b"a\x7f\x80\xff0"[..]), 0..4),
        prop::collection::vec(any::<u8>(), 0..4),
    ]
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn strcmplex_is_a_total_order_consistent_with_equality(
        a in cmp_bytes(), b in cmp_bytes(), c in cmp_bytes()
    ) {
        let cmp = sslrequire::strcmplex;
        prop_assert_eq!(cmp(&a, &b), ref_strcmplex(&a, &b));
        // Equal exactly when the bytes are equal.
        prop_assert_eq!(cmp(&a, &b) == Ordering::Equal, a == b);
        prop_assert_eq!(cmp(&a, &a), Ordering::Equal);
        // Antisymmetric.
        prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse());
        // Transitive.
        if cmp(&a, &b) != Ordering::Greater && cmp(&b, &c) != Ordering::Greater {
            prop_assert_ne!(cmp(&a, &c), Ordering::Greater);
        }
        // Length first.
        if a.len() < b.len() {
            prop_assert_eq!(cmp(&a, &b), Ordering::Less);
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Every comparison operator, on values read at run time and on folded
    /// constants, follows the order.
    #[test]
    fn comparison_operators_follow_the_order(a in cmp_bytes(), b in cmp_bytes()) {
        let mut m = VarMap::new();
        m.set("http:a", a.clone()).unwrap();
        m.set("http:b", b.clone()).unwrap();
        let (a, b) = (cstr(&a).to_vec(), cstr(&b).to_vec());
        let lit = |v: &[u8]| word(WordKind::Str(normalise_parts(vec![StrPart::Lit(v.to_vec())])));
        for op in [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge] {
            let want = ref_compare(op, &a, &b);
            for (lhs, rhs) in [
                (word(WordKind::Var(header("http", "a"))), word(WordKind::Var(header("http", "b")))),
                (lit(&a), lit(&b)),
            ] {
                let e = expr(ExprKind::Cmp { op, lhs, rhs });
                let p = Program::compile(&e, &e.to_string()).unwrap();
                prop_assert_eq!(p.eval(&m).unwrap(), want, "{}", e);
            }
        }
    }
}

// ======================================================================
// Superinstructions
// ======================================================================

/// A variable read by name (NAMED, or the always-empty one).
fn named_var() -> impl Strategy<Value = Word> {
    select(
        NAMED
            .iter()
            .copied()
            .chain([EMPTY_NAME])
            .collect::<Vec<_>>(),
    )
    .prop_map(|n| word(WordKind::Var(VarRef::Name(name(n)))))
}

fn literal() -> impl Strategy<Value = Word> {
    prop_oneof![
        "-?[0-9]{1,3}".prop_map(|d| word(WordKind::Digits(d))),
        bytes().prop_map(|b| word(WordKind::Str(normalise_parts(vec![StrPart::Lit(b)])))),
    ]
}

/// The shapes the machine runs as superinstructions — a variable against
/// a constant (every operator), in a list of constants (short lists are
/// scanned, long ones hashed), against a regex — under deep `&&`, `||` and
/// `!`, so that tests and jumps fuse and jumps land on jumps.
fn fused_expr() -> BoxedStrategy<Expr> {
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(|b| expr(ExprKind::Bool(b))),
        4 => (cmp_op(), named_var(), literal())
            .prop_map(|(op, lhs, rhs)| expr(ExprKind::Cmp { op, lhs, rhs })),
        2 => (named_var(), prop::collection::vec(literal(), 1..12)).prop_map(|(lhs, ws)| {
            expr(ExprKind::In { lhs, list: List::Words(ws) })
        }),
        2 => (named_var(), pattern(), any::<bool>(), any::<bool>()).prop_map(
            |(lhs, p, icase, negated)| {
                let regex = Regex { pattern: p, icase, delim: '/', span: sp() };
                expr(ExprKind::Match { lhs, regex, negated })
            }
        ),
        1 => (cmp_op(), backref_number(), literal()).prop_map(|(op, n, rhs)| {
            let lhs = word(WordKind::Backref(n));
            expr(ExprKind::Cmp { op, lhs, rhs })
        }),
    ];
    boolean_tree(leaf.boxed(), 6, 40, 4)
}

proptest! {
    #![proptest_config(config(512))]

    /// The superinstructions give the reference evaluator's results, read
    /// by name (`VarMap`, `VarRefs`) and by slot (`Layout`/`Slots`).
    #[test]
    fn superinstructions_agree_with_the_reference(e in fused_expr(), env in test_env()) {
        let text = e.to_string();
        let want = Reference::eval(&env, &e);
        let engine_env = env.engine();
        prop_assert_eq!(compiled(&e, &engine_env), want, "by name: {}", text);
        let p = Program::compile(&e, &text).unwrap();
        let layout = p.layout(NAMED).unwrap();
        let values: Vec<&[u8]> = env.named.iter().map(|v| v.as_deref().unwrap_or(b"")).collect();
        let slots = layout.bind(&p, &values).unwrap();
        prop_assert_eq!(outcome(slots.eval_with(&mut Machine::new())), want, "by slot: {}", text);
        let mut refs = VarRefs::new();
        for (n, v) in NAMED.iter().zip(&env.named) {
            if let Some(v) = v {
                refs.set(n, v).unwrap();
            }
        }
        prop_assert_eq!(outcome(p.eval(&refs)), want, "borrowed by name: {}", text);
    }
}

// ======================================================================
// Display → parse
// ======================================================================

const KEYWORDS: &[&str] = &[
    "true", "false", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "in",
];

fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,6}".prop_map(|s| {
        if KEYWORDS.contains(&s.as_str()) {
            format!("{s}_")
        } else {
            s
        }
    })
}

/// Any bytes, biased to the ones the printer must escape.
fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        bytes(),
        prop::collection::vec(any::<u8>(), 1..6),
        prop::collection::vec(select(&b"\"'\\%{}$0123456789\n\t\0\x7f\xff"[..]), 1..6),
    ]
}

fn any_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        pattern(),
        "\\PC{0,8}",
        prop::collection::vec(
            select(
                &[
                    "/", "#", "|", "!", ",", ";", ":", "%", "^", "?", "-", ".", "$", "'", "\"",
                    "a", "\\", "{", "}"
                ][..]
            ),
            0..12
        )
        .prop_map(|v| v.concat()),
    ]
    .prop_map(|p| {
        // Every delimiter in one pattern: printed with `\x2F`, not as is.
        if [
            "/", "#", "|", "!", ",", ";", ":", "%", "^", "?", "-", ".", "$", "'", "\"",
        ]
        .iter()
        .all(|d| p.contains(d))
        {
            p.replace('/', "")
        } else {
            p
        }
    })
}

fn any_var_ref(inner: BoxedStrategy<Vec<StrPart>>) -> impl Strategy<Value = VarRef> {
    prop_oneof![
        ident().prop_map(|n| VarRef::Name(name(&n))),
        // The argument cannot be empty (`%{f:}` is a syntax error).
        (ident(), inner).prop_map(|(n, mut arg)| {
            if arg.is_empty() {
                arg.push(StrPart::Lit(b"x".to_vec()));
            }
            VarRef::Func {
                name: name(&n),
                arg,
            }
        }),
    ]
}

/// 2.4 string pieces, nested `%{f:…}` arguments included.
fn any_parts() -> BoxedStrategy<Vec<StrPart>> {
    let leaf = prop::collection::vec(
        prop_oneof![
            any_bytes().prop_map(StrPart::Lit),
            (0u8..10).prop_map(StrPart::Backref),
            ident().prop_map(|n| StrPart::Var(VarRef::Name(name(&n)))),
        ],
        0..3,
    )
    .prop_map(normalise_parts);
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop::collection::vec(
            prop_oneof![
                any_bytes().prop_map(StrPart::Lit),
                (0u8..10).prop_map(StrPart::Backref),
                any_var_ref(inner).prop_map(StrPart::Var),
            ],
            0..4,
        )
        .prop_map(normalise_parts)
    })
    .boxed()
}

fn any_word() -> BoxedStrategy<Word> {
    let leaf = prop_oneof![
        "-?[0-9]{1,4}".prop_map(|d| word(WordKind::Digits(d))),
        (0u8..10).prop_map(|n| word(WordKind::Backref(n))),
        any_parts().prop_map(|p| word(WordKind::Str(p))),
        any_var_ref(any_parts()).prop_map(|v| word(WordKind::Var(v))),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(concat),
            (ident(), inner).prop_map(|(n, a)| word(WordKind::Call {
                name: name(&n),
                arg: Box::new(a),
            })),
        ]
    })
    .boxed()
}

fn any_expr() -> BoxedStrategy<Expr> {
    let w = any_word;
    let binary = "[A-Za-z_][A-Za-z0-9_]{1,6}"
        .prop_filter("not a comparison", |s| !KEYWORDS.contains(&s.as_str()));
    let leaf = prop_oneof![
        any::<bool>().prop_map(|b| expr(ExprKind::Bool(b))),
        (cmp_op(), w(), w()).prop_map(|(op, lhs, rhs)| expr(ExprKind::Cmp { op, lhs, rhs })),
        (
            w(),
            any_pattern(),
            any::<bool>(),
            any::<bool>(),
            select(&['/', '#', '_', 'x'][..])
        )
            .prop_map(
                |(lhs, pattern, icase, negated, delim)| expr(ExprKind::Match {
                    lhs,
                    regex: Regex {
                        pattern,
                        icase,
                        delim,
                        span: sp()
                    },
                    negated,
                })
            ),
        (w(), prop::collection::vec(w(), 1..4)).prop_map(|(lhs, ws)| expr(ExprKind::In {
            lhs,
            list: List::Words(ws)
        })),
        (w(), ident(), w()).prop_map(|(lhs, n, arg)| expr(ExprKind::In {
            lhs,
            list: List::Func {
                name: name(&n),
                arg: Box::new(arg)
            },
        })),
        ("[A-Za-z_]", w()).prop_map(|(op, arg)| expr(ExprKind::Unary { op: name(&op), arg })),
        (w(), binary, w()).prop_map(|(lhs, op, rhs)| expr(ExprKind::Binary {
            op: name(&op),
            lhs,
            rhs,
        })),
    ];
    boolean_tree(leaf.boxed(), 4, 24, 3)
}

/// 2.2 trees: digits, plain strings (with the scanner's bad escapes),
/// `%{NAME}` (`:` and `-` allowed), `file("…")`, `OID(…)` lists.
fn any_expr22() -> BoxedStrategy<Expr> {
    let parts = prop::collection::vec(
        prop_oneof![
            4 => any_bytes().prop_map(StrPart::Lit),
            1 => select(&["\\8", "\\777", "\\0123", "\\400"][..])
                .prop_map(|s| StrPart::BadEscape(s.to_string())),
        ],
        0..3,
    )
    .prop_map(normalise_parts);
    let var_name = "[A-Za-z][A-Za-z0-9_:-]{0,8}".prop_filter("reserved", |s| {
        !(KEYWORDS.contains(&s.as_str())
            || s == "file"
            || s.eq_ignore_ascii_case("oid")
            || (s.starts_with('m') && s.len() <= 2))
    });
    let w = prop_oneof![
        "[0-9]{1,4}".prop_map(|d| word(WordKind::Digits(d))),
        parts.clone().prop_map(|p| word(WordKind::Str(p))),
        var_name.prop_map(|n| word(WordKind::Var(VarRef::Name(name(&n))))),
        parts.prop_map(|p| word(WordKind::Call {
            name: name("file"),
            arg: Box::new(word(WordKind::Str(p))),
        })),
    ]
    .boxed();
    let leaf = prop_oneof![
        any::<bool>().prop_map(|b| expr(ExprKind::Bool(b))),
        (cmp_op(), w.clone(), w.clone()).prop_map(|(op, lhs, rhs)| expr(ExprKind::Cmp {
            op,
            lhs,
            rhs
        })),
        (w.clone(), any_pattern(), any::<bool>(), any::<bool>()).prop_map(
            |(lhs, pattern, icase, negated)| expr(ExprKind::Match {
                lhs,
                regex: Regex {
                    pattern,
                    icase,
                    delim: '/',
                    span: sp()
                },
                negated,
            })
        ),
        (w.clone(), prop::collection::vec(w.clone(), 1..4)).prop_map(|(lhs, ws)| expr(
            ExprKind::In {
                lhs,
                list: List::Words(ws)
            }
        )),
        (w.clone(), select(&["OID", "oid"][..]), w).prop_map(|(lhs, n, arg)| expr(ExprKind::In {
            lhs,
            list: List::Func {
                name: name(n),
                arg: Box::new(arg)
            },
        })),
    ];
    boolean_tree(leaf.boxed(), 4, 24, 3)
}

fn reads_back(d: Dialect, e: &Expr) -> Result<(), TestCaseError> {
    let parser = ParserBuilder::new().dialect(d).build();
    for printed in [e.to_string(), e.to_parenthesized()] {
        let back = match parser.parse(&printed) {
            Ok(back) => back,
            Err(err) => return Err(TestCaseError::fail(format!("{printed}\n{err}\n{e:?}"))),
        };
        prop_assert_eq!(&back, e, "{}", printed);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn display_then_parse_is_the_identity_24(e in any_expr()) {
        reads_back(Dialect::V24, &e)?;
    }

    #[test]
    fn display_then_parse_is_the_identity_22(e in any_expr22()) {
        reads_back(Dialect::V22, &e)?;
    }

    /// What the reference can evaluate also reads back, and compiles to the
    /// same program as its printed form.
    #[test]
    fn printed_programs_compile_alike(e in eval_expr()) {
        let text = e.to_string();
        let from_tree = Program::compile(&e, &text).unwrap();
        let from_text = ProgramBuilder::new().build(&text).unwrap();
        prop_assert_eq!(from_tree.listing(), from_text.listing());
    }
}
