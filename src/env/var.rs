//! Variable names → [`Var`], with mod_ssl's and ap_expr's exact name rules.
//!
//! Apache resolves `%{NAME}` in two places, and their case rules differ:
//! ap_expr's core table (`strcasecmp`, so `%{remote_addr}` works) and
//! mod_ssl's `ssl_var_lookup_ssl` (`SSL_` plus a chain of prefix tests, most
//! case-insensitive, but the `S`/`I` of `S_DN`, the DN component names, `RAW`
//! and the otherName types `msUPN`/`dnsSRV` compared case-sensitively).
//! [`resolve`](super::resolve()) (in `resolve.rs`) mirrors both, so
//! `%{ssl_client_s_dn_cn}` is `""` here too.

use std::fmt;

use crate::dialect::Dialect;
pub use crate::x509::select::{DnAttr, NameKind, SanKind};

/// Which certificate a certificate variable reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The peer (client) certificate: `SSL_CLIENT_*`.
    Client,
    /// The certificate this server presented: `SSL_SERVER_*`.
    Server,
}

/// mod_ssl's `ssl_var_lookup_ssl_cert_dn_rec`, compared case-sensitively.
pub(super) const DN_ATTRS: &[(&str, DnAttr)] = &[
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

pub(super) const SESSION_VARS: &[(&str, SessionVar)] = &[
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
pub struct CoreVar(pub(super) u8);

pub(super) const IN_22: u8 = 1;
pub(super) const IN_24: u8 = 2;
pub(super) const BOTH: u8 = IN_22 | IN_24;

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

impl Var {
    /// A number naming this variable, for every variable but a request
    /// table's entries (`None`: those compare by name, case-blind): equal
    /// keys, equal variables. Environments keyed by it compare one word
    /// per entry instead of a `Var`.
    pub(crate) fn key(&self) -> Option<u64> {
        const CORE: u64 = 1 << 56;
        const SESSION: u64 = 2 << 56;
        const CERT: u64 = 3 << 56;
        const CHAIN: u64 = 4 << 56;
        Some(match self {
            Var::Core(c) => CORE | u64::from(c.0),
            Var::Session(s) => SESSION | *s as u64,
            Var::Cert(side, c) => {
                let field = match *c {
                    CertVar::MVersion => 0,
                    CertVar::MSerial => 1,
                    CertVar::VStart => 2,
                    CertVar::VEnd => 3,
                    CertVar::VRemain => 4,
                    CertVar::Dn(n) => 5 | (n as u64) << 4,
                    CertVar::DnAttr {
                        name,
                        attr,
                        index,
                        raw,
                    } => {
                        6 | (name as u64) << 4
                            | (attr as u64) << 5
                            | u64::from(raw) << 10
                            | u64::from(index) << 11
                    }
                    CertVar::San { kind, index } => 7 | (kind as u64) << 4 | u64::from(index) << 8,
                    CertVar::ASig => 8,
                    CertVar::AKey => 9,
                    CertVar::Cert => 10,
                };
                CERT | (*side as u64) << 48 | field
            }
            Var::ClientCertChain(n) => CHAIN | u64::from(*n),
            Var::Lookup(..) => return None,
        })
    }
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
