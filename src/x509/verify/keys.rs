//! Algorithms and keys: `X509_get_signature_info` and
//! `EVP_PKEY_get_security_bits` as OpenSSL 3.0 computes them.

use x509_parser::public_key::PublicKey;

use crate::x509::der::read_low_tlv;
use crate::x509::oid::oid_to_dotted;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyKind {
    Rsa,
    RsaPss,
    Ec,
    Ed25519,
    Ed448,
    X25519,
    X448,
    Dsa,
}

#[derive(Debug, Clone)]
pub(super) struct KeyInfo {
    pub(super) kind: KeyKind,
    pub(super) sec_bits: i32,
    pub(super) explicit_ec: bool,
}

#[derive(Debug, Clone)]
pub(super) struct SigInfo {
    /// public key type the algorithm needs (`OBJ_find_sigid_algs`)
    pub(super) pk: KeyKind,
    /// `X509_get_signature_info` security bits; `None` when unknown
    pub(super) sec_bits: Option<i32>,
}

/// `OBJ_find_sigid_algs` + `X509_get_signature_info` for a signature
/// algorithm OID; `alg_tlv` is the whole AlgorithmIdentifier (for RSA-PSS).
pub(super) fn sig_info(alg: &str, alg_tlv: &[u8]) -> Option<SigInfo> {
    let hashed = |pk, bits| {
        Some(SigInfo {
            pk,
            sec_bits: Some(bits),
        })
    };
    match alg {
        "1.2.840.113549.1.1.4" => hashed(KeyKind::Rsa, 39), // md5WithRSAEncryption
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => hashed(KeyKind::Rsa, 63),
        "1.2.840.113549.1.1.14" => hashed(KeyKind::Rsa, 112),
        "1.2.840.113549.1.1.11" => hashed(KeyKind::Rsa, 128),
        "1.2.840.113549.1.1.12" => hashed(KeyKind::Rsa, 192),
        "1.2.840.113549.1.1.13" => hashed(KeyKind::Rsa, 256),
        "1.2.840.10045.4.1" => hashed(KeyKind::Ec, 63),
        "1.2.840.10045.4.3.1" => hashed(KeyKind::Ec, 112),
        "1.2.840.10045.4.3.2" => hashed(KeyKind::Ec, 128),
        "1.2.840.10045.4.3.3" => hashed(KeyKind::Ec, 192),
        "1.2.840.10045.4.3.4" => hashed(KeyKind::Ec, 256),
        "1.2.840.10040.4.3" => hashed(KeyKind::Dsa, 63),
        "2.16.840.1.101.3.4.3.1" => hashed(KeyKind::Dsa, 112),
        "2.16.840.1.101.3.4.3.2" => hashed(KeyKind::Dsa, 128),
        "1.3.101.112" => hashed(KeyKind::Ed25519, 128),
        "1.3.101.113" => hashed(KeyKind::Ed448, 224),
        "1.2.840.113549.1.1.10" => Some(SigInfo {
            pk: KeyKind::RsaPss,
            sec_bits: pss_sec_bits(alg_tlv),
        }),
        _ => None,
    }
}

/// Security bits of an RSASSA-PSS AlgorithmIdentifier (from its hash; SHA-1
/// when absent, as RFC 4055 defaults).
pub(super) fn pss_sec_bits(alg_tlv: &[u8]) -> Option<i32> {
    let (alg, _) = read_low_tlv(alg_tlv)?;
    let (_, params) = read_low_tlv(alg.content)?; // skip the OID
    let mut hash = "1.3.14.3.2.26".to_string();
    if let Some((seq, _)) = read_low_tlv(params).filter(|(t, _)| t.identifier() == Some(0x30)) {
        if let Some((explicit, _)) =
            read_low_tlv(seq.content).filter(|(t, _)| t.identifier() == Some(0xa0))
        {
            let (alg, _) = read_low_tlv(explicit.content)?;
            let (oid, _) = read_low_tlv(alg.content)?;
            if oid.identifier() != Some(0x06) {
                return None;
            }
            hash = oid_to_dotted(oid.content);
        }
    }
    match hash.as_str() {
        "1.3.14.3.2.26" => Some(64),
        "2.16.840.1.101.3.4.2.4" => Some(112),
        "2.16.840.1.101.3.4.2.1" => Some(128),
        "2.16.840.1.101.3.4.2.2" => Some(192),
        "2.16.840.1.101.3.4.2.3" => Some(256),
        _ => None,
    }
}

/// Key type and `EVP_PKEY_get_security_bits`; `None` where OpenSSL would
/// not decode the key (`X509_get0_pubkey` NULL).
pub(super) fn key_info(
    alg: &str,
    spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
) -> Option<KeyInfo> {
    let simple = |kind, sec_bits| {
        Some(KeyInfo {
            kind,
            sec_bits,
            explicit_ec: false,
        })
    };
    match alg {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            let Ok(PublicKey::RSA(rsa)) = spki.parsed() else {
                return None;
            };
            let bits = bit_length(rsa.modulus);
            let kind = if alg == "1.2.840.113549.1.1.1" {
                KeyKind::Rsa
            } else {
                KeyKind::RsaPss
            };
            simple(kind, ifc_security_bits(bits))
        }
        "1.2.840.10045.2.1" => {
            let params = spki.algorithm.parameters.as_ref()?;
            match params.as_oid() {
                Ok(curve) => {
                    let order_bits = match curve.to_id_string().as_str() {
                        "1.2.840.10045.3.1.1" => 192,
                        "1.3.132.0.33" => 224,
                        "1.2.840.10045.3.1.7" | "1.3.132.0.10" | "1.3.36.3.3.2.8.1.1.7" => 256,
                        "1.3.132.0.34" | "1.3.36.3.3.2.8.1.1.11" => 384,
                        "1.3.36.3.3.2.8.1.1.13" => 512,
                        "1.3.132.0.35" => 521,
                        _ => return None,
                    };
                    simple(KeyKind::Ec, ec_security_bits(order_bits))
                }
                Err(_) => {
                    // explicit curve parameters: estimate the order size
                    // from the uncompressed point
                    let point = spki.subject_public_key.data.len();
                    let order_bits = point.saturating_sub(1) / 2 * 8;
                    Some(KeyInfo {
                        kind: KeyKind::Ec,
                        sec_bits: ec_security_bits(order_bits),
                        explicit_ec: true,
                    })
                }
            }
        }
        "1.3.101.112" => simple(KeyKind::Ed25519, 128),
        "1.3.101.113" => simple(KeyKind::Ed448, 224),
        "1.3.101.110" => simple(KeyKind::X25519, 128),
        "1.3.101.111" => simple(KeyKind::X448, 224),
        "1.2.840.10040.4.1" => {
            let params = spki.algorithm.parameters.as_ref()?;
            // Dss-Parms ::= SEQUENCE { p, q, g }: `as_bytes` is its content
            let (p, rest) = read_low_tlv(params.as_bytes())?;
            let (q, _) = read_low_tlv(rest)?;
            simple(
                KeyKind::Dsa,
                bn_security_bits(bit_length(p.content), bit_length(q.content)),
            )
        }
        _ => None,
    }
}

pub(super) fn bit_length(be: &[u8]) -> usize {
    let trimmed: &[u8] = match be.iter().position(|&b| b != 0) {
        Some(i) => &be[i..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

/// `ossl_ifc_ffc_compute_security_bits` (crypto/rsa/rsa_lib.c), in floating
/// point: the canonical table, else SP 800-56B's formula rounded to 8.
pub(super) fn ifc_security_bits(n: usize) -> i32 {
    match n {
        2048 => return 112,
        3072 => return 128,
        4096 => return 152,
        6144 => return 176,
        7680 => return 192,
        8192 => return 200,
        15360 => return 256,
        _ => {}
    }
    if n >= 687_737 {
        return 1200;
    }
    if n < 8 {
        return 0;
    }
    let cap = if n <= 7680 {
        192
    } else if n <= 15360 {
        256
    } else {
        1200
    };
    let x = n as f64 * std::f64::consts::LN_2;
    let lx = x.ln();
    let y = ((1.923 * (x * lx * lx).cbrt() - 4.690) / std::f64::consts::LN_2).floor();
    let y = if y.is_finite() && y > 0.0 {
        y as i32
    } else {
        0
    };
    ((y + 4) & !7).min(cap)
}

/// `BN_security_bits(L, N)` (DSA)
pub(super) fn bn_security_bits(l: usize, n: usize) -> i32 {
    let secbits = if l >= 15360 {
        256
    } else if l >= 7680 {
        192
    } else if l >= 3072 {
        128
    } else if l >= 2048 {
        112
    } else if l >= 1024 {
        80
    } else {
        return 0;
    };
    let bits = (n / 2) as i32;
    if bits < 80 {
        0
    } else {
        bits.min(secbits)
    }
}

/// EC security bits from the group order size (providers' ec_kmgmt.c).
pub(super) fn ec_security_bits(order_bits: usize) -> i32 {
    if order_bits >= 512 {
        256
    } else if order_bits >= 384 {
        192
    } else if order_bits >= 256 {
        128
    } else if order_bits >= 224 {
        112
    } else if order_bits >= 160 {
        80
    } else {
        (order_bits / 2) as i32
    }
}
