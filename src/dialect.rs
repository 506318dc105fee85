//! Which SSLRequire language: every stage (parser, compiler, variable
//! names, regex options, environment formats) reads it.

use std::fmt;
use std::str::FromStr;

/// Which SSLRequire language to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Apache httpd 2.4's (ap_expr with the mod_ssl compatibility flag):
    /// the default.
    #[default]
    V24,
    /// mod_ssl 2.2's own `ssl_expr` language.
    V22,
}

impl Dialect {
    /// `"2.4"` or `"2.2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::V24 => "2.4",
            Dialect::V22 => "2.2",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a dialect (`Dialect::from_str`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownDialect(pub String);

impl fmt::Display for UnknownDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown dialect `{}`: use 2.4 or 2.2", self.0)
    }
}

impl std::error::Error for UnknownDialect {}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Dialect, UnknownDialect> {
        match s {
            "2.4" | "24" => Ok(Dialect::V24),
            "2.2" | "22" => Ok(Dialect::V22),
            _ => Err(UnknownDialect(s.to_string())),
        }
    }
}
