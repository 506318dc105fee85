//! The secrets of an `SSLKEYLOGFILE` that a TLS 1.3 handshake needs.

use std::collections::HashMap;

/// The secrets of an `SSLKEYLOGFILE` (NSS key log format) that the
/// handshake needs: TLS 1.3's handshake traffic secrets, by client random.
#[derive(Debug, Default)]
pub struct KeyLog {
    pub(super) client_hs: HashMap<Vec<u8>, Vec<u8>>,
    pub(super) server_hs: HashMap<Vec<u8>, Vec<u8>>,
}

pub(super) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl KeyLog {
    /// Reads a key log (`LABEL <client random hex> <secret hex>` lines).
    ///
    /// # Errors
    /// The first malformed line, with its number.
    pub fn parse(text: &str) -> Result<KeyLog, String> {
        let mut k = KeyLog::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            let (label, random, secret) = match parts.as_slice() {
                [l, r, s] => (*l, unhex(r), unhex(s)),
                _ => {
                    return Err(format!(
                        "line {}: expected `LABEL <client random> <secret>` (NSS key log format)",
                        i + 1
                    ))
                }
            };
            let (Some(random), Some(secret)) = (random, secret) else {
                return Err(format!(
                    "line {}: the client random and the secret must be hex",
                    i + 1
                ));
            };
            match label {
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => {
                    k.client_hs.insert(random, secret);
                }
                "SERVER_HANDSHAKE_TRAFFIC_SECRET" => {
                    k.server_hs.insert(random, secret);
                }
                // Other secrets of the format: not needed for the handshake.
                "CLIENT_RANDOM"
                | "CLIENT_EARLY_TRAFFIC_SECRET"
                | "CLIENT_TRAFFIC_SECRET_0"
                | "SERVER_TRAFFIC_SECRET_0"
                | "EXPORTER_SECRET"
                | "EARLY_EXPORTER_SECRET" => {}
                other => {
                    return Err(format!(
                        "line {}: unknown label `{other}` (not an SSLKEYLOGFILE?)",
                        i + 1
                    ))
                }
            }
        }
        Ok(k)
    }

    /// How many TLS 1.3 connections it has keys for.
    pub fn len(&self) -> usize {
        self.client_hs.len()
    }

    /// Whether it holds no TLS 1.3 handshake secret.
    pub fn is_empty(&self) -> bool {
        self.client_hs.is_empty()
    }
}
