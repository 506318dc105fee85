//! The distinguished names nginx's mail proxy sends (`Auth-SSL-Subject`,
//! `Auth-SSL-Issuer`) as mod_ssl shows them.
//!
//! nginx 1.22 prints them with OpenSSL's `X509_NAME_print_ex(…,
//! XN_FLAG_RFC2253)`: last RDN first, `,` between RDNs, `+` inside one,
//! short names, specials escaped with `\` and every byte ≥ 0x80 as `\XX`
//! (mail-reference/nginx/README.md, "Formats"). mod_ssl 2.4 prints the same
//! name with `XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB`: the same string with
//! those bytes themselves (UTF-8). Its `_CN`, `_OU_1` … are the entries'
//! values unescaped, counted in the certificate's order (the string's order
//! reversed), under mod_ssl's names (`ssl_var_lookup_ssl_cert_dn_rec`).

/// OpenSSL's short name → mod_ssl's suffix, for the attributes mod_ssl
/// exports (`SP` is `ST`, which mod_ssl exports).
const SUFFIXES: &[(&str, &str)] = &[
    ("C", "C"),
    ("ST", "ST"),
    ("L", "L"),
    ("O", "O"),
    ("OU", "OU"),
    ("CN", "CN"),
    ("title", "T"),
    ("initials", "I"),
    ("GN", "G"),
    ("SN", "S"),
    ("description", "D"),
    ("UID", "UID"),
    ("emailAddress", "Email"),
];

/// A name as mod_ssl shows it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dn {
    /// `SSL_CLIENT_S_DN` / `_I_DN`.
    pub text: Vec<u8>,
    /// `(suffix, value)` in the certificate's order, for the attributes
    /// mod_ssl exports (`CN`, `OU`, `Email` …).
    pub entries: Vec<(&'static str, Vec<u8>)>,
}

impl Dn {
    /// The component variables: `PREFIX_CN`, then `PREFIX_OU`, `PREFIX_OU_1`
    /// … (mod_ssl's `_0` is the first, also without a number).
    pub fn vars(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (suffix, value) in &self.entries {
            let n = match seen.iter_mut().find(|(s, _)| s == suffix) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((suffix, 0));
                    0
                }
            };
            if n == 0 {
                out.push((format!("{prefix}_{suffix}"), value.clone()));
            }
            out.push((format!("{prefix}_{suffix}_{n}"), value.clone()));
        }
        out
    }
}

fn hex(b: &[u8]) -> Option<u8> {
    let s = std::str::from_utf8(b.get(..2)?).ok()?;
    u8::from_str_radix(s, 16).ok()
}

/// Reads an RFC 2253 name as OpenSSL prints it.
///
/// # Errors
/// An entry without `=`, or a `\` at the end.
pub fn parse(rfc2253: &[u8]) -> Result<Dn, String> {
    let mut dn = Dn::default();
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let (mut key, mut value): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
    let mut in_value = false;
    let mut i = 0;
    let end_entry = |key: &mut Vec<u8>, value: &mut Vec<u8>, entries: &mut Vec<_>| {
        entries.push((std::mem::take(key), std::mem::take(value)));
    };
    while i < rfc2253.len() {
        let b = rfc2253[i];
        match b {
            b'\\' => {
                let next = rfc2253
                    .get(i + 1)
                    .ok_or("the name ends with `\\` (an escape without its character)")?;
                if let Some(byte) = hex(&rfc2253[i + 1..]) {
                    // mod_ssl shows bytes ≥ 0x80 themselves, escapes the
                    // control characters as OpenSSL does.
                    if byte >= 0x80 {
                        dn.text.push(byte);
                    } else {
                        dn.text.extend_from_slice(&rfc2253[i..i + 3]);
                    }
                    value.push(byte);
                    i += 3;
                } else {
                    dn.text.extend_from_slice(&[b'\\', *next]);
                    value.push(*next);
                    i += 2;
                }
                continue;
            }
            b'=' if !in_value => in_value = true,
            b',' | b'+' => {
                if !in_value {
                    return Err(format!(
                        "entry `{}` has no `=`",
                        String::from_utf8_lossy(&key).escape_debug()
                    ));
                }
                end_entry(&mut key, &mut value, &mut entries);
                in_value = false;
            }
            _ if in_value => value.push(b),
            _ => key.push(b),
        }
        dn.text.push(b);
        i += 1;
    }
    if !key.is_empty() || in_value {
        if !in_value {
            return Err(format!(
                "entry `{}` has no `=`",
                String::from_utf8_lossy(&key).escape_debug()
            ));
        }
        end_entry(&mut key, &mut value, &mut entries);
    }
    for (key, value) in entries.into_iter().rev() {
        if let Some((_, suffix)) = SUFFIXES.iter().find(|(k, _)| k.as_bytes() == key) {
            dn.entries.push((suffix, value));
        }
    }
    Ok(dn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_names_as_mod_ssl_shows_them() {
        // mail-reference/nginx/requests.jsonl (zoe) and
        // tests/apache-2.4.71/env/zoe.json.
        let dn = parse(br#"emailAddress=zoe@example.fr,CN=Zo\C3\AB \C3\9Cn\C3\AFcode+UID=zoe,OU=R&D \+ Ops,O=Quote \"Corp\",C=FR"#).unwrap();
        assert_eq!(
            String::from_utf8(dn.text.clone()).unwrap(),
            r#"emailAddress=zoe@example.fr,CN=Zoë Ünïcode+UID=zoe,OU=R&D \+ Ops,O=Quote \"Corp\",C=FR"#
        );
        let vars = dn.vars("SSL_CLIENT_S_DN");
        let get = |n: &str| {
            vars.iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
        };
        assert_eq!(get("SSL_CLIENT_S_DN_CN").as_deref(), Some("Zoë Ünïcode"));
        assert_eq!(get("SSL_CLIENT_S_DN_O").as_deref(), Some("Quote \"Corp\""));
        assert_eq!(get("SSL_CLIENT_S_DN_OU").as_deref(), Some("R&D + Ops"));
        assert_eq!(
            get("SSL_CLIENT_S_DN_Email").as_deref(),
            Some("zoe@example.fr")
        );
        assert_eq!(get("SSL_CLIENT_S_DN_UID").as_deref(), Some("zoe"));
        assert_eq!(get("SSL_CLIENT_S_DN_C").as_deref(), Some("FR"));

        let alice = parse(b"UID=alice,emailAddress=alice@example.com,CN=Alice Example,OU=Security,OU=Engineering,O=Snake Oil\\, Ltd.,L=San Francisco,ST=California,C=US").unwrap();
        let vars = alice.vars("SSL_CLIENT_S_DN");
        let get = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_slice());
        // The certificate's order: Engineering comes first.
        assert_eq!(get("SSL_CLIENT_S_DN_OU"), Some(&b"Engineering"[..]));
        assert_eq!(get("SSL_CLIENT_S_DN_OU_0"), Some(&b"Engineering"[..]));
        assert_eq!(get("SSL_CLIENT_S_DN_OU_1"), Some(&b"Security"[..]));
        assert_eq!(get("SSL_CLIENT_S_DN_O"), Some(&b"Snake Oil, Ltd."[..]));
        assert_eq!(get("SSL_CLIENT_S_DN_ST"), Some(&b"California"[..]));

        // Control characters stay escaped, as mod_ssl prints them.
        assert_eq!(parse(b"CN=a\\0Ab").unwrap().text, b"CN=a\\0Ab");
        assert!(parse(b"CN=a\\").is_err());
        assert!(parse(b"CN,O=x").is_err());
        assert!(parse(b"").unwrap().entries.is_empty());
    }
}
