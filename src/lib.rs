//! # sslrequire
//!
//! Apache mod_ssl's `SSLRequire` expression language as a standalone
//! engine, with Apache's exact semantics.
//!
//! A [`Program`] is the face of the pipeline (ARCHITECTURE.md draws it):
//!
//! * [`syntax`] reads the text with the pest grammar (`grammar.pest`) into
//!   an [`Expr`] tree, in Apache 2.4's dialect (the default) or mod_ssl
//!   2.2's ([`Dialect`]).
//! * `compile` turns the tree into the program's code once: variable names
//!   are resolved with Apache's case rules, regexes compiled, constant lists
//!   turned into sets, `&&`/`||` into jumps, constants folded.
//! * `vm` runs the code against an [`Env`] (the SSL variable
//!   environment), reusing a [`Machine`]'s scratch space; it runs the code
//!   as superinstructions (a test and its jump in one step).
//! * Both use the function and operator library (`func`) and the regex
//!   engines (`pattern`: the `regex` crate, and PCRE2 with [`RegexLimits`]).
//! * [`env`](mod@env) is that environment's interface ([`Env`]), the
//!   variable names and Apache's rules for them, [`VarRefs`] (borrowed)
//!   and [`VarMap`] (owned) for values given by name, [`Layout`]/[`Slots`]
//!   for values bound to a program's slots, and [`env::FileAccess`] (what
//!   `file()` may see).
//! * [`session`] builds it as mod_ssl does: a [`session::Session`] for one
//!   connection (certificate chains, protocol, cipher, clock; `Send +
//!   Sync`), a [`session::SessionEnv`] for one request over it, the
//!   captured-session format and, with the `rustls` feature,
//!   `session::session_from_rustls`; [`capture`] reads sessions from access
//!   logs and packet captures.
//! * [`reparse`] evaluates from source text on every call, as Apache does
//!   for `.htaccess`, with a bounded cache.
//!
//! ```
//! use sslrequire::{Program, VarMap};
//!
//! let program = Program::new(
//!     r#"%{SSL_CIPHER} !~ m/^(EXP|NULL)-/ and %{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd."
//!        and %{SSL_CLIENT_S_DN_OU} in {"Staff", "CA", "Dev"}"#,
//! )?;
//! let mut env = VarMap::new();
//! env.set("SSL_CIPHER", "ECDHE-RSA-AES256-GCM-SHA384")?;
//! env.set("SSL_CLIENT_S_DN_O", "Snake Oil, Ltd.")?;
//! env.set("SSL_CLIENT_S_DN_OU", "Dev")?;
//! assert!(program.eval(&env)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Semantics
//!
//! Every comparison compares byte strings the way mod_ssl's `strcmplex`
//! does: the longer string is greater, and at equal length bytes compare as
//! signed `char` (x86-64), so `"10" > "9"` and `"b" < "aa"`. Regexes match
//! bytes with PCRE's options of the dialect (2.4: dot-all, `$` at the very
//! end only). Unset variables are `""`.
//!
//! ## Input safety
//!
//! Expressions longer than 1 MiB or nested deeper than 128 levels are
//! refused before the grammar runs (both configurable); deep expressions are
//! parsed on a stack of their own, so no input overflows the caller's stack.
//! Regexes run in the `regex` crate (linear time) unless they need PCRE
//! features, which run in PCRE2 with its match limit.
//!
//! ## Error reporting
//!
//! One [`Error`] type for all stages: a stable code (E1xx syntax, E2xx
//! compile, E3xx evaluation), a byte span, and a `Display` that shows the
//! expression with a caret under the span. An evaluation error means deny
//! ([`Program::allows`]) and must be reported, as Apache logs it.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod capture;
mod compile;
mod dialect;
pub mod env;
pub mod error;
mod func;
pub mod lint;
pub mod migrate;
mod pattern;
mod program;
pub mod reparse;
pub mod session;
pub mod syntax;
mod vm;
mod x509;

pub use dialect::{Dialect, UnknownDialect};
pub use env::{Env, Var, VarMap, VarRefs};
pub use error::{Error, ErrorKind, Span};
pub use func::strcmplex;
pub use lint::{lint, Lint, Severity};
pub use pattern::RegexLimits;
pub use program::{Layout, LayoutMismatch, Program, ProgramBuilder, Slots, DEFAULT_VALUE_LIMIT};
pub use reparse::Reparser;
pub use syntax::{parse, Expr, Parser, ParserBuilder};
pub use vm::{Machine, Step, Traced};

/// The README's Rust examples, compiled and run as doctests (one uses the
/// rustls adapter).
#[cfg(all(doctest, feature = "rustls"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
