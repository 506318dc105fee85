//! Client certificates are attacker input (issue 11, point 3): what one
//! costs is bounded, and what OpenSSL 3.0 (Apache 2.4.71's) prints for the
//! hostile shapes is printed. Outcomes are asserted, never durations; the
//! costs are measured by `cargo bench --bench eval -- certificate/hostile`.
//!
//! The certificates are alice's (../shared test PKI, here under
//! tests/apache-2.4.71/certs) with hostile parts spliced into the TBS; the
//! signature no longer verifies, which no variable reads.

use sslrequire::env::cert::{Cert, MAX_CERT_DER};
use sslrequire::session::{EnvOptions, LazyCert, Session, SessionEnv};
use sslrequire::Program;

#[path = "support/hostile_cert.rs"]
mod build;

fn eval(der: Vec<u8>, src: &str) -> Result<bool, String> {
    let session = Session {
        protocol: Some("TLSv1.3".into()),
        verify: Some("SUCCESS".into()),
        client_chain: vec![LazyCert::from_der(der)],
        ..Session::default()
    };
    let env = SessionEnv::new(&session, EnvOptions::default());
    Program::new(src)
        .unwrap()
        .eval(&env)
        .map_err(|e| e.code().to_string())
}

fn s_dn(der: &[u8]) -> String {
    let cert = Cert::from_der(der).unwrap();
    let session = Session {
        client_chain: vec![LazyCert::from_der(cert.der().to_vec())],
        ..Session::default()
    };
    let vars = SessionEnv::new(&session, EnvOptions::default()).export();
    let (_, dn) = vars.iter().find(|(k, _)| k == "SSL_CLIENT_S_DN").unwrap();
    String::from_utf8(dn.clone()).unwrap()
}

const ALICE_DN: &str = "UID=alice,emailAddress=alice@example.com,CN=Alice Example,\
OU=Security,OU=Engineering,O=Snake Oil\\, Ltd.,L=San Francisco,ST=California,C=US";

#[test]
fn an_extension_with_a_60_kb_arc_costs_nothing_to_an_unrelated_test() {
    // Before: the quadratic decimal conversion of this OID ran for every
    // connection, whatever the expression read (1.05 s).
    let der = build::alice_with(None, &[build::extension(&build::huge_arc_oid(60_000), "x")]);
    assert_eq!(
        eval(der.clone(), r#"%{SSL_CLIENT_S_DN_CN} == "x""#),
        Ok(false)
    );
    assert_eq!(
        eval(der, r#"%{SSL_CLIENT_S_DN_CN} == "Alice Example""#),
        Ok(true)
    );
}

#[test]
fn oids_over_586_bytes_are_not_translated_as_openssl_3_0_9() {
    // Oracle: `openssl x509 -noout -subject -nameopt RFC2253` of OpenSSL
    // 3.0.19 on the same certificates: an OID of 601 bytes has no text
    // (CVE-2023-2650's fix), one of 586 bytes is printed (cut at 79 bytes).
    let long = build::alice_with(Some(build::rdn(&build::long_oid(600), "value")), &[]);
    assert_eq!(s_dn(&long), format!("=#0C0576616C7565,{ALICE_DN}"));
    let cap = build::alice_with(Some(build::rdn(&build::long_oid(585), "value")), &[]);
    let dotted = format!("1.2{}", ".5".repeat(585));
    assert_eq!(
        s_dn(&cap),
        format!("{}=#0C0576616C7565,{ALICE_DN}", &dotted[..79])
    );
    // An extension with such an OID is still found by PeerExtList, which
    // compares the encoded OIDs, as mod_ssl does.
    let dotted_601 = format!("1.2{}", ".5".repeat(600));
    let der = build::alice_with(None, &[build::extension(&build::long_oid(600), "v601")]);
    assert_eq!(
        eval(der, &format!(r#""v601" in PeerExtList("{dotted_601}")"#)),
        Ok(true)
    );
}

/// `n` extensions 1.2.3.(128 + i) = "e<i>" and `n` OU attributes.
fn many_parts(n: u32) -> Vec<u8> {
    let exts: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            // 1.2.3.(128 + i): two base-128 digits.
            let arc = 128 + i;
            let oid = [42, 3, 0x80 | (arc >> 7) as u8, (arc & 0x7f) as u8];
            build::extension(&oid, &format!("e{i}"))
        })
        .collect();
    let rdns: Vec<u8> = (0..n)
        .flat_map(|i| build::rdn(&[85, 4, 11], &format!("ou{i}")))
        .collect();
    build::alice_with(Some(rdns), &exts)
}

#[test]
fn up_to_256_extensions_and_attributes_are_read_more_is_an_error() {
    // 247 OUs + alice's 9 attributes = 256.
    let der = many_parts(247);
    assert_eq!(
        eval(der.clone(), r#""e246" in PeerExtList("1.2.3.374")"#),
        Ok(true)
    );
    assert_eq!(
        eval(
            der,
            r#"%{SSL_CLIENT_S_DN_OU_2} == "ou0" and %{SSL_CLIENT_S_DN_OU_248} == "ou246""#
        ),
        Ok(true)
    );
    // Beyond: a bound of this engine's own, so reading the certificate is an
    // error (deny), never a string Apache would not give.
    let der = many_parts(2000);
    let e = Cert::from_der(&der).unwrap_err();
    assert!(
        e.to_string().contains("2000 extensions, over the 256"),
        "{e}"
    );
    assert_eq!(
        eval(der, r#"%{SSL_CLIENT_S_DN_CN} == "x""#),
        Err("E308".into())
    );
}

#[test]
fn a_certificate_over_openssls_100_kib_limit_is_refused() {
    let big = build::alice_with(
        None,
        &[build::extension(&[42, 3], &"x".repeat(MAX_CERT_DER))],
    );
    let e = Cert::from_der(&big).unwrap_err();
    assert!(e.to_string().contains("102400"), "{e}");
    // In a session it is not "no certificate": reading it is an error.
    assert_eq!(
        eval(big, r#"%{SSL_CLIENT_S_DN_O} ne "Evil""#),
        Err("E308".into())
    );
}
