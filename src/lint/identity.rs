//! Identity without verification: which branches allow only a verified
//! client, which variables name a certificate, and DNs in the old format.

use super::shape::domain;
use super::*;
use crate::dialect::Dialect;
use crate::env::{resolve, CertVar, Resolved, Var};
use crate::error::Span;
use crate::syntax::ast::{Expr, ExprKind, List, StrPart, VarRef, Word, WordKind};

/// Whether `e` can be true only when `SSL_CLIENT_VERIFY` is `SUCCESS`.
pub(super) fn requires_success(cx: &Cx<'_>, e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Bool(b) => !b,
        ExprKind::And(items) => items.iter().any(|i| requires_success(cx, i)),
        ExprKind::Or(items) => items.iter().all(|i| requires_success(cx, i)),
        ExprKind::Cmp { lhs, rhs, .. } => {
            let var = var_of(lhs, cx.dialect)
                .filter(|_| rhs.constant().is_some())
                .or_else(|| var_of(rhs, cx.dialect).filter(|_| lhs.constant().is_some()));
            success_only(cx, e, var)
        }
        ExprKind::In {
            lhs,
            list: List::Words(words),
        } if words.iter().all(|w| w.constant().is_some()) => {
            success_only(cx, e, var_of(lhs, cx.dialect))
        }
        ExprKind::Match { lhs, .. } => success_only(cx, e, var_of(lhs, cx.dialect)),
        _ => false,
    }
}

pub(super) fn success_only(cx: &Cx<'_>, e: &Expr, var: Option<(Var, &str, Span)>) -> bool {
    let Some((v, _, _)) = var.filter(|(v, _, _)| is_verify(v)) else {
        return false;
    };
    let Some(dom) = domain(&v) else { return false };
    cx.over_domain(e.span, &v, &dom.values)
        .is_some_and(|r| r == [false, true, false, false])
}

pub(super) fn collect_vars(e: &Expr, dialect: Dialect, out: &mut Vec<(Var, Span)>) {
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
pub(super) fn legacy_dn(cx: &mut Cx<'_>, e: &Expr) {
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
                    if let Some(c) = b.constant().filter(|c| c.first() == Some(&b'/')) {
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
                if w.constant().is_some_and(|c| c.first() == Some(&b'/')) {
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
pub(super) fn rfc2253(legacy: &str) -> Option<String> {
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
