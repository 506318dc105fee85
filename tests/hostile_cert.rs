//! Hostile client certificates (issue 11, point 3): OIDs over OpenSSL's
//! 586-byte `OBJ_obj2txt` bound print as OpenSSL 3.0.9+ prints them
//! (CVE-2023-2650), thousands of extensions/RDNs/SAN entries give the same
//! strings, and a client certificate that does not parse is an evaluation
//! error, not "no certificate". Outcomes only, never durations
//! (benches/hostile.rs measures the cost).

#[path = "support/hostile.rs"]
mod hostile;

use hostile::*;
use sslrequire::env::cert::Cert;
use sslrequire::session::{EnvOptions, LazyCert, Session, SessionEnv};
use sslrequire::Program;

fn session(der: Vec<u8>) -> Session {
    Session {
        protocol: Some("TLSv1.3".into()),
        verify: Some("SUCCESS".into()),
        client_chain: vec![LazyCert::from_der(der)],
        ..Session::default()
    }
}

fn eval(expr: &str, session: &Session) -> Result<bool, String> {
    let env = SessionEnv::new(session, EnvOptions::default());
    Program::new(expr)
        .map_err(|e| e.to_string())?
        .eval(&env)
        .map_err(|e| e.kind().code().to_string())
}

fn ext_values(der: &[u8], id: &str) -> Vec<String> {
    Cert::from_der(der)
        .expect("parses")
        .extension_values(id, false)
        .into_iter()
        .map(|v| String::from_utf8(v).expect("UTF-8"))
        .collect()
}

/// `BIO_dump` of `1.2.200.200…` (300 arcs): `2a` then `81 48` pairs.
fn dump_many_arcs() -> String {
    let (c, _) = many_arc_oid(300);
    let mut out = String::new();
    for (row, chunk) in c.chunks(16).enumerate() {
        out.push_str(&format!("{:04x} - ", row * 16));
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => out.push_str(&format!("{b:02x}{}", if j == 7 { '-' } else { ' ' })),
                None => out.push_str("   "),
            }
        }
        out.push_str("  ");
        for &b in chunk {
            out.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            });
        }
        out.push('\n');
    }
    out
}

#[test]
fn a_dn_attribute_type_over_586_bytes_has_an_empty_field_name() {
    // OpenSSL 3.0.22 `do_name_ex`: OBJ_obj2txt fails, objtmp stays "",
    // the unknown field's value is dumped as DER.
    let (long, _) = many_arc_oid(300);
    let der = cert(&name(&[cn("x"), rdn(&long, "v")]), &[]);
    let c = Cert::from_der(&der).expect("parses");
    assert_eq!(
        c.dn(sslrequire::env::NameKind::Subject, false),
        "=#0C0176,CN=x"
    );
    // X509_NAME_oneline: i2t_ASN1_OBJECT leaves tmp_buf "".
    assert_eq!(c.dn(sslrequire::env::NameKind::Subject, true), "/CN=x/=v");
    let s = session(der);
    assert_eq!(
        eval(r#"%{SSL_CLIENT_S_DN} eq "=#0C0176,CN=x""#, &s),
        Ok(true)
    );
    assert_eq!(eval(r#"%{SSL_CLIENT_S_DN_CN} eq "x""#, &s), Ok(true));
}

#[test]
fn a_dn_attribute_type_of_586_bytes_still_prints_dotted() {
    // 1 + 2 * 292 = 585 and 1 + 2 * 293 = 587: the bound is on the content.
    let (ok, dotted) = many_arc_oid(292);
    let der = cert(&name(&[rdn(&ok, "v")]), &[]);
    let c = Cert::from_der(&der).expect("parses");
    // X509_NAME_oneline cuts the dotted text to 79 bytes (tmp_buf[80]).
    assert_eq!(
        c.dn(sslrequire::env::NameKind::Subject, true),
        format!("/{}=v", &dotted[..79])
    );
}

#[test]
fn a_policy_oid_over_586_bytes_prints_invalid_and_a_hex_dump() {
    // certificatePolicies: i2a_ASN1_OBJECT → "<INVALID>" + BIO_dump.
    let (long, _) = many_arc_oid(300);
    let policies = seq(&[seq(&[oid(&long)])]);
    let der = cert(
        &name(&[cn("x")]),
        &[ext(&oid_content("2.5.29.32"), &policies)],
    );
    assert_eq!(
        ext_values(&der, "certificatePolicies"),
        vec![format!("Policy: <INVALID>{}", dump_many_arcs())]
    );
}

#[test]
fn san_and_eku_oids_over_586_bytes_print_empty() {
    // i2v_GENERAL_NAME: i2t_ASN1_OBJECT into oline → "Registered ID:";
    // an otherName of unknown type: "othername:" (no type text);
    // i2v_EXTENDED_KEY_USAGE: an empty value.
    let (long, _) = many_arc_oid(300);
    let other = tlv(0xa0, &[oid(&long), tlv(0xa0, &tlv(0x0c, b"v"))].concat());
    let san = seq(&[tlv(0x82, b"a.example"), tlv(0x88, &long), other]);
    let eku = seq(&[oid(&oid_content("1.3.6.1.5.5.7.3.2")), oid(&long)]);
    let der = cert(
        &name(&[cn("x")]),
        &[
            ext(&oid_content("2.5.29.17"), &san),
            ext(&oid_content("2.5.29.37"), &eku),
        ],
    );
    assert_eq!(
        ext_values(&der, "subjectAltName"),
        vec!["DNS:a.example, Registered ID:, othername::v".to_string()]
    );
    assert_eq!(
        ext_values(&der, "extendedKeyUsage"),
        vec!["TLS Web Client Authentication, ".to_string()]
    );
    let s = session(der);
    assert_eq!(
        eval(r#"%{SSL_CLIENT_SAN_DNS_0} eq "a.example""#, &s),
        Ok(true)
    );
}

#[test]
fn an_extension_with_a_60_kb_arc_does_not_change_other_variables() {
    let der = cert(
        &name(&[cn("x")]),
        &[ext(&huge_arc_oid(60_000), b"\x0c\x01x")],
    );
    let s = session(der.clone());
    assert_eq!(eval(r#"%{SSL_CLIENT_S_DN_CN} == "x""#, &s), Ok(true));
    assert_eq!(
        eval(r#"%{SSL_CLIENT_A_SIG} == "sha256WithRSAEncryption""#, &s),
        Ok(true)
    );
    // Found by its bytes (OBJ_cmp), printed by the string fallback.
    let c = Cert::from_der(&der).expect("parses");
    assert!(c.extension_values("1.2.3", false).is_empty());
}

#[test]
fn the_worst_certificate_gives_the_same_answers() {
    assert!(worst().len() <= sslrequire::env::cert::MAX_CERT_DER);
    let s = session(worst());
    assert_eq!(eval(r#"%{SSL_CLIENT_S_DN_CN} == "x""#, &s), Ok(true));
    assert_eq!(eval(r#"%{SSL_CLIENT_S_DN_CN_1} == "y""#, &s), Ok(true));
    assert_eq!(
        eval(r#"%{SSL_CLIENT_SAN_DNS_0} == "a.example""#, &s),
        Ok(true)
    );
    assert_eq!(
        ext_values(&worst(), "certificatePolicies"),
        vec![format!("Policy: <INVALID>{}", dump_many_arcs())]
    );
    let env = SessionEnv::new(&s, EnvOptions::default());
    let vars = env.export();
    let cns = vars
        .iter()
        .filter(|(k, _)| k.starts_with("SSL_CLIENT_S_DN_CN"))
        .count();
    assert_eq!(cns, 201);
    let dns = vars
        .iter()
        .filter(|(k, _)| k.starts_with("SSL_CLIENT_SAN_DNS_"))
        .count();
    assert_eq!(dns, 500);
}

#[test]
fn a_verified_client_certificate_that_does_not_parse_is_an_evaluation_error() {
    // A captured session whose client PEM is garbage but verify=SUCCESS:
    // Apache's TLS layer parsed the certificate, so "no certificate" would
    // be a different answer, and `ne "Evil"` would allow.
    let s = session(b"garbage, not DER".to_vec());
    assert_eq!(
        eval(r#"%{SSL_CLIENT_S_DN_O} ne "Evil""#, &s),
        Err("E308".into())
    );
    assert_eq!(eval(r#"%{SSL_CLIENT_CERT} == """#, &s), Err("E308".into()));
    assert_eq!(
        eval(r#"%{SSL_CLIENT_M_SERIAL} =~ /./"#, &s),
        Err("E308".into())
    );
    assert_eq!(
        eval(r#""x" in PeerExtList("2.5.29.17")"#, &s),
        Err("E308".into())
    );
    assert_eq!(
        eval(r#"%{SSL_CLIENT_CERT_RFC4523_CEA} == """#, &s),
        Err("E308".into())
    );
    // What does not come from the certificate still reads.
    assert_eq!(eval(r#"%{SSL_CLIENT_VERIFY} == "SUCCESS""#, &s), Ok(true));
    // An unparsable chain element (SSL_CLIENT_CERT_CHAIN_0).
    let mut s = session(normal());
    s.client_chain.push(LazyCert::from_der(vec![0x30, 0x00]));
    assert_eq!(eval(r#"%{SSL_CLIENT_S_DN_CN} == "x""#, &s), Ok(true));
    assert_eq!(
        eval(r#"%{SSL_CLIENT_CERT_CHAIN_0} == """#, &s),
        Err("E308".into())
    );
}

#[test]
fn no_client_certificate_still_reads_empty() {
    let s = Session {
        verify: Some("NONE".into()),
        ..Session::default()
    };
    assert_eq!(eval(r#"%{SSL_CLIENT_S_DN_O} ne "Evil""#, &s), Ok(true));
}

#[test]
fn a_certificate_over_openssl_s_100_kib_limit_is_an_evaluation_error() {
    // OpenSSL refuses a Certificate message over max_cert_list (100 KiB):
    // Apache never evaluates SSLRequire for it. Reading it denies.
    let big = cert(
        &name(&[cn("x")]),
        &[ext(
            &huge_arc_oid(sslrequire::env::cert::MAX_CERT_DER),
            b"\x0c\x01x",
        )],
    );
    assert!(matches!(
        Cert::from_der(&big),
        Err(sslrequire::env::cert::CertError::TooLarge(_))
    ));
    let s = session(big);
    assert_eq!(
        eval(r#"%{SSL_CLIENT_S_DN_CN} == "x""#, &s),
        Err("E308".into())
    );
}
