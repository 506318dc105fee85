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

mod identity;
mod names;
mod pattern;
mod rules;
mod shape;
mod table;

pub use table::{info, LintInfo, LINTS};

use std::collections::BTreeSet;

use crate::dialect::Dialect;
use crate::env::{resolve, CertVar, Resolved, SessionVar, Side, Var};
use crate::error::Span;
use crate::syntax::ast::{Expr, VarRef, Word, WordKind};

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

pub(super) fn is_verify(v: &Var) -> bool {
    *v == Var::Session(SessionVar::ClientVerify)
}

/// Whether the variable names the client by its certificate's content.
pub(super) fn is_identity(v: &Var) -> bool {
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

/// Every code the lints use, for `--allow` validation.
pub fn codes() -> BTreeSet<&'static str> {
    LINTS.iter().map(|l| l.code).collect()
}
