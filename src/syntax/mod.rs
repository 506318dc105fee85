//! Text → [`Expr`]: the grammar (`grammar.pest`), its input-safety checks
//! and the abstract syntax tree.

pub mod ast;
mod limits;
mod parser;
pub(crate) use parser::decode_escape;

use std::sync::Arc;

use crate::dialect::Dialect;
use crate::error::Error;
pub use ast::*;

/// Default limit on the expression length, in bytes (1 MiB).
pub const DEFAULT_SIZE_LIMIT: usize = 1 << 20;
/// Default limit on nesting (parentheses, `!` runs, nested `%{…}`).
/// Apache accepts at least 40; real policies use a handful.
pub const DEFAULT_NEST_LIMIT: u32 = 128;

/// Stack reserved per nesting level for expressions deeper than 16.
const STACK_PER_LEVEL: usize = 64 << 10;

/// Configures a [`Parser`].
#[derive(Clone, Debug)]
pub struct ParserBuilder {
    dialect: Dialect,
    size_limit: usize,
    nest_limit: u32,
}

impl Default for ParserBuilder {
    fn default() -> Self {
        ParserBuilder::new()
    }
}

impl ParserBuilder {
    /// Dialect 2.4, 1 MiB, nesting 128.
    pub fn new() -> ParserBuilder {
        ParserBuilder {
            dialect: Dialect::V24,
            size_limit: DEFAULT_SIZE_LIMIT,
            nest_limit: DEFAULT_NEST_LIMIT,
        }
    }

    /// Which language to read.
    pub fn dialect(&mut self, dialect: Dialect) -> &mut ParserBuilder {
        self.dialect = dialect;
        self
    }

    /// Longest accepted expression, in bytes.
    pub fn size_limit(&mut self, bytes: usize) -> &mut ParserBuilder {
        self.size_limit = bytes;
        self
    }

    /// Deepest accepted nesting. Values above 1000 are capped: the parser
    /// recurses once per level.
    pub fn nest_limit(&mut self, limit: u32) -> &mut ParserBuilder {
        self.nest_limit = limit.min(1000);
        self
    }

    /// The parser.
    pub fn build(&self) -> Parser {
        Parser {
            config: self.clone(),
        }
    }
}

/// Reads SSLRequire expressions.
#[derive(Clone, Debug, Default)]
pub struct Parser {
    config: ParserBuilder,
}

impl Parser {
    /// A 2.4 parser with the default limits.
    pub fn new() -> Parser {
        ParserBuilder::new().build()
    }

    /// The dialect this parser reads.
    pub fn dialect(&self) -> Dialect {
        self.config.dialect
    }

    /// Parses `src`.
    ///
    /// # Errors
    /// An `E1xx` [`Error`] when `src` is not an expression of the dialect,
    /// is longer than the size limit or nests deeper than the nest limit.
    pub fn parse(&self, src: &str) -> Result<Expr, Error> {
        let c = &self.config;
        let scan = |src: &str, v24: bool| limits::check(src, c.size_limit, c.nest_limit, v24);
        // A 2.2 expression that fails its grammar is tried as 2.4, to say
        // "this is 2.4 syntax": only within the 2.4 lexical scan's limits,
        // since the 2.2 scan did not see 2.4's single-quoted strings.
        let is_24 = |src: &str| scan(src, true).is_ok_and(|d| deep(d, || parser::matches_24(src)));
        scan(src, c.dialect == Dialect::V24)
            .and_then(|depth| deep(depth, || parser::parse(src, c.dialect, is_24)))
            .map_err(|(kind, span)| Error::new(kind, span, Arc::from(src)))
    }
}

/// Runs `parse` for input nested `depth` deep: pest recurses several frames
/// per nesting level (about 20 KiB a level in a debug build), so deep
/// expressions get a stack of their own instead of risking the caller's.
fn deep<T>(depth: u32, parse: impl FnOnce() -> T) -> T {
    if depth <= 16 {
        parse()
    } else {
        stacker::grow((depth as usize + 8) * STACK_PER_LEVEL, parse)
    }
}

/// Parses a 2.4 expression with the default limits.
///
/// # Errors
/// As [`Parser::parse`].
pub fn parse(src: &str) -> Result<Expr, Error> {
    Parser::new().parse(src)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn p24(s: &str) -> Result<Expr, Error> {
        parse(s)
    }

    fn p22(s: &str) -> Result<Expr, Error> {
        ParserBuilder::new().dialect(Dialect::V22).build().parse(s)
    }

    fn code(r: Result<Expr, Error>) -> &'static str {
        r.map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn precedence() {
        let e = p24("true || false && !false").unwrap();
        assert_eq!(e.to_parenthesized(), "true || (false && !false)");
        let e = p24("not true and false").unwrap();
        assert_eq!(e.to_parenthesized(), "!true && false");
        let e = p24("! \"a\" == \"b\"").unwrap();
        assert!(matches!(e.kind, ExprKind::Not(ref i) if matches!(i.kind, ExprKind::Cmp { .. })));
    }

    #[test]
    fn chains_are_flat() {
        let e = p24("true && true && false").unwrap();
        assert!(matches!(e.kind, ExprKind::And(ref v) if v.len() == 3));
        let e = p24("(true && true) && false").unwrap();
        assert!(matches!(e.kind, ExprKind::And(ref v) if v.len() == 2));
    }

    #[test]
    fn spellings_24() {
        for op in [
            "==", "=", "eq", "-eq", "!=", "ne", "-ne", "<", "lt", "-lt", "<=", "le", "-le",
        ] {
            assert_eq!(code(p24(&format!("\"a\" {op} \"b\""))), "ok", "{op}");
        }
        for e in [
            "'a' == \"a\"",
            "\"a\" . 'b' == \"ab\"",
            "1.5 == 15",
            "-1 < 5",
            "$1 == \"\"",
        ] {
            assert_eq!(code(p24(e)), "ok", "{e}");
        }
        assert_eq!(code(p24("%{X} -in {\"a\"}")), "ok");
        assert_eq!(code(p24("%{X} -ipmatch \"10.0.0.0/8\"")), "ok");
        assert_eq!(code(p24("-n %{X}")), "ok");
        assert_eq!(code(p24("%{X} =~ /^a/")), "ok");
        assert_eq!(code(p24("%{X} =~ m#a#i")), "ok");
        assert_eq!(code(p24("\"x\" =~ m/x/iand true")), "ok");
    }

    #[test]
    fn errors_24() {
        for e in [
            "true AND true",
            "\"a\" EQ \"a\"",
            "TRUE",
            "\"x\" in {}",
            "\"x\" in {\"a\",}",
            "\"a\" == \"a\" == \"a\"",
            "%{X} =~ m/x/ i",
            "%{X} =~ m/x/I",
            "%{X} =~ m{x}",
            "%{ X} == \"\"",
            "%{} == \"\"",
            "% {X} == \"\"",
            "\"a\" <> \"b\"",
            "%{X} =~ m_x_",
            "true\r",
        ] {
            assert_eq!(code(p24(e)), "E100", "{e}");
        }
        assert_eq!(code(p24("\"abc")), "E103");
        assert_eq!(code(p24("\"\\777\" == \"x\"")), "E104");
        assert_eq!(code(p24("\"\\8\" == \"x\"")), "E105");
        assert_eq!(code(p24("\"\\0123\" == \"x\"")), "E105");
        assert_eq!(code(p24("%{X} =~ m/x")), "E108");
        assert_eq!(code(p24("")), "E111");
        assert_eq!(code(p24("  \n")), "E111");
    }

    #[test]
    fn dialect_22() {
        for e in [
            "\"a\" eq \"a\"",
            "% { SSL_CIPHER } != \"\"",
            "%{HTTP:X-Foo} == \"bar\"",
            "\"x\" in OID(\"1.2.3\")",
            "\"x\" in oid(\"1.2.3\")",
            "file(\"/f\") == \"x\"",
            "%{X} =~ m x  and true",
            "\"\\777\" == \"x\"",
        ] {
            assert_eq!(code(p22(e)), "ok", "{e}");
        }
        for e in [
            "'a' == \"a\"",
            "\"a\" . \"b\" == \"ab\"",
            "-1 < 5",
            "\"a\" = \"a\"",
            "010 -eq 10",
            "tolower(\"A\") == \"a\"",
            "-n %{X}",
        ] {
            // 2.4 syntax: refused, and said to be 2.4 syntax.
            assert_eq!(code(p22(e)), "E112", "{e}");
        }
        assert_eq!(code(p22("\"a\" ==")), "E100");
        for e in [
            "%{in} == \"\"",
            "%{m} == \"\"",
            "%{mx} == \"\"",
            "%{OID} == \"\"",
        ] {
            assert_eq!(code(p22(e)), "E110", "{e}");
        }
        assert_eq!(code(p22("%{mod} == \"\"")), "ok");
    }

    #[test]
    fn literal_limits() {
        let ok = format!("\"{}\" != \"\"", "a".repeat(8191));
        assert_eq!(code(p24(&ok)), "ok");
        let long = format!("\"{}\" != \"\"", "a".repeat(8192));
        let err = p24(&long).unwrap_err();
        assert_eq!(err.code(), "E106");
        assert_eq!(err.kind(), &ErrorKind::StringTooLong { limit: 8191 });
        // The limit is per piece between interpolations.
        let split = format!(
            "\"{}%{{HTTPS}}{}\" != \"\"",
            "a".repeat(8000),
            "a".repeat(8000)
        );
        assert_eq!(code(p24(&split)), "ok");
        let re = format!("\"a\" =~ m/{}/", "a".repeat(8192));
        assert_eq!(code(p24(&re)), "E107");
    }

    #[test]
    fn hostile_input_is_refused_before_pest() {
        let deep = format!("{}true{}", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(code(p24(&deep)), "E102");
        let nots = format!("{}true", "!".repeat(100_000));
        assert_eq!(code(p24(&nots)), "E102");
        let big = format!("\"{}\" == \"\"", "a".repeat(10 << 20));
        assert_eq!(code(p24(&big)), "E101");
        let deep40 = format!("{}true{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(code(p24(&deep40)), "ok");
        let deep128 = format!("{}true{}", "(".repeat(128), ")".repeat(128));
        assert_eq!(code(p24(&deep128)), "ok");
    }

    #[test]
    fn spans_point_at_the_problem() {
        let e = p24("%{SSL_CLIENT_S_DN_CN} ==").unwrap_err();
        assert_eq!((e.span().start, e.span().end), (24, 24));
        assert!(e.to_string().contains("found end of input"), "{e}");
        let e = p24("%{A} == \"x\" and").unwrap_err();
        assert_eq!(e.span().start, 15);
    }

    #[test]
    fn strings_decode() {
        let e = p24(r#""\101\tB\x41\"" == "x""#).unwrap();
        let ExprKind::Cmp { lhs, .. } = e.kind else {
            panic!()
        };
        assert_eq!(
            lhs.kind,
            WordKind::Str(vec![StrPart::Lit(b"A\tBx41\"".to_vec())])
        );
        let e = p24(r#""é\é" == "x""#).unwrap();
        let ExprKind::Cmp { lhs, .. } = e.kind else {
            panic!()
        };
        assert_eq!(
            lhs.kind,
            WordKind::Str(vec![StrPart::Lit("éé".as_bytes().to_vec())])
        );
    }

    #[test]
    fn display_round_trips() {
        for src in [
            "true || false && !false",
            "!(true || false) && (false || true)",
            "(true && true) && false",
            "%{SSL_CIPHER} !~ m/^(EXP|NULL)-/ and %{SSL_CLIENT_S_DN_O} eq \"Snake Oil, Ltd.\" and %{SSL_CLIENT_S_DN_OU} in {\"Staff\", \"CA\", \"Dev\"}",
            "\"a\\\"b\\\\c\\001\\062%{X}$1 %x $ \" == 'q'",
            "%{tolower:a\\}b%{X}} =~ m#a/b#i",
            "\"x\" =~ m#/#",
            "tolower(%{A} . \"b\" . 1) -strmatch \"a*\"",
            "-n %{A} || ! ! -z \"\"",
            "\"x\" in PeerExtList(\"1.2.3\")",
        ] {
            let e = p24(src).unwrap();
            let printed = e.to_string();
            let back = p24(&printed).unwrap_or_else(|err| panic!("{printed}\n{err}"));
            assert_eq!(back, e, "{src} -> {printed}");
            let full = p24(&e.to_parenthesized()).unwrap();
            assert_eq!(full, e, "{src}");
        }
    }
}
