//! Lints: expressions that compile, look right and are probably wrong.
//!
//! [`lint`] walks a parsed [`Expr`] and reports what Apache 2.4.71 was
//! measured to do differently from what the text suggests: length-first
//! comparisons, identity rules without a verification check, names that
//! always read `""`, tests that cannot change, `!~` against PCRE's limits,
//! constructs whose meaning differs between 2.2 and 2.4. Every lint has a
//! stable code (the table is [`LINTS`], documented in the README), a
//! severity, a span and, where one exists, the fixed expression text.
//!
//! Lints never change the language: silencing one is the caller's business
//! (the CLI has `--allow CODE` and a comment form for expression files).

mod names;

use std::collections::BTreeSet;

use crate::dialect::Dialect;
use crate::env::{resolve, CertVar, NameKind, Resolved, SessionVar, Side, TimeVar, Var, VarMap};
use crate::error::Span;
use crate::program::ProgramBuilder;
use crate::syntax::ast::{CmpOp, Expr, ExprKind, List, StrPart, VarRef, Word, WordKind};

/// How serious a lint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing (portability, a habit that bites later).
    Note,
    /// The expression probably does not do what it says.
    Warning,
}

impl Severity {
    /// `"note"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lint {
    /// The stable code (`L101` …), see [`LINTS`].
    pub code: &'static str,
    /// How serious.
    pub severity: Severity,
    /// Where in the expression.
    pub span: Span,
    /// One line: what is wrong.
    pub message: String,
    /// The whole expression, fixed, when a fix exists.
    pub fix: Option<String>,
}

/// The documentation of one lint.
#[derive(Clone, Copy, Debug)]
pub struct LintInfo {
    /// The stable code.
    pub code: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// What it finds.
    pub what: &'static str,
    /// An expression that triggers it (2.4 dialect unless the code says
    /// otherwise).
    pub example: &'static str,
    /// The same expression, fixed (does not trigger it).
    pub fixed: &'static str,
    /// The dialect of the example.
    pub dialect: Dialect,
}

/// Every lint, with an example that triggers it and its fixed form (the
/// tests check both).
pub const LINTS: &[LintInfo] = &[
    LintInfo {
        code: "L101",
        severity: Severity::Warning,
        what: "length-first comparison of a variable of known shape (TIME_*, key sizes, certificate version, protocol) against a literal of another length: the verdict differs from the numeric one",
        example: r#"%{TIME_HOUR} >= 8 and %{TIME_HOUR} <= 20"#,
        fixed: r#"%{TIME_HOUR} >= "08" and %{TIME_HOUR} <= 20"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L102",
        severity: Severity::Warning,
        what: "ordering comparison of two constants: always the same verdict, and length-first (\"10\" > \"9\", \"b\" < \"aa\")",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and "10" > "9""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L103",
        severity: Severity::Warning,
        what: "unreachable branch: an operand after a constant `true` in `or` (or `false` in `and`) is never evaluated",
        example: r#"true or %{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L104",
        severity: Severity::Warning,
        what: "a test with the same result for every request (a constant comparison, a regex that no value of the variable can match, a test every value passes)",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{TIME_WDAY} =~ m/^(1[0-5])$/"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{TIME_WDAY} =~ m/^[1-5]$/"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L105",
        severity: Severity::Warning,
        what: "an ordering comparison of a certificate date (SSL_CLIENT_V_START/_V_END): they are text like \"Jan  2 03:04:05 2026 GMT\", so the order is by month name and length, not time",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_V_END} > "Jan  1 00:00:00 2027 GMT""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_V_REMAIN} -ge 30"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L110",
        severity: Severity::Warning,
        what: "a name that always reads \"\" (DN component suffixes are case-sensitive; unknown SSL_* names are accepted): did you mean …",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_email} eq "a@example.com""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_Email} eq "a@example.com""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L111",
        severity: Severity::Note,
        what: "SSL_CLIENT_S_DN_OU is only the first OU of the subject (_OU_1 … are the others); say _OU_0 when the first is meant",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU} eq "Staff""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU_0} eq "Staff""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L112",
        severity: Severity::Warning,
        what: "a whole DN compared with the /C=…/CN=… form: since 2.3.11 SSL_CLIENT_S_DN / _I_DN are RFC 2253 (CN=…,C=…) unless SSLOptions +LegacyDNStringFormat",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN} eq "/C=US/O=Example/CN=alice""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN} eq "CN=alice,O=Example,C=US""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L113",
        severity: Severity::Note,
        what: "PeerExtList/OID matches OpenSSL's printed text of one extension: several values in one string depend on their order and wording",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and "TLS Web Client Authentication, E-mail Protection" in PeerExtList("extendedKeyUsage")"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and "TLS Web Client Authentication" in PeerExtList("extendedKeyUsage")"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L120",
        severity: Severity::Warning,
        what: "identity by DN, SAN, serial or certificate without requiring %{SSL_CLIENT_VERIFY} eq \"SUCCESS\": any CA that copies the names passes (optional_no_ca; GENEROUS over TLS 1.2)",
        example: r#"%{SSL_CLIENT_I_DN_CN} eq "My CA" and %{SSL_CLIENT_S_DN_CN} eq "alice""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and (%{SSL_CLIENT_I_DN_CN} eq "My CA" and %{SSL_CLIENT_S_DN_CN} eq "alice")"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L121",
        severity: Severity::Warning,
        what: "a test on SSL_CLIENT_VERIFY that passes GENEROUS (an unverified chain under optional_no_ca) but not NONE",
        example: r#"%{SSL_CLIENT_VERIFY} =~ m/^(GENEROUS|SUCCESS)$/"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L130",
        severity: Severity::Warning,
        what: "a regex that can never match (something required after `$`, which in 2.4 matches only at the very end)",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} =~ m/^alice$|^bob$x/"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} =~ m/^alice$|^bob$/"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L131",
        severity: Severity::Warning,
        what: "`!~` with a pattern that can hit PCRE's match limit (nested quantifiers, back-references, lookaround): a limit hit counts as \"no match\", so `!~` allows",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{HTTP_USER_AGENT} !~ m/^(a+)+$/"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{HTTP_USER_AGENT} !~ m/^a+$/"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L140",
        severity: Severity::Note,
        what: "a construct whose meaning differs between 2.2 and 2.4: %{…} inside a string (2.4 interpolates, 2.2 reads it literally), OID() (2.4: PeerExtList()), unknown non-SSL names (2.2: \"\", 2.4: refused)",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq "%{REMOTE_USER}""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq %{REMOTE_USER}"#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L150",
        severity: Severity::Note,
        what: "sslrequire's own reading, not Apache's: -F is evaluated as -e (Apache runs a subrequest with access checks)",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and -F "/srv/www/index.html""#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and -f "/srv/www/index.html""#,
        dialect: Dialect::V24,
    },
    LintInfo {
        code: "L160",
        severity: Severity::Warning,
        what: "\"\" in a word list (a lost placeholder): it matches every request where the variable is unset",
        example: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU_0} in {"Staff", ""}"#,
        fixed: r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_OU_0} in {"Staff"}"#,
        dialect: Dialect::V24,
    },
];

/// The documentation of `code`.
pub fn info(code: &str) -> Option<&'static LintInfo> {
    LINTS.iter().find(|l| l.code.eq_ignore_ascii_case(code))
}

/// Lints `expr`, parsed from `src` in `dialect`. The result is sorted by
/// position, then code.
pub fn lint(expr: &Expr, src: &str, dialect: Dialect) -> Vec<Lint> {
    let mut cx = Cx {
        src,
        dialect,
        out: Vec::new(),
    };
    cx.expr(expr);
    cx.identity(expr);
    cx.out
        .sort_by(|a, b| (a.span.start, a.code).cmp(&(b.span.start, b.code)));
    cx.out.dedup();
    cx.out
}

struct Cx<'a> {
    src: &'a str,
    dialect: Dialect,
    out: Vec<Lint>,
}

/// The text of `src` with `span` replaced by `with`.
fn replace(src: &str, span: Span, with: &str) -> String {
    format!("{}{}{}", &src[..span.start], with, &src[span.end..])
}

/// A word's value when it is the same for every request.
fn constant(w: &Word) -> Option<Vec<u8>> {
    match &w.kind {
        WordKind::Digits(d) => Some(d.as_bytes().to_vec()),
        WordKind::Str(parts) => {
            let mut out = Vec::new();
            for p in parts {
                match p {
                    StrPart::Lit(b) => out.extend_from_slice(b),
                    _ => return None,
                }
            }
            Some(out)
        }
        WordKind::Concat(words) => {
            let mut out = Vec::new();
            for w in words {
                out.extend(constant(w)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// The variable a word is, when it is exactly one `%{NAME}`.
fn var_of(w: &Word, dialect: Dialect) -> Option<(Var, &str, Span)> {
    match &w.kind {
        WordKind::Var(VarRef::Name(n)) => match resolve(&n.name, dialect) {
            Resolved::Var(v) => Some((v, &n.name, n.span)),
            _ => None,
        },
        _ => None,
    }
}

/// A variable whose every possible value is known, in its natural order.
struct Domain {
    values: Vec<String>,
    /// Numeric (the values are integers) or an ordered list (protocols).
    numeric: bool,
    /// The width every value has, when fixed.
    width: Option<usize>,
}

fn domain(v: &Var) -> Option<Domain> {
    let nums = |r: std::ops::RangeInclusive<u32>, width: Option<usize>| Domain {
        values: r
            .map(|n| match width {
                Some(w) => format!("{n:0w$}"),
                None => n.to_string(),
            })
            .collect(),
        numeric: true,
        width,
    };
    match v {
        Var::Core(c) => match c.as_time()? {
            TimeVar::Year => Some(nums(1970..=2099, Some(4))),
            TimeVar::Mon => Some(nums(1..=12, Some(2))),
            TimeVar::Day => Some(nums(1..=31, Some(2))),
            TimeVar::Hour => Some(nums(0..=23, Some(2))),
            TimeVar::Min => Some(nums(0..=59, Some(2))),
            TimeVar::Sec => Some(nums(0..=60, Some(2))),
            TimeVar::Wday => Some(nums(0..=6, Some(1))),
            TimeVar::Time => None,
        },
        Var::Session(SessionVar::CipherUseKeySize | SessionVar::CipherAlgKeySize) => Some(Domain {
            values: ["0", "40", "56", "64", "112", "128", "168", "256"]
                .map(String::from)
                .to_vec(),
            numeric: true,
            width: None,
        }),
        Var::Cert(_, CertVar::MVersion) => Some(nums(1..=3, Some(1))),
        Var::Session(SessionVar::Protocol) => Some(Domain {
            values: ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
                .map(String::from)
                .to_vec(),
            numeric: false,
            width: None,
        }),
        Var::Session(SessionVar::ClientVerify) => Some(Domain {
            values: [
                "NONE",
                "SUCCESS",
                "GENEROUS",
                "FAILED:unable to get local issuer certificate",
            ]
            .map(String::from)
            .to_vec(),
            numeric: false,
            width: None,
        }),
        _ => None,
    }
}

fn is_verify(v: &Var) -> bool {
    *v == Var::Session(SessionVar::ClientVerify)
}

/// Whether the variable names the client by its certificate's content.
fn is_identity(v: &Var) -> bool {
    matches!(
        v,
        Var::Cert(
            Side::Client,
            CertVar::Dn(_)
                | CertVar::DnAttr { .. }
                | CertVar::San { .. }
                | CertVar::MSerial
                | CertVar::Cert
        )
    )
}

impl Cx<'_> {
    fn push(&mut self, code: &'static str, span: Span, message: String, fix: Option<String>) {
        let severity = info(code).map_or(Severity::Warning, |i| i.severity);
        self.out.push(Lint {
            code,
            severity,
            span,
            message,
            fix,
        });
    }

    fn text(&self, span: Span) -> &str {
        self.src.get(span.start..span.end).unwrap_or("")
    }

    /// Evaluates the test at `span` (reading only `var`) for each value.
    fn over_domain(&self, span: Span, var: &Var, values: &[String]) -> Option<Vec<bool>> {
        let program = ProgramBuilder::new()
            .dialect(self.dialect)
            .build(self.text(span))
            .ok()?;
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            let mut env = VarMap::new();
            env.insert(var.clone(), v.as_bytes().to_vec());
            out.push(program.eval(&env).ok()?);
        }
        Some(out)
    }

    /// A constant's value when the whole test is constant.
    fn constant_test(&self, e: &Expr) -> Option<bool> {
        match &e.kind {
            ExprKind::Bool(b) => Some(*b),
            ExprKind::Cmp { lhs, rhs, .. }
                if constant(lhs).is_some() && constant(rhs).is_some() =>
            {
                self.eval_alone(e.span)
            }
            ExprKind::In {
                lhs,
                list: List::Words(words),
            } if constant(lhs).is_some() && words.iter().all(|w| constant(w).is_some()) => {
                self.eval_alone(e.span)
            }
            ExprKind::Match { lhs, .. } if constant(lhs).is_some() => self.eval_alone(e.span),
            ExprKind::Not(inner) => self.constant_test(inner).map(|b| !b),
            _ => None,
        }
    }

    fn eval_alone(&self, span: Span) -> Option<bool> {
        ProgramBuilder::new()
            .dialect(self.dialect)
            .build(self.text(span))
            .ok()?
            .eval(&VarMap::new())
            .ok()
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Bool(_) => {}
            ExprKind::Not(inner) => self.expr(inner),
            ExprKind::And(items) | ExprKind::Or(items) => {
                let is_and = matches!(e.kind, ExprKind::And(_));
                for (i, item) in items.iter().enumerate() {
                    self.expr(item);
                    if i + 1 < items.len() {
                        if let Some(b) = self.constant_test(item).filter(|b| *b != is_and) {
                            let rest = Span::new(items[i + 1].span.start, e.span.end);
                            self.push(
                                "L103",
                                rest,
                                format!(
                                    "never evaluated: `{}` is always {b}, so `{}` decides alone",
                                    self.text(item.span),
                                    if is_and { "and" } else { "or" }
                                ),
                                None,
                            );
                            break;
                        }
                    }
                }
            }
            ExprKind::Cmp { op, lhs, rhs } => {
                self.words(&[lhs, rhs]);
                self.cmp(e, *op, lhs, rhs);
            }
            ExprKind::In { lhs, list } => {
                self.words(&[lhs]);
                match list {
                    List::Words(words) => {
                        self.words(&words.iter().collect::<Vec<_>>());
                        if let Some(empty) = words
                            .iter()
                            .find(|w| constant(w).is_some_and(|c| c.is_empty()))
                        {
                            if constant(lhs).is_none() {
                                self.push(
                                    "L160",
                                    empty.span,
                                    format!(
                                        "`\"\"` in the list: `{}` passes whenever the variable is unset (a lost placeholder?)",
                                        self.text(e.span)
                                    ),
                                    None,
                                );
                            }
                        }
                        if constant(lhs).is_some() && words.iter().all(|w| constant(w).is_some()) {
                            if let Some(b) = self.constant_test(e) {
                                self.push(
                                    "L104",
                                    e.span,
                                    format!("`{}` is always {b}", self.text(e.span)),
                                    None,
                                );
                            }
                        } else {
                            self.domain_test(e, lhs, None);
                        }
                    }
                    List::Func { name, arg } => {
                        self.words(&[arg]);
                        if name.name.eq_ignore_ascii_case("OID") {
                            self.push(
                                "L140",
                                name.span,
                                "OID() is mod_ssl 2.2's name; Apache 2.4 calls it PeerExtList()"
                                    .into(),
                                None,
                            );
                        }
                        if let Some(c) = constant(lhs) {
                            if c.windows(2).any(|w| w == b", ") {
                                self.push(
                                    "L113",
                                    lhs.span,
                                    format!(
                                        "{} matches one extension's whole printed text: these values only in this order and OpenSSL's wording",
                                        name.name
                                    ),
                                    None,
                                );
                            }
                        }
                    }
                }
            }
            ExprKind::Match {
                lhs,
                regex,
                negated,
            } => {
                self.words(&[lhs]);
                if self.dialect == Dialect::V24 && dollar_then_more(&regex.pattern) {
                    self.push(
                        "L130",
                        regex.span,
                        format!(
                            "m/{}/ requires more after `$`, which matches only at the very end: this alternative never matches",
                            regex.pattern
                        ),
                        None,
                    );
                }
                if *negated && pcre_limit_risk(&regex.pattern, self.dialect) {
                    self.push(
                        "L131",
                        regex.span,
                        "`!~` with a pattern that can exhaust PCRE's match limit: a limit hit is \"no match\", so the test passes (allow)".into(),
                        None,
                    );
                }
                if constant(lhs).is_some() {
                    if let Some(b) = self.constant_test(e) {
                        self.push(
                            "L104",
                            e.span,
                            format!("`{}` is always {b}", self.text(e.span)),
                            None,
                        );
                    }
                } else {
                    self.domain_test(e, lhs, None);
                }
            }
            ExprKind::Unary { op, arg } => {
                self.words(&[arg]);
                if op.name == "F" {
                    self.push(
                        "L150",
                        op.span,
                        "sslrequire reads -F as -e (no subrequest): Apache's -F also runs the access checks for the path".into(),
                        None,
                    );
                }
            }
            ExprKind::Binary { lhs, rhs, .. } => self.words(&[lhs, rhs]),
        }
    }

    /// Lints on the words themselves: names.
    fn words(&mut self, words: &[&Word]) {
        for w in words {
            self.word(w);
        }
    }

    fn word(&mut self, w: &Word) {
        match &w.kind {
            WordKind::Var(v) => self.var_ref(v),
            WordKind::Str(parts) => {
                if self.dialect == Dialect::V22
                    && parts
                        .iter()
                        .any(|p| matches!(p, StrPart::Lit(b) if b.windows(2).any(|w| w == b"%{")))
                {
                    self.push(
                        "L140",
                        w.span,
                        format!(
                            "`{}` holds %{{…}}: mod_ssl 2.2 reads it literally, Apache 2.4 interpolates the variable (write \\%{{ to keep the text)",
                            self.text(w.span)
                        ),
                        None,
                    );
                }
                for p in parts {
                    if let StrPart::Var(v) = p {
                        self.var_ref(v);
                        if self.dialect == Dialect::V24 {
                            self.push(
                                "L140",
                                w.span,
                                format!(
                                    "`{}` interpolates {v} in 2.4; mod_ssl 2.2 read the same text literally",
                                    self.text(w.span)
                                ),
                                None,
                            );
                        }
                    }
                }
            }
            WordKind::Concat(ws) => {
                for x in ws {
                    self.word(x);
                }
            }
            WordKind::Call { arg, .. } => self.word(arg),
            WordKind::Digits(_) | WordKind::Backref(_) => {}
        }
    }

    fn var_ref(&mut self, v: &VarRef) {
        let VarRef::Name(n) = v else { return };
        match resolve(&n.name, self.dialect) {
            Resolved::Empty => {
                let suggestion = names::suggest(&n.name, self.dialect);
                let fix = suggestion.as_ref().map(|s| replace(self.src, n.span, s));
                let hint = match &suggestion {
                    Some(s) => format!("; did you mean {s}?"),
                    None if self.dialect == Dialect::V22
                        && !n.name.to_ascii_uppercase().starts_with("SSL_") =>
                    {
                        "; mod_ssl 2.2 reads every unknown name as \"\" (Apache 2.4 refuses it)"
                            .to_string()
                    }
                    None => String::new(),
                };
                self.push(
                    "L110",
                    n.span,
                    format!("%{{{}}} always reads \"\"{hint}", n.name),
                    fix,
                );
            }
            Resolved::Var(Var::Cert(
                Side::Client,
                CertVar::DnAttr {
                    name: NameKind::Subject,
                    attr: crate::env::DnAttr::OU,
                    index: 0,
                    raw: false,
                },
            )) if !n
                .name
                .rsplit('_')
                .next()
                .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit())) =>
            {
                self.push(
                    "L111",
                    n.span,
                    format!(
                        "%{{{}}} is only the subject's first OU; a second OU is _OU_1 (write _OU_0 when the first is meant)",
                        n.name
                    ),
                    Some(replace(self.src, n.span, &format!("{}_0", n.name))),
                );
            }
            _ => {}
        }
    }

    fn cmp(&mut self, e: &Expr, op: CmpOp, lhs: &Word, rhs: &Word) {
        let (cl, cr) = (constant(lhs), constant(rhs));
        if let (Some(a), Some(b)) = (&cl, &cr) {
            let r = crate::func::compare(op, a, b);
            let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
            if ordering {
                let numeric =
                    |x: &[u8]| -> Option<u128> { std::str::from_utf8(x).ok()?.parse().ok() };
                let note = match (numeric(a), numeric(b)) {
                    (Some(x), Some(y)) if num_cmp(op, x, y) != r => {
                        " (length-first: not the numeric order)".to_string()
                    }
                    (None, _) | (_, None) if a.len() != b.len() => {
                        " (length-first: the longer string is greater)".to_string()
                    }
                    _ => String::new(),
                };
                self.push(
                    "L102",
                    e.span,
                    format!(
                        "`{}` compares two constants: always {r}{note}",
                        self.text(e.span)
                    ),
                    None,
                );
            } else {
                self.push(
                    "L104",
                    e.span,
                    format!("`{}` is always {r}", self.text(e.span)),
                    None,
                );
            }
            return;
        }
        // Certificate dates are text ("Jan  2 03:04:05 2026 GMT").
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            for w in [lhs, rhs] {
                if let Some((v @ Var::Cert(_, CertVar::VStart | CertVar::VEnd), _, _)) =
                    var_of(w, self.dialect)
                {
                    self.push(
                        "L105",
                        e.span,
                        format!(
                            "{v} is text like \"Jan  2 03:04:05 2026 GMT\": `{}` orders month names and lengths, not instants; use SSL_CLIENT_V_REMAIN (days left)",
                            self.text(e.span)
                        ),
                        None,
                    );
                    return;
                }
            }
        }
        // Variable (of known shape) against a constant.
        let (var_side, lit, lit_word, flipped) = match (&cl, &cr) {
            (None, Some(c)) => (lhs, c.clone(), rhs, false),
            (Some(c), None) => (rhs, c.clone(), lhs, true),
            _ => return,
        };
        let Some((var, _, _)) = var_of(var_side, self.dialect) else {
            return;
        };
        let Some(dom) = domain(&var) else { return };
        let Some(actual) = self.over_domain(e.span, &var, &dom.values) else {
            return;
        };
        // The verdict the text suggests: numeric (or version) order.
        let eff_op = if flipped { flip(op) } else { op };
        let lit_s = String::from_utf8_lossy(&lit).into_owned();
        let intended: Option<Vec<bool>> = if dom.numeric {
            lit_s.parse::<u128>().ok().map(|l| {
                dom.values
                    .iter()
                    .map(|v| num_cmp(eff_op, v.parse().unwrap_or(0), l))
                    .collect()
            })
        } else if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            dom.values.iter().position(|v| *v == lit_s).map(|l| {
                (0..dom.values.len())
                    .map(|i| num_cmp(eff_op, i as u128, l as u128))
                    .collect()
            })
        } else {
            None
        };
        if let Some(intended) = intended.filter(|i| *i != actual) {
            let differ: Vec<&str> = dom
                .values
                .iter()
                .zip(actual.iter().zip(&intended))
                .filter(|(_, (a, i))| a != i)
                .map(|(v, _)| v.as_str())
                .collect();
            let fixed_lit = lit_s.parse::<u128>().ok().and_then(|n| match dom.width {
                Some(w) if n.to_string().len() <= w => Some(format!("\"{n:0w$}\"")),
                None => Some(n.to_string()),
                _ => None,
            });
            let fix = fixed_lit.map(|l| replace(self.src, lit_word.span, &l));
            let verdict = match (actual.iter().all(|b| *b), actual.iter().all(|b| !*b)) {
                (true, _) => " — it is always true".to_string(),
                (_, true) => " — it is always false".to_string(),
                _ => String::new(),
            };
            self.push(
                "L101",
                e.span,
                format!(
                    "`{}` compares length-first ({var} is {}), not as numbers: wrong for {}{verdict}; in Require expr use -lt/-le/-gt/-ge/-eq for numbers",
                    self.text(e.span),
                    match dom.width {
                        Some(w) => format!("always {w} digit{}", if w == 1 { "" } else { "s" }),
                        None => "of varying length".to_string(),
                    },
                    summarize(&differ)
                ),
                fix,
            );
            return;
        }
        self.domain_verdict(e, &var, &actual);
    }

    /// A test whose only variable has a known domain: the same verdict for
    /// every value, or GENEROUS accepted.
    fn domain_test(&mut self, e: &Expr, lhs: &Word, _: Option<()>) {
        let Some((var, _, _)) = var_of(lhs, self.dialect) else {
            return;
        };
        let Some(dom) = domain(&var) else { return };
        // Only when everything else in the test is constant.
        let others_constant = match &e.kind {
            ExprKind::In {
                list: List::Words(words),
                ..
            } => words.iter().all(|w| constant(w).is_some()),
            ExprKind::Match { .. } => true,
            _ => false,
        };
        if !others_constant {
            return;
        }
        if let Some(actual) = self.over_domain(e.span, &var, &dom.values) {
            self.domain_verdict(e, &var, &actual);
        }
    }

    fn domain_verdict(&mut self, e: &Expr, var: &Var, actual: &[bool]) {
        if is_verify(var) {
            // NONE, SUCCESS, GENEROUS, FAILED:…
            if actual[2] && !actual[0] {
                self.push(
                    "L121",
                    e.span,
                    format!(
                        "`{}` passes GENEROUS (a chain no trusted CA signed, under optional_no_ca): require SUCCESS",
                        self.text(e.span)
                    ),
                    Some(replace(self.src, e.span, "%{SSL_CLIENT_VERIFY} eq \"SUCCESS\"")),
                );
            }
            // FAILED:… reasons vary (one stands for all here): a test that
            // names FAILED may match another reason.
            if actual.iter().all(|b| !*b) && !self.text(e.span).contains("FAILED") {
                self.push(
                    "L104",
                    e.span,
                    format!(
                        "`{}` is false for every value of SSL_CLIENT_VERIFY (NONE, SUCCESS, GENEROUS, FAILED:…)",
                        self.text(e.span)
                    ),
                    None,
                );
            }
            return;
        }
        if actual.iter().all(|b| *b) || actual.iter().all(|b| !*b) {
            self.push(
                "L104",
                e.span,
                format!(
                    "`{}` is {} for every value {var} can take",
                    self.text(e.span),
                    actual[0]
                ),
                None,
            );
        }
    }

    /// L120: identity without verification; L112: legacy DN strings.
    fn identity(&mut self, root: &Expr) {
        let mut reads: Vec<(Var, Span)> = Vec::new();
        collect_vars(root, self.dialect, &mut reads);
        if !requires_success(self, root) {
            if let Some((v, span)) = reads.iter().find(|(v, _)| is_identity(v)) {
                let has_issuer = reads.iter().any(|(v, _)| {
                    matches!(
                        v,
                        Var::Cert(Side::Client, CertVar::Dn(NameKind::Issuer))
                            | Var::Cert(
                                Side::Client,
                                CertVar::DnAttr {
                                    name: NameKind::Issuer,
                                    ..
                                }
                            )
                    )
                });
                let why = if has_issuer {
                    "an issuer name cannot tell the CA that signed: any CA can copy it"
                } else {
                    "any CA can issue a certificate with the same names"
                };
                self.push(
                    "L120",
                    *span,
                    format!(
                        "{v} identifies the client but nothing requires %{{SSL_CLIENT_VERIFY}} eq \"SUCCESS\": {why} (optional_no_ca; GENEROUS over TLS 1.2)"
                    ),
                    Some(format!(
                        "%{{SSL_CLIENT_VERIFY}} eq \"SUCCESS\" and ({})",
                        self.src
                    )),
                );
            }
        }
        // Legacy DN format.
        legacy_dn(self, root);
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        o => o,
    }
}

fn num_cmp(op: CmpOp, a: u128, b: u128) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

fn summarize(values: &[&str]) -> String {
    if values.len() <= 6 {
        values.join(", ")
    } else {
        format!(
            "{}, … {} ({} values)",
            values[..3].join(", "),
            values[values.len() - 1],
            values.len()
        )
    }
}

/// Whether `e` can be true only when `SSL_CLIENT_VERIFY` is `SUCCESS`.
fn requires_success(cx: &Cx<'_>, e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Bool(b) => !b,
        ExprKind::And(items) => items.iter().any(|i| requires_success(cx, i)),
        ExprKind::Or(items) => items.iter().all(|i| requires_success(cx, i)),
        ExprKind::Cmp { lhs, rhs, .. } => {
            let var = var_of(lhs, cx.dialect)
                .filter(|_| constant(rhs).is_some())
                .or_else(|| var_of(rhs, cx.dialect).filter(|_| constant(lhs).is_some()));
            success_only(cx, e, var)
        }
        ExprKind::In {
            lhs,
            list: List::Words(words),
        } if words.iter().all(|w| constant(w).is_some()) => {
            success_only(cx, e, var_of(lhs, cx.dialect))
        }
        ExprKind::Match { lhs, .. } => success_only(cx, e, var_of(lhs, cx.dialect)),
        _ => false,
    }
}

fn success_only(cx: &Cx<'_>, e: &Expr, var: Option<(Var, &str, Span)>) -> bool {
    let Some((v, _, _)) = var.filter(|(v, _, _)| is_verify(v)) else {
        return false;
    };
    let Some(dom) = domain(&v) else { return false };
    cx.over_domain(e.span, &v, &dom.values)
        .is_some_and(|r| r == [false, true, false, false])
}

fn collect_vars(e: &Expr, dialect: Dialect, out: &mut Vec<(Var, Span)>) {
    fn word(w: &Word, dialect: Dialect, out: &mut Vec<(Var, Span)>) {
        let mut var = |v: &VarRef| {
            if let VarRef::Name(n) = v {
                if let Resolved::Var(x) = resolve(&n.name, dialect) {
                    out.push((x, n.span));
                }
            }
        };
        match &w.kind {
            WordKind::Var(v) => var(v),
            WordKind::Str(parts) => {
                for p in parts {
                    if let StrPart::Var(v) = p {
                        var(v);
                    }
                }
            }
            WordKind::Concat(ws) => {
                for x in ws {
                    word(x, dialect, out);
                }
            }
            WordKind::Call { arg, .. } => word(arg, dialect, out),
            _ => {}
        }
    }
    match &e.kind {
        ExprKind::Bool(_) => {}
        ExprKind::Not(i) => collect_vars(i, dialect, out),
        ExprKind::And(items) | ExprKind::Or(items) => {
            for i in items {
                collect_vars(i, dialect, out);
            }
        }
        ExprKind::Cmp { lhs, rhs, .. } | ExprKind::Binary { lhs, rhs, .. } => {
            word(lhs, dialect, out);
            word(rhs, dialect, out);
        }
        ExprKind::In { lhs, list } => {
            word(lhs, dialect, out);
            match list {
                List::Words(ws) => {
                    for w in ws {
                        word(w, dialect, out);
                    }
                }
                List::Func { arg, .. } => word(arg, dialect, out),
            }
        }
        ExprKind::Match { lhs, .. } => word(lhs, dialect, out),
        ExprKind::Unary { arg, .. } => word(arg, dialect, out),
    }
}

/// L112: `%{SSL_CLIENT_S_DN} eq "/C=…"` or `=~ m/^\/C=/`.
fn legacy_dn(cx: &mut Cx<'_>, e: &Expr) {
    let dialect = cx.dialect;
    let whole_dn = |w: &Word| {
        var_of(w, dialect).is_some_and(|(v, _, _)| matches!(v, Var::Cert(_, CertVar::Dn(_))))
    };
    match &e.kind {
        ExprKind::Not(i) => legacy_dn(cx, i),
        ExprKind::And(items) | ExprKind::Or(items) => {
            for i in items {
                legacy_dn(cx, i);
            }
        }
        ExprKind::Cmp { lhs, rhs, .. } => {
            for (a, b) in [(lhs, rhs), (rhs, lhs)] {
                if whole_dn(a) {
                    if let Some(c) = constant(b).filter(|c| c.first() == Some(&b'/')) {
                        let text = String::from_utf8_lossy(&c).into_owned();
                        let fix = rfc2253(&text).map(|r| {
                            replace(
                                cx.src,
                                b.span,
                                &format!(
                                    "{}",
                                    Word {
                                        kind: WordKind::Str(vec![StrPart::Lit(r.into_bytes())]),
                                        span: b.span,
                                    }
                                ),
                            )
                        });
                        cx.push(
                            "L112",
                            b.span,
                            format!(
                                "\"{text}\" is the pre-2.3.11 DN format; Apache 2.4 prints DNs as RFC 2253 (CN=…,O=…,C=…) unless SSLOptions +LegacyDNStringFormat"
                            ),
                            fix,
                        );
                    }
                }
            }
        }
        ExprKind::In {
            lhs,
            list: List::Words(words),
        } if whole_dn(lhs) => {
            for w in words {
                if constant(w).is_some_and(|c| c.first() == Some(&b'/')) {
                    cx.push(
                        "L112",
                        w.span,
                        "a /C=…/CN=… DN: Apache 2.4 prints DNs as RFC 2253 (CN=…,O=…,C=…) unless SSLOptions +LegacyDNStringFormat".into(),
                        None,
                    );
                }
            }
        }
        ExprKind::Match { lhs, regex, .. } if whole_dn(lhs) => {
            let p = regex.pattern.trim_start_matches('^');
            if p.starts_with("\\/") || p.starts_with('/') {
                cx.push(
                    "L112",
                    regex.span,
                    "a regex for the /C=…/CN=… DN form: Apache 2.4 prints DNs as RFC 2253 (CN=…,O=…,C=…) unless SSLOptions +LegacyDNStringFormat".into(),
                    None,
                );
            }
        }
        _ => {}
    }
}

/// `/C=US/O=Example/CN=alice` → `CN=alice,O=Example,C=US` when every
/// component is simple (no characters RFC 2253 escapes).
fn rfc2253(legacy: &str) -> Option<String> {
    let parts: Vec<&str> = legacy.strip_prefix('/')?.split('/').collect();
    let mut out = Vec::new();
    for p in parts.iter().rev() {
        let (k, v) = p.split_once('=')?;
        if k.is_empty()
            || v.is_empty()
            || v.contains([',', '+', '"', '\\', '<', '>', ';', '='])
            || v.starts_with([' ', '#'])
            || v.ends_with(' ')
        {
            return None;
        }
        let k = if k.eq_ignore_ascii_case("Email") {
            "emailAddress"
        } else {
            k
        };
        out.push(format!("{k}={v}"));
    }
    Some(out.join(","))
}

/// A `$` (outside classes and escapes) followed by something that must
/// match a character, in one alternative: never matches under
/// `PCRE2_DOLLAR_ENDONLY` (unless multiline mode is switched on).
fn dollar_then_more(pattern: &str) -> bool {
    if pattern.contains("(?") {
        // Inline options and groups with flags: do not guess.
        return false;
    }
    let b = pattern.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                // `[]…]` and `[^]…]`: a leading `]` is literal.
                if b.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b']' if in_class => in_class = false,
            b'$' if !in_class => {
                // What follows: a literal character or class (not `)`, `|`,
                // `$`, `?`/`*` (optional), the end).
                match b.get(i + 1) {
                    None | Some(b')' | b'|' | b'$' | b'?' | b'*' | b'{') => {}
                    Some(b'\\') => {
                        // \z, \Z, \b … are zero-width; \n etc. need a byte.
                        if matches!(b.get(i + 2), Some(b'w' | b'd' | b's' | b'W' | b'D' | b'S'))
                            || b.get(i + 2).is_some_and(|c| {
                                c.is_ascii_alphanumeric() && matches!(c, b'x' | b't' | b'r' | b'n')
                            })
                        {
                            return !follows_quantifier(b, i + 3);
                        }
                    }
                    Some(_) => return !follows_quantifier(b, i + 2),
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Whether the atom that ended at `at` is made optional by a quantifier.
fn follows_quantifier(b: &[u8], at: usize) -> bool {
    matches!(b.get(at), Some(b'?' | b'*'))
        || (b.get(at) == Some(&b'{') && b.get(at + 1) == Some(&b'0'))
}

/// Nested quantifiers, back-references, lookaround or anything else that
/// sends the pattern to PCRE2 with a real chance of its match limit.
fn pcre_limit_risk(pattern: &str, dialect: Dialect) -> bool {
    let b = pattern.as_bytes();
    // A quantified group that contains a quantifier: `(a+)+`, `(a|aa)*`.
    let mut stack: Vec<bool> = Vec::new();
    let mut i = 0;
    let mut in_class = false;
    let mut nested = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => stack.push(false),
            b')' if !in_class => {
                let had = stack.pop().unwrap_or(false);
                let quantified = matches!(b.get(i + 1), Some(b'+' | b'*' | b'{'));
                if had && quantified {
                    nested = true;
                }
                if let Some(top) = stack.last_mut() {
                    *top |= had || quantified;
                }
            }
            // A quantifier, or an alternation (`(a|aa)*` backtracks too).
            b'+' | b'*' | b'{' | b'|' if !in_class => {
                if let Some(top) = stack.last_mut() {
                    *top = true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    nested
        || crate::pattern::needs_pcre(pattern, dialect) && {
            // Back-references and lookaround are the PCRE-only features that
            // backtrack; a lone `\Z` or `\h` does not.
            pattern.contains("(?=")
                || pattern.contains("(?!")
                || pattern.contains("(?<")
                || b.windows(2)
                    .any(|w| w[0] == b'\\' && w[1].is_ascii_digit() && w[1] != b'0')
        }
}

/// Every code the lints use, for `--allow` validation.
pub fn codes() -> BTreeSet<&'static str> {
    LINTS.iter().map(|l| l.code).collect()
}
