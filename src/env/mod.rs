//! The variable environment an expression is evaluated against.
//!
//! [`Env`] is what the virtual machine asks: the value of a resolved
//! [`Var`], the client certificate's extension values (`PeerExtList`), and
//! the files `file()` reads. [`VarMap`] is a plain map for tests, the CLI's
//! `--var` and callers that already hold their values as strings.

/// Certificates → the strings mod_ssl exports (lives in `crate::x509`).
pub use crate::x509::cert;
mod files;
mod refs;
mod resolve;
pub(crate) mod var;
/// Chain verification as mod_ssl + OpenSSL 3.0 do it (lives in `crate::x509`).
pub use crate::x509::verify;

use std::borrow::Cow;
use std::path::Path;

use rustc_hash::FxHashMap;

use crate::error::ErrorKind;

use crate::dialect::Dialect;
pub use files::{FileAccess, FileInfo, FileKind, Files, MAX_FILE_SIZE};
pub use refs::VarRefs;
pub use resolve::{resolve, Resolved};
pub use var::*;

/// What an expression can see.
///
/// Values are byte strings; a value read through this trait is cut at its
/// first NUL byte, as Apache's C strings are. `None` means unset, which
/// reads as `""`.
pub trait Env {
    /// The value of `var`.
    fn var(&self, var: &Var) -> Option<&[u8]>;

    /// The values of the client certificate's extensions with this id, one
    /// per extension instance, as OpenSSL prints them (2.4 `PeerExtList`:
    /// numeric OID or OpenSSL name; 2.2 `OID()`: `numeric_only`, no string
    /// fallback). No client certificate: empty.
    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        let _ = (id, numeric_only);
        Vec::new()
    }

    /// Why `var` cannot be read when [`Env::var`] gave `None` for a reason
    /// other than "unset" — a certificate of the session that does not
    /// parse: reading it is then an evaluation error, which denies. The
    /// default: every `None` is "unset" (`""`).
    fn unreadable(&self, var: &Var) -> Option<ErrorKind> {
        let _ = var;
        None
    }

    /// The files `file()`, `filesize()` and the file tests may see. The
    /// default is none: every such read is refused (E303), unlike Apache,
    /// which reads what the server can. Allow one directory with
    /// [`FileAccess::under`] (e.g. [`VarMap::set_files`]).
    fn files(&self) -> &dyn Files {
        &files::NO_FILES
    }
}

impl<E: Env + ?Sized> Env for &E {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        (**self).var(var)
    }
    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        (**self).peer_extensions(id, numeric_only)
    }
    fn unreadable(&self, var: &Var) -> Option<ErrorKind> {
        (**self).unreadable(var)
    }
    fn files(&self) -> &dyn Files {
        (**self).files()
    }
}

/// A C string: everything up to the first NUL.
#[inline]
pub(crate) fn cstr(b: &[u8]) -> &[u8] {
    match nul(b) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// The first NUL byte of `b`. Most values are short: eight bytes at a time
/// (the "has a zero byte" test) beats memchr's set-up there.
#[inline]
fn nul(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    if b.len() > 64 {
        return memchr::memchr(0, b);
    }
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().expect("eight bytes"));
        if x.wrapping_sub(LO) & !x & HI != 0 {
            return w.iter().position(|&c| c == 0).map(|i| at + i);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == 0)
        .map(|i| at + i)
}

/// Whether the C string in `value` is `k`, a constant without NUL: `value`
/// is `k` exactly, or `k` followed by a NUL — no scan for the value's end.
#[inline]
pub(crate) fn eq_cstr(value: &[u8], k: &[u8]) -> bool {
    use std::cmp::Ordering::*;
    match value.len().cmp(&k.len()) {
        Equal => same(value, k),
        Greater => value[k.len()] == 0 && same(&value[..k.len()], k),
        Less => false,
    }
}

/// `a == b` for slices of one length; short ones (most constants and
/// names) with overlapping word loads, not a call to `memcmp`.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().expect("8"));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().expect("4"));
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        17..=32 => {
            word(a, 0) == word(b, 0)
                && word(a, 8) == word(b, 8)
                && word(a, n - 16) == word(b, n - 16)
                && word(a, n - 8) == word(b, n - 8)
        }
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        0 => true,
        _ => a == b,
    }
}

/// A path from the bytes an expression computed.
pub(crate) fn bytes_to_path(bytes: &[u8]) -> Cow<'_, Path> {
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
pub fn input_var(name: &str) -> Result<Var, UnknownVariable> {
    if let Some(var) = table_entry(name) {
        return Ok(var);
    }
    match resolve(name, Dialect::V24) {
        Resolved::Var(v) => Ok(v),
        _ => match resolve(name, Dialect::V22) {
            Resolved::Var(v @ Var::Lookup(..)) => Ok(v),
            _ => Err(UnknownVariable {
                name: name.to_string(),
            }),
        },
    }
}

/// [`input_var`] of `name`, as [`canonical`] stores it, with its
/// [`Var::key`], handed to `f`; remembered per thread: a proxy sets the
/// same few names on every request, and resolving one walks Apache's name
/// tables. The memory holds [`NAME_SETS`] × [`NAME_WAYS`] names, a new
/// name replacing the oldest of its set, so names from the network (a
/// Postfix attribute, a captured session's `vars`) cannot grow it.
pub(crate) fn with_input_var<R>(
    name: &str,
    f: impl FnOnce(&Var, Option<u64>) -> R,
) -> Result<R, UnknownVariable> {
    use std::cell::RefCell;
    use std::hash::Hasher;
    type Way = Option<(Box<str>, Var, Option<u64>)>;
    /// The names of one set, and which way the next new one takes.
    #[derive(Default)]
    struct Set([Way; NAME_WAYS], usize);
    thread_local! {
        static NAMES: RefCell<Vec<Set>> = const { RefCell::new(Vec::new()) };
    }
    let mut h = rustc_hash::FxHasher::default();
    h.write(name.as_bytes());
    let at = h.finish() as usize % NAME_SETS;
    NAMES.with(|names| {
        if let Some(set) = names.borrow().get(at) {
            for (n, var, key) in set.0.iter().flatten() {
                if n.len() == name.len() && same(n.as_bytes(), name.as_bytes()) {
                    return Ok(f(var, *key));
                }
            }
        }
        let var = canonical(input_var(name)?);
        let key = var.key();
        let r = f(&var, key);
        let mut names = names.borrow_mut();
        if names.is_empty() {
            names.resize_with(NAME_SETS, Set::default);
        }
        let set = &mut names[at];
        set.0[set.1] = Some((name.into(), var, key));
        set.1 = (set.1 + 1) % NAME_WAYS;
        Ok(r)
    })
}

/// How many sets of names [`with_input_var`] keeps per thread …
const NAME_SETS: usize = 64;
/// … of how many names each.
const NAME_WAYS: usize = 4;

/// A name given for a value that no expression could read: unknown to
/// Apache, or an `SSL_*` name mod_ssl never provides (`VarMap::set`,
/// `Program::layout`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownVariable {
    name: String,
}

impl UnknownVariable {
    /// The name as given.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is not a variable Apache provides (check its spelling and case: \
             DN components such as _CN are case-sensitive)",
            self.name
        )
    }
}

impl std::error::Error for UnknownVariable {}

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

/// How a name-keyed environment answers for `var`: a request table's entry
/// by `entry(table, name)` (names case-blind, as APR tables), with
/// Apache's `env()` order (notes, then the per-request environment, then
/// the process's) and `HTTP_*` variables read from the request headers;
/// every other variable by `plain(var)`.
pub(crate) fn read_by_name<'s>(
    var: &Var,
    entry: impl Fn(Table, &str) -> Option<&'s [u8]>,
    plain: impl FnOnce(&Var) -> Option<&'s [u8]>,
) -> Option<&'s [u8]> {
    match var {
        Var::Lookup(Table::Env, name) => entry(Table::Env, name).or_else(|| {
            [Table::Note, Table::RequestEnv, Table::OsEnv]
                .into_iter()
                .find_map(|t| entry(t, name))
        }),
        Var::Lookup(table, name) => entry(*table, name),
        Var::Core(c) => match c.request_header() {
            Some(h) => entry(Table::RequestHeader, h),
            None => plain(var),
        },
        _ => plain(var),
    }
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
    files: FileAccess,
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
    pub fn set(
        &mut self,
        name: &str,
        value: impl Into<Vec<u8>>,
    ) -> Result<&mut VarMap, UnknownVariable> {
        let var = with_input_var(name, |var, _| var.clone())?;
        Ok(self.insert(var, value))
    }

    /// Sets a resolved variable. Request headers are one table: setting
    /// `HTTP_USER_AGENT` sets the header `User-Agent` (read by
    /// `%{HTTP_USER_AGENT}`, `req("User-Agent")`, 2.2's `%{HTTP:User-Agent}`
    /// alike), replacing a value given under any spelling of that name.
    pub fn insert(&mut self, var: Var, value: impl Into<Vec<u8>>) -> &mut VarMap {
        let var = canonical(var);
        if let Var::Lookup(table, name) = &var {
            self.values.retain(
                |k, _| !matches!(k, Var::Lookup(t, n) if t == table && n.eq_ignore_ascii_case(name)),
            );
        }
        self.values.insert(var, value.into());
        self
    }

    /// An entry of a request table (names case-insensitive, as APR tables).
    fn entry(&self, table: Table, name: &str) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|(k, _)| matches!(k, Var::Lookup(t, n) if *t == table && n.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.as_slice())
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

    /// Lets `file()`, `filesize()` and the file tests see `files` (by
    /// default they see nothing).
    pub fn set_files(&mut self, files: FileAccess) -> &mut VarMap {
        self.files = files;
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
        read_by_name(
            var,
            |table, name| self.entry(table, name),
            |var| self.values.get(var).map(Vec::as_slice),
        )
    }

    fn peer_extensions(&self, id: &[u8], _numeric_only: bool) -> Vec<Vec<u8>> {
        self.extensions
            .iter()
            .filter(|(i, _)| i.as_bytes() == id)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn files(&self) -> &dyn Files {
        &self.files
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
        // One table of request headers, whatever the spelling.
        env.set("HTTP_USER_AGENT", "curl/8").unwrap();
        let ua = Var::Lookup(Table::RequestHeader, "user-agent".into());
        assert_eq!(env.var(&ua), Some(&b"curl/8"[..]));
        env.set("req:User-Agent", "wget").unwrap();
        let core = Var::Core(CoreVar::lookup("HTTP_USER_AGENT", Dialect::V24).unwrap());
        assert_eq!(env.var(&core), Some(&b"wget"[..]));
        assert_eq!(
            env.iter()
                .filter(|(k, _)| **k == ua || k.to_string() == "HTTP:User-Agent")
                .count(),
            1
        );
        // env(): notes, then the request environment, then the process's.
        env.set("reqenv:SCRIPT_NAME", "/env").unwrap();
        assert_eq!(
            env.var(&Var::Lookup(Table::Env, "script_name".into())),
            Some(&b"/env"[..])
        );
        assert!(env.set("SSL_BOGUS", "x").is_err());
        assert!(env.set("NO_SUCH_VAR", "x").is_err());
    }

    #[test]
    fn c_strings_end_at_the_first_nul() {
        for len in 0..80 {
            for at in (0..len).chain([usize::MAX]) {
                let mut v = vec![b'a'; len];
                if at < len {
                    v[at] = 0;
                    v[len - 1] = 0;
                }
                let want = v.iter().position(|&c| c == 0).unwrap_or(len);
                assert_eq!(cstr(&v).len(), want, "len {len}, NUL at {at}");
                // 0x80 and 0x01 around a NUL-free word are no NUL.
                v.iter_mut().filter(|c| **c != 0).for_each(|c| *c = 0x81);
                assert_eq!(cstr(&v).len(), want);
            }
        }
        assert!(eq_cstr(b"abc", b"abc") && eq_cstr(b"abc\0x", b"abc"));
        assert!(!eq_cstr(b"ab", b"abc") && !eq_cstr(b"abcx", b"abc"));
        assert!(!eq_cstr(b"abd\0", b"abc") && eq_cstr(b"\0", b""));
        assert!(!eq_cstr(b"x", b""));
        // Every length `same` has a case for, differing at every byte.
        for n in 0..40 {
            let a: Vec<u8> = (0..n as u8).collect();
            assert!(same(&a, &a));
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x80;
                assert!(!same(&a, &b), "{n} {i}");
            }
        }
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
            let proc = FileAccess::under("/proc").unwrap();
            assert_eq!(proc.read(b"/proc/version").unwrap(), b"");
        }
    }

    #[test]
    fn file_reading_errors() {
        let root = FileAccess::under("/").unwrap();
        let e = root.read(b"/nonexistent/sslrequire").unwrap_err();
        assert_eq!(e.code(), "E300");
        // Nothing without a directory allowed.
        let e = FileAccess::none().read(b"/etc/hostname").unwrap_err();
        assert_eq!(e.code(), "E303");
        assert_eq!(
            VarMap::new().files().stat(b"/", true).unwrap_err().code(),
            "E303"
        );
    }
}
