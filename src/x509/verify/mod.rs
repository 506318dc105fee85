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

mod cert;
mod chain;
mod keys;
#[cfg(test)]
mod tests;

use cert::Cert;
use chain::Ctx;

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

/// `SSL_CLIENT_VERIFY` as mod_ssl (server-wide `SSLVerifyClient
/// optional_no_ca`) shows a connection that another OpenSSL server verified
/// against the same trust anchors and reported as `verify`
/// (`$ssl_client_verify` of nginx, which lets a connection with a
/// verification error through only under its own `optional_no_ca`, and then
/// only for the five errors mod_ssl accepts there: self-signed, self-signed
/// in the chain, unable to get the local issuer, not trusted, unable to
/// verify the first certificate).
///
/// For `FAILED:<one of those errors>` over TLS 1.2 and below, mod_ssl's
/// access hook has reset the verify result, so it reads `GENEROUS`, or
/// `SUCCESS` on a resumed session ([`Verifier::verify_resumed`]); over TLS
/// 1.3 it reads the failure as it is. `None`: the value stays as it is (any
/// other value, or TLS 1.3). The reason is matched in OpenSSL 3.0's words
/// and in 1.1.1's (`self signed certificate`).
pub fn mod_ssl_client_verify(verify: &str, tls13: bool, resumed: bool) -> Option<&'static str> {
    let reason = verify.strip_prefix("FAILED:")?;
    let reason = match reason.strip_prefix("self signed") {
        Some(rest) => format!("self-signed{rest}"),
        None => reason.to_string(),
    };
    let vrc = (0..128)
        .filter(|&c| is_optional(c))
        .find(|&c| reason == x509_verify_cert_error_string(c))?;
    // mod_ssl's callback accepted it (`verify_info = "GENEROUS"`), which a
    // resumed session no longer remembers.
    match shown_verify(vrc, !resumed, tls13) {
        ShownVerify::Failed(_) => None,
        ShownVerify::Success => Some("SUCCESS"),
        ShownVerify::Generous => Some("GENEROUS"),
    }
}

/// A value of `SSL_CLIENT_VERIFY` for a certificate mod_ssl accepted.
enum ShownVerify {
    Success,
    Generous,
    Failed(i32),
}

/// `SSL_CLIENT_VERIFY` as `ssl_var_lookup_ssl_cert_verify` reads it when
/// SSLRequire runs, for a handshake mod_ssl let through with verify result
/// `vrc` and, when `generous`, `verify_info = "GENEROUS"`.
fn shown_verify(vrc: i32, generous: bool, tls13: bool) -> ShownVerify {
    // ssl_hook_Access_classic (TLS <= 1.2) resets the verify result before
    // SSLRequire runs; ssl_hook_Access_modern (TLS 1.3) does not.
    let vrc = if tls13 { vrc } else { code::OK };
    match (vrc, generous) {
        (code::OK, false) => ShownVerify::Success,
        (code::OK, true) => ShownVerify::Generous,
        (vrc, _) => ShownVerify::Failed(vrc),
    }
}

impl std::fmt::Display for ShownVerify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShownVerify::Success => f.write_str("SUCCESS"),
            ShownVerify::Generous => f.write_str("GENEROUS"),
            ShownVerify::Failed(vrc) => write!(f, "FAILED:{}", x509_verify_cert_error_string(*vrc)),
        }
    }
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
        Outcome::Verify(shown_verify(vrc, ctx.cb.generous, tls13).to_string())
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
