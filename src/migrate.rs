//! `SSLRequire` → `Require expr`, verdict for verdict.
//!
//! Apache 2.4 parses both with ap_expr, but SSLRequire sets
//! `AP_EXPR_FLAG_SSL_EXPR_COMPAT`, which changes only comparisons
//! (server/util_expr_eval.c, `ssl_expr_eval_comp`): there every spelling
//! (`==` `eq` `-eq`, `<` `lt` `-lt` …) is mod_ssl's length-first
//! `strcmplex`. In `Require expr`, `eq ne lt le gt ge` and the dashed forms
//! compare integers (`apr_atoi64`) and `== != < <= > >=` compare with
//! `strcmp`. So [`migrate`] writes:
//!
//! * equality as `==` / `!=` (byte equality in both);
//! * an ordering against a constant as a regex that matches exactly the
//!   values `strcmplex` orders that way (length first, then bytes as
//!   signed chars), e.g. `%{TIME_HOUR} >= 8` becomes
//!   `%{TIME_HOUR} !~ m#\A(?s:)\z#`… — ugly, and faithful; the lints say
//!   what was probably meant (`-ge 8`);
//! * an ordering of two constants as `true` / `false`;
//! * everything else (`in`, regexes, `-n`, functions, `PeerExtList`) as is;
//!   2.2's `OID()` as `PeerExtList()`, its unknown names as `""`, its
//!   regexes with 2.2's PCRE options spelled inline.
//!
//! An ordering between two non-constant words cannot be written in
//! `Require expr` (there is no length function): that is an error that says
//! so. [`migrate_config`] rewrites the `SSLRequire` lines of an Apache
//! configuration file.

use std::fmt::Write as _;

use crate::dialect::Dialect;
use crate::env::{resolve, Resolved, Var};
use crate::error::Error;
use crate::error::Span;
use crate::lint::{lint, Lint};
use crate::syntax::ast::{CmpOp, Expr, ExprKind, List, Regex, StrPart, VarRef, Word, WordKind};
use crate::syntax::ParserBuilder;

/// An expression that cannot be migrated.
#[derive(Clone, Debug)]
pub enum MigrateError {
    /// It is not an SSLRequire expression of the dialect.
    Parse(Error),
    /// It has no `Require expr` equivalent (or none this tool writes).
    Unsupported {
        /// What.
        span: Span,
        /// Why, and what to do.
        message: String,
    },
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrateError::Parse(e) => write!(f, "{e}"),
            MigrateError::Unsupported { span, message } => {
                write!(
                    f,
                    "cannot migrate (at {}..{}): {message}",
                    span.start, span.end
                )
            }
        }
    }
}

impl std::error::Error for MigrateError {}

/// A migrated expression.
#[derive(Clone, Debug)]
pub struct Migration {
    /// The `Require expr` expression (without `Require expr`).
    pub expr: String,
    /// What the original probably did not mean (same verdicts after
    /// migration: the fixes are for the author to decide).
    pub lints: Vec<Lint>,
}

/// Parses `src` (an SSLRequire expression of `dialect`) and writes the
/// `Require expr` expression with the same verdict for every request.
///
/// # Errors
/// A parse error, or a construct with no `Require expr` equivalent.
pub fn migrate(src: &str, dialect: Dialect) -> Result<Migration, MigrateError> {
    let expr = ParserBuilder::new()
        .dialect(dialect)
        .build()
        .parse(src)
        .map_err(MigrateError::Parse)?;
    // Refuse what Apache refuses too (2.4: unknown names …); E206 is a
    // construct Apache accepts and this engine does not evaluate (-U, -A):
    // it migrates unchanged.
    match crate::program::ProgramBuilder::new()
        .dialect(dialect)
        .compile(&expr, src)
    {
        Err(e) if e.code() != "E206" => return Err(MigrateError::Parse(e)),
        _ => {}
    }
    let mut out = String::new();
    Writer { dialect }.expr(&expr, &mut out)?;
    // mod_authz_core strips one pair of quotes around a whole
    // `Require expr` argument: keep them with parentheses.
    if out.len() >= 2 && out.starts_with('"') && out.ends_with('"') {
        out = format!("({out})");
    }
    Ok(Migration {
        expr: out,
        lints: lint(&expr, src, dialect),
    })
}

struct Writer {
    dialect: Dialect,
}

fn unsupported(span: Span, message: impl Into<String>) -> MigrateError {
    MigrateError::Unsupported {
        span,
        message: message.into(),
    }
}

impl Writer {
    fn expr(&self, e: &Expr, out: &mut String) -> Result<(), MigrateError> {
        match &e.kind {
            ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            ExprKind::Not(inner) => {
                out.push_str("!(");
                self.expr(inner, out)?;
                out.push(')');
            }
            ExprKind::And(items) | ExprKind::Or(items) => {
                let sep = if matches!(e.kind, ExprKind::And(_)) {
                    " && "
                } else {
                    " || "
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep);
                    }
                    let wrap = matches!(item.kind, ExprKind::And(_) | ExprKind::Or(_));
                    if wrap {
                        out.push('(');
                    }
                    self.expr(item, out)?;
                    if wrap {
                        out.push(')');
                    }
                }
            }
            ExprKind::Cmp { op, lhs, rhs } => self.cmp(e.span, *op, lhs, rhs, out)?,
            ExprKind::In { lhs, list } => {
                self.word(lhs, out)?;
                out.push_str(" in ");
                match list {
                    List::Words(words) => {
                        out.push('{');
                        for (i, w) in words.iter().enumerate() {
                            if i > 0 {
                                out.push_str(", ");
                            }
                            self.word(w, out)?;
                        }
                        out.push('}');
                    }
                    List::Func { name, arg } => {
                        let name = if name.name.eq_ignore_ascii_case("OID") {
                            "PeerExtList"
                        } else {
                            name.name.as_str()
                        };
                        out.push_str(name);
                        out.push('(');
                        self.word(arg, out)?;
                        out.push(')');
                    }
                }
            }
            ExprKind::Match {
                lhs,
                regex,
                negated,
            } => {
                self.word(lhs, out)?;
                out.push_str(if *negated { " !~ " } else { " =~ " });
                let r = match self.dialect {
                    Dialect::V24 => regex.clone(),
                    Dialect::V22 => Regex {
                        pattern: regex_22_to_24(&regex.pattern),
                        ..regex.clone()
                    },
                };
                let _ = write!(out, "{r}");
            }
            ExprKind::Unary { op, arg } => {
                let _ = write!(out, "-{} ", op.name);
                self.word(arg, out)?;
            }
            ExprKind::Binary { op, lhs, rhs } => {
                self.word(lhs, out)?;
                let _ = write!(out, " -{} ", op.name);
                self.word(rhs, out)?;
            }
        }
        Ok(())
    }

    fn cmp(
        &self,
        span: Span,
        op: CmpOp,
        lhs: &Word,
        rhs: &Word,
        out: &mut String,
    ) -> Result<(), MigrateError> {
        match op {
            CmpOp::Eq | CmpOp::Ne => {
                self.word(lhs, out)?;
                out.push_str(if op == CmpOp::Eq { " == " } else { " != " });
                return self.word(rhs, out);
            }
            _ => {}
        }
        let (cl, cr) = (constant(lhs), constant(rhs));
        let (w, c, op) = match (cl, cr) {
            (Some(a), Some(b)) => {
                out.push_str(if crate::func::compare(op, &a, &b) {
                    "true"
                } else {
                    "false"
                });
                return Ok(());
            }
            (None, Some(c)) => (lhs, c, op),
            (Some(c), None) => (rhs, c, flip(op)),
            (None, None) => {
                return Err(unsupported(
                    span,
                    "an ordering comparison (<, lt, -lt …) of two non-constant words: SSLRequire compares them length-first, and Require expr has no way to compare lengths; rewrite it with a constant on one side",
                ))
            }
        };
        // A variable that is always a canonical decimal integer (or
        // always the same width, as TIME_*) against a literal of that
        // shape: length-first order is the numeric one, so the readable
        // integer comparison says the same.
        if let Some(cmp) = integer_form(w, &c, op) {
            self.word(w, out)?;
            out.push_str(cmp);
            out.push_str(&String::from_utf8_lossy(&c));
            return Ok(());
        }
        // w op c, length-first: w < c ⟺ w =~ LT(c); w >= c ⟺ w !~ LT(c).
        let (pattern, negated) = match op {
            CmpOp::Lt => (order_regex(&c, false), false),
            CmpOp::Le => (order_regex(&c, true), false),
            CmpOp::Gt => (order_regex(&c, true), true),
            CmpOp::Ge => (order_regex(&c, false), true),
            CmpOp::Eq | CmpOp::Ne => unreachable!("handled above"),
        };
        self.word(w, out)?;
        out.push_str(if negated { " !~ " } else { " =~ " });
        let _ = write!(out, "m#{pattern}#");
        Ok(())
    }

    fn word(&self, w: &Word, out: &mut String) -> Result<(), MigrateError> {
        if self.dialect == Dialect::V24 {
            let _ = write!(out, "{w}");
            return Ok(());
        }
        match &w.kind {
            WordKind::Var(VarRef::Name(n)) => match resolve(&n.name, Dialect::V22) {
                Resolved::Var(v) => {
                    let name = v.to_string();
                    let same = match resolve(&name, Dialect::V24) {
                        Resolved::Var(x) => x == v,
                        _ => false,
                    };
                    match &v {
                        Var::Lookup(..) => {
                            let _ = write!(out, "%{{{name}}}");
                        }
                        _ if same => {
                            let _ = write!(out, "%{{{name}}}");
                        }
                        _ => {
                            return Err(unsupported(
                                n.span,
                                format!("%{{{}}} has no Apache 2.4 equivalent", n.name),
                            ))
                        }
                    }
                }
                // 2.2 reads every unknown name as "".
                _ => out.push_str("\"\""),
            },
            WordKind::Str(parts) => {
                if parts.iter().any(|p| matches!(p, StrPart::BadEscape(_))) {
                    return Err(unsupported(
                        w.span,
                        "a 2.2 string with a bad escape: mod_ssl 2.2 fails every evaluation of this expression; fix the escape first",
                    ));
                }
                let _ = write!(out, "{w}");
            }
            WordKind::Concat(ws) => {
                for (i, x) in ws.iter().enumerate() {
                    if i > 0 {
                        out.push_str(" . ");
                    }
                    self.word(x, out)?;
                }
            }
            WordKind::Call { name, arg } => {
                out.push_str(&name.name);
                out.push('(');
                self.word(arg, out)?;
                out.push(')');
            }
            _ => {
                let _ = write!(out, "{w}");
            }
        }
        Ok(())
    }
}

/// ` -ge ` … when `w op c` (length-first) is the integer comparison for
/// every value `w` can take: `w` is `%{NAME}` of a variable that is always
/// a canonical decimal integer or `""` (key sizes, certificate version) and
/// `c` a canonical integer ≥ 1 (`""` reads as 0 in `Require expr`, and is
/// shorter than any such `c`), or a TIME_* variable (never empty, always
/// the same width) and `c` all digits of that width.
fn integer_form(w: &Word, c: &[u8], op: CmpOp) -> Option<&'static str> {
    use crate::env::{CertVar, SessionVar, TimeVar};
    let WordKind::Var(VarRef::Name(n)) = &w.kind else {
        return None;
    };
    let Resolved::Var(v) = resolve(&n.name, Dialect::V24) else {
        return None;
    };
    let digits = !c.is_empty() && c.len() <= 18 && c.iter().all(u8::is_ascii_digit);
    if !digits {
        return None;
    }
    let fits = match &v {
        Var::Session(SessionVar::CipherUseKeySize | SessionVar::CipherAlgKeySize)
        | Var::Cert(_, CertVar::MVersion) => c[0] != b'0',
        Var::Core(core) => match core.as_time()? {
            TimeVar::Year => c.len() == 4,
            TimeVar::Wday => c.len() == 1,
            TimeVar::Time => c.len() == 14,
            _ => c.len() == 2,
        },
        _ => false,
    };
    fits.then_some(match op {
        CmpOp::Lt => " -lt ",
        CmpOp::Le => " -le ",
        CmpOp::Gt => " -gt ",
        CmpOp::Ge => " -ge ",
        CmpOp::Eq | CmpOp::Ne => return None,
    })
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        o => o,
    }
}

/// A word's value when it is the same for every request.
fn constant(w: &Word) -> Option<Vec<u8>> {
    match &w.kind {
        WordKind::Digits(d) => Some(d.as_bytes().to_vec()),
        WordKind::Str(parts) => {
            let mut out = Vec::new();
            for p in parts {
                match p {
                    StrPart::Lit(b) => out.extend_from_slice(b),
                    _ => return None,
                }
            }
            // A C string ends at its first NUL.
            if let Some(nul) = out.iter().position(|&b| b == 0) {
                out.truncate(nul);
            }
            Some(out)
        }
        _ => None,
    }
}

/// A PCRE pattern (for `m#…#`, dot-all whatever the defaults) matching the
/// strings `s` with `strcmplex(s, c) < 0` (`or_equal`: `<= 0`): shorter
/// than `c`, or as long and smaller at the first differing byte, bytes
/// compared as signed chars.
pub fn order_regex(c: &[u8], or_equal: bool) -> String {
    let n = c.len();
    let mut alts: Vec<String> = Vec::new();
    if n > 0 {
        alts.push(if n == 1 {
            String::new()
        } else {
            format!(".{{0,{}}}", n - 1)
        });
    }
    for i in 0..n {
        let class = signed_less_class(c[i]);
        if class.is_empty() {
            continue;
        }
        let rest = n - i - 1;
        let mut alt = escape_bytes(&c[..i]);
        alt.push_str(&class);
        match rest {
            0 => {}
            1 => alt.push('.'),
            _ => {
                let _ = write!(alt, ".{{{rest}}}");
            }
        }
        alts.push(alt);
    }
    if or_equal {
        alts.push(escape_bytes(c));
    }
    if alts.is_empty() {
        // Nothing orders below "": a pattern that never matches.
        return "(?!)".to_string();
    }
    format!("\\A(?s:{})\\z", alts.join("|"))
}

/// `[…]` of the bytes 1–255 below `b` as signed chars ("" when none).
fn signed_less_class(b: u8) -> String {
    let mut ranges: Vec<(u8, u8)> = Vec::new();
    if b < 0x80 {
        // Every byte ≥ 0x80 is negative, so smaller.
        if b > 1 {
            ranges.push((1, b - 1));
        }
        ranges.push((0x80, 0xff));
    } else if b > 0x80 {
        ranges.push((0x80, b - 1));
    }
    if ranges.is_empty() {
        return String::new();
    }
    let mut s = String::from("[");
    for (lo, hi) in ranges {
        if lo == hi {
            let _ = write!(s, "\\x{lo:02x}");
        } else {
            let _ = write!(s, "\\x{lo:02x}-\\x{hi:02x}");
        }
    }
    s.push(']');
    s
}

/// Literal bytes for a pattern: letters and digits as is, everything else
/// as `\xHH` (so no delimiter or metacharacter appears).
fn escape_bytes(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    s
}

/// A 2.2 pattern (PCRE without DOTALL, `$` also before a final newline)
/// for 2.4's options (DOTALL, DOLLAR_ENDONLY): `(?-s)` in front and every
/// `$` anchor written as `(?=\n?\z)`.
pub fn regex_22_to_24(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::from("(?-s)");
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                out.push('\\');
                if let Some(&n) = b.get(i + 1) {
                    // Keep multi-byte characters whole.
                    let len = utf8_len(n);
                    out.push_str(&pattern[i + 1..(i + 1 + len).min(b.len())]);
                    i += 1 + len;
                } else {
                    i += 1;
                }
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                if b.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    out.push(']');
                    i += 1;
                }
                continue;
            }
            b']' if in_class => in_class = false,
            b'$' if !in_class => {
                out.push_str("(?=\\n?\\z)");
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = utf8_len(c);
        out.push_str(&pattern[i..(i + len).min(b.len())]);
        i += len;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

// ----------------------------------------------------------------- configs

/// One rewritten directive.
#[derive(Clone, Debug)]
pub struct ConfigChange {
    /// First line (1-based) of the `SSLRequire` directive.
    pub line: usize,
    /// Its expression.
    pub original: String,
    /// The `Require expr` expression now in its place.
    pub migrated: String,
    /// What the original probably did not mean.
    pub lints: Vec<Lint>,
}

/// An `SSLRequire` left as it was, and why.
#[derive(Clone, Debug)]
pub struct ConfigProblem {
    /// First line (1-based) of the directive.
    pub line: usize,
    /// Why it was not rewritten and what to do.
    pub message: String,
}

/// A configuration file, migrated.
#[derive(Clone, Debug)]
pub struct ConfigMigration {
    /// The new text: every line not rewritten is kept byte for byte.
    pub text: String,
    /// What was rewritten.
    pub changes: Vec<ConfigChange>,
    /// What was not, and why.
    pub problems: Vec<ConfigProblem>,
    /// Rewritten, but worth a look (`Satisfy` in the section).
    pub notes: Vec<ConfigProblem>,
}

/// A logical configuration line: physical lines joined by `\` continuations.
struct Logical {
    /// Index of the first and one past the last physical line.
    first: usize,
    end: usize,
    /// The joined text (continuations removed, no line end).
    text: String,
}

/// The sections whose authorization `Require` lines configure; the
/// conditional ones (`<IfModule>` …) are transparent.
const SECTIONS: &[&str] = &[
    "directory",
    "directorymatch",
    "location",
    "locationmatch",
    "files",
    "filesmatch",
    "if",
    "elseif",
    "else",
    "proxy",
    "proxymatch",
    "virtualhost",
    "limit",
    "limitexcept",
];

#[derive(Default)]
struct Frame {
    kind: String,
    /// Where it opens (1-based).
    open_line: usize,
    ssl_requires: Vec<usize>,
    has_require: bool,
    has_merging: bool,
    /// An `AuthMerging` other than `And`.
    merging_not_and: Option<String>,
    has_satisfy: bool,
}

/// Rewrites every `SSLRequire` of an Apache configuration (or `.htaccess`)
/// text into `Require expr` with the same verdicts. In a section that has
/// no `Require` of its own, `AuthMerging And` is added after it so the
/// section keeps the authorization it inherits (SSLRequire was checked in
/// addition to it; a section's own `Require` would otherwise replace it).
/// Sections that already hold `Require` lines, several `SSLRequire` lines
/// (which all had to hold, while `Require` lines in one section are
/// alternatives) or `<Limit>` are reported and left as they are.
pub fn migrate_config(text: &str, dialect: Dialect) -> ConfigMigration {
    // Physical lines with their endings.
    let physical: Vec<&str> = text.split_inclusive('\n').collect();
    let body = |l: &str| l.trim_end_matches(['\n', '\r']).to_string();
    let mut logical: Vec<Logical> = Vec::new();
    let mut i = 0;
    while i < physical.len() {
        let first = i;
        let mut joined = String::new();
        loop {
            let b = body(physical[i]);
            i += 1;
            match b.strip_suffix('\\') {
                Some(head) if i < physical.len() => joined.push_str(head),
                _ => {
                    joined.push_str(&b);
                    break;
                }
            }
        }
        logical.push(Logical {
            first,
            end: i,
            text: joined,
        });
    }
    // Sections.
    let mut frames: Vec<Frame> = vec![Frame {
        kind: "(top level)".into(),
        ..Frame::default()
    }];
    let mut finished: Vec<Frame> = Vec::new();
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let mut notes: Vec<ConfigProblem> = Vec::new();
    for (k, l) in logical.iter().enumerate() {
        let t = l.text.trim_start();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if let Some(close) = t.strip_prefix("</") {
            let name = close.trim_end_matches('>').trim().to_ascii_lowercase();
            if SECTIONS.contains(&name.as_str()) && frames.len() > 1 {
                finished.push(frames.pop().expect("a frame"));
            }
            continue;
        }
        if let Some(open) = t.strip_prefix('<') {
            let name: String = open
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '>')
                .collect::<String>()
                .to_ascii_lowercase();
            if name.starts_with("require") {
                frames.last_mut().expect("a frame").has_require = true;
            } else if SECTIONS.contains(&name.as_str()) {
                frames.push(Frame {
                    kind: name,
                    open_line: l.first + 1,
                    ..Frame::default()
                });
            }
            continue;
        }
        let directive: String = t
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let f = frames.last_mut().expect("a frame");
        match directive.as_str() {
            "sslrequire" => f.ssl_requires.push(k),
            "require" => f.has_require = true,
            "authmerging" => {
                f.has_merging = true;
                let value = t["authmerging".len()..].trim();
                if !value.eq_ignore_ascii_case("and") {
                    f.merging_not_and = Some(value.to_string());
                }
            }
            "satisfy" => f.has_satisfy = true,
            _ => {}
        }
    }
    finished.extend(frames);
    // Decide per SSLRequire.
    let mut replace: std::collections::BTreeMap<usize, (String, bool)> = Default::default();
    let mut changes = Vec::new();
    for f in &finished {
        for &k in &f.ssl_requires {
            let l = &logical[k];
            let line = l.first + 1;
            let t = l.text.trim_start();
            let expr = t["sslrequire".len()..].trim();
            let problem = if f.kind.starts_with("limit") {
                Some(format!("SSLRequire inside <{}>: SSLRequire ignores the method limit, Require inside it would not; move it out of the <Limit> section first", f.kind))
            } else if f.ssl_requires.len() > 1 {
                Some(format!("{} SSLRequire lines in one section must all hold, but Require lines in one section are alternatives (RequireAny): combine them into one SSLRequire (A) and (B) first", f.ssl_requires.len()))
            } else if let Some(m) = &f.merging_not_and {
                Some(format!("this section has AuthMerging {m}: the new Require expr would be combined with the inherited authorization by {m}, while SSLRequire held in addition to it; use AuthMerging And"))
            } else if f.has_require {
                Some("this section also has Require lines: they are alternatives of each other (RequireAny), while SSLRequire had to hold as well; write <RequireAll> Require expr … <RequireAny> (the existing Require lines) </RequireAny> </RequireAll> by hand".to_string())
            } else {
                None
            };
            if let Some(message) = problem {
                problems.push(ConfigProblem { line, message });
                continue;
            }
            match migrate(expr, dialect) {
                Ok(m) => {
                    if f.has_satisfy {
                        notes.push(ConfigProblem {
                            line,
                            message: "this section has Satisfy: under Satisfy Any, host-based access alone now admits a request that SSLRequire (with SSLOptions +StrictRequire) refused; check it".into(),
                        });
                    }
                    replace.insert(k, (m.expr.clone(), !f.has_merging));
                    changes.push(ConfigChange {
                        line,
                        original: expr.to_string(),
                        migrated: m.expr,
                        lints: m.lints,
                    });
                }
                Err(e) => problems.push(ConfigProblem {
                    line,
                    message: match e {
                        MigrateError::Parse(e) => format!(
                            "not a valid SSLRequire expression ({}): {}",
                            e.code(),
                            e.message()
                        ),
                        MigrateError::Unsupported { message, .. } => message,
                    },
                }),
            }
        }
    }
    // Sections with a Require of their own replace what they inherit
    // (AuthMerging Off): one inside a migrated section used to be held to
    // its SSLRequire (mod_ssl merges SSLRequire lines into every section
    // below) and no longer is.
    if !changes.is_empty() {
        for f in &finished {
            let merges_and = f.has_merging && f.merging_not_and.is_none();
            if f.open_line > 0 && f.has_require && f.ssl_requires.is_empty() && !merges_and {
                notes.push(ConfigProblem {
                    line: f.open_line,
                    message: format!(
                        "<{}> has its own Require and no AuthMerging And: if it lies inside a migrated section, the SSLRequire it inherited no longer applies to it; add AuthMerging And there",
                        f.kind
                    ),
                });
            }
        }
    }
    notes.sort_by_key(|n| n.line);
    // Write.
    let mut out = String::with_capacity(text.len() + 64);
    for (k, l) in logical.iter().enumerate() {
        match replace.get(&k) {
            Some((expr, merging)) => {
                let last = physical[l.end - 1];
                let eol = if last.ends_with("\r\n") {
                    "\r\n"
                } else if last.ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                let indent: String = l.text.chars().take_while(|c| c.is_whitespace()).collect();
                let _ = write!(out, "{indent}Require expr {expr}");
                if *merging {
                    let nl = if eol.is_empty() { "\n" } else { eol };
                    let _ = write!(out, "{nl}{indent}AuthMerging And");
                }
                out.push_str(eol);
            }
            None => {
                for p in &physical[l.first..l.end] {
                    out.push_str(p);
                }
            }
        }
    }
    changes.sort_by_key(|c| c.line);
    problems.sort_by_key(|p| p.line);
    ConfigMigration {
        text: out,
        changes,
        problems,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strcmplex;

    fn matches(pattern: &str, s: &[u8]) -> bool {
        // The pattern is PCRE; these simple ones read the same in `regex`
        // with `(?-u)` for bytes.
        let p = pattern.replace("(?!)", "[^\\x00-\\xff]");
        regex::bytes::Regex::new(&format!("(?-u){p}"))
            .unwrap()
            .is_match(s)
    }

    #[test]
    fn order_regex_is_strcmplex() {
        let samples: Vec<&[u8]> = vec![
            b"", b"0", b"8", b"9", b"08", b"10", b"20", b"21", b"7", b"aa", b"b", b"\x80",
            b"a\xff", b"TLSv1.2", b"TLSv1", b"TLSv1.3", b"~~", b"zz", b"A",
        ];
        for c in &samples {
            for or_equal in [false, true] {
                let p = order_regex(c, or_equal);
                for s in &samples {
                    let want = match strcmplex(s, c) {
                        std::cmp::Ordering::Less => true,
                        std::cmp::Ordering::Equal => or_equal,
                        std::cmp::Ordering::Greater => false,
                    };
                    assert_eq!(matches(&p, s), want, "{s:?} vs {c:?} ({or_equal}): {p}");
                }
            }
        }
    }
}
