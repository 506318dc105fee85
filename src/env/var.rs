//! Variable names → [`Var`], with mod_ssl's and ap_expr's exact name rules.
//!
//! Apache resolves `%{NAME}` in two places, and their case rules differ:
//! ap_expr's core table (`strcasecmp`, so `%{remote_addr}` works) and
//! mod_ssl's `ssl_var_lookup_ssl` (`SSL_` plus a chain of prefix tests, most
//! case-insensitive, but the `S`/`I` of `S_DN`, the DN component names, `RAW`
//! and the otherName types `msUPN`/`dnsSRV` compared case-sensitively).
//! [`resolve`] mirrors both, so `%{ssl_client_s_dn_cn}` is `""` here too.

use std::fmt;

use crate::dialect::Dialect;

/// Which certificate a certificate variable reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The peer (client) certificate: `SSL_CLIENT_*`.
    Client,
    /// The certificate this server presented: `SSL_SERVER_*`.
    Server,
}

/// Subject or issuer name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum NameKind {
    /// `S_DN`.
    Subject,
    /// `I_DN`.
    Issuer,
}

/// The DN attribute types mod_ssl exposes as `…_DN_<c>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DnAttr {
    /// `C` countryName.
    C,
    /// `ST` (alias `SP`) stateOrProvinceName.
    ST,
    /// `L` localityName.
    L,
    /// `O` organizationName.
    O,
    /// `OU` organizationalUnitName.
    OU,
    /// `CN` commonName.
    CN,
    /// `T` title.
    T,
    /// `I` initials.
    I,
    /// `G` givenName.
    G,
    /// `S` surname.
    S,
    /// `D` description.
    D,
    /// `UID` userId.
    UID,
    /// `Email` pkcs9 emailAddress.
    Email,
    /// `SerialNumber` serialNumber (2.5.4.5), which Apache 2.4.71 exports.
    SerialNumber,
}

/// mod_ssl's `ssl_var_lookup_ssl_cert_dn_rec`, compared case-sensitively.
const DN_ATTRS: &[(&str, DnAttr)] = &[
    ("C", DnAttr::C),
    ("ST", DnAttr::ST),
    ("SP", DnAttr::ST),
    ("L", DnAttr::L),
    ("O", DnAttr::O),
    ("OU", DnAttr::OU),
    ("CN", DnAttr::CN),
    ("T", DnAttr::T),
    ("I", DnAttr::I),
    ("G", DnAttr::G),
    ("S", DnAttr::S),
    ("D", DnAttr::D),
    ("UID", DnAttr::UID),
    ("Email", DnAttr::Email),
    ("SerialNumber", DnAttr::SerialNumber),
];

/// subjectAltName entry types (`SAN_Email_n`, `SAN_DNS_n`,
/// `SAN_OTHER_msUPN_n`, `SAN_OTHER_dnsSRV_n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SanKind {
    /// rfc822Name.
    Email,
    /// dNSName.
    Dns,
    /// otherName Microsoft UPN (UTF8String).
    MsUpn,
    /// otherName SRVName (IA5String).
    DnsSrv,
}

/// A certificate field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CertVar {
    /// `M_VERSION`
    MVersion,
    /// `M_SERIAL`
    MSerial,
    /// `V_START`
    VStart,
    /// `V_END`
    VEnd,
    /// `V_REMAIN`
    VRemain,
    /// `S_DN` / `I_DN`
    Dn(NameKind),
    /// `S_DN_<c>[_<n>][_RAW]` / `I_DN_…`
    DnAttr {
        /// Subject or issuer.
        name: NameKind,
        /// Which attribute type.
        attr: DnAttr,
        /// 0-based among attributes of that type, in certificate order.
        index: u32,
        /// `_RAW`: no UTF-8 conversion.
        raw: bool,
    },
    /// `SAN_<type>_<n>`
    San {
        /// Which entry type.
        kind: SanKind,
        /// 0-based among entries of that type.
        index: u16,
    },
    /// `A_SIG`
    ASig,
    /// `A_KEY`
    AKey,
    /// `CERT` (PEM)
    Cert,
}

/// A TLS session variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SessionVar {
    /// `SSL_PROTOCOL`
    Protocol,
    /// `SSL_SESSION_ID`
    SessionId,
    /// `SSL_SESSION_RESUMED`
    SessionResumed,
    /// `SSL_CIPHER`
    Cipher,
    /// `SSL_CIPHER_EXPORT`
    CipherExport,
    /// `SSL_CIPHER_USEKEYSIZE`
    CipherUseKeySize,
    /// `SSL_CIPHER_ALGKEYSIZE`
    CipherAlgKeySize,
    /// `SSL_COMPRESS_METHOD`
    CompressMethod,
    /// `SSL_TLS_SNI`
    TlsSni,
    /// `SSL_SECURE_RENEG`
    SecureReneg,
    /// `SSL_SRP_USER`
    SrpUser,
    /// `SSL_SRP_USERINFO`
    SrpUserInfo,
    /// `SSL_VERSION_INTERFACE`
    VersionInterface,
    /// `SSL_VERSION_LIBRARY`
    VersionLibrary,
    /// `SSL_CLIENT_VERIFY`
    ClientVerify,
    /// `SSL_CLIENT_CERT_RFC4523_CEA`
    ClientCertRfc4523Cea,
}

const SESSION_VARS: &[(&str, SessionVar)] = &[
    ("PROTOCOL", SessionVar::Protocol),
    ("SESSION_ID", SessionVar::SessionId),
    ("SESSION_RESUMED", SessionVar::SessionResumed),
    ("CIPHER", SessionVar::Cipher),
    ("CIPHER_EXPORT", SessionVar::CipherExport),
    ("CIPHER_USEKEYSIZE", SessionVar::CipherUseKeySize),
    ("CIPHER_ALGKEYSIZE", SessionVar::CipherAlgKeySize),
    ("COMPRESS_METHOD", SessionVar::CompressMethod),
    ("TLS_SNI", SessionVar::TlsSni),
    ("SECURE_RENEG", SessionVar::SecureReneg),
    ("SRP_USER", SessionVar::SrpUser),
    ("SRP_USERINFO", SessionVar::SrpUserInfo),
    ("VERSION_INTERFACE", SessionVar::VersionInterface),
    ("VERSION_LIBRARY", SessionVar::VersionLibrary),
    ("CLIENT_VERIFY", SessionVar::ClientVerify),
    ("CLIENT_CERT_RFC4523_CEA", SessionVar::ClientCertRfc4523Cea),
];

/// The non-SSL variables: ap_expr's core table (2.4) and the request and
/// server variables of mod_ssl 2.2's `ssl_var_lookup`. One table; the flags
/// say which dialect knows each name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CoreVar(u8);

const IN_22: u8 = 1;
const IN_24: u8 = 2;
const BOTH: u8 = IN_22 | IN_24;

/// Every core variable, in one table (the index is the [`CoreVar`] id).
pub(crate) const CORE_VARS: &[(&str, u8)] = &[
    ("HTTPS", BOTH),
    ("REMOTE_ADDR", BOTH),
    ("HTTP_USER_AGENT", BOTH),
    ("HTTP_REFERER", BOTH),
    ("HTTP_COOKIE", BOTH),
    ("HTTP_FORWARDED", BOTH),
    ("HTTP_HOST", BOTH),
    ("HTTP_PROXY_CONNECTION", BOTH),
    ("HTTP_ACCEPT", BOTH),
    ("THE_REQUEST", BOTH),
    ("REQUEST_METHOD", BOTH),
    ("REQUEST_SCHEME", BOTH),
    ("REQUEST_URI", BOTH),
    ("REQUEST_FILENAME", BOTH),
    ("SCRIPT_FILENAME", BOTH),
    ("QUERY_STRING", BOTH),
    ("PATH_INFO", BOTH),
    ("AUTH_TYPE", BOTH),
    ("REMOTE_USER", BOTH),
    ("REMOTE_IDENT", BOTH),
    ("REMOTE_HOST", BOTH),
    ("DOCUMENT_ROOT", BOTH),
    ("IS_SUBREQ", BOTH),
    ("SERVER_ADMIN", BOTH),
    ("SERVER_NAME", BOTH),
    ("SERVER_PORT", BOTH),
    ("SERVER_PROTOCOL", BOTH),
    ("SERVER_SOFTWARE", BOTH),
    ("API_VERSION", BOTH),
    ("TIME_YEAR", BOTH),
    ("TIME_MON", BOTH),
    ("TIME_DAY", BOTH),
    ("TIME_HOUR", BOTH),
    ("TIME_MIN", BOTH),
    ("TIME_SEC", BOTH),
    ("TIME_WDAY", BOTH),
    ("TIME", BOTH),
    ("IPV6", IN_24),
    ("CONN_LOG_ID", IN_24),
    ("CONN_REMOTE_ADDR", IN_24),
    ("HTTP2", IN_24),
    ("CONTENT_TYPE", IN_24),
    ("HANDLER", IN_24),
    ("REQUEST_LOG_ID", IN_24),
    ("SCRIPT_USER", IN_24),
    ("SCRIPT_GROUP", IN_24),
    ("DOCUMENT_URI", IN_24),
    ("LAST_MODIFIED", IN_24),
    ("CONTEXT_PREFIX", IN_24),
    ("CONTEXT_DOCUMENT_ROOT", IN_24),
    ("REQUEST_STATUS", IN_24),
    ("REMOTE_PORT", IN_24),
];

impl CoreVar {
    /// `REMOTE_ADDR` (read by `-R`).
    pub const REMOTE_ADDR: CoreVar = CoreVar(1);

    /// The variable's canonical (uppercase) name.
    pub fn name(self) -> &'static str {
        CORE_VARS[usize::from(self.0)].0
    }

    /// Looks a name up, case-insensitively, among the dialect's variables.
    pub fn lookup(name: &str, dialect: Dialect) -> Option<CoreVar> {
        let flag = match dialect {
            Dialect::V24 => IN_24,
            Dialect::V22 => IN_22,
        };
        CORE_VARS
            .iter()
            .position(|(n, f)| f & flag != 0 && n.eq_ignore_ascii_case(name))
            .map(|i| CoreVar(i as u8))
    }

    /// `TIME_YEAR` … `TIME`.
    pub fn time(which: TimeVar) -> CoreVar {
        let name = match which {
            TimeVar::Year => "TIME_YEAR",
            TimeVar::Mon => "TIME_MON",
            TimeVar::Day => "TIME_DAY",
            TimeVar::Hour => "TIME_HOUR",
            TimeVar::Min => "TIME_MIN",
            TimeVar::Sec => "TIME_SEC",
            TimeVar::Wday => "TIME_WDAY",
            TimeVar::Time => "TIME",
        };
        CoreVar::lookup(name, Dialect::V24).expect("time variables are in the table")
    }

    /// The request header an `HTTP_*` variable reads (`HTTP_USER_AGENT` →
    /// `User-Agent`). Apache keeps one table of request headers, which
    /// `%{HTTP_USER_AGENT}`, `%{HTTP:User-Agent}`, `req()` and `http()` all
    /// read; [`canonical`] stores these variables there.
    pub fn request_header(self) -> Option<&'static str> {
        // Indices of CORE_VARS (checked by a test).
        Some(match self.0 {
            2 => "User-Agent",
            3 => "Referer",
            4 => "Cookie",
            5 => "Forwarded",
            6 => "Host",
            7 => "Proxy-Connection",
            8 => "Accept",
            _ => return None,
        })
    }

    /// Which `TIME_*` variable this is, if any.
    pub fn as_time(self) -> Option<TimeVar> {
        Some(match self.name() {
            "TIME_YEAR" => TimeVar::Year,
            "TIME_MON" => TimeVar::Mon,
            "TIME_DAY" => TimeVar::Day,
            "TIME_HOUR" => TimeVar::Hour,
            "TIME_MIN" => TimeVar::Min,
            "TIME_SEC" => TimeVar::Sec,
            "TIME_WDAY" => TimeVar::Wday,
            "TIME" => TimeVar::Time,
            _ => return None,
        })
    }
}

/// The clock variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeVar {
    /// `TIME_YEAR`, 4 digits.
    Year,
    /// `TIME_MON`, `01`–`12`.
    Mon,
    /// `TIME_DAY`, `01`–`31`.
    Day,
    /// `TIME_HOUR`, `00`–`23`.
    Hour,
    /// `TIME_MIN`, `00`–`59`.
    Min,
    /// `TIME_SEC`, `00`–`60`.
    Sec,
    /// `TIME_WDAY`, `0` (Sunday)–`6`, not padded.
    Wday,
    /// `TIME`, `YYYYMMDDhhmmss`.
    Time,
}

/// A resolved variable: what the environment is asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Var {
    /// A core / request / server / time variable.
    Core(CoreVar),
    /// A TLS session variable.
    Session(SessionVar),
    /// A certificate field.
    Cert(Side, CertVar),
    /// `SSL_CLIENT_CERT_CHAIN_<n>` (PEM; the leaf is not in the chain).
    ClientCertChain(u32),
    /// An entry of one of the request's tables, by name: 2.2
    /// `%{HTTP:name}` / `%{ENV:name}`, 2.4 `%{http:name}`, `req(…)`,
    /// `env(…)`, `note(…)` … (header names compare case-insensitively).
    Lookup(Table, Box<str>),
}

/// The request tables that 2.4's lookup functions read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Table {
    /// Request headers: `req`, `http`, `req_novary`, 2.2 `HTTP:`.
    RequestHeader,
    /// Response headers: `resp`.
    ResponseHeader,
    /// Request notes: `note`.
    Note,
    /// The per-request environment (`SetEnv`…): `reqenv`.
    RequestEnv,
    /// Notes, then the per-request environment, then the process
    /// environment: `env`, 2.2 `ENV:`.
    Env,
    /// The process environment: `osenv`.
    OsEnv,
}

impl Table {
    /// The 2.4 function name that reads this table.
    pub fn func_name(self) -> &'static str {
        match self {
            Table::RequestHeader => "http",
            Table::ResponseHeader => "resp",
            Table::Note => "note",
            Table::RequestEnv => "reqenv",
            Table::Env => "env",
            Table::OsEnv => "osenv",
        }
    }
}

impl fmt::Display for Var {
    /// The canonical name Apache exports the variable under.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Var::Core(c) => f.write_str(c.name()),
            Var::Session(s) => {
                let name = SESSION_VARS
                    .iter()
                    .find(|(_, v)| v == s)
                    .map_or("", |(n, _)| n);
                write!(f, "SSL_{name}")
            }
            Var::Cert(side, c) => {
                let side = match side {
                    Side::Client => "CLIENT",
                    Side::Server => "SERVER",
                };
                write!(f, "SSL_{side}_")?;
                let dn = |n: &NameKind| match n {
                    NameKind::Subject => "S_DN",
                    NameKind::Issuer => "I_DN",
                };
                match c {
                    CertVar::MVersion => f.write_str("M_VERSION"),
                    CertVar::MSerial => f.write_str("M_SERIAL"),
                    CertVar::VStart => f.write_str("V_START"),
                    CertVar::VEnd => f.write_str("V_END"),
                    CertVar::VRemain => f.write_str("V_REMAIN"),
                    CertVar::Dn(n) => f.write_str(dn(n)),
                    CertVar::DnAttr {
                        name,
                        attr,
                        index,
                        raw,
                    } => {
                        write!(f, "{}_{}", dn(name), attr.var_name())?;
                        if *index > 0 {
                            write!(f, "_{index}")?;
                        }
                        if *raw {
                            f.write_str("_RAW")?;
                        }
                        Ok(())
                    }
                    CertVar::San { kind, index } => {
                        let k = match kind {
                            SanKind::Email => "Email",
                            SanKind::Dns => "DNS",
                            SanKind::MsUpn => "OTHER_msUPN",
                            SanKind::DnsSrv => "OTHER_dnsSRV",
                        };
                        write!(f, "SAN_{k}_{index}")
                    }
                    CertVar::ASig => f.write_str("A_SIG"),
                    CertVar::AKey => f.write_str("A_KEY"),
                    CertVar::Cert => f.write_str("CERT"),
                }
            }
            Var::ClientCertChain(n) => write!(f, "SSL_CLIENT_CERT_CHAIN_{n}"),
            Var::Lookup(Table::RequestHeader, h) => write!(f, "HTTP:{h}"),
            Var::Lookup(Table::Env, e) => write!(f, "ENV:{e}"),
            Var::Lookup(t, name) => write!(f, "{}:{name}", t.func_name()),
        }
    }
}

/// The one place a value is kept: `HTTP_*` core variables are entries of
/// the request-header table (see [`CoreVar::request_header`]), every other
/// variable is itself.
pub fn canonical(var: Var) -> Var {
    match var {
        Var::Core(c) => match c.request_header() {
            Some(h) => Var::Lookup(Table::RequestHeader, h.into()),
            None => var,
        },
        other => other,
    }
}

/// The request header a CGI environment name stands for: `HTTP_X_FORWARDED_FOR`
/// → `X-Forwarded-For` (Apache 2.4 passes only headers made of letters,
/// digits and `-` to CGI, each `-` as `_`, so this is the inverse).
pub fn cgi_header(name: &str) -> Option<String> {
    let rest = name.strip_prefix("HTTP_").filter(|r| !r.is_empty())?;
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let words: Vec<String> = rest
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect();
    Some(words.join("-"))
}

/// The CGI name Apache exports a request header under (`User-Agent` →
/// `HTTP_USER_AGENT`).
pub fn header_cgi_name(header: &str) -> String {
    let mut s = String::with_capacity(header.len() + 5);
    s.push_str("HTTP_");
    s.extend(header.chars().map(|c| match c {
        '-' => '_',
        c => c.to_ascii_uppercase(),
    }));
    s
}

/// Names a CGI script under Apache sees that are not expression variables
/// (`ap_add_common_vars`, `ap_add_cgi_vars`, the script's shell): Apache
/// keeps them in the subprocess environment, which `reqenv()` and `env()`
/// read.
pub const CGI_ONLY: &[&str] = &[
    "GATEWAY_INTERFACE",
    "SERVER_ADDR",
    "SERVER_SIGNATURE",
    "SCRIPT_NAME",
    "SCRIPT_URI",
    "SCRIPT_URL",
    "PATH",
    "PATH_TRANSLATED",
    "CONTENT_LENGTH",
    "UNIQUE_ID",
    "REDIRECT_STATUS",
    "REDIRECT_URL",
    "REDIRECT_QUERY_STRING",
    "LD_LIBRARY_PATH",
    "SystemRoot",
    "COMSPEC",
    "PATHEXT",
    "WINDIR",
    "TZ",
    "LANG",
    "PWD",
    "SHLVL",
    "_",
];

/// What a variable name means in a dialect.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolved {
    /// A variable the environment provides.
    Var(Var),
    /// A name Apache accepts that is always `""` (an `SSL_*` name mod_ssl
    /// does not know, or any unknown name in 2.2).
    Empty,
    /// Not a variable (2.4: a compile error).
    Unknown,
}

/// Resolves `%{name}` as Apache does in `dialect`.
pub fn resolve(name: &str, dialect: Dialect) -> Resolved {
    if let Some(rest) = strip_prefix_ci(name, "SSL_") {
        if rest.is_empty() && dialect == Dialect::V24 {
            // `strlen(var) > 4` fails in mod_ssl; ap_expr has no `SSL_`.
            return Resolved::Empty;
        }
        return ssl(rest).map_or(Resolved::Empty, Resolved::Var);
    }
    if let Some(c) = CoreVar::lookup(name, dialect) {
        return Resolved::Var(Var::Core(c));
    }
    if dialect == Dialect::V22 {
        // ssl_var_lookup's prefixes; `strlen(var) > 5` / `> 4`.
        if let Some(h) = strip_prefix_ci(name, "HTTP:").filter(|h| !h.is_empty()) {
            return Resolved::Var(Var::Lookup(Table::RequestHeader, h.into()));
        }
        if let Some(e) = strip_prefix_ci(name, "ENV:").filter(|e| !e.is_empty()) {
            return Resolved::Var(Var::Lookup(Table::Env, e.into()));
        }
        return Resolved::Empty;
    }
    Resolved::Unknown
}

/// `ssl_var_lookup_ssl(var)` after `SSL_`.
fn ssl(var: &str) -> Option<Var> {
    if let Some(n) = strip_prefix_ci(var, "CLIENT_CERT_CHAIN_") {
        // strspn(var, digits) == strlen(var): the empty string qualifies but
        // `strlen(var) > 18` excludes it.
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Var::ClientCertChain(atoi(n)?));
        }
        return None;
    }
    if let Some(&(_, v)) = SESSION_VARS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(var))
    {
        return Some(Var::Session(v));
    }
    if let Some(rest) = strip_prefix_ci(var, "CLIENT_").filter(|r| !r.is_empty()) {
        return cert(rest).map(|c| Var::Cert(Side::Client, c));
    }
    if let Some(rest) = strip_prefix_ci(var, "SERVER_").filter(|r| !r.is_empty()) {
        return cert(rest).map(|c| Var::Cert(Side::Server, c));
    }
    None
}

/// `ssl_var_lookup_ssl_cert(var)` after `CLIENT_` / `SERVER_`.
fn cert(var: &str) -> Option<CertVar> {
    let exact = [
        ("M_VERSION", CertVar::MVersion),
        ("M_SERIAL", CertVar::MSerial),
        ("V_START", CertVar::VStart),
        ("V_END", CertVar::VEnd),
        ("V_REMAIN", CertVar::VRemain),
        ("A_SIG", CertVar::ASig),
        ("A_KEY", CertVar::AKey),
        ("CERT", CertVar::Cert),
    ];
    if let Some(&(_, c)) = exact.iter().find(|(n, _)| n.eq_ignore_ascii_case(var)) {
        return Some(c);
    }
    // `*var == 'S'` / `'I'`: case-sensitive; `_DN` / `_DN_`: not.
    let name = match var.as_bytes().first() {
        Some(b'S') => Some(NameKind::Subject),
        Some(b'I') => Some(NameKind::Issuer),
        _ => None,
    };
    // Compared as bytes: the first character may be multi-byte (request
    // data can reach SSL()). See: tests/fuzz-cases/session/var-name-multibyte-after-ssl-client
    let b = var.as_bytes();
    if b.len() == 4 && b[1..].eq_ignore_ascii_case(b"_DN") {
        return name.map(CertVar::Dn);
    }
    if b.len() > 5 && b[1..5].eq_ignore_ascii_case(b"_DN_") {
        let (attr, index, raw) = dn_component(&var[5..])?;
        return Some(CertVar::DnAttr {
            name: name?,
            attr,
            index,
            raw,
        });
    }
    if var.len() > 4 {
        if let Some(rest) = strip_prefix_ci(var, "SAN_") {
            return san(rest);
        }
    }
    None
}

/// `ssl_var_lookup_ssl_cert_dn`'s suffix parsing: `<c>[_<n>][_RAW]`.
fn dn_component(var: &str) -> Option<(DnAttr, u32, bool)> {
    let mut var = var;
    let mut raw = false;
    if let Some(p) = var.rfind('_') {
        if p > 0 && &var[p + 1..] == "RAW" {
            var = &var[..p];
            raw = true;
        }
    }
    let (name, index) = match var.find('_') {
        Some(p) if var[p + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            (&var[..p], atoi(&var[p + 1..])?)
        }
        _ => (var, 0),
    };
    let &(_, attr) = DN_ATTRS.iter().find(|(n, _)| *n == name)?;
    Some((attr, index, raw))
}

/// `ssl_var_lookup_ssl_cert_san`: `Email_n`, `DNS_n`, `OTHER_msUPN_n`,
/// `OTHER_dnsSRV_n`, with 1–4 digits.
fn san(var: &str) -> Option<CertVar> {
    let (kind, digits) = if let Some(d) = strip_prefix_ci(var, "Email_") {
        (SanKind::Email, d)
    } else if let Some(d) = strip_prefix_ci(var, "DNS_") {
        (SanKind::Dns, d)
    } else if let Some(o) = strip_prefix_ci(var, "OTHER_") {
        if let Some(d) = o.strip_prefix("msUPN_") {
            (SanKind::MsUpn, d)
        } else if let Some(d) = o.strip_prefix("dnsSRV_") {
            (SanKind::DnsSrv, d)
        } else {
            return None;
        }
    } else {
        return None;
    };
    if (1..5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(CertVar::San {
            kind,
            index: digits.parse().ok()?,
        });
    }
    None
}

/// C `atoi` for an all-digit string; an index too large for any
/// certificate is treated as absent (C would overflow).
fn atoi(digits: &str) -> Option<u32> {
    if digits.is_empty() {
        return Some(0);
    }
    digits.parse::<u32>().ok().filter(|&n| n <= i32::MAX as u32)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r24(name: &str) -> Resolved {
        resolve(name, Dialect::V24)
    }

    fn cv(side: Side, c: CertVar) -> Resolved {
        Resolved::Var(Var::Cert(side, c))
    }

    fn dn(attr: DnAttr, index: u32, raw: bool) -> CertVar {
        CertVar::DnAttr {
            name: NameKind::Subject,
            attr,
            index,
            raw,
        }
    }

    #[test]
    fn case_rules_as_measured() {
        // Apache 2.4.71: these resolve …
        assert_eq!(
            r24("ssl_protocol"),
            Resolved::Var(Var::Session(SessionVar::Protocol))
        );
        assert_eq!(
            r24("SSL_client_S_DN_CN"),
            cv(Side::Client, dn(DnAttr::CN, 0, false))
        );
        assert_eq!(
            r24("SSL_CLIENT_SAN_email_0"),
            cv(
                Side::Client,
                CertVar::San {
                    kind: SanKind::Email,
                    index: 0
                }
            )
        );
        // … and these are "" (S of S_DN and the component are case-sensitive).
        assert_eq!(r24("ssl_client_s_dn_cn"), Resolved::Empty);
        assert_eq!(r24("ssl_client_s_dn_CN"), Resolved::Empty);
        assert_eq!(r24("SSL_CLIENT_S_DN_email"), Resolved::Empty);
        assert_eq!(r24("SSL_CLIENT_S_DN_emailAddress"), Resolved::Empty);
        assert_eq!(r24("SSL_BOGUS_VARIABLE"), Resolved::Empty);
        assert_eq!(r24("NO_SUCH_VAR"), Resolved::Unknown);
        assert_eq!(r24("HTTP_X_FOO"), Resolved::Unknown);
        assert_eq!(resolve("HTTP_X_FOO", Dialect::V22), Resolved::Empty);
        assert_eq!(resolve("X", Dialect::V22), Resolved::Empty);
        assert_eq!(
            r24("remote_addr"),
            Resolved::Var(Var::Core(
                CoreVar::lookup("REMOTE_ADDR", Dialect::V24).unwrap()
            ))
        );
        assert_eq!(resolve("IPV6", Dialect::V22), Resolved::Empty);
    }

    #[test]
    fn named_core_vars_match_the_table() {
        assert_eq!(CoreVar::REMOTE_ADDR.name(), "REMOTE_ADDR");
        for (i, (name, _)) in CORE_VARS.iter().enumerate() {
            let header = CoreVar(i as u8).request_header();
            assert_eq!(
                header.map(header_cgi_name).as_deref(),
                name.starts_with("HTTP_").then_some(*name),
                "{name}"
            );
            if let Some(h) = header {
                assert_eq!(cgi_header(name).as_deref(), Some(h));
            }
        }
        assert_eq!(cgi_header("HTTP_X_TEST").as_deref(), Some("X-Test"));
        assert_eq!(cgi_header("HTTP_"), None);
        assert_eq!(cgi_header("GATEWAY_INTERFACE"), None);
    }

    #[test]
    fn dn_suffixes() {
        assert_eq!(
            r24("SSL_CLIENT_S_DN_OU_1"),
            cv(Side::Client, dn(DnAttr::OU, 1, false))
        );
        assert_eq!(
            r24("SSL_CLIENT_S_DN_OU_0"),
            cv(Side::Client, dn(DnAttr::OU, 0, false))
        );
        assert_eq!(
            r24("SSL_CLIENT_S_DN_CN_"),
            cv(Side::Client, dn(DnAttr::CN, 0, false))
        );
        assert_eq!(
            r24("SSL_CLIENT_S_DN_SP"),
            cv(Side::Client, dn(DnAttr::ST, 0, false))
        );
        assert_eq!(
            r24("SSL_CLIENT_S_DN_CN_RAW"),
            cv(Side::Client, dn(DnAttr::CN, 0, true))
        );
        assert_eq!(
            r24("SSL_CLIENT_S_DN_OU_2_RAW"),
            cv(Side::Client, dn(DnAttr::OU, 2, true))
        );
        assert_eq!(r24("SSL_CLIENT_S_DN_CN_raw"), Resolved::Empty);
        assert_eq!(r24("SSL_CLIENT_S_DN_CN_x"), Resolved::Empty);
        assert_eq!(
            r24("SSL_SERVER_I_dn_O"),
            cv(
                Side::Server,
                CertVar::DnAttr {
                    name: NameKind::Issuer,
                    attr: DnAttr::O,
                    index: 0,
                    raw: false
                }
            )
        );
        assert_eq!(
            r24("SSL_CLIENT_S_DN"),
            cv(Side::Client, CertVar::Dn(NameKind::Subject))
        );
        assert_eq!(r24("SSL_CLIENT_s_DN"), Resolved::Empty);
        assert_eq!(r24("SSL_CLIENT_S_DN_CN_99999999999"), Resolved::Empty);
    }

    #[test]
    fn multibyte_names_do_not_panic() {
        for name in [
            "SSL_CLIENT_éab",
            "SSL_CLIENT_é_DN",
            "SSL_CLIENT_éDN_CN",
            "SSL_CLIENT_S_DN_é",
            "SSL_é",
        ] {
            assert_eq!(r24(name), Resolved::Empty, "{name}");
        }
    }

    #[test]
    fn san_and_chain() {
        assert_eq!(
            r24("SSL_CLIENT_SAN_OTHER_msUPN_0"),
            cv(
                Side::Client,
                CertVar::San {
                    kind: SanKind::MsUpn,
                    index: 0
                }
            )
        );
        assert_eq!(r24("SSL_CLIENT_SAN_OTHER_msupn_0"), Resolved::Empty);
        assert_eq!(r24("SSL_CLIENT_SAN_DNS_12345"), Resolved::Empty);
        assert_eq!(r24("SSL_CLIENT_SAN_DNS_"), Resolved::Empty);
        assert_eq!(
            r24("SSL_CLIENT_CERT_CHAIN_0"),
            Resolved::Var(Var::ClientCertChain(0))
        );
        assert_eq!(r24("SSL_CLIENT_CERT_CHAIN_"), Resolved::Empty);
        assert_eq!(r24("SSL_CLIENT_CERT_CHAIN_x"), Resolved::Empty);
        assert_eq!(r24("SSL_SERVER_CERT_CHAIN_0"), Resolved::Empty);
    }

    #[test]
    fn display_is_the_canonical_name() {
        for name in [
            "SSL_CLIENT_S_DN_OU_1",
            "SSL_SERVER_I_DN_CN_RAW",
            "SSL_CLIENT_SAN_OTHER_dnsSRV_3",
            "SSL_CIPHER_USEKEYSIZE",
            "SSL_CLIENT_CERT_CHAIN_2",
            "TIME_WDAY",
            "SSL_CLIENT_V_REMAIN",
        ] {
            let Resolved::Var(v) = r24(name) else {
                panic!("{name}")
            };
            assert_eq!(v.to_string(), name);
        }
    }
}
