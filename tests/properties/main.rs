//! Property tests on random expression trees and environments:
//!
//! * the VM, reparse mode and a small reference evaluator written here
//!   (tree-walking, mod_ssl's semantics re-implemented from the README, not
//!   from the engine) give the same verdict or the same error;
//! * `Display` then parse is the identity on trees (both dialects);
//! * the length-first comparison is a total order consistent with equality;
//! * constant folding never changes a result: a program with constants and
//!   the same program with every constant read from a variable agree.
//!
//! Case counts are tuned so the whole file runs in a few seconds (debug).
//! Failures are not persisted to files (`failure_persistence: None`): a
//! failing case is printed; add it to a unit test or tests/fuzz-cases/.

use std::cmp::Ordering;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use sslrequire::env::{FileInfo, Files};
use sslrequire::syntax::{CmpOp, ExprKind, List, Name, Regex, StrPart, VarRef, Word, WordKind};
use sslrequire::{
    Dialect, Env, ErrorKind, Expr, Machine, ParserBuilder, Program, ProgramBuilder, Reparser, Span,
    Var, VarMap, VarRefs,
};

mod env;
mod printable;
mod reference;
mod trees;

use env::*;
use printable::*;
use reference::*;
use trees::*;

/// `cases` unless `PROPTEST_CASES` says otherwise (for a longer run).
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// A verdict or an error code.
type Outcome = Result<bool, &'static str>;

fn outcome(r: Result<bool, sslrequire::Error>) -> Outcome {
    r.map_err(|e| e.code())
}

fn compiled(e: &Expr, env: &EngineEnv) -> Outcome {
    let text = e.to_string();
    let p = Program::compile(e, &text).unwrap_or_else(|err| panic!("{text}\n{err}"));
    outcome(p.eval_with(&mut Machine::new(), env))
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn vm_reparse_and_reference_agree(e in eval_expr(), env in test_env()) {
        let text = e.to_string();
        let engine_env = env.engine();
        let want = Reference::eval(&env, &e);
        prop_assert_eq!(compiled(&e, &engine_env), want, "compiled: {}", text);
        let reparse = Reparser::new().eval(&text, &mut Machine::new(), &engine_env);
        prop_assert_eq!(outcome(reparse), want, "reparse mode: {}", text);
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// One machine per thread evaluates many programs: a machine that ran
    /// another program first gives the same answer as a fresh one.
    #[test]
    fn a_reused_machine_answers_like_a_fresh_one(
        first in prop_oneof![
            // Captures of every size, read (so the machine keeps their state).
            Just(sslrequire::parse(
                r#""a" =~ m/(a)/ && "abcdefghi" =~ m/(a)(b)(c)(d)(e)(f)(g)(h)(i)/
                   && "ab" =~ m/(a)(b)?/ && "zz" =~ m/(z)(z)/ && $2 == "z""#
            ).unwrap()),
            eval_expr(),
        ],
        e in eval_expr(),
        env in test_env()
    ) {
        let engine_env = env.engine();
        let p1 = Program::compile(&first, &first.to_string()).unwrap();
        let p2 = Program::compile(&e, &e.to_string()).unwrap();
        let mut m = Machine::new();
        let _ = p1.eval_with(&mut m, &engine_env);
        let reused = outcome(p2.eval_with(&mut m, &engine_env));
        prop_assert_eq!(reused, compiled(&e, &engine_env), "{}\nafter: {}", e, first);
    }
}

// ======================================================================
// Constant folding
// ======================================================================

/// The same tree with every constant read from a header `cN` instead
/// (digits, string literals, `true`/`false`); the values go to `consts`.
fn unfold(e: &Expr, consts: &mut Vec<Vec<u8>>) -> Expr {
    fn var(consts: &mut Vec<Vec<u8>>, value: Vec<u8>) -> VarRef {
        consts.push(value);
        header("http", &format!("c{}", consts.len() - 1))
    }
    fn w(x: &Word, c: &mut Vec<Vec<u8>>) -> Word {
        word(match &x.kind {
            WordKind::Digits(d) => WordKind::Var(var(c, d.clone().into_bytes())),
            WordKind::Str(parts) => WordKind::Str(
                parts
                    .iter()
                    .map(|p| match p {
                        StrPart::Lit(b) => StrPart::Var(var(c, b.clone())),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            WordKind::Concat(ws) => WordKind::Concat(ws.iter().map(|x| w(x, c)).collect()),
            WordKind::Call { name, arg } => WordKind::Call {
                name: name.clone(),
                arg: Box::new(w(arg, c)),
            },
            // `%{http:h0}`'s name stays: it is not a value.
            k => k.clone(),
        })
    }
    expr(match &e.kind {
        ExprKind::Bool(b) => {
            let v = var(consts, if *b { b"1".to_vec() } else { b"0".to_vec() });
            ExprKind::Cmp {
                op: CmpOp::Eq,
                lhs: word(WordKind::Var(v)),
                rhs: word(WordKind::Str(vec![StrPart::Lit(b"1".to_vec())])),
            }
        }
        ExprKind::Not(i) => ExprKind::Not(Box::new(unfold(i, consts))),
        ExprKind::And(v) => ExprKind::And(v.iter().map(|i| unfold(i, consts)).collect()),
        ExprKind::Or(v) => ExprKind::Or(v.iter().map(|i| unfold(i, consts)).collect()),
        ExprKind::Cmp { op, lhs, rhs } => ExprKind::Cmp {
            op: *op,
            lhs: w(lhs, consts),
            rhs: w(rhs, consts),
        },
        ExprKind::In { lhs, list } => ExprKind::In {
            lhs: w(lhs, consts),
            list: match list {
                List::Words(ws) => List::Words(ws.iter().map(|x| w(x, consts)).collect()),
                List::Func { name, arg } => List::Func {
                    name: name.clone(),
                    arg: Box::new(w(arg, consts)),
                },
            },
        },
        ExprKind::Match {
            lhs,
            regex,
            negated,
        } => ExprKind::Match {
            lhs: w(lhs, consts),
            regex: regex.clone(),
            negated: *negated,
        },
        ExprKind::Unary { op, arg } => ExprKind::Unary {
            op: op.clone(),
            arg: w(arg, consts),
        },
        ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
            op: op.clone(),
            lhs: w(lhs, consts),
            rhs: w(rhs, consts),
        },
    })
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn constant_folding_never_changes_a_result(e in eval_expr(), env in test_env()) {
        let mut env = env;
        let mut consts = Vec::new();
        let unfolded = unfold(&e, &mut consts);
        env.consts = consts;
        let engine_env = env.engine();
        let folded = compiled(&e, &engine_env);
        prop_assert_eq!(
            compiled(&unfolded, &engine_env),
            folded,
            "with constants: {}\nfrom variables: {}",
            e,
            unfolded
        );
        prop_assert_eq!(folded, Reference::eval(&env, &unfolded), "reference: {}", unfolded);
    }
}

#[test]
fn unfolding_reads_every_constant_from_a_variable() {
    let e = sslrequire::parse(r#"true && 12 == "a%{HTTPS}b" . tolower("X")"#).unwrap();
    let mut consts = Vec::new();
    let u = unfold(&e, &mut consts);
    assert_eq!(
        u.to_string(),
        r#"%{http:c0} == "1" && %{http:c1} == "%{http:c2}%{HTTPS}%{http:c3}" . tolower("%{http:c4}")"#
    );
    let lits: Vec<&[u8]> = consts.iter().map(Vec::as_slice).collect();
    assert_eq!(lits, [&b"1"[..], b"12", b"a", b"b", b"X"]);
    // … and the program really does read them: nothing left to fold.
    let p = Program::compile(&u, &u.to_string()).unwrap();
    assert!(p.listing().contains("c4"), "{}", p.listing());
}

// ======================================================================
// The comparison order
// ======================================================================

fn cmp_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(select(&b"a\x7f\x80\xff0"[..]), 0..4),
        prop::collection::vec(any::<u8>(), 0..4),
    ]
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn strcmplex_is_a_total_order_consistent_with_equality(
        a in cmp_bytes(), b in cmp_bytes(), c in cmp_bytes()
    ) {
        let cmp = sslrequire::strcmplex;
        prop_assert_eq!(cmp(&a, &b), ref_strcmplex(&a, &b));
        // Equal exactly when the bytes are equal.
        prop_assert_eq!(cmp(&a, &b) == Ordering::Equal, a == b);
        prop_assert_eq!(cmp(&a, &a), Ordering::Equal);
        // Antisymmetric.
        prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse());
        // Transitive.
        if cmp(&a, &b) != Ordering::Greater && cmp(&b, &c) != Ordering::Greater {
            prop_assert_ne!(cmp(&a, &c), Ordering::Greater);
        }
        // Length first.
        if a.len() < b.len() {
            prop_assert_eq!(cmp(&a, &b), Ordering::Less);
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Every comparison operator, on values read at run time and on folded
    /// constants, follows the order.
    #[test]
    fn comparison_operators_follow_the_order(a in cmp_bytes(), b in cmp_bytes()) {
        let mut m = VarMap::new();
        m.set("http:a", a.clone()).unwrap();
        m.set("http:b", b.clone()).unwrap();
        let (a, b) = (cstr(&a).to_vec(), cstr(&b).to_vec());
        let lit = |v: &[u8]| word(WordKind::Str(normalise_parts(vec![StrPart::Lit(v.to_vec())])));
        for op in [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge] {
            let want = ref_compare(op, &a, &b);
            for (lhs, rhs) in [
                (word(WordKind::Var(header("http", "a"))), word(WordKind::Var(header("http", "b")))),
                (lit(&a), lit(&b)),
            ] {
                let e = expr(ExprKind::Cmp { op, lhs, rhs });
                let p = Program::compile(&e, &e.to_string()).unwrap();
                prop_assert_eq!(p.eval(&m).unwrap(), want, "{}", e);
            }
        }
    }
}

// ======================================================================
// Superinstructions
// ======================================================================

/// A variable read by name (NAMED, or the always-empty one).
fn named_var() -> impl Strategy<Value = Word> {
    select(
        NAMED
            .iter()
            .copied()
            .chain([EMPTY_NAME])
            .collect::<Vec<_>>(),
    )
    .prop_map(|n| word(WordKind::Var(VarRef::Name(name(n)))))
}

fn literal() -> impl Strategy<Value = Word> {
    prop_oneof![
        "-?[0-9]{1,3}".prop_map(|d| word(WordKind::Digits(d))),
        bytes().prop_map(|b| word(WordKind::Str(normalise_parts(vec![StrPart::Lit(b)])))),
    ]
}

/// The shapes the machine runs as superinstructions — a variable against
/// a constant (every operator), in a list of constants (short lists are
/// scanned, long ones hashed), against a regex — under deep `&&`, `||` and
/// `!`, so that tests and jumps fuse and jumps land on jumps.
fn fused_expr() -> BoxedStrategy<Expr> {
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(|b| expr(ExprKind::Bool(b))),
        4 => (cmp_op(), named_var(), literal())
            .prop_map(|(op, lhs, rhs)| expr(ExprKind::Cmp { op, lhs, rhs })),
        2 => (named_var(), prop::collection::vec(literal(), 1..12)).prop_map(|(lhs, ws)| {
            expr(ExprKind::In { lhs, list: List::Words(ws) })
        }),
        2 => (named_var(), pattern(), any::<bool>(), any::<bool>()).prop_map(
            |(lhs, p, icase, negated)| {
                let regex = Regex { pattern: p, icase, delim: '/', span: sp() };
                expr(ExprKind::Match { lhs, regex, negated })
            }
        ),
        1 => (cmp_op(), backref_number(), literal()).prop_map(|(op, n, rhs)| {
            let lhs = word(WordKind::Backref(n));
            expr(ExprKind::Cmp { op, lhs, rhs })
        }),
    ];
    boolean_tree(leaf.boxed(), 6, 40, 4)
}

proptest! {
    #![proptest_config(config(512))]

    /// The superinstructions give the reference evaluator's results, read
    /// by name (`VarMap`, `VarRefs`) and by slot (`Layout`/`Slots`).
    #[test]
    fn superinstructions_agree_with_the_reference(e in fused_expr(), env in test_env()) {
        let text = e.to_string();
        let want = Reference::eval(&env, &e);
        let engine_env = env.engine();
        prop_assert_eq!(compiled(&e, &engine_env), want, "by name: {}", text);
        let p = Program::compile(&e, &text).unwrap();
        let layout = p.layout(NAMED).unwrap();
        let values: Vec<&[u8]> = env.named.iter().map(|v| v.as_deref().unwrap_or(b"")).collect();
        let slots = layout.bind(&p, &values).unwrap();
        prop_assert_eq!(outcome(slots.eval_with(&mut Machine::new())), want, "by slot: {}", text);
        let mut refs = VarRefs::new();
        for (n, v) in NAMED.iter().zip(&env.named) {
            if let Some(v) = v {
                refs.set(n, v).unwrap();
            }
        }
        prop_assert_eq!(outcome(p.eval(&refs)), want, "borrowed by name: {}", text);
    }
}

fn reads_back(d: Dialect, e: &Expr) -> Result<(), TestCaseError> {
    let parser = ParserBuilder::new().dialect(d).build();
    for printed in [e.to_string(), e.to_parenthesized()] {
        let back = match parser.parse(&printed) {
            Ok(back) => back,
            Err(err) => return Err(TestCaseError::fail(format!("{printed}\n{err}\n{e:?}"))),
        };
        prop_assert_eq!(&back, e, "{}", printed);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn display_then_parse_is_the_identity_24(e in any_expr()) {
        reads_back(Dialect::V24, &e)?;
    }

    #[test]
    fn display_then_parse_is_the_identity_22(e in any_expr22()) {
        reads_back(Dialect::V22, &e)?;
    }

    /// What the reference can evaluate also reads back, and compiles to the
    /// same program as its printed form.
    #[test]
    fn printed_programs_compile_alike(e in eval_expr()) {
        let text = e.to_string();
        let from_tree = Program::compile(&e, &text).unwrap();
        let from_text = ProgramBuilder::new().build(&text).unwrap();
        prop_assert_eq!(from_tree.listing(), from_text.listing());
    }
}
