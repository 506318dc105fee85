//! The boolean structure after folding, and its layout as ops with forward
//! jumps (so `&&`/`||` short-circuit).

use super::Op;
use crate::error::Span;

/// The boolean structure after folding, before jumps are laid out.
pub(super) enum Node {
    Const(bool),
    /// A test op; `pure`: cannot fail and has no side effect (captures), so
    /// it may be skipped when the result is already known.
    Test {
        op: Op,
        span: Span,
        pure: bool,
    },
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

impl Node {
    pub(super) fn is_pure(&self) -> bool {
        match self {
            Node::Const(_) => true,
            Node::Test { pure, .. } => *pure,
            Node::Not(n) => n.is_pure(),
            Node::And(v) | Node::Or(v) => v.iter().all(Node::is_pure),
        }
    }
}

/// The ops of `node` and the span of each.
pub(super) fn layout(node: &Node) -> (Vec<Op>, Vec<Span>) {
    let (mut ops, mut spans) = (Vec::new(), Vec::new());
    emit(node, &mut ops, &mut spans);
    (ops, spans)
}

/// Lays out the boolean structure as ops with forward jumps.
fn emit(node: &Node, ops: &mut Vec<Op>, spans: &mut Vec<Span>) {
    match node {
        Node::Const(b) => {
            ops.push(Op::Bool(*b));
            spans.push(Span::default());
        }
        Node::Test { op, span, .. } => {
            ops.push(*op);
            spans.push(*span);
        }
        Node::Not(inner) => {
            emit(inner, ops, spans);
            ops.push(Op::Not);
            spans.push(Span::default());
        }
        Node::And(items) | Node::Or(items) => {
            let is_or = matches!(node, Node::Or(_));
            let mut patches = Vec::new();
            for (i, item) in items.iter().enumerate() {
                emit(item, ops, spans);
                if i + 1 < items.len() {
                    patches.push(ops.len());
                    ops.push(if is_or {
                        Op::JumpIfTrue(0)
                    } else {
                        Op::JumpIfFalse(0)
                    });
                    spans.push(Span::default());
                }
            }
            let end = ops.len() as u32;
            for p in patches {
                ops[p] = if is_or {
                    Op::JumpIfTrue(end)
                } else {
                    Op::JumpIfFalse(end)
                };
            }
        }
    }
}
