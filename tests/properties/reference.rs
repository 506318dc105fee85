//! The reference evaluator: tree-walking, mod_ssl's semantics
//! re-implemented from the README, not from the engine.

use super::*;

/// mod_ssl's `strcmplex`: the longer string is greater; at equal length the
/// first differing byte decides, compared as a signed char.
pub(crate) fn ref_strcmplex(a: &[u8], b: &[u8]) -> Ordering {
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

pub(crate) fn ref_compare(op: CmpOp, a: &[u8], b: &[u8]) -> bool {
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
pub(crate) const TO_PCRE: &str = "(?=)";

/// Evaluates trees of the generated subset with Apache's semantics. Errors
/// are their codes.
pub(crate) struct Reference<'e> {
    pub(crate) env: &'e TestEnv,
    /// `$0`–`$9` of the last capturing match that succeeded on a non-empty
    /// subject (None: unset or cleared by a failed capturing match).
    pub(crate) caps: Option<Vec<Option<Vec<u8>>>>,
}

pub(crate) type R<T> = Result<T, &'static str>;

impl Reference<'_> {
    pub(crate) fn eval(env: &TestEnv, e: &Expr) -> R<bool> {
        Reference { env, caps: None }.expr(e)
    }

    pub(crate) fn expr(&mut self, e: &Expr) -> R<bool> {
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
    pub(crate) fn word(&mut self, w: &Word) -> R<Vec<u8>> {
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

    pub(crate) fn parts(&mut self, parts: &[StrPart]) -> R<Vec<u8>> {
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

    pub(crate) fn var(&mut self, v: &VarRef) -> R<Vec<u8>> {
        match v {
            VarRef::Name(n) if n.name == EMPTY_NAME => Ok(Vec::new()),
            VarRef::Name(n) => Ok(self.env.named(&n.name)),
            VarRef::Func { name, arg } => {
                let a = self.parts(arg)?;
                self.call(&name.name, a)
            }
        }
    }

    pub(crate) fn backref(&self, n: u8) -> Vec<u8> {
        self.caps
            .as_ref()
            .and_then(|c| c[usize::from(n)].clone())
            .unwrap_or_default()
    }

    pub(crate) fn call(&mut self, f: &str, a: Vec<u8>) -> R<Vec<u8>> {
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
