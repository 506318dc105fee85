//! [`Program`]: a compiled SSLRequire expression, and everything a caller
//! does with one — build it ([`ProgramBuilder`]), evaluate it, trace it,
//! list it, lay out an environment for it ([`Layout`], [`Slots`]). The
//! stages behind it: `syntax` reads the text, `compile` turns the tree into
//! code, `vm` runs the code.

mod slots;

use std::fmt;
use std::sync::Arc;

use crate::compile::{self, Code, Op};
use crate::dialect::Dialect;
use crate::env::{input_var, Env, UnknownVariable, Var};
use crate::error::{Error, ErrorKind, Span};
use crate::pattern::RegexLimits;
use crate::syntax::{self, Expr};
use crate::vm::{ByName, Machine, Step, Traced, Tracer, Untraced};
pub use slots::{Layout, LayoutMismatch, Slots};

/// The default bound on any value a program builds by concatenation or a
/// function (1 MiB); `file()`'s result has Apache's own 10 MiB bound.
pub const DEFAULT_VALUE_LIMIT: usize = 1 << 20;

/// Options for building a [`Program`]: dialect, limits.
///
/// ```
/// use sslrequire::{Dialect, ProgramBuilder, RegexLimits, VarMap};
///
/// let mut limits = RegexLimits::DEFAULT;
/// limits.strict = true; // a PCRE2 limit hit denies instead of "no match"
/// let program = ProgramBuilder::new()
///     .dialect(Dialect::V22)
///     .value_limit(64 << 10)
///     .regex_limits(limits)
///     .build(r#"%{SSL_CLIENT_S_DN_CN} eq "alice""#)?;
/// assert!(!program.eval(&VarMap::new())?);
/// # Ok::<(), sslrequire::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ProgramBuilder {
    parser: syntax::ParserBuilder,
    dialect: Dialect,
    value_limit: usize,
    regex_limits: RegexLimits,
}

impl Default for ProgramBuilder {
    fn default() -> ProgramBuilder {
        ProgramBuilder {
            parser: syntax::ParserBuilder::default(),
            dialect: Dialect::default(),
            value_limit: DEFAULT_VALUE_LIMIT,
            regex_limits: RegexLimits::DEFAULT,
        }
    }
}

impl ProgramBuilder {
    /// Dialect 2.4 and the parser's default limits.
    pub fn new() -> ProgramBuilder {
        ProgramBuilder::default()
    }

    /// Which language.
    pub fn dialect(&mut self, dialect: Dialect) -> &mut ProgramBuilder {
        self.dialect = dialect;
        self.parser.dialect(dialect);
        self
    }

    /// Longest accepted expression, in bytes.
    pub fn size_limit(&mut self, bytes: usize) -> &mut ProgramBuilder {
        self.parser.size_limit(bytes);
        self
    }

    /// Deepest accepted nesting.
    pub fn nest_limit(&mut self, limit: u32) -> &mut ProgramBuilder {
        self.parser.nest_limit(limit);
        self
    }

    /// The largest value the program may build, in bytes: a constant that
    /// folds larger is a compile error (E209), a concatenation or function
    /// result that grows larger while evaluating is an evaluation error
    /// (E305, deny), and all that one evaluation builds is bounded by 8
    /// times this (E307). Default [`DEFAULT_VALUE_LIMIT`]. Values the
    /// environment supplies are not counted, nor is `file()`'s result
    /// (Apache's 10 MiB bound applies to it).
    pub fn value_limit(&mut self, bytes: usize) -> &mut ProgramBuilder {
        self.value_limit = bytes;
        self
    }

    /// PCRE2's limits and what hitting one means (default
    /// [`RegexLimits::DEFAULT`]: Apache's "no match").
    pub fn regex_limits(&mut self, limits: RegexLimits) -> &mut ProgramBuilder {
        self.regex_limits = limits;
        self
    }

    /// Parses and compiles `src`.
    ///
    /// # Errors
    /// A parse (E1xx) or compile (E2xx) error.
    pub fn build(&self, src: &str) -> Result<Program, Error> {
        let expr = self.parser.build().parse(src)?;
        self.compile(&expr, src)
    }

    /// Compiles an expression parsed from `src` (which error messages
    /// quote; spans in `expr` point into it).
    ///
    /// # Errors
    /// A compile error (E2xx): unknown variable, function or operator,
    /// invalid regex.
    pub fn compile(&self, expr: &Expr, src: &str) -> Result<Program, Error> {
        let source: Arc<str> = Arc::from(src);
        let opts = compile::Options {
            dialect: self.dialect,
            value_limit: self.value_limit,
            regex_limits: self.regex_limits,
        };
        match compile::compile(expr, opts) {
            Ok(code) => Ok(Program { code, source }),
            Err((kind, span)) => Err(Error::new(kind, span, source)),
        }
    }
}

/// A compiled SSLRequire expression.
///
/// Build it once (at start-up) with [`Program::new`] or
/// [`Program::compile`], share it between threads, and evaluate it per
/// request with [`Program::eval`] or, reusing scratch space,
/// [`Program::eval_with`]. `{:?}` prints the bytecode one op per line.
pub struct Program {
    pub(crate) code: Code,
    source: Arc<str>,
}

impl Program {
    /// Parses and compiles a 2.4 expression.
    ///
    /// # Errors
    /// A parse (E1xx) or compile (E2xx) error, with a caret diagnostic.
    pub fn new(src: &str) -> Result<Program, Error> {
        ProgramBuilder::new().build(src)
    }

    /// Compiles a parsed 2.4 expression; `src` is the text it was parsed
    /// from (for error messages).
    ///
    /// # Errors
    /// A compile error (E2xx).
    pub fn compile(expr: &Expr, src: &str) -> Result<Program, Error> {
        ProgramBuilder::new().compile(expr, src)
    }

    /// Options: dialect, limits.
    pub fn builder() -> ProgramBuilder {
        ProgramBuilder::new()
    }

    /// The expression this program was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The dialect it was compiled in.
    pub fn dialect(&self) -> Dialect {
        self.code.dialect
    }

    /// A process-unique id of this compiled program.
    pub fn id(&self) -> u64 {
        self.code.id
    }

    /// The variables the program reads, in order of first use (slot i is
    /// `vars()[i]`). An environment needs to provide only these.
    pub fn vars(&self) -> &[Var] {
        &self.code.vars
    }

    /// Whether the program reads any client or server certificate field
    /// (so an environment can skip parsing certificates when it does not).
    pub fn reads_certificates(&self) -> bool {
        self.code.reads_certificates()
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.code.ops.len()
    }

    /// Whether the program has no instructions (never: `true` is one op).
    pub fn is_empty(&self) -> bool {
        self.code.ops.is_empty()
    }

    /// One line per op: `0003  cmp.eq   %{SSL_CLIENT_S_DN_O}, "Snake Oil, Ltd."`.
    pub fn listing(&self) -> String {
        self.code.listing()
    }

    /// Matches the names of the variables a caller supplies (resolved as in
    /// [`VarMap::set`](crate::VarMap::set)) to this program's slots: once,
    /// at start-up; then per request [`Layout::bind`] the borrowed values
    /// and [`Slots::eval_with`] (no allocation, no hashing).
    ///
    /// ```
    /// use sslrequire::{Machine, Program};
    ///
    /// let program = Program::new(r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{REMOTE_ADDR} == "10.0.0.1""#)?;
    /// let layout = program.layout(&["REMOTE_ADDR", "SSL_CLIENT_VERIFY"])?;
    /// let mut machine = Machine::new();
    /// // Per request:
    /// let values = layout.bind(&program, &[b"10.0.0.1", b"SUCCESS"])?;
    /// assert!(values.eval_with(&mut machine)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A name Apache does not provide.
    pub fn layout<S: AsRef<str>>(&self, names: &[S]) -> Result<Layout, UnknownVariable> {
        let mut inputs = Vec::with_capacity(names.len());
        for name in names {
            let var = input_var(name.as_ref())?;
            inputs.push(self.vars().iter().position(|v| *v == var).map(|i| i as u32));
        }
        Ok(Layout::new(self.id(), inputs, self.vars().len()))
    }

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
        self.code
            .run(machine, &ByName(env), &mut Untraced)
            .map_err(|(kind, span)| self.error(kind, span))
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
        let spans = &self.code.spans;
        let result = self.code.run(
            machine,
            &ByName(env),
            &mut Tracer(|pc, values: &[&[u8]], result| {
                steps.push(Step {
                    index: pc,
                    span: spans[pc],
                    values: values.iter().map(|v| v.to_vec()).collect(),
                    result,
                })
            }),
        );
        Traced {
            result: result.map_err(|(kind, span)| self.error(kind, span)),
            steps,
        }
    }

    /// Every test of the program (comparisons, matches, `in`, operators),
    /// as (op index, span in the source), in program order.
    pub fn tests(&self) -> Vec<(usize, Span)> {
        self.code
            .ops
            .iter()
            .enumerate()
            .filter(|(_, op)| {
                !matches!(
                    op,
                    Op::Bool(_) | Op::Not | Op::JumpIfFalse(_) | Op::JumpIfTrue(_)
                )
            })
            .map(|(pc, _)| (pc, self.code.spans[pc]))
            .collect()
    }

    /// About how many bytes the program holds (for caches bounded by bytes).
    pub(crate) fn weight(&self) -> usize {
        self.source.len() + self.code.weight()
    }

    fn error(&self, kind: ErrorKind, span: Span) -> Error {
        Error::new(kind, span, Arc::clone(&self.source))
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Program ({}, {} ops) {}",
            self.code.dialect,
            self.code.ops.len(),
            self.source
        )?;
        f.write_str(&self.code.listing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn program_is_send_and_sync() {
        assert_send_sync::<Program>();
    }
}
