use super::cert::Asn1Time;
use super::keys::ifc_security_bits;
use super::*;
use crate::x509::der::{read_low_tlv, read_tlv, split_certificate, RawTbs};
use crate::x509::int::normalize_int;
use crate::x509::name::{canon_name, CanonName};
use crate::x509::oid::oid_to_dotted;
use crate::x509::time::cmp_time_seconds;

/// A time TLV with this identifier octet, as the verifier reads it.
fn parse_time(tag: u8, s: &[u8]) -> Asn1Time {
    let mut der = vec![tag, u8::try_from(s.len()).unwrap()];
    der.extend_from_slice(s);
    let (t, _) = read_tlv(&der).unwrap();
    cmp_time_seconds(&t).map_or(Asn1Time::Bad, Asn1Time::At)
}

#[test]
fn error_strings_are_openssl_30() {
    assert_eq!(
        x509_verify_cert_error_string(code::CERT_NOT_YET_VALID),
        "certificate is not yet valid"
    );
    assert_eq!(
        x509_verify_cert_error_string(code::DEPTH_ZERO_SELF_SIGNED_CERT),
        "self-signed certificate"
    );
    assert_eq!(
        x509_verify_cert_error_string(code::INVALID_PURPOSE),
        "unsuitable certificate purpose"
    );
    assert_eq!(
        x509_verify_cert_error_string(-5),
        "unknown certificate verification error"
    );
    assert_eq!(
        x509_verify_cert_error_string(95),
        "unknown certificate verification error"
    );
}

#[test]
fn optional_errors_match_mod_ssl() {
    let optional: Vec<i32> = (0..100).filter(|&e| is_optional(e)).collect();
    assert_eq!(optional, vec![18, 19, 20, 21, 27]);
}

#[test]
fn time_formats() {
    assert_eq!(parse_time(0x17, b"700101000000Z"), Asn1Time::At(0));
    assert_eq!(
        parse_time(0x17, b"491231235959Z"),
        Asn1Time::At(2_524_607_999)
    );
    assert_eq!(
        parse_time(0x18, b"20261125164937Z"),
        Asn1Time::At(1_795_625_377)
    );
    assert_eq!(
        parse_time(0x18, b"20240229000000Z"),
        Asn1Time::At(1_709_164_800)
    );
    assert_eq!(parse_time(0x18, b"20230229000000Z"), Asn1Time::Bad);
    assert_eq!(parse_time(0x17, b"7001010000Z"), Asn1Time::Bad);
    assert_eq!(parse_time(0x17, b"700101000000+0000"), Asn1Time::Bad);
    assert_eq!(parse_time(0x18, b"20261125164937.5Z"), Asn1Time::Bad);
    assert_eq!(parse_time(0x17, b"701301000000Z"), Asn1Time::Bad);
    assert_eq!(parse_time(0x17, b"700101240000Z"), Asn1Time::Bad);
    assert_eq!(parse_time(0x04, b"700101000000Z"), Asn1Time::Bad);
    assert_eq!(parse_time(0x17, b""), Asn1Time::Bad);
}

#[test]
fn name_canonical_form() {
    // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, <value> } } }
    let name = |tag: u8, v: &[u8]| {
        let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03, tag, v.len() as u8];
        atv.extend_from_slice(v);
        let mut seq = vec![0x30, atv.len() as u8];
        seq.extend(atv);
        let mut set = vec![0x31, seq.len() as u8];
        set.extend(seq);
        let mut out = vec![0x30, set.len() as u8];
        out.extend(set);
        out
    };
    let a = canon_name(&name(19, b"  Hello   World ")).unwrap();
    let b = canon_name(&name(12, b"hello world")).unwrap();
    let c = canon_name(&name(
        30,
        &[
            0, b'H', 0, b'E', 0, b'L', 0, b'L', 0, b'O', 0, b' ', 0, b'w', 0, b'o', 0, b'r', 0,
            b'l', 0, b'd',
        ],
    ))
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_ne!(canon_name(&name(12, b"hello  worlds")).unwrap(), b);
    // non-ASCII bytes are kept, not lower-cased
    assert_ne!(
        canon_name(&name(12, "É".as_bytes())).unwrap(),
        canon_name(&name(12, "é".as_bytes())).unwrap()
    );
    // a T61String byte is Latin-1
    assert_eq!(
        canon_name(&name(20, &[0xe9])).unwrap(),
        canon_name(&name(12, "é".as_bytes())).unwrap()
    );
    // invalid UTF-8 in a UTF8String: OpenSSL's decoder rejects the name
    assert!(canon_name(&name(12, &[0xff, 0xfe])).is_none());
    // non-string types are compared as they are
    assert_ne!(
        canon_name(&name(4, b"ABC")).unwrap(),
        canon_name(&name(4, b"abc")).unwrap()
    );
    assert!(canon_name(&[0x30, 0x05, 0x31]).is_none());
    assert_eq!(canon_name(&[0x30, 0x00]).unwrap(), CanonName::new());
}

#[test]
fn rsa_security_bits() {
    assert_eq!(ifc_security_bits(1024), 80);
    assert_eq!(ifc_security_bits(2048), 112);
    assert_eq!(ifc_security_bits(1536), 96);
    assert_eq!(ifc_security_bits(4096), 152);
    assert_eq!(ifc_security_bits(0), 0);
    assert_eq!(ifc_security_bits(1_000_000), 1200);
}

#[test]
fn der_reader_never_panics() {
    for input in [
        &[][..],
        &[0x30],
        &[0x30, 0x85, 1, 2, 3, 4, 5],
        &[0x1f, 0x00],
        &[0x30, 0x82, 0xff],
    ] {
        assert!(read_low_tlv(input).is_none());
    }
    assert!(split_certificate(&[0x30, 0x03, 0x30, 0x01, 0x00])
        .and_then(|(tbs, _)| RawTbs::read(tbs.raw))
        .is_err());
    assert_eq!(oid_to_dotted(&[0x55, 0x04, 0x03]), "2.5.4.3");
    assert_eq!(oid_to_dotted(&[]), "");
    assert_eq!(normalize_int(&[0x00, 0x80]), vec![0x00, 0x80]);
    assert_eq!(normalize_int(&[0x00, 0x00, 0x01]), vec![0x01]);
    assert_eq!(normalize_int(&[0xff, 0xff, 0x80]), vec![0x80]);
}

#[test]
fn malformed_input_is_an_outcome() {
    let v = Verifier::new(vec![], 5, VerifyMode::OptionalNoCa).unwrap();
    for junk in [
        vec![],
        vec![0x30],
        vec![0x30, 0x03, 0x02, 0x01, 0x00],
        vec![0xff; 64],
    ] {
        match v.verify(&[junk], 0, true) {
            Outcome::HandshakeFails(reason) => {
                assert!(reason.starts_with("bad certificate encoding"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(matches!(
        Verifier::new(vec![b"not a cert".to_vec()], 1, VerifyMode::Require),
        Err(VerifyError::BadAnchor { index: 0, .. })
    ));
}

#[test]
fn no_certificate() {
    let v = |mode| Verifier::new(vec![], 1, mode).unwrap();
    assert_eq!(
        v(VerifyMode::Optional).verify(&[], 0, true),
        Outcome::Verify("NONE".into())
    );
    assert_eq!(
        v(VerifyMode::OptionalNoCa).verify(&[], 0, false),
        Outcome::Verify("NONE".into())
    );
    assert_eq!(
        v(VerifyMode::Require).verify(&[], 0, true),
        Outcome::HandshakeFails("peer did not return a certificate".into())
    );
    // SSLVerifyClient none never asks, whatever the client has
    assert_eq!(
        v(VerifyMode::None).verify(&[vec![1, 2, 3]], 0, true),
        Outcome::Verify("NONE".into())
    );
}

#[test]
fn another_servers_optional_no_ca_failures_read_as_mod_ssl_shows_them() {
    let f = mod_ssl_client_verify;
    for reason in [
        "self-signed certificate",
        "self signed certificate",
        "self-signed certificate in certificate chain",
        "self signed certificate in certificate chain",
        "unable to get local issuer certificate",
        "certificate not trusted",
        "unable to verify the first certificate",
    ] {
        let v = format!("FAILED:{reason}");
        assert_eq!(f(&v, false, false), Some("GENEROUS"), "{v}");
        assert_eq!(f(&v, false, true), Some("SUCCESS"), "{v}");
        assert_eq!(f(&v, true, false), None, "{v}");
        assert_eq!(f(&v, true, true), None, "{v}");
    }
    // Errors optional_no_ca does not accept, and the other values, stay.
    for v in [
        "FAILED:certificate has expired",
        "FAILED:unable to get issuer certificate",
        "FAILED:self-signed certificate ",
        "FAILED:",
        "SUCCESS",
        "NONE",
        "GENEROUS",
        "self-signed certificate",
    ] {
        assert_eq!(f(v, false, false), None, "{v}");
        assert_eq!(f(v, false, true), None, "{v}");
    }
}
