//! `sslrequire serve postfix`: a Postfix SMTPD access policy server
//! (https://www.postfix.org/SMTPD_POLICY_README.html).
//!
//! Postfix sends `name=value` lines ended by an empty line and reads one
//! `action=…` line and an empty line back, many requests per connection.
//! Each request becomes a [`VarMap`] ([`request_env`]), as close to
//! mod_ssl's variables as Postfix's attributes allow; the policy's rules for
//! the request's `protocol_state` decide the answer ([`decide`]).

use std::net::SocketAddr;

use sslrequire::{Machine, VarMap};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::policy::{Decision, Policy, Protocol};
use super::{log, Conn, Limits, ServeCommon};
use crate::Outcome;

/// The states Postfix puts in `protocol_state` (smtpd_check.c, 3.x).
pub const STATES: &[&str] = &[
    "CONNECT",
    "EHLO",
    "HELO",
    "MAIL",
    "RCPT",
    "DATA",
    "BDAT",
    "END-OF-MESSAGE",
    "VRFY",
    "ETRN",
];

/// The answers access(5) knows at the start of an action.
const ACTIONS: &[&str] = &[
    "OK",
    "DUNNO",
    "REJECT",
    "DEFER",
    "DEFER_IF_REJECT",
    "DEFER_IF_PERMIT",
    "BCC",
    "DISCARD",
    "FILTER",
    "HOLD",
    "PREPEND",
    "REDIRECT",
    "INFO",
    "WARN",
];

/// The policy-file rules of the Postfix server.
pub struct Postfix;

impl Protocol for Postfix {
    fn default_on_error(&self) -> &'static str {
        "DEFER_IF_PERMIT 4.7.0 policy evaluation error"
    }
    fn default_answer(&self) -> &'static str {
        "DUNNO"
    }
    fn default_allow(&self) -> &'static str {
        "DUNNO"
    }
    fn default_deny(&self) -> &'static str {
        "REJECT 5.7.1 access denied by policy"
    }
    fn check_answer(&self, answer: &str) -> Result<(), String> {
        check_action(answer)
    }
    fn check_state(&self, state: &str) -> Result<(), String> {
        if STATES.iter().any(|s| s.eq_ignore_ascii_case(state)) {
            Ok(())
        } else {
            Err(format!(
                "`{state}` is not a Postfix protocol_state (one of: {})",
                STATES.join(", ")
            ))
        }
    }
}

/// An action Postfix accepts from a policy server: an access(5) action
/// (`OK`, `DUNNO`, `REJECT text`, `DEFER_IF_PERMIT text`, `4NN text`,
/// `5NN text`, `PREPEND header`, …) or a restriction name
/// (`permit_mynetworks`), on one line.
pub fn check_action(action: &str) -> Result<(), String> {
    let what = "write an access(5) action such as OK, DUNNO, \"REJECT 5.7.1 text\" or \"DEFER_IF_PERMIT 4.7.0 text\"";
    if action.trim().is_empty() {
        return Err(format!("the answer is empty: {what}"));
    }
    if action.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(format!(
            "`{}` has a control character (a line break would end Postfix's reply): keep it on one line",
            action.escape_debug()
        ));
    }
    if action.len() > 1000 {
        return Err("the answer is longer than 1000 bytes: shorten its text".into());
    }
    let word = action.split(' ').next().unwrap_or("");
    let code = word.len() == 3
        && matches!(word.as_bytes()[0], b'4' | b'5')
        && word.bytes().all(|b| b.is_ascii_digit());
    let restriction = !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if ACTIONS.iter().any(|a| a.eq_ignore_ascii_case(word)) || code || restriction {
        Ok(())
    } else {
        Err(format!("`{word}` is not a Postfix action: {what}"))
    }
}

/// Decodes xtext (RFC 3461): `+XX` is the byte 0xXX.
///
/// # Errors
/// A `+` not followed by two hex digits.
pub fn xtext_decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'+' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    format!("`{s}` is not xtext: `+` must be followed by two hex digits")
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// What a client-certificate verification looked like from Postfix's
/// attributes, as mod_ssl's `SSL_CLIENT_VERIFY` would say it.
pub const VERIFY_UNTRUSTED: &str = "FAILED:untrusted (Postfix gives no reason)";

/// The variables of one request.
///
/// Every attribute is readable as `%{ENV:postfix_NAME}` / `reqenv("postfix_NAME")`
/// (value as sent; `ccert_subject` and `ccert_issuer` xtext-decoded), and
/// these become mod_ssl's and Apache's own variables:
///
/// | attribute | variable |
/// |---|---|
/// | `encryption_protocol` (non-empty) | `HTTPS`=`on` (else `off`), `SSL_PROTOCOL` |
/// | `encryption_cipher` | `SSL_CIPHER`; `SSL_CIPHER_ALGKEYSIZE` from the cipher table |
/// | `encryption_keysize` | `SSL_CIPHER_USEKEYSIZE`, `SSL_CIPHER_EXPORT` (< 56 bits) |
/// | `ccert_subject`, `ccert_issuer` | `SSL_CLIENT_S_DN_CN`, `SSL_CLIENT_I_DN_CN` (xtext-decoded) |
/// | `ccert_fingerprint`, `ccert_subject` | `SSL_CLIENT_VERIFY`: `NONE` / `SUCCESS` / [`VERIFY_UNTRUSTED`] |
/// | `client_address` | `REMOTE_ADDR`, `IPV6` |
/// | `server_port` | `SERVER_PORT` |
/// | `sasl_username` (non-empty) | `REMOTE_USER` |
///
/// plus `TIME_*` (now, local time, as Apache).
///
/// # Errors
/// An attribute name outside `[A-Za-z0-9_-]`, or bad xtext.
pub fn request_env(attrs: &[(String, String)]) -> Result<VarMap, String> {
    let mut env = VarMap::new();
    env.set_time(&chrono::Local::now());
    let get = |name: &str| {
        attrs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let set = |env: &mut VarMap, name: &str, value: Vec<u8>| -> Result<(), String> {
        env.set(name, value)
            .map(|_| ())
            .map_err(|e| format!("attribute `{name}`: {e}"))
    };
    for (name, value) in attrs {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "attribute name `{}` is not a Postfix attribute name ([A-Za-z0-9_-])",
                name.escape_debug()
            ));
        }
        let value = match name.as_str() {
            "ccert_subject" | "ccert_issuer" => {
                xtext_decode(value).map_err(|e| format!("attribute {name}: {e}"))?
            }
            _ => value.as_bytes().to_vec(),
        };
        set(&mut env, &format!("reqenv:postfix_{name}"), value.clone())?;
        set(&mut env, &format!("env:postfix_{name}"), value)?;
    }
    let address = get("client_address");
    if !address.is_empty() {
        set(&mut env, "REMOTE_ADDR", address.into())?;
        let v6 = if address.contains(':') { "on" } else { "off" };
        set(&mut env, "IPV6", v6.into())?;
    }
    let port = get("server_port");
    if !port.is_empty() {
        set(&mut env, "SERVER_PORT", port.into())?;
    }
    let user = get("sasl_username");
    if !user.is_empty() {
        set(&mut env, "REMOTE_USER", user.into())?;
    }
    let protocol = get("encryption_protocol");
    if protocol.is_empty() {
        // No TLS: mod_ssl's variables are all empty, HTTPS is "off".
        set(&mut env, "HTTPS", "off".into())?;
        return Ok(env);
    }
    set(&mut env, "HTTPS", "on".into())?;
    set(&mut env, "SSL_PROTOCOL", protocol.into())?;
    let cipher = get("encryption_cipher");
    if !cipher.is_empty() {
        set(&mut env, "SSL_CIPHER", cipher.into())?;
        if let Some(suite) = sslrequire::session::cipher::lookup(cipher) {
            set(
                &mut env,
                "SSL_CIPHER_ALGKEYSIZE",
                suite.alg_bits.to_string().into(),
            )?;
        }
    }
    let bits = get("encryption_keysize");
    if let Ok(n) = bits.parse::<u32>() {
        set(&mut env, "SSL_CIPHER_USEKEYSIZE", n.to_string().into())?;
        let export = if n < 56 { "true" } else { "false" };
        set(&mut env, "SSL_CIPHER_EXPORT", export.into())?;
    }
    let subject = xtext_decode(get("ccert_subject"))?;
    let issuer = xtext_decode(get("ccert_issuer"))?;
    let verify =
        if get("ccert_fingerprint").is_empty() && get("ccert_pubkey_fingerprint").is_empty() {
            "NONE"
        } else if !subject.is_empty() {
            "SUCCESS"
        } else {
            VERIFY_UNTRUSTED
        };
    set(&mut env, "SSL_CLIENT_VERIFY", verify.into())?;
    if !subject.is_empty() {
        set(&mut env, "SSL_CLIENT_S_DN_CN", subject)?;
    }
    if !issuer.is_empty() {
        set(&mut env, "SSL_CLIENT_I_DN_CN", issuer)?;
    }
    Ok(env)
}

/// Decides one request: the rules that apply to its `protocol_state` on
/// `listener` run in file order ([`Policy::decide`]); a request that is not
/// `request=smtpd_access_policy` or whose attributes are malformed answers
/// the policy's `on_error`.
pub fn decide(
    policy: &Policy,
    listener: &str,
    attrs: &[(String, String)],
    machine: &mut Machine,
) -> Decision {
    match attrs.iter().find(|(n, _)| n == "request") {
        Some((_, v)) if v == "smtpd_access_policy" => {}
        Some((_, v)) => {
            return Decision::error(
                policy,
                format!("request={v}: only smtpd_access_policy requests are answered"),
            )
        }
        None => {
            return Decision::error(policy, "no request= attribute: not a policy request".into())
        }
    }
    let env = match request_env(attrs) {
        Ok(env) => env,
        Err(e) => return Decision::error(policy, e),
    };
    let state = attrs
        .iter()
        .find(|(n, _)| n == "protocol_state")
        .map_or("", |(_, v)| v.as_str());
    let rules = policy.rules.iter().filter(|r| r.applies(state, listener));
    policy.decide(rules, machine, &env)
}

/// One request as read from the connection.
enum Read {
    Request(Vec<(String, String)>),
    /// Framing intact, but the request cannot be used: answer `on_error`.
    Bad(String),
    /// Answer `on_error` and close: the framing is lost or the client
    /// exceeds a bound.
    Fatal(String),
    /// The connection ended (cleanly if the reason is None).
    Closed(Option<String>),
}

async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    limits: &Limits,
    line: &mut Vec<u8>,
) -> Read {
    let mut attrs = Vec::new();
    let mut bad: Option<String> = None;
    let mut count = 0usize;
    loop {
        line.clear();
        let mut bounded = (&mut *reader).take(limits.max_line as u64 + 1);
        let read = bounded.read_until(b'\n', line);
        let n = match tokio::time::timeout(limits.idle, read).await {
            Err(_) => {
                return Read::Closed(Some(format!(
                    "idle for {} s (--idle-timeout)",
                    limits.idle.as_secs()
                )))
            }
            Ok(Err(e)) => return Read::Closed(Some(format!("read error: {e}"))),
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            return Read::Closed((count > 0).then(|| {
                format!("connection closed in the middle of a request ({count} attributes, no empty line)")
            }));
        }
        if line.last() != Some(&b'\n') {
            if line.len() > limits.max_line {
                return Read::Fatal(format!(
                    "a request line is longer than {} bytes (--max-line)",
                    limits.max_line
                ));
            }
            return Read::Closed(Some(
                "connection closed in the middle of a line".to_string(),
            ));
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.is_empty() {
            return match bad {
                Some(why) => Read::Bad(why),
                None => Read::Request(attrs),
            };
        }
        count += 1;
        if count > limits.max_attributes {
            return Read::Fatal(format!(
                "a request has more than {} attributes (--max-attributes)",
                limits.max_attributes
            ));
        }
        if bad.is_some() {
            continue;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            bad = Some(format!("attribute line {count} is not UTF-8"));
            continue;
        };
        match text.split_once('=') {
            Some((name, value)) => attrs.push((name.to_string(), value.to_string())),
            None => {
                bad = Some(format!(
                    "attribute line {count} `{}` is not name=value",
                    text.chars().take(60).collect::<String>().escape_debug()
                ))
            }
        }
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> &'a str {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map_or("-", |(_, v)| if v.is_empty() { "-" } else { v.as_str() })
}

/// Serves one connection until it closes, errs or idles out.
async fn connection(conn: Conn) {
    let Conn {
        stream,
        peer,
        listener,
        shared,
    } = conn;
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut machine = Machine::new();
    let mut line = Vec::new();
    let limits = shared.limits;
    loop {
        let read = read_request(&mut reader, &limits, &mut line).await;
        let policy = shared.policy();
        let (decision, close) = match read {
            Read::Request(attrs) => {
                let d = decide(&policy, &listener, &attrs, &mut machine);
                log_decision(peer, &listener, &attrs, &d);
                (d, false)
            }
            Read::Bad(why) => (malformed(peer, &listener, &policy, why, false), false),
            Read::Fatal(why) => (malformed(peer, &listener, &policy, why, true), true),
            Read::Closed(Some(why)) => {
                log(
                    "postfix",
                    format_args!("conn={peer} listener={listener} closed: {why}"),
                );
                return;
            }
            Read::Closed(None) => return,
        };
        let answer = format!("action={}\n\n", decision.action);
        if let Err(e) = write.write_all(answer.as_bytes()).await {
            log(
                "postfix",
                format_args!("conn={peer} listener={listener} write error: {e}"),
            );
            return;
        }
        if close {
            let _ = write.shutdown().await;
            linger(&mut reader).await;
            return;
        }
    }
}

/// Reads and discards what the client still sends (at most 4 MiB, 2 s)
/// before the socket is dropped: closing with unread bytes would reset the
/// connection, and a reset can destroy the answer before the client reads
/// it (a lingering close, as Apache's).
async fn linger<R: tokio::io::AsyncRead + Unpin>(reader: &mut R) {
    let drain = async {
        let mut buf = [0u8; 8192];
        let mut total = 0usize;
        while let Ok(n) = reader.read(&mut buf).await {
            total += n;
            if n == 0 || total > 4 << 20 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
}

fn malformed(
    peer: SocketAddr,
    listener: &str,
    policy: &Policy,
    why: String,
    close: bool,
) -> Decision {
    log(
        "postfix",
        format_args!(
            "conn={peer} listener={listener} malformed request: {why}; answered {:?}{}",
            policy.on_error,
            if close { ", connection closed" } else { "" }
        ),
    );
    Decision::error(policy, why)
}

fn log_decision(peer: SocketAddr, listener: &str, attrs: &[(String, String)], d: &Decision) {
    log(
        "postfix",
        format_args!(
            "conn={peer} listener={listener} client={} state={} sender={} recipient={} ccert={} rule={} verdict={} action={:?}{}",
            attr(attrs, "client_address"),
            attr(attrs, "protocol_state"),
            attr(attrs, "sender"),
            attr(attrs, "recipient"),
            attr(attrs, "ccert_subject"),
            d.rule,
            d.verdict,
            d.action,
            d.error
                .as_ref()
                .map(|e| format!(" error={e:?}"))
                .unwrap_or_default()
        ),
    );
}

/// `sslrequire serve postfix`.
pub fn run(args: ServeCommon) -> Outcome {
    super::run("postfix", args, Postfix, connection)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sslrequire::{Env, Program};

    #[test]
    fn xtext() {
        assert_eq!(
            xtext_decode("Zo+C3+AB+20+C3+9Cn+C3+AFcode").unwrap(),
            "Zoë Ünïcode".as_bytes()
        );
        assert_eq!(xtext_decode("a+2B+3D").unwrap(), b"a+=");
        assert!(xtext_decode("a+2").is_err());
        assert!(xtext_decode("a+ZZ").is_err());
    }

    #[test]
    fn actions() {
        for ok in [
            "OK",
            "DUNNO",
            "REJECT",
            "REJECT 5.7.1 no",
            "defer_if_permit 4.7.0 x",
            "550 5.7.1 no",
            "permit_mynetworks",
        ] {
            check_action(ok).unwrap();
        }
        for bad in ["", "  ", "ACCEPT", "REJECT a\nb", "600 x", "Reject-x"] {
            assert!(check_action(bad).is_err(), "{bad:?}");
        }
    }

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn eval(expr: &str, env: &VarMap) -> bool {
        Program::new(expr).unwrap().eval(env).unwrap()
    }

    #[test]
    fn mapping() {
        let env = request_env(&attrs(&[
            ("request", "smtpd_access_policy"),
            ("client_address", "127.0.0.1"),
            ("sender", "s@example.com"),
            ("ccert_subject", "Alice+20Example"),
            ("ccert_issuer", "Oracle+20Test+20Intermediate+20CA"),
            ("ccert_fingerprint", "84:7B"),
            ("encryption_protocol", "TLSv1.3"),
            ("encryption_cipher", "TLS_AES_256_GCM_SHA384"),
            ("encryption_keysize", "256"),
        ]))
        .unwrap();
        for expr in [
            r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS""#,
            r#"%{SSL_CLIENT_S_DN_CN} eq "Alice Example""#,
            r#"%{SSL_CLIENT_I_DN_CN} eq "Oracle Test Intermediate CA""#,
            r#"%{SSL_PROTOCOL} eq "TLSv1.3" && %{HTTPS} eq "on""#,
            r#"%{SSL_CIPHER_USEKEYSIZE} == 256 && %{SSL_CIPHER_ALGKEYSIZE} == 256"#,
            r#"%{SSL_CIPHER_EXPORT} eq "false""#,
            r#"%{REMOTE_ADDR} eq "127.0.0.1" && -R "127.0.0.0/8""#,
            r#"%{ENV:postfix_sender} eq "s@example.com""#,
            r#"reqenv("postfix_ccert_fingerprint") in {"84:7B"}"#,
            r#"reqenv("postfix_ccert_subject") eq "Alice Example""#,
        ] {
            assert!(eval(expr, &env), "{expr}");
        }
        let untrusted = request_env(&attrs(&[
            ("ccert_fingerprint", "84:7B"),
            ("encryption_protocol", "TLSv1.2"),
        ]))
        .unwrap();
        assert!(eval(
            r#"%{SSL_CLIENT_VERIFY} =~ /^FAILED:/ && %{SSL_CLIENT_S_DN_CN} eq """#,
            &untrusted
        ));
        let none = request_env(&attrs(&[("encryption_protocol", "TLSv1.3")])).unwrap();
        assert!(eval(r#"%{SSL_CLIENT_VERIFY} eq "NONE""#, &none));
        let plain = request_env(&attrs(&[("encryption_keysize", "0")])).unwrap();
        assert!(eval(
            r#"%{HTTPS} eq "off" && %{SSL_CLIENT_VERIFY} eq "" && %{SSL_PROTOCOL} eq """#,
            &plain
        ));
        assert!(plain
            .var(&sslrequire::Var::Session(
                sslrequire::env::SessionVar::CipherUseKeySize
            ))
            .is_none());
        assert!(request_env(&attrs(&[("bad name", "x")])).is_err());
        assert!(request_env(&attrs(&[("ccert_subject", "x+Z")])).is_err());
    }
}
