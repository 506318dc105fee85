//! Trees of every shape the printer must read back (2.4 and 2.2), for the
//! `Display` → parse properties.

use super::*;

pub(crate) const KEYWORDS: &[&str] = &[
    "true", "false", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "in",
];

pub(crate) fn ident() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,6}".prop_map(|s| {
        if KEYWORDS.contains(&s.as_str()) {
            format!("{s}_")
        } else {
            s
        }
    })
}

/// Any bytes, biased to the ones the printer must escape.
pub(crate) fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        bytes(),
        prop::collection::vec(any::<u8>(), 1..6),
        prop::collection::vec(select(&b"\"'\\%{}$0123456789\n\t\0\x7f\xff"[..]), 1..6),
    ]
}

pub(crate) fn any_pattern() -> impl Strategy<Value = String> {
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

pub(crate) fn any_var_ref(inner: BoxedStrategy<Vec<StrPart>>) -> impl Strategy<Value = VarRef> {
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
pub(crate) fn any_parts() -> BoxedStrategy<Vec<StrPart>> {
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

pub(crate) fn any_word() -> BoxedStrategy<Word> {
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

pub(crate) fn any_expr() -> BoxedStrategy<Expr> {
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
pub(crate) fn any_expr22() -> BoxedStrategy<Expr> {
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
