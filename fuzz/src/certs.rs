//! The `cert_env` target (any bytes as a certificate, every variable) and the
//! `session` target (any bytes as a captured-session JSON line).

use super::*;

/// A session holding `chain` (client chain; the leaf also serves as the
/// server's certificate), with a fixed time.
fn session_with(chain: &[Vec<u8>]) -> Session {
    let mut s = Session::from_json(r#"{"time": "2026-11-25T16:49:37Z", "protocol": "TLSv1.3"}"#)
        .expect("fixed session");
    s.client_chain = chain
        .iter()
        .map(|d| LazyCert::from_der(d.clone()))
        .collect();
    s.server_chain = chain
        .iter()
        .take(1)
        .map(|d| LazyCert::from_der(d.clone()))
        .collect();
    s
}

/// Reads `data` as one DER certificate and (when it is text) as a PEM
/// chain; every certificate that parses is exported, alone and as the
/// client chain of a session, with every option set.
pub fn check_cert_env(data: &[u8]) {
    let mut ders: Vec<Vec<u8>> = Vec::new();
    if let Ok(c) = Cert::from_der(data) {
        assert_eq!(c.der(), data, "from_der keeps the DER as given");
        exercise_cert(&c);
        ders.push(c.der().to_vec());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(chain) = Cert::from_pem_chain(text) {
            for c in &chain {
                exercise_cert(c);
                // The PEM a certificate exports reads back to the same DER.
                let again = Cert::from_pem_chain(&c.pem()).expect("exported PEM parses");
                assert_eq!(again.len(), 1);
                assert_eq!(again[0].der(), c.der(), "PEM export round trip");
            }
            ders.extend(chain.iter().map(|c| c.der().to_vec()));
        }
    }
    if ders.is_empty() {
        return;
    }
    let session = session_with(&ders);
    export_all(&session);
}

fn exercise_cert(c: &Cert) {
    use sslrequire::env::{DnAttr, NameKind, SanKind};
    let _ = (
        c.m_version(),
        c.m_serial(),
        c.v_start(),
        c.v_end(),
        c.a_sig(),
        c.a_key(),
    );
    let _ = (
        c.v_remain(0),
        c.v_remain(i64::MAX),
        c.v_remain(i64::MIN),
        c.not_after_unix(),
    );
    let _ = (c.rfc4523_cea(), c.pem());
    for which in [NameKind::Subject, NameKind::Issuer] {
        let _ = (
            c.dn(which, false),
            c.dn(which, true),
            c.dn_bytes(which, true),
        );
        for attr in DnAttr::ALL {
            for i in 0..3 {
                let _ = (
                    c.dn_component(which, attr, i, false),
                    c.dn_component(which, attr, i, true),
                );
            }
        }
    }
    for kind in [
        SanKind::Email,
        SanKind::Dns,
        SanKind::MsUpn,
        SanKind::DnsSrv,
    ] {
        for i in 0..3 {
            let _ = (c.san(kind, i), c.san_bytes(kind, i));
        }
    }
    for id in [
        "1.2.3.4.5.6",
        "2.5.29.17",
        "2.5.29.19",
        "2.5.29.15",
        "2.5.29.37",
        "subjectAltName",
        "basicConstraints",
        "keyUsage",
        "extendedKeyUsage",
        "2.5.29.14",
        "2.5.29.35",
        "1.3.6.1.5.5.7.1.1",
        "2.5.29.31",
        "2.5.29.32",
        "",
        "1",
        "0.0",
        "x",
    ] {
        for numeric in [false, true] {
            for v in c.extension_values(id, numeric) {
                assert!(!v.contains(&0), "extension values are cut at NUL");
            }
        }
    }
    for prefix in ["SSL_CLIENT", "SSL_SERVER"] {
        let _ = (
            c.export_vars(prefix, 0, false),
            c.export_vars(prefix, i64::MAX, true),
        );
    }
}

/// Exports every variable of `session` under each option set, reads each
/// exported name back through `Env::var`, and evaluates an expression
/// reading many variables (compiled and in reparse mode).
fn export_all(session: &Session) {
    const EXPR: &str = r#"%{SSL_CLIENT_S_DN} =~ m/./ || %{SSL_CLIENT_I_DN_CN} == %{SSL_SERVER_S_DN_CN}
        || "x" in PeerExtList("1.2.3.4.5.6") || "x" in PeerExtList("subjectAltName")
        || %{SSL_CLIENT_SAN_DNS_0} . %{SSL_CLIENT_SAN_Email_0} == %{SSL_CLIENT_M_SERIAL}
        || %{SSL_CLIENT_V_REMAIN} < 10 || %{SSL_CLIENT_CERT_RFC4523_CEA} != ""
        || %{SSL_CLIENT_CERT_CHAIN_0} =~ m/^-----BEGIN/ || %{SSL_CLIENT_S_DN_CN_1_RAW} == "x""#;
    const EXPR22: &str = r#"%{SSL_CLIENT_S_DN} =~ m/./ || "x" in OID("1.2.3.4.5.6")
        || %{SSL_CLIENT_S_DN_Email} == %{SSL_CLIENT_A_KEY}"#;
    for (legacy, dialect) in [
        (false, Dialect::V24),
        (true, Dialect::V24),
        (false, Dialect::V22),
    ] {
        let opts = EnvOptions {
            legacy_dn: legacy,
            dialect,
            now: None,
            verify: Some("SUCCESS".into()),
            ..EnvOptions::default()
        };
        let env = SessionEnv::new(session, opts);
        let vars = env.export();
        for w in vars.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "export is sorted and unique: {} {}",
                w[0].0,
                w[1].0
            );
        }
        for (name, value) in &vars {
            if let Resolved::Var(var) = resolve(name, Dialect::V24) {
                let read = env.var(&var).unwrap_or(b"");
                assert_eq!(
                    cstr(read),
                    cstr(value),
                    "{dialect} legacy={legacy}: exported {name} differs from what an expression reads"
                );
            }
        }
        let src = if dialect == Dialect::V24 {
            EXPR
        } else {
            EXPR22
        };
        let mut b = ProgramBuilder::new();
        b.dialect(dialect);
        let p = b.build(src).expect("fixed expression compiles");
        let compiled = p.eval(&env);
        let reparsed = reparser(dialect).eval(src, &mut Machine::new(), &env);
        assert_eq!(outcome(&compiled), outcome(&reparsed));
    }
}

fn cstr(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

// ======================================================================
// session: any bytes as a captured-session JSON line
// ======================================================================

/// Reads `data` (lossy UTF-8) as a session; one that loads exports every
/// variable ([`export_all`]).
pub fn check_session(data: &[u8]) {
    let text = text_of(data);
    match Session::from_json(&text) {
        Ok(mut s) => {
            if s.time.is_none() {
                // A fixed clock: no dependence on when the fuzzer runs.
                s.time = session_with(&[]).time;
            }
            export_all(&s);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
