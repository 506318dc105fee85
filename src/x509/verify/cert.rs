//! Certificates reduced to what x509_vfy.c looks at: names in canonical
//! form, times as `X509_cmp_time` reads them, key and signature strength,
//! the extensions `check_extensions` and `check_purpose` test.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::keys::{key_info, sig_info, KeyInfo, KeyKind, SigInfo};
use crate::x509::der::{read_low_tlv, split_certificate, RawTbs};
use crate::x509::int::normalize_int;
use crate::x509::name::{canon_name, CanonName};
use crate::x509::time::cmp_time_seconds;

#[derive(Debug, Clone)]
pub(super) struct Akid {
    pub(super) keyid: Option<Vec<u8>>,
    pub(super) issuer: Option<CanonName>,
    pub(super) serial: Option<Vec<u8>>,
}

/// A validity time: seconds since the epoch, or a format OpenSSL's
/// `X509_cmp_time` rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Asn1Time {
    At(i64),
    Bad,
}

// key usage bits as OpenSSL keeps them (x509v3.h KU_*)
pub(super) const KU_DIGITAL_SIGNATURE: u16 = 0x0080;
pub(super) const KU_NON_REPUDIATION: u16 = 0x0040;
pub(super) const KU_KEY_ENCIPHERMENT: u16 = 0x0020;
pub(super) const KU_DATA_ENCIPHERMENT: u16 = 0x0010;
pub(super) const KU_KEY_AGREEMENT: u16 = 0x0008;
pub(super) const KU_KEY_CERT_SIGN: u16 = 0x0004;
pub(super) const KU_CRL_SIGN: u16 = 0x0002;
pub(super) const KU_ENCIPHER_ONLY: u16 = 0x0001;
pub(super) const KU_DECIPHER_ONLY: u16 = 0x8000;
// Netscape cert type bits (NS_*)
pub(super) const NS_SSL_CLIENT: u8 = 0x80;
pub(super) const NS_SSL_SERVER: u8 = 0x40;
pub(super) const NS_SMIME: u8 = 0x20;
pub(super) const NS_OBJSIGN: u8 = 0x10;
pub(super) const NS_SSL_CA: u8 = 0x04;
pub(super) const NS_SMIME_CA: u8 = 0x02;
pub(super) const NS_OBJSIGN_CA: u8 = 0x01;
pub(super) const NS_ANY_CA: u8 = NS_SSL_CA | NS_SMIME_CA | NS_OBJSIGN_CA;

#[derive(Debug, Clone)]
pub(super) struct Cert {
    pub(super) der: Vec<u8>,
    pub(super) v1: bool,
    pub(super) subject: CanonName,
    pub(super) issuer: CanonName,
    pub(super) serial: Vec<u8>,
    pub(super) not_before: Asn1Time,
    pub(super) not_after: Asn1Time,
    /// outer signatureAlgorithm equals the TBS one (X509_verify checks it)
    pub(super) algs_consistent: bool,
    pub(super) sig: Option<SigInfo>,
    pub(super) key: Option<KeyInfo>,
    /// basicConstraints: (cA, pathLenConstraint)
    pub(super) bc: Option<(bool, Option<u64>)>,
    pub(super) ku: Option<u16>,
    /// extendedKeyUsage present: does it list clientAuth?
    pub(super) xku_client: Option<bool>,
    pub(super) ns: Option<u8>,
    pub(super) skid: Option<Vec<u8>>,
    pub(super) akid: Option<Akid>,
    /// a critical extension outside `X509_supported_extension`
    pub(super) unhandled_critical: bool,
    pub(super) proxy: bool,
    /// EXFLAG_INVALID: `ossl_x509v3_cache_extensions` fails
    pub(super) invalid: bool,
    pub(super) self_issued: bool,
    /// EXFLAG_SS
    pub(super) ss_flag: bool,
}

pub(super) mod oid {
    pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
    pub const KEY_USAGE: &str = "2.5.29.15";
    pub const EXT_KEY_USAGE: &str = "2.5.29.37";
    pub const SUBJECT_KEY_ID: &str = "2.5.29.14";
    pub const AUTHORITY_KEY_ID: &str = "2.5.29.35";
    pub const SUBJECT_ALT_NAME: &str = "2.5.29.17";
    pub const NAME_CONSTRAINTS: &str = "2.5.29.30";
    pub const CRL_DP: &str = "2.5.29.31";
    pub const NS_CERT_TYPE: &str = "2.16.840.1.113730.1.1";
    pub const PROXY_CERT_INFO: &str = "1.3.6.1.5.5.7.1.14";
    pub const IP_ADDR_BLOCKS: &str = "1.3.6.1.5.5.7.1.7";
    pub const AS_IDS: &str = "1.3.6.1.5.5.7.1.8";
    /// `X509_supported_extension` of v3_purp.c
    pub const SUPPORTED_CRITICAL: &[&str] = &[
        NS_CERT_TYPE,
        KEY_USAGE,
        SUBJECT_ALT_NAME,
        BASIC_CONSTRAINTS,
        "2.5.29.32", // certificatePolicies
        CRL_DP,
        EXT_KEY_USAGE,
        IP_ADDR_BLOCKS,
        AS_IDS,
        "1.3.6.1.5.5.7.48.1.5", // id-pkix-ocsp-nocheck
        "2.5.29.36",            // policyConstraints
        PROXY_CERT_INFO,
        NAME_CONSTRAINTS,
        "2.5.29.33", // policyMappings
        "2.5.29.54", // inhibitAnyPolicy
    ];
    /// extensions `ossl_x509v3_cache_extensions` decodes (a decoding
    /// failure, or a duplicate, sets EXFLAG_INVALID)
    pub const DECODED: &[&str] = &[
        BASIC_CONSTRAINTS,
        PROXY_CERT_INFO,
        KEY_USAGE,
        EXT_KEY_USAGE,
        NS_CERT_TYPE,
        SUBJECT_KEY_ID,
        AUTHORITY_KEY_ID,
        SUBJECT_ALT_NAME,
        NAME_CONSTRAINTS,
        CRL_DP,
        IP_ADDR_BLOCKS,
        AS_IDS,
    ];
}

impl Cert {
    pub(super) fn from_der(der: &[u8]) -> Result<Cert, String> {
        let (rest, x) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err("trailing data after the certificate".into());
        }
        // x509-parser has validated the structure: these re-read its bytes.
        let (raw, outer_sig_alg, not_before, not_after) = (|| {
            let (tbs, outer_sig_alg) = split_certificate(der).ok()?;
            let raw = RawTbs::read(tbs.raw).ok()?;
            let (not_before, rest) = read_low_tlv(raw.validity.content)?;
            let (not_after, _) = read_low_tlv(rest)?;
            Some((raw, outer_sig_alg, not_before, not_after))
        })()
        .ok_or("malformed TBSCertificate")?;
        let time = |t| cmp_time_seconds(t).map_or(Asn1Time::Bad, Asn1Time::At);
        let subject = canon_name(raw.subject.raw).ok_or("subject name cannot be canonicalised")?;
        let issuer = canon_name(raw.issuer.raw).ok_or("issuer name cannot be canonicalised")?;
        let tbs = &x.tbs_certificate;
        let mut cert = Cert {
            der: der.to_vec(),
            v1: tbs.version.0 == 0,
            subject,
            issuer,
            serial: normalize_int(tbs.raw_serial()),
            not_before: time(&not_before),
            not_after: time(&not_after),
            algs_consistent: raw.signature.raw == outer_sig_alg.raw,
            sig: sig_info(
                x.signature_algorithm.algorithm.to_id_string().as_str(),
                outer_sig_alg.raw,
            ),
            key: key_info(
                tbs.subject_pki.algorithm.algorithm.to_id_string().as_str(),
                &tbs.subject_pki,
            ),
            bc: None,
            ku: None,
            xku_client: None,
            ns: None,
            skid: None,
            akid: None,
            unhandled_critical: false,
            proxy: false,
            invalid: false,
            self_issued: false,
            ss_flag: false,
        };
        let mut seen: Vec<String> = Vec::new();
        for ext in x.extensions() {
            let id = ext.oid.to_id_string();
            if oid::DECODED.contains(&id.as_str()) {
                if seen.contains(&id) {
                    cert.invalid = true;
                }
                seen.push(id.clone());
            }
            if ext.critical && !oid::SUPPORTED_CRITICAL.contains(&id.as_str()) {
                cert.unhandled_critical = true;
            }
            if id == oid::PROXY_CERT_INFO {
                cert.proxy = true;
            }
            match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => {
                    cert.bc = Some((bc.ca, bc.path_len_constraint.map(u64::from)));
                }
                ParsedExtension::KeyUsage(ku) => {
                    let bits = [
                        (ku.digital_signature(), KU_DIGITAL_SIGNATURE),
                        (ku.non_repudiation(), KU_NON_REPUDIATION),
                        (ku.key_encipherment(), KU_KEY_ENCIPHERMENT),
                        (ku.data_encipherment(), KU_DATA_ENCIPHERMENT),
                        (ku.key_agreement(), KU_KEY_AGREEMENT),
                        (ku.key_cert_sign(), KU_KEY_CERT_SIGN),
                        (ku.crl_sign(), KU_CRL_SIGN),
                        (ku.encipher_only(), KU_ENCIPHER_ONLY),
                        (ku.decipher_only(), KU_DECIPHER_ONLY),
                    ]
                    .iter()
                    .filter(|(set, _)| *set)
                    .fold(0u16, |acc, (_, bit)| acc | bit);
                    if bits == 0 {
                        // RFC 5280 4.2.1.3: an empty key usage is invalid
                        cert.invalid = true;
                    }
                    cert.ku = Some(bits);
                }
                ParsedExtension::ExtendedKeyUsage(eku) => cert.xku_client = Some(eku.client_auth),
                ParsedExtension::NSCertType(ns) => {
                    let bits = [
                        (ns.ssl_client(), NS_SSL_CLIENT),
                        (ns.ssl_server(), NS_SSL_SERVER),
                        (ns.smime(), NS_SMIME),
                        (ns.object_signing(), NS_OBJSIGN),
                        (ns.ssl_ca(), NS_SSL_CA),
                        (ns.smime_ca(), NS_SMIME_CA),
                        (ns.object_signing_ca(), NS_OBJSIGN_CA),
                    ]
                    .iter()
                    .filter(|(set, _)| *set)
                    .fold(0u8, |acc, (_, bit)| acc | bit);
                    cert.ns = Some(bits);
                }
                ParsedExtension::SubjectKeyIdentifier(kid) => cert.skid = Some(kid.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(akid) => {
                    let issuer = match &akid.authority_cert_issuer {
                        Some(names) => names.iter().find_map(|g| match g {
                            GeneralName::DirectoryName(n) => Some(canon_name(n.as_raw())),
                            _ => None,
                        }),
                        None => None,
                    };
                    let issuer = match issuer {
                        Some(Some(n)) => Some(n),
                        Some(None) => {
                            cert.invalid = true;
                            None
                        }
                        None => None,
                    };
                    cert.akid = Some(Akid {
                        keyid: akid.key_identifier.as_ref().map(|k| k.0.to_vec()),
                        issuer,
                        serial: akid.authority_cert_serial.map(normalize_int),
                    });
                }
                ParsedExtension::ParseError { .. } if oid::DECODED.contains(&id.as_str()) => {
                    cert.invalid = true
                }
                _ => {}
            }
        }
        // ossl_x509v3_cache_extensions: self-issued, and self-signed when the
        // AKID matches and the signature algorithm fits the own key.
        cert.self_issued = cert.subject == cert.issuer;
        cert.ss_flag = cert.self_issued
            && check_akid(&cert, cert.akid.as_ref())
            && sig_alg_match(cert.key.as_ref(), &cert);
        Ok(cert)
    }

    /// `X509_self_signed(x, 0) > 0`
    pub(super) fn self_signed(&self) -> bool {
        !self.invalid && self.ss_flag
    }

    /// `X509_check_ca`
    pub(super) fn check_ca(&self) -> i32 {
        if self.invalid {
            return 0;
        }
        if let Some(ku) = self.ku {
            if ku & KU_KEY_CERT_SIGN == 0 {
                return 0;
            }
        }
        if let Some((ca, _)) = self.bc {
            return i32::from(ca);
        }
        if self.v1 && self.ss_flag {
            3
        } else if self.ku.is_some() {
            4
        } else if self.ns.is_some_and(|ns| ns & NS_ANY_CA != 0) {
            5
        } else {
            0
        }
    }

    /// `ossl_x509_check_cert_time(ctx, x, -1)`: valid right now?
    pub(super) fn time_valid(&self, now: i64) -> bool {
        matches!(self.not_before, Asn1Time::At(t) if t <= now)
            && matches!(self.not_after, Asn1Time::At(t) if t > now)
    }

    pub(super) fn not_after_key(&self) -> i64 {
        match self.not_after {
            Asn1Time::At(t) => t,
            Asn1Time::Bad => i64::MIN,
        }
    }
}

/// `X509_check_akid(issuer, akid) == X509_V_OK`
pub(super) fn check_akid(issuer: &Cert, akid: Option<&Akid>) -> bool {
    let Some(akid) = akid else { return true };
    if let (Some(keyid), Some(skid)) = (&akid.keyid, &issuer.skid) {
        if keyid != skid {
            return false;
        }
    }
    if let Some(serial) = &akid.serial {
        if *serial != issuer.serial {
            return false;
        }
    }
    if let Some(name) = &akid.issuer {
        if *name != issuer.issuer {
            return false;
        }
    }
    true
}

/// `check_sig_alg_match`: the subject's signature algorithm fits the
/// issuer's key type.
pub(super) fn sig_alg_match(issuer_key: Option<&KeyInfo>, subject: &Cert) -> bool {
    let (Some(key), Some(sig)) = (issuer_key, subject.sig.as_ref()) else {
        return false;
    };
    key.kind == sig.pk || (key.kind == KeyKind::Rsa && sig.pk == KeyKind::RsaPss)
}

/// `ossl_x509_likely_issued(issuer, subject) == X509_V_OK`
pub(super) fn likely_issued(issuer: &Cert, subject: &Cert) -> bool {
    issuer.subject == subject.issuer
        && !issuer.invalid
        && !subject.invalid
        && check_akid(issuer, subject.akid.as_ref())
        && sig_alg_match(issuer.key.as_ref(), subject)
}

/// `X509_verify(subject, issuer key) > 0`
pub(super) fn signature_ok(subject: &Cert, issuer: &Cert) -> bool {
    if !subject.algs_consistent {
        return false;
    }
    let (Ok((_, s)), Ok((_, i))) = (
        X509Certificate::from_der(&subject.der),
        X509Certificate::from_der(&issuer.der),
    ) else {
        return false;
    };
    x509_parser::verify::verify_signature(
        i.public_key(),
        &s.signature_algorithm,
        &s.signature_value,
        s.tbs_certificate.as_ref(),
    )
    .is_ok()
}

/// `X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, require_ca)` as
/// `check_purpose` reads it (non-strict: an internal error passes).
pub(super) fn purpose_ssl_client(x: &Cert, require_ca: bool) -> bool {
    if x.invalid {
        return true;
    }
    if x.xku_client == Some(false) {
        return false;
    }
    if require_ca {
        // check_ssl_ca
        let ca = x.check_ca();
        return ca != 0 && (ca != 5 || x.ns.is_some_and(|ns| ns & NS_SSL_CA != 0));
    }
    if x.ku
        .is_some_and(|ku| ku & (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT) == 0)
    {
        return false;
    }
    x.ns.is_none_or(|ns| ns & NS_SSL_CLIENT != 0)
}
