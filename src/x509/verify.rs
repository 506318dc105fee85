//! `SSL_CLIENT_VERIFY` as Apache httpd 2.4 mod_ssl on OpenSSL 3.0 decides it.
//!
//! [`Verifier::verify`] replays, for one client certificate chain, what happens
//! between the TLS `Certificate` message and the first `SSLRequire` evaluation:
//!
//! 1. OpenSSL's `X509_verify_cert` (crypto/x509/x509_vfy.c, 3.0.22):
//!    EE key strength, `build_chain` (trusted-first, peer certificates as the
//!    untrusted pool), `check_extensions` (critical extensions, CA flags, the
//!    `ssl_client` purpose, path length), `check_auth_level` (security level),
//!    then `internal_verify` (key usage of issuers, signatures, validity
//!    times), top of the chain down to the leaf. Errors are "sticky": the last
//!    error handed to the callback stays in the store context.
//! 2. mod_ssl's verify callback `ssl_callback_SSLVerify`
//!    (modules/ssl/ssl_engine_kernel.c), called for each error and, with
//!    `ok = 1`, for each depth: under `optional_no_ca` it accepts the five
//!    "optional" errors of `ssl_verify_error_is_optional` and records
//!    `verify_info = "GENEROUS"`; any depth above `SSLVerifyDepth` is refused
//!    ("certificate chain too long"; mod_ssl does this itself and does *not*
//!    call `SSL_CTX_set_verify_depth`, so OpenSSL's own limit stays 100).
//!    A refusal fails the handshake (statem_srvr.c,
//!    `tls_process_client_certificate`), so SSLRequire never runs.
//! 3. Per request, `ssl_hook_Access`: for TLS <= 1.2 the classic path calls
//!    `SSL_set_verify_result(ssl, X509_V_OK)` whenever `SSLVerifyClient` is
//!    configured, before SSLRequire is evaluated; the TLS 1.3 path
//!    (`ssl_hook_Access_modern`) does not. `ssl_var_lookup_ssl_cert_verify`
//!    (ssl_engine_vars.c) then gives `GENEROUS` only when the verify result is
//!    `X509_V_OK`, so an accepted-but-untrusted chain reads `GENEROUS` over
//!    TLS 1.2 and `FAILED:<last OpenSSL error>` over TLS 1.3.
//!
//! Not modelled: name constraints, certificate policies, RFC 3779 resources,
//! CRL/OCSP checking, auxiliary trust settings, DANE, Suite B, per-directory
//! `SSLVerifyClient`/`SSLVerifyDepth` (renegotiation / post-handshake auth),
//! the TLS handshake signature itself. Signatures are checked with
//! x509-parser (ring): algorithms ring lacks (DSA, Ed448, ECDSA P-256 with
//! SHA-512, RSA keys under 2048 bits, which only matter below security level
//! 2) count as "certificate signature failure" where OpenSSL might accept
//! them, and DER that x509-parser and OpenSSL's `d2i_X509` judge differently
//! gives a different outcome.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

/// `SSLVerifyClient` level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyMode {
    /// `none`: no certificate is requested, `SSL_CLIENT_VERIFY` is `NONE`.
    None,
    /// `optional`: a certificate is requested; one that does not verify fails
    /// the handshake.
    Optional,
    /// `optional_no_ca`: like `optional`, but a chain that fails only for a
    /// missing or untrusted CA is accepted.
    OptionalNoCa,
    /// `require`: like `optional`, and a client without a certificate fails.
    Require,
}

/// What the connection looks like once mod_ssl is done with the chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// handshake would fail: SSLRequire never runs. The text is the reason
    /// mod_ssl/OpenSSL give (an `X509_verify_cert_error_string`, or a TLS
    /// layer reason such as `peer did not return a certificate`).
    HandshakeFails(String),
    /// the value of SSL_CLIENT_VERIFY
    Verify(String),
}

/// A trust anchor that OpenSSL would refuse to load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// `anchors[index]` is not a single DER certificate.
    #[error("trust anchor #{index} is not a usable DER certificate: {reason}")]
    BadAnchor {
        /// position in the `anchors` argument
        index: usize,
        /// what is wrong with it
        reason: String,
    },
}

/// The `X509_V_*` codes this module produces (values of OpenSSL 3.0's
/// include/openssl/x509_vfy.h). Texts: [`x509_verify_cert_error_string`].
pub mod code {
    /// `X509_V_OK`
    pub const OK: i32 = 0;
    /// `X509_V_ERR_UNSPECIFIED`
    pub const UNSPECIFIED: i32 = 1;
    /// `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT`
    pub const UNABLE_TO_GET_ISSUER_CERT: i32 = 2;
    /// `X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY`
    pub const UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: i32 = 6;
    /// `X509_V_ERR_CERT_SIGNATURE_FAILURE`
    pub const CERT_SIGNATURE_FAILURE: i32 = 7;
    /// `X509_V_ERR_CERT_NOT_YET_VALID`
    pub const CERT_NOT_YET_VALID: i32 = 9;
    /// `X509_V_ERR_CERT_HAS_EXPIRED`
    pub const CERT_HAS_EXPIRED: i32 = 10;
    /// `X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD`
    pub const ERROR_IN_CERT_NOT_BEFORE_FIELD: i32 = 13;
    /// `X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD`
    pub const ERROR_IN_CERT_NOT_AFTER_FIELD: i32 = 14;
    /// `X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT`
    pub const DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
    /// `X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN`
    pub const SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
    /// `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY`
    pub const UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
    /// `X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE`
    pub const UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
    /// `X509_V_ERR_CERT_CHAIN_TOO_LONG`
    pub const CERT_CHAIN_TOO_LONG: i32 = 22;
    /// `X509_V_ERR_PATH_LENGTH_EXCEEDED`
    pub const PATH_LENGTH_EXCEEDED: i32 = 25;
    /// `X509_V_ERR_INVALID_PURPOSE`
    pub const INVALID_PURPOSE: i32 = 26;
    /// `X509_V_ERR_CERT_UNTRUSTED`
    pub const CERT_UNTRUSTED: i32 = 27;
    /// `X509_V_ERR_KEYUSAGE_NO_CERTSIGN`
    pub const KEYUSAGE_NO_CERTSIGN: i32 = 32;
    /// `X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION`
    pub const UNHANDLED_CRITICAL_EXTENSION: i32 = 34;
    /// `X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE`
    pub const KEYUSAGE_NO_DIGITAL_SIGNATURE: i32 = 39;
    /// `X509_V_ERR_PROXY_CERTIFICATES_NOT_ALLOWED`
    pub const PROXY_CERTIFICATES_NOT_ALLOWED: i32 = 40;
    /// `X509_V_ERR_EE_KEY_TOO_SMALL`
    pub const EE_KEY_TOO_SMALL: i32 = 66;
    /// `X509_V_ERR_CA_KEY_TOO_SMALL`
    pub const CA_KEY_TOO_SMALL: i32 = 67;
    /// `X509_V_ERR_CA_MD_TOO_WEAK`
    pub const CA_MD_TOO_WEAK: i32 = 68;
    /// `X509_V_ERR_INVALID_CA`
    pub const INVALID_CA: i32 = 79;
    /// `X509_V_ERR_EC_KEY_EXPLICIT_PARAMS`
    pub const EC_KEY_EXPLICIT_PARAMS: i32 = 94;
}

/// OpenSSL 3.0's text for an X509_V_ERR_* code you use
/// (`X509_verify_cert_error_string`, crypto/x509/x509_txt.c of 3.0.22).
pub fn x509_verify_cert_error_string(code: i32) -> &'static str {
    match code {
        0 => "ok",
        1 => "unspecified certificate verification error",
        2 => "unable to get issuer certificate",
        3 => "unable to get certificate CRL",
        4 => "unable to decrypt certificate's signature",
        5 => "unable to decrypt CRL's signature",
        6 => "unable to decode issuer public key",
        7 => "certificate signature failure",
        8 => "CRL signature failure",
        9 => "certificate is not yet valid",
        10 => "certificate has expired",
        11 => "CRL is not yet valid",
        12 => "CRL has expired",
        13 => "format error in certificate's notBefore field",
        14 => "format error in certificate's notAfter field",
        15 => "format error in CRL's lastUpdate field",
        16 => "format error in CRL's nextUpdate field",
        17 => "out of memory",
        18 => "self-signed certificate",
        19 => "self-signed certificate in certificate chain",
        20 => "unable to get local issuer certificate",
        21 => "unable to verify the first certificate",
        22 => "certificate chain too long",
        23 => "certificate revoked",
        24 => "issuer certificate doesn't have a public key",
        25 => "path length constraint exceeded",
        26 => "unsuitable certificate purpose",
        27 => "certificate not trusted",
        28 => "certificate rejected",
        29 => "subject issuer mismatch",
        30 => "authority and subject key identifier mismatch",
        31 => "authority and issuer serial number mismatch",
        32 => "key usage does not include certificate signing",
        33 => "unable to get CRL issuer certificate",
        34 => "unhandled critical extension",
        35 => "key usage does not include CRL signing",
        36 => "unhandled critical CRL extension",
        37 => "invalid non-CA certificate (has CA markings)",
        38 => "proxy path length constraint exceeded",
        39 => "key usage does not include digital signature",
        40 => "proxy certificates not allowed, please set the appropriate flag",
        41 => "invalid or inconsistent certificate extension",
        42 => "invalid or inconsistent certificate policy extension",
        43 => "no explicit policy",
        44 => "different CRL scope",
        45 => "unsupported extension feature",
        46 => "RFC 3779 resource not subset of parent's resources",
        47 => "permitted subtree violation",
        48 => "excluded subtree violation",
        49 => "name constraints minimum and maximum not supported",
        50 => "application verification failure",
        51 => "unsupported name constraint type",
        52 => "unsupported or invalid name constraint syntax",
        53 => "unsupported or invalid name syntax",
        54 => "CRL path validation error",
        55 => "path loop",
        56 => "Suite B: certificate version invalid",
        57 => "Suite B: invalid public key algorithm",
        58 => "Suite B: invalid ECC curve",
        59 => "Suite B: invalid signature algorithm",
        60 => "Suite B: curve not allowed for this LOS",
        61 => "Suite B: cannot sign P-384 with P-256",
        62 => "hostname mismatch",
        63 => "email address mismatch",
        64 => "IP address mismatch",
        65 => "no matching DANE TLSA records",
        66 => "EE certificate key too weak",
        67 => "CA certificate key too weak",
        68 => "CA signature digest algorithm too weak",
        69 => "invalid certificate verification context",
        70 => "issuer certificate lookup error",
        71 => "Certificate Transparency required, but no valid SCTs found",
        72 => "proxy subject name violation",
        73 => "OCSP verification needed",
        74 => "OCSP verification failed",
        75 => "OCSP unknown cert",
        76 => "Cannot find certificate signature algorithm",
        77 => "subject signature algorithm and issuer public key algorithm mismatch",
        78 => "cert info signature and signature algorithm mismatch",
        79 => "invalid CA certificate",
        80 => "Path length invalid for non-CA cert",
        81 => "Path length given without key usage keyCertSign",
        82 => "Key usage keyCertSign invalid for non-CA cert",
        83 => "Issuer name empty",
        84 => "Subject name empty",
        85 => "Missing Authority Key Identifier",
        86 => "Missing Subject Key Identifier",
        87 => "Empty Subject Alternative Name extension",
        88 => "Subject empty and Subject Alt Name extension not critical",
        89 => "Basic Constraints of CA cert not marked critical",
        90 => "Authority Key Identifier marked critical",
        91 => "Subject Key Identifier marked critical",
        92 => "CA cert does not include key usage extension",
        93 => "Using cert extension requires at least X509v3",
        94 => "Certificate public key has explicit ECC parameters",
        _ => "unknown certificate verification error",
    }
}

/// mod_ssl's `ssl_verify_error_is_optional` (ssl_private.h): the errors
/// `optional_no_ca` forgives.
fn is_optional(err: i32) -> bool {
    matches!(
        err,
        code::DEPTH_ZERO_SELF_SIGNED_CERT
            | code::SELF_SIGNED_CERT_IN_CHAIN
            | code::UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            | code::CERT_UNTRUSTED
            | code::UNABLE_TO_VERIFY_LEAF_SIGNATURE
    )
}

/// OpenSSL's default `X509_VERIFY_PARAM` depth ("default" table entry);
/// mod_ssl never lowers it.
const OPENSSL_PARAM_DEPTH: usize = 100;

/// Debian 12's OpenSSL 3.0 is built with security level 2 as default, and
/// mod_ssl's default cipher string does not change it.
const DEFAULT_SECURITY_LEVEL: u8 = 2;

/// `minbits_table` of x509_vfy.c: bits of security per level 1..5.
const MINBITS: [i32; 5] = [80, 112, 128, 192, 256];

/// Trust anchors plus `SSLVerifyClient` / `SSLVerifyDepth`: decides
/// `SSL_CLIENT_VERIFY` for client chains.
#[derive(Debug, Clone)]
pub struct Verifier {
    anchors: Vec<Cert>,
    depth: u32,
    mode: VerifyMode,
    security_level: u8,
}

impl Verifier {
    /// Trust anchors (DER), SSLVerifyDepth, mode.
    ///
    /// Like `SSLCACertificateFile`, every certificate goes into the store, but
    /// only self-signed ones act as trust anchors (OpenSSL's compat trust).
    pub fn new(
        anchors: Vec<Vec<u8>>,
        depth: u32,
        mode: VerifyMode,
    ) -> Result<Verifier, VerifyError> {
        let mut parsed = Vec::with_capacity(anchors.len());
        for (index, der) in anchors.iter().enumerate() {
            let cert =
                Cert::from_der(der).map_err(|reason| VerifyError::BadAnchor { index, reason })?;
            // X509_STORE_add_cert silently ignores exact duplicates.
            if !parsed.iter().any(|c: &Cert| c.der == cert.der) {
                parsed.push(cert);
            }
        }
        Ok(Verifier {
            anchors: parsed,
            depth,
            mode,
            security_level: DEFAULT_SECURITY_LEVEL,
        })
    }

    /// OpenSSL security level (`@SECLEVEL=n` in `SSLCipherSuite`); the
    /// default, 2, is Debian 12's. Level 0 turns the key and digest strength
    /// checks off.
    pub fn security_level(&mut self, level: u8) -> &mut Self {
        self.security_level = level;
        self
    }

    /// `chain`: leaf first, then whatever the client sent (DER); `now_unix`; `tls13`: the negotiated protocol is TLS 1.3.
    pub fn verify(&self, chain: &[Vec<u8>], now_unix: i64, tls13: bool) -> Outcome {
        if self.mode == VerifyMode::None {
            // SSL_VERIFY_NONE: no CertificateRequest, so no client certificate.
            return Outcome::Verify("NONE".into());
        }
        if chain.is_empty() {
            if self.mode == VerifyMode::Require {
                // SSL_VERIFY_FAIL_IF_NO_PEER_CERT (statem_srvr.c)
                return Outcome::HandshakeFails("peer did not return a certificate".into());
            }
            return Outcome::Verify("NONE".into());
        }
        let mut certs = Vec::with_capacity(chain.len());
        for der in chain {
            match Cert::from_der(der) {
                Ok(c) => certs.push(c),
                // d2i_X509 failure: SSLfatal(SSL_AD_DECODE_ERROR, ERR_R_ASN1_LIB)
                Err(reason) => {
                    return Outcome::HandshakeFails(format!("bad certificate encoding: {reason}"))
                }
            }
        }
        let mut ctx = Ctx {
            store: &self.anchors,
            chain: Vec::new(),
            num_untrusted: 0,
            error: code::OK,
            now: now_unix,
            auth_level: self.security_level,
            cb: ModSslCallback {
                no_ca: self.mode == VerifyMode::OptionalNoCa,
                depth: self.depth,
                generous: false,
                verify_error: None,
            },
        };
        let ok = ctx.verify_cert(&certs);
        let vrc = ctx.error;
        if !ok {
            // ssl_verify_cert_chain() <= 0: the handshake fails.
            let reason = ctx.cb.verify_error.unwrap_or_else(|| {
                x509_verify_cert_error_string(if vrc == code::OK {
                    code::UNSPECIFIED
                } else {
                    vrc
                })
            });
            return Outcome::HandshakeFails(reason.into());
        }
        // ssl_io_filter_handshake: a verify result other than OK is only let
        // through for optional_no_ca and an optional error.
        if vrc != code::OK && !(is_optional(vrc) && self.mode == VerifyMode::OptionalNoCa) {
            return Outcome::HandshakeFails(x509_verify_cert_error_string(vrc).into());
        }
        // ssl_hook_Access_classic (TLS <= 1.2) resets the verify result before
        // SSLRequire runs; ssl_hook_Access_modern (TLS 1.3) does not.
        let vrc = if tls13 { vrc } else { code::OK };
        let value = if vrc == code::OK && !ctx.cb.generous {
            "SUCCESS".to_string()
        } else if vrc == code::OK {
            "GENEROUS".to_string()
        } else {
            format!("FAILED:{}", x509_verify_cert_error_string(vrc))
        };
        Outcome::Verify(value)
    }
}

impl Verifier {
    /// `SSL_CLIENT_VERIFY` on a later connection that *resumes* the session
    /// whose full handshake [`Verifier::verify`] describes (same arguments;
    /// `now_unix` is the time of that full handshake). Nothing is verified
    /// again: OpenSSL restores the stored verify result, but mod_ssl's
    /// per-connection `verify_info` ("GENEROUS") is gone. Over TLS 1.2 the
    /// access hook then resets the result to OK, so an accepted untrusted
    /// chain reads `SUCCESS`; over TLS 1.3 the stored error still shows.
    /// Measured here on Apache 2.4.71 (optional_no_ca, `rogue`): TLS 1.2
    /// `GENEROUS` then `SUCCESS` when resumed; TLS 1.3 `FAILED:self-signed
    /// certificate in certificate chain` both times.
    pub fn verify_resumed(&self, chain: &[Vec<u8>], now_unix: i64, tls13: bool) -> Outcome {
        match self.verify(chain, now_unix, tls13) {
            Outcome::Verify(v) if v == "NONE" || tls13 => Outcome::Verify(v),
            Outcome::Verify(_) => Outcome::Verify("SUCCESS".into()),
            failed => failed,
        }
    }
}

/// mod_ssl's `ssl_callback_SSLVerify` state (`SSLConnRec` fields).
struct ModSslCallback {
    no_ca: bool,
    depth: u32,
    generous: bool,
    verify_error: Option<&'static str>,
}

impl ModSslCallback {
    fn call(&mut self, ok: bool, errnum: i32, errdepth: usize) -> bool {
        let mut ok = ok;
        if is_optional(errnum) && self.no_ca {
            self.generous = true;
            ok = true;
        }
        if !ok {
            self.verify_error = Some(x509_verify_cert_error_string(errnum));
        }
        if errdepth > self.depth as usize {
            self.verify_error = Some(x509_verify_cert_error_string(code::CERT_CHAIN_TOO_LONG));
            ok = false;
        }
        ok
    }
}

// ---------------------------------------------------------------------------
// Certificates, reduced to what x509_vfy.c looks at.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
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
struct KeyInfo {
    kind: KeyKind,
    sec_bits: i32,
    explicit_ec: bool,
}

#[derive(Debug, Clone)]
struct SigInfo {
    /// public key type the algorithm needs (`OBJ_find_sigid_algs`)
    pk: KeyKind,
    /// `X509_get_signature_info` security bits; `None` when unknown
    sec_bits: Option<i32>,
}

#[derive(Debug, Clone)]
struct Akid {
    keyid: Option<Vec<u8>>,
    issuer: Option<CanonName>,
    serial: Option<Vec<u8>>,
}

/// A validity time: seconds since the epoch, or a format OpenSSL's
/// `X509_cmp_time` rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asn1Time {
    At(i64),
    Bad,
}

type CanonName = Vec<Vec<u8>>;

// key usage bits as OpenSSL keeps them (x509v3.h KU_*)
const KU_DIGITAL_SIGNATURE: u16 = 0x0080;
const KU_NON_REPUDIATION: u16 = 0x0040;
const KU_KEY_ENCIPHERMENT: u16 = 0x0020;
const KU_DATA_ENCIPHERMENT: u16 = 0x0010;
const KU_KEY_AGREEMENT: u16 = 0x0008;
const KU_KEY_CERT_SIGN: u16 = 0x0004;
const KU_CRL_SIGN: u16 = 0x0002;
const KU_ENCIPHER_ONLY: u16 = 0x0001;
const KU_DECIPHER_ONLY: u16 = 0x8000;
// Netscape cert type bits (NS_*)
const NS_SSL_CLIENT: u8 = 0x80;
const NS_SSL_SERVER: u8 = 0x40;
const NS_SMIME: u8 = 0x20;
const NS_OBJSIGN: u8 = 0x10;
const NS_SSL_CA: u8 = 0x04;
const NS_SMIME_CA: u8 = 0x02;
const NS_OBJSIGN_CA: u8 = 0x01;
const NS_ANY_CA: u8 = NS_SSL_CA | NS_SMIME_CA | NS_OBJSIGN_CA;

#[derive(Debug, Clone)]
struct Cert {
    der: Vec<u8>,
    v1: bool,
    subject: CanonName,
    issuer: CanonName,
    serial: Vec<u8>,
    not_before: Asn1Time,
    not_after: Asn1Time,
    /// outer signatureAlgorithm equals the TBS one (X509_verify checks it)
    algs_consistent: bool,
    sig: Option<SigInfo>,
    key: Option<KeyInfo>,
    /// basicConstraints: (cA, pathLenConstraint)
    bc: Option<(bool, Option<u64>)>,
    ku: Option<u16>,
    /// extendedKeyUsage present: does it list clientAuth?
    xku_client: Option<bool>,
    ns: Option<u8>,
    skid: Option<Vec<u8>>,
    akid: Option<Akid>,
    /// a critical extension outside `X509_supported_extension`
    unhandled_critical: bool,
    proxy: bool,
    /// EXFLAG_INVALID: `ossl_x509v3_cache_extensions` fails
    invalid: bool,
    self_issued: bool,
    /// EXFLAG_SS
    ss_flag: bool,
}

mod oid {
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
    fn from_der(der: &[u8]) -> Result<Cert, String> {
        let (rest, x) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        if !rest.is_empty() {
            return Err("trailing data after the certificate".into());
        }
        let raw = RawTbs::parse(der).ok_or("malformed TBSCertificate")?;
        let subject = canon_name(raw.subject).ok_or("subject name cannot be canonicalised")?;
        let issuer = canon_name(raw.issuer).ok_or("issuer name cannot be canonicalised")?;
        let tbs = &x.tbs_certificate;
        let mut cert = Cert {
            der: der.to_vec(),
            v1: tbs.version.0 == 0,
            subject,
            issuer,
            serial: normalize_int(tbs.raw_serial()),
            not_before: parse_time(raw.not_before.0, raw.not_before.1),
            not_after: parse_time(raw.not_after.0, raw.not_after.1),
            algs_consistent: raw.tbs_sig_alg == raw.outer_sig_alg,
            sig: sig_info(
                x.signature_algorithm.algorithm.to_id_string().as_str(),
                raw.outer_sig_alg,
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
    fn self_signed(&self) -> bool {
        !self.invalid && self.ss_flag
    }

    /// `X509_check_ca`
    fn check_ca(&self) -> i32 {
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
    fn time_valid(&self, now: i64) -> bool {
        matches!(self.not_before, Asn1Time::At(t) if t <= now)
            && matches!(self.not_after, Asn1Time::At(t) if t > now)
    }

    fn not_after_key(&self) -> i64 {
        match self.not_after {
            Asn1Time::At(t) => t,
            Asn1Time::Bad => i64::MIN,
        }
    }
}

/// `X509_check_akid(issuer, akid) == X509_V_OK`
fn check_akid(issuer: &Cert, akid: Option<&Akid>) -> bool {
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
fn sig_alg_match(issuer_key: Option<&KeyInfo>, subject: &Cert) -> bool {
    let (Some(key), Some(sig)) = (issuer_key, subject.sig.as_ref()) else {
        return false;
    };
    key.kind == sig.pk || (key.kind == KeyKind::Rsa && sig.pk == KeyKind::RsaPss)
}

/// `ossl_x509_likely_issued(issuer, subject) == X509_V_OK`
fn likely_issued(issuer: &Cert, subject: &Cert) -> bool {
    issuer.subject == subject.issuer
        && !issuer.invalid
        && !subject.invalid
        && check_akid(issuer, subject.akid.as_ref())
        && sig_alg_match(issuer.key.as_ref(), subject)
}

/// `X509_verify(subject, issuer key) > 0`
fn signature_ok(subject: &Cert, issuer: &Cert) -> bool {
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

// ---------------------------------------------------------------------------
// The verification run: X509_STORE_CTX plus mod_ssl's callback.

struct Ctx<'a> {
    store: &'a [Cert],
    chain: Vec<&'a Cert>,
    num_untrusted: usize,
    /// `ctx->error`, sticky
    error: i32,
    now: i64,
    auth_level: u8,
    cb: ModSslCallback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trust {
    Trusted,
    Untrusted,
}

impl<'a> Ctx<'a> {
    /// `verify_cb_cert`: report `err` (if any) at `depth`; false aborts.
    fn fail(&mut self, depth: usize, err: i32) -> bool {
        if err != code::OK {
            self.error = err;
        }
        let errnum = self.error;
        self.cb.call(false, errnum, depth)
    }

    /// `X509_verify_cert`; true when the chain is accepted.
    fn verify_cert(&mut self, peer: &'a [Cert]) -> bool {
        let Some(leaf) = peer.first() else {
            return false;
        };
        self.chain.push(leaf);
        self.num_untrusted = 1;
        if !self.check_key_level(leaf) && !self.fail(0, code::EE_KEY_TOO_SMALL) {
            return false;
        }
        self.build_chain(peer)
            && self.check_extensions()
            && self.check_auth_level()
            && self.internal_verify()
    }

    fn max_depth() -> usize {
        OPENSSL_PARAM_DEPTH + 1
    }

    /// `X509_STORE_CTX_get1_issuer` over the trust store.
    fn trusted_issuer(&self, x: &Cert) -> Option<&'a Cert> {
        let mut fallback: Option<&'a Cert> = None;
        for cand in self.store.iter().filter(|c| c.subject == x.issuer) {
            if !likely_issued(cand, x) {
                continue;
            }
            if cand.time_valid(self.now) {
                return Some(cand);
            }
            if fallback.is_none_or(|f| cand.not_after_key() > f.not_after_key()) {
                fallback = Some(cand);
            }
        }
        fallback
    }

    /// `find_issuer` over the peer's certificates.
    fn untrusted_issuer(&self, pool: &[&'a Cert], x: &Cert) -> Option<usize> {
        let mut fallback: Option<usize> = None;
        for (i, cand) in pool.iter().enumerate() {
            let allowed = (x.self_issued && self.chain.len() == 1)
                || !self.chain.iter().any(|c| c.der == cand.der);
            if !likely_issued(cand, x) || !allowed {
                continue;
            }
            if cand.time_valid(self.now) {
                return Some(i);
            }
            if fallback.is_none_or(|f| cand.not_after_key() > pool[f].not_after_key()) {
                fallback = Some(i);
            }
        }
        fallback
    }

    /// `check_trust(ctx, from)`: without auxiliary trust, a store certificate
    /// is trusted when it is self-signed.
    fn check_trust(&self, from: usize) -> Trust {
        if self.chain.iter().skip(from).any(|c| c.self_signed()) {
            Trust::Trusted
        } else {
            Trust::Untrusted
        }
    }

    /// `build_chain`, trusted-first, no DANE, no alternate chains.
    fn build_chain(&mut self, peer: &'a [Cert]) -> bool {
        const UNTRUSTED: u8 = 1;
        const TRUSTED: u8 = 2;
        let mut pool: Vec<&'a Cert> = peer.iter().collect();
        let mut search = UNTRUSTED | TRUSTED;
        let mut trust = Trust::Untrusted;
        let max_depth = Self::max_depth();

        while search != 0 {
            if search & TRUSTED != 0 {
                let mut num = self.chain.len();
                let curr = self.chain[num - 1];
                let found = if num > max_depth {
                    None
                } else {
                    self.trusted_issuer(curr)
                };
                if let Some(issuer) = found {
                    let mut self_signed = curr.self_signed();
                    let mut ok = true;
                    if !self_signed {
                        self.chain.push(issuer);
                        self_signed = issuer.self_signed();
                    } else if curr.der != issuer.der {
                        // self-signed untrusted mimic of a trust anchor
                        ok = false;
                    } else {
                        num -= 1;
                        self.num_untrusted = num;
                        self.chain[num] = issuer;
                    }
                    if ok {
                        search &= !UNTRUSTED;
                        trust = self.check_trust(num);
                        if trust != Trust::Untrusted {
                            break;
                        }
                        if !self_signed {
                            continue;
                        }
                    }
                }
                if search & UNTRUSTED == 0 {
                    break;
                }
            }
            if search & UNTRUSTED != 0 {
                let num = self.chain.len();
                let curr = self.chain[num - 1];
                let found = if curr.self_signed() || num > max_depth {
                    None
                } else {
                    self.untrusted_issuer(&pool, curr)
                };
                match found {
                    None => {
                        search &= !UNTRUSTED;
                        search |= TRUSTED;
                        continue;
                    }
                    Some(i) => {
                        let issuer = pool.remove(i);
                        self.chain.push(issuer);
                        self.num_untrusted += 1;
                    }
                }
            }
        }

        let num = self.chain.len();
        if num <= max_depth && trust == Trust::Untrusted && num == self.num_untrusted {
            trust = self.check_trust(num);
        }
        if trust == Trust::Trusted {
            return true;
        }
        match self.error {
            code::ERROR_IN_CERT_NOT_BEFORE_FIELD
            | code::CERT_NOT_YET_VALID
            | code::ERROR_IN_CERT_NOT_AFTER_FIELD
            | code::CERT_HAS_EXPIRED => return false,
            code::OK => {}
            other => return self.fail(num - 1, other),
        }
        if num > max_depth && !self.fail(num - 1, code::CERT_CHAIN_TOO_LONG) {
            return false;
        }
        if self.chain[num - 1].self_signed() {
            let err = if num == 1 {
                code::DEPTH_ZERO_SELF_SIGNED_CERT
            } else {
                code::SELF_SIGNED_CERT_IN_CHAIN
            };
            return self.fail(num - 1, err);
        }
        let err = if self.num_untrusted < num {
            code::UNABLE_TO_GET_ISSUER_CERT
        } else {
            code::UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        };
        self.fail(num - 1, err)
    }

    /// `check_extensions` with the `ssl_client` purpose, not strict.
    fn check_extensions(&mut self) -> bool {
        let num = self.chain.len();
        let mut must_be_ca = -1;
        let mut plen: u64 = 0;
        for i in 0..num {
            let x = self.chain[i];
            if x.unhandled_critical && !self.fail(i, code::UNHANDLED_CRITICAL_EXTENSION) {
                return false;
            }
            if x.proxy && !self.fail(i, code::PROXY_CERTIFICATES_NOT_ALLOWED) {
                return false;
            }
            let ret = x.check_ca();
            if must_be_ca == 1
                && (ret == 0 || (i + 1 < num && ret != 1))
                && !self.fail(i, code::INVALID_CA)
            {
                return false;
            }
            if num > 1 {
                // check_curve
                match &x.key {
                    None => {
                        if !self.fail(i, code::UNSPECIFIED) {
                            return false;
                        }
                    }
                    Some(k) if k.explicit_ec => {
                        if !self.fail(i, code::EC_KEY_EXPLICIT_PARAMS) {
                            return false;
                        }
                    }
                    Some(_) => {}
                }
            }
            if !purpose_ssl_client(x, must_be_ca > 0) && !self.fail(i, code::INVALID_PURPOSE) {
                return false;
            }
            if i > 1 {
                if let Some((_, Some(pathlen))) = x.bc {
                    if plen > pathlen && !self.fail(i, code::PATH_LENGTH_EXCEEDED) {
                        return false;
                    }
                }
            }
            if i > 0 && !x.self_issued {
                plen += 1;
            }
            must_be_ca = if x.proxy { 0 } else { 1 };
        }
        true
    }

    fn check_key_level(&self, x: &Cert) -> bool {
        if self.auth_level == 0 {
            return true;
        }
        let Some(key) = &x.key else { return false };
        key.sec_bits >= MINBITS[usize::from(self.auth_level.min(5)) - 1]
    }

    fn check_sig_level(&self, x: &Cert) -> bool {
        if self.auth_level == 0 {
            return true;
        }
        match x.sig.as_ref().and_then(|s| s.sec_bits) {
            Some(bits) => bits >= MINBITS[usize::from(self.auth_level.min(5)) - 1],
            None => false,
        }
    }

    /// `check_auth_level`
    fn check_auth_level(&mut self) -> bool {
        if self.auth_level == 0 {
            return true;
        }
        let num = self.chain.len();
        for i in 0..num {
            let x = self.chain[i];
            if i > 0 && !self.check_key_level(x) && !self.fail(i, code::CA_KEY_TOO_SMALL) {
                return false;
            }
            if i + 1 < num && !self.check_sig_level(x) && !self.fail(i, code::CA_MD_TOO_WEAK) {
                return false;
            }
        }
        true
    }

    /// `ossl_x509_check_cert_time(ctx, x, depth)` with callbacks.
    fn check_cert_time(&mut self, x: &Cert, depth: usize) -> bool {
        match x.not_before {
            Asn1Time::Bad => {
                if !self.fail(depth, code::ERROR_IN_CERT_NOT_BEFORE_FIELD) {
                    return false;
                }
            }
            Asn1Time::At(t) if t > self.now => {
                if !self.fail(depth, code::CERT_NOT_YET_VALID) {
                    return false;
                }
            }
            Asn1Time::At(_) => {}
        }
        match x.not_after {
            Asn1Time::Bad => {
                if !self.fail(depth, code::ERROR_IN_CERT_NOT_AFTER_FIELD) {
                    return false;
                }
            }
            // X509_cmp_time(notAfter, now) <= 0 means expired
            Asn1Time::At(t) if t <= self.now => {
                if !self.fail(depth, code::CERT_HAS_EXPIRED) {
                    return false;
                }
            }
            Asn1Time::At(_) => {}
        }
        true
    }

    /// `internal_verify`: issuer key usage, signatures and times, top down,
    /// with an `ok = 1` callback at each depth.
    fn internal_verify(&mut self) -> bool {
        let Some(mut n) = self.chain.len().checked_sub(1) else {
            return false;
        };
        let mut xi_idx = n;
        let mut xs_idx = n;
        let top = self.chain[n];
        if !likely_issued(top, top) {
            if n > 0 {
                n -= 1;
                xs_idx = n;
            } else if !self.fail(0, code::UNABLE_TO_VERIFY_LEAF_SIGNATURE) {
                return false;
            }
        }
        loop {
            let xi = self.chain[xi_idx];
            let xs = self.chain[xs_idx];
            // signatures of self-signed certificates are not checked
            if xs_idx != xi_idx {
                let issuer_depth = n + 1;
                let usage = if xs.proxy {
                    if xi.ku.is_some_and(|ku| ku & KU_DIGITAL_SIGNATURE == 0) {
                        code::KEYUSAGE_NO_DIGITAL_SIGNATURE
                    } else {
                        code::OK
                    }
                } else if xi.ku.is_some_and(|ku| ku & KU_KEY_CERT_SIGN == 0) {
                    code::KEYUSAGE_NO_CERTSIGN
                } else {
                    code::OK
                };
                if usage != code::OK && !self.fail(issuer_depth, usage) {
                    return false;
                }
                if xi.key.is_none() {
                    if !self.fail(issuer_depth, code::UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY) {
                        return false;
                    }
                } else if !signature_ok(xs, xi) && !self.fail(n, code::CERT_SIGNATURE_FAILURE) {
                    return false;
                }
            }
            if !self.check_cert_time(xs, n) {
                return false;
            }
            let errnum = self.error;
            if !self.cb.call(true, errnum, n) {
                return false;
            }
            if n == 0 {
                return true;
            }
            n -= 1;
            xi_idx = xs_idx;
            xs_idx = n;
        }
    }
}

/// `X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, require_ca)` as
/// `check_purpose` reads it (non-strict: an internal error passes).
fn purpose_ssl_client(x: &Cert, require_ca: bool) -> bool {
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

// ---------------------------------------------------------------------------
// Algorithms and keys.

/// `OBJ_find_sigid_algs` + `X509_get_signature_info` for a signature
/// algorithm OID; `alg_tlv` is the whole AlgorithmIdentifier (for RSA-PSS).
fn sig_info(alg: &str, alg_tlv: &[u8]) -> Option<SigInfo> {
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
fn pss_sec_bits(alg_tlv: &[u8]) -> Option<i32> {
    let (_, content, _, _) = tlv(alg_tlv)?;
    let (_, _, _, params) = tlv(content)?; // skip the OID
    let mut hash = "1.3.14.3.2.26".to_string();
    if let Some((0x30, seq, _, _)) = tlv(params) {
        if let Some((0xa0, explicit, _, _)) = tlv(seq) {
            let (_, alg, _, _) = tlv(explicit)?;
            let (tag, oid_bytes, _, _) = tlv(alg)?;
            if tag != 0x06 {
                return None;
            }
            hash = oid_to_string(oid_bytes)?;
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
fn key_info(alg: &str, spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Option<KeyInfo> {
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
            let (_, p, _, rest) = tlv(params.as_bytes())?;
            let (_, q, _, _) = tlv(rest)?;
            simple(KeyKind::Dsa, bn_security_bits(bit_length(p), bit_length(q)))
        }
        _ => None,
    }
}

fn bit_length(be: &[u8]) -> usize {
    let trimmed: &[u8] = match be.iter().position(|&b| b != 0) {
        Some(i) => &be[i..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

/// `ossl_ifc_ffc_compute_security_bits` (crypto/rsa/rsa_lib.c), in floating
/// point: the canonical table, else SP 800-56B's formula rounded to 8.
fn ifc_security_bits(n: usize) -> i32 {
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
fn bn_security_bits(l: usize, n: usize) -> i32 {
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
fn ec_security_bits(order_bits: usize) -> i32 {
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

/// An INTEGER's content without redundant sign bytes (for
/// `ASN1_INTEGER_cmp`-style equality).
fn normalize_int(raw: &[u8]) -> Vec<u8> {
    let mut s = raw;
    while s.len() > 1 && ((s[0] == 0 && s[1] & 0x80 == 0) || (s[0] == 0xff && s[1] & 0x80 != 0)) {
        s = &s[1..];
    }
    s.to_vec()
}

// ---------------------------------------------------------------------------
// DER helpers: just enough to reach the raw fields OpenSSL compares.

/// One TLV: (tag, content, whole TLV, rest after it).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Reads one TLV; low tag numbers and definite lengths only.
fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, r) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&l0, r) = r.split_first()?;
    let (len, r) = if l0 < 0x80 {
        (usize::from(l0), r)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 || r.len() < n {
            return None;
        }
        let len = r[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &r[n..])
    };
    if r.len() < len {
        return None;
    }
    let header = input.len() - r.len();
    Some((tag, &r[..len], &input[..header + len], &r[len..]))
}

fn oid_to_string(bytes: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in bytes {
        acc = acc.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        if b & 0x80 == 0 {
            arcs.push(acc);
            acc = 0;
        }
    }
    let first = *arcs.first()?;
    let (a, b) = if first < 40 {
        (0, first)
    } else if first < 80 {
        (1, first - 40)
    } else {
        (2, first - 80)
    };
    let mut s = format!("{a}.{b}");
    for arc in &arcs[1..] {
        s.push('.');
        s.push_str(&arc.to_string());
    }
    Some(s)
}

/// Raw pieces of a certificate's DER.
struct RawTbs<'a> {
    tbs_sig_alg: &'a [u8],
    outer_sig_alg: &'a [u8],
    issuer: &'a [u8],
    subject: &'a [u8],
    not_before: (u8, &'a [u8]),
    not_after: (u8, &'a [u8]),
}

impl<'a> RawTbs<'a> {
    fn parse(der: &'a [u8]) -> Option<RawTbs<'a>> {
        let (_, cert, _, _) = tlv(der)?;
        let (_, tbs, _, rest) = tlv(cert)?;
        let (_, _, outer_sig_alg, _) = tlv(rest)?;
        let mut p = tbs;
        let (tag, _, _, r) = tlv(p)?;
        if tag == 0xa0 {
            p = r; // version
        }
        let (_, _, _, p) = tlv(p)?; // serialNumber
        let (_, _, tbs_sig_alg, p) = tlv(p)?;
        let (_, _, issuer, p) = tlv(p)?;
        let (_, validity, _, p) = tlv(p)?;
        let (_, _, subject, _) = tlv(p)?;
        let (nb_tag, nb, _, v) = tlv(validity)?;
        let (na_tag, na, _, _) = tlv(v)?;
        Some(RawTbs {
            tbs_sig_alg,
            outer_sig_alg,
            issuer,
            subject,
            not_before: (nb_tag, nb),
            not_after: (na_tag, na),
        })
    }
}

/// `X509_cmp_time`'s format rules (exact `YYMMDDHHMMSSZ` /
/// `YYYYMMDDHHMMSSZ`) and `ossl_asn1_time_to_tm`'s range checks.
fn parse_time(tag: u8, s: &[u8]) -> Asn1Time {
    let digits = match (tag, s.len()) {
        (0x17, 13) | (0x18, 15) => &s[..s.len() - 1],
        _ => return Asn1Time::Bad,
    };
    if s[s.len() - 1] != b'Z' || !digits.iter().all(u8::is_ascii_digit) {
        return Asn1Time::Bad;
    }
    let num = |i: usize| i64::from(digits[i] - b'0') * 10 + i64::from(digits[i + 1] - b'0');
    let (year, rest) = if tag == 0x17 {
        let yy = num(0);
        (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
    } else {
        (num(0) * 100 + num(2), 4)
    };
    let (month, day, hour, min, sec) = (
        num(rest),
        num(rest + 2),
        num(rest + 4),
        num(rest + 6),
        num(rest + 8),
    );
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let mdays = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || hour > 23 || min > 59 || sec > 59 {
        return Asn1Time::Bad;
    }
    let month_index = usize::try_from(month - 1).unwrap_or(0);
    if day < 1 || day > mdays[month_index] {
        return Asn1Time::Bad;
    }
    Asn1Time::At(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `X509_NAME` canonical form (x_name.c `x509_name_canon`): per RDN, its
/// entries with string values converted to UTF-8, trimmed, inner
/// whitespace collapsed and ASCII lower-cased; entries of an RDN sorted as
/// a DER SET OF. `None` where OpenSSL's decoder would fail.
fn canon_name(raw: &[u8]) -> Option<CanonName> {
    let (tag, content, _, _) = tlv(raw)?;
    if tag != 0x30 {
        return None;
    }
    let mut rdns = Vec::new();
    let mut p = content;
    while !p.is_empty() {
        let (set_tag, set, _, rest) = tlv(p)?;
        if set_tag != 0x31 {
            return None;
        }
        p = rest;
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut q = set;
        while !q.is_empty() {
            let (seq_tag, seq, _, rest) = tlv(q)?;
            if seq_tag != 0x30 {
                return None;
            }
            q = rest;
            let (oid_tag, _, oid_whole, rest) = tlv(seq)?;
            if oid_tag != 0x06 {
                return None;
            }
            let (value_tag, value, _, _) = tlv(rest)?;
            let (tag, bytes) = canon_value(value_tag, value)?;
            let mut enc = oid_whole.to_vec();
            enc.push(tag);
            enc.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
            enc.extend_from_slice(&bytes);
            entries.push(enc);
        }
        entries.sort();
        rdns.push(entries.concat());
    }
    Some(rdns)
}

/// `asn1_string_canon`
fn canon_value(tag: u8, value: &[u8]) -> Option<(u8, Vec<u8>)> {
    let utf8: Vec<u8> = match tag {
        12 => {
            std::str::from_utf8(value).ok()?;
            value.to_vec()
        }
        19 | 20 | 22 | 26 => value.iter().flat_map(|&b| utf8_put(u32::from(b))).collect(),
        30 => {
            if !value.len().is_multiple_of(2) {
                return None;
            }
            value
                .chunks(2)
                .flat_map(|c| utf8_put(u32::from(c[0]) << 8 | u32::from(c[1])))
                .collect()
        }
        28 => {
            if !value.len().is_multiple_of(4) {
                return None;
            }
            let mut out = Vec::new();
            for c in value.chunks(4) {
                let cp = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                if cp >= 0x11_0000 {
                    return None;
                }
                out.extend(utf8_put(cp));
            }
            out
        }
        _ => return Some((tag, value.to_vec())),
    };
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = utf8
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(utf8.len());
    let end = utf8
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |i| i + 1);
    let mut out = Vec::with_capacity(end - start);
    let mut i = start;
    while i < end {
        let b = utf8[i];
        if !b.is_ascii() {
            out.push(b);
            i += 1;
        } else if is_space(b) {
            out.push(b' ');
            while i < end && is_space(utf8[i]) {
                i += 1;
            }
        } else {
            out.push(b.to_ascii_lowercase());
            i += 1;
        }
    }
    Some((12, out))
}

/// UTF-8 bytes of a code point the way OpenSSL's `UTF8_putc` writes them
/// (surrogates included).
fn utf8_put(cp: u32) -> Vec<u8> {
    let b = |v: u32| (v & 0xff) as u8;
    if cp < 0x80 {
        vec![b(cp)]
    } else if cp < 0x800 {
        vec![b(0xc0 | (cp >> 6)), b(0x80 | (cp & 0x3f))]
    } else if cp < 0x1_0000 {
        vec![
            b(0xe0 | (cp >> 12)),
            b(0x80 | ((cp >> 6) & 0x3f)),
            b(0x80 | (cp & 0x3f)),
        ]
    } else {
        vec![
            b(0xf0 | (cp >> 18)),
            b(0x80 | ((cp >> 12) & 0x3f)),
            b(0x80 | ((cp >> 6) & 0x3f)),
            b(0x80 | (cp & 0x3f)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(tlv(input).is_none());
        }
        assert!(RawTbs::parse(&[0x30, 0x03, 0x30, 0x01, 0x00]).is_none());
        assert_eq!(
            oid_to_string(&[0x55, 0x04, 0x03]).as_deref(),
            Some("2.5.4.3")
        );
        assert_eq!(oid_to_string(&[]), None);
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
}
