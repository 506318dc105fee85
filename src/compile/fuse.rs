//! The ops as the machine runs them: superinstructions.
//!
//! The listing ([`Op`]s, one line each, `Step::index`, `Program::tests`)
//! stays as the compiler laid it out; the machine runs a second, private
//! form built from it once, at compile time:
//!
//! * every instruction carries its own exit — "if the flag is now `on`, go
//!   to `target`" — so a test and the jump after it are one dispatch (a
//!   jump is an instruction that only exits), and jumps that land on jumps
//!   are threaded through;
//! * the common tests get ops of their own: a variable against a constant
//!   for (in)equality, which needs no scan for the value's end (the
//!   constant holds no NUL: the value equals it exactly, or continues with
//!   a NUL), a variable in a list of constants, a variable against a regex
//!   whose groups nobody reads.
//!
//! Nothing here changes a result: each instruction does what the op it
//! came from does, and `tests/properties/` checks the machine against a
//! reference evaluator on expressions made of these shapes.

use super::{Code, ConstId, ConstSet, ListCode, ListId, Op, Operand, RegexId, VarSlot};
use crate::syntax::CmpOp;

/// One instruction of the machine.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inst {
    pub kind: Kind,
    /// The index of the op it runs in the listing (spans, traces).
    pub pc: u32,
    /// Where to go when the flag is `on` after it; otherwise the next
    /// instruction. An instruction without an exit of its own has the next
    /// instruction as `target`.
    pub on: bool,
    pub target: u32,
}

/// What an instruction does before its exit.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// Nothing: a jump (all it does is its exit).
    Jump,
    /// An op run as listed.
    Op(Op),
    /// flag = (var == k) != ne, `k` without NUL.
    EqVarConst { var: VarSlot, k: ConstId, ne: bool },
    /// flag = var <op> k for the orderings (length first).
    OrdVarConst { op: CmpOp, var: VarSlot, k: ConstId },
    /// flag = var ∈ list, a list of constants only, without NUL.
    InVarConsts { var: VarSlot, list: ListId },
    /// flag = (var =~ re) != negated; no `$N` is read after it.
    MatchVar {
        var: VarSlot,
        re: RegexId,
        negated: bool,
    },
}

/// The instructions for `ops` (of `code`, whose pools they index).
pub(super) fn fuse(ops: &[Op], code: &Code) -> Box<[Inst]> {
    let n = ops.len();
    // 1:1 first; `exit: Some((on, target))` in op indices.
    let mut insts: Vec<(Kind, Option<(bool, usize)>)> = ops
        .iter()
        .map(|op| match *op {
            Op::JumpIfFalse(t) => (Kind::Jump, Some((false, t as usize))),
            Op::JumpIfTrue(t) => (Kind::Jump, Some((true, t as usize))),
            op => (specialise(op, code), None),
        })
        .collect();
    // Thread jumps that land on jumps: the same polarity fires again, the
    // other one falls through (the flag is unchanged in between).
    for i in 0..n {
        let Some((on, mut t)) = insts[i].1 else {
            continue;
        };
        while let Some((Kind::Jump, Some((on2, t2)))) = insts.get(t).copied() {
            t = if on2 == on { t2 } else { t + 1 };
        }
        insts[i].1 = Some((on, t));
    }
    // A jump no other jump lands on joins the instruction before it, when
    // that one has no exit yet.
    let mut landed = vec![false; n + 1];
    for (_, exit) in &insts {
        if let Some((_, t)) = exit {
            landed[*t] = true;
        }
    }
    let mut keep = vec![true; n];
    for j in 1..n {
        let is_jump = matches!(insts[j].0, Kind::Jump);
        let prev_free = !matches!(insts[j - 1].0, Kind::Jump) && insts[j - 1].1.is_none();
        if is_jump && prev_free && keep[j - 1] && !landed[j] {
            insts[j - 1].1 = insts[j].1;
            keep[j] = false;
        }
    }
    // Compact, and retarget in instruction indices. No exit lands on a
    // dropped jump, so any index will do for those.
    let mut index = vec![0u32; n + 1];
    let mut next = 0u32;
    for i in 0..n {
        index[i] = next;
        next += u32::from(keep[i]);
    }
    index[n] = next;
    insts
        .iter()
        .enumerate()
        .filter(|&(i, _)| keep[i])
        .map(|(i, &(kind, exit))| {
            let (on, target) = match exit {
                Some((on, t)) => (on, index[t]),
                None => (false, index[i] + 1),
            };
            Inst {
                kind,
                pc: i as u32,
                on,
                target,
            }
        })
        .collect()
}

/// The specialised form of `op`, when it has one.
fn specialise(op: Op, code: &Code) -> Kind {
    let no_nul = |k: ConstId| !code.consts[k.0 as usize].contains(&0);
    match op {
        Op::CmpVarConst {
            op: op @ (CmpOp::Eq | CmpOp::Ne),
            var,
            k,
        } if no_nul(k) => Kind::EqVarConst {
            var,
            k,
            ne: op == CmpOp::Ne,
        },
        Op::CmpVarConst { op, var, k } => Kind::OrdVarConst { op, var, k },
        Op::In {
            a: Operand::Var(var),
            list,
        } if constants_only(&code.lists[list.0 as usize]) => Kind::InVarConsts { var, list },
        Op::Match {
            a: Operand::Var(var),
            re,
            negated,
        } if !(code.reads_backrefs && code.regexes[re.0 as usize].groups() > 0) => {
            Kind::MatchVar { var, re, negated }
        }
        op => Kind::Op(op),
    }
}

/// A list of constants without NUL (those compare to a value without
/// scanning it for its end).
fn constants_only(list: &ListCode) -> bool {
    list.ordered.is_none()
        && list.dynamic.is_empty()
        && match &list.set {
            ConstSet::Small(items) => items.iter().all(|i| !i.contains(&0)),
            ConstSet::Hashed(_) => true,
        }
}

#[cfg(test)]
mod tests {
    use super::Kind;
    use crate::Program;

    /// (kind, on, target) per instruction.
    fn shape(src: &str) -> Vec<(&'static str, bool, u32)> {
        let p = Program::new(src).unwrap();
        p.code
            .insts
            .iter()
            .map(|i| {
                let kind = match i.kind {
                    Kind::Jump => "jump",
                    Kind::Op(_) => "op",
                    Kind::EqVarConst { .. } => "eq",
                    Kind::OrdVarConst { .. } => "ord",
                    Kind::InVarConsts { .. } => "in",
                    Kind::MatchVar { .. } => "match",
                };
                (kind, i.on, i.target)
            })
            .collect()
    }

    #[test]
    fn tests_and_jumps_become_one_instruction() {
        // cmp; jif 3; cmp; jit 5; cmp → three instructions.
        assert_eq!(
            shape(r#"%{HTTPS} == "on" && %{REMOTE_ADDR} < "x" || %{REMOTE_USER} =~ m/y/"#),
            [("eq", false, 2), ("ord", true, 3), ("match", false, 3)]
        );
    }

    #[test]
    fn jumps_onto_jumps_are_threaded() {
        // (a || b) && c: a's exit on true skips b and lands on c.
        assert_eq!(
            shape(r#"(%{HTTPS} == "a" || %{HTTPS} == "b") && %{REMOTE_USER} in {"x", "y"}"#),
            [("eq", true, 2), ("eq", false, 3), ("in", false, 3)]
        );
        // !(a && b) || c: the jump after `not` stays apart only if landed on.
        let s = shape(r#"!(%{HTTPS} == "a" && %{HTTPS} == "b") || %{REMOTE_USER} == "c""#);
        assert_eq!(s.len(), 4, "{s:?}");
    }

    #[test]
    fn which_tests_are_specialised() {
        assert_eq!(shape(r#"%{HTTPS} ne 'x'"#), [("eq", false, 1)]);
        assert_eq!(shape(r#"%{HTTPS} <= 'x'"#), [("ord", false, 1)]);
        assert_eq!(shape(r#"%{HTTPS} <= %{REMOTE_USER}"#), [("op", false, 1)]);
        assert_eq!(shape(r#"%{HTTPS} in {"a", %{REMOTE_USER}}"#)[0].0, "op");
        // A regex whose groups are read keeps its capturing op.
        assert_eq!(shape(r#"%{HTTPS} =~ m/(a)/ && $1 == "a""#)[0].0, "op");
        assert_eq!(shape(r#"%{HTTPS} =~ m/(a)/"#)[0].0, "match");
    }
}
