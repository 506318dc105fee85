//! A few DER building blocks: names rcgen cannot express (repeated and
//! multi-valued RDNs, BMP/T61/Universal strings), hand-made SAN and
//! private-extension values, and re-signing a certificate whose subject
//! was replaced.

/// A DER length.
fn len_bytes(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let bytes: Vec<u8> = n
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|&b| b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

/// One TLV.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(len_bytes(content.len()));
    out.extend_from_slice(content);
    out
}

/// An OBJECT IDENTIFIER TLV.
pub fn oid(arcs: &[u64]) -> Vec<u8> {
    tlv(0x06, &oid_content(arcs))
}

fn oid_content(arcs: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        out.extend(tmp);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    out
}

/// Splits a concatenation of TLVs into whole TLVs.
pub fn split(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (hdr, len) = header(data);
        out.push(&data[..hdr + len]);
        data = &data[hdr + len..];
    }
    out
}

/// (header length, content length) of the TLV at the start of `data`.
fn header(data: &[u8]) -> (usize, usize) {
    let first = data[1] as usize;
    if first < 0x80 {
        (2, first)
    } else {
        let n = first & 0x7f;
        let len = data[2..2 + n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (2 + n, len)
    }
}

/// The content of a TLV.
pub fn content(tlv: &[u8]) -> &[u8] {
    let (hdr, len) = header(tlv);
    &tlv[hdr..hdr + len]
}

/// An ASN.1 string of a given type.
#[derive(Clone)]
pub enum Str {
    Utf8(&'static str),
    Printable(&'static str),
    Ia5(&'static str),
    Visible(&'static str),
    /// UCS-2 big-endian.
    Bmp(&'static str),
    /// UCS-4 big-endian.
    Universal(&'static str),
    /// T61String: the bytes as given (OpenSSL reads them as Latin-1).
    T61(&'static [u8]),
}

impl Str {
    pub fn der(&self) -> Vec<u8> {
        match self {
            Str::Utf8(s) => tlv(0x0c, s.as_bytes()),
            Str::Printable(s) => tlv(0x13, s.as_bytes()),
            Str::Ia5(s) => tlv(0x16, s.as_bytes()),
            Str::Visible(s) => tlv(0x1a, s.as_bytes()),
            Str::Bmp(s) => tlv(
                0x1e,
                &s.encode_utf16()
                    .flat_map(u16::to_be_bytes)
                    .collect::<Vec<u8>>(),
            ),
            Str::Universal(s) => tlv(
                0x1c,
                &s.chars()
                    .flat_map(|c| (c as u32).to_be_bytes())
                    .collect::<Vec<u8>>(),
            ),
            Str::T61(b) => tlv(0x14, b),
        }
    }
}

/// Attribute type OIDs.
pub mod at {
    pub const C: &[u64] = &[2, 5, 4, 6];
    pub const ST: &[u64] = &[2, 5, 4, 8];
    pub const L: &[u64] = &[2, 5, 4, 7];
    pub const O: &[u64] = &[2, 5, 4, 10];
    pub const OU: &[u64] = &[2, 5, 4, 11];
    pub const CN: &[u64] = &[2, 5, 4, 3];
    pub const T: &[u64] = &[2, 5, 4, 12];
    pub const I: &[u64] = &[2, 5, 4, 43];
    pub const G: &[u64] = &[2, 5, 4, 42];
    pub const S: &[u64] = &[2, 5, 4, 4];
    pub const D: &[u64] = &[2, 5, 4, 13];
    pub const SERIAL: &[u64] = &[2, 5, 4, 5];
    pub const PSEUDONYM: &[u64] = &[2, 5, 4, 65];
    pub const UID: &[u64] = &[0, 9, 2342, 19200300, 100, 1, 1];
    pub const DC: &[u64] = &[0, 9, 2342, 19200300, 100, 1, 25];
    pub const EMAIL: &[u64] = &[1, 2, 840, 113549, 1, 9, 1];
}

/// One attribute of an RDN.
pub type Attr = (&'static [u64], Str);

/// A Name from its RDNs in certificate order; the attributes of a
/// multi-valued RDN are sorted as DER's SET OF requires.
pub fn name(rdns: &[Vec<Attr>]) -> Vec<u8> {
    let mut seq = Vec::new();
    for rdn in rdns {
        let mut attrs: Vec<Vec<u8>> = rdn
            .iter()
            .map(|(t, v)| {
                let mut a = oid(t);
                a.extend(v.der());
                tlv(0x30, &a)
            })
            .collect();
        attrs.sort();
        seq.extend(tlv(0x31, &attrs.concat()));
    }
    tlv(0x30, &seq)
}

/// A single-valued RDN.
pub fn rdn(t: &'static [u64], v: Str) -> Vec<Attr> {
    vec![(t, v)]
}

/// GeneralName choices for a hand-made subjectAltName.
pub enum Gn {
    Email(&'static str),
    Dns(&'static str),
    Uri(&'static str),
    Ip(Vec<u8>),
    RegisteredId(&'static [u64]),
    Dir(Vec<u8>),
    /// otherName: type id and the (explicitly tagged) value.
    Other(&'static [u64], Str),
}

pub const MS_UPN: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3];
pub const SRV_NAME: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 8, 7];

/// The DER of GeneralNames (the extension value of subjectAltName).
pub fn general_names(names: &[Gn]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names {
        out.extend(match n {
            Gn::Email(s) => tlv(0x81, s.as_bytes()),
            Gn::Dns(s) => tlv(0x82, s.as_bytes()),
            Gn::Uri(s) => tlv(0x86, s.as_bytes()),
            Gn::Ip(b) => tlv(0x87, b),
            Gn::RegisteredId(arcs) => tlv(0x88, &oid_content(arcs)),
            Gn::Dir(name) => tlv(0xa4, name),
            Gn::Other(t, v) => {
                let mut c = oid(t);
                c.extend(tlv(0xa0, &v.der()));
                tlv(0xa0, &c)
            }
        });
    }
    tlv(0x30, &out)
}

/// Re-signs `cert` (DER) after replacing its subject (and issuer, for a
/// self-signed certificate) with the given Name DER.
pub fn resign(
    cert: &[u8],
    subject: &[u8],
    issuer: Option<&[u8]>,
    key: &impl rcgen::SigningKey,
) -> Vec<u8> {
    let outer = split(content(cert));
    let (tbs, alg) = (outer[0], outer[1]);
    let mut fields: Vec<Vec<u8>> = split(content(tbs)).iter().map(|f| f.to_vec()).collect();
    // version [0], serial, signature, issuer, validity, subject, spki, [3] exts
    assert_eq!(fields[0][0], 0xa0, "a v3 certificate");
    fields[5] = subject.to_vec();
    if let Some(issuer) = issuer {
        fields[3] = issuer.to_vec();
    }
    let tbs = tlv(0x30, &fields.concat());
    let sig = key.sign(&tbs).expect("sign");
    let mut bits = vec![0u8];
    bits.extend(sig);
    let mut body = tbs;
    body.extend_from_slice(alg);
    body.extend(tlv(0x03, &bits));
    tlv(0x30, &body)
}

/// PEM text of DER certificates.
pub fn pem(ders: &[&[u8]]) -> String {
    pem_block("CERTIFICATE", ders)
}

/// PEM blocks with a label.
pub fn pem_block(label: &str, ders: &[&[u8]]) -> String {
    use base64::Engine as _;
    let mut out = String::new();
    for der in ders {
        out.push_str(&format!("-----BEGIN {label}-----\n"));
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).expect("ascii"));
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----\n"));
    }
    out
}
