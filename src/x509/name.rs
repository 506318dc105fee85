//! X.509 names: the entries of a Name, `X509_NAME_print_ex` in the flag
//! sets mod_ssl uses, and `X509_NAME_oneline`.

use super::der::{read_all, read_low_tlv, read_tlv, Tlv, CLASS_UNIVERSAL, TAG_SEQUENCE, TAG_SET};
use super::objects::OBJECTS;
use super::oid::{obj_by_der, oid_to_dotted, parse_oid};
use super::string::{
    asn1_string_print_ex, name_value_from_tlv, push_hex_upper, AsnString, DUMP_ALL, ESC_MSB,
    ESC_QUOTE, STRFLGS_RFC2253,
};

#[derive(Debug, Clone)]
pub(super) struct NameEntry {
    pub(super) oid: Vec<u8>,
    /// Index into OBJECTS when OpenSSL knows the type (it has a NID).
    pub(super) obj: Option<usize>,
    /// RDN index (`X509_NAME_ENTRY_set`).
    pub(super) set: usize,
    pub(super) value: AsnString,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Name {
    pub(super) entries: Vec<NameEntry>,
}

impl Name {
    /// Parse a DER Name (SEQUENCE OF SET OF AttributeTypeAndValue).
    #[cfg(test)]
    pub(super) fn from_der(der: &[u8]) -> Result<Name, String> {
        let (seq, rest) = read_tlv(der)?;
        if !rest.is_empty() {
            return Err("trailing data after Name".into());
        }
        Name::from_name_tlv(&seq)
    }

    pub(super) fn from_name_tlv(seq: &Tlv<'_>) -> Result<Name, String> {
        if !seq.is(CLASS_UNIVERSAL, true, TAG_SEQUENCE) {
            return Err("Name is not a SEQUENCE".into());
        }
        Name::from_rdn_sequence(seq.content)
    }

    pub(super) fn from_rdn_sequence(content: &[u8]) -> Result<Name, String> {
        let mut entries = Vec::new();
        for (set, rdn) in read_all(content)?.iter().enumerate() {
            if !rdn.is(CLASS_UNIVERSAL, true, TAG_SET) {
                return Err("RDN is not a SET".into());
            }
            Name::push_set(&mut entries, rdn.content, set)?;
        }
        Ok(Name { entries })
    }

    pub(super) fn push_set(
        entries: &mut Vec<NameEntry>,
        set_content: &[u8],
        set: usize,
    ) -> Result<(), String> {
        let mut input = set_content;
        while !input.is_empty() {
            let (atv, rest) = read_tlv(input)?;
            input = rest;
            if !atv.is(CLASS_UNIVERSAL, true, TAG_SEQUENCE) {
                return Err("AttributeTypeAndValue is not a SEQUENCE".into());
            }
            let (oid_tlv, after_oid) = read_tlv(atv.content)?;
            let oid = parse_oid(&oid_tlv)?;
            let (val, after_val) = read_tlv(after_oid)?;
            if !after_val.is_empty() {
                return Err("AttributeTypeAndValue has extra elements".into());
            }
            let raw_len = after_oid.len() - after_val.len();
            let raw = after_oid.get(..raw_len).ok_or("bad attribute value")?;
            let value = name_value_from_tlv(&val, raw)?;
            let obj = obj_by_der(&oid);
            entries.push(NameEntry {
                oid,
                obj,
                set,
                value,
            });
        }
        Ok(())
    }
}

pub(super) struct NameFmt {
    pub(super) sep_dn: &'static [u8],
    pub(super) sep_mv: &'static [u8],
    pub(super) sep_eq: &'static [u8],
    pub(super) reverse: bool,
    pub(super) str_flags: u32,
    pub(super) dump_unknown_fields: bool,
}

/// mod_ssl's DN string: `XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB`.
pub(super) const NAME_FMT_MODSSL: NameFmt = NameFmt {
    sep_dn: b",",
    sep_mv: b"+",
    sep_eq: b"=",
    reverse: true,
    str_flags: STRFLGS_RFC2253 & !ESC_MSB,
    dump_unknown_fields: true,
};

/// `XN_FLAG_RFC2253` (RFC4523 CEA issuer).
pub(super) const NAME_FMT_RFC2253_FULL: NameFmt = NameFmt {
    sep_dn: b",",
    sep_mv: b"+",
    sep_eq: b"=",
    reverse: true,
    str_flags: STRFLGS_RFC2253,
    dump_unknown_fields: true,
};

/// `XN_FLAG_ONELINE` (DirName in `GENERAL_NAME_print`).
pub(super) const NAME_FMT_ONELINE: NameFmt = NameFmt {
    sep_dn: b", ",
    sep_mv: b" + ",
    sep_eq: b" = ",
    reverse: false,
    str_flags: STRFLGS_RFC2253 | ESC_QUOTE,
    dump_unknown_fields: false,
};

pub(super) fn entry_field_name(e: &NameEntry) -> String {
    match e.obj.and_then(|i| OBJECTS.get(i)) {
        Some(row) => row.1.to_string(),
        None => {
            // OBJ_obj2txt into an 80-byte buffer.
            let mut s = oid_to_dotted(&e.oid);
            s.truncate(79);
            s
        }
    }
}

/// `X509_NAME_print_ex(bio, name, 0, flags)` (`do_name_ex`).
pub(super) fn name_print_ex(name: &Name, fmt: &NameFmt) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev: Option<usize> = None;
    let n = name.entries.len();
    for i in 0..n {
        let idx = if fmt.reverse { n - 1 - i } else { i };
        let e = match name.entries.get(idx) {
            Some(e) => e,
            None => break,
        };
        if let Some(p) = prev {
            out.extend_from_slice(if p == e.set { fmt.sep_mv } else { fmt.sep_dn });
        }
        prev = Some(e.set);
        out.extend_from_slice(entry_field_name(e).as_bytes());
        out.extend_from_slice(fmt.sep_eq);
        let orflags = if e.obj.is_none() && fmt.dump_unknown_fields {
            DUMP_ALL
        } else {
            0
        };
        match asn1_string_print_ex(&e.value, fmt.str_flags | orflags) {
            Some(v) => out.extend_from_slice(&v),
            None => break,
        }
    }
    out
}

/// `X509_NAME_oneline` of OpenSSL 3.0 (`/` + SN + `=` + value, `+` between members
/// of a multi-valued RDN, `/` and `+` in values backslash-escaped, bytes outside
/// 0x20..0x7E as `\xHH`). `cap` emulates a caller buffer of `cap + 1` bytes (whole
/// entries that do not fit are dropped). None when OpenSSL returns NULL.
pub(super) fn name_oneline(name: &Name, cap: Option<usize>) -> Option<Vec<u8>> {
    const NAME_ONELINE_MAX: usize = 1024 * 1024;
    let mut out = Vec::new();
    let mut prev_set: Option<usize> = None;
    let mut l = 0usize;
    for e in &name.entries {
        let s = entry_field_name(e);
        let q = &e.value.data;
        if q.len() > NAME_ONELINE_MAX {
            return None;
        }
        let l2: usize = q
            .iter()
            .map(|&b| {
                if b == b'/' || b == b'+' {
                    2
                } else if !(b' '..=b'~').contains(&b) {
                    4
                } else {
                    1
                }
            })
            .sum();
        l += 1 + s.len() + 1 + l2;
        if l > NAME_ONELINE_MAX {
            return None;
        }
        if cap.is_some_and(|c| l > c) {
            break;
        }
        out.push(if prev_set == Some(e.set) { b'+' } else { b'/' });
        out.extend_from_slice(s.as_bytes());
        out.push(b'=');
        for &b in q {
            if !(b' '..=b'~').contains(&b) {
                out.extend_from_slice(b"\\x");
                push_hex_upper(&mut out, b);
            } else {
                if b == b'/' || b == b'+' {
                    out.push(b'\\');
                }
                out.push(b);
            }
        }
        prev_set = Some(e.set);
    }
    Some(out)
}

// ----------------------------------------------------------------------
// The canonical form the verifier compares

/// A name as `x509_name_canon` encodes it: one byte string per RDN.
pub(super) type CanonName = Vec<Vec<u8>>;

/// `X509_NAME` canonical form (x_name.c `x509_name_canon`): per RDN, its
/// entries with string values converted to UTF-8, trimmed, inner
/// whitespace collapsed and ASCII lower-cased; entries of an RDN sorted as
/// a DER SET OF. `None` where OpenSSL's decoder would fail. This is what
/// the chain verifier compares (`X509_NAME_cmp`) when it looks for issuers.
pub(super) fn canon_name(raw: &[u8]) -> Option<CanonName> {
    let (name, _) = read_low_tlv(raw)?;
    if name.identifier() != Some(0x30) {
        return None;
    }
    let mut rdns = Vec::new();
    let mut p = name.content;
    while !p.is_empty() {
        let (set, rest) = read_low_tlv(p)?;
        if set.identifier() != Some(0x31) {
            return None;
        }
        p = rest;
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut q = set.content;
        while !q.is_empty() {
            let (seq, rest) = read_low_tlv(q)?;
            if seq.identifier() != Some(0x30) {
                return None;
            }
            q = rest;
            let (oid, rest) = read_low_tlv(seq.content)?;
            if oid.identifier() != Some(0x06) {
                return None;
            }
            let (value, _) = read_low_tlv(rest)?;
            let (tag, bytes) = canon_value(value.identifier()?, value.content)?;
            let mut enc = oid.raw.to_vec();
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
pub(super) fn canon_value(tag: u8, value: &[u8]) -> Option<(u8, Vec<u8>)> {
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

/// UTF-8 bytes of a code point for [`canon_value`], surrogates included.
/// (Unlike [`super::string::utf8_putc`], which models `UTF8_putc`
/// refusing them as the printers see it; which of the two OpenSSL 3.0's
/// `ASN1_STRING_to_UTF8` gives a BMPString surrogate is unchecked.)
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
