//! The variable environment an expression is evaluated against.
//!
//! [`Env`] is what the virtual machine asks: the value of a resolved
//! [`Var`], the client certificate's extension values (`PeerExtList`), and
//! the files `file()` reads. [`VarMap`] is a plain map for tests, the CLI's
//! `--var` and callers that already hold their values as strings.

pub mod cert;
pub mod cipher;
mod session;
mod slots;
#[cfg(feature = "rustls")]
mod tls;
mod var;

use std::borrow::Cow;
use std::path::Path;

use rustc_hash::FxHashMap;

use crate::error::ErrorKind;
use crate::syntax::Dialect;
/// Chain verification as mod_ssl + OpenSSL 3.0 do it (lives in `crate::x509`).
pub use crate::x509::verify;
pub use session::{EnvOptions, LazyCert, Session, SessionEnv, SessionError};
pub use slots::{Layout, Slots};
#[cfg(feature = "rustls")]
pub use tls::{session_from_rustls, ClientAuth};
pub use var::*;

/// Apache's `file()` refuses files over 10 MiB.
pub const MAX_FILE_SIZE: u64 = 10 << 20;

/// What an expression can see.
///
/// Values are byte strings; a value read through this trait is cut at its
/// first NUL byte, as Apache's C strings are. `None` means unset, which
/// reads as `""`.
pub trait Env {
    /// The value of `var`.
    fn var(&self, var: &Var) -> Option<&[u8]>;

    /// The value of `var`, which is slot `slot` of program `program` (see
    /// [`Program::vars`](crate::Program::vars)). The virtual machine reads
    /// variables through this; an environment prepared for one program
    /// ([`Slots`]) answers by index. The default is [`Env::var`].
    fn var_in(&self, program: u64, slot: u32, var: &Var) -> Option<&[u8]> {
        let _ = (program, slot);
        self.var(var)
    }

    /// [`Env::var_in`], or why `var` cannot be read. The virtual machine
    /// reads variables through this. The default never fails.
    ///
    /// # Errors
    /// An evaluation error, e.g. `CertUnreadable` from a [`SessionEnv`]
    /// whose certificate does not parse.
    fn try_var_in(&self, program: u64, slot: u32, var: &Var) -> Result<Option<&[u8]>, ErrorKind> {
        Ok(self.var_in(program, slot, var))
    }

    /// [`Env::peer_extensions`], or why they cannot be read. The virtual
    /// machine reads extensions through this. The default never fails.
    ///
    /// # Errors
    /// An evaluation error, e.g. `CertUnreadable` (see [`Env::try_var_in`]).
    fn try_peer_extensions(
        &self,
        id: &[u8],
        numeric_only: bool,
    ) -> Result<Vec<Vec<u8>>, ErrorKind> {
        Ok(self.peer_extensions(id, numeric_only))
    }

    /// The values of the client certificate's extensions with this id, one
    /// per extension instance, as OpenSSL prints them (2.4 `PeerExtList`:
    /// numeric OID or OpenSSL name; 2.2 `OID()`: `numeric_only`, no string
    /// fallback). No client certificate: empty.
    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        let _ = (id, numeric_only);
        Vec::new()
    }

    /// Reads a file for `file()`. The default reads it as Apache does
    /// (path as given, relative to the working directory; at most 10 MiB).
    ///
    /// # Errors
    /// `FileOpen`, `FileTooLarge`, `FileRead` (or, for a restricting
    /// implementation, `FileDenied`).
    fn read_file(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        read_file(path)
    }

    /// Whether a path may be examined by the file tests (`-f`, `-d`, …) and
    /// `filesize()`; `Err` says why not. Default: any path, as Apache.
    ///
    /// # Errors
    /// `FileDenied` when a restricting implementation refuses the path.
    fn check_path(&self, path: &[u8]) -> Result<(), ErrorKind> {
        let _ = path;
        Ok(())
    }
}

impl<E: Env + ?Sized> Env for &E {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        (**self).var(var)
    }
    fn var_in(&self, program: u64, slot: u32, var: &Var) -> Option<&[u8]> {
        (**self).var_in(program, slot, var)
    }
    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        (**self).peer_extensions(id, numeric_only)
    }
    fn try_var_in(&self, program: u64, slot: u32, var: &Var) -> Result<Option<&[u8]>, ErrorKind> {
        (**self).try_var_in(program, slot, var)
    }
    fn try_peer_extensions(
        &self,
        id: &[u8],
        numeric_only: bool,
    ) -> Result<Vec<Vec<u8>>, ErrorKind> {
        (**self).try_peer_extensions(id, numeric_only)
    }
    fn read_file(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        (**self).read_file(path)
    }
    fn check_path(&self, path: &[u8]) -> Result<(), ErrorKind> {
        (**self).check_path(path)
    }
}

/// Reads `path` the way Apache's `file()` does.
///
/// # Errors
/// `FileOpen`, `FileTooLarge` (over 10 MiB) or `FileRead`.
pub fn read_file(path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
    use std::io::Read;
    let shown = String::from_utf8_lossy(path).into_owned();
    let p = bytes_to_path(path);
    let file = std::fs::File::open(&p).map_err(|e| ErrorKind::FileOpen {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let size = file
        .metadata()
        .map_err(|e| ErrorKind::FileRead {
            path: shown.clone(),
            reason: e.to_string(),
        })?
        .len();
    if size > MAX_FILE_SIZE {
        return Err(ErrorKind::FileTooLarge { path: shown });
    }
    // Apache reads the size `stat` reported, no more: a file that grew
    // meanwhile is cut there, and one that reports 0 (procfs) reads as "".
    let mut buf = Vec::with_capacity(size as usize);
    file.take(size)
        .read_to_end(&mut buf)
        .map_err(|e| ErrorKind::FileRead {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    Ok(buf)
}

/// A path from the bytes an expression computed.
pub fn bytes_to_path(bytes: &[u8]) -> Cow<'_, Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Cow::Borrowed(Path::new(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        Cow::Owned(String::from_utf8_lossy(bytes).into_owned().into())
    }
}

/// The `TIME_*` values of instant `t` in its offset, formatted as Apache's
/// `misc_var_fn`: two-digit zero-padded fields, `TIME_WDAY` unpadded
/// (0 = Sunday), `TIME` = `YYYYMMDDhhmmss`.
pub fn time_values<Tz: chrono::TimeZone>(t: &chrono::DateTime<Tz>) -> [(TimeVar, String); 8]
where
    Tz::Offset: std::fmt::Display,
{
    use chrono::{Datelike, Timelike};
    let (y, mo, d) = (t.year(), t.month(), t.day());
    // chrono counts a leap second as second 59 + nanoseconds ≥ 1e9.
    let sec = t.second() + u32::from(t.nanosecond() >= 1_000_000_000);
    let (h, mi) = (t.hour(), t.minute());
    [
        (TimeVar::Year, format!("{y:04}")),
        (TimeVar::Mon, format!("{mo:02}")),
        (TimeVar::Day, format!("{d:02}")),
        (TimeVar::Hour, format!("{h:02}")),
        (TimeVar::Min, format!("{mi:02}")),
        (TimeVar::Sec, format!("{sec:02}")),
        (
            TimeVar::Wday,
            t.weekday().num_days_from_sunday().to_string(),
        ),
        (
            TimeVar::Time,
            format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{sec:02}"),
        ),
    ]
}

/// The variable a caller means by `name` when supplying a value: any
/// variable Apache 2.4 provides (same name rules as `%{NAME}`), a request
/// table entry as `func:name`, or 2.2's `HTTP:x` / `ENV:x`.
///
/// # Errors
/// A name no expression could read (unknown, or an `SSL_*` name mod_ssl
/// never provides), with a hint.
pub fn input_var(name: &str) -> Result<Var, String> {
    if let Some(var) = table_entry(name) {
        return Ok(var);
    }
    match resolve(name, Dialect::V24) {
        Resolved::Var(v) => Ok(v),
        _ => match resolve(name, Dialect::V22) {
            Resolved::Var(v @ Var::Lookup(..)) => Ok(v),
            _ => Err(format!(
                "`{name}` is not a variable Apache provides (check its spelling and case: \
                 DN components such as _CN are case-sensitive)"
            )),
        },
    }
}

/// `http:User-Agent` → the request-header table entry `User-Agent`.
fn table_entry(name: &str) -> Option<Var> {
    let (func, entry) = name.split_once(':')?;
    let table = match func.to_ascii_lowercase().as_str() {
        "http" | "req" | "req_novary" => Table::RequestHeader,
        "resp" => Table::ResponseHeader,
        "note" => Table::Note,
        "reqenv" => Table::RequestEnv,
        "env" => Table::Env,
        "osenv" => Table::OsEnv,
        _ => return None,
    };
    (!entry.is_empty()).then(|| Var::Lookup(table, entry.into()))
}

/// A simple environment: variables set by name, with Apache's name rules.
///
/// ```
/// use sslrequire::{Program, VarMap};
/// let mut env = VarMap::new();
/// env.set("SSL_CLIENT_S_DN_CN", "alice")?;
/// env.set("ssl_client_verify", "SUCCESS")?; // names resolve as in Apache
/// let p = Program::new(r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq "alice""#)?;
/// assert!(p.eval(&env)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct VarMap {
    values: FxHashMap<Var, Vec<u8>>,
    extensions: Vec<(String, Vec<u8>)>,
}

impl VarMap {
    /// An empty environment: every variable unset.
    pub fn new() -> VarMap {
        VarMap::default()
    }

    /// Sets a variable by name, resolved as 2.4 resolves `%{NAME}`, or an
    /// entry of a request table as `func:name` — `http:`/`req:` (request
    /// header), `resp:`, `note:`, `reqenv:`, `env:`, `osenv:` — the tables
    /// 2.4's lookup functions read (2.2's `HTTP:x` and `ENV:x` are the same).
    ///
    /// # Errors
    /// A name that no expression could read: unknown to Apache, or an
    /// `SSL_*` name mod_ssl never provides (which always reads as `""`).
    pub fn set(&mut self, name: &str, value: impl Into<Vec<u8>>) -> Result<&mut VarMap, String> {
        self.values.insert(input_var(name)?, value.into());
        Ok(self)
    }

    /// Sets a resolved variable.
    pub fn insert(&mut self, var: Var, value: impl Into<Vec<u8>>) -> &mut VarMap {
        self.values.insert(var, value.into());
        self
    }

    /// Adds a client-certificate extension value for `PeerExtList(id)` /
    /// `OID(id)` (`id` exactly as the expression will name it).
    pub fn add_extension(&mut self, id: &str, value: impl Into<Vec<u8>>) -> &mut VarMap {
        self.extensions.push((id.to_string(), value.into()));
        self
    }

    /// Sets `TIME_YEAR` … `TIME` for the instant `t`, in `t`'s own offset
    /// (Apache uses the server's local time zone).
    pub fn set_time<Tz: chrono::TimeZone>(&mut self, t: &chrono::DateTime<Tz>) -> &mut VarMap
    where
        Tz::Offset: std::fmt::Display,
    {
        for (var, value) in time_values(t) {
            self.values
                .insert(Var::Core(CoreVar::time(var)), value.into_bytes());
        }
        self
    }

    /// Every variable set, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&Var, &[u8])> {
        let mut v: Vec<_> = self.values.iter().map(|(k, v)| (k, v.as_slice())).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.into_iter()
    }
}

impl Env for VarMap {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        if let Var::Lookup(table, name) = var {
            // Header and environment names: case-insensitive, as APR tables.
            return self
                .values
                .iter()
                .find(|(k, _)| matches!(k, Var::Lookup(t, n) if t == table && n.eq_ignore_ascii_case(name)))
                .map(|(_, v)| v.as_slice());
        }
        self.values.get(var).map(Vec::as_slice)
    }

    fn peer_extensions(&self, id: &[u8], _numeric_only: bool) -> Vec<Vec<u8>> {
        self.extensions
            .iter()
            .filter(|(i, _)| i.as_bytes() == id)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_map_resolves_names() {
        let mut env = VarMap::new();
        env.set("ssl_protocol", "TLSv1.3").unwrap();
        env.set("HTTP:X-Foo", "bar").unwrap();
        assert_eq!(
            env.var(&Var::Session(SessionVar::Protocol)),
            Some(&b"TLSv1.3"[..])
        );
        let h = Var::Lookup(Table::RequestHeader, "x-foo".into());
        assert_eq!(env.var(&h), Some(&b"bar"[..]));
        env.set("note:who", "x").unwrap();
        assert_eq!(
            env.var(&Var::Lookup(Table::Note, "WHO".into())),
            Some(&b"x"[..])
        );
        assert!(env.set("SSL_BOGUS", "x").is_err());
        assert!(env.set("NO_SUCH_VAR", "x").is_err());
    }

    #[test]
    fn time_formats() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-01T03:04:05+01:00").unwrap();
        let v: Vec<String> = time_values(&t).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            v,
            ["2026", "03", "01", "03", "04", "05", "0", "20260301030405"]
        );
    }

    #[test]
    fn file_reads_the_stat_size_as_apache() {
        // procfs reports size 0: Apache's file() gives "".
        if std::path::Path::new("/proc/version").exists() {
            assert_eq!(read_file(b"/proc/version").unwrap(), b"");
        }
    }

    #[test]
    fn file_reading_errors() {
        let e = read_file(b"/nonexistent/sslrequire").unwrap_err();
        assert_eq!(e.code(), "E300");
    }
}
