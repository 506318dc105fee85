//! Test PKIs made with rcgen, and helpers to read the measured Apache data.
#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use std::path::PathBuf;
use time::OffsetDateTime;

pub const DAY: i64 = 86_400;
pub const YEAR: i64 = 365 * DAY;

/// One certificate with its key and the parameters it was made from.
pub struct Node {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: Vec<u8>,
}

/// What kind of certificate to make.
#[derive(Clone)]
pub struct Spec {
    pub cn: String,
    pub ca: Option<Option<u8>>, // Some(pathlen) for a CA
    pub not_before: i64,
    pub not_after: i64,
    pub client_auth: bool,
    pub server_auth_only: bool,
}

impl Spec {
    pub fn ca(cn: &str, now: i64) -> Spec {
        Spec {
            cn: cn.into(),
            ca: Some(None),
            not_before: now - 5 * YEAR,
            not_after: now + 5 * YEAR,
            client_auth: false,
            server_auth_only: false,
        }
    }
    pub fn leaf(cn: &str, now: i64) -> Spec {
        Spec {
            cn: cn.into(),
            ca: None,
            not_before: now - YEAR,
            not_after: now + YEAR,
            client_auth: true,
            server_auth_only: false,
        }
    }
    pub fn valid(mut self, from: i64, to: i64) -> Spec {
        self.not_before = from;
        self.not_after = to;
        self
    }
    pub fn pathlen(mut self, n: u8) -> Spec {
        self.ca = Some(Some(n));
        self
    }
    /// a "CA" without basicConstraints cA (an end-entity profile)
    pub fn not_ca(mut self) -> Spec {
        self.ca = None;
        self.client_auth = false;
        self
    }
    pub fn server_only(mut self) -> Spec {
        self.server_auth_only = true;
        self
    }
}

fn ts(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).expect("timestamp in range")
}

fn params(spec: &Spec, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Verify Test PKI");
    dn.push(DnType::CommonName, spec.cn.as_str());
    p.distinguished_name = dn;
    p.not_before = ts(spec.not_before);
    p.not_after = ts(spec.not_after);
    p.serial_number = Some(SerialNumber::from(serial));
    p.use_authority_key_identifier_extension = true;
    match spec.ca {
        Some(pathlen) => {
            p.is_ca = IsCa::Ca(match pathlen {
                Some(n) => BasicConstraints::Constrained(n),
                None => BasicConstraints::Unconstrained,
            });
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        }
        None => {
            p.is_ca = IsCa::ExplicitNoCa;
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            if spec.server_auth_only {
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            } else if spec.client_auth {
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
        }
    }
    p
}

static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0x1000);

fn next_serial() -> u64 {
    SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A self-signed certificate.
pub fn self_signed(spec: &Spec) -> Node {
    let key = KeyPair::generate().expect("key");
    let params = params(spec, next_serial());
    let der = params.self_signed(&key).expect("self-sign").der().to_vec();
    Node { params, key, der }
}

/// A certificate issued by `issuer`.
pub fn issued(spec: &Spec, issuer: &Node) -> Node {
    let key = KeyPair::generate().expect("key");
    let params = params(spec, next_serial());
    let signer = Issuer::from_params(&issuer.params, &issuer.key);
    let der = params
        .signed_by(&key, &signer)
        .expect("sign")
        .der()
        .to_vec();
    Node { params, key, der }
}

/// PEM text of DER certificates.
pub fn pem(ders: &[&[u8]]) -> String {
    let mut out = String::new();
    for der in ders {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let b64 = base64(der);
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).expect("ascii"));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Certificates of a PEM file, DER.
pub fn read_pem(path: &std::path::Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    x509_parser::pem::Pem::iter_from_buffer(&data)
        .map(|p| p.expect("PEM block").contents)
        .collect()
}

/// The measured Apache data (`shared/apache-2.4.71`): $SSLREQUIRE_APACHE_DATA,
/// else found from the crate upwards.
pub fn apache_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/apache-2.4.71")
}

/// A client chain to try, with the trust anchors it is tried against.
pub struct Scenario {
    pub name: &'static str,
    /// leaf first, as the client sends it
    pub chain: Vec<Vec<u8>>,
    pub leaf_key_pem: String,
    pub anchors: Vec<Vec<u8>>,
}

/// Flips the last byte of a certificate: its signature no longer verifies.
pub fn corrupt_signature(der: &[u8]) -> Vec<u8> {
    let mut out = der.to_vec();
    if let Some(last) = out.last_mut() {
        *last ^= 0x01;
    }
    out
}

/// The rcgen PKIs, valid around `now`.
pub fn scenarios(now: i64) -> Vec<Scenario> {
    let root = self_signed(&Spec::ca("Verify Root CA", now));
    let int = issued(&Spec::ca("Verify Intermediate CA", now), &root);
    let other_root = self_signed(&Spec::ca("Unknown Root CA", now));
    let other_int = issued(&Spec::ca("Unknown Intermediate CA", now), &other_root);

    let mut out = Vec::new();
    let anchors = vec![root.der.clone()];
    let mut add = |name: &'static str, leaf: &Node, rest: &[&Node], anchors: &[Vec<u8>]| {
        let mut chain = vec![leaf.der.clone()];
        chain.extend(rest.iter().map(|n| n.der.clone()));
        out.push(Scenario {
            name,
            chain,
            leaf_key_pem: leaf.key.serialize_pem(),
            anchors: anchors.to_vec(),
        });
    };

    let ok = issued(&Spec::leaf("ok", now), &int);
    add("ok", &ok, &[&int], &anchors);
    add("ok-with-root", &ok, &[&int, &root], &anchors);
    add(
        "ok-direct",
        &issued(&Spec::leaf("direct", now), &root),
        &[],
        &anchors,
    );
    add(
        "expired",
        &issued(
            &Spec::leaf("expired", now).valid(now - 2 * YEAR, now - YEAR),
            &int,
        ),
        &[&int],
        &anchors,
    );
    add(
        "notyet",
        &issued(
            &Spec::leaf("notyet", now).valid(now + YEAR, now + 2 * YEAR),
            &int,
        ),
        &[&int],
        &anchors,
    );
    let old_int = issued(
        &Spec::ca("Verify Old Intermediate CA", now).valid(now - 3 * YEAR, now - DAY),
        &root,
    );
    add(
        "expired-int",
        &issued(&Spec::leaf("under expired int", now), &old_int),
        &[&old_int],
        &anchors,
    );

    let stranger = issued(&Spec::leaf("stranger", now), &other_int);
    add("unknown-leaf-only", &stranger, &[], &anchors);
    add("unknown-with-int", &stranger, &[&other_int], &anchors);
    add(
        "unknown-with-root",
        &stranger,
        &[&other_int, &other_root],
        &anchors,
    );
    let stranger_expired = issued(
        &Spec::leaf("stranger expired", now).valid(now - 2 * YEAR, now - YEAR),
        &other_int,
    );
    add(
        "unknown-expired",
        &stranger_expired,
        &[&other_int],
        &anchors,
    );
    let selfie = self_signed(&Spec::leaf("self signed", now));
    add("selfsigned", &selfie, &[], &anchors);
    let selfie_expired =
        self_signed(&Spec::leaf("self signed expired", now).valid(now - 2 * YEAR, now - YEAR));
    add("selfsigned-expired", &selfie_expired, &[], &anchors);
    let trusted_selfie = self_signed(&Spec::leaf("trusted self signed", now));
    add(
        "selfsigned-trusted",
        &trusted_selfie,
        &[],
        &[root.der.clone(), trusted_selfie.der.clone()],
    );

    // root -> int1 -> int2 -> int3 -> leaf: the chain's top is at depth 4
    let int1 = issued(&Spec::ca("Verify Int 1", now), &root);
    let int2 = issued(&Spec::ca("Verify Int 2", now), &int1);
    let int3 = issued(&Spec::ca("Verify Int 3", now), &int2);
    add(
        "long",
        &issued(&Spec::leaf("deep", now), &int3),
        &[&int3, &int2, &int1],
        &anchors,
    );

    let mut bad = issued(&Spec::leaf("bad signature", now), &int);
    bad.der = corrupt_signature(&bad.der);
    add("bad-signature", &bad, &[&int], &anchors);
    // same DN as the intermediate, another key, no key identifiers
    let impostor = self_signed(&Spec::ca("Verify Intermediate CA", now));
    let forged_spec = Spec::leaf("forged", now);
    let forged = {
        let key = KeyPair::generate().expect("key");
        let mut p = params(&forged_spec, next_serial());
        p.use_authority_key_identifier_extension = false;
        let signer = Issuer::from_params(&impostor.params, &impostor.key);
        let der = p.signed_by(&key, &signer).expect("sign").der().to_vec();
        Node {
            params: p,
            key,
            der,
        }
    };
    add("wrong-key", &forged, &[&int], &anchors);

    let not_ca = issued(&Spec::ca("Verify Not A CA", now).not_ca(), &root);
    add(
        "int-not-ca",
        &issued(&Spec::leaf("under non-CA", now), &not_ca),
        &[&not_ca],
        &anchors,
    );
    add(
        "server-only",
        &issued(&Spec::leaf("server only", now).server_only(), &int),
        &[&int],
        &anchors,
    );
    let int_p0 = issued(&Spec::ca("Verify Int pathlen 0", now).pathlen(0), &root);
    let int_below = issued(&Spec::ca("Verify Int below pathlen 0", now), &int_p0);
    add(
        "pathlen",
        &issued(&Spec::leaf("too deep for pathlen", now), &int_below),
        &[&int_below, &int_p0],
        &anchors,
    );
    add(
        "int-as-anchor",
        &ok,
        &[&int],
        std::slice::from_ref(&int.der),
    );
    out
}
