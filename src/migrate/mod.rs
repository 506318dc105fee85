//! `SSLRequire` → `Require expr`, verdict for verdict.
//!
//! Apache 2.4 parses both with ap_expr, but SSLRequire sets
//! `AP_EXPR_FLAG_SSL_EXPR_COMPAT`, which changes only comparisons
//! (server/util_expr_eval.c, `ssl_expr_eval_comp`): there every spelling
//! (`==` `eq` `-eq`, `<` `lt` `-lt` …) is mod_ssl's length-first
//! `strcmplex`. In `Require expr`, `eq ne lt le gt ge` and the dashed forms
//! compare integers (`apr_atoi64`) and `== != < <= > >=` compare with
//! `strcmp`. So [`migrate`] writes:
//!
//! * equality as `==` / `!=` (byte equality in both);
//! * an ordering against a constant as a regex that matches exactly the
//!   values `strcmplex` orders that way (length first, then bytes as
//!   signed chars), e.g. `%{TIME_HOUR} >= 8` becomes
//!   `%{TIME_HOUR} !~ m#\A(?s:)\z#`… — ugly, and faithful; the lints say
//!   what was probably meant (`-ge 8`);
//! * an ordering of two constants as `true` / `false`;
//! * everything else (`in`, regexes, `-n`, functions, `PeerExtList`) as is;
//!   2.2's `OID()` as `PeerExtList()`, its unknown names as `""`, its
//!   regexes with 2.2's PCRE options spelled inline.
//!
//! An ordering between two non-constant words cannot be written in
//! `Require expr` (there is no length function): that is an error that says
//! so. [`migrate_config`] rewrites the `SSLRequire` lines of an Apache
//! configuration file.

use std::fmt::Write as _;

use crate::dialect::Dialect;
use crate::env::{resolve, Resolved, Var};
use crate::error::Error;
use crate::error::Span;
use crate::lint::{lint, Lint};
use crate::syntax::ast::{CmpOp, Expr, ExprKind, List, Regex, StrPart, VarRef, Word, WordKind};
use crate::syntax::ParserBuilder;

mod config;
mod regex;

pub use config::{migrate_config, ConfigChange, ConfigMigration, ConfigProblem};
pub use regex::{order_regex, regex_22_to_24};

/// An expression that cannot be migrated.
#[derive(Clone, Debug)]
pub enum MigrateError {
    /// It is not an SSLRequire expression of the dialect.
    Parse(Error),
    /// It has no `Require expr` equivalent (or none this tool writes).
    Unsupported {
        /// What.
        span: Span,
        /// Why, and what to do.
        message: String,
    },
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrateError::Parse(e) => write!(f, "{e}"),
            MigrateError::Unsupported { span, message } => {
                write!(
                    f,
                    "cannot migrate (at {}..{}): {message}",
                    span.start, span.end
                )
            }
        }
    }
}

impl std::error::Error for MigrateError {}

/// A migrated expression.
#[derive(Clone, Debug)]
pub struct Migration {
    /// The `Require expr` expression (without `Require expr`).
    pub expr: String,
    /// What the original probably did not mean (same verdicts after
    /// migration: the fixes are for the author to decide).
    pub lints: Vec<Lint>,
}

/// Parses `src` (an SSLRequire expression of `dialect`) and writes the
/// `Require expr` expression with the same verdict for every request.
///
/// # Errors
/// A parse error, or a construct with no `Require expr` equivalent.
pub fn migrate(src: &str, dialect: Dialect) -> Result<Migration, MigrateError> {
    let expr = ParserBuilder::new()
        .dialect(dialect)
        .build()
        .parse(src)
        .map_err(MigrateError::Parse)?;
    // Refuse what Apache refuses too (2.4: unknown names …); E206 is a
    // construct Apache accepts and this engine does not evaluate (-U, -A):
    // it migrates unchanged.
    match crate::program::ProgramBuilder::new()
        .dialect(dialect)
        .compile(&expr, src)
    {
        Err(e) if e.code() != "E206" => return Err(MigrateError::Parse(e)),
        _ => {}
    }
    let mut out = String::new();
    Writer { dialect }.expr(&expr, &mut out)?;
    // mod_authz_core strips one pair of quotes around a whole
    // `Require expr` argument: keep them with parentheses.
    if out.len() >= 2 && out.starts_with('"') && out.ends_with('"') {
        out = format!("({out})");
    }
    Ok(Migration {
        expr: out,
        lints: lint(&expr, src, dialect),
    })
}

struct Writer {
    dialect: Dialect,
}

fn unsupported(span: Span, message: impl Into<String>) -> MigrateError {
    MigrateError::Unsupported {
        span,
        message: message.into(),
    }
}

impl Writer {
    fn expr(&self, e: &Expr, out: &mut String) -> Result<(), MigrateError> {
        match &e.kind {
            ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            ExprKind::Not(inner) => {
                out.push_str("!(");
                self.expr(inner, out)?;
                out.push(')');
            }
            ExprKind::And(items) | ExprKind::Or(items) => {
                let sep = if matches!(e.kind, ExprKind::And(_)) {
                    " && "
                } else {
                    " || "
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep);
                    }
                    let wrap = matches!(item.kind, ExprKind::And(_) | ExprKind::Or(_));
                    if wrap {
                        out.push('(');
                    }
                    self.expr(item, out)?;
                    if wrap {
                        out.push(')');
                    }
                }
            }
            ExprKind::Cmp { op, lhs, rhs } => self.cmp(e.span, *op, lhs, rhs, out)?,
            ExprKind::In { lhs, list } => {
                self.word(lhs, out)?;
                out.push_str(" in ");
                match list {
                    List::Words(words) => {
                        out.push('{');
                        for (i, w) in words.iter().enumerate() {
                            if i > 0 {
                                out.push_str(", ");
                            }
                            self.word(w, out)?;
                        }
                        out.push('}');
                    }
                    List::Func { name, arg } => {
                        let name = if name.name.eq_ignore_ascii_case("OID") {
                            "PeerExtList"
                        } else {
                            name.name.as_str()
                        };
                        out.push_str(name);
                        out.push('(');
                        self.word(arg, out)?;
                        out.push(')');
                    }
                }
            }
            ExprKind::Match {
                lhs,
                regex,
                negated,
            } => {
                self.word(lhs, out)?;
                out.push_str(if *negated { " !~ " } else { " =~ " });
                let r = match self.dialect {
                    Dialect::V24 => regex.clone(),
                    Dialect::V22 => Regex {
                        pattern: regex_22_to_24(&regex.pattern),
                        ..regex.clone()
                    },
                };
                let _ = write!(out, "{r}");
            }
            ExprKind::Unary { op, arg } => {
                let _ = write!(out, "-{} ", op.name);
                self.word(arg, out)?;
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.word(lhs, out)?;
                let _ = write!(out, " -{} ", op.name);
                self.word(rhs, out)?;
            }
        }
        Ok(())
    }

    fn cmp(
        &self,
        span: Span,
        op: CmpOp,
        lhs: &Word,
        rhs: &Word,
        out: &mut String,
    ) -> Result<(), MigrateError> {
        match op {
            CmpOp::Eq | CmpOp::Ne => {
                self.word(lhs, out)?;
                out.push_str(if op == CmpOp::Eq { " == " } else { " != " });
                return self.word(rhs, out);
            }
            _ => {}
        }
        let (cl, cr) = (lhs.constant(), rhs.constant());
        let (w, c, op) = match (cl, cr) {
            (Some(a), Some(b)) => {
                out.push_str(if crate::func::compare(op, &a, &b) {
                    "true"
                } else {
                    "false"
                });
                return Ok(());
            }
            (None, Some(c)) => (lhs, c, op),
            (Some(c), None) => (rhs, c, op.flipped()),
            (None, None) => {
                return Err(unsupported(
                    span,
                    "an ordering comparison (<, lt, -lt …) of two non-constant words: SSLRequire compares them length-first, and Require expr has no way to compare lengths; rewrite it with a constant on one side",
                ))
            }
        };
        // A variable that is always a canonical decimal integer (or
        // always the same width, as TIME_*) against a literal of that
        // shape: length-first order is the numeric one, so the readable
        // integer comparison says the same.
        if let Some(cmp) = integer_form(w, &c, op) {
            self.word(w, out)?;
            out.push_str(cmp);
            out.push_str(&String::from_utf8_lossy(&c));
            return Ok(());
        }
        // w op c, length-first: w < c ⟺ w =~ LT(c); w >= c ⟺ w !~ LT(c).
        let (pattern, negated) = match op {
            CmpOp::Lt => (order_regex(&c, false), false),
            CmpOp::Le => (order_regex(&c, true), false),
            CmpOp::Gt => (order_regex(&c, true), true),
            CmpOp::Ge => (order_regex(&c, false), true),
            CmpOp::Eq | CmpOp::Ne => unreachable!("handled above"),
        };
        self.word(w, out)?;
        out.push_str(if negated { " !~ " } else { " =~ " });
        let _ = write!(out, "m#{pattern}#");
        Ok(())
    }

    fn word(&self, w: &Word, out: &mut String) -> Result<(), MigrateError> {
        if self.dialect == Dialect::V24 {
            let _ = write!(out, "{w}");
            return Ok(());
        }
        match &w.kind {
            WordKind::Var(VarRef::Name(n)) => match resolve(&n.name, Dialect::V22) {
                Resolved::Var(v) => {
                    let name = v.to_string();
                    let same = match resolve(&name, Dialect::V24) {
                        Resolved::Var(x) => x == v,
                        _ => false,
                    };
                    match &v {
                        Var::Lookup(..) => {
                            let _ = write!(out, "%{{{name}}}");
                        }
                        _ if same => {
                            let _ = write!(out, "%{{{name}}}");
                        }
                        _ => {
                            return Err(unsupported(
                                n.span,
                                format!("%{{{}}} has no Apache 2.4 equivalent", n.name),
                            ))
                        }
                    }
                }
                // 2.2 reads every unknown name as "".
                _ => out.push_str("\"\""),
            },
            WordKind::Str(parts) => {
                if parts.iter().any(|p| matches!(p, StrPart::BadEscape(_))) {
                    return Err(unsupported(
                        w.span,
                        "a 2.2 string with a bad escape: mod_ssl 2.2 fails every evaluation of this expression; fix the escape first",
                    ));
                }
                let _ = write!(out, "{w}");
            }
            WordKind::Concat(ws) => {
                for (i, x) in ws.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" . ");
                    }
                    self.word(x, out)?;
                }
            }
            WordKind::Call { name, arg } => {
                out.push_str(&name.name);
                out.push('(');
                self.word(arg, out)?;
                out.push(')');
            }
            _ => {
                let _ = write!(out, "{w}");
            }
        }
        Ok(())
    }
}

/// ` -ge ` … when `w op c` (length-first) is the integer comparison for
/// every value `w` can take: `w` is `%{NAME}` of a variable that is always
/// a canonical decimal integer or `""` (key sizes, certificate version) and
/// `c` a canonical integer ≥ 1 (`""` reads as 0 in `Require expr`, and is
/// shorter than any such `c`), or a TIME_* variable (never empty, always
/// the same width) and `c` all digits of that width.
fn integer_form(w: &Word, c: &[u8], op: CmpOp) -> Option<&'static str> {
    use crate::env::{CertVar, SessionVar, TimeVar};
    let WordKind::Var(VarRef::Name(n)) = &w.kind else {
        return None;
    };
    let Resolved::Var(v) = resolve(&n.name, Dialect::V24) else {
        return None;
    };
    let digits = !c.is_empty() && c.len() <= 18 && c.iter().all(u8::is_ascii_digit);
    if !digits {
        return None;
    }
    let fits = match &v {
        Var::Session(SessionVar::CipherUseKeySize | SessionVar::CipherAlgKeySize)
        | Var::Cert(_, CertVar::MVersion) => c[0] != b'0',
        Var::Core(core) => match core.as_time()? {
            TimeVar::Year => c.len() == 4,
            TimeVar::Wday => c.len() == 1,
            TimeVar::Time => c.len() == 14,
            _ => c.len() == 2,
        },
        _ => false,
    };
    fits.then_some(match op {
        CmpOp::Lt => " -lt ",
        CmpOp::Le => " -le ",
        CmpOp::Gt => " -gt ",
        CmpOp::Ge => " -ge ",
        CmpOp::Eq | CmpOp::Ne => return None,
    })
}
