//! The abstract syntax tree. Every node has a byte [`Span`]; equality ignores
//! spans (two trees are equal when they have the same structure), so a tree
//! printed with `Display` and parsed again compares equal to the original.

use std::fmt::{self, Write as _};

use crate::error::Span;

/// A boolean expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// The forms of a boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `true` / `false`.
    Bool(bool),
    /// `!e`, `not e`.
    Not(Box<Expr>),
    /// `a && b && …`, `a and b and …` (two operands or more, left to right).
    And(Vec<Expr>),
    /// `a || b || …`, `a or b or …` (two operands or more, left to right).
    Or(Vec<Expr>),
    /// `w == w`, `w lt w`, `w -ge w` …
    Cmp {
        /// The comparison.
        op: CmpOp,
        /// Left operand.
        lhs: Word,
        /// Right operand.
        rhs: Word,
    },
    /// `w in { w, … }`, `w in PeerExtList(w)`, 2.2 `w in OID(w)`.
    In {
        /// The needle.
        lhs: Word,
        /// The haystack.
        list: List,
    },
    /// `w =~ m/re/` (`negated: false`) and `w !~ m/re/` (`negated: true`).
    Match {
        /// The subject.
        lhs: Word,
        /// The pattern.
        regex: Regex,
        /// `!~`.
        negated: bool,
    },
    /// `-n w`, `-f w` … (2.4).
    Unary {
        /// The operator name without the dash.
        op: Name,
        /// The operand.
        arg: Word,
    },
    /// `w -ipmatch w`, `w -strmatch w` … (2.4).
    Binary {
        /// The operator name without the dash.
        op: Name,
        /// Left operand.
        lhs: Word,
        /// Right operand.
        rhs: Word,
    },
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

/// A comparison operator. All spellings of one operator mean the same in
/// SSLRequire (`==` `=` `eq` `-eq`), so the tree keeps only which one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `==` `=` `eq` `-eq`
    Eq,
    /// `!=` `ne` `-ne`
    Ne,
    /// `<` `lt` `-lt`
    Lt,
    /// `<=` `le` `-le`
    Le,
    /// `>` `gt` `-gt`
    Gt,
    /// `>=` `ge` `-ge`
    Ge,
}

impl CmpOp {
    /// The same comparison with its operands swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            o => o,
        }
    }

    /// The symbolic spelling, valid in both dialects.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A name as written, with its span (functions, operators).
#[derive(Clone, Debug)]
pub struct Name {
    /// The text.
    pub name: String,
    /// Where.
    pub span: Span,
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.name == other.name
    }
}

/// The right-hand side of `in`.
#[derive(Clone, Debug, PartialEq)]
pub enum List {
    /// `{ w, w, … }` (one word at least).
    Words(Vec<Word>),
    /// `PeerExtList(w)` in 2.4, `OID(w)` in 2.2.
    Func {
        /// The list function.
        name: Name,
        /// Its argument.
        arg: Box<Word>,
    },
}

/// A regex literal: `m/…/`, `/…/`, `m#…#i` …
#[derive(Clone, Debug)]
pub struct Regex {
    /// The pattern text between the delimiters.
    pub pattern: String,
    /// The `i` flag.
    pub icase: bool,
    /// The delimiter it was written with (printing keeps it when it can).
    pub delim: char,
    /// Where the pattern text is.
    pub span: Span,
}

impl PartialEq for Regex {
    fn eq(&self, other: &Regex) -> bool {
        self.pattern == other.pattern && self.icase == other.icase
    }
}

/// A word: something that evaluates to a byte string.
#[derive(Clone, Debug)]
pub struct Word {
    /// What it is.
    pub kind: WordKind,
    /// Where it is.
    pub span: Span,
}

impl PartialEq for Word {
    fn eq(&self, other: &Word) -> bool {
        self.kind == other.kind
    }
}

impl Word {
    /// The word's value when it is the same for every request: digits, a
    /// string without variables or functions (cut at its first NUL, as
    /// Apache's C strings are), or a concatenation of such words.
    pub fn constant(&self) -> Option<Vec<u8>> {
        match &self.kind {
            WordKind::Digits(d) => Some(d.as_bytes().to_vec()),
            WordKind::Str(parts) => {
                let mut out = Vec::new();
                for p in parts {
                    match p {
                        StrPart::Lit(b) => out.extend_from_slice(b),
                        _ => return None,
                    }
                }
                if let Some(nul) = out.iter().position(|&b| b == 0) {
                    out.truncate(nul);
                }
                Some(out)
            }
            WordKind::Concat(words) => {
                let mut out = Vec::new();
                for w in words {
                    out.extend(w.constant()?);
                }
                Some(out)
            }
            _ => None,
        }
    }
}

/// The forms of a word.
#[derive(Clone, Debug, PartialEq)]
pub enum WordKind {
    /// `42`, `-1` (its text; never a number: `007` stays `007`).
    Digits(String),
    /// `"…"` or `'…'` (decoded; 2.4 strings may interpolate).
    Str(Vec<StrPart>),
    /// `%{NAME}`, `%{func:arg}`.
    Var(VarRef),
    /// `$0` … `$9` (2.4).
    Backref(u8),
    /// `w . w . …` (2.4; two parts or more).
    Concat(Vec<Word>),
    /// `name(w)`; in 2.2 only `file("…")`.
    Call {
        /// The function.
        name: Name,
        /// Its argument.
        arg: Box<Word>,
    },
}

/// A piece of a string literal or of a `%{func:arg}` argument.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal bytes (escapes decoded).
    Lit(Vec<u8>),
    /// `%{…}` inside a 2.4 string.
    Var(VarRef),
    /// `$N` inside a 2.4 string.
    Backref(u8),
    /// A 2.2 scanner error kept as written (`\777`): mod_ssl 2.2 accepts the
    /// expression and fails every evaluation ([`ErrorKind::Poisoned`]).
    ///
    /// [`ErrorKind::Poisoned`]: crate::ErrorKind::Poisoned
    BadEscape(String),
}

/// A variable reference.
#[derive(Clone, Debug)]
pub enum VarRef {
    /// `%{NAME}`.
    Name(Name),
    /// `%{func:arg}` (2.4).
    Func {
        /// The function.
        name: Name,
        /// Its argument (a string body).
        arg: Vec<StrPart>,
    },
}

impl PartialEq for VarRef {
    fn eq(&self, other: &VarRef) -> bool {
        match (self, other) {
            (VarRef::Name(a), VarRef::Name(b)) => a == b,
            (VarRef::Func { name: a, arg: x }, VarRef::Func { name: b, arg: y }) => {
                a == b && x == y
            }
            _ => false,
        }
    }
}

// ------------------------------------------------------------------ printing
//
// The printer writes the canonical spelling (`&&`, `||`, `!`, `==`, `"…"`),
// parenthesises only where precedence needs it, and escapes string bytes so
// the text reads back to the same bytes in either dialect.

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self, false, f.alternate())
    }
}

/// Writes `e`, in parentheses when `paren`. `full` (the `{:#}` form)
/// parenthesises every compound operand so precedence is visible.
fn write_expr(f: &mut fmt::Formatter<'_>, e: &Expr, paren: bool, full: bool) -> fmt::Result {
    if paren {
        f.write_char('(')?;
    }
    match &e.kind {
        ExprKind::Bool(b) => f.write_str(if *b { "true" } else { "false" })?,
        ExprKind::Not(inner) => {
            f.write_char('!')?;
            let wrap = match inner.kind {
                ExprKind::And(_) | ExprKind::Or(_) => true,
                ExprKind::Bool(_) | ExprKind::Not(_) => false,
                _ => full,
            };
            write_expr(f, inner, wrap, full)?;
        }
        ExprKind::And(items) | ExprKind::Or(items) => {
            let is_and = matches!(e.kind, ExprKind::And(_));
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(if is_and { " && " } else { " || " })?;
                }
                // A child of the same kind keeps its parentheses (or it would
                // read back flattened); `||` under `&&` needs them for
                // precedence; `&&` under `||` gets them only when `full`.
                let wrap = match item.kind {
                    ExprKind::Or(_) => true,
                    ExprKind::And(_) => is_and || full,
                    _ => false,
                };
                write_expr(f, item, wrap, full)?;
            }
        }
        ExprKind::Cmp { op, lhs, rhs } => write!(f, "{lhs} {} {rhs}", op.as_str())?,
        ExprKind::In { lhs, list } => {
            write!(f, "{lhs} in ")?;
            match list {
                List::Words(words) => {
                    f.write_char('{')?;
                    for (i, w) in words.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{w}")?;
                    }
                    f.write_char('}')?;
                }
                List::Func { name, arg } => write!(f, "{}({arg})", name.name)?,
            }
        }
        ExprKind::Match {
            lhs,
            regex,
            negated,
        } => write!(f, "{lhs} {} {regex}", if *negated { "!~" } else { "=~" })?,
        ExprKind::Unary { op, arg } => write!(f, "-{} {arg}", op.name)?,
        ExprKind::Binary { op, lhs, rhs } => write!(f, "{lhs} -{} {rhs}", op.name)?,
    }
    if paren {
        f.write_char(')')?;
    }
    Ok(())
}

/// Delimiters valid in both dialects, in order of preference (`_` is left
/// out: `m_x_` reads as a name in 2.4).
const DELIMS: &[char] = &[
    '/', '#', '|', '!', ',', ';', ':', '%', '^', '?', '-', '.', '$', '\'', '"',
];

impl fmt::Display for Regex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let delim = if DELIMS.contains(&self.delim) && !self.pattern.contains(self.delim) {
            Some(self.delim)
        } else {
            DELIMS.iter().copied().find(|d| !self.pattern.contains(*d))
        };
        match delim {
            Some(d) => write!(f, "m{d}{}{d}", self.pattern)?,
            // Every delimiter occurs in the pattern: spell `/` as a PCRE hex
            // escape, which matches the same byte.
            None => write!(f, "m/{}/", self.pattern.replace('/', "\\x2F"))?,
        }
        if self.icase {
            f.write_char('i')?;
        }
        Ok(())
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WordKind::Digits(d) => f.write_str(d),
            WordKind::Str(parts) => {
                f.write_char('"')?;
                write_parts(f, parts, b'"')?;
                f.write_char('"')
            }
            WordKind::Var(v) => write!(f, "{v}"),
            WordKind::Backref(n) => write!(f, "${n}"),
            WordKind::Concat(words) => {
                for (i, w) in words.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" . ")?;
                    }
                    write!(f, "{w}")?;
                }
                Ok(())
            }
            WordKind::Call { name, arg } => write!(f, "{}({arg})", name.name),
        }
    }
}

impl fmt::Display for VarRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarRef::Name(n) => write!(f, "%{{{}}}", n.name),
            VarRef::Func { name, arg } => {
                write!(f, "%{{{}:", name.name)?;
                write_parts(f, arg, b'}')?;
                f.write_char('}')
            }
        }
    }
}

/// Writes string pieces so that they read back to the same bytes: printable
/// ASCII as is, except the characters the scanner treats specially, which
/// get a backslash; everything else as a 3-digit octal escape (and a digit
/// right after an octal escape is escaped too, so it is not read as part of
/// it).
fn write_parts(f: &mut fmt::Formatter<'_>, parts: &[StrPart], close: u8) -> fmt::Result {
    let mut after_octal = false;
    for part in parts {
        match part {
            StrPart::Lit(bytes) => {
                for (i, &b) in bytes.iter().enumerate() {
                    let next = bytes.get(i + 1).copied();
                    let special = b == b'"'
                        || b == b'\''
                        || b == b'\\'
                        || b == close
                        || (b == b'%' && next == Some(b'{'))
                        || (b == b'$' && next.is_some_and(|n| n.is_ascii_digit()));
                    if (b.is_ascii_digit() && after_octal) || !(0x20..0x7f).contains(&b) {
                        write!(f, "\\{b:03o}")?;
                        after_octal = true;
                        continue;
                    }
                    if special {
                        f.write_char('\\')?;
                    }
                    f.write_char(b as char)?;
                    after_octal = false;
                }
            }
            StrPart::Var(v) => {
                write!(f, "{v}")?;
                after_octal = false;
            }
            StrPart::Backref(n) => {
                write!(f, "${n}")?;
                after_octal = false;
            }
            StrPart::BadEscape(text) => {
                f.write_str(text)?;
                // It may end in digits (`\8`): a digit right after must not
                // join it. See: tests/fuzz-cases/parse/print-22-digit-after-bad-escape
                after_octal = true;
            }
        }
    }
    Ok(())
}

impl Expr {
    /// The expression fully parenthesised, so precedence is visible:
    /// `a || b && !c` prints as `a || (b && (!c))`.
    pub fn to_parenthesized(&self) -> String {
        format!("{self:#}")
    }
}
