//! The virtual machine: runs a program's code against an [`Env`].
//!
//! A [`Machine`] holds the scratch space one evaluation needs (computed
//! words, regex captures); reuse one per thread and evaluations that read
//! variables and constants allocate nothing. It runs the program's
//! superinstructions (`compile/fuse.rs`): a test and its jump are one
//! dispatch, and the common tests have ops of their own.

mod word;

use crate::compile::{Code, ConstSet, Inst, Kind, Op, RegexId};
use crate::env::{cstr, eq_cstr, CertVar, Env, Side, Var};
use crate::error::{Error, ErrorKind, Span};
use crate::func::compare;
use crate::pattern::{Groups, Scratch, Stopped};
use word::Val;

/// Reusable scratch space for evaluations. Not shared between threads; one
/// per thread (or per task) is the intended use.
#[derive(Debug, Default)]
pub struct Machine {
    /// Bytes of computed words; reset before each test op.
    scratch: Vec<u8>,
    /// Bytes built by concatenations and functions in this evaluation.
    built: usize,
    /// `$0`–`$9`: byte ranges into `cap_text`, valid when `cap_set`.
    groups: Groups,
    cap_text: Vec<u8>,
    cap_set: bool,
    /// The regex engines' scratch (kept per regex, whatever the program).
    regex: Scratch,
}

impl Machine {
    /// Empty scratch space.
    pub fn new() -> Machine {
        Machine::default()
    }

    fn reset(&mut self) {
        self.scratch.clear();
        self.cap_set = false;
        self.built = 0;
    }
}

/// All that concatenations and functions build in one evaluation is
/// bounded by this many times the value limit (so a policy of many tests,
/// each building a large value, is bounded in time as well as memory).
pub(crate) const WORK_FACTOR: usize = 8;

/// Where the machine reads a program's variables: an environment, by name
/// ([`ByName`]), or the program's own slots (`Slots`), by index.
pub(crate) trait Vars {
    /// The environment behind (files, certificate extensions).
    type Env: Env + ?Sized;
    fn env(&self) -> &Self::Env;
    /// The variable in slot `slot` of the code being run (`vars[slot]`),
    /// as the environment holds it (not yet cut at a NUL).
    fn var(&self, slot: u32, vars: &[Var]) -> Option<&[u8]>;

    /// Slot `slot`'s value as held, `""` when unset; an error when the
    /// environment says it cannot be read ([`Env::unreadable`]).
    #[inline]
    fn raw(&self, slot: u32, vars: &[Var]) -> Result<&[u8], ErrorKind> {
        match self.var(slot, vars) {
            Some(v) => Ok(v),
            None => match self.env().unreadable(&vars[slot as usize]) {
                Some(kind) => Err(kind),
                None => Ok(b""),
            },
        }
    }

    /// Slot `slot`'s value as a C string (up to its first NUL).
    #[inline]
    fn read(&self, slot: u32, vars: &[Var]) -> Result<&[u8], ErrorKind> {
        self.raw(slot, vars).map(cstr)
    }
}

/// Any environment, read by name.
pub(crate) struct ByName<'a, E: ?Sized>(pub &'a E);

impl<E: Env + ?Sized> Vars for ByName<'_, E> {
    type Env = E;
    fn env(&self) -> &E {
        self.0
    }
    #[inline]
    fn var(&self, slot: u32, vars: &[Var]) -> Option<&[u8]> {
        self.0.var(&vars[slot as usize])
    }
}

/// What an evaluation records of each test it runs.
pub(crate) trait Trace {
    /// Whether `step` does anything (if not, nothing is prepared for it).
    const ON: bool;
    /// After the test of op `pc`, with the operand values it examined.
    fn step(&mut self, pc: usize, values: &[&[u8]], result: bool);
}

/// Nothing: a plain evaluation.
pub(crate) struct Untraced;

impl Trace for Untraced {
    const ON: bool = false;
    #[inline(always)]
    fn step(&mut self, _: usize, _: &[&[u8]], _: bool) {}
}

/// Every test, handed to a closure.
pub(crate) struct Tracer<F>(pub F);

impl<F: FnMut(usize, &[&[u8]], bool)> Trace for Tracer<F> {
    const ON: bool = true;
    fn step(&mut self, pc: usize, values: &[&[u8]], result: bool) {
        (self.0)(pc, values, result)
    }
}

/// One test that ran, from [`Program::eval_traced`](crate::Program::eval_traced).
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

type Failed = (ErrorKind, Span);

impl Code {
    /// Runs the code, handing each test op's operand values and result to
    /// `trace`.
    ///
    /// # Errors
    /// An evaluation error (E3xx) and the span of the test that failed.
    #[inline]
    pub(crate) fn run<E: Vars + ?Sized, T: Trace>(
        &self,
        m: &mut Machine,
        env: &E,
        trace: &mut T,
    ) -> Result<bool, Failed> {
        if let Some((message, span)) = &self.poison {
            let message = message.clone();
            return Err((ErrorKind::Poisoned { message }, *span));
        }
        m.reset();
        let insts: &[Inst] = &self.insts;
        let mut flag = false;
        let mut ip = 0;
        while let Some(inst) = insts.get(ip) {
            let pc = inst.pc as usize;
            match inst.kind {
                Kind::Jump => {}
                Kind::EqVarConst { var, k, ne } => {
                    let x = self.raw(env, var.0, pc)?;
                    let y = &*self.consts[k.0 as usize];
                    flag = eq_cstr(x, y) != ne;
                    if T::ON {
                        trace.step(pc, &[cstr(x), y], flag);
                    }
                }
                Kind::OrdVarConst { op, var, k } => {
                    let x = cstr(self.raw(env, var.0, pc)?);
                    let y = &*self.consts[k.0 as usize];
                    flag = compare(op, x, y);
                    if T::ON {
                        trace.step(pc, &[x, y], flag);
                    }
                }
                Kind::InVarConsts { var, list } => {
                    let x = self.raw(env, var.0, pc)?;
                    flag = match &self.lists[list.0 as usize].set {
                        ConstSet::Small(items) => items.iter().any(|i| eq_cstr(x, i)),
                        ConstSet::Hashed(set) => set.contains(cstr(x)),
                    };
                    if T::ON {
                        trace.step(pc, &[cstr(x)], flag);
                    }
                }
                Kind::MatchVar { var, re, negated } => {
                    let x = cstr(self.raw(env, var.0, pc)?);
                    let limits = self.regex_limits.pcre();
                    let regex = &self.regexes[re.0 as usize];
                    let hit = regex.is_match_with(x, limits, &mut m.regex);
                    flag = self.matched(hit, pc)? != negated;
                    if T::ON {
                        trace.step(pc, &[x], flag);
                    }
                }
                Kind::Op(op) => flag = self.op(op, flag, m, env, trace, pc)?,
            }
            ip = if flag == inst.on {
                inst.target as usize
            } else {
                ip + 1
            };
        }
        Ok(flag)
    }

    /// Variable `slot` as the environment holds it.
    #[inline(always)]
    fn raw<'a, E: Vars + ?Sized>(
        &self,
        env: &'a E,
        slot: u32,
        pc: usize,
    ) -> Result<&'a [u8], Failed> {
        env.raw(slot, &self.vars).map_err(|k| (k, self.spans[pc]))
    }

    /// A regex's answer as Apache reads it: a PCRE2 limit hit is "no
    /// match", or, with strict limits, an error.
    #[inline]
    fn matched(&self, hit: Result<bool, Stopped>, pc: usize) -> Result<bool, Failed> {
        match hit {
            Ok(hit) => Ok(hit),
            Err(stopped) if self.regex_limits.strict => {
                let kind = ErrorKind::RegexLimit { message: stopped.0 };
                Err((kind, self.spans[pc]))
            }
            // Apache: pcre2_match failed, so "no match".
            Err(_) => Ok(false),
        }
    }

    /// One op as listed (tests with computed operands, `not`, constants);
    /// the new flag.
    fn op<E: Vars + ?Sized, T: Trace>(
        &self,
        op: Op,
        flag: bool,
        m: &mut Machine,
        env: &E,
        trace: &mut T,
        pc: usize,
    ) -> Result<bool, Failed> {
        let flag = match op {
            Op::Bool(b) => b,
            Op::Not => !flag,
            // Jumps are instructions' exits (compile/fuse.rs).
            Op::JumpIfFalse(_) | Op::JumpIfTrue(_) => flag,
            Op::CmpVarConst { op, var, k } => {
                let x = cstr(self.raw(env, var.0, pc)?);
                let y = &*self.consts[k.0 as usize];
                let flag = compare(op, x, y);
                trace.step(pc, &[x, y], flag);
                flag
            }
            Op::Cmp { op, a, b } => {
                m.scratch.clear();
                let va = self.load(a, env, m, pc)?;
                let vb = self.load(b, env, m, pc)?;
                let (x, y) = (va.get(&m.scratch), vb.get(&m.scratch));
                let flag = compare(op, x, y);
                trace.step(pc, &[x, y], flag);
                flag
            }
            Op::In { a, list } => {
                m.scratch.clear();
                let va = self.load(a, env, m, pc)?;
                let flag = self.in_list(va, &self.lists[list.0 as usize], env, m, pc)?;
                trace.step(pc, &[va.get(&m.scratch)], flag);
                flag
            }
            Op::InExt { a, arg } => {
                m.scratch.clear();
                let va = self.load(a, env, m, pc)?;
                let vid = self.load(arg, env, m, pc)?;
                let (x, id) = (va.get(&m.scratch), vid.get(&m.scratch));
                let numeric_only = self.dialect == crate::dialect::Dialect::V22;
                let values = env.env().peer_extensions(id, numeric_only);
                if values.is_empty() {
                    let cert = Var::Cert(Side::Client, CertVar::Cert);
                    if let Some(kind) = env.env().unreadable(&cert) {
                        return Err((kind, self.spans[pc]));
                    }
                }
                let flag = values.iter().any(|v| cstr(v) == x);
                trace.step(pc, &[x, id], flag);
                flag
            }
            Op::Match { a, re, negated } => {
                m.scratch.clear();
                let va = self.load(a, env, m, pc)?;
                let hit = self.search(va, re, m);
                let flag = self.matched(hit, pc)? != negated;
                trace.step(pc, &[va.get(&m.scratch)], flag);
                flag
            }
            Op::Unary { op, a } => {
                m.scratch.clear();
                let va = self.load(a, env, m, pc)?;
                let x = va.get(&m.scratch);
                let flag = op
                    .eval(x, env.env(), &self.subnets)
                    .map_err(|k| (k, self.spans[pc]))?;
                trace.step(pc, &[x], flag);
                flag
            }
            Op::Binary { op, a, b } => {
                m.scratch.clear();
                let va = self.load(a, env, m, pc)?;
                let vb = self.load(b, env, m, pc)?;
                let (x, y) = (va.get(&m.scratch), vb.get(&m.scratch));
                let flag = op.eval(x, y, &self.subnets);
                trace.step(pc, &[x, y], flag);
                flag
            }
        };
        Ok(flag)
    }

    /// Matches regex `re` against a loaded subject, keeping `$0`–`$9` when
    /// the program reads them.
    fn search(&self, subject: Val<'_>, re: RegexId, m: &mut Machine) -> Result<bool, Stopped> {
        let regex = &self.regexes[re.0 as usize];
        let limits = self.regex_limits.pcre();
        if !(self.reads_backrefs && regex.groups() > 0) {
            return regex.is_match_with(subject.get(&m.scratch), limits, &mut m.regex);
        }
        // Apache keeps $0-$9 only from regexes with groups; a failed match
        // clears them.
        // Capture scratch is kept per regex, not per program: another
        // program's is sized for its own regexes.
        // See: tests/fuzz-cases/compile_eval/machine-reuse-stale-capture-locations
        let Machine {
            scratch,
            groups,
            cap_text,
            cap_set,
            regex: regex_scratch,
            ..
        } = m;
        let subject = subject.get(scratch);
        let hit = regex.search(subject, groups, regex_scratch, limits);
        // Apache reads back-references as "" when the subject was empty.
        *cap_set = hit == Ok(true) && !subject.is_empty();
        if *cap_set {
            cap_text.clear();
            cap_text.extend_from_slice(subject);
        }
        hit
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

    /// An environment whose `file()` may read anything, as Apache's.
    fn reads_files() -> VarMap {
        let mut env = VarMap::new();
        env.set_files(crate::env::FileAccess::under("/").unwrap());
        env
    }

    #[test]
    fn lists_run_last_to_first() {
        let env = reads_files();
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
        let env = reads_files();
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
