use super::*;

// ------------------------------------------------------------------
// Malformed input: errors, never panics
// ------------------------------------------------------------------

fn exercise(c: &Cert) {
    let _ = (
        c.m_version(),
        c.m_serial(),
        c.v_start(),
        c.v_end(),
        c.v_remain(NOW),
    );
    let _ = (c.dn(NameKind::Subject, false), c.dn(NameKind::Issuer, true));
    let _ = (
        c.a_sig(),
        c.a_key(),
        c.pem(),
        c.rfc4523_cea(),
        c.not_after_unix(),
    );
    for a in DnAttr::ALL {
        let _ = c.dn_component(NameKind::Subject, a, 0, true);
    }
    for k in [
        SanKind::Email,
        SanKind::Dns,
        SanKind::MsUpn,
        SanKind::DnsSrv,
    ] {
        let _ = c.san(k, 0);
    }
    for id in [
        "2.5.29.17",
        "2.5.29.19",
        "2.5.29.35",
        "2.5.29.31",
        "2.5.29.32",
        "1.2.3.4",
    ] {
        let _ = c.extension_values(id, false);
    }
    let _ = c.export_vars("SSL_CLIENT", NOW, false);
}

fn rich_cert() -> Vec<u8> {
    Tpl {
        subject: snakeoil_subject(),
        exts: vec![
            ext("2.5.29.19", seq(&[tlv(0x01, &[0xff])])),
            ext(
                "2.5.29.17",
                seq(&[
                    tlv(0x82, b"www.example.com"),
                    tlv(0xa4, &name(&[&[("2.5.4.3", utf8("dir"))]])),
                ]),
            ),
            ext("2.5.29.35", seq(&[tlv(0x80, &[1, 2]), tlv(0x82, &[5])])),
            ext("1.2.3.4", utf8("x")),
        ],
        ..Tpl::default()
    }
    .der()
}

#[test]
fn truncated_and_padded_der_is_an_error() {
    let der = rich_cert();
    exercise(&Cert::from_der(&der).expect("valid"));
    assert!(matches!(Cert::from_der(&[]), Err(CertError::EmptyDer)));
    for len in 1..der.len() {
        assert!(Cert::from_der(&der[..len]).is_err(), "truncated at {len}");
    }
    let mut padded = der.clone();
    padded.push(0);
    assert!(matches!(
        Cert::from_der(&padded),
        Err(CertError::TrailingData(1))
    ));
}

#[test]
fn corrupted_der_never_panics() {
    let der = rich_cert();
    let mut seed: u64 = 0x243f_6a88_85a3_08d3;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..der.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut d = der.clone();
            d[i] ^= x;
            if let Ok(c) = Cert::from_der(&d) {
                exercise(&c);
            }
        }
    }
    for _ in 0..2000 {
        let mut d = der.clone();
        for _ in 0..3 {
            let pos = (next() as usize) % d.len();
            d[pos] = next() as u8;
        }
        if let Ok(c) = Cert::from_der(&d) {
            exercise(&c);
        }
    }
}

#[test]
fn printers_never_panic_on_garbage() {
    let ids = [
        "2.5.29.19",
        "2.5.29.15",
        "2.16.840.1.113730.1.1",
        "2.5.29.37",
        "2.5.29.17",
        "2.5.29.14",
        "2.5.29.35",
        "2.16.840.1.113730.1.13",
        "2.5.29.54",
        "1.3.6.1.5.5.7.1.1",
        "2.5.29.36",
        "1.3.6.1.5.5.7.1.24",
        "1.3.6.1.5.5.7.48.1.5",
        "2.5.29.31",
        "2.5.29.32",
        "1.2.3",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 24) as usize;
        let mut v: Vec<u8> = (0..len)
            .map(|k| (seed >> (k % 8 * 8)) as u8 ^ k as u8)
            .collect();
        if let Some(first) = v.first_mut() {
            *first = [0x30, 0x03, 0x04, 0x16, 0x0c, 0x1e, 0x02, 0x05][(seed >> 40) as usize % 8];
        }
        for id in ids {
            let _ = x509v3_ext_print(id, &v);
        }
        let _ = dump_extn_value(&v);
        let _ = parse_general_names_value(&v);
        let _ = Name::from_der(&v);
    }
}

#[test]
fn pem_errors() {
    let der = Tpl::default().der();
    let good = pem_encode(&der);
    let body: String = good.lines().filter(|l| !l.starts_with("-----")).collect();
    // zero blocks
    assert!(matches!(
        Cert::from_pem_chain(""),
        Err(CertError::NoPemCertificate)
    ));
    assert!(matches!(
        Cert::from_pem_chain("just text\n"),
        Err(CertError::NoPemCertificate)
    ));
    let key_only = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert!(matches!(
        Cert::from_pem_chain(key_only),
        Err(CertError::NoPemCertificate)
    ));
    // unterminated
    let unterminated = format!("-----BEGIN CERTIFICATE-----\n{body}\n");
    assert!(matches!(
        Cert::from_pem_chain(&unterminated),
        Err(CertError::UnterminatedPem { line: 1, .. })
    ));
    // END without BEGIN, mismatched END, BEGIN inside a block
    assert!(matches!(
        Cert::from_pem_chain("-----END CERTIFICATE-----\n"),
        Err(CertError::BadArmour { line: 1, .. })
    ));
    let mismatched = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END PRIVATE KEY-----\n");
    assert!(matches!(
        Cert::from_pem_chain(&mismatched),
        Err(CertError::BadArmour { line: 3, .. })
    ));
    let nested = format!("-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    assert!(matches!(
        Cert::from_pem_chain(&nested),
        Err(CertError::BadArmour { line: 2, .. })
    ));
    // bad base64
    let bad64 = "-----BEGIN CERTIFICATE-----\nnot*base64!\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        Cert::from_pem_chain(bad64),
        Err(CertError::Base64 { line: 1, .. })
    ));
    // valid base64, not a certificate
    let notcert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let err = Cert::from_pem_chain(notcert).expect_err("error");
    assert!(matches!(
        err,
        CertError::InPemBlock {
            index: 0,
            line: 1,
            ..
        }
    ));
    assert!(err.to_string().contains("certificate #0"));
    // truncated base64 body
    let half = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        &body[..body.len() / 2]
    );
    assert!(Cert::from_pem_chain(&half).is_err());
    // a chain with CRLF line ends, comments and a key block in between
    let chain = format!(
        "subject=leaf\r\n{}-----BEGIN EC PRIVATE KEY-----\r\nAAAA\r\n-----END EC PRIVATE KEY-----\r\n{}",
        good.replace('\n', "\r\n"),
        good
    );
    let certs = Cert::from_pem_chain(&chain).expect("two certificates");
    assert_eq!(certs.len(), 2);
    assert_eq!(certs[1].der(), der.as_slice());
}

#[test]
fn error_messages_are_descriptive() {
    let e = Cert::from_der(&[0x30, 0x03, 0x02, 0x01]).expect_err("error");
    assert!(e.to_string().starts_with("DER: "), "{e}");
    let mut padded = Tpl::default().der();
    padded.extend_from_slice(&[1, 2, 3]);
    assert_eq!(
        Cert::from_der(&padded).err().map(|e| e.to_string()),
        Some("DER: 3 byte(s) of trailing data after the certificate".into())
    );
}
