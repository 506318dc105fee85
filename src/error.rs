//! One error type for every stage: where it happened (a byte span of the
//! expression), what happened (an [`ErrorKind`] with a stable code), and a
//! `Display` that draws the expression with a caret under the span.

use std::fmt;
use std::sync::Arc;

/// A half-open range of byte offsets into the expression source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<std::ops::Range<usize>> for Span {
    fn from(r: std::ops::Range<usize>) -> Span {
        Span::new(r.start, r.end)
    }
}

/// What went wrong. Each kind has a stable code (see [`ErrorKind::code`]):
/// E1xx syntax, E2xx compile, E3xx evaluation. Codes are never reused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// E100: the grammar did not match, e.g. `%{X} ==` (`expected` names
    /// what would have been accepted, `found` what was there).
    Syntax {
        /// What the parser could have accepted here.
        expected: String,
        /// What it found instead.
        found: String,
    },
    /// E101: the expression is longer than the configured size limit.
    InputTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// E102: parentheses, `!` or nested `%{…}` go deeper than the nest limit.
    NestTooDeep {
        /// The limit.
        limit: u32,
    },
    /// E103: `"abc` — no closing quote on this line.
    StringUnterminated,
    /// E104: `"\777"` — an octal escape above `\377`.
    EscapeOutOfBound,
    /// E105: `"\8"`, `"\0123"` — a digit run that is not 1–3 octal digits.
    EscapeBad,
    /// E106: a string piece longer than the dialect's scanner buffer
    /// (2.4: 8191 bytes; 2.2: 2047).
    StringTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// E107: a regex body longer than the scanner buffer (2.4: 8191 bytes).
    RegexTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// E108: `m/abc` — no closing delimiter.
    RegexUnterminated,
    /// E109: `%{X` or `%{ X}` — an unterminated or malformed variable.
    VarMalformed,
    /// E110: a 2.2 variable name the 2.2 scanner cannot read as a name
    /// (`%{in}`, `%{m}`: a keyword, or `m` + delimiter).
    VarNameReserved {
        /// The name.
        name: String,
    },
    /// E111: the expression is empty or blank.
    Empty,
    /// E112: Apache 2.4 syntax in a 2.2 expression (`tolower(…)`, `-n`,
    /// `-ipmatch`, `'…'`, `$1`): mod_ssl 2.2 rejects it (reported when the
    /// text parses as 2.4).
    Dialect24Only {
        /// What was found.
        construct: String,
    },
    /// E200: `%{NO_SUCH_VAR}` in 2.4 (names starting `SSL_` are never unknown).
    VarUnknown {
        /// The name as written.
        name: String,
    },
    /// E201: `nosuch(…)` — no such function in this dialect.
    FuncUnknown {
        /// The name as written.
        name: String,
    },
    /// E202: `x in nosuch(…)` — no such list function (`OID` in 2.4).
    ListFuncUnknown {
        /// The name as written.
        name: String,
    },
    /// E203: `-q x` — no such unary operator.
    UnaryOpUnknown {
        /// The operator without its dash.
        name: String,
    },
    /// E204: `a -nosuch b` — no such binary operator.
    BinaryOpUnknown {
        /// The operator without its dash.
        name: String,
    },
    /// E205: the regex does not compile (`m/[/`).
    RegexInvalid {
        /// The regex engine's message.
        message: String,
    },
    /// E206: a construct Apache accepts but this engine cannot reproduce
    /// exactly; refused rather than evaluated differently.
    Unsupported {
        /// What and why.
        message: String,
    },
    /// E207: an operator needs a constant argument (`-R`, `-ipmatch`).
    ArgNotConstant {
        /// The operator or function.
        name: String,
    },
    /// E208: an argument is invalid (`-ipmatch "10.0.0.0/99"`).
    ArgInvalid {
        /// What is wrong.
        message: String,
    },
    /// E300: `file()` could not open its file.
    FileOpen {
        /// The path as given.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// E301: `file()` refused a file over 10 MiB (Apache's limit).
    FileTooLarge {
        /// The path as given.
        path: String,
    },
    /// E302: `file()` could not read its file.
    FileRead {
        /// The path as given.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// E303: the file access policy refused a path (see `FileAccess`).
    FileDenied {
        /// The path as given.
        path: String,
        /// Why, and how to allow it.
        reason: String,
    },
    /// E304: a mod_ssl 2.2 scanner error (a bad escape) was recorded when
    /// the expression was compiled; 2.2 then fails every evaluation.
    Poisoned {
        /// The scanner error.
        message: String,
    },
    /// E305: a certificate the session holds does not parse, so its
    /// variables cannot be computed (Apache's TLS layer parsed it; reading
    /// it as absent would let `%{SSL_CLIENT_S_DN_O} ne "Evil"` through).
    CertUnreadable {
        /// The variable read.
        var: String,
        /// Why the certificate does not parse.
        reason: String,
    },
}

impl ErrorKind {
    /// The stable code, `E1xx` syntax, `E2xx` compile, `E3xx` evaluation.
    pub fn code(&self) -> &'static str {
        use ErrorKind::*;
        match self {
            Syntax { .. } => "E100",
            InputTooLong { .. } => "E101",
            NestTooDeep { .. } => "E102",
            StringUnterminated => "E103",
            EscapeOutOfBound => "E104",
            EscapeBad => "E105",
            StringTooLong { .. } => "E106",
            RegexTooLong { .. } => "E107",
            RegexUnterminated => "E108",
            VarMalformed => "E109",
            VarNameReserved { .. } => "E110",
            Empty => "E111",
            Dialect24Only { .. } => "E112",
            VarUnknown { .. } => "E200",
            FuncUnknown { .. } => "E201",
            ListFuncUnknown { .. } => "E202",
            UnaryOpUnknown { .. } => "E203",
            BinaryOpUnknown { .. } => "E204",
            RegexInvalid { .. } => "E205",
            Unsupported { .. } => "E206",
            ArgNotConstant { .. } => "E207",
            ArgInvalid { .. } => "E208",
            FileOpen { .. } => "E300",
            FileTooLarge { .. } => "E301",
            FileRead { .. } => "E302",
            FileDenied { .. } => "E303",
            Poisoned { .. } => "E304",
            CertUnreadable { .. } => "E305",
        }
    }

    /// The stage that reports it.
    pub fn stage(&self) -> Stage {
        match self.code().as_bytes()[1] {
            b'1' => Stage::Parse,
            b'2' => Stage::Compile,
            _ => Stage::Eval,
        }
    }
}

/// The pipeline stage an error comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reading the text (E1xx).
    Parse,
    /// Resolving names and building the program (E2xx).
    Compile,
    /// Running the program (E3xx).
    Eval,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            Syntax { expected, found } => write!(f, "expected {expected}, found {found}"),
            InputTooLong { limit } => write!(
                f,
                "expression is longer than the {limit}-byte limit (raise it with ParserBuilder::size_limit)"
            ),
            NestTooDeep { limit } => write!(
                f,
                "nesting deeper than {limit} levels of `(`, `!` or `%{{` (Apache itself is tested to 40)"
            ),
            StringUnterminated => write!(f, "unterminated string: no closing quote on this line"),
            EscapeOutOfBound => write!(f, "octal escape out of bound: the largest is \\377"),
            EscapeBad => write!(
                f,
                "bad escape sequence: `\\` takes 1 to 3 octal digits (0-7)"
            ),
            StringTooLong { limit } => {
                write!(f, "string too long: Apache's scanner stops at {limit} bytes")
            }
            RegexTooLong { limit } => {
                write!(f, "regex too long: Apache's scanner stops at {limit} bytes")
            }
            RegexUnterminated => write!(
                f,
                "unterminated regex: no closing delimiter (it cannot be escaped; pick another one, e.g. m#…#)"
            ),
            VarMalformed => write!(
                f,
                "malformed variable: write %{{NAME}} or %{{func:arg}}, with no blanks in NAME"
            ),
            VarNameReserved { name } => write!(
                f,
                "`{name}` cannot be a variable name in mod_ssl 2.2 (its scanner reads it as a keyword or a regex)"
            ),
            Empty => write!(f, "empty expression: write an expression such as `true`"),
            Dialect24Only { construct } => write!(
                f,
                "{construct}: Apache 2.4 syntax (the expression reads as 2.4), which mod_ssl 2.2 rejects; use dialect 2.4"
            ),
            VarUnknown { name } => write!(
                f,
                "variable `{name}` does not exist (Apache 2.4 knows SSL_* names and the core variables)"
            ),
            FuncUnknown { name } => write!(f, "function `{name}` does not exist"),
            ListFuncUnknown { name } => write!(
                f,
                "list function `{name}` does not exist (2.4 has PeerExtList; OID is 2.2 only)"
            ),
            UnaryOpUnknown { name } => write!(f, "unary operator `-{name}` does not exist"),
            BinaryOpUnknown { name } => write!(f, "binary operator `-{name}` does not exist"),
            RegexInvalid { message } => write!(f, "invalid regex: {message}"),
            Unsupported { message } => write!(f, "unsupported: {message}"),
            ArgNotConstant { name } => {
                write!(f, "`{name}` needs a constant argument (a literal string)")
            }
            ArgInvalid { message } => write!(f, "invalid argument: {message}"),
            FileOpen { path, reason } => write!(f, "cannot open file {path}: {reason}"),
            FileTooLarge { path } => write!(f, "file {path} too large (Apache's limit is 10 MiB)"),
            FileRead { path, reason } => write!(f, "cannot read from file {path}: {reason}"),
            FileDenied { path, reason } => write!(f, "file {path} refused: {reason}"),
            Poisoned { message } => write!(
                f,
                "mod_ssl 2.2 recorded a scanner error when this expression was compiled ({message}), so every evaluation fails"
            ),
            CertUnreadable { var, reason } => write!(
                f,
                "cannot read {var}: the session's certificate does not parse ({reason})"
            ),
        }
    }
}

/// An error with the expression it belongs to and where in it.
///
/// `Display` renders the whole diagnostic:
///
/// ```text
/// SSLRequire parse error at 1:23:
///     %{SSL_CLIENT_S_DN_CN} ==
///                           ^
/// error[E100]: expected a word (string, number, %{VAR}, function call), found end of input
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    span: Span,
    expr: Arc<str>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, span: Span, expr: Arc<str>) -> Error {
        Error { kind, span, expr }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The stable code (`E100` …).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Where, in bytes of [`Error::expr`].
    pub fn span(&self) -> Span {
        self.span
    }

    /// The expression the error is about.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self) -> (usize, usize) {
        line_col(&self.expr, self.span.start)
    }

    /// The message without the caret drawing, e.g. for logs.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

/// 1-based line and character column of byte offset `at` in `src`.
pub fn line_col(src: &str, at: usize) -> (usize, usize) {
    let at = floor_char_boundary(src, at.min(src.len()));
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..at].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.kind.stage() {
            Stage::Parse => "parse",
            Stage::Compile => "compile",
            Stage::Eval => "evaluation",
        };
        let (line, col) = self.line_col();
        writeln!(f, "SSLRequire {stage} error at {line}:{col}:")?;
        let src = &*self.expr;
        let start = floor_char_boundary(src, self.span.start.min(src.len()));
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let text = &src[line_start..line_end];
        // Show at most ~100 characters around the span so a 1 MiB expression
        // does not flood the terminal.
        let lead: Vec<char> = src[line_start..start].chars().collect();
        let skip = lead.len().saturating_sub(60);
        let shown: String = text.chars().skip(skip).take(120).collect();
        let prefix = if skip > 0 { "…" } else { "" };
        writeln!(f, "    {prefix}{}", shown.replace('\t', " "))?;
        let end = floor_char_boundary(src, self.span.end.clamp(start, line_end));
        let width = src[start..end].chars().count().clamp(1, 120);
        let pad = lead.len() - skip + prefix.chars().count();
        writeln!(f, "    {}{}", " ".repeat(pad), "^".repeat(width))?;
        write!(f, "error[{}]: {}", self.code(), self.kind)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str, span: std::ops::Range<usize>) -> Error {
        Error::new(ErrorKind::StringUnterminated, span.into(), src.into())
    }

    #[test]
    fn caret_under_span() {
        let e = err(r#"%{A} == "x"#, 8..10);
        let text = e.to_string();
        assert!(
            text.contains("\n    %{A} == \"x\n            ^^\n"),
            "{text}"
        );
        assert!(text.starts_with("SSLRequire parse error at 1:9:"), "{text}");
        assert!(text.ends_with("error[E103]: unterminated string: no closing quote on this line"));
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        let e = err("true and\n  é == x", 14..15);
        assert_eq!(e.line_col(), (2, 5));
        assert!(e.to_string().contains("\n      é == x\n        ^\n"), "{e}");
    }

    #[test]
    fn codes_are_unique() {
        use ErrorKind::*;
        let s = String::new;
        let kinds = [
            Syntax {
                expected: s(),
                found: s(),
            },
            InputTooLong { limit: 1 },
            NestTooDeep { limit: 1 },
            StringUnterminated,
            EscapeOutOfBound,
            EscapeBad,
            StringTooLong { limit: 1 },
            RegexTooLong { limit: 1 },
            RegexUnterminated,
            VarMalformed,
            VarNameReserved { name: s() },
            Empty,
            Dialect24Only { construct: s() },
            VarUnknown { name: s() },
            FuncUnknown { name: s() },
            ListFuncUnknown { name: s() },
            UnaryOpUnknown { name: s() },
            BinaryOpUnknown { name: s() },
            RegexInvalid { message: s() },
            Unsupported { message: s() },
            ArgNotConstant { name: s() },
            ArgInvalid { message: s() },
            FileOpen {
                path: s(),
                reason: s(),
            },
            FileTooLarge { path: s() },
            FileRead {
                path: s(),
                reason: s(),
            },
            FileDenied {
                path: s(),
                reason: s(),
            },
            Poisoned { message: s() },
            CertUnreadable {
                var: s(),
                reason: s(),
            },
        ];
        let mut codes: Vec<_> = kinds.iter().map(ErrorKind::code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
    }
}
