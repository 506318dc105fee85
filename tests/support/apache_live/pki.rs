//! The test PKI, made fresh by every run: a root CA, an intermediate CA
//! (with an EC sub-CA under it), an unknown "rogue" CA, the server (RSA and
//! EC certificates) and the clients.
//!
//! The clients mirror the reference run of tests/apache-2.4.71 (same
//! names, DNs, SANs and extensions, so its expressions keep their meaning)
//! and add DNs rcgen cannot write by itself (re-encoded by `der.rs`):
//! repeated and multi-valued RDNs, BMP/T61/Universal strings, escapes,
//! control characters, empty values, attributes mod_ssl has no variable
//! for; SANs of every kind; private extensions of every string type.
//!
//! ring cannot generate RSA keys: the RSA keys are the reference run's test
//! keys (tests/apache-2.4.71/certs/*.key); EC and Ed25519 keys are new.

use super::der::{self, at, rdn, Gn, Str};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use time::OffsetDateTime;

const DAY: i64 = 86_400;

/// A certificate and its key.
pub struct Node {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: Vec<u8>,
}

/// A client identity: the chain it sends (leaf first) and its key.
pub struct Client {
    pub name: &'static str,
    pub chain: Vec<Vec<u8>>,
    /// PKCS#8 DER; None for the client without a certificate.
    pub key: Option<Vec<u8>>,
}

pub struct Pki {
    pub root: Node,
    /// The intermediate CA (DER).
    pub int: Vec<u8>,
    pub server_rsa: (Vec<Vec<u8>>, Vec<u8>),
    pub server_ec: (Vec<Vec<u8>>, Vec<u8>),
    pub clients: Vec<Client>,
}

fn rsa_key(name: &str) -> KeyPair {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/apache-2.4.71/certs")
        .join(format!("{name}.key"));
    let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    KeyPair::from_pem(&pem).expect("RSA test key")
}

fn p256() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key")
}

fn p384() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("P-384 key")
}

fn ed25519() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("Ed25519 key")
}

fn at_time(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("time in range")
}

fn simple_dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (t, v) in parts {
        dn.push(t.clone(), *v);
    }
    dn
}

fn ca_params(dn: DistinguishedName, serial: u64, now: i64) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = at_time(now - 2 * DAY);
    p.not_after = at_time(now + 3650 * DAY);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    p
}

/// What a leaf looks like.
struct Leaf {
    /// Replaces the placeholder subject when given.
    subject: Option<Vec<u8>>,
    serial: Vec<u8>,
    /// Validity end, days from now (plus half a day, so `V_REMAIN` cannot
    /// change during a run).
    days: i64,
    server: bool,
    rsa: bool,
    sans: Vec<SanType>,
    extensions: Vec<CustomExtension>,
}

impl Leaf {
    fn new(serial: &[u8]) -> Leaf {
        Leaf {
            subject: None,
            serial: serial.to_vec(),
            days: 365,
            server: false,
            rsa: false,
            sans: Vec::new(),
            extensions: Vec::new(),
        }
    }
}

fn leaf_params(l: &Leaf, dn: DistinguishedName, now: i64) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name = dn;
    p.serial_number = Some(SerialNumber::from_slice(&l.serial));
    p.not_before = at_time(now - DAY - 7 * 3600);
    p.not_after = at_time(now + l.days * DAY + 12 * 3600);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = if l.rsa {
        vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ]
    } else {
        vec![KeyUsagePurpose::DigitalSignature]
    };
    p.extended_key_usages = vec![if l.server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    p.subject_alt_names = l.sans.clone();
    p.custom_extensions = l.extensions.clone();
    p.use_authority_key_identifier_extension = true;
    p
}

fn issue(l: &Leaf, dn: DistinguishedName, key: &KeyPair, issuer: &Node, now: i64) -> Vec<u8> {
    let params = leaf_params(l, dn, now);
    let signer = Issuer::from_params(&issuer.params, &issuer.key);
    let der = params.signed_by(key, &signer).expect("sign").der().to_vec();
    match &l.subject {
        Some(subject) => der::resign(&der, subject, None, &issuer.key),
        None => der,
    }
}

fn ext(oid: &[u64], value: Str) -> CustomExtension {
    CustomExtension::from_oid_content(oid, value.der())
}

fn san_ext(names: &[Gn]) -> CustomExtension {
    CustomExtension::from_oid_content(&[2, 5, 29, 17], der::general_names(names))
}

/// alice's subject (and rogue's): the reference run's.
fn alice_dn() -> Vec<u8> {
    der::name(&[
        rdn(at::C, Str::Printable("US")),
        rdn(at::ST, Str::Utf8("California")),
        rdn(at::L, Str::Utf8("San Francisco")),
        rdn(at::O, Str::Utf8("Snake Oil, Ltd.")),
        rdn(at::OU, Str::Utf8("Engineering")),
        rdn(at::OU, Str::Utf8("Security")),
        rdn(at::CN, Str::Utf8("Alice Example")),
        rdn(at::EMAIL, Str::Ia5("alice@example.com")),
        rdn(at::UID, Str::Utf8("alice")),
    ])
}

impl Pki {
    /// A new PKI valid around `now` (Unix seconds).
    pub fn generate(now: i64) -> Pki {
        let root_key = rsa_key("expired");
        let root_params = ca_params(
            simple_dn(&[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Oracle Test PKI"),
                (DnType::CommonName, "Oracle Test Root CA"),
            ]),
            1,
            now,
        );
        let root_der = root_params
            .self_signed(&root_key)
            .expect("root")
            .der()
            .to_vec();
        let root = Node {
            params: root_params,
            key: root_key,
            der: root_der,
        };
        let sub_ca = |key: KeyPair, dn: DistinguishedName, serial: u64, issuer: &Node| {
            let params = ca_params(dn, serial, now);
            let signer = Issuer::from_params(&issuer.params, &issuer.key);
            let der = params.signed_by(&key, &signer).expect("CA").der().to_vec();
            Node { params, key, der }
        };
        let int = sub_ca(
            rsa_key("selfsigned"),
            simple_dn(&[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Oracle Test PKI"),
                (DnType::OrganizationalUnitName, "Issuing"),
                (DnType::CommonName, "Oracle Test Intermediate CA"),
            ]),
            2,
            &root,
        );
        let ecint = sub_ca(
            p384(),
            simple_dn(&[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Oracle Test PKI"),
                (DnType::CommonName, "Oracle Test EC Sub CA"),
            ]),
            3,
            &int,
        );
        let rogue_key = p384();
        let rogue_params = ca_params(
            simple_dn(&[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Rogue Unknown CA"),
                (DnType::CommonName, "Rogue CA"),
            ]),
            1,
            now,
        );
        let rogue_der = rogue_params
            .self_signed(&rogue_key)
            .expect("rogue")
            .der()
            .to_vec();
        let rogue_ca = Node {
            params: rogue_params,
            key: rogue_key,
            der: rogue_der,
        };

        let placeholder = || simple_dn(&[(DnType::CommonName, "placeholder")]);
        let mut clients = Vec::new();
        #[allow(clippy::too_many_arguments)]
        fn add_to(
            clients: &mut Vec<Client>,
            now: i64,
            name: &'static str,
            key: KeyPair,
            l: Leaf,
            dn: DistinguishedName,
            issuer: &Node,
            chain_tail: &[&Node],
        ) {
            let leaf = issue(&l, dn, &key, issuer, now);
            let mut chain = vec![leaf];
            chain.extend(chain_tail.iter().map(|n| n.der.clone()));
            clients.push(Client {
                name,
                chain,
                key: Some(key.serialize_der()),
            });
        }
        macro_rules! add {
            ($($a:expr),* $(,)?) => { add_to(&mut clients, now, $($a),*) };
        }

        // --- the reference run's clients ---------------------------------
        let mut l = Leaf::new(&[0x10, 0x01]);
        l.rsa = true;
        l.subject = Some(alice_dn());
        l.extensions = vec![
            san_ext(&[
                Gn::Email("alice@example.com"),
                Gn::Email("alice.alt@example.com"),
                Gn::Dns("alice.example.com"),
                Gn::Dns("www.alice.example.com"),
                Gn::Other(der::MS_UPN, Str::Utf8("alice@corp.example")),
            ]),
            ext(&[1, 2, 3, 4, 5, 6], Str::Utf8("hello-oracle")),
        ];
        add!("alice", rsa_key("alice"), l, placeholder(), &int, &[&int]);

        let mut l = Leaf::new(&[0x0a]);
        l.days = 20;
        l.subject = Some(der::name(&[
            rdn(at::C, Str::Printable("DE")),
            rdn(at::ST, Str::Utf8("Berlin")),
            rdn(at::L, Str::Utf8("Berlin")),
            rdn(at::O, Str::Utf8("Example GmbH")),
            rdn(at::OU, Str::Utf8("Sales")),
            rdn(at::CN, Str::Utf8("bob")),
            rdn(at::EMAIL, Str::Ia5("bob@example.org")),
        ]));
        l.sans = vec![
            SanType::DnsName("bob.example.org".try_into().unwrap()),
            SanType::Rfc822Name("bob@example.org".try_into().unwrap()),
        ];
        add!("bob", p256(), l, placeholder(), &int, &[&int]);

        let mut l = Leaf::new(&[0x10, 0x03]);
        l.rsa = true;
        l.subject = Some(der::name(&[
            rdn(at::C, Str::Printable("GB")),
            rdn(at::O, Str::Utf8("Snake Oil, Ltd.")),
            rdn(at::OU, Str::Utf8("Support")),
            rdn(at::OU, Str::Utf8("Engineering")),
            rdn(at::CN, Str::Utf8("Carol Admin")),
        ]));
        l.extensions = vec![
            ext(&[1, 2, 3, 4, 5, 6], Str::Ia5("carol-ia5")),
            ext(&[1, 2, 3, 4, 5, 7], Str::Utf8("second ext")),
        ];
        add!("carol", rsa_key("carol"), l, placeholder(), &int, &[&int]);

        // dave: issued by the root; sends the root along.
        let mut l = Leaf::new(&[0x10, 0x04]);
        l.days = 730;
        add!(
            "dave",
            p384(),
            l,
            simple_dn(&[(DnType::CommonName, "dave")]),
            &root,
            &[&root],
        );

        let mut l = Leaf::new(&[0x10, 0x05]);
        l.rsa = true;
        l.subject = Some(der::name(&[
            rdn(at::C, Str::Printable("FR")),
            rdn(at::O, Str::Utf8("Quote \"Corp\"")),
            rdn(at::OU, Str::Utf8("R&D + Ops")),
            vec![
                (at::CN, Str::Utf8("Zoë Ünïcode")),
                (at::UID, Str::Utf8("zoe")),
            ],
            rdn(at::EMAIL, Str::Ia5("zoe@example.fr")),
        ]));
        l.sans = vec![
            SanType::DnsName("*.zoe.example".try_into().unwrap()),
            SanType::Rfc822Name("zoe@example.fr".try_into().unwrap()),
        ];
        add!("zoe", rsa_key("zoe"), l, placeholder(), &int, &[&int]);

        // rogue: alice's name from a CA the server does not know.
        let mut l = Leaf::new(&[0x10, 0x08]);
        l.rsa = true;
        l.subject = Some(alice_dn());
        add!(
            "rogue",
            rsa_key("rogue"),
            l,
            placeholder(),
            &rogue_ca,
            &[&rogue_ca]
        );

        // bigserial: 20 bytes.
        let mut l = Leaf::new(&[
            0x4a, 0x3b, 0x00, 0xff, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x0f, 0xed,
            0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21,
        ]);
        l.rsa = true;
        add!(
            "bigserial",
            rsa_key("bigserial"),
            l,
            simple_dn(&[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Snake Oil, Ltd."),
                (DnType::OrganizationalUnitName, "Engineering"),
                (DnType::CommonName, "Big Serial"),
            ]),
            &int,
            &[&int],
        );

        // selfsigned: its own issuer.
        {
            let key = p256();
            let l = Leaf::new(&[0x10, 0x10]);
            let params = leaf_params(
                &l,
                simple_dn(&[
                    (DnType::CountryName, "US"),
                    (DnType::OrganizationName, "Snake Oil, Ltd."),
                    (DnType::CommonName, "Self Signed"),
                ]),
                now,
            );
            let der = params
                .self_signed(&key)
                .expect("self-signed")
                .der()
                .to_vec();
            clients.push(Client {
                name: "selfsigned",
                chain: vec![der],
                key: Some(key.serialize_der()),
            });
        }

        // --- new clients ------------------------------------------------
        // multi: every awkward DN feature at once.
        let mut l = Leaf::new(&[0x20, 0x01]);
        l.subject = Some(der::name(&[
            rdn(at::DC, Str::Ia5("net")),
            rdn(at::DC, Str::Ia5("example")),
            rdn(at::C, Str::Printable("NZ")),
            rdn(at::ST, Str::Bmp("Canterbury")),
            rdn(at::L, Str::T61(b"Z\xfcrich")),
            rdn(at::O, Str::Utf8("M\u{fc}ller & S\u{f6}hne; <Ltd>")),
            rdn(at::OU, Str::Printable("First")),
            rdn(at::OU, Str::Utf8("Second")),
            rdn(at::OU, Str::Bmp("Ti\u{1ebf}ng Vi\u{1ec7}t")),
            rdn(at::OU, Str::Utf8("tab\there")),
            rdn(at::CN, Str::Utf8("  padded  ")),
            rdn(at::CN, Str::Utf8("#hash")),
            vec![
                (at::CN, Str::Utf8("a=b+c,d\"e\\f")),
                (at::SERIAL, Str::Printable("SN-42")),
            ],
            rdn(at::PSEUDONYM, Str::Utf8("Ps")),
            rdn(at::EMAIL, Str::Ia5("multi@example.net")),
            rdn(at::UID, Str::Utf8("")),
        ]));
        // An msUPN otherName that is not a UTF8String: OpenSSL cannot print
        // this SAN (PeerExtList gets nothing) and mod_ssl skips the entry.
        l.extensions = vec![san_ext(&[
            Gn::Email("multi@example.net"),
            Gn::Other(der::MS_UPN, Str::Ia5("upn-ia5@corp.example")),
            Gn::Dns("multi.example"),
        ])];
        add!("multi", p256(), l, placeholder(), &int, &[&int]);

        // eddie: Ed25519; the rarer attributes mod_ssl names (T, I, G, S, D),
        // a repeated CN, a UniversalString; no SAN.
        let mut l = Leaf::new(&[0x20, 0x02]);
        l.subject = Some(der::name(&[
            rdn(at::C, Str::Printable("US")),
            rdn(at::O, Str::Utf8("Eddie Org")),
            rdn(at::T, Str::Utf8("Dr.")),
            rdn(at::G, Str::Universal("\u{c9}douard")),
            rdn(at::S, Str::Utf8("Dsa")),
            rdn(at::I, Str::Printable("E. D.")),
            rdn(at::D, Str::Utf8("ed25519 test user")),
            rdn(at::CN, Str::Utf8("Eddie Ed25519")),
            rdn(at::UID, Str::Utf8("eddie")),
            rdn(at::CN, Str::Utf8("Second CN")),
        ]));
        add!("eddie", ed25519(), l, placeholder(), &int, &[&int]);

        // sans: every SAN kind, private extensions of every string type,
        // serial 01.
        let mut l = Leaf::new(&[0x01]);
        l.extensions = vec![
            san_ext(&[
                Gn::Dns("a.sans.example"),
                Gn::Email("first@sans.example"),
                Gn::Dns("b.sans.example"),
                Gn::Ip(vec![192, 0, 2, 1]),
                Gn::Ip(vec![
                    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                ]),
                Gn::Uri("https://sans.example/path"),
                Gn::Other(der::MS_UPN, Str::Utf8("upn1@corp.example")),
                Gn::Other(der::MS_UPN, Str::Utf8("upn2@corp.example")),
                Gn::Other(der::SRV_NAME, Str::Ia5("_ldap.sans.example")),
                Gn::Email("second@sans.example"),
                Gn::RegisteredId(&[1, 2, 3, 4]),
                Gn::Dir(der::name(&[rdn(at::CN, Str::Utf8("dir name"))])),
                Gn::Dns("c.sans.example"),
            ]),
            ext(
                &[1, 2, 3, 4, 5, 6],
                Str::Utf8("\u{fc}n\u{ef}c\u{f6}d\u{e9}-ext"),
            ),
            ext(&[1, 2, 3, 4, 5, 7], Str::Utf8("dup-one")),
            ext(&[1, 2, 3, 4, 5, 7], Str::Utf8("dup-two")),
            ext(&[1, 2, 3, 4, 5, 8], Str::Bmp("bmp-ext")),
            ext(&[1, 2, 3, 4, 5, 9], Str::Visible("visible-ext")),
            ext(&[1, 2, 3, 4, 5, 10], Str::Printable("printable-ext")),
            ext(&[1, 2, 3, 4, 5, 11], Str::Utf8("before\0after")),
            ext(
                &[2, 16, 840, 1, 113730, 1, 13],
                Str::Ia5("a netscape comment"),
            ),
        ];
        add!(
            "sans",
            p256(),
            l,
            simple_dn(&[
                (DnType::OrganizationName, "SAN Corp"),
                (DnType::CommonName, "sans.example"),
            ]),
            &int,
            &[&int],
        );

        // ecint: under the EC sub-CA (chain of three), serial 80.
        let mut l = Leaf::new(&[0x80]);
        l.days = 30;
        l.extensions = vec![ext(&[1, 2, 3, 4, 5, 6], Str::Utf8("hello-oracle"))];
        add!(
            "ecint",
            p256(),
            l,
            simple_dn(&[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Snake Oil, Ltd."),
                (DnType::OrganizationalUnitName, "Engineering"),
                (DnType::CommonName, "EC Intermediate Client"),
            ]),
            &ecint,
            &[&ecint, &int],
        );

        clients.push(Client {
            name: "none",
            chain: Vec::new(),
            key: None,
        });

        // --- the server: RSA and EC ----------------------------------------
        let server = |key: KeyPair, serial: &[u8]| {
            let mut l = Leaf::new(serial);
            l.server = true;
            l.rsa = key.algorithm() == &rcgen::PKCS_RSA_SHA256;
            l.sans = vec![
                SanType::DnsName("localhost".try_into().unwrap()),
                SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])),
            ];
            let dn = simple_dn(&[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Oracle Test PKI"),
                (DnType::CommonName, "localhost"),
            ]);
            let leaf = issue(&l, dn, &key, &int, now);
            (vec![leaf, int.der.clone()], key.serialize_der())
        };
        let server_rsa = server(rsa_key("server"), &[0x01, 0x00]);
        let server_ec = server(p256(), &[0x01, 0x01]);
        Pki {
            root,
            int: int.der.clone(),
            server_rsa,
            server_ec,
            clients,
        }
    }
}
