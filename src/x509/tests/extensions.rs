use super::*;

// ------------------------------------------------------------------
// Extensions
// ------------------------------------------------------------------

#[test]
fn extension_values_24_and_22() {
    let san = seq(&[
        tlv(0x81, b"a@example.com"),
        tlv(0x82, b"www.example.com"),
        tlv(0x87, &[127, 0, 0, 1]),
        tlv(
            0xa0,
            &[oid("1.3.6.1.4.1.311.20.2.3"), tlv(0xa0, &utf8("upn@corp"))].concat(),
        ),
    ]);
    let c = Tpl {
        exts: vec![
            ext("2.5.29.19", seq(&[tlv(0x01, &[0xff]), tlv(0x02, &[3])])),
            ext("2.5.29.15", tlv(0x03, &[0x05, 0xa0])),
            ext(
                "2.5.29.37",
                seq(&[oid("1.3.6.1.5.5.7.3.2"), oid("1.2.3.4")]),
            ),
            ext("2.5.29.17", san),
            ext("2.5.29.14", tlv(0x04, &[0xab, 0x01])),
            ext("2.5.29.35", seq(&[tlv(0x80, &[0xf6, 0x69])])),
            ext("2.16.840.1.113730.1.13", ia5("This Is A Comment")),
            ext("1.3.6.1.4.1.18060.12.0", utf8("Lemons")),
            ext("1.2.3.4.5.6", ia5("carol-ia5")),
            ext("1.2.3.4.5.6", tlv(0x04, b"octets")),
        ],
        ..Tpl::default()
    }
    .cert();
    let v = |id: &str, num: bool| -> Vec<String> {
        c.extension_values(id, num)
            .into_iter()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    };
    assert_eq!(v("basicConstraints", false), ["CA:TRUE, pathlen:3"]);
    assert_eq!(v("2.5.29.19", true), ["CA:TRUE, pathlen:3"]);
    assert_eq!(
        v("keyUsage", false),
        ["Digital Signature, Key Encipherment"]
    );
    assert_eq!(
        v("extendedKeyUsage", false),
        ["TLS Web Client Authentication, 1.2.3.4"]
    );
    assert_eq!(
        v("subjectAltName", false),
        ["email:a@example.com, DNS:www.example.com, IP Address:127.0.0.1, othername: UPN::upn@corp"]
    );
    assert_eq!(v("subjectKeyIdentifier", false), ["AB:01"]);
    assert_eq!(v("authorityKeyIdentifier", false), ["F6:69"]);
    assert_eq!(v("nsComment", false), ["This Is A Comment"]);
    assert_eq!(v("Netscape Comment", false), ["This Is A Comment"]);
    assert_eq!(v("2.16.840.1.113730.1.13", true), ["This Is A Comment"]);
    // 2.2 accepts only dotted OIDs
    assert!(v("nsComment", true).is_empty());
    // unknown types: 2.4 falls back to the string value, 2.2 has no value
    assert_eq!(v("1.3.6.1.4.1.18060.12.0", false), ["Lemons"]);
    assert!(v("1.3.6.1.4.1.18060.12.0", true).is_empty());
    assert_eq!(v("1.2.3.4.5.6", false), ["carol-ia5"]);
    assert!(v("1.2.3.4.5.7", false).is_empty());
    assert!(v("nonsense", false).is_empty());
    assert!(v("", false).is_empty());
    // SAN variables
    assert_eq!(c.san(SanKind::Email, 0).as_deref(), Some("a@example.com"));
    assert_eq!(c.san(SanKind::Dns, 0).as_deref(), Some("www.example.com"));
    assert_eq!(c.san(SanKind::Dns, 1), None);
    assert_eq!(c.san(SanKind::MsUpn, 0).as_deref(), Some("upn@corp"));
    assert_eq!(c.san(SanKind::DnsSrv, 0), None);
}

#[test]
fn export_vars_client_and_server_sets() {
    let c = Tpl {
        subject: snakeoil_subject(),
        exts: vec![ext(
            "2.5.29.17",
            seq(&[
                tlv(0x82, b""), // prints empty: skipped by the export, still counted by lookups
                tlv(0x82, b"b.example"),
                tlv(
                    0xa0,
                    &[oid("1.3.6.1.5.5.7.8.7"), tlv(0xa0, &ia5("_x._tcp.example"))].concat(),
                ),
                tlv(
                    0xa0,
                    &[oid("1.3.6.1.4.1.311.20.2.3"), tlv(0xa0, &ia5("not-utf8"))].concat(),
                ),
                tlv(
                    0xa0,
                    &[oid("1.3.6.1.4.1.311.20.2.3"), tlv(0xa0, &utf8("u@corp"))].concat(),
                ),
            ]),
        )],
        ..Tpl::default()
    }
    .cert();
    let client: Vec<String> = c
        .export_vars("SSL_CLIENT", NOW, false)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let server: Vec<String> = c
        .export_vars("SSL_SERVER", NOW, false)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let mut sorted = client.clone();
    sorted.sort();
    assert_eq!(client, sorted);
    for k in [
        "SSL_CLIENT_V_REMAIN",
        "SSL_CLIENT_CERT_RFC4523_CEA",
        "SSL_CLIENT_S_DN_OU",
        "SSL_CLIENT_S_DN_OU_1",
        "SSL_CLIENT_S_DN_Email",
        "SSL_CLIENT_SAN_DNS_0",
        "SSL_CLIENT_SAN_OTHER_msUPN_0",
        "SSL_CLIENT_CERT",
    ] {
        assert!(client.iter().any(|x| x == k), "{k} missing");
    }
    for k in [
        "SSL_CLIENT_SAN_DNS_1",
        "SSL_CLIENT_SAN_OTHER_dnsSRV_0",
        "SSL_CLIENT_SAN_OTHER_msUPN_1",
    ] {
        assert!(!client.iter().any(|x| x == k), "{k} present");
    }
    assert!(server.iter().any(|x| x == "SSL_SERVER_SAN_OTHER_dnsSRV_0"));
    assert!(!server
        .iter()
        .any(|x| x.contains("V_REMAIN") || x.contains("RFC4523") || x.contains("msUPN")));
    let get = |k: &str| {
        c.export_vars("SSL_CLIENT", NOW, false)
            .into_iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v)
    };
    assert_eq!(get("SSL_CLIENT_SAN_DNS_0"), Some(b"b.example".to_vec()));
    assert_eq!(
        get("SSL_CLIENT_SAN_OTHER_msUPN_0"),
        Some(b"u@corp".to_vec())
    );
    // lookups count every entry of the kind
    assert_eq!(c.san(SanKind::Dns, 0), None);
    assert_eq!(c.san(SanKind::Dns, 1).as_deref(), Some("b.example"));
    assert_eq!(c.san(SanKind::MsUpn, 0), None);
    assert_eq!(c.san(SanKind::MsUpn, 1).as_deref(), Some("u@corp"));
    assert_eq!(
        c.san(SanKind::DnsSrv, 0).as_deref(),
        Some("_x._tcp.example")
    );
    // legacy DN form
    assert!(c
        .export_vars("SSL_CLIENT", NOW, true)
        .iter()
        .any(|(k, v)| k == "SSL_CLIENT_S_DN" && v.starts_with(b"/C=US/ST=California")));
}

#[test]
fn algorithms_and_pem() {
    let c = Tpl::default().cert();
    assert_eq!(c.a_sig(), "sha256WithRSAEncryption");
    assert_eq!(c.a_key(), "rsaEncryption");
    assert_eq!(c.m_version(), "3");
    let pem = c.pem();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(pem.ends_with("\n-----END CERTIFICATE-----\n"));
    assert!(pem.lines().all(|l| l.len() <= 64));
    let back = Cert::from_pem_chain(&pem).expect("round trip");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].der(), c.der());
    assert_eq!(
        obj_long_name_or_unknown(&a2d_oid("1.2.3.4.5").unwrap_or_default()),
        "UNKNOWN"
    );
    assert_eq!(
        obj_long_name_or_unknown(&a2d_oid("1.3.101.112").unwrap_or_default()),
        "ED25519"
    );
    assert_eq!(
        obj_long_name_or_unknown(&a2d_oid("1.2.840.10045.4.3.2").unwrap_or_default()),
        "ecdsa-with-SHA256"
    );
    assert_eq!(
        obj_long_name_or_unknown(&a2d_oid("1.2.840.10045.2.1").unwrap_or_default()),
        "id-ecPublicKey"
    );
}
