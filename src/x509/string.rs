//! ASN.1 strings: `ASN1_STRING_print_ex` (escaping flags, UTF-8
//! conversion, `#` dumps), OpenSSL's `UTF8_getc`/`UTF8_putc` (which accept
//! what Rust's UTF-8 does not, surrogates included) and the canonical-type
//! checks `d2i` applies to name values.

use super::der::{
    der_header, Tlv, CLASS_UNIVERSAL, TAG_BIT_STRING, TAG_BMPSTRING, TAG_SEQUENCE, TAG_UTF8STRING,
};

pub(super) const ESC_2253: u32 = 1;
pub(super) const ESC_CTRL: u32 = 2;
pub(super) const ESC_MSB: u32 = 4;
pub(super) const ESC_QUOTE: u32 = 8;
pub(super) const UTF8_CONVERT: u32 = 0x10;
pub(super) const DUMP_ALL: u32 = 0x80;
pub(super) const DUMP_UNKNOWN: u32 = 0x100;
pub(super) const DUMP_DER: u32 = 0x200;
pub(super) const ESC_FLAGS: u32 = ESC_2253 | ESC_CTRL | ESC_MSB | ESC_QUOTE;
pub(super) const CHAR_FIRST_ESC: u32 = 0x20;
pub(super) const CHAR_LAST_ESC: u32 = 0x40;
/// `ASN1_STRFLGS_RFC2253`
pub(super) const STRFLGS_RFC2253: u32 =
    ESC_2253 | ESC_CTRL | ESC_MSB | UTF8_CONVERT | DUMP_UNKNOWN | DUMP_DER;

/// An ASN1_STRING as OpenSSL stores it.
#[derive(Debug, Clone)]
pub(super) struct AsnString {
    /// Universal tag (OpenSSL's `type`).
    pub(super) tag: u32,
    /// `data`: content octets (bits without the unused-bits octet for BIT STRING;
    /// the whole TLV for SEQUENCE).
    pub(super) data: Vec<u8>,
    /// A BIT STRING's unused-bits count (0 for any other type).
    pub(super) unused_bits: u8,
}

impl AsnString {
    /// A string of `tag` holding `data`.
    pub(super) fn new(tag: u32, data: Vec<u8>) -> AsnString {
        AsnString {
            tag,
            data,
            unused_bits: 0,
        }
    }

    /// The DER re-encoding `i2d_ASN1_TYPE` produces (for `#` dumps).
    pub(super) fn der(&self) -> Vec<u8> {
        if self.tag == TAG_SEQUENCE {
            return self.data.clone();
        }
        let bit_string = self.tag == TAG_BIT_STRING;
        let len = self.data.len() + usize::from(bit_string);
        let mut der = der_header(CLASS_UNIVERSAL, false, self.tag, len);
        if bit_string {
            der.push(self.unused_bits);
        }
        der.extend_from_slice(&self.data);
        der
    }
}

/// `char_type[]` bits that matter for the flags used here.
pub(super) fn char_type(c: u8) -> u32 {
    match c {
        0..=31 | 127 => ESC_CTRL,
        b' ' => CHAR_FIRST_ESC | CHAR_LAST_ESC | ESC_QUOTE,
        b'#' => CHAR_FIRST_ESC | ESC_QUOTE,
        b'"' | b'\\' => ESC_2253,
        b'+' | b',' | b';' | b'<' | b'>' => ESC_2253 | ESC_QUOTE,
        _ => 0,
    }
}

/// `tag2nbyte[]`: character width of a string type (-1: not a string).
pub(super) fn tag_width(tag: u32) -> i32 {
    match tag {
        12 => 0,
        18 | 19 | 20 | 22 | 23 | 24 | 26 => 1,
        28 => 4,
        30 => 2,
        _ => -1,
    }
}

pub(super) fn push_hex_upper(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0x0f)]);
}

/// `do_esc_char`
pub(super) fn do_esc_char(c: u32, flags: u32, quotes: &mut bool, out: &mut Vec<u8>) {
    if c > 0xffff {
        out.extend_from_slice(format!("\\W{c:08X}").as_bytes());
        return;
    }
    if c > 0xff {
        out.extend_from_slice(format!("\\U{c:04X}").as_bytes());
        return;
    }
    let ch = c as u8;
    let chflgs = if ch > 0x7f {
        flags & ESC_MSB
    } else {
        char_type(ch) & flags
    };
    if chflgs & (ESC_2253 | CHAR_FIRST_ESC | CHAR_LAST_ESC) != 0 {
        if chflgs & ESC_QUOTE != 0 {
            *quotes = true;
            out.push(ch);
        } else {
            out.push(b'\\');
            out.push(ch);
        }
        return;
    }
    if chflgs & (ESC_CTRL | ESC_MSB) != 0 {
        out.push(b'\\');
        push_hex_upper(out, ch);
        return;
    }
    if ch == b'\\' && flags & ESC_FLAGS != 0 {
        out.extend_from_slice(b"\\\\");
        return;
    }
    out.push(ch);
}

/// OpenSSL `UTF8_getc`: (value, bytes used) or None for an invalid sequence.
pub(super) fn utf8_getc(s: &[u8]) -> Option<(u32, usize)> {
    let b0 = u32::from(*s.first()?);
    let cont = |i: usize| -> Option<u32> {
        let b = *s.get(i)?;
        if b & 0xc0 == 0x80 {
            Some(u32::from(b & 0x3f))
        } else {
            None
        }
    };
    if b0 & 0x80 == 0 {
        Some((b0, 1))
    } else if b0 & 0xe0 == 0xc0 {
        let v = ((b0 & 0x1f) << 6) | cont(1)?;
        (v >= 0x80).then_some((v, 2))
    } else if b0 & 0xf0 == 0xe0 {
        let v = ((b0 & 0x0f) << 12) | (cont(1)? << 6) | cont(2)?;
        (v >= 0x800 && !(0xd800..=0xdfff).contains(&v)).then_some((v, 3))
    } else if b0 & 0xf8 == 0xf0 {
        let v = ((b0 & 0x07) << 18) | (cont(1)? << 12) | (cont(2)? << 6) | cont(3)?;
        (v >= 0x10000).then_some((v, 4))
    } else {
        None
    }
}

/// OpenSSL `UTF8_putc`; an empty result means the value cannot be encoded.
pub(super) fn utf8_putc(v: u32, buf: &mut [u8; 4]) -> &[u8] {
    // Each `as u8` keeps the low bits of a value already masked or shifted
    // below 0x100.
    let n = if v < 0x80 {
        buf[0] = v as u8;
        1
    } else if v < 0x800 {
        buf[0] = 0xc0 | (v >> 6) as u8;
        buf[1] = 0x80 | (v & 0x3f) as u8;
        2
    } else if v < 0x10000 {
        if (0xd800..=0xdfff).contains(&v) {
            return &[];
        }
        buf[0] = 0xe0 | (v >> 12) as u8;
        buf[1] = 0x80 | ((v >> 6) & 0x3f) as u8;
        buf[2] = 0x80 | (v & 0x3f) as u8;
        3
    } else if v < 0x110000 {
        buf[0] = 0xf0 | (v >> 18) as u8;
        buf[1] = 0x80 | ((v >> 12) & 0x3f) as u8;
        buf[2] = 0x80 | ((v >> 6) & 0x3f) as u8;
        buf[3] = 0x80 | (v & 0x3f) as u8;
        4
    } else {
        return &[];
    };
    &buf[..n]
}

/// Whether [`do_buf`] writes these bytes (read one byte a character, or
/// as UTF-8, which for ASCII is the same) as they are: all ASCII, none
/// escaped under `flags`, with `do_buf`'s first- and last-character flags.
/// The common case (a name of letters and spaces) then costs one copy.
fn copies_unescaped(data: &[u8], flags: u32) -> bool {
    let q = data.len();
    data.iter().enumerate().all(|(i, &b)| {
        let mut orflags = if i == 0 && flags & ESC_2253 != 0 {
            CHAR_FIRST_ESC
        } else {
            0
        };
        if i + 1 == q && flags & ESC_2253 != 0 {
            orflags = CHAR_LAST_ESC;
        }
        b < 0x80 && char_type(b) & (flags | orflags) == 0 && !(b == b'\\' && flags & ESC_FLAGS != 0)
    })
}

/// `do_buf`: None when OpenSSL returns -1.
pub(super) fn do_buf(
    data: &[u8],
    width: i32,
    convert: bool,
    flags: u32,
) -> Option<(Vec<u8>, bool)> {
    match width {
        4 if !data.len().is_multiple_of(4) => return None,
        2 if !data.len().is_multiple_of(2) => return None,
        0..=2 | 4 => {}
        _ => return None,
    }
    if (width == 0 || width == 1) && copies_unescaped(data, flags) {
        return Some((data.to_vec(), false));
    }
    do_buf_each(data, width, convert, flags)
}

/// [`do_buf`] character by character, as OpenSSL does it.
pub(super) fn do_buf_each(
    data: &[u8],
    width: i32,
    convert: bool,
    flags: u32,
) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::with_capacity(data.len());
    let mut quotes = false;
    let mut p = 0usize;
    let q = data.len();
    while p < q {
        let mut orflags = if p == 0 && flags & ESC_2253 != 0 {
            CHAR_FIRST_ESC
        } else {
            0
        };
        let c: u32 = match width {
            4 => {
                let b = data.get(p..p + 4)?;
                p += 4;
                let c = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                if c > 0x10ffff || (0xd800..=0xdfff).contains(&c) {
                    return None;
                }
                c
            }
            2 => {
                let b = data.get(p..p + 2)?;
                p += 2;
                let c = (u32::from(b[0]) << 8) | u32::from(b[1]);
                if (0xd800..=0xdfff).contains(&c) {
                    return None;
                }
                c
            }
            1 => {
                let c = u32::from(*data.get(p)?);
                p += 1;
                c
            }
            _ => {
                let (c, n) = utf8_getc(data.get(p..)?)?;
                p += n;
                c
            }
        };
        if p == q && flags & ESC_2253 != 0 {
            orflags = CHAR_LAST_ESC;
        }
        if convert {
            let mut buf = [0; 4];
            for &b in utf8_putc(c, &mut buf) {
                do_esc_char(u32::from(b), flags | orflags, &mut quotes, &mut out);
            }
        } else {
            do_esc_char(c, flags | orflags, &mut quotes, &mut out);
        }
    }
    Some((out, quotes))
}

/// `ASN1_STRING_print_ex` (`do_print_ex`): None when OpenSSL returns -1 (nothing of
/// the string is written in that case).
pub(super) fn asn1_string_print_ex(s: &AsnString, lflags: u32) -> Option<Vec<u8>> {
    let flags = lflags & ESC_FLAGS;
    let mut width = if lflags & DUMP_ALL != 0 {
        -1
    } else {
        let w = tag_width(s.tag);
        if w == -1 && lflags & DUMP_UNKNOWN == 0 {
            1
        } else {
            w
        }
    };
    if width == -1 {
        let mut out = vec![b'#'];
        let der;
        let bytes = if lflags & DUMP_DER != 0 {
            der = s.der();
            &der
        } else {
            &s.data
        };
        for &b in bytes {
            push_hex_upper(&mut out, b);
        }
        return Some(out);
    }
    let mut convert = false;
    if lflags & UTF8_CONVERT != 0 {
        if width == 0 {
            width = 1;
        } else {
            convert = true;
        }
    }
    let (body, quotes) = do_buf(&s.data, width, convert, flags)?;
    if quotes {
        let mut out = Vec::with_capacity(body.len() + 2);
        out.push(b'"');
        out.extend_from_slice(&body);
        out.push(b'"');
        Some(out)
    } else {
        Some(body)
    }
}

/// `ASN1_STRING_print`: non-printables (other than CR/LF) become `.`.
pub(super) fn asn1_string_print_dots(data: &[u8]) -> Vec<u8> {
    data.iter()
        .map(|&b| {
            if b > b'~' || (b < b' ' && b != b'\n' && b != b'\r') {
                b'.'
            } else {
                b
            }
        })
        .collect()
}

/// `x509_name_canon` runs `ASN1_STRING_to_UTF8` on every UTF8String, BMPString and
/// UniversalString value while decoding a Name; a value that cannot be converted
/// (invalid UTF-8, a surrogate, a code point above U+10FFFF) makes `d2i` fail.
pub(super) fn canon_check(tag: u32, data: &[u8]) -> Result<(), String> {
    let valid = |c: u32| c <= 0x10ffff && !(0xd800..=0xdfff).contains(&c);
    match tag {
        TAG_UTF8STRING => {
            let mut p = 0;
            while p < data.len() {
                let (c, n) = utf8_getc(data.get(p..).unwrap_or(&[]))
                    .ok_or("UTF8String attribute value is not valid UTF-8")?;
                if !valid(c) {
                    return Err("UTF8String attribute value holds an invalid code point".into());
                }
                p += n;
            }
        }
        TAG_BMPSTRING
            if data
                .chunks(2)
                .any(|c| c.len() == 2 && !valid((u32::from(c[0]) << 8) | u32::from(c[1]))) =>
        {
            return Err("BMPString attribute value holds a surrogate".into());
        }
        28 if data
            .chunks(4)
            .any(|c| c.len() == 4 && !valid(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))) =>
        {
            return Err("UniversalString attribute value holds an invalid code point".into());
        }
        _ => {}
    }
    Ok(())
}

/// A DN attribute value as OpenSSL's `ASN1_PRINTABLE` MSTRING decodes it.
pub(super) fn name_value_from_tlv(t: &Tlv<'_>, raw: &[u8]) -> Result<AsnString, String> {
    if t.class != CLASS_UNIVERSAL {
        return Err("attribute value is not a universal type".into());
    }
    // B_ASN1_PRINTABLE ∩ tag2bit: BIT STRING, UTF8String, SEQUENCE, Numeric,
    // Printable, T61, IA5, Universal, BMP and the "unknown" tags 7-9, 11, 13-15, 29.
    let allowed = matches!(
        t.tag,
        3 | 7 | 8 | 9 | 11 | 12 | 13 | 14 | 15 | 16 | 18 | 19 | 20 | 22 | 28 | 29 | 30
    );
    if !allowed {
        return Err(format!(
            "attribute value type (universal tag {}) is not accepted by OpenSSL",
            t.tag
        ));
    }
    if t.tag == TAG_SEQUENCE {
        if !t.constructed {
            return Err("primitive SEQUENCE".into());
        }
        return Ok(AsnString::new(t.tag, raw.to_vec()));
    }
    if t.constructed {
        return Err("constructed string attribute values are not supported".into());
    }
    match t.tag {
        TAG_BMPSTRING if !t.content.len().is_multiple_of(2) => {
            return Err("BMPString of odd length".into())
        }
        28 if !t.content.len().is_multiple_of(4) => {
            return Err("UniversalString length not a multiple of 4".into())
        }
        _ => {}
    }
    canon_check(t.tag, t.content)?;
    if t.tag == TAG_BIT_STRING {
        let (&pad, bits) = t.content.split_first().ok_or("empty BIT STRING")?;
        if pad > 7 {
            return Err("BIT STRING with more than 7 unused bits".into());
        }
        let mut data = bits.to_vec();
        if let Some(last) = data.last_mut() {
            *last &= 0xffu8 << pad;
        }
        return Ok(AsnString {
            tag: t.tag,
            data,
            unused_bits: pad,
        });
    }
    Ok(AsnString::new(t.tag, t.content.to_vec()))
}

/// The bytes a C string function (`%s`, `BIO_puts`, `strlen`) sees: up to
/// the first NUL.
pub(super) fn c_str(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |end| &b[..end])
}
