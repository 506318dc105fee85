//! OBJECT IDENTIFIERs as OpenSSL reads and prints them: `c2i` validity,
//! `OBJ_obj2txt` (with 3.0.9+'s 586-byte bound), `a2d_ASN1_OBJECT`'s quirks,
//! `OBJ_txt2obj`, `i2t`/`i2a` and `BIO_dump`, over the generated object
//! table ([`super::objects`]).

use std::sync::OnceLock;

use num_bigint::BigUint;
use rustc_hash::FxHashMap;

use super::der::{Tlv, CLASS_UNIVERSAL, TAG_OID};
use super::objects::{ObjRow, OBJECTS};

/// `c2i_ASN1_OBJECT` validity: non-empty, last octet ends a subidentifier, no
/// subidentifier starts with 0x80.
pub(super) fn check_oid(c: &[u8]) -> Result<(), String> {
    match c.last() {
        None => return Err("empty OBJECT IDENTIFIER".into()),
        Some(&b) if b & 0x80 != 0 => return Err("truncated OBJECT IDENTIFIER".into()),
        _ => {}
    }
    let mut at_start = true;
    for &b in c {
        if at_start && b == 0x80 {
            return Err("OBJECT IDENTIFIER subidentifier with a leading 0x80".into());
        }
        at_start = b & 0x80 == 0;
    }
    Ok(())
}

/// OpenSSL 3.0.9+ `OBJ_obj2txt` fails for an OID whose content is longer
/// than this (CVE-2023-2650: 128 sub-identifiers of at most 32 bits, RFC
/// 2578). Apache 2.4.71 runs OpenSSL 3.0.22, so such an OID has no text.
pub(crate) const OBJ2TXT_MAX_LEN: usize = 586;

/// Dotted text of OID content octets (`OBJ_obj2txt(…, 1)`), or `""` where
/// OpenSSL's fails (content over [`OBJ2TXT_MAX_LEN`] bytes; its buffer is
/// left empty). The bound also keeps the big-number path cheap.
pub(super) fn oid_to_dotted(c: &[u8]) -> String {
    use std::fmt::Write as _;
    if c.len() > OBJ2TXT_MAX_LEN {
        return String::new();
    }
    let mut s = String::with_capacity(c.len() * 3);
    let mut first = true;
    let mut start = 0;
    for (i, &b) in c.iter().enumerate() {
        if b & 0x80 != 0 {
            continue;
        }
        let arc = &c[start..=i];
        start = i + 1;
        // Arcs of up to 8 base-128 digits fit a u64: the common case, done
        // without the big-number path.
        if arc.len() <= 8 {
            let mut v = arc
                .iter()
                .fold(0u64, |v, &d| (v << 7) | u64::from(d & 0x7f));
            if first {
                first = false;
                let (head, sub) = match v {
                    0..=39 => ("0.", 0),
                    40..=79 => ("1.", 40),
                    _ => ("2.", 80),
                };
                s.push_str(head);
                v -= sub;
            } else {
                s.push('.');
            }
            let _ = write!(s, "{v}");
            continue;
        }
        let digits: Vec<u8> = arc.iter().map(|d| d & 0x7f).collect();
        let mut cur = BigUint::from_radix_be(&digits, 128).unwrap_or_default();
        if first {
            first = false;
            // Over 56 bits: the first arc is 2 (80 + a big number).
            s.push_str("2.");
            cur -= 80u32;
        } else {
            s.push('.');
        }
        let _ = write!(s, "{cur}");
    }
    s
}

/// No OID of OpenSSL's object table, nor any this module knows, is encoded
/// in more bytes than this (the longest is 15; a test checks the table).
pub(super) const KNOWN_OID_MAX: usize = 32;

/// The dotted text of an OID to look it up by (the object table, the
/// extensions and attributes this module knows) without converting long
/// ones: `None` for an encoding over [`KNOWN_OID_MAX`] bytes or an arc over
/// 64 bits, which no known object has. So parsing never takes the
/// big-number path; the text of an unknown OID is made when printed.
pub(super) fn oid_key(c: &[u8]) -> Option<String> {
    if c.len() > KNOWN_OID_MAX {
        return None;
    }
    let mut arc_len = 0;
    for &b in c {
        arc_len += 1;
        if arc_len > 8 {
            return None;
        }
        if b & 0x80 == 0 {
            arc_len = 0;
        }
    }
    Some(oid_to_dotted(c))
}

/// `a2d_ASN1_OBJECT`: dotted text → content octets, with OpenSSL's quirks (first arc
/// a single digit 0-2, `.` or space separators, empty arcs read as 0, a trailing
/// separator ignored).
pub(super) fn a2d_oid(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut p = 0usize;
    let mut num = b.len();
    if num == 0 {
        return None;
    }
    let c = b[p];
    p += 1;
    num -= 1;
    if !(b'0'..=b'2').contains(&c) {
        return None;
    }
    let first = u32::from(c - b'0');
    if num == 0 {
        return None;
    }
    let mut c = b[p];
    p += 1;
    num -= 1;
    let mut out = Vec::new();
    let mut arcs = 0usize;
    loop {
        if num == 0 {
            break;
        }
        if c != b'.' && c != b' ' {
            return None;
        }
        let mut l = BigUint::ZERO;
        loop {
            if num == 0 {
                break;
            }
            num -= 1;
            c = b[p];
            p += 1;
            if c == b' ' || c == b'.' {
                break;
            }
            if !c.is_ascii_digit() {
                return None;
            }
            l = l * 10u32 + u32::from(c - b'0');
        }
        if arcs == 0 {
            if first < 2 && l >= BigUint::from(40u32) {
                return None;
            }
            l += first * 40;
        }
        arcs += 1;
        let digits = l.to_radix_be(128);
        let n = digits.len();
        for (i, d) in digits.iter().enumerate() {
            out.push(if i + 1 < n { d | 0x80 } else { *d });
        }
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// `OBJ_txt2obj(s, no_name)`: content octets of the object.
pub(super) fn obj_txt2obj(s: &str, no_name: bool) -> Option<Vec<u8>> {
    if !no_name {
        if let Some(o) = obj_by_sn(s).or_else(|| obj_by_ln(s)) {
            return a2d_oid(o.0);
        }
        if !s.as_bytes().first().is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    a2d_oid(s)
}

/// `OBJ_obj2nid`: the object table's row for OID content octets, by a
/// hash of the DER (the table is converted once, on first use), so that
/// reading a certificate never formats an OID.
pub(super) fn obj_by_der(c: &[u8]) -> Option<usize> {
    static BY_DER: OnceLock<FxHashMap<Box<[u8]>, usize>> = OnceLock::new();
    BY_DER
        .get_or_init(|| {
            OBJECTS
                .iter()
                .enumerate()
                .filter_map(|(i, row)| Some((a2d_oid(row.0)?.into_boxed_slice(), i)))
                .collect()
        })
        .get(c)
        .copied()
}

pub(super) fn obj_lookup(dotted: &str) -> Option<&'static ObjRow> {
    OBJECTS
        .binary_search_by(|row| row.0.cmp(dotted))
        .ok()
        .and_then(|i| OBJECTS.get(i))
}

pub(super) fn obj_by_sn(s: &str) -> Option<&'static ObjRow> {
    OBJECTS.iter().find(|r| r.1 == s)
}

pub(super) fn obj_by_ln(s: &str) -> Option<&'static ObjRow> {
    OBJECTS.iter().find(|r| r.2 == s)
}

pub(super) fn obj_long_name_or_unknown(oid: &[u8]) -> String {
    match obj_by_der(oid).and_then(|i| OBJECTS.get(i)) {
        Some(r) => r.2.to_string(),
        None => "UNKNOWN".into(),
    }
}

/// `i2t_ASN1_OBJECT(buf, size, obj)`: long name if known, else dotted; cut to
/// `size - 1` bytes; `""` where `OBJ_obj2txt` fails (an OID over
/// [`OBJ2TXT_MAX_LEN`] bytes). `None`: `i2a_ASN1_OBJECT`, which never cuts
/// and prints `<INVALID>` and a `BIO_dump` of the content on failure.
pub(super) fn i2t_object(oid: &[u8], size: Option<usize>) -> String {
    if oid.len() > OBJ2TXT_MAX_LEN {
        return match size {
            Some(_) => String::new(),
            None => format!("<INVALID>{}", bio_dump(oid)),
        };
    }
    let dotted = oid_to_dotted(oid);
    let mut s = match obj_lookup(&dotted) {
        Some(r) => r.2.to_string(),
        None => dotted,
    };
    if let Some(size) = size {
        s.truncate(size.saturating_sub(1));
    }
    s
}

/// `BIO_dump(bio, data, len)` (OpenSSL 3.0 `BIO_dump_indent_cb`, indent 0):
/// rows of 16 bytes, `%04x - ` offset, hex with `-` after the 8th byte, two
/// spaces, printable ASCII or `.`, newline.
pub(super) fn bio_dump(data: &[u8]) -> String {
    use std::fmt::Write as _;
    const WIDTH: usize = 16;
    let mut out = String::with_capacity(data.len() / WIDTH * 76 + 76);
    for (row, chunk) in data.chunks(WIDTH).enumerate() {
        let _ = write!(out, "{:04x} - ", row * WIDTH);
        for j in 0..WIDTH {
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x}{}", if j == 7 { '-' } else { ' ' });
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  ");
        for &b in chunk {
            out.push(if (b' '..=b'~').contains(&b) {
                char::from(b)
            } else {
                '.'
            });
        }
        out.push('\n');
    }
    out
}

pub(super) fn parse_oid(t: &Tlv<'_>) -> Result<Vec<u8>, String> {
    if !t.is(CLASS_UNIVERSAL, false, TAG_OID) {
        return Err("expected OBJECT IDENTIFIER".into());
    }
    check_oid(t.content)?;
    Ok(t.content.to_vec())
}
