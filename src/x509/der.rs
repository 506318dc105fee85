//! A minimal DER reader and writer: just enough to re-read the raw fields
//! OpenSSL prints or compares (definite lengths only; non-minimal lengths
//! accepted, as OpenSSL accepts them). Shared by the printers and the
//! chain verifier.

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
    /// The whole TLV: identifier, length and content.
    pub(super) raw: &'a [u8],
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
    /// The single identifier octet, for a tag number below 31.
    pub(super) fn identifier(&self) -> Option<u8> {
        (self.tag < 0x1f).then(|| self.raw[0])
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
            raw: &input[..end],
        },
        rest,
    ))
}

/// [`read_tlv`] for readers that, as the verifier's model of OpenSSL's
/// templates, know low tag numbers only: a high tag number (≥ 31) is no
/// TLV at all, and neither is anything `read_tlv` refuses.
pub(super) fn read_low_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (t, rest) = read_tlv(input).ok()?;
    t.identifier()?;
    Some((t, rest))
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

/// A Certificate's TBSCertificate and outer signatureAlgorithm.
pub(super) fn split_certificate(der: &[u8]) -> Result<(Tlv<'_>, Tlv<'_>), String> {
    let (cert, _) = read_tlv(der)?;
    let (tbs, rest) = read_tlv(cert.content)?;
    let (sig_alg, _) = read_tlv(rest)?;
    Ok((tbs, sig_alg))
}

/// The TBSCertificate fields re-read from its raw DER, in order up to the
/// subject (x509-parser has validated the structure; these are the bytes
/// OpenSSL prints or compares).
pub(super) struct RawTbs<'a> {
    /// The inner signature AlgorithmIdentifier.
    pub(super) signature: Tlv<'a>,
    pub(super) issuer: Tlv<'a>,
    pub(super) validity: Tlv<'a>,
    pub(super) subject: Tlv<'a>,
}

impl<'a> RawTbs<'a> {
    /// Reads the TBSCertificate whose whole TLV is `tbs_raw`.
    pub(super) fn read(tbs_raw: &'a [u8]) -> Result<RawTbs<'a>, String> {
        let (tbs, _) = read_tlv(tbs_raw)?;
        let mut rest = tbs.content;
        let mut next = |what: &str| -> Result<Tlv<'a>, String> {
            if rest.is_empty() {
                return Err(format!("missing {what}"));
            }
            let (t, r) = read_tlv(rest).map_err(|e| format!("{what}: {e}"))?;
            rest = r;
            Ok(t)
        };
        // [0] version (optional), serial, signature, issuer, validity, subject
        let mut first = next("serialNumber")?;
        if first.is_context(0) {
            first = next("serialNumber")?;
        }
        let _serial = first;
        Ok(RawTbs {
            signature: next("signature")?,
            issuer: next("issuer")?,
            validity: next("validity")?,
            subject: next("subject")?,
        })
    }
}
