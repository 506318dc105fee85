//! The function and operator registry: which names exist in which dialect,
//! and what they do. Unknown names are compile errors, as in Apache 2.4
//! (names are resolved when the directive is parsed).

use crate::env::{Env, Table, Var};
use crate::error::ErrorKind;
use crate::syntax::Dialect;

/// A one-argument string function (`f(word)` / `%{f:arg}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    /// `file(path)`: the file's bytes.
    File,
    /// `req`/`http`/`req_novary`/`resp`/`note`/`reqenv`/`env`/`osenv`:
    /// a lookup in a request table.
    Lookup(Table),
    /// `SSL(name)`: mod_ssl's full variable lookup.
    Ssl,
    /// `tolower(s)` (ASCII, C locale).
    Tolower,
    /// `toupper(s)` (ASCII, C locale).
    Toupper,
}

impl Func {
    /// Looks a function up by name (2.4: case-insensitive, `strcasecmp`;
    /// 2.2: only the `file` keyword).
    pub(crate) fn lookup(name: &str, dialect: Dialect) -> Option<Func> {
        if dialect == Dialect::V22 {
            return (name == "file").then_some(Func::File);
        }
        let n = name.to_ascii_lowercase();
        Some(match n.as_str() {
            "file" => Func::File,
            "req" | "http" | "req_novary" => Func::Lookup(Table::RequestHeader),
            "resp" => Func::Lookup(Table::ResponseHeader),
            "note" => Func::Lookup(Table::Note),
            "reqenv" => Func::Lookup(Table::RequestEnv),
            "env" => Func::Lookup(Table::Env),
            "osenv" => Func::Lookup(Table::OsEnv),
            "ssl" => Func::Ssl,
            "tolower" => Func::Tolower,
            "toupper" => Func::Toupper,
            _ => return None,
        })
    }

    /// The canonical name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::File => "file",
            Func::Lookup(t) => t.func_name(),
            Func::Ssl => "SSL",
            Func::Tolower => "tolower",
            Func::Toupper => "toupper",
        }
    }

    /// Can an evaluation of this function fail (and so must run exactly
    /// when Apache runs it)?
    pub(crate) fn can_fail(self) -> bool {
        matches!(self, Func::File)
    }

    /// Does the result depend on the argument only (so a constant argument
    /// can be folded at compile time)?
    pub(crate) fn is_pure(self) -> bool {
        matches!(self, Func::Tolower | Func::Toupper)
    }

    /// Applies a pure function.
    pub(crate) fn apply_pure(self, arg: &[u8]) -> Vec<u8> {
        let mut out = arg.to_vec();
        self.apply_in_place(&mut out);
        out
    }

    /// Pure functions that can rewrite their argument in place.
    pub(crate) fn apply_in_place(self, buf: &mut [u8]) -> bool {
        match self {
            Func::Tolower => buf.make_ascii_lowercase(),
            Func::Toupper => buf.make_ascii_uppercase(),
            _ => return false,
        }
        true
    }

    /// Appends `f(arg)` to `out`.
    pub(crate) fn apply<E: Env + ?Sized>(
        self,
        arg: &[u8],
        env: &E,
        dialect: Dialect,
        out: &mut Vec<u8>,
    ) -> Result<(), ErrorKind> {
        match self {
            Func::File => out.extend_from_slice(&env.read_file(arg)?),
            Func::Lookup(table) => {
                let name = String::from_utf8_lossy(arg);
                if let Some(v) = env.var(&Var::Lookup(table, name.into())) {
                    out.extend_from_slice(v);
                }
            }
            Func::Ssl => {
                let name = String::from_utf8_lossy(arg);
                if let crate::env::Resolved::Var(v) = ssl_lookup(&name, dialect) {
                    if let Some(v) = env.var(&v) {
                        out.extend_from_slice(v);
                    }
                }
            }
            Func::Tolower | Func::Toupper => {
                let start = out.len();
                out.extend_from_slice(arg);
                self.apply_in_place(&mut out[start..]);
            }
        }
        Ok(())
    }
}

/// `SSL(name)` runs mod_ssl's `ssl_var_lookup`, whose name rules are those
/// of mod_ssl 2.2 (unknown names are `""`).
pub(crate) fn ssl_lookup(name: &str, _dialect: Dialect) -> crate::env::Resolved {
    crate::env::resolve(name, Dialect::V22)
}

/// A unary operator (`-x word`), 2.4 only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnaryOp {
    /// `-n`: not empty.
    N,
    /// `-z`: empty.
    Z,
    /// `-T`: true unless empty, `0`, `off`, `no`, `false` (any case).
    T,
}

impl UnaryOp {
    /// Unary operator names are case-sensitive (`strcmp`).
    pub(crate) fn lookup(name: &str, dialect: Dialect) -> Option<UnaryOp> {
        if dialect == Dialect::V22 {
            return None;
        }
        Some(match name {
            "n" => UnaryOp::N,
            "z" => UnaryOp::Z,
            "T" => UnaryOp::T,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            UnaryOp::N => "n",
            UnaryOp::Z => "z",
            UnaryOp::T => "T",
        }
    }

    pub(crate) fn can_fail(self) -> bool {
        false
    }

    pub(crate) fn eval<E: Env + ?Sized>(self, arg: &[u8], _env: &E) -> Result<bool, ErrorKind> {
        Ok(match self {
            UnaryOp::N => !arg.is_empty(),
            UnaryOp::Z => arg.is_empty(),
            UnaryOp::T => op_t(arg),
        })
    }
}

/// `op_T`: false for "", "0", and any case of "off", "no", "false".
fn op_t(arg: &[u8]) -> bool {
    !(arg.is_empty()
        || arg == b"0"
        || arg.eq_ignore_ascii_case(b"off")
        || arg.eq_ignore_ascii_case(b"no")
        || arg.eq_ignore_ascii_case(b"false"))
}

/// A binary operator (`word -name word`), 2.4 only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryOp {}

impl BinaryOp {
    pub(crate) fn lookup(_name: &str, _dialect: Dialect) -> Option<BinaryOp> {
        None
    }

    pub(crate) fn name(self) -> &'static str {
        match self {}
    }

    pub(crate) fn eval<E: Env + ?Sized>(
        self,
        _a: &[u8],
        _b: &[u8],
        _env: &E,
    ) -> Result<bool, ErrorKind> {
        match self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_like_apache() {
        assert_eq!(Func::lookup("TOLOWER", Dialect::V24), Some(Func::Tolower));
        assert_eq!(
            Func::lookup("HTTP", Dialect::V24),
            Some(Func::Lookup(Table::RequestHeader))
        );
        assert_eq!(Func::lookup("file", Dialect::V22), Some(Func::File));
        assert_eq!(Func::lookup("tolower", Dialect::V22), None);
        assert_eq!(UnaryOp::lookup("n", Dialect::V24), Some(UnaryOp::N));
        assert_eq!(UnaryOp::lookup("N", Dialect::V24), None);
    }

    #[test]
    fn op_t_values() {
        for f in ["", "0", "off", "OFF", "No", "fAlSe"] {
            assert!(!op_t(f.as_bytes()), "{f}");
        }
        for t in ["1", "00", "on", "yes", "x", "offx"] {
            assert!(op_t(t.as_bytes()), "{t}");
        }
    }
}
