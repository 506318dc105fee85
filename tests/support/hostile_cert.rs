//! Hostile certificates for tests/hostile_cert.rs and the certificate
//! benchmark: just enough DER to splice parts into alice's certificate.

fn len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let b: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    let mut out = vec![0x80 | b.len() as u8];
    out.extend(b);
    out
}

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(len(content.len()));
    out.extend_from_slice(content);
    out
}

fn header(d: &[u8]) -> (usize, usize) {
    if d[1] < 0x80 {
        return (2, usize::from(d[1]));
    }
    let n = usize::from(d[1] & 0x7f);
    let l = d[2..2 + n].iter().fold(0, |a, &b| a << 8 | usize::from(b));
    (2 + n, l)
}

pub fn content(t: &[u8]) -> &[u8] {
    let (h, l) = header(t);
    &t[h..h + l]
}

pub fn split(mut d: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !d.is_empty() {
        let (h, l) = header(d);
        out.push(&d[..h + l]);
        d = &d[h + l..];
    }
    out
}

/// alice's certificate with `extra_rdn` appended to the subject and
/// `extensions` (each a whole Extension TLV) as its only extensions.
pub fn alice_with(extra_rdn: Option<Vec<u8>>, extensions: &[Vec<u8>]) -> Vec<u8> {
    let pem = include_str!("../apache-2.4.71/certs/alice.crt");
    let der = sslrequire::env::cert::Cert::from_pem_chain(pem).unwrap()[0]
        .der()
        .to_vec();
    let cert = split(content(&der));
    let tbs = split(content(cert[0]));
    let mut subject = content(tbs[5]).to_vec();
    if let Some(rdn) = extra_rdn {
        subject.extend(rdn);
    }
    let mut body: Vec<u8> = tbs[..5].concat();
    body.extend(tlv(0x30, &subject));
    body.extend_from_slice(tbs[6]);
    body.extend(tlv(0xa3, &tlv(0x30, &extensions.concat())));
    let mut whole = tlv(0x30, &body);
    whole.extend_from_slice(cert[1]);
    whole.extend_from_slice(cert[2]);
    tlv(0x30, &whole)
}

/// An Extension with OID content `oid` and a UTF8String value.
pub fn extension(oid: &[u8], value: &str) -> Vec<u8> {
    let mut e = tlv(0x06, oid);
    e.extend(tlv(0x04, &tlv(0x0c, value.as_bytes())));
    tlv(0x30, &e)
}

/// One RDN: `oid` = UTF8String `value`.
pub fn rdn(oid: &[u8], value: &str) -> Vec<u8> {
    let mut atv = tlv(0x06, oid);
    atv.extend(tlv(0x0c, value.as_bytes()));
    tlv(0x31, &tlv(0x30, &atv))
}

/// `1.2` followed by `n` arcs of 5: `n + 1` content bytes.
pub fn long_oid(n: usize) -> Vec<u8> {
    let mut c = vec![42];
    c.extend(std::iter::repeat_n(5, n));
    c
}

/// `1.2.<one arc of `digits` base-128 digits>`.
pub fn huge_arc_oid(digits: usize) -> Vec<u8> {
    let mut c = vec![42];
    c.extend(std::iter::repeat_n(0xff, digits - 1));
    c.push(0x7f);
    c
}
