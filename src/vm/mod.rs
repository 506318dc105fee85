//! The virtual machine: runs a [`Program`] against an [`Env`].
//!
//! A [`Machine`] holds the scratch space one evaluation needs (computed
//! words, regex captures); reuse one per thread and evaluations that read
//! variables and constants allocate nothing.

use std::sync::Arc;

use regex::bytes::CaptureLocations;

use crate::compile::regex::Groups;
use crate::compile::{compare, cstr, ListCode, Op, Operand, Program, WordCode};
use crate::env::Env;
use crate::error::{Error, ErrorKind, Span};

/// Reusable scratch space for evaluations. Not shared between threads; one
/// per thread (or per task) is the intended use.
#[derive(Debug, Default)]
pub struct Machine {
    /// Bytes of computed words; reset before each test op.
    scratch: Vec<u8>,
    /// `$0`–`$9`: byte ranges into `cap_text`, valid when `cap_set`.
    groups: Groups,
    cap_text: Vec<u8>,
    cap_set: bool,
    /// Capture scratch for the `regex` engine, per regex of `program`.
    locs: Vec<Option<CaptureLocations>>,
    /// The program `locs` belongs to (a machine may serve several).
    program: u64,
}

impl Machine {
    /// Empty scratch space.
    pub fn new() -> Machine {
        Machine::default()
    }

    fn reset(&mut self) {
        self.scratch.clear();
        self.cap_set = false;
    }
}

/// One test that ran, from [`Program::eval_traced`].
#[derive(Clone, Debug)]
pub struct Step {
    /// The op's index in the program listing.
    pub index: usize,
    /// The test's text in the source.
    pub span: Span,
    /// The operand values it examined (left, then right / the pattern's
    /// subject / the needle).
    pub values: Vec<Vec<u8>>,
    /// Its result.
    pub result: bool,
}

/// The result of a traced evaluation.
#[derive(Debug)]
pub struct Traced {
    /// The verdict, or the evaluation error.
    pub result: Result<bool, Error>,
    /// The tests that ran, in order.
    pub steps: Vec<Step>,
}

/// Where a loaded operand's bytes are.
#[derive(Clone, Copy)]
enum Val<'a> {
    Slice(&'a [u8]),
    Scratch(usize, usize),
}

impl<'a> Val<'a> {
    #[inline]
    fn get<'b>(self, scratch: &'b [u8]) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Val::Slice(s) => s,
            Val::Scratch(a, b) => &scratch[a..b],
        }
    }
}

impl Program {
    /// Evaluates the expression: `Ok(true)` allows, `Ok(false)` denies.
    ///
    /// # Errors
    /// An evaluation error (E3xx: a `file()` that cannot be read, …).
    /// Apache answers 403 for it: treat an error as deny, and report it.
    pub fn eval<E: Env + ?Sized>(&self, env: &E) -> Result<bool, Error> {
        self.eval_with(&mut Machine::new(), env)
    }

    /// [`Program::eval`] reusing `machine`'s scratch space.
    ///
    /// # Errors
    /// As [`Program::eval`].
    pub fn eval_with<E: Env + ?Sized>(
        &self,
        machine: &mut Machine,
        env: &E,
    ) -> Result<bool, Error> {
        self.run(machine, env, &mut |_, _, _| {})
    }

    /// Whether to allow: `true` only when the expression evaluated to true.
    /// An evaluation error denies, and is handed to `on_error` so it is
    /// never lost (log it, as Apache does).
    pub fn allows<E: Env + ?Sized>(
        &self,
        machine: &mut Machine,
        env: &E,
        on_error: impl FnOnce(&Error),
    ) -> bool {
        match self.eval_with(machine, env) {
            Ok(b) => b,
            Err(e) => {
                on_error(&e);
                false
            }
        }
    }

    /// Evaluates like [`Program::eval_with`] and records every test that
    /// ran: what it compared and its result. Tests that did not run were
    /// short-circuited.
    pub fn eval_traced<E: Env + ?Sized>(&self, machine: &mut Machine, env: &E) -> Traced {
        let mut steps = Vec::new();
        let result = self.run(machine, env, &mut |pc, values, result| {
            steps.push(Step {
                index: pc,
                span: self.spans[pc],
                values: values.iter().map(|v| v.to_vec()).collect(),
                result,
            })
        });
        Traced { result, steps }
    }

    /// Every test of the program (comparisons, matches, `in`, operators),
    /// as (op index, span in the source), in program order.
    pub fn tests(&self) -> Vec<(usize, Span)> {
        self.ops
            .iter()
            .enumerate()
            .filter(|(_, op)| {
                !matches!(
                    op,
                    Op::Bool(_) | Op::Not | Op::JumpIfFalse(_) | Op::JumpIfTrue(_)
                )
            })
            .map(|(pc, _)| (pc, self.spans[pc]))
            .collect()
    }

    /// Runs the program, calling `trace(pc, operands, flag)` after each test
    /// op with the operand values it compared.
    #[inline]
    pub(crate) fn run<E: Env + ?Sized, T: FnMut(usize, &[&[u8]], bool)>(
        &self,
        m: &mut Machine,
        env: &E,
        trace: &mut T,
    ) -> Result<bool, Error> {
        if let Some((message, span)) = &self.poison {
            return Err(self.error(
                ErrorKind::Poisoned {
                    message: message.clone(),
                },
                *span,
            ));
        }
        m.reset();
        if m.program != self.id {
            // Another program's capture scratch is sized for its regexes.
            // See: tests/fuzz-cases/compile_eval/machine-reuse-stale-capture-locations
            m.locs.clear();
            m.program = self.id;
        }
        if m.locs.len() < self.regexes.len() {
            m.locs.resize_with(self.regexes.len(), || None);
        }
        let ops = &self.ops;
        let mut flag = false;
        let mut pc = 0;
        while let Some(op) = ops.get(pc) {
            match *op {
                Op::Bool(b) => flag = b,
                Op::Not => flag = !flag,
                Op::JumpIfFalse(t) => {
                    if !flag {
                        pc = t as usize;
                        continue;
                    }
                }
                Op::JumpIfTrue(t) => {
                    if flag {
                        pc = t as usize;
                        continue;
                    }
                }
                Op::CmpVarConst { op, var, k } => {
                    let x = cstr(
                        env.try_var_in(self.id, var.0, &self.vars[var.0 as usize])
                            .map_err(|k| self.error(k, self.spans[pc]))?
                            .unwrap_or(b""),
                    );
                    let y = &*self.consts[k.0 as usize];
                    flag = compare(op, x, y);
                    trace(pc, &[x, y], flag);
                }
                Op::Cmp { op, a, b } => {
                    m.scratch.clear();
                    let va = self.load(a, env, m, pc)?;
                    let vb = self.load(b, env, m, pc)?;
                    let (x, y) = (va.get(&m.scratch), vb.get(&m.scratch));
                    flag = compare(op, x, y);
                    trace(pc, &[x, y], flag);
                }
                Op::In { a, list } => {
                    m.scratch.clear();
                    let va = self.load(a, env, m, pc)?;
                    flag = self.in_list(va, &self.lists[list.0 as usize], env, m, pc)?;
                    trace(pc, &[va.get(&m.scratch)], flag);
                }
                Op::InExt { a, arg } => {
                    m.scratch.clear();
                    let va = self.load(a, env, m, pc)?;
                    let vid = self.load(arg, env, m, pc)?;
                    let (x, id) = (va.get(&m.scratch), vid.get(&m.scratch));
                    let numeric_only = self.dialect == crate::Dialect::V22;
                    let values = env
                        .try_peer_extensions(id, numeric_only)
                        .map_err(|k| self.error(k, self.spans[pc]))?;
                    flag = values.iter().any(|v| cstr(v) == x);
                    trace(pc, &[x, id], flag);
                }
                Op::Match { a, re, negated } => {
                    m.scratch.clear();
                    let va = self.load(a, env, m, pc)?;
                    let regex = &self.regexes[re.0 as usize];
                    let matched = if self.reads_backrefs && regex.groups() > 0 {
                        // Apache keeps $0-$9 only from regexes with groups;
                        // a failed match clears them.
                        let Machine {
                            scratch,
                            groups,
                            cap_text,
                            cap_set,
                            locs,
                            ..
                        } = m;
                        let subject = va.get(scratch);
                        let hit = regex.search(subject, groups, &mut locs[re.0 as usize]);
                        // Apache reads back-references as "" when the
                        // subject was empty.
                        *cap_set = hit && !subject.is_empty();
                        if *cap_set {
                            cap_text.clear();
                            cap_text.extend_from_slice(subject);
                        }
                        hit
                    } else {
                        regex.is_match(va.get(&m.scratch))
                    };
                    flag = matched != negated;
                    trace(pc, &[va.get(&m.scratch)], flag);
                }
                Op::Unary { op, a } => {
                    m.scratch.clear();
                    let va = self.load(a, env, m, pc)?;
                    let x = va.get(&m.scratch);
                    flag = op
                        .eval(x, env, &self.subnets)
                        .map_err(|k| self.error(k, self.spans[pc]))?;
                    trace(pc, &[x], flag);
                }
                Op::Binary { op, a, b } => {
                    m.scratch.clear();
                    let va = self.load(a, env, m, pc)?;
                    let vb = self.load(b, env, m, pc)?;
                    let (x, y) = (va.get(&m.scratch), vb.get(&m.scratch));
                    flag = op.eval(x, y, &self.subnets);
                    trace(pc, &[x, y], flag);
                }
            }
            pc += 1;
        }
        Ok(flag)
    }

    fn error(&self, kind: ErrorKind, span: Span) -> Error {
        Error::new(kind, span, Arc::clone(&self.source))
    }

    fn in_list<'a, E: Env + ?Sized>(
        &'a self,
        needle: Val<'a>,
        list: &ListCode,
        env: &'a E,
        m: &mut Machine,
        pc: usize,
    ) -> Result<bool, Error> {
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
    fn load<'a, E: Env + ?Sized>(
        &'a self,
        o: Operand,
        env: &'a E,
        m: &mut Machine,
        pc: usize,
    ) -> Result<Val<'a>, Error> {
        Ok(match o {
            Operand::Const(c) => Val::Slice(&self.consts[c.0 as usize]),
            Operand::Var(v) => Val::Slice(cstr(
                env.try_var_in(self.id, v.0, &self.vars[v.0 as usize])
                    .map_err(|k| self.error(k, self.spans[pc]))?
                    .unwrap_or(b""),
            )),
            Operand::Backref(n) => {
                let start = m.scratch.len();
                push_backref(m, n);
                Val::Scratch(start, m.scratch.len())
            }
            Operand::Word(w) => {
                let start = m.scratch.len();
                self.write_word(&self.words[w.0 as usize], env, m)
                    .map_err(|(k, s)| self.error(k, s.unwrap_or(self.spans[pc])))?;
                Val::Scratch(start, m.scratch.len())
            }
        })
    }

    /// Appends a computed word to the scratch buffer.
    fn write_word<E: Env + ?Sized>(
        &self,
        w: &WordCode,
        env: &E,
        m: &mut Machine,
    ) -> Result<(), (ErrorKind, Option<Span>)> {
        match w {
            WordCode::Const(c) => m.scratch.extend_from_slice(&self.consts[c.0 as usize]),
            WordCode::Var(v) => {
                let value = cstr(
                    env.try_var_in(self.id, v.0, &self.vars[v.0 as usize])
                        .map_err(|k| (k, None))?
                        .unwrap_or(b""),
                );
                m.scratch.extend_from_slice(value);
            }
            WordCode::Backref(n) => push_backref(m, *n),
            WordCode::Concat(parts) => {
                for p in parts.iter() {
                    self.write_word(p, env, m)?;
                }
            }
            WordCode::Call { func, arg, span } => {
                let start = m.scratch.len();
                self.write_word(arg, env, m)?;
                if func.apply_in_place(&mut m.scratch[start..]) {
                    // Rewritten where it stands.
                } else {
                    let arg = m.scratch.split_off(start);
                    func.apply(&arg, env, &mut m.scratch)
                        .map_err(|k| (k, Some(*span)))?;
                }
                // Every function returns a C string.
                if let Some(nul) = memchr::memchr(0, &m.scratch[start..]) {
                    m.scratch.truncate(start + nul);
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

#[cfg(test)]
mod tests {
    use crate::{Machine, Program, VarMap};

    fn eval(src: &str, env: &VarMap) -> Result<bool, String> {
        Program::new(src)
            .map_err(|e| e.to_string())?
            .eval(env)
            .map_err(|e| e.code().to_string())
    }

    #[test]
    fn captures_follow_apache() {
        let env = VarMap::new();
        // Set by a capturing match, read later in the same evaluation.
        assert_eq!(
            eval(
                r#""abc" =~ m/(b)(c)/ && $0 == "bc" && $2 == "c" && "$1$2" == "bc""#,
                &env
            ),
            Ok(true)
        );
        // A regex without groups leaves them alone …
        assert_eq!(
            eval(r#""abc" =~ m/(b)/ && "x" =~ m/x/ && $1 == "b""#, &env),
            Ok(true)
        );
        // … a failed capturing match clears them.
        assert_eq!(
            eval(r#""abc" =~ m/(b)/ && !("x" =~ m/(y)/) && $1 == """#, &env),
            Ok(true)
        );
        // Unset before any match; a group that did not take part is "".
        assert_eq!(
            eval(
                r#"$1 == "" && "ac" =~ m/a(b)?c/ && $1 == "" && $0 == "ac""#,
                &env
            ),
            Ok(true)
        );
        // Through PCRE2 as well.
        assert_eq!(eval(r#""abab" =~ m/(ab)\1/ && $1 == "ab""#, &env), Ok(true));
    }

    #[test]
    fn a_machine_serves_several_programs() {
        let env = VarMap::new();
        let mut m = Machine::new();
        let one = Program::new(r#""ab" =~ m/(a)/ && $1 == "a""#).unwrap();
        let three = Program::new(r#""xyz" =~ m/(x)(y)(z)/ && $3 == "z""#).unwrap();
        assert!(one.eval_with(&mut m, &env).unwrap());
        assert!(three.eval_with(&mut m, &env).unwrap());
        assert!(one.eval_with(&mut m, &env).unwrap());
    }

    #[test]
    fn lists_run_last_to_first() {
        let env = VarMap::new();
        assert_eq!(
            eval(r#""x" in {"x", file("/nonexistent/sslrequire")}"#, &env),
            Err("E300".into())
        );
        assert_eq!(
            eval(r#""x" in {file("/nonexistent/sslrequire"), "x"}"#, &env),
            Ok(true)
        );
    }

    #[test]
    fn values_are_c_strings() {
        let mut env = VarMap::new();
        env.set("REMOTE_USER", &b"alice\0bob"[..]).unwrap();
        assert_eq!(
            eval(r#"%{REMOTE_USER} == "alice" && "a\0b" == "a""#, &env),
            Ok(true)
        );
    }

    #[test]
    fn machine_is_reusable_and_errors_deny() {
        let p = Program::new(r#"file("/nonexistent/sslrequire") == "" || true"#).unwrap();
        let mut m = Machine::new();
        let env = VarMap::new();
        let mut reported = None;
        assert!(!p.allows(&mut m, &env, |e| reported = Some(e.code())));
        assert_eq!(reported, Some("E300"));
        let q = Program::new(r#"%{HTTPS} == "on""#).unwrap();
        let mut env = VarMap::new();
        env.set("HTTPS", "on").unwrap();
        assert!(q.eval_with(&mut m, &env).unwrap());
    }

    #[test]
    fn poisoned_22_expressions_fail_every_evaluation() {
        let p = Program::builder()
            .dialect(crate::Dialect::V22)
            .build(r#"true or "\777" == "x""#)
            .unwrap();
        assert_eq!(p.eval(&VarMap::new()).unwrap_err().code(), "E304");
    }
}
