use super::*;
use crate::x509::string::{do_buf, do_buf_each};

// ------------------------------------------------------------------
// Serials
// ------------------------------------------------------------------

#[test]
fn serial_edge_cases() {
    let cases: &[(&[u8], &str, &str)] = &[
        (&[0x00], "00", "0"),
        (&[0x01], "01", "1"),
        (&[0x0a], "0A", "10"),
        (&[0x00, 0x80], "80", "128"), // sign byte dropped
        (&[0x80], "-80", "-128"),
        (&[0xff], "-01", "-1"),
        (&[0xff, 0x00], "-0100", "-256"),
        (&[0xff, 0x7f], "-81", "-129"),
        (&[0x0a, 0x1b, 0x2c], "0A1B2C", "662316"),
        (&[0x00, 0xc0, 0xff, 0xee], "C0FFEE", "12648430"),
    ];
    for (raw, hex, dec) in cases {
        let i = AsnInt::from_content(raw).expect("valid INTEGER");
        assert_eq!(i.i2a(), *hex, "{raw:02x?}");
        assert_eq!(i.to_decimal(), *dec, "{raw:02x?}");
    }
    for bad in [&[][..], &[0x00, 0x01], &[0xff, 0x80, 0x01]] {
        assert!(AsnInt::from_content(bad).is_err(), "{bad:02x?}");
    }
    // 20-byte serial (bigserial.crt) and i2a's line break after 35 bytes
    let big = AsnInt::from_content(&[
        0x7f, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
        0x00, 0xff, 0xee, 0xdd, 0xcc,
    ])
    .expect("valid");
    assert_eq!(big.i2a(), "7FEEDDCCBBAA99887766554433221100FFEEDDCC");
    assert_eq!(
        big.to_decimal(),
        "730368726734123118469632302676385618847016607180"
    );
    let long: Vec<u8> = (1..=36).collect();
    let s = AsnInt::from_content(&long).expect("valid").i2a();
    assert_eq!(&s[70..], "\\\n24");
    // through a certificate
    let c = Tpl {
        serial: vec![0x00, 0x80],
        ..Tpl::default()
    }
    .cert();
    assert_eq!(c.m_serial(), "80");
    assert!(c
        .rfc4523_cea()
        .starts_with("{ serialNumber 128, issuer rdnSequence:\"CN=Test CA\" }"));
    let der = Tpl {
        serial: vec![0x00, 0x01],
        ..Tpl::default()
    }
    .der();
    assert!(matches!(
        Cert::from_der(&der),
        Err(CertError::Malformed {
            field: "serialNumber",
            ..
        })
    ));
}

// ------------------------------------------------------------------
// Times
// ------------------------------------------------------------------

fn t(gen: bool, s: &str) -> AsnTime {
    AsnTime {
        generalized: gen,
        data: s.as_bytes().to_vec(),
    }
}

#[test]
fn asn1_time_print_formats() {
    assert_eq!(
        asn1_time_print(&t(false, "271125164329Z")),
        "Nov 25 16:43:29 2027 GMT"
    );
    assert_eq!(
        asn1_time_print(&t(false, "260101000000Z")),
        "Jan  1 00:00:00 2026 GMT"
    );
    // UTCTime pivot as OpenSSL prints it: YY < 50 → 20YY
    assert_eq!(
        asn1_time_print(&t(false, "491231235959Z")),
        "Dec 31 23:59:59 2049 GMT"
    );
    assert_eq!(
        asn1_time_print(&t(false, "500101000000Z")),
        "Jan  1 00:00:00 1950 GMT"
    );
    assert_eq!(
        asn1_time_print(&t(true, "20500101000000Z")),
        "Jan  1 00:00:00 2050 GMT"
    );
    assert_eq!(
        asn1_time_print(&t(true, "20261225164416.123Z")),
        "Dec 25 16:44:16.123 2026 GMT"
    );
    assert_eq!(
        asn1_time_print(&t(false, "2611251643Z")),
        "Nov 25 16:43:00 2026 GMT"
    );
    assert_eq!(
        asn1_time_print(&t(false, "261125164329+0130")),
        "Nov 25 15:13:29 2026 GMT"
    );
    assert_eq!(
        asn1_time_print(&t(false, "280229120000Z")),
        "Feb 29 12:00:00 2028 GMT"
    );
    for bad in [
        "270229120000Z",
        "271325164329Z",
        "27112516432Z",
        "2711251643299",
        "",
        "x",
    ] {
        assert_eq!(asn1_time_print(&t(false, bad)), "Bad time value", "{bad}");
    }
}

const NOT_AFTER: i64 = 1_827_161_009; // 2027-11-25T16:43:29Z

#[test]
fn v_remain_matches_the_dumps_and_truncates() {
    let na = t(false, "271125164329Z");
    // the dumps: 364, not 365 (no extra day)
    assert_eq!(modssl_remain_days(&na, NOW), 364);
    let c = Tpl::default().cert();
    assert_eq!(c.v_remain(NOW), "364");
    assert_eq!(c.not_after_unix(), NOT_AFTER);
    // whole days, truncated
    assert_eq!(modssl_remain_days(&na, NOT_AFTER - 86400 * 10), 10);
    assert_eq!(modssl_remain_days(&na, NOT_AFTER - 86400 * 10 + 1), 9);
    assert_eq!(modssl_remain_days(&na, NOT_AFTER - 86399), 0);
    // never negative
    assert_eq!(modssl_remain_days(&na, NOT_AFTER), 0);
    assert_eq!(modssl_remain_days(&na, NOT_AFTER + 86400 * 400), 0);
    // unparsable → 0
    assert_eq!(modssl_remain_days(&t(false, "271325164329Z"), NOW), 0);
}

#[test]
fn v_remain_year_pivot_and_quirks() {
    let midnight = 1_795_564_800; // 2026-11-25T00:00:00Z
                                  // mod_ssl reads UTCTime YY <= 50 as 20YY (OpenSSL itself says 1950)
    assert_eq!(
        modssl_remain_days(&t(false, "500101000000Z"), midnight),
        8438
    );
    assert_eq!(
        modssl_remain_days(&t(true, "20500101000000Z"), midnight),
        8438
    );
    assert_eq!(modssl_remain_days(&t(false, "510101000000Z"), midnight), 0); // 1951
    let c = Tpl {
        not_after: utctime("500101000000Z"),
        ..Tpl::default()
    }
    .cert();
    assert_eq!(c.v_end(), "Jan  1 00:00:00 1950 GMT");
    assert_eq!(c.not_after_unix(), -631_152_000);
    assert_eq!(c.v_remain(midnight), "8438");
    let g = Tpl {
        not_after: gentime("20500101000000Z"),
        ..Tpl::default()
    }
    .cert();
    assert_eq!(g.v_end(), "Jan  1 00:00:00 2050 GMT");
    assert_eq!(g.not_after_unix(), 2_524_608_000);
    assert_eq!(g.v_remain(midnight), "8438");
    // offsets are ignored by mod_ssl's digit reader
    let off = t(false, "271125164329+0100");
    assert_eq!(modssl_remain_days(&off, NOT_AFTER - 86400 * 3), 3);
    assert_eq!(
        asn1_time_to_tm(&off).and_then(|tm| tm.unix()),
        Some(NOT_AFTER - 3600)
    );
    // without seconds mod_ssl reads "Z\0" as 372 seconds
    let nosec = t(false, "2611251643Z");
    let day_before = 1_795_538_940; // 2026-11-24T16:49:00Z
    assert_eq!(modssl_remain_days(&nosec, day_before), 1);
}

// ------------------------------------------------------------------
// OIDs
// ------------------------------------------------------------------

#[test]
fn every_known_oid_fits_the_lookup_bound() {
    // (The table's single-arc rows, `0` `1` `2`, have no encoding.)
    for row in OBJECTS {
        if let Some(der) = a2d_oid(row.0) {
            assert!(
                der.len() <= KNOWN_OID_MAX,
                "{} is {} bytes",
                row.0,
                der.len()
            );
        }
    }
}

#[test]
fn the_der_lookup_is_the_dotted_lookup() {
    // obj_by_der finds by content octets what the table lists by text.
    for (i, row) in OBJECTS.iter().enumerate() {
        if let Some(der) = a2d_oid(row.0) {
            assert_eq!(oid_to_dotted(&der), row.0);
            assert_eq!(obj_by_der(&der), Some(i), "{}", row.0);
        }
    }
    assert_eq!(obj_by_der(&[0x2a, 0x03, 0x04, 0x05, 0x06]), None);
    assert_eq!(obj_by_der(&[]), None);
    // What the printers compare by text is in the table.
    for attr in DnAttr::ALL {
        assert_eq!(attr.obj().map(|i| OBJECTS[i].0), Some(attr.oid()));
    }
    assert_eq!(a2d_oid("2.5.29.17").as_deref(), Some(OID_SAN_DER));
}

#[test]
fn oid_text_round_trips_and_quirks() {
    let bc = a2d_oid("2.5.29.19").expect("valid");
    assert_eq!(bc, vec![0x55, 0x1d, 0x13]);
    assert_eq!(oid_to_dotted(&bc), "2.5.29.19");
    assert_eq!(a2d_oid("2 5 29 19"), Some(bc.clone()));
    assert_eq!(a2d_oid("2.5.29.19."), Some(bc.clone()));
    assert_eq!(a2d_oid("1..2"), a2d_oid("1.0.2"));
    assert_eq!(a2d_oid("1.40.1"), None);
    assert_eq!(a2d_oid("3.1"), None);
    assert_eq!(a2d_oid("12.3"), None);
    assert_eq!(a2d_oid("1"), None);
    assert_eq!(a2d_oid("1."), None);
    assert_eq!(a2d_oid(""), None);
    assert_eq!(a2d_oid("1.2.x"), None);
    let big = "2.999.1234567890123456789012345678901234567890";
    assert_eq!(oid_to_dotted(&a2d_oid(big).expect("valid")), big);
    assert_eq!(obj_txt2obj("basicConstraints", false), Some(bc.clone()));
    assert_eq!(
        obj_txt2obj("X509v3 Basic Constraints", false),
        Some(bc.clone())
    );
    assert_eq!(obj_txt2obj("basicConstraints", true), None);
    assert_eq!(obj_txt2obj("basicconstraints", false), None);
    assert_eq!(obj_txt2obj("2.5.29.19", true), Some(bc));
    assert!(check_oid(&[]).is_err());
    assert!(check_oid(&[0x55, 0x80, 0x01]).is_err());
    assert!(check_oid(&[0x55, 0x81]).is_err());
}

proptest::proptest! {
    /// do_buf's one-copy path gives what the character-by-character one does.
    #[test]
    fn the_unescaped_copy_is_do_buf(
        data in proptest::collection::vec(
            proptest::prop_oneof![
                // mostly plain letters, with each kind of character do_buf escapes
                8 => proptest::sample::select(b"aaaaZZ= #\\\"+;\x01\x7f\xc3".to_vec()),
                1 => proptest::num::u8::ANY,
            ],
            0..6,
        ),
        width in 0i32..2,
        convert: bool,
        flags in 0u32..0x10,
    ) {
        proptest::prop_assert_eq!(
            do_buf(&data, width, convert, flags),
            do_buf_each(&data, width, convert, flags)
        );
    }
}
