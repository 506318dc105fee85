//! [`Expr`] → [`Code`]: names resolved to slots, regexes compiled,
//! constant lists turned into sets, `&&`/`||` into jumps, constants folded.
//! [`Program`](crate::Program) wraps the result.

mod code;
mod emit;
mod fuse;

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::dialect::Dialect;
use crate::env::{cstr, resolve, Resolved, Var};
use crate::error::{ErrorKind, Span};
use crate::func::compare;
use crate::func::{self, BinaryOp, Func, UnaryOp};
use crate::pattern::{Regex, RegexLimits};
use crate::syntax::{Expr, ExprKind, List, StrPart, VarRef, Word, WordKind};
pub(crate) use code::*;
use emit::Node;
pub(crate) use fuse::{Inst, Kind};

/// What the compiler needs besides the tree (the rest of
/// `ProgramBuilder`'s options are the parser's).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    pub dialect: Dialect,
    pub value_limit: usize,
    pub regex_limits: RegexLimits,
}

/// Compiles `expr`: every name resolved and every regex compiled (dead
/// branches included, as Apache's parser does), then folded and laid out.
///
/// # Errors
/// The first compile error (E2xx), with its span.
pub(crate) fn compile(expr: &Expr, opts: Options) -> CResult<Code> {
    let mut c = Compiler::new(opts.dialect, opts.value_limit, opts.regex_limits);
    // mod_ssl 2.2 records a scanner error while reading the text, so it
    // poisons the expression even inside parts that folding removes.
    c.poison = first_bad_escape(expr).map(|(text, span)| {
        let message = match syntax_escape_error(&text) {
            ErrorKind::EscapeOutOfBound => "escape sequence out of bound",
            _ => "bad escape sequence",
        };
        (format!("{message} `{text}`"), span)
    });
    let node = c.expr(expr)?;
    let (ops, spans) = emit::layout(&node);
    let mut code = Code {
        insts: Box::new([]),
        ops: ops.into(),
        spans: spans.into(),
        consts: c.consts.into(),
        vars: c.vars.into(),
        regexes: c.regexes.into(),
        lists: c.lists.into(),
        words: c.words.into(),
        subnets: c.subnets.into(),
        reads_backrefs: c.reads_backrefs,
        poison: c.poison,
        dialect: opts.dialect,
        value_limit: opts.value_limit,
        regex_limits: opts.regex_limits,
        id: next_program_id(),
    };
    code.insts = fuse::fuse(&code.ops, &code);
    Ok(code)
}

type CResult<T> = Result<T, (ErrorKind, Span)>;

/// Below this much free stack the compiler continues on a new segment.
const STACK_RED_ZONE: usize = 128 << 10;
/// The size of such a segment.
const STACK_GROW: usize = 4 << 20;

/// A word after folding: known bytes, or code to compute them.
enum Folded {
    Const(Vec<u8>),
    Code { code: WordCode, fallible: bool },
}

impl Folded {
    fn fallible(&self) -> bool {
        matches!(self, Folded::Code { fallible: true, .. })
    }
}

struct Compiler {
    dialect: Dialect,
    value_limit: usize,
    regex_limits: RegexLimits,
    consts: Vec<Box<[u8]>>,
    const_ids: FxHashMap<Box<[u8]>, ConstId>,
    vars: Vec<Var>,
    var_slots: FxHashMap<Var, VarSlot>,
    regexes: Vec<Arc<Regex>>,
    lists: Vec<ListCode>,
    words: Vec<WordCode>,
    subnets: Vec<func::Subnet>,
    reads_backrefs: bool,
    poison: Option<(String, Span)>,
}

impl Compiler {
    fn new(dialect: Dialect, value_limit: usize, regex_limits: RegexLimits) -> Compiler {
        Compiler {
            dialect,
            value_limit,
            regex_limits,
            consts: Vec::new(),
            const_ids: FxHashMap::default(),
            vars: Vec::new(),
            var_slots: FxHashMap::default(),
            regexes: Vec::new(),
            lists: Vec::new(),
            words: Vec::new(),
            subnets: Vec::new(),
            reads_backrefs: false,
            poison: None,
        }
    }

    fn konst(&mut self, bytes: &[u8]) -> ConstId {
        if let Some(&id) = self.const_ids.get(bytes) {
            return id;
        }
        let id = ConstId(self.consts.len() as u32);
        self.consts.push(bytes.into());
        self.const_ids.insert(bytes.into(), id);
        id
    }

    fn slot(&mut self, var: Var) -> VarSlot {
        if let Some(&s) = self.var_slots.get(&var) {
            return s;
        }
        let s = VarSlot(self.vars.len() as u32);
        self.vars.push(var.clone());
        self.var_slots.insert(var, s);
        s
    }

    fn operand(&mut self, f: Folded) -> Operand {
        match f {
            Folded::Const(b) => Operand::Const(self.konst(&b)),
            Folded::Code {
                code: WordCode::Const(c),
                ..
            } => Operand::Const(c),
            Folded::Code {
                code: WordCode::Var(v),
                ..
            } => Operand::Var(v),
            Folded::Code {
                code: WordCode::Backref(n),
                ..
            } => Operand::Backref(n),
            Folded::Code { code, .. } => {
                let id = WordId(self.words.len() as u32);
                self.words.push(code);
                Operand::Word(id)
            }
        }
    }

    // ------------------------------------------------------------ booleans

    fn expr(&mut self, e: &Expr) -> CResult<Node> {
        // Nesting is bounded by the parser's limit, but each level costs a
        // few KiB of stack here: grow onto the heap when the caller's stack
        // runs low. See: tests/limits.rs the_deepest_allowed_nesting_evaluates
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) -> CResult<Node> {
        Ok(match &e.kind {
            ExprKind::Bool(b) => Node::Const(*b),
            ExprKind::Not(inner) => match self.expr(inner)? {
                Node::Const(b) => Node::Const(!b),
                Node::Not(n) => *n,
                n => Node::Not(Box::new(n)),
            },
            ExprKind::And(items) => self.chain(items, false)?,
            ExprKind::Or(items) => self.chain(items, true)?,
            ExprKind::Cmp { op, lhs, rhs } => {
                let (a, b) = (self.word(lhs)?, self.word(rhs)?);
                if let (Folded::Const(x), Folded::Const(y)) = (&a, &b) {
                    return Ok(Node::Const(compare(*op, x, y)));
                }
                let pure = !a.fallible() && !b.fallible();
                let op = match (self.operand(a), self.operand(b)) {
                    (Operand::Var(var), Operand::Const(k)) => Op::CmpVarConst { op: *op, var, k },
                    (a, b) => Op::Cmp { op: *op, a, b },
                };
                Node::Test {
                    op,
                    span: e.span,
                    pure,
                }
            }
            ExprKind::In { lhs, list } => self.in_list(lhs, list, e.span)?,
            ExprKind::Match {
                lhs,
                regex,
                negated,
            } => {
                let a = self.word(lhs)?;
                let re = Regex::shared(&regex.pattern, regex.icase, self.dialect).map_err(
                    |(message, at)| {
                        let start = (regex.span.start + at).min(regex.span.end);
                        (
                            ErrorKind::RegexInvalid { message },
                            Span::new(start, regex.span.end.max(start + 1)),
                        )
                    },
                )?;
                let captures = re.groups() > 0;
                if let (Folded::Const(s), false) = (&a, captures) {
                    // A limit hit is left to run time, where it is decided.
                    if let Ok(hit) = re.is_match(s, self.regex_limits.pcre()) {
                        return Ok(Node::Const(hit != *negated));
                    }
                }
                let pure = !a.fallible() && !captures;
                let id = RegexId(self.regexes.len() as u32);
                self.regexes.push(re);
                let op = Op::Match {
                    a: self.operand(a),
                    re: id,
                    negated: *negated,
                };
                Node::Test {
                    op,
                    span: e.span,
                    pure,
                }
            }
            ExprKind::Unary { op, arg } => {
                let a = self.word(arg)?;
                let constant = match &a {
                    Folded::Const(b) => Some(b.as_slice()),
                    _ => None,
                };
                let found = UnaryOp::lookup(&op.name, self.dialect, constant, &mut self.subnets)
                    .map_err(|k| (k, e.span))?;
                let Some(u) = found else {
                    let name = op.name.clone();
                    return Err((ErrorKind::UnaryOpUnknown { name }, op.span));
                };
                if matches!(u, UnaryOp::R(_)) {
                    // -R reads the client address: list it among the
                    // program's variables.
                    self.slot(Var::Core(crate::env::CoreVar::REMOTE_ADDR));
                }
                let pure = !a.fallible() && !u.can_fail();
                Node::Test {
                    op: Op::Unary {
                        op: u,
                        a: self.operand(a),
                    },
                    span: e.span,
                    pure,
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (x, y) = (self.word(lhs)?, self.word(rhs)?);
                let constant = match &y {
                    Folded::Const(b) => Some(b.as_slice()),
                    _ => None,
                };
                let found = BinaryOp::lookup(&op.name, self.dialect, constant, &mut self.subnets)
                    .map_err(|k| (k, rhs.span))?;
                let Some(b) = found else {
                    let name = op.name.clone();
                    return Err((ErrorKind::BinaryOpUnknown { name }, op.span));
                };
                let pure = !x.fallible() && !y.fallible();
                if let (Folded::Const(l), Folded::Const(r)) = (&x, &y) {
                    return Ok(Node::Const(b.eval(l, r, &self.subnets)));
                }
                let op = Op::Binary {
                    op: b,
                    a: self.operand(x),
                    b: self.operand(y),
                };
                Node::Test {
                    op,
                    span: e.span,
                    pure,
                }
            }
        })
    }

    /// `&&` (`is_or` false) or `||` chains, folded: a constant that does not
    /// decide the result is dropped; one that decides it ends the chain,
    /// and replaces the whole chain when everything before it is pure.
    fn chain(&mut self, items: &[Expr], is_or: bool) -> CResult<Node> {
        let mut out: Vec<Node> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match self.expr(item)? {
                Node::Const(b) if b != is_or => {} // `true &&`, `false ||`
                Node::Const(b) => {
                    // The rest never runs, but Apache's parser resolved
                    // every name and compiled every regex in it: a mistake
                    // there is refused all the same.
                    for rest in &items[i + 1..] {
                        self.check(rest)?;
                    }
                    if out.iter().all(Node::is_pure) {
                        return Ok(Node::Const(b));
                    }
                    out.push(Node::Const(b));
                    break;
                }
                n => out.push(n),
            }
        }
        Ok(match out.len() {
            0 => Node::Const(!is_or),
            1 => out.pop().expect("one node"),
            _ if is_or => Node::Or(out),
            _ => Node::And(out),
        })
    }

    /// Compiles `e` for its errors alone: nothing of it joins the program.
    fn check(&mut self, e: &Expr) -> CResult<()> {
        let mut scratch = Compiler::new(self.dialect, self.value_limit, self.regex_limits);
        scratch.expr(e).map(drop)
    }

    fn in_list(&mut self, lhs: &Word, list: &List, span: Span) -> CResult<Node> {
        let a = self.word(lhs)?;
        match list {
            List::Words(words) => {
                let items: Vec<Folded> =
                    words.iter().map(|w| self.word(w)).collect::<CResult<_>>()?;
                let fallible = a.fallible() || items.iter().any(Folded::fallible);
                if let Folded::Const(x) = &a {
                    if items.iter().all(|i| matches!(i, Folded::Const(_))) {
                        let hit = items
                            .iter()
                            .any(|i| matches!(i, Folded::Const(y) if y == x));
                        return Ok(Node::Const(hit));
                    }
                }
                let any_fallible = items.iter().any(Folded::fallible);
                let mut consts = Vec::new();
                let mut dynamic = Vec::new();
                let mut ordered = Vec::new();
                // Apache builds the list reversed and stops at the first
                // match: evaluate last to first.
                for item in items.into_iter().rev() {
                    match item {
                        Folded::Const(b) if !any_fallible => consts.push(b.into_boxed_slice()),
                        f if !any_fallible => dynamic.push(self.operand(f)),
                        f => ordered.push(self.operand(f)),
                    }
                }
                let id = ListId(self.lists.len() as u32);
                self.lists.push(ListCode {
                    set: ConstSet::new(consts),
                    dynamic: dynamic.into(),
                    ordered: any_fallible.then(|| ordered.into()),
                });
                let op = Op::In {
                    a: self.operand(a),
                    list: id,
                };
                Ok(Node::Test {
                    op,
                    span,
                    pure: !fallible,
                })
            }
            List::Func { name, arg } => {
                let known = match self.dialect {
                    Dialect::V24 => name.name.eq_ignore_ascii_case("PeerExtList"),
                    Dialect::V22 => name.name.eq_ignore_ascii_case("OID"),
                };
                if !known {
                    return Err((
                        ErrorKind::ListFuncUnknown {
                            name: name.name.clone(),
                        },
                        name.span,
                    ));
                }
                let arg = self.word(arg)?;
                let pure = !a.fallible() && !arg.fallible();
                let op = Op::InExt {
                    a: self.operand(a),
                    arg: self.operand(arg),
                };
                Ok(Node::Test { op, span, pure })
            }
        }
    }

    // --------------------------------------------------------------- words

    fn word(&mut self, w: &Word) -> CResult<Folded> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || self.word_inner(w))
    }

    fn word_inner(&mut self, w: &Word) -> CResult<Folded> {
        match &w.kind {
            WordKind::Digits(d) => Ok(Folded::Const(d.as_bytes().to_vec())),
            WordKind::Str(parts) => self.parts(parts, w.span),
            WordKind::Var(v) => self.var(v),
            WordKind::Backref(n) => {
                self.reads_backrefs = true;
                Ok(Folded::Code {
                    code: WordCode::Backref(*n),
                    fallible: false,
                })
            }
            WordKind::Concat(words) => {
                let parts: Vec<Folded> =
                    words.iter().map(|w| self.word(w)).collect::<CResult<_>>()?;
                self.concat(parts, w.span)
            }
            WordKind::Call { name, arg } => {
                let Some(func) = Func::lookup(&name.name, self.dialect) else {
                    return Err((
                        ErrorKind::FuncUnknown {
                            name: name.name.clone(),
                        },
                        name.span,
                    ));
                };
                let arg = self.word(arg)?;
                self.call(func, arg, w.span)
            }
        }
    }

    fn call(&mut self, func: Func, arg: Folded, span: Span) -> CResult<Folded> {
        match (func, arg) {
            (f, Folded::Const(a)) if f.is_pure() => {
                let mut value = f.apply_pure(&a);
                value.truncate(cstr(&value).len());
                self.bounded(value, span)
            }
            // A lookup with a constant name is a plain variable read.
            (Func::Lookup(t), Folded::Const(a)) => {
                let name = String::from_utf8_lossy(&a).into_owned();
                Ok(self.read(Var::Lookup(t, name.into())))
            }
            (Func::Ssl, Folded::Const(a)) => {
                let name = String::from_utf8_lossy(&a).into_owned();
                Ok(match func::ssl_lookup(&name) {
                    Resolved::Var(v) => self.read(v),
                    _ => Folded::Const(Vec::new()),
                })
            }
            (f, arg) => {
                let fallible = arg.fallible() || f.can_fail();
                let arg = match arg {
                    Folded::Const(b) => WordCode::Const(self.konst(&b)),
                    Folded::Code { code, .. } => code,
                };
                Ok(Folded::Code {
                    code: WordCode::Call {
                        func: f,
                        arg: Box::new(arg),
                        span,
                    },
                    fallible,
                })
            }
        }
    }

    /// `value`, unless it is over the value limit.
    fn bounded(&self, value: Vec<u8>, span: Span) -> CResult<Folded> {
        if value.len() > self.value_limit {
            let limit = self.value_limit;
            return Err((ErrorKind::ConstTooLarge { limit }, span));
        }
        Ok(Folded::Const(value))
    }

    fn read(&mut self, var: Var) -> Folded {
        Folded::Code {
            code: WordCode::Var(self.slot(var)),
            fallible: false,
        }
    }

    fn var(&mut self, v: &VarRef) -> CResult<Folded> {
        match v {
            VarRef::Name(n) => match resolve(&n.name, self.dialect) {
                Resolved::Var(var) => Ok(self.read(var)),
                Resolved::Empty => Ok(Folded::Const(Vec::new())),
                Resolved::Unknown => Err((
                    ErrorKind::VarUnknown {
                        name: n.name.clone(),
                    },
                    n.span,
                )),
            },
            VarRef::Func { name, arg } => {
                let Some(func) = Func::lookup(&name.name, self.dialect) else {
                    return Err((
                        ErrorKind::FuncUnknown {
                            name: name.name.clone(),
                        },
                        name.span,
                    ));
                };
                let arg = self.parts(arg, name.span)?;
                self.call(func, arg, name.span)
            }
        }
    }

    fn parts(&mut self, parts: &[StrPart], span: Span) -> CResult<Folded> {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            out.push(match p {
                StrPart::Lit(b) => Folded::Const(b.clone()),
                StrPart::Var(v) => self.var(v)?,
                StrPart::Backref(n) => {
                    self.reads_backrefs = true;
                    Folded::Code {
                        code: WordCode::Backref(*n),
                        fallible: false,
                    }
                }
                // Recorded as the program's poison before compiling.
                StrPart::BadEscape(_) => continue,
            });
        }
        self.concat(out, span)
    }

    /// Concatenation of C strings: each part ends at its first NUL.
    fn concat(&mut self, parts: Vec<Folded>, span: Span) -> CResult<Folded> {
        let mut codes: Vec<WordCode> = Vec::new();
        let mut lit: Option<Vec<u8>> = None;
        let mut fallible = false;
        for p in parts {
            match p {
                Folded::Const(b) => {
                    let l = lit.get_or_insert_with(Vec::new);
                    l.extend_from_slice(cstr(&b));
                    if l.len() > self.value_limit {
                        let limit = self.value_limit;
                        return Err((ErrorKind::ConstTooLarge { limit }, span));
                    }
                }
                Folded::Code { code, fallible: f } => {
                    fallible |= f;
                    if let Some(l) = lit.take() {
                        codes.push(WordCode::Const(self.konst(&l)));
                    }
                    match code {
                        WordCode::Concat(inner) => codes.extend(inner.into_vec()),
                        c => codes.push(c),
                    }
                }
            }
        }
        if codes.is_empty() {
            return Ok(Folded::Const(lit.unwrap_or_default()));
        }
        if let Some(l) = lit.filter(|l| !l.is_empty()) {
            codes.push(WordCode::Const(self.konst(&l)));
        }
        codes
            .retain(|c| !matches!(c, WordCode::Const(id) if self.consts[id.0 as usize].is_empty()));
        let code = if codes.len() == 1 {
            codes.pop().expect("one part")
        } else {
            WordCode::Concat(codes.into())
        };
        Ok(Folded::Code { code, fallible })
    }
}

/// The first 2.2 soft scanner error in the tree, with the span of the
/// string that holds it.
fn first_bad_escape(e: &Expr) -> Option<(String, Span)> {
    fn parts(p: &[StrPart], span: Span) -> Option<(String, Span)> {
        p.iter().find_map(|p| match p {
            StrPart::BadEscape(t) => Some((t.clone(), span)),
            _ => None,
        })
    }
    fn word(w: &Word) -> Option<(String, Span)> {
        match &w.kind {
            WordKind::Str(p) => parts(p, w.span),
            WordKind::Concat(ws) => ws.iter().find_map(word),
            WordKind::Call { arg, .. } => word(arg),
            _ => None,
        }
    }
    match &e.kind {
        ExprKind::Bool(_) => None,
        ExprKind::Not(i) => first_bad_escape(i),
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().find_map(first_bad_escape),
        ExprKind::Cmp { lhs, rhs, .. } | ExprKind::Binary { lhs, rhs, .. } => {
            word(lhs).or_else(|| word(rhs))
        }
        ExprKind::In { lhs, list } => word(lhs).or_else(|| match list {
            List::Words(ws) => ws.iter().find_map(word),
            List::Func { arg, .. } => word(arg),
        }),
        ExprKind::Match { lhs, .. } => word(lhs),
        ExprKind::Unary { arg, .. } => word(arg),
    }
}

fn syntax_escape_error(text: &str) -> ErrorKind {
    match crate::syntax::decode_escape(text) {
        Err(k) => k,
        Ok(_) => ErrorKind::EscapeBad,
    }
}

/// A process-unique id for each compiled program (so a
/// [`Slots`](crate::Slots) environment knows which program's slots it
/// holds).
fn next_program_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Program;

    fn listing(src: &str) -> String {
        Program::new(src).unwrap().listing()
    }

    #[test]
    fn folding() {
        assert_eq!(listing("\"a\" == \"a\" && !false"), "0000  true\n");
        assert_eq!(listing("1.5 == \"15\""), "0000  true\n");
        assert_eq!(listing("tolower(\"ABC\") == \"abc\""), "0000  true\n");
        assert_eq!(listing("%{SSL_BOGUS} == \"\""), "0000  true\n");
        // `true &&` disappears; a deciding constant after an impure test
        // keeps the test (its error must still surface).
        assert_eq!(
            listing("true && %{HTTPS} == \"on\""),
            "0000  cmp.eq   %{HTTPS}, \"on\"\n"
        );
        let l = listing("file(\"/x\") == \"a\" && false");
        assert!(l.contains("file(") && l.ends_with("false\n"), "{l}");
        assert_eq!(listing("%{HTTPS} == \"on\" && false"), "0000  false\n");
    }

    #[test]
    fn jumps_short_circuit() {
        let l = listing("%{HTTPS} == \"on\" && %{REMOTE_ADDR} == \"x\" || %{REMOTE_USER} == \"y\"");
        assert_eq!(
            l,
            "0000  cmp.eq   %{HTTPS}, \"on\"\n\
             0001  jump.if.false 0003\n\
             0002  cmp.eq   %{REMOTE_ADDR}, \"x\"\n\
             0003  jump.if.true  0005\n\
             0004  cmp.eq   %{REMOTE_USER}, \"y\"\n"
        );
    }

    #[test]
    fn compile_errors_have_spans() {
        let e = Program::new("%{NO_SUCH_VAR} == \"\"").unwrap_err();
        assert_eq!((e.code(), e.span()), ("E200", Span::new(2, 13)));
        let e = Program::new("nosuch(\"x\") == \"\"").unwrap_err();
        assert_eq!((e.code(), e.span()), ("E201", Span::new(0, 6)));
        let e = Program::new("\"x\" in OID(\"1.2\")").unwrap_err();
        assert_eq!(e.code(), "E202");
        let e = Program::new("-q \"x\"").unwrap_err();
        assert_eq!((e.code(), e.span()), ("E203", Span::new(0, 2)));
        let e = Program::new("%{X} =~ m/[/").unwrap_err();
        assert_eq!(e.code(), "E200");
        let e = Program::new("%{HTTPS} =~ m/a[/").unwrap_err();
        assert_eq!((e.code(), e.span().start), ("E205", 16));
    }

    #[test]
    fn lists_become_sets() {
        let l = listing("%{REMOTE_USER} in {\"a\", \"b\", %{HTTPS}}");
        assert!(l.contains("(2 constant, 1 computed)"), "{l}");
        let l = listing("%{REMOTE_USER} in {\"a\", file(\"/x\")}");
        assert!(l.contains("in Apache's order"), "{l}");
    }

    #[test]
    fn program_lists_the_variables_it_reads() {
        let p = Program::new("%{SSL_CLIENT_S_DN_CN} == %{ssl_client_S_DN_CN} || %{HTTPS} == \"\"")
            .unwrap();
        let names: Vec<String> = p.vars().iter().map(|v| v.to_string()).collect();
        assert_eq!(names, ["SSL_CLIENT_S_DN_CN", "HTTPS"]);
        assert!(p.reads_certificates());
    }
}
