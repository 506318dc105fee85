//! PEM armour: `PEM_write_bio_X509`'s exact output and the reader for
//! files of certificates. The base64 is the `base64` crate's; the armour
//! scanner is ours because every error it gives names the line (a BEGIN
//! inside a block, an END that closes another label, an unterminated
//! block), which the PEM crates do not report.

use super::error::CertError;
use base64::Engine as _;

pub(super) fn pem_encode(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        // base64 is ASCII: every byte index is a char boundary.
        let Some((line, tail)) = rest.split_at_checked(rest.len().min(64)) else {
            break;
        };
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Split PEM text into the DER of each CERTIFICATE block, with the block's line.
pub(super) fn pem_blocks(pem: &str) -> Result<Vec<(usize, Vec<u8>)>, CertError> {
    let mut out = Vec::new();
    // (label, line of BEGIN, collected base64)
    let mut open: Option<(String, usize, String)> = None;
    for (i, raw_line) in pem.lines().enumerate() {
        let lineno = i + 1;
        let line = raw_line.trim_end();
        if let Some(label) = armour_label(line, "-----BEGIN ") {
            if let Some((open_label, open_line, _)) = &open {
                return Err(CertError::BadArmour {
                    line: lineno,
                    reason: format!(
                        "BEGIN {label} inside the {open_label} block opened at line {open_line}"
                    ),
                });
            }
            open = Some((label.to_string(), lineno, String::new()));
            continue;
        }
        if let Some(label) = armour_label(line, "-----END ") {
            match open.take() {
                None => {
                    return Err(CertError::BadArmour {
                        line: lineno,
                        reason: format!("END {label} without a BEGIN line"),
                    })
                }
                Some((open_label, open_line, body)) => {
                    if open_label != label {
                        return Err(CertError::BadArmour {
                            line: lineno,
                            reason: format!(
                                "END {label} closes the {open_label} block opened at line {open_line}"
                            ),
                        });
                    }
                    if open_label == "CERTIFICATE" {
                        let der = base64::engine::general_purpose::STANDARD
                            .decode(body.as_bytes())
                            .map_err(|source| CertError::Base64 {
                                line: open_line,
                                source,
                            })?;
                        out.push((open_line, der));
                    }
                }
            }
            continue;
        }
        // Text outside blocks is ignored, as OpenSSL's PEM reader does.
        if let Some((label, open_line, body)) = &mut open {
            if line.starts_with("-----") {
                return Err(CertError::BadArmour {
                    line: lineno,
                    reason: format!(
                        "unrecognised armour line {line:?} inside the {label} block opened at line {open_line}"
                    ),
                });
            }
            for word in line.split_ascii_whitespace() {
                body.push_str(word);
            }
        }
    }
    if let Some((label, line, _)) = open {
        return Err(CertError::UnterminatedPem { line, label });
    }
    if out.is_empty() {
        return Err(CertError::NoPemCertificate);
    }
    Ok(out)
}

pub(super) fn armour_label<'a>(line: &'a str, start: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(start)?;
    let label = rest.strip_suffix("-----")?;
    if label.is_empty() {
        return None;
    }
    Some(label)
}
