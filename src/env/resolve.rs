//! `%{NAME}` → [`Var`]: Apache's name rules (ap_expr's core table and
//! mod_ssl's `ssl_var_lookup_ssl`), for both dialects.

use super::var::*;
use crate::dialect::Dialect;

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
