//! Trees built by hand (the helpers) and the evaluable 2.4 trees the
//! verdict properties draw from.

use super::*;

pub(crate) fn sp() -> Span {
    Span::default()
}
pub(crate) fn expr(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}
pub(crate) fn word(kind: WordKind) -> Word {
    Word { kind, span: sp() }
}
pub(crate) fn name(s: &str) -> Name {
    Name {
        name: s.to_string(),
        span: sp(),
    }
}
pub(crate) fn header(func: &str, h: &str) -> VarRef {
    VarRef::Func {
        name: name(func),
        arg: vec![StrPart::Lit(h.as_bytes().to_vec())],
    }
}

/// String pieces as the parser makes them: no empty literal, no two
/// literals in a row.
pub(crate) fn normalise_parts(parts: Vec<StrPart>) -> Vec<StrPart> {
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
pub(crate) fn concat(words: Vec<Word>) -> Word {
    let mut flat = Vec::new();
    for w in words {
        match w.kind {
            WordKind::Concat(inner) => flat.extend(inner),
            k => flat.push(word(k)),
        }
    }
    word(WordKind::Concat(flat))
}

pub(crate) fn cstr(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

// ======================================================================
// Evaluable trees (2.4)
// ======================================================================

/// Short regexes whose meaning PCRE2 and the `regex` crate share: literals,
/// `.`, classes, quantified single atoms, groups (never quantified, so
/// captures agree), alternation, anchors; sometimes with [`TO_PCRE`].
pub(crate) fn pattern() -> impl Strategy<Value = String> {
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
pub(crate) fn backref_number() -> impl Strategy<Value = u8> {
    prop_oneof![3 => 0u8..4, 1 => 0u8..10]
}

pub(crate) fn leaf_word() -> BoxedStrategy<Word> {
    prop_oneof![
        "-?[0-9]{1,3}".prop_map(|d| word(WordKind::Digits(d))),
        bytes().prop_map(|b| word(WordKind::Str(normalise_parts(vec![StrPart::Lit(b)])))),
        var_ref().prop_map(|v| word(WordKind::Var(v))),
        backref_number().prop_map(|n| word(WordKind::Backref(n))),
    ]
    .boxed()
}

pub(crate) fn var_ref() -> impl Strategy<Value = VarRef> {
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

pub(crate) fn part() -> impl Strategy<Value = StrPart> {
    prop_oneof![
        bytes().prop_map(StrPart::Lit),
        var_ref().prop_map(StrPart::Var),
        backref_number().prop_map(StrPart::Backref),
    ]
}

pub(crate) fn eval_word() -> BoxedStrategy<Word> {
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

pub(crate) fn cmp_op() -> impl Strategy<Value = CmpOp> {
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

pub(crate) fn eval_expr() -> BoxedStrategy<Expr> {
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
pub(crate) fn boolean_tree(
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
