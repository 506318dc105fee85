//! Why a certificate, or a PEM file of certificates, could not be read.

/// Why a certificate (or a PEM file of certificates) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    /// `from_der` was given no bytes at all.
    #[error("DER: empty input")]
    EmptyDer,
    /// The DER is longer than [`MAX_CERT_DER`](super::cert::MAX_CERT_DER): OpenSSL's TLS layer refuses
    /// a Certificate message over 100 KiB, so Apache never sees such a
    /// certificate (and parsing it would cost more than any real one).
    #[error("DER: {0} bytes, over OpenSSL's 102400-byte certificate list limit")]
    TooLarge(usize),
    /// More extensions or name attributes than this engine reads (a bound
    /// of its own, far above any real certificate: reading such a
    /// certificate's variables is an error, not a different string).
    #[error("DER: {count} {what}, over the {limit} this engine reads in one certificate")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many there are.
        count: usize,
        /// The bound.
        limit: usize,
    },
    /// x509-parser rejected the certificate structure.
    #[error("DER: certificate structure rejected by x509-parser: {0}")]
    X509(String),
    /// The certificate parsed, but more bytes follow it.
    #[error("DER: {0} byte(s) of trailing data after the certificate")]
    TrailingData(usize),
    /// A field parsed by x509-parser is not acceptable to OpenSSL's decoder, or could
    /// not be re-read from the raw DER.
    #[error("DER: malformed {field}: {reason}")]
    Malformed {
        /// Which certificate field (serial, subject, validity, …).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The PEM text holds no `-----BEGIN CERTIFICATE-----` block.
    #[error("PEM: no -----BEGIN CERTIFICATE----- block found")]
    NoPemCertificate,
    /// A PEM block was opened and never closed.
    #[error("PEM: the block opened at line {line} ({label:?}) has no matching -----END {label}----- line")]
    UnterminatedPem {
        /// 1-based line of the BEGIN line.
        line: usize,
        /// The label of the BEGIN line, e.g. `CERTIFICATE`.
        label: String,
    },
    /// Malformed armour: an END without BEGIN, a mismatched END, a BEGIN inside a block.
    #[error("PEM: bad armour at line {line}: {reason}")]
    BadArmour {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The body of a certificate block is not valid base64.
    #[error("PEM: invalid base64 in the certificate block opened at line {line}: {source}")]
    Base64 {
        /// 1-based line of the BEGIN line.
        line: usize,
        /// The decoder's error.
        source: base64::DecodeError,
    },
    /// A certificate block decoded to DER that is not a valid certificate.
    #[error("PEM: certificate #{index} (block opened at line {line}): {source}")]
    InPemBlock {
        /// 0-based index of the certificate block in the file.
        index: usize,
        /// 1-based line of the BEGIN line.
        line: usize,
        /// What was wrong with the DER.
        source: Box<CertError>,
    },
}

pub(super) fn malformed(field: &'static str, reason: impl Into<String>) -> CertError {
    CertError::Malformed {
        field,
        reason: reason.into(),
    }
}
