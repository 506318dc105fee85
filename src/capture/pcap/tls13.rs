//! TLS 1.3 handshake keys: HKDF-Expand-Label and the AEAD (`ring`).

use ring::{aead, hkdf};

/// Traffic keys of one direction (TLS 1.3).
pub(super) struct Keys {
    pub(super) key: aead::LessSafeKey,
    pub(super) iv: [u8; 12],
    pub(super) seq: u64,
}

pub(super) struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, "", len) (RFC 8446 §7.1).
pub(super) fn expand_label(
    alg: hkdf::Algorithm,
    secret: &[u8],
    label: &str,
    out: &mut [u8],
) -> Option<()> {
    let full = format!("tls13 {label}");
    let len = (out.len() as u16).to_be_bytes();
    let label_len = [full.len() as u8];
    let ctx_len = [0u8];
    let info: [&[u8]; 4] = [&len, &label_len, full.as_bytes(), &ctx_len];
    let prk = hkdf::Prk::new_less_safe(alg, secret);
    prk.expand(&info, Len(out.len())).ok()?.fill(out).ok()
}

impl Keys {
    pub(super) fn new(suite: u16, secret: &[u8]) -> Result<Keys, String> {
        let (aead_alg, hkdf_alg) = match suite {
            0x1301 => (&aead::AES_128_GCM, hkdf::HKDF_SHA256),
            0x1302 => (&aead::AES_256_GCM, hkdf::HKDF_SHA384),
            0x1303 => (&aead::CHACHA20_POLY1305, hkdf::HKDF_SHA256),
            other => {
                return Err(format!(
                    "TLS 1.3 cipher suite 0x{other:04x} cannot be decrypted here"
                ))
            }
        };
        let mut key = vec![0u8; aead_alg.key_len()];
        let mut iv = [0u8; 12];
        expand_label(hkdf_alg, secret, "key", &mut key)
            .and_then(|_| expand_label(hkdf_alg, secret, "iv", &mut iv))
            .ok_or("the key log's secret has the wrong length for the cipher suite")?;
        let key = aead::UnboundKey::new(aead_alg, &key).map_err(|_| "bad key length")?;
        Ok(Keys {
            key: aead::LessSafeKey::new(key),
            iv,
            seq: 0,
        })
    }

    /// Decrypts one record: its inner content type and plaintext.
    pub(super) fn open(&mut self, header: &[u8], body: &[u8]) -> Result<(u8, Vec<u8>), String> {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq += 1;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(header),
                &mut buf,
            )
            .map_err(|_| {
                "a handshake record does not decrypt with the key log's secret (wrong key log?)"
            })?;
        let end = plain
            .iter()
            .rposition(|&b| b != 0)
            .ok_or("an empty encrypted record")?;
        let kind = plain[end];
        Ok((kind, plain[..end].to_vec()))
    }
}
