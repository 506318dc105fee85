//! Hostile client certificates, built byte by byte (no signature checks
//! happen when variables are computed, so the signature is a placeholder):
//! OIDs far over OpenSSL's 586-byte `OBJ_obj2txt` bound, thousands of
//! extensions, RDNs and SAN entries. Shared by tests/hostile_cert.rs,
//! benches/hostile.rs and examples/fuzz_seeds.rs.
#![allow(dead_code)]

/// One DER TLV (definite length).
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// OBJECT IDENTIFIER TLV from content octets.
pub fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

/// Content octets of a dotted OID (arcs that fit a u64).
pub fn oid_content(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().expect("arc")).collect();
    let mut out = Vec::new();
    let mut push = |mut v: u64| {
        let mut digits = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            digits.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        out.extend(digits.iter().rev());
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    out
}

/// `1.2` followed by one arc of `arc_bytes` base-128 digits (all 0x7f):
/// a single huge arc, the case that made the old decimal conversion
/// quadratic.
pub fn huge_arc_oid(arc_bytes: usize) -> Vec<u8> {
    let mut c = vec![0x2a];
    c.extend(std::iter::repeat_n(0xff, arc_bytes.saturating_sub(1)));
    c.push(0x7f);
    c
}

/// `1.2` followed by `n` arcs of 200 (two bytes each): a long OID of small
/// arcs (`1.2.200.200…`), content `1 + 2n` bytes.
pub fn many_arc_oid(n: usize) -> (Vec<u8>, String) {
    let mut c = vec![0x2a];
    let mut dotted = String::from("1.2");
    for _ in 0..n {
        c.extend_from_slice(&[0x81, 0x48]);
        dotted.push_str(".200");
    }
    (c, dotted)
}

/// One RDN `SET { SEQ { type, UTF8String value } }`.
pub fn rdn(type_oid: &[u8], value: &str) -> Vec<u8> {
    tlv(0x31, &seq(&[oid(type_oid), tlv(0x0c, value.as_bytes())]))
}

pub fn cn(value: &str) -> Vec<u8> {
    rdn(&oid_content("2.5.4.3"), value)
}

/// A Name from RDNs.
pub fn name(rdns: &[Vec<u8>]) -> Vec<u8> {
    seq(rdns)
}

/// One extension (non-critical) with `value` as the extnValue content.
pub fn ext(type_oid: &[u8], value: &[u8]) -> Vec<u8> {
    seq(&[oid(type_oid), tlv(0x04, value)])
}

/// A v3 certificate with these names and extensions.
pub fn cert(subject: &[u8], extensions: &[Vec<u8>]) -> Vec<u8> {
    let sha256_rsa = seq(&[oid(&oid_content("1.2.840.113549.1.1.11")), vec![0x05, 0x00]]);
    let issuer = name(&[cn("Hostile Test CA")]);
    let validity = seq(&[tlv(0x17, b"260101000000Z"), tlv(0x17, b"360101000000Z")]);
    let spki = seq(&[
        seq(&[oid(&oid_content("1.2.840.113549.1.1.1")), vec![0x05, 0x00]]),
        tlv(0x03, &[0x00, 0x30, 0x00]),
    ]);
    let mut tbs = vec![
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &[0x01, 0x23]),
        sha256_rsa.clone(),
        issuer,
        validity,
        subject.to_vec(),
        spki,
    ];
    if !extensions.is_empty() {
        tbs.push(tlv(0xa3, &seq(extensions)));
    }
    seq(&[seq(&tbs), sha256_rsa, tlv(0x03, &[0x00, 0x00])])
}

/// A normal-looking client certificate: CN, O, a DNS SAN, an EKU.
pub fn normal() -> Vec<u8> {
    let subject = name(&[rdn(&oid_content("2.5.4.10"), "Example"), cn("x")]);
    let san = seq(&[tlv(0x82, b"client.example.com")]);
    let eku = seq(&[oid(&oid_content("1.3.6.1.5.5.7.3.2"))]);
    cert(
        &subject,
        &[
            ext(&oid_content("2.5.29.17"), &san),
            ext(&oid_content("2.5.29.37"), &eku),
        ],
    )
}

/// The worst certificate these tests build within OpenSSL's 100 KiB
/// certificate list limit (`MAX_CERT_DER`): one extension whose OID has a
/// 40 000-byte arc, 40 more extensions with 601-byte OIDs, 20 RDNs with
/// 601-byte types and 200 CNs, a SAN of 500 DNS names and 10 registered
/// IDs with 601-byte OIDs, a certificate policy with a 601-byte OID.
pub fn worst() -> Vec<u8> {
    let (long, _) = many_arc_oid(300);
    let mut rdns = vec![cn("x")];
    for i in 0..220 {
        if i % 11 == 0 {
            rdns.push(rdn(&long, "v"));
        } else {
            rdns.push(cn("y"));
        }
    }
    let mut san = Vec::new();
    for i in 0..510 {
        if i % 51 == 50 {
            san.push(tlv(0x88, &long));
        } else {
            san.push(tlv(0x82, b"a.example"));
        }
    }
    let mut exts = vec![
        ext(&huge_arc_oid(40_000), b"\x0c\x01x"),
        ext(&oid_content("2.5.29.17"), &seq(&san)),
        ext(&oid_content("2.5.29.32"), &seq(&[seq(&[oid(&long)])])),
    ];
    for _ in 0..40 {
        exts.push(ext(&long, b"\x0c\x01x"));
    }
    cert(&name(&rdns), &exts)
}

/// Smaller hostile certificates (each under 4 KiB) for the fuzz seeds.
pub fn fuzz_seeds() -> Vec<Vec<u8>> {
    let (long, _) = many_arc_oid(300);
    let other = tlv(0xa0, &[oid(&long), tlv(0xa0, &tlv(0x0c, b"v"))].concat());
    let san = seq(&[tlv(0x82, b"a.example"), tlv(0x88, &long), other]);
    let eku = seq(&[oid(&oid_content("1.3.6.1.5.5.7.3.2")), oid(&long)]);
    let many: Vec<Vec<u8>> = (0..150)
        .map(|i| ext(&oid_content(&format!("1.3.6.1.4.1.{i}")), b"\x0c\x01x"))
        .collect();
    vec![
        cert(&name(&[cn("x")]), &[ext(&huge_arc_oid(2000), b"\x0c\x01x")]),
        cert(&name(&[cn("x"), rdn(&long, "v")]), &[]),
        cert(
            &name(&[cn("x")]),
            &[
                ext(&oid_content("2.5.29.17"), &san),
                ext(&oid_content("2.5.29.37"), &eku),
                ext(&oid_content("2.5.29.32"), &seq(&[seq(&[oid(&long)])])),
            ],
        ),
        cert(&name(&[cn("x")]), &many),
    ]
}
