//! A minimal DER reader and writer: just enough to re-read the raw fields
//! OpenSSL prints or compares (definite lengths only; non-minimal lengths
//! accepted, as OpenSSL accepts them). Shared by the printers and the
//! chain verifier.

use super::time::AsnTime;

pub(super) const CLASS_UNIVERSAL: u8 = 0;
pub(super) const CLASS_CONTEXT: u8 = 2;

pub(super) const TAG_BOOLEAN: u32 = 1;
pub(super) const TAG_INTEGER: u32 = 2;
pub(super) const TAG_BIT_STRING: u32 = 3;
pub(super) const TAG_OCTET_STRING: u32 = 4;
pub(super) const TAG_NULL: u32 = 5;
pub(super) const TAG_OID: u32 = 6;
pub(super) const TAG_UTF8STRING: u32 = 12;
pub(super) const TAG_SEQUENCE: u32 = 16;
pub(super) const TAG_SET: u32 = 17;
pub(super) const TAG_IA5STRING: u32 = 22;
pub(super) const TAG_UTCTIME: u32 = 23;
pub(super) const TAG_GENERALIZEDTIME: u32 = 24;
pub(super) const TAG_VISIBLESTRING: u32 = 26;
pub(super) const TAG_BMPSTRING: u32 = 30;

#[derive(Debug, Clone, Copy)]
pub(super) struct Tlv<'a> {
    pub(super) class: u8,
    pub(super) constructed: bool,
    pub(super) tag: u32,
    pub(super) content: &'a [u8],
}

impl Tlv<'_> {
    pub(super) fn is(&self, class: u8, constructed: bool, tag: u32) -> bool {
        self.class == class && self.constructed == constructed && self.tag == tag
    }
    pub(super) fn is_universal(&self, tag: u32) -> bool {
        self.class == CLASS_UNIVERSAL && self.tag == tag
    }
    pub(super) fn is_context(&self, tag: u32) -> bool {
        self.class == CLASS_CONTEXT && self.tag == tag
    }
}

/// Read one TLV (definite lengths only; non-minimal lengths accepted like OpenSSL).
pub(super) fn read_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let first = *input.first().ok_or("unexpected end of data")?;
    let class = first >> 6;
    let constructed = first & 0x20 != 0;
    let mut pos = 1usize;
    let mut tag = u32::from(first & 0x1f);
    if tag == 0x1f {
        tag = 0;
        loop {
            let b = *input.get(pos).ok_or("truncated tag")?;
            pos += 1;
            if tag > (u32::MAX >> 7) {
                return Err("tag number too large".into());
            }
            tag = (tag << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let lb = *input.get(pos).ok_or("truncated length")?;
    pos += 1;
    let len = if lb < 0x80 {
        usize::from(lb)
    } else if lb == 0x80 {
        return Err("indefinite length encoding".into());
    } else {
        let n = usize::from(lb & 0x7f);
        if n > 4 {
            return Err("length field too long".into());
        }
        let mut l = 0usize;
        for _ in 0..n {
            let b = *input.get(pos).ok_or("truncated length")?;
            pos += 1;
            l = (l << 8) | usize::from(b);
        }
        l
    };
    let end = pos
        .checked_add(len)
        .filter(|&e| e <= input.len())
        .ok_or("length exceeds the available data")?;
    let content = input
        .get(pos..end)
        .ok_or("length exceeds the available data")?;
    let rest = input
        .get(end..)
        .ok_or("length exceeds the available data")?;
    Ok((
        Tlv {
            class,
            constructed,
            tag,
            content,
        },
        rest,
    ))
}

/// All TLVs of a constructed content, in order.
pub(super) fn read_all(mut input: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut v = Vec::new();
    while !input.is_empty() {
        let (t, rest) = read_tlv(input)?;
        v.push(t);
        input = rest;
    }
    Ok(v)
}

/// Encode a DER header for (class, constructed, tag, len).
pub(super) fn der_header(class: u8, constructed: bool, tag: u32, len: usize) -> Vec<u8> {
    let mut h = Vec::new();
    let first = (class << 6) | if constructed { 0x20 } else { 0 };
    if tag < 0x1f {
        // tag < 31 fits in five bits
        h.push(first | (tag as u8));
    } else {
        h.push(first | 0x1f);
        let mut groups = Vec::new();
        let mut t = tag;
        loop {
            groups.push((t & 0x7f) as u8);
            t >>= 7;
            if t == 0 {
                break;
            }
        }
        let n = groups.len();
        for (i, g) in groups.iter().rev().enumerate() {
            h.push(if i + 1 < n { g | 0x80 } else { *g });
        }
    }
    if len < 0x80 {
        h.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let used = &bytes[skip..];
        h.push(0x80 | used.len() as u8);
        h.extend_from_slice(used);
    }
    h
}

/// The TBSCertificate fields re-read from its raw DER.
pub(super) struct RawTbs<'a> {
    pub(super) issuer: Tlv<'a>,
    pub(super) validity: Tlv<'a>,
    pub(super) subject: Tlv<'a>,
}

impl<'a> RawTbs<'a> {
    pub(super) fn read(tbs_raw: &'a [u8]) -> Result<RawTbs<'a>, String> {
        let (tbs, _) = read_tlv(tbs_raw)?;
        let items = read_all(tbs.content)?;
        // [0] version (optional), serial, signature, issuer, validity, subject
        let base = usize::from(items.first().is_some_and(|t| t.is_context(0)));
        let field = |i: usize, what: &str| -> Result<Tlv<'a>, String> {
            items
                .get(base + i)
                .copied()
                .ok_or_else(|| format!("missing {what}"))
        };
        Ok(RawTbs {
            issuer: field(2, "issuer")?,
            validity: field(3, "validity")?,
            subject: field(4, "subject")?,
        })
    }
}

/// Reads the two times of the Validity SEQUENCE.
pub(super) fn read_validity(validity: &Tlv<'_>) -> Result<(AsnTime, AsnTime), String> {
    if !validity.is(CLASS_UNIVERSAL, true, TAG_SEQUENCE) {
        return Err("validity is not a SEQUENCE".into());
    }
    let times = read_all(validity.content)?;
    if times.len() != 2 {
        return Err("validity does not hold two times".into());
    }
    let mut out = Vec::new();
    for t in &times {
        if t.class != CLASS_UNIVERSAL || t.constructed {
            return Err("time is not a primitive universal type".into());
        }
        let generalized = match t.tag {
            TAG_UTCTIME => false,
            TAG_GENERALIZEDTIME => true,
            _ => {
                return Err(format!(
                    "time has tag {} (not UTCTime/GeneralizedTime)",
                    t.tag
                ))
            }
        };
        out.push(AsnTime {
            generalized,
            data: t.content.to_vec(),
        });
    }
    let na = out.pop().ok_or("missing notAfter")?;
    let nb = out.pop().ok_or("missing notBefore")?;
    Ok((nb, na))
}
