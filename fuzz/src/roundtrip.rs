//! The `roundtrip` target: generated trees print and read back.

use super::parse::prints_with_fallback;
use super::*;

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
