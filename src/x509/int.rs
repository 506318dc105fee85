//! ASN.1 INTEGERs as OpenSSL prints them: `c2i_ASN1_INTEGER`'s padding
//! rules, `i2a_ASN1_INTEGER` (hex), `BN_bn2dec` and X509V3's `i2s`.
//! Hand-written because the exact bytes (line breaks every 35 octets, the
//! 128-bit switch to hex) are OpenSSL's; the arithmetic is `num-bigint`'s.

use num_bigint::BigUint;

use super::der::Tlv;

/// OpenSSL's ASN1_INTEGER after `c2i`: sign + magnitude bytes.
#[derive(Debug, Clone)]
pub(super) struct AsnInt {
    pub(super) neg: bool,
    pub(super) mag: Vec<u8>,
}

impl AsnInt {
    /// `c2i_ASN1_INTEGER` (`c2i_ibuf`): rejects empty content and illegal padding.
    pub(super) fn from_content(p: &[u8]) -> Result<AsnInt, String> {
        let first = *p.first().ok_or("zero-length INTEGER")?;
        let neg = first & 0x80 != 0;
        if p.len() == 1 {
            let b = if neg {
                (first ^ 0xff).wrapping_add(1)
            } else {
                first
            };
            return Ok(AsnInt { neg, mag: vec![b] });
        }
        let second = p.get(1).copied().unwrap_or(0);
        let pad = if first == 0 {
            true
        } else if first == 0xff {
            p.iter().skip(1).any(|&b| b != 0)
        } else {
            false
        };
        if pad && (neg == (second & 0x80 != 0)) {
            return Err("INTEGER has illegal (non-minimal) padding".into());
        }
        let body = if pad { p.get(1..).unwrap_or(&[]) } else { p };
        let mag = if neg {
            twos_complement(body)
        } else {
            body.to_vec()
        };
        Ok(AsnInt { neg, mag })
    }

    /// `i2a_ASN1_INTEGER`.
    pub(super) fn i2a(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut s = String::new();
        if self.neg {
            s.push('-');
        }
        if self.mag.is_empty() {
            s.push_str("00");
            return s;
        }
        for (i, b) in self.mag.iter().enumerate() {
            if i != 0 && i % 35 == 0 {
                s.push_str("\\\n");
            }
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        s
    }

    /// `BN_bn2dec(ASN1_INTEGER_to_BN(a))`.
    pub(super) fn to_decimal(&self) -> String {
        let n = BigUint::from_bytes_be(&self.mag);
        let d = n.to_string();
        if self.neg && n != BigUint::ZERO {
            format!("-{d}")
        } else {
            d
        }
    }

    /// X509V3 `i2s_ASN1_INTEGER` → `bignum_to_string`: decimal below 128 bits, else
    /// `0x` + `BN_bn2hex`.
    pub(super) fn to_i2s(&self) -> String {
        let stripped: &[u8] = {
            let skip = self.mag.iter().take_while(|&&b| b == 0).count();
            self.mag.get(skip..).unwrap_or(&[])
        };
        let bits = match stripped.first() {
            None => 0,
            Some(&top) => (stripped.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        };
        if bits < 128 {
            return self.to_decimal();
        }
        let mut hex = String::new();
        for b in stripped {
            hex.push_str(&format!("{b:02X}"));
        }
        if self.neg {
            format!("-0x{hex}")
        } else {
            format!("0x{hex}")
        }
    }

    /// `ASN1_INTEGER_get` for small values (used by the TLS feature printer).
    pub(super) fn to_long(&self) -> Option<i64> {
        let skip = self.mag.iter().take_while(|&&b| b == 0).count();
        let m = self.mag.get(skip..).unwrap_or(&[]);
        if m.len() > 8 {
            return None;
        }
        let mut v: u64 = 0;
        for &b in m {
            v = (v << 8) | u64::from(b);
        }
        let v = i64::try_from(v).ok()?;
        Some(if self.neg { -v } else { v })
    }
}

pub(super) fn twos_complement(src: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    let mut carry: u32 = 1;
    for (d, s) in out.iter_mut().rev().zip(src.iter().rev()) {
        carry += u32::from(*s ^ 0xff);
        *d = carry as u8;
        carry >>= 8;
    }
    out
}

pub(super) fn parse_integer(t: &Tlv<'_>) -> Result<AsnInt, String> {
    if t.constructed {
        return Err("constructed INTEGER".into());
    }
    AsnInt::from_content(t.content)
}

/// An INTEGER's content without redundant sign bytes (for
/// `ASN1_INTEGER_cmp`-style equality).
pub(super) fn normalize_int(raw: &[u8]) -> Vec<u8> {
    let mut s = raw;
    while s.len() > 1 && ((s[0] == 0 && s[1] & 0x80 == 0) || (s[0] == 0xff && s[1] & 0x80 != 0)) {
        s = &s[1..];
    }
    s.to_vec()
}
