//! X.509 names: the entries of a Name, `X509_NAME_print_ex` in the flag
//! sets mod_ssl uses, and `X509_NAME_oneline`.

use super::der::{read_all, read_tlv, Tlv, CLASS_UNIVERSAL, TAG_SEQUENCE, TAG_SET};
use super::objects::OBJECTS;
use super::oid::{oid_key, oid_to_dotted, parse_oid};
use super::string::{
    asn1_string_print_ex, name_value_from_tlv, push_hex_upper, AsnString, DUMP_ALL, ESC_MSB,
    ESC_QUOTE, STRFLGS_RFC2253,
};

#[derive(Debug, Clone)]
pub(super) struct NameEntry {
    /// The type's dotted text when it can be a known type ([`oid_key`]),
    /// else empty: the unknown type's text is made when printed.
    pub(super) oid_txt: String,
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
            let key = oid_key(&oid);
            let obj = key
                .as_deref()
                .and_then(|k| OBJECTS.binary_search_by(|r| r.0.cmp(k)).ok());
            entries.push(NameEntry {
                oid_txt: key.unwrap_or_default(),
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
            let mut s = if e.oid_txt.is_empty() {
                oid_to_dotted(&e.oid)
            } else {
                e.oid_txt.clone()
            };
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
