//! "Did you mean …" for names that always read `""`.

use crate::dialect::Dialect;
use crate::env::{resolve, Resolved, CORE_VARS};

const SESSION: &[&str] = &[
    "PROTOCOL",
    "SESSION_ID",
    "SESSION_RESUMED",
    "CIPHER",
    "CIPHER_EXPORT",
    "CIPHER_USEKEYSIZE",
    "CIPHER_ALGKEYSIZE",
    "COMPRESS_METHOD",
    "TLS_SNI",
    "SECURE_RENEG",
    "SRP_USER",
    "SRP_USERINFO",
    "VERSION_INTERFACE",
    "VERSION_LIBRARY",
    "CLIENT_VERIFY",
    "CLIENT_CERT_RFC4523_CEA",
    "CLIENT_CERT_CHAIN_0",
];

const CERT: &[&str] = &[
    "M_VERSION",
    "M_SERIAL",
    "V_START",
    "V_END",
    "V_REMAIN",
    "A_SIG",
    "A_KEY",
    "CERT",
    "S_DN",
    "I_DN",
    "SAN_Email_0",
    "SAN_DNS_0",
    "SAN_OTHER_msUPN_0",
    "SAN_OTHER_dnsSRV_0",
];

/// DN component names mod_ssl knows, and what people write for them.
const COMPONENTS: &[(&str, &[&str])] = &[
    ("C", &["COUNTRY", "COUNTRYNAME"]),
    ("ST", &["STATE", "STATEORPROVINCENAME", "PROVINCE"]),
    ("L", &["LOCALITY", "LOCALITYNAME", "CITY"]),
    (
        "O",
        &["ORG", "ORGANIZATION", "ORGANISATION", "ORGANIZATIONNAME"],
    ),
    (
        "OU",
        &["ORGUNIT", "ORGANIZATIONALUNIT", "ORGANIZATIONALUNITNAME"],
    ),
    ("CN", &["COMMONNAME", "NAME"]),
    ("T", &["TITLE"]),
    ("I", &["INITIALS"]),
    ("G", &["GN", "GIVENNAME"]),
    ("S", &["SN", "SURNAME"]),
    ("D", &["DESCRIPTION"]),
    ("UID", &["USERID", "USER_ID"]),
    ("Email", &["EMAIL", "EMAILADDRESS", "E", "MAIL"]),
    ("SerialNumber", &["SERIAL", "SERIALNUMBER"]),
];

/// A name that resolves, close to `name` (which reads `""`).
pub(super) fn suggest(name: &str, dialect: Dialect) -> Option<String> {
    let upper = name.to_ascii_uppercase();
    // SSL_{CLIENT,SERVER}_{S,I}_DN_<component>[_n][_RAW]: fix the component.
    if let Some(s) = dn_component(name, &upper) {
        return Some(s).filter(|s| resolves(s, dialect));
    }
    let mut candidates: Vec<String> = Vec::new();
    for s in SESSION {
        candidates.push(format!("SSL_{s}"));
    }
    for side in ["CLIENT", "SERVER"] {
        for c in CERT {
            candidates.push(format!("SSL_{side}_{c}"));
        }
        for dn in ["S", "I"] {
            for (c, _) in COMPONENTS {
                candidates.push(format!("SSL_{side}_{dn}_DN_{c}"));
            }
        }
    }
    if !upper.starts_with("SSL_") {
        candidates.extend(CORE_VARS.iter().map(|(n, _)| n.to_string()));
    }
    candidates.retain(|c| resolves(c, dialect));
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        return Some(c.clone());
    }
    candidates
        .iter()
        .map(|c| (distance(&c.to_ascii_uppercase(), &upper), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

fn resolves(name: &str, dialect: Dialect) -> bool {
    matches!(resolve(name, dialect), Resolved::Var(_))
}

fn dn_component(name: &str, upper: &str) -> Option<String> {
    let mut head_len = None;
    for side in ["SSL_CLIENT_", "SSL_SERVER_"] {
        for dn in ["S_DN_", "I_DN_"] {
            if upper.starts_with(&format!("{side}{dn}")) {
                head_len = Some(side.len() + dn.len());
            }
        }
    }
    let head_len = head_len?;
    // The `S`/`I` is case-sensitive: write it upper-case.
    let head = format!(
        "{}{}_DN_",
        &name[..head_len - 5].to_ascii_uppercase(),
        &upper[head_len - 5..head_len - 4]
    );
    let mut rest = &name[head_len..];
    let mut raw = "";
    if rest
        .get(rest.len().saturating_sub(4)..)
        .is_some_and(|t| rest.len() > 4 && t.eq_ignore_ascii_case("_RAW"))
    {
        raw = "_RAW";
        rest = &rest[..rest.len() - 4];
    }
    let (comp, index) = match rest.rfind('_') {
        Some(p)
            if !rest[p + 1..].is_empty() && rest[p + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            (&rest[..p], &rest[p..])
        }
        _ => (rest, ""),
    };
    let cu = comp.to_ascii_uppercase();
    let (fixed, _) = COMPONENTS
        .iter()
        .find(|(c, aliases)| c.eq_ignore_ascii_case(comp) || aliases.contains(&cu.as_str()))?;
    Some(format!("{head}{fixed}{index}{raw}"))
}

/// Levenshtein distance (names are short).
fn distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let s = |n: &str| suggest(n, Dialect::V24);
        assert_eq!(
            s("SSL_CLIENT_S_DN_email").as_deref(),
            Some("SSL_CLIENT_S_DN_Email")
        );
        assert_eq!(
            s("SSL_CLIENT_S_DN_emailAddress").as_deref(),
            Some("SSL_CLIENT_S_DN_Email")
        );
        assert_eq!(
            s("ssl_client_s_dn_cn").as_deref(),
            Some("SSL_CLIENT_S_DN_CN")
        );
        assert_eq!(
            s("SSL_CLIENT_S_DN_ou_1").as_deref(),
            Some("SSL_CLIENT_S_DN_OU_1")
        );
        assert_eq!(s("SSL_CLEINT_VERIFY").as_deref(), Some("SSL_CLIENT_VERIFY"));
        assert_eq!(
            s("SSL_CIPHER_USEKEYSIZ").as_deref(),
            Some("SSL_CIPHER_USEKEYSIZE")
        );
        assert_eq!(s("SSL_TOTALLY_UNRELATED_THING"), None);
        // Multi-byte names do not panic.
        for n in [
            "SSL_CLIENT_S_DN_xxxé",
            "SSL_CLIENT_S_DN_é_RAW",
            "SSL_CLIENT_S_DN_éé",
        ] {
            let _ = s(n);
        }
    }
}
