use super::*;

// ------------------------------------------------------------------
// DN formats (SPEC §4.3)
// ------------------------------------------------------------------

#[test]
fn spec_dn_example_legacy_and_rfc2253() {
    let c = Tpl {
        subject: snakeoil_subject(),
        ..Tpl::default()
    }
    .cert();
    assert_eq!(
        c.dn(NameKind::Subject, true),
        "/C=US/ST=California/L=San Francisco/O=Snake Oil, Ltd./OU=Staff/OU=Dev/CN=Jos\\xC3\\xA9 \"Q\" \\+<x>;/emailAddress=test-dev@httpd.apache.org"
    );
    assert_eq!(
        c.dn(NameKind::Subject, false),
        "emailAddress=test-dev@httpd.apache.org,CN=José \\\"Q\\\" \\+\\<x\\>\\;,OU=Dev,OU=Staff,O=Snake Oil\\, Ltd.,L=San Francisco,ST=California,C=US"
    );
    let comp = |a, i| c.dn_component(NameKind::Subject, a, i, false);
    assert_eq!(
        comp(DnAttr::CN, 0),
        Some("José \"Q\" +<x>;".as_bytes().to_vec())
    );
    assert_eq!(comp(DnAttr::O, 0), Some(b"Snake Oil, Ltd.".to_vec()));
    assert_eq!(comp(DnAttr::OU, 0), Some(b"Staff".to_vec()));
    assert_eq!(comp(DnAttr::OU, 1), Some(b"Dev".to_vec()));
    assert_eq!(comp(DnAttr::OU, 2), None);
    assert_eq!(
        comp(DnAttr::Email, 0),
        Some(b"test-dev@httpd.apache.org".to_vec())
    );
    assert_eq!(comp(DnAttr::UID, 0), None);
    // issuer
    assert_eq!(c.dn(NameKind::Issuer, false), "CN=Test CA");
    assert_eq!(c.dn(NameKind::Issuer, true), "/CN=Test CA");
}

#[test]
fn spec_client_ok_example() {
    let c = Tpl {
        subject: name(&[
            &[("2.5.4.6", printable("US"))],
            &[("2.5.4.8", printable("California"))],
            &[("2.5.4.7", printable("San Francisco"))],
            &[("2.5.4.10", printable("ASF"))],
            &[("2.5.4.11", printable("httpd-test"))],
            &[("2.5.4.3", printable("client_ok"))],
            &[("1.2.840.113549.1.9.1", ia5("test-dev@httpd.apache.org"))],
        ]),
        ..Tpl::default()
    }
    .cert();
    assert_eq!(
        c.dn(NameKind::Subject, true),
        "/C=US/ST=California/L=San Francisco/O=ASF/OU=httpd-test/CN=client_ok/emailAddress=test-dev@httpd.apache.org"
    );
    assert_eq!(
        c.dn(NameKind::Subject, false),
        "emailAddress=test-dev@httpd.apache.org,CN=client_ok,OU=httpd-test,O=ASF,L=San Francisco,ST=California,C=US"
    );
}

#[test]
fn legacy_multivalued_rdn_and_escapes() {
    let c = Tpl {
        subject: name(&[
            &[("2.5.4.6", printable("US"))],
            &[
                ("2.5.4.3", utf8("Zoë")),
                ("0.9.2342.19200300.100.1.1", utf8("zoe")),
            ],
            &[("2.5.4.11", utf8("a/b")), ("2.5.4.11", utf8("c+d"))],
            &[("1.2.3.4", utf8("unknown"))],
        ]),
        ..Tpl::default()
    }
    .cert();
    assert_eq!(
        c.dn(NameKind::Subject, true),
        "/C=US/CN=Zo\\xC3\\xAB+UID=zoe/OU=a\\/b+OU=c\\+d/1.2.3.4=unknown"
    );
    // RFC 2253: reversed entry by entry, `+` inside an RDN, unknown OID dumped
    assert_eq!(
        c.dn(NameKind::Subject, false),
        "1.2.3.4=#0C07756E6B6E6F776E,OU=c\\+d+OU=a/b,UID=zoe+CN=Zoë,C=US"
    );
    assert_eq!(
        c.dn_component(NameKind::Subject, DnAttr::UID, 0, false),
        Some(b"zoe".to_vec())
    );
}

#[test]
fn rfc2253_escapes_and_control_chars() {
    let c = Tpl {
        subject: name(&[
            &[("2.5.4.3", utf8("a,b+c\"d\\e<f>g;h=i"))],
            &[("2.5.4.10", utf8("#lead"))],
            &[("2.5.4.11", utf8(" lead"))],
            &[("2.5.4.11", utf8("trail "))],
            &[("2.5.4.7", utf8("#"))],
            &[("2.5.4.8", utf8(" "))],
            &[("2.5.4.12", utf8("mid # and  space"))],
            &[("2.5.4.13", utf8("x\u{1}y\u{7f}z\u{1f}"))],
        ]),
        ..Tpl::default()
    }
    .cert();
    assert_eq!(
        c.dn(NameKind::Subject, false),
        "description=x\\01y\\7Fz\\1F,title=mid # and  space,ST=\\ ,L=#,OU=trail\\ ,OU=\\ lead,O=\\#lead,CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h=i"
    );
    assert_eq!(
        c.dn(NameKind::Subject, true),
        "/CN=a,b\\+c\"d\\e<f>g;h=i/O=#lead/OU= lead/OU=trail /L=#/ST= /title=mid # and  space/description=x\\x01y\\x7Fz\\x1F"
    );
    let comp = |a, raw| c.dn_component(NameKind::Subject, a, 0, raw);
    // components: no RFC 2253 escaping, but control characters and `\` are escaped
    assert_eq!(
        comp(DnAttr::CN, false),
        Some(b"a,b+c\"d\\\\e<f>g;h=i".to_vec())
    );
    assert_eq!(comp(DnAttr::O, false), Some(b"#lead".to_vec()));
    assert_eq!(comp(DnAttr::D, false), Some(b"x\\01y\\7Fz\\1F".to_vec()));
    assert_eq!(comp(DnAttr::D, true), Some(b"x\\01y\\7Fz\\1F".to_vec()));
    assert_eq!(comp(DnAttr::ST, false), Some(b" ".to_vec()));
}

#[test]
fn utf8_conversion_of_legacy_string_types() {
    let c = Tpl {
        subject: name(&[
            &[("2.5.4.10", tlv(0x14, b"Caf\xe9"))], // T61String, read as Latin-1
            &[("2.5.4.11", tlv(0x1e, &[0x00, b'Z', 0x03, 0xa9]))], // BMPString "ZΩ"
        ]),
        ..Tpl::default()
    }
    .cert();
    assert_eq!(c.dn(NameKind::Subject, false), "OU=ZΩ,O=Café");
    assert_eq!(
        c.dn(NameKind::Subject, true),
        "/O=Caf\\xE9/OU=\\x00Z\\x03\\xA9"
    );
    let comp = |a, raw| c.dn_component(NameKind::Subject, a, 0, raw);
    assert_eq!(comp(DnAttr::O, false), Some("Café".as_bytes().to_vec()));
    assert_eq!(comp(DnAttr::O, true), Some(b"Caf\xe9".to_vec()));
    assert_eq!(comp(DnAttr::OU, false), Some("ZΩ".as_bytes().to_vec()));
    assert_eq!(comp(DnAttr::OU, true), Some(b"Z\\U03A9".to_vec()));
    // the CEA issuer form escapes every byte >= 0x80
    let c = Tpl {
        issuer: name(&[&[("2.5.4.3", utf8("Zoë \"CA\""))]]),
        serial: vec![0xc0, 0xff, 0xee],
        ..Tpl::default()
    }
    .cert();
    assert_eq!(
        c.rfc4523_cea(),
        "{ serialNumber -4128786, issuer rdnSequence:\"CN=Zo\\C3\\AB \\\"CA\\\"\" }"
    );
}

#[test]
fn dn_values_openssl_rejects() {
    for bad in [
        tlv(0x0c, b"bad\xc3(utf8"),           // invalid UTF-8
        tlv(0x1e, &[0xd8, 0x00, 0x00, 0x41]), // BMP surrogate
        tlv(0x1e, &[0x00]),                   // odd BMPString
        tlv(0x1a, b"visible"),                // VisibleString is not ASN1_PRINTABLE
        tlv(0x02, &[1]),                      // INTEGER
    ] {
        let der = Tpl {
            subject: name(&[&[("2.5.4.3", bad)]]),
            ..Tpl::default()
        }
        .der();
        assert!(matches!(
            Cert::from_der(&der),
            Err(CertError::Malformed {
                field: "subject",
                ..
            })
        ));
    }
}

#[test]
fn empty_subject_is_not_exported() {
    let c = Tpl {
        subject: seq(&[]),
        ..Tpl::default()
    }
    .cert();
    assert_eq!(c.dn(NameKind::Subject, false), "");
    assert_eq!(c.dn(NameKind::Subject, true), "");
    let vars = c.export_vars("SSL_CLIENT", 0, false);
    assert!(!vars.iter().any(|(k, _)| k.starts_with("SSL_CLIENT_S_DN")));
    assert!(vars.iter().any(|(k, _)| k == "SSL_CLIENT_I_DN"));
}
