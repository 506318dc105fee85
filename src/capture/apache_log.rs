//! Apache access-log lines written with [`APACHE_LOG_FORMAT`].
//!
//! mod_log_config escapes every logged value (`ap_escape_logitem`): `"`
//! and `\` as `\"` and `\\`, control characters as `\n`, `\t` …, other
//! bytes outside printable ASCII as `\xhh`; an unset value is `-`. So one
//! request is one line, and `name="value"` pairs can be split safely.

use crate::session::SessionError;

/// The `LogFormat` line to copy into Apache's configuration (then
/// `CustomLog logs/sslrequire.log sslrequire`). Every name is the variable
/// an expression reads; add request headers as `http:Name=\"%{Name}i\"`.
pub const APACHE_LOG_FORMAT: &str = r#"LogFormat "time=\"%{%Y-%m-%dT%H:%M:%S%z}t\" status=\"%>s\" REMOTE_ADDR=\"%a\" REMOTE_PORT=\"%{remote}p\" SERVER_NAME=\"%V\" SERVER_PORT=\"%{local}p\" THE_REQUEST=\"%r\" REQUEST_METHOD=\"%m\" REQUEST_URI=\"%U\" QUERY_STRING=\"%q\" SERVER_PROTOCOL=\"%H\" REQUEST_FILENAME=\"%f\" REMOTE_USER=\"%u\" http:Host=\"%{Host}i\" http:User-Agent=\"%{User-Agent}i\" http:Referer=\"%{Referer}i\" http:Accept=\"%{Accept}i\" SSL_TLS_SNI=\"%{SSL_TLS_SNI}x\" SSL_PROTOCOL=\"%{SSL_PROTOCOL}x\" SSL_CIPHER=\"%{SSL_CIPHER}x\" SSL_SESSION_ID=\"%{SSL_SESSION_ID}x\" SSL_SESSION_RESUMED=\"%{SSL_SESSION_RESUMED}x\" SSL_SECURE_RENEG=\"%{SSL_SECURE_RENEG}x\" SSL_CLIENT_VERIFY=\"%{SSL_CLIENT_VERIFY}x\" SSL_CLIENT_CERT=\"%{SSL_CLIENT_CERT}x\" SSL_CLIENT_CERT_CHAIN_0=\"%{SSL_CLIENT_CERT_CHAIN_0}x\" SSL_CLIENT_CERT_CHAIN_1=\"%{SSL_CLIENT_CERT_CHAIN_1}x\" SSL_CLIENT_CERT_CHAIN_2=\"%{SSL_CLIENT_CERT_CHAIN_2}x\" SSL_SERVER_CERT=\"%{SSL_SERVER_CERT}x\"" sslrequire"#;

fn error(column: usize, message: impl Into<String>) -> SessionError {
    SessionError {
        field: format!("column {column}"),
        message: message.into(),
    }
}

/// The `(name, value)` pairs of one line, values unescaped (`-` = unset,
/// returned empty).
///
/// # Errors
/// What is malformed, at which column (1-based).
pub(super) fn fields(line: &str) -> Result<Vec<(String, Vec<u8>)>, SessionError> {
    let b = line.trim_end_matches('\r').as_bytes();
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b"_-:.".contains(&b[i])) {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' || i == start {
            return Err(error(
                start + 1,
                "expected name=\"value\"; is this log written with the documented LogFormat (sslrequire --help, README)?",
            ));
        }
        let name = &line[start..i];
        i += 1;
        let mut value = Vec::new();
        let quoted = b.get(i) == Some(&b'"');
        if quoted {
            i += 1;
            loop {
                match b.get(i) {
                    None => {
                        return Err(error(
                            start + 1,
                            format!(
                                "the value of `{name}` has no closing quote (a truncated line?)"
                            ),
                        ))
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let (byte, len) = unescape(&b[i..]).ok_or_else(|| {
                            error(i + 1, format!("bad escape in the value of `{name}`"))
                        })?;
                        value.push(byte);
                        i += len;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            if i < b.len() && b[i] != b' ' {
                return Err(error(
                    i + 1,
                    format!("text after the quoted value of `{name}`"),
                ));
            }
        } else {
            while i < b.len() && b[i] != b' ' {
                value.push(b[i]);
                i += 1;
            }
        }
        if value == b"-" {
            value.clear();
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(error(start + 1, format!("`{name}` is given twice")));
        }
        out.push((name.to_string(), value));
    }
    if out.is_empty() {
        return Err(error(1, "an empty record"));
    }
    Ok(out)
}

/// One `ap_escape_logitem` escape at the start of `b` (which starts with
/// `\`): the byte and the escape's length.
fn unescape(b: &[u8]) -> Option<(u8, usize)> {
    Some(match *b.get(1)? {
        b'"' => (b'"', 2),
        b'\\' => (b'\\', 2),
        b'n' => (b'\n', 2),
        b'r' => (b'\r', 2),
        b't' => (b'\t', 2),
        b'b' => (8, 2),
        b'v' => (11, 2),
        b'x' => {
            let hex = std::str::from_utf8(b.get(2..4)?).ok()?;
            (u8::from_str_radix(hex, 16).ok()?, 4)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_escapes() {
        let f = fields(r#"a="x\"y\\z" b=- c="caf\xc3\xa9\n" d=7 e="""#).unwrap();
        assert_eq!(
            f,
            vec![
                ("a".into(), b"x\"y\\z".to_vec()),
                ("b".into(), vec![]),
                ("c".into(), "café\n".as_bytes().to_vec()),
                ("d".into(), b"7".to_vec()),
                ("e".into(), vec![]),
            ]
        );
        for bad in [
            r#"a="x"#,
            "plain text",
            r#"a="x"b"#,
            r#"a="\q""#,
            "a=1 a=2",
            "",
            r#"{"a":"b=c"}"#,
        ] {
            let e = fields(bad).unwrap_err();
            assert!(e.field.starts_with("column "), "{bad}: {e}");
        }
    }
}
