//! The walk: each rule of the table, applied to every node of the tree.

use super::identity::*;
use super::pattern::*;
use super::shape::*;
use super::*;
use crate::dialect::Dialect;
use crate::env::{resolve, CertVar, NameKind, Resolved, Side, Var, VarMap};
use crate::error::Span;
use crate::program::ProgramBuilder;
use crate::syntax::ast::{CmpOp, Expr, ExprKind, List, StrPart, VarRef, Word, WordKind};

impl Cx<'_> {
    /// L104 when `e` (over `lhs`, and constant `rest` when `rest_constant`)
    /// is a constant test; otherwise the known-domain lints on `lhs`.
    pub(super) fn same_for_every_request(&mut self, e: &Expr, lhs: &Word, rest_constant: bool) {
        if lhs.constant().is_some() && rest_constant {
            if let Some(b) = self.constant_test(e) {
                let message = format!("`{}` is always {b}", self.text(e.span));
                self.push("L104", e.span, message, None);
            }
        } else {
            self.domain_test(e, lhs, None);
        }
    }

    pub(super) fn push(
        &mut self,
        code: &'static str,
        span: Span,
        message: String,
        fix: Option<String>,
    ) {
        let severity = info(code).map_or(Severity::Warning, |i| i.severity);
        self.out.push(Lint {
            code,
            severity,
            span,
            message,
            fix,
        });
    }

    pub(super) fn text(&self, span: Span) -> &str {
        self.src.get(span.start..span.end).unwrap_or("")
    }

    /// Evaluates the test at `span` (reading only `var`) for each value.
    pub(super) fn over_domain(
        &self,
        span: Span,
        var: &Var,
        values: &[String],
    ) -> Option<Vec<bool>> {
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
    pub(super) fn constant_test(&self, e: &Expr) -> Option<bool> {
        match &e.kind {
            ExprKind::Bool(b) => Some(*b),
            ExprKind::Cmp { lhs, rhs, .. }
                if lhs.constant().is_some() && rhs.constant().is_some() =>
            {
                self.eval_alone(e.span)
            }
            ExprKind::In {
                lhs,
                list: List::Words(words),
            } if lhs.constant().is_some() && words.iter().all(|w| w.constant().is_some()) => {
                self.eval_alone(e.span)
            }
            ExprKind::Match { lhs, .. } if lhs.constant().is_some() => self.eval_alone(e.span),
            ExprKind::Not(inner) => self.constant_test(inner).map(|b| !b),
            _ => None,
        }
    }

    pub(super) fn eval_alone(&self, span: Span) -> Option<bool> {
        ProgramBuilder::new()
            .dialect(self.dialect)
            .build(self.text(span))
            .ok()?
            .eval(&VarMap::new())
            .ok()
    }

    pub(super) fn expr(&mut self, e: &Expr) {
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
                            .find(|w| w.constant().is_some_and(|c| c.is_empty()))
                        {
                            if lhs.constant().is_none() {
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
                        let constant_list = words.iter().all(|w| w.constant().is_some());
                        self.same_for_every_request(e, lhs, constant_list);
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
                        if let Some(c) = lhs.constant() {
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
                self.same_for_every_request(e, lhs, true);
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
    pub(super) fn words(&mut self, words: &[&Word]) {
        for w in words {
            self.word(w);
        }
    }

    pub(super) fn word(&mut self, w: &Word) {
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

    pub(super) fn var_ref(&mut self, v: &VarRef) {
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

    pub(super) fn cmp(&mut self, e: &Expr, op: CmpOp, lhs: &Word, rhs: &Word) {
        let (cl, cr) = (lhs.constant(), rhs.constant());
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
        let eff_op = if flipped { op.flipped() } else { op };
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
    pub(super) fn domain_test(&mut self, e: &Expr, lhs: &Word, _: Option<()>) {
        let Some((var, _, _)) = var_of(lhs, self.dialect) else {
            return;
        };
        let Some(dom) = domain(&var) else { return };
        // Only when everything else in the test is constant.
        let others_constant = match &e.kind {
            ExprKind::In {
                list: List::Words(words),
                ..
            } => words.iter().all(|w| w.constant().is_some()),
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

    pub(super) fn domain_verdict(&mut self, e: &Expr, var: &Var, actual: &[bool]) {
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
    pub(super) fn identity(&mut self, root: &Expr) {
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
