//! Operands as the machine loads them: constants and variables borrowed,
//! back-references and computed words (concatenation, functions) written to
//! the machine's scratch buffer, within the value limit and the work budget.

use super::{Machine, Vars, WORK_FACTOR};
use crate::compile::{Code, ListCode, Operand, WordCode};
use crate::error::{ErrorKind, Span};
use crate::func::Func;

/// Where a loaded operand's bytes are.
#[derive(Clone, Copy)]
pub(super) enum Val<'a> {
    Slice(&'a [u8]),
    Scratch(usize, usize),
}

impl<'a> Val<'a> {
    #[inline]
    pub(super) fn get<'b>(self, scratch: &'b [u8]) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Val::Slice(s) => s,
            Val::Scratch(a, b) => &scratch[a..b],
        }
    }
}

impl Code {
    pub(super) fn in_list<'a, E: Vars + ?Sized>(
        &'a self,
        needle: Val<'a>,
        list: &ListCode,
        env: &'a E,
        m: &mut Machine,
        pc: usize,
    ) -> Result<bool, (ErrorKind, Span)> {
        // Either every element in Apache's order (some can fail), or the
        // constant set first and then the computed elements.
        let elements = match &list.ordered {
            Some(ordered) => ordered,
            None if list.set.contains(needle.get(&m.scratch)) => return Ok(true),
            None => &list.dynamic,
        };
        for &o in elements.iter() {
            let mark = m.scratch.len();
            let v = self.load(o, env, m, pc)?;
            if needle.get(&m.scratch) == v.get(&m.scratch) {
                return Ok(true);
            }
            m.scratch.truncate(mark);
        }
        Ok(false)
    }

    /// Makes an operand's bytes available: constants and variables are
    /// borrowed, computed words are written to the scratch buffer.
    #[inline]
    pub(super) fn load<'a, E: Vars + ?Sized>(
        &'a self,
        o: Operand,
        env: &'a E,
        m: &mut Machine,
        pc: usize,
    ) -> Result<Val<'a>, (ErrorKind, Span)> {
        Ok(match o {
            Operand::Const(c) => Val::Slice(&self.consts[c.0 as usize]),
            Operand::Var(v) => {
                Val::Slice(env.read(v.0, &self.vars).map_err(|k| (k, self.spans[pc]))?)
            }
            Operand::Backref(n) => {
                let start = m.scratch.len();
                push_backref(m, n);
                Val::Scratch(start, m.scratch.len())
            }
            Operand::Word(w) => {
                let start = m.scratch.len();
                self.write_word(&self.words[w.0 as usize], env, m)
                    .map_err(|(k, s)| (k, s.unwrap_or(self.spans[pc])))?;
                Val::Scratch(start, m.scratch.len())
            }
        })
    }

    /// Appends a computed word to the scratch buffer. No value it builds
    /// grows over the value limit, and all it builds in one evaluation
    /// stays within [`WORK_FACTOR`] times that; `file()`'s own result is
    /// bounded by Apache's 10 MiB instead.
    fn write_word<E: Vars + ?Sized>(
        &self,
        w: &WordCode,
        env: &E,
        m: &mut Machine,
    ) -> Result<(), (ErrorKind, Option<Span>)> {
        let start = m.scratch.len();
        let limit = self.value_limit;
        let bounded = |m: &Machine, span: Option<Span>| {
            if m.scratch.len() - start > limit {
                return Err((ErrorKind::ValueTooLarge { limit }, span));
            }
            Ok(())
        };
        let built = |m: &mut Machine, span: Option<Span>| {
            m.built += m.scratch.len() - start;
            let limit = limit.saturating_mul(WORK_FACTOR);
            if m.built > limit {
                return Err((ErrorKind::WorkTooLarge { limit }, span));
            }
            Ok(())
        };
        match w {
            WordCode::Const(c) => m.scratch.extend_from_slice(&self.consts[c.0 as usize]),
            WordCode::Var(v) => {
                let value = env.read(v.0, &self.vars).map_err(|k| (k, None))?;
                m.scratch.extend_from_slice(value);
            }
            WordCode::Backref(n) => push_backref(m, *n),
            WordCode::Concat(parts) => {
                for p in parts.iter() {
                    self.write_word(p, env, m)?;
                    bounded(m, None)?;
                }
                built(m, None)?;
            }
            WordCode::Call { func, arg, span } => {
                self.write_word(arg, env, m)?;
                if func.apply_in_place(&mut m.scratch[start..]) {
                    // Rewritten where it stands.
                } else {
                    let arg = m.scratch.split_off(start);
                    func.apply(&arg, env.env(), &mut m.scratch)
                        .map_err(|k| (k, Some(*span)))?;
                }
                // Every function returns a C string.
                if let Some(nul) = memchr::memchr(0, &m.scratch[start..]) {
                    m.scratch.truncate(start + nul);
                }
                if !matches!(func, Func::File) {
                    bounded(m, Some(*span))?;
                    built(m, Some(*span))?;
                }
            }
        }
        Ok(())
    }
}

/// Appends `$n` as Apache reads it: `""` when no capturing match succeeded
/// yet, the last one failed, or the group did not take part.
fn push_backref(m: &mut Machine, n: u8) {
    let Machine {
        scratch,
        groups,
        cap_text,
        cap_set,
        ..
    } = m;
    if *cap_set {
        if let Some((s, e)) = groups.get(usize::from(n)).copied().flatten() {
            scratch.extend_from_slice(&cap_text[s..e]);
        }
    }
}
