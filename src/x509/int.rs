//! ASN.1 INTEGERs as OpenSSL prints them: `c2i_ASN1_INTEGER`'s padding
//! rules, `i2a_ASN1_INTEGER` (hex), `BN_bn2dec` and X509V3's `i2s`.
//! Hand-written because the exact bytes (line breaks every 35 octets, the
//! 128-bit switch to hex) are OpenSSL's; the arithmetic is `num-bigint`'s.

use super::der::Tlv;

/// Little-endian base 2^32 natural number.
#[derive(Debug, Clone, Default)]
pub(super) struct BigNat(Vec<u32>);

impl BigNat {
    pub(super) fn from_be_bytes(b: &[u8]) -> BigNat {
        let mut n = BigNat::default();
        for &byte in b {
            n.mul_add(256, u32::from(byte));
        }
        n
    }
    pub(super) fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }
    pub(super) fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }
    /// Divide in place, returning the remainder.
    pub(super) fn div_rem(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        rem as u32
    }
    /// Compare with a small value: true if self < v.
    pub(super) fn lt_small(&self, v: u32) -> bool {
        let mut limbs = self.0.iter().rev().skip_while(|&&l| l == 0);
        match (limbs.next(), limbs.next()) {
            (None, _) => v > 0,
            (Some(&l), None) => l < v,
            _ => false,
        }
    }
    pub(super) fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_rem(1_000_000_000));
        }
        let mut s = String::new();
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&c.to_string());
            } else {
                s.push_str(&format!("{c:09}"));
            }
        }
        s
    }
    /// Base-128 digits, most significant first (at least one digit).
    pub(super) fn to_base128(&self) -> Vec<u8> {
        let mut n = self.clone();
        let mut d = Vec::new();
        loop {
            d.push(n.div_rem(128) as u8);
            if n.is_zero() {
                break;
            }
        }
        d.reverse();
        d
    }
}

// ======================================================================
// INTEGER (serial)
// ======================================================================

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
        let n = BigNat::from_be_bytes(&self.mag);
        let d = n.to_decimal();
        if self.neg && !n.is_zero() {
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
