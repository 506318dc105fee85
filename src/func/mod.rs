//! The function and operator library of SSLRequire: which names exist in
//! which dialect ([`Func::lookup`], [`UnaryOp::lookup`],
//! [`BinaryOp::lookup`] — the compiler resolves every name with them) and
//! what they do (`apply`/`eval` — the compiler folds constants with them
//! and the virtual machine runs them). Unknown names are compile errors, as
//! in Apache 2.4 (names are resolved when the directive is parsed).
//!
//! The functions behind them are Apache httpd 2.4's `ap_expr` string
//! functions and operators (`server/util_expr_eval.c`), re-implemented to
//! match Apache/APR byte for byte, one file per subject:
//! [`string`] (`tolower` … `md5`, `-T`), [`subnet`] (`-ipmatch`, `-R`),
//! [`fnmatch`] (`-fnmatch`, `-strmatch`, `-strcmatch`) and [`file`] (file
//! tests, `filesize`).
//!
//! Values in Apache are C strings. Every function here therefore takes byte
//! slices and ignores everything from the first NUL byte on, exactly as the C
//! code (which calls `strlen` or walks to the terminator) would. Outputs never
//! contain a NUL byte for the same reason (`unbase64` truncates at the first
//! decoded NUL).
//!
//! Reference sources (Apache httpd 2.4, APR 1.7, APR-util 1.6, glibc):
//! * `tolower`/`toupper`: `ap_str_tolower`/`ap_str_toupper` (C locale, ASCII only).
//! * `escape`: `ap_escape_uri` = `ap_os_escape_path(p, s, 1)` with the
//!   `T_OS_ESCAPE_PATH` table of `server/gen_test_char.c` and lowercase hex.
//! * `unescape`: `ap_unescape_url_keep2f(s, 0)`; `""` on any error.
//! * `base64`/`unbase64`: `ap_pbase64encode`/`ap_pbase64decode` (APR-util
//!   `apr_base64.c`).
//! * `sha1_hex`/`md5_hex`: `sha1_func` (`ap_bin2hex`) / `ap_md5`.
//! * `is_true`: `op_T`.
//! * [`Subnet`]: `subnet_parse_arg` + `apr_ipsubnet_create`, and `op_ipmatch`
//!   (`apr_sockaddr_info_get` + `apr_ipsubnet_test`).
//! * `fnmatch`: `apr_fnmatch` (APR >= 1.4.5 implementation).
//! * `file_test`/`filesize`: `op_file_min`, `op_file_link`, `op_file_xbit`,
//!   `filesize_func`.

pub(crate) mod compare;
pub(crate) mod file;
pub(crate) mod fnmatch;
pub(crate) mod string;
pub(crate) mod subnet;

use crate::dialect::Dialect;
use crate::env::{CoreVar, Env, Table, Var};
use crate::error::ErrorKind;
pub(crate) use compare::compare;
pub use compare::strcmplex;
use fnmatch::FnmatchFlags;
pub(crate) use subnet::Subnet;

/// A function whose result depends only on its argument.
type PureFn = fn(&[u8]) -> Vec<u8>;

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
    /// `escape(s)`: `ap_escape_uri` (lowercase hex).
    Escape,
    /// `unescape(s)`: `ap_unescape_url_keep2f`; `""` on a bad escape.
    Unescape,
    /// `base64(s)`.
    Base64,
    /// `unbase64(s)` (lenient, as APR).
    Unbase64,
    /// `sha1(s)`, lowercase hex.
    Sha1,
    /// `md5(s)`, lowercase hex.
    Md5,
    /// `filesize(path)`: size of a non-empty regular file, else `0`.
    Filesize,
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
            "escape" => Func::Escape,
            "unescape" => Func::Unescape,
            "base64" => Func::Base64,
            "unbase64" => Func::Unbase64,
            "sha1" => Func::Sha1,
            "md5" => Func::Md5,
            "filesize" => Func::Filesize,
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
            Func::Escape => "escape",
            Func::Unescape => "unescape",
            Func::Base64 => "base64",
            Func::Unbase64 => "unbase64",
            Func::Sha1 => "sha1",
            Func::Md5 => "md5",
            Func::Filesize => "filesize",
        }
    }

    /// Can an evaluation of this function fail (and so must run exactly
    /// when Apache runs it)?
    pub(crate) fn can_fail(self) -> bool {
        // filesize() fails only when the environment refuses the path.
        matches!(self, Func::File | Func::Filesize)
    }

    /// Does the result depend on the argument only (so a constant argument
    /// can be folded at compile time)?
    pub(crate) fn is_pure(self) -> bool {
        self.pure_fn().is_some()
    }

    fn pure_fn(self) -> Option<PureFn> {
        Some(match self {
            Func::Tolower => string::tolower,
            Func::Toupper => string::toupper,
            Func::Escape => string::escape,
            Func::Unescape => string::unescape,
            Func::Base64 => string::base64,
            Func::Unbase64 => string::unbase64,
            Func::Sha1 => string::sha1_hex,
            Func::Md5 => string::md5_hex,
            _ => return None,
        })
    }

    /// Applies a pure function.
    pub(crate) fn apply_pure(self, arg: &[u8]) -> Vec<u8> {
        self.pure_fn().map_or_else(Vec::new, |f| f(arg))
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
        out: &mut Vec<u8>,
    ) -> Result<(), ErrorKind> {
        match self {
            Func::File => out.extend_from_slice(&env.files().read(arg)?),
            Func::Lookup(table) => {
                let name = String::from_utf8_lossy(arg);
                if let Some(v) = env.var(&Var::Lookup(table, name.into())) {
                    out.extend_from_slice(v);
                }
            }
            Func::Ssl => {
                let name = String::from_utf8_lossy(arg);
                if let crate::env::Resolved::Var(v) = ssl_lookup(&name) {
                    if let Some(v) = env.var(&v) {
                        out.extend_from_slice(v);
                    }
                }
            }
            Func::Filesize => {
                out.extend_from_slice(&file::filesize(env.files().stat(arg, true)?));
            }
            f => out.extend_from_slice(&f.apply_pure(arg)),
        }
        Ok(())
    }
}

/// `SSL(name)` runs mod_ssl's `ssl_var_lookup`, whose name rules are those
/// of mod_ssl 2.2 (unknown names are `""`).
pub(crate) fn ssl_lookup(name: &str) -> crate::env::Resolved {
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
    /// `-R subnet`: the client address (`REMOTE_ADDR`) is in the subnet
    /// (index into the program's subnets; the argument must be constant).
    R(u32),
    /// `-d -e -f -s -L -h -x`: file tests (`stat`, or `lstat` for L h x);
    /// `-F` is `-e` here (Apache's subrequest lookup needs a server).
    File(u8),
}

/// Unary operators Apache has that need a running server.
const SUBREQUEST_OPS: &[&str] = &["U", "A"];

impl UnaryOp {
    /// Unary operator names are case-sensitive (`strcmp`). `-R` needs its
    /// constant subnet: `subnets` receives it.
    pub(crate) fn lookup(
        name: &str,
        dialect: Dialect,
        arg: Option<&[u8]>,
        subnets: &mut Vec<Subnet>,
    ) -> Result<Option<UnaryOp>, ErrorKind> {
        if dialect == Dialect::V22 {
            return Ok(None);
        }
        Ok(Some(match name {
            "n" => UnaryOp::N,
            "z" => UnaryOp::Z,
            "T" => UnaryOp::T,
            "R" => UnaryOp::R(subnet(name, arg, subnets)?),
            "d" | "e" | "f" | "s" | "L" | "h" | "x" => UnaryOp::File(name.as_bytes()[0]),
            "F" => UnaryOp::File(b'e'),
            n if SUBREQUEST_OPS.contains(&n) => {
                return Err(ErrorKind::Unsupported {
                    message: format!(
                        "-{n} runs an Apache subrequest for a URL, which needs a running server"
                    ),
                })
            }
            _ => return Ok(None),
        }))
    }

    pub(crate) fn name(self) -> String {
        match self {
            UnaryOp::N => "n".into(),
            UnaryOp::Z => "z".into(),
            UnaryOp::T => "T".into(),
            UnaryOp::R(_) => "R".into(),
            UnaryOp::File(c) => (c as char).to_string(),
        }
    }

    pub(crate) fn can_fail(self) -> bool {
        matches!(self, UnaryOp::File(_))
    }

    pub(crate) fn eval<E: Env + ?Sized>(
        self,
        arg: &[u8],
        env: &E,
        subnets: &[Subnet],
    ) -> Result<bool, ErrorKind> {
        Ok(match self {
            UnaryOp::N => !arg.is_empty(),
            UnaryOp::Z => arg.is_empty(),
            UnaryOp::T => string::is_true(arg),
            UnaryOp::R(i) => {
                // op_R tests the client address (mod_remoteip-aware).
                let addr = env.var(&Var::Core(CoreVar::REMOTE_ADDR)).unwrap_or(b"");
                subnets[i as usize].contains(addr)
            }
            UnaryOp::File(op) => {
                // stat for -d -e -f -s; lstat for -L -h -x.
                let follow = matches!(op, b'd' | b'e' | b'f' | b's');
                file::file_test(op, env.files().stat(arg, follow)?)
            }
        })
    }
}

/// Parses the constant subnet argument of `-R` / `-ipmatch`.
fn subnet(name: &str, arg: Option<&[u8]>, subnets: &mut Vec<Subnet>) -> Result<u32, ErrorKind> {
    let Some(arg) = arg else {
        return Err(ErrorKind::ArgNotConstant {
            name: format!("-{name}"),
        });
    };
    let spec = String::from_utf8_lossy(arg);
    let s = Subnet::parse(&spec).map_err(|message| ErrorKind::ArgInvalid { message })?;
    subnets.push(s);
    Ok((subnets.len() - 1) as u32)
}

/// A binary operator (`word -name word`), 2.4 only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    /// `-ipmatch`: the left address is in the right (constant) subnet.
    Ipmatch(u32),
    /// `-strmatch`: `apr_fnmatch(right, left, 0)`.
    Strmatch,
    /// `-strcmatch`: the same, ASCII case-blind.
    Strcmatch,
    /// `-fnmatch`: the same with `APR_FNM_PATHNAME`.
    Fnmatch,
}

impl BinaryOp {
    /// Binary operator names compare case-insensitively (`strcasecmp`).
    pub(crate) fn lookup(
        name: &str,
        dialect: Dialect,
        rhs: Option<&[u8]>,
        subnets: &mut Vec<Subnet>,
    ) -> Result<Option<BinaryOp>, ErrorKind> {
        if dialect == Dialect::V22 {
            return Ok(None);
        }
        Ok(Some(match name.to_ascii_lowercase().as_str() {
            "ipmatch" => BinaryOp::Ipmatch(subnet("ipmatch", rhs, subnets)?),
            "strmatch" => BinaryOp::Strmatch,
            "strcmatch" => BinaryOp::Strcmatch,
            "fnmatch" => BinaryOp::Fnmatch,
            _ => return Ok(None),
        }))
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            BinaryOp::Ipmatch(_) => "ipmatch",
            BinaryOp::Strmatch => "strmatch",
            BinaryOp::Strcmatch => "strcmatch",
            BinaryOp::Fnmatch => "fnmatch",
        }
    }

    pub(crate) fn eval(self, a: &[u8], b: &[u8], subnets: &[Subnet]) -> bool {
        match self {
            BinaryOp::Ipmatch(i) => subnets[i as usize].contains(a),
            BinaryOp::Strmatch => fnmatch::fnmatch(b, a, FnmatchFlags::STRMATCH),
            BinaryOp::Strcmatch => fnmatch::fnmatch(b, a, FnmatchFlags::STRCMATCH),
            BinaryOp::Fnmatch => fnmatch::fnmatch(b, a, FnmatchFlags::FNMATCH),
        }
    }
}

// ----------------------------------------------------- C-string helpers

/// `s[i]`, or the C string terminator past the end.
pub(crate) fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

pub(crate) const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

pub(crate) fn hex_lower(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(LOWER_HEX[usize::from(b >> 4)]);
        out.push(LOWER_HEX[usize::from(b & 0x0f)]);
    }
    out
}

pub(crate) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::fnmatch::fnmatch;
    use super::string::*;
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
        let mut subnets = Vec::new();
        assert_eq!(
            UnaryOp::lookup("n", Dialect::V24, None, &mut subnets),
            Ok(Some(UnaryOp::N))
        );
        assert_eq!(
            UnaryOp::lookup("N", Dialect::V24, None, &mut subnets),
            Ok(None)
        );
        assert_eq!(
            UnaryOp::lookup("F", Dialect::V24, None, &mut subnets),
            Ok(Some(UnaryOp::File(b'e')))
        );
        assert!(matches!(
            UnaryOp::lookup("U", Dialect::V24, None, &mut subnets),
            Err(ErrorKind::Unsupported { .. })
        ));
        assert!(matches!(
            UnaryOp::lookup("R", Dialect::V24, None, &mut subnets),
            Err(ErrorKind::ArgNotConstant { .. })
        ));
        assert!(matches!(
            BinaryOp::lookup("IPMATCH", Dialect::V24, Some(b"10.0.0.0/99"), &mut subnets),
            Err(ErrorKind::ArgInvalid { .. })
        ));
        assert_eq!(
            BinaryOp::lookup("strmatch", Dialect::V22, None, &mut subnets),
            Ok(None)
        );
    }

    /// Deterministic xorshift so the robustness test needs no extra crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, alphabet: &[u8], max: u64) -> Vec<u8> {
            let n = self.next() % (max + 1);
            (0..n)
                .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
                .collect()
        }
    }

    #[test]
    fn no_panics_on_arbitrary_input() {
        // (The same kind of random input, 720k cases, was also diffed
        // against apr_oracle for fnmatch / ipsubnet / base64: no difference.)
        let all: Vec<u8> = (0..=255).collect();
        let glob = b"ab/*?[]!^-\\.\x80\xff\0";
        let ip = b"0123456789abcdefx.:/% +-";
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let (p, s) = (rng.bytes(glob, 12), rng.bytes(glob, 12));
            let pc = FnmatchFlags {
                pathname: true,
                casefold: true,
            };
            for flags in [
                FnmatchFlags::STRMATCH,
                FnmatchFlags::FNMATCH,
                FnmatchFlags::STRCMATCH,
                pc,
            ] {
                fnmatch(&p, &s, flags);
            }
            let spec = rng.bytes(ip, 20);
            if let Ok(subnet) = Subnet::parse(&String::from_utf8_lossy(&spec)) {
                subnet.contains(&rng.bytes(ip, 20));
            }
            let raw = rng.bytes(&all, 16);
            unescape(&raw);
            unbase64(&raw);
            escape(&raw);
            is_true(&raw);
            tolower(&raw);
        }
    }
}
