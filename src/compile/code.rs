//! The compiled form: a flat list of [`Op`]s over constant, variable,
//! regex and list pools. Immutable, `Send + Sync`, cheap to share (wrap it
//! in an `Arc`).

use std::fmt::{self, Write as _};
use std::sync::Arc;

use rustc_hash::FxHashSet;

use crate::dialect::Dialect;
use crate::env::Var;
use crate::error::Span;
use crate::func::{BinaryOp, Func, UnaryOp};
use crate::pattern::Regex;
use crate::syntax::CmpOp;

/// Index into the constant pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConstId(pub u32);
/// Index into the variable table (one slot per distinct variable read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VarSlot(pub u32);
/// Index into the regex pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RegexId(pub u32);
/// Index into the list pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListId(pub u32);
/// Index into the word pool (words that need computing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WordId(pub u32);

/// Where an operand's bytes come from. Most comparisons read a variable and
/// a constant, so those need no word evaluation at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operand {
    Const(ConstId),
    Var(VarSlot),
    Backref(u8),
    Word(WordId),
}

/// One instruction. Tests set the machine's flag; jumps read it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    /// flag = constant.
    Bool(bool),
    /// flag = a <op> b (length-first, signed bytes).
    Cmp { op: CmpOp, a: Operand, b: Operand },
    /// flag = var <op> constant: the common case, without operand dispatch.
    CmpVarConst { op: CmpOp, var: VarSlot, k: ConstId },
    /// flag = a ∈ list.
    In { a: Operand, list: ListId },
    /// flag = a ∈ PeerExtList(arg) / OID(arg).
    InExt { a: Operand, arg: Operand },
    /// flag = (a =~ re) != negated.
    Match {
        a: Operand,
        re: RegexId,
        negated: bool,
    },
    /// flag = -op a.
    Unary { op: UnaryOp, a: Operand },
    /// flag = a -op b.
    Binary {
        op: BinaryOp,
        a: Operand,
        b: Operand,
    },
    /// flag = !flag.
    Not,
    /// if !flag goto target.
    JumpIfFalse(u32),
    /// if flag goto target.
    JumpIfTrue(u32),
}

/// A word that must be computed: concatenation, interpolation, a function.
#[derive(Clone, Debug)]
pub(crate) enum WordCode {
    Const(ConstId),
    Var(VarSlot),
    Backref(u8),
    /// Parts appended in order (`.` and string interpolation).
    Concat(Box<[WordCode]>),
    /// `f(arg)`; `span` locates errors.
    Call {
        func: Func,
        arg: Box<WordCode>,
        span: Span,
    },
}

/// A `{ … }` list.
#[derive(Debug)]
pub(crate) struct ListCode {
    /// Constant elements, as a set (byte equality, as Apache's strcmp).
    pub set: ConstSet,
    /// Elements that need evaluating, in Apache's order (last to first).
    pub dynamic: Box<[Operand]>,
    /// When some element can fail (`file()`), every element runs in
    /// Apache's order, last to first, stopping at the first match, so an
    /// error surfaces exactly when Apache's would.
    pub ordered: Option<Box<[Operand]>>,
}

/// Constant list elements: a linear scan for a few, a hash set for more.
#[derive(Debug)]
pub(crate) enum ConstSet {
    Small(Box<[Box<[u8]>]>),
    Hashed(FxHashSet<Box<[u8]>>),
}

impl ConstSet {
    pub(crate) fn new(items: Vec<Box<[u8]>>) -> ConstSet {
        if items.len() <= 8 {
            ConstSet::Small(items.into())
        } else {
            ConstSet::Hashed(items.into_iter().collect())
        }
    }

    pub(crate) fn contains(&self, v: &[u8]) -> bool {
        match self {
            ConstSet::Small(items) => items.iter().any(|i| **i == *v),
            ConstSet::Hashed(set) => set.contains(v),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            ConstSet::Small(items) => items.len(),
            ConstSet::Hashed(set) => set.len(),
        }
    }
}

/// The compiled form of one expression: ops over pools, with the options
/// it runs under. Immutable, `Send + Sync`; [`Program`](crate::Program)
/// holds it beside its source.
pub(crate) struct Code {
    /// What the machine runs: `ops` as superinstructions (`fuse.rs`).
    pub(crate) insts: Box<[super::Inst]>,
    /// The ops as listed, one line each.
    pub(crate) ops: Box<[Op]>,
    /// The source span of each op (tests only; default for the rest).
    pub(crate) spans: Box<[Span]>,
    pub(crate) consts: Box<[Box<[u8]>]>,
    pub(crate) vars: Box<[Var]>,
    pub(crate) regexes: Box<[Arc<Regex>]>,
    pub(crate) lists: Box<[ListCode]>,
    pub(crate) words: Box<[WordCode]>,
    /// Constant subnets of `-R` / `-ipmatch`.
    pub(crate) subnets: Box<[crate::func::Subnet]>,
    /// Whether any `$N` is read: if not, matches skip capture extraction.
    pub(crate) reads_backrefs: bool,
    /// mod_ssl 2.2's sticky scanner error: every evaluation fails.
    pub(crate) poison: Option<(String, Span)>,
    /// Process-unique id (see `Slots`).
    pub(crate) id: u64,
    pub(crate) dialect: Dialect,
    /// The largest value evaluation may build (`ProgramBuilder::value_limit`).
    pub(crate) value_limit: usize,
    pub(crate) regex_limits: crate::pattern::RegexLimits,
}

impl Code {
    /// About how many bytes the code holds (for caches that are bounded by
    /// bytes): ops, spans, constant pool, and a guess for the rest.
    pub(crate) fn weight(&self) -> usize {
        use std::mem::size_of;
        self.ops.len() * (size_of::<Op>() + size_of::<Span>())
            + self.insts.len() * size_of::<super::Inst>()
            + self.consts.iter().map(|c| c.len() + 16).sum::<usize>()
            + (self.vars.len() + self.regexes.len() + self.lists.len() + self.words.len()) * 64
            + size_of::<Code>()
    }

    /// Whether any client or server certificate field is read.
    pub(crate) fn reads_certificates(&self) -> bool {
        self.vars
            .iter()
            .any(|v| matches!(v, Var::Cert(..) | Var::ClientCertChain(_)))
            || self.ops.iter().any(|op| matches!(op, Op::InExt { .. }))
    }

    fn fmt_operand(&self, f: &mut String, o: Operand) {
        match o {
            Operand::Const(c) => {
                let _ = write!(f, "{}", Quoted(&self.consts[c.0 as usize]));
            }
            Operand::Var(v) => {
                let _ = write!(f, "%{{{}}}", self.vars[v.0 as usize]);
            }
            Operand::Backref(n) => {
                let _ = write!(f, "${n}");
            }
            Operand::Word(w) => self.fmt_word(f, &self.words[w.0 as usize]),
        }
    }

    fn fmt_word(&self, f: &mut String, w: &WordCode) {
        match w {
            WordCode::Const(c) => self.fmt_operand(f, Operand::Const(*c)),
            WordCode::Var(v) => self.fmt_operand(f, Operand::Var(*v)),
            WordCode::Backref(n) => self.fmt_operand(f, Operand::Backref(*n)),
            WordCode::Concat(parts) => {
                f.push_str("concat(");
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.push_str(", ");
                    }
                    self.fmt_word(f, p);
                }
                f.push(')');
            }
            WordCode::Call { func, arg, .. } => {
                let _ = write!(f, "{}(", func.name());
                self.fmt_word(f, arg);
                f.push(')');
            }
        }
    }

    /// One line per op: `0003  cmp.eq   %{SSL_CLIENT_S_DN_O}, "Snake Oil, Ltd."`.
    pub(crate) fn listing(&self) -> String {
        let mut out = String::new();
        for (pc, op) in self.ops.iter().enumerate() {
            let mut line = format!("{pc:04}  ");
            match *op {
                Op::Bool(b) => line.push_str(if b { "true" } else { "false" }),
                Op::Cmp { .. } | Op::CmpVarConst { .. } => {
                    let (op, a, b) = match *op {
                        Op::Cmp { op, a, b } => (op, a, b),
                        Op::CmpVarConst { op, var, k } => {
                            (op, Operand::Var(var), Operand::Const(k))
                        }
                        _ => unreachable!("matched above"),
                    };
                    let name = match op {
                        CmpOp::Eq => "cmp.eq ",
                        CmpOp::Ne => "cmp.ne ",
                        CmpOp::Lt => "cmp.lt ",
                        CmpOp::Le => "cmp.le ",
                        CmpOp::Gt => "cmp.gt ",
                        CmpOp::Ge => "cmp.ge ",
                    };
                    line.push_str(name);
                    line.push_str("  ");
                    self.fmt_operand(&mut line, a);
                    line.push_str(", ");
                    self.fmt_operand(&mut line, b);
                }
                Op::In { a, list } => {
                    let l = &self.lists[list.0 as usize];
                    line.push_str("in       ");
                    self.fmt_operand(&mut line, a);
                    let _ = write!(line, ", list#{} ({} constant", list.0, l.set.len());
                    if !l.dynamic.is_empty() {
                        let _ = write!(line, ", {} computed", l.dynamic.len());
                    }
                    if l.ordered.is_some() {
                        line.push_str(", in Apache's order");
                    }
                    line.push(')');
                }
                Op::InExt { a, arg } => {
                    line.push_str("in.ext   ");
                    self.fmt_operand(&mut line, a);
                    line.push_str(", ");
                    line.push_str(match self.dialect {
                        Dialect::V24 => "PeerExtList(",
                        Dialect::V22 => "OID(",
                    });
                    self.fmt_operand(&mut line, arg);
                    line.push(')');
                }
                Op::Match { a, re, negated } => {
                    let r = &self.regexes[re.0 as usize];
                    line.push_str(if negated { "nomatch  " } else { "match    " });
                    self.fmt_operand(&mut line, a);
                    let _ = write!(
                        line,
                        ", m/{}/{} [{}{}]",
                        r.pattern(),
                        if r.icase() { "i" } else { "" },
                        r.engine_name(),
                        if r.groups() > 0 { ", captures" } else { "" }
                    );
                }
                Op::Unary { op, a } => {
                    let _ = write!(line, "unary    -{} ", op.name());
                    self.fmt_operand(&mut line, a);
                }
                Op::Binary { op, a, b } => {
                    let _ = write!(line, "binary   -{} ", op.name());
                    self.fmt_operand(&mut line, a);
                    line.push_str(", ");
                    self.fmt_operand(&mut line, b);
                }
                Op::Not => line.push_str("not"),
                Op::JumpIfFalse(t) => {
                    let _ = write!(line, "jump.if.false {t:04}");
                }
                Op::JumpIfTrue(t) => {
                    let _ = write!(line, "jump.if.true  {t:04}");
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Bytes shown as a double-quoted string with C-style escapes.
pub(crate) struct Quoted<'a>(pub &'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for &b in self.0 {
            match b {
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                b'\n' => f.write_str("\\n")?,
                b'\t' => f.write_str("\\t")?,
                b'\r' => f.write_str("\\r")?,
                0x20..=0x7e => f.write_char(b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_char('"')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_set_switches_representation() {
        let small = ConstSet::new(vec![b"a".to_vec().into(), b"b".to_vec().into()]);
        assert!(small.contains(b"b") && !small.contains(b"c"));
        let many: Vec<Box<[u8]>> = (0..50)
            .map(|i| format!("n{i}").into_bytes().into())
            .collect();
        let set = ConstSet::new(many);
        assert!(matches!(set, ConstSet::Hashed(_)));
        assert!(set.contains(b"n49") && !set.contains(b"n50"));
    }

    #[test]
    fn quoted_escapes() {
        assert_eq!(Quoted(b"a\"b\\\n\xc3").to_string(), r#""a\"b\\\n\xc3""#);
    }
}
