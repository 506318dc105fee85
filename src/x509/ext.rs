//! Extensions as mod_ssl prints them: `X509V3_EXT_print` for the types
//! reproduced here, and 2.4's string fallback (`dump_extn_value`).

use super::der::{
    read_all, read_tlv, Tlv, CLASS_CONTEXT, CLASS_UNIVERSAL, TAG_BIT_STRING, TAG_BMPSTRING,
    TAG_BOOLEAN, TAG_IA5STRING, TAG_INTEGER, TAG_NULL, TAG_OCTET_STRING, TAG_SEQUENCE,
    TAG_UTF8STRING, TAG_VISIBLESTRING,
};
use super::general_name::{
    general_name_print, i2v_general_name, implicit_string, parse_general_name, parse_general_names,
    parse_general_names_value, ConfValue, GenName,
};
use super::int::parse_integer;
use super::name::{name_print_ex, Name, NAME_FMT_ONELINE};
use super::oid::{i2t_object, oid_to_dotted, parse_oid};
use super::string::{asn1_string_print_ex, c_str, push_hex_upper, AsnString, UTF8_CONVERT};

pub(super) enum ExtPrint {
    /// X509V3_EXT_print returned 1 with this output.
    Printed(Vec<u8>),
    /// OpenSSL has a method but it failed (undecodable value, nothing to print).
    Failed,
    /// OpenSSL has no method for this OID.
    Unknown,
    /// OpenSSL has a method that this module does not reproduce.
    Unsupported,
}

/// OIDs for which OpenSSL 3.0 has an X509V3_EXT_METHOD that is not reproduced here.
pub(super) const OPENSSL_EXTS_NOT_REPRODUCED: &[&str] = &[
    "2.5.29.16",               // privateKeyUsagePeriod
    "2.5.29.21",               // CRLReason
    "2.5.29.23",               // holdInstructionCode
    "2.5.29.24",               // invalidityDate
    "2.5.29.28",               // issuingDistributionPoint
    "2.5.29.29",               // certificateIssuer
    "2.5.29.30",               // nameConstraints
    "2.5.29.33",               // policyMappings
    "2.5.29.46",               // freshestCRL
    "1.3.101.1.4.1",           // Strong Extranet ID
    "1.3.6.1.5.5.7.1.7",       // sbgp-ipAddrBlock (RFC 3779)
    "1.3.6.1.5.5.7.1.8",       // sbgp-autonomousSysNum (RFC 3779)
    "1.3.6.1.5.5.7.1.14",      // proxyCertInfo
    "1.3.6.1.5.5.7.48.1.2",    // OCSP nonce
    "1.3.6.1.5.5.7.48.1.3",    // OCSP CRL ID
    "1.3.6.1.5.5.7.48.1.4",    // acceptable OCSP responses
    "1.3.6.1.5.5.7.48.1.6",    // OCSP archive cutoff
    "1.3.6.1.5.5.7.48.1.7",    // OCSP service locator
    "1.3.6.1.4.1.11129.2.4.2", // CT precertificate SCTs
    "1.3.6.1.4.1.11129.2.4.3", // CT precertificate poison
    "1.3.6.1.4.1.11129.2.4.5", // CT certificate SCTs
    "1.2.643.100.112",         // issuerSignTool
    "1.3.36.8.3.3",            // professionInfo/admission
];

pub(super) const KEY_USAGE_NAMES: [&str; 9] = [
    "Digital Signature",
    "Non Repudiation",
    "Key Encipherment",
    "Data Encipherment",
    "Key Agreement",
    "Certificate Sign",
    "CRL Sign",
    "Encipher Only",
    "Decipher Only",
];

pub(super) const NS_CERT_TYPE_NAMES: [&str; 8] = [
    "SSL Client",
    "SSL Server",
    "S/MIME",
    "Object Signing",
    "Unused",
    "SSL CA",
    "S/MIME CA",
    "Object Signing CA",
];

pub(super) const CRL_REASON_NAMES: [&str; 9] = [
    "Unused",
    "Key Compromise",
    "CA Compromise",
    "Affiliation Changed",
    "Superseded",
    "Cessation Of Operation",
    "Certificate Hold",
    "Privilege Withdrawn",
    "AA Compromise",
];

/// `X509V3_EXT_val_prn(out, val, 0, ml)`
pub(super) fn val_prn(vals: &[ConfValue], ml: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if vals.is_empty() {
        out.extend_from_slice(b"<EMPTY>\n");
        return out;
    }
    for (i, (name, value)) in vals.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(if ml { b"\n" } else { b", " });
        }
        // BIO_puts / "%s:%s" stop at a NUL
        let cstr = |v: &Vec<u8>| c_str(v).to_vec();
        match (name, value) {
            (None, Some(v)) => out.extend_from_slice(&cstr(v)),
            (Some(n), None) => out.extend_from_slice(&cstr(n)),
            (Some(n), Some(v)) => {
                out.extend_from_slice(&cstr(n));
                out.push(b':');
                out.extend_from_slice(&cstr(v));
            }
            (None, None) => {}
        }
    }
    out
}

/// Decoded BIT STRING: (unused-bits-masked data).
pub(super) fn parse_bit_string(t: &Tlv<'_>) -> Result<Vec<u8>, String> {
    if t.constructed {
        return Err("constructed BIT STRING".into());
    }
    let (&pad, bits) = t.content.split_first().ok_or("empty BIT STRING")?;
    if pad > 7 {
        return Err("BIT STRING with more than 7 unused bits".into());
    }
    let mut data = bits.to_vec();
    if let Some(last) = data.last_mut() {
        *last &= 0xffu8 << pad;
    }
    Ok(data)
}

pub(super) fn get_bit(data: &[u8], n: usize) -> bool {
    data.get(n / 8)
        .is_some_and(|b| b & (1u8 << (7 - (n % 8))) != 0)
}

/// `OPENSSL_buf2hexstr` (`AB:CD:…`)
pub(super) fn hex_colon(d: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &b) in d.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        push_hex_upper(&mut out, b);
    }
    out
}

/// First TLV of an extension value (trailing bytes ignored like `ASN1_item_d2i`).
pub(super) fn ext_first_tlv(v: &[u8]) -> Result<Tlv<'_>, ()> {
    read_tlv(v).map(|(t, _)| t).map_err(|_| ())
}

pub(super) fn expect_seq<'a>(t: &Tlv<'a>) -> Result<Vec<Tlv<'a>>, ()> {
    if !t.is(CLASS_UNIVERSAL, true, TAG_SEQUENCE) {
        return Err(());
    }
    read_all(t.content).map_err(|_| ())
}

/// The items of a SEQUENCE, read in order.
type Items<'i, 'a> = std::iter::Peekable<std::slice::Iter<'i, Tlv<'a>>>;

/// An optional field of a SEQUENCE: the next item, read by `read`, when
/// `is` holds for it; `None` (and nothing consumed) when the next item is
/// another field or there is none.
fn optional<'a, T>(
    it: &mut Items<'_, 'a>,
    is: impl Fn(&Tlv<'a>) -> bool,
    read: impl FnOnce(&Tlv<'a>) -> Result<T, ()>,
) -> Result<Option<T>, ()> {
    match it.peek() {
        Some(t) if is(t) => {
            let value = read(t)?;
            it.next();
            Ok(Some(value))
        }
        _ => Ok(None),
    }
}

/// A `[n] IMPLICIT GeneralNames` field's value.
fn implicit_general_names(t: &Tlv<'_>) -> Result<Vec<GenName>, ()> {
    if !t.constructed {
        return Err(());
    }
    parse_general_names(t.content).map_err(|_| ())
}

pub(super) fn print_basic_constraints(v: &[u8]) -> Result<Vec<u8>, ()> {
    let items = expect_seq(&ext_first_tlv(v)?)?;
    let mut it = items.iter().peekable();
    let ca = optional(
        &mut it,
        |t| t.is_universal(TAG_BOOLEAN),
        |t| match t.content {
            [b] if !t.constructed => Ok(*b != 0),
            _ => Err(()),
        },
    )?
    .unwrap_or(false);
    let pathlen = optional(
        &mut it,
        |t| t.is_universal(TAG_INTEGER),
        |t| parse_integer(t).map_err(|_| ()),
    )?;
    if it.next().is_some() {
        return Err(());
    }
    let mut vals: Vec<ConfValue> = vec![(
        Some(b"CA".to_vec()),
        Some(if ca {
            b"TRUE".to_vec()
        } else {
            b"FALSE".to_vec()
        }),
    )];
    if let Some(p) = pathlen {
        vals.push((Some(b"pathlen".to_vec()), Some(p.to_i2s().into_bytes())));
    }
    Ok(val_prn(&vals, false))
}

pub(super) fn print_bit_names(v: &[u8], names: &[&str]) -> Result<Vec<u8>, ()> {
    let t = ext_first_tlv(v)?;
    if !t.is_universal(TAG_BIT_STRING) {
        return Err(());
    }
    let data = parse_bit_string(&t).map_err(|_| ())?;
    let vals: Vec<ConfValue> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| get_bit(&data, *i))
        .map(|(_, n)| (Some(n.as_bytes().to_vec()), None))
        .collect();
    if vals.is_empty() {
        // i2v returned NULL
        return Err(());
    }
    Ok(val_prn(&vals, false))
}

pub(super) fn print_ext_key_usage(v: &[u8]) -> Result<Vec<u8>, ()> {
    let items = expect_seq(&ext_first_tlv(v)?)?;
    let mut vals: Vec<ConfValue> = Vec::new();
    for t in &items {
        let oid = parse_oid(t).map_err(|_| ())?;
        vals.push((None, Some(i2t_object(&oid, Some(80)).into_bytes())));
    }
    if vals.is_empty() {
        return Err(());
    }
    Ok(val_prn(&vals, false))
}

pub(super) fn print_general_names_ext(v: &[u8]) -> Result<Vec<u8>, ()> {
    let names = parse_general_names_value(v).map_err(|_| ())?;
    let mut vals = Vec::new();
    for gn in &names {
        i2v_general_name(gn, &mut vals)?;
    }
    Ok(val_prn(&vals, false))
}

pub(super) fn print_octet_string_hex(v: &[u8]) -> Result<Vec<u8>, ()> {
    let t = ext_first_tlv(v)?;
    if !t.is(CLASS_UNIVERSAL, false, TAG_OCTET_STRING) {
        return Err(());
    }
    Ok(hex_colon(t.content))
}

pub(super) fn print_authority_key_id(v: &[u8]) -> Result<Vec<u8>, ()> {
    let items = expect_seq(&ext_first_tlv(v)?)?;
    let mut it = items.iter().peekable();
    let keyid = optional(
        &mut it,
        |t| t.is_context(0),
        |t| implicit_string(t).map_err(|_| ()),
    )?;
    let issuer = optional(&mut it, |t| t.is_context(1), implicit_general_names)?;
    let serial = optional(
        &mut it,
        |t| t.is_context(2),
        |t| parse_integer(t).map_err(|_| ()),
    )?;
    if it.next().is_some() {
        return Err(());
    }
    let mut vals: Vec<ConfValue> = Vec::new();
    if let Some(k) = keyid {
        let name = (issuer.is_some() || serial.is_some()).then(|| b"keyid".to_vec());
        vals.push((name, Some(hex_colon(&k))));
    }
    if let Some(gens) = &issuer {
        for gn in gens {
            i2v_general_name(gn, &mut vals)?;
        }
    }
    if let Some(s) = serial {
        vals.push((Some(b"serial".to_vec()), Some(hex_colon(&s.mag))));
    }
    if vals.is_empty() {
        return Err(());
    }
    Ok(val_prn(&vals, true))
}

/// `i2s_ASN1_IA5STRING` / `i2s_ASN1_UTF8STRING`: the string itself (up to a NUL);
/// an empty string is a failure.
pub(super) fn print_string_i2s(v: &[u8], tag: u32) -> Result<Vec<u8>, ()> {
    let t = ext_first_tlv(v)?;
    if !t.is(CLASS_UNIVERSAL, false, tag) || t.content.is_empty() {
        return Err(());
    }
    Ok(c_str(t.content).to_vec())
}

pub(super) fn print_integer_i2s(v: &[u8]) -> Result<Vec<u8>, ()> {
    let t = ext_first_tlv(v)?;
    if !t.is_universal(TAG_INTEGER) {
        return Err(());
    }
    Ok(parse_integer(&t).map_err(|_| ())?.to_i2s().into_bytes())
}

pub(super) fn print_info_access(v: &[u8]) -> Result<Vec<u8>, ()> {
    let items = expect_seq(&ext_first_tlv(v)?)?;
    let mut vals: Vec<ConfValue> = Vec::new();
    for ad in &items {
        let parts = expect_seq(ad)?;
        let [method, location] = parts.as_slice() else {
            return Err(());
        };
        let method = parse_oid(method).map_err(|_| ())?;
        let gn = parse_general_name(location).map_err(|_| ())?;
        let mut one = Vec::new();
        i2v_general_name(&gn, &mut one)?;
        for (name, value) in one {
            let mut n = i2t_object(&method, Some(80)).into_bytes();
            n.extend_from_slice(b" - ");
            n.extend_from_slice(&name.unwrap_or_default());
            vals.push((Some(n), value));
        }
    }
    Ok(val_prn(&vals, true))
}

pub(super) fn print_policy_constraints(v: &[u8]) -> Result<Vec<u8>, ()> {
    let items = expect_seq(&ext_first_tlv(v)?)?;
    let mut it = items.iter().peekable();
    let mut vals: Vec<ConfValue> = Vec::new();
    for (tag, label) in [
        (0u32, "Require Explicit Policy"),
        (1, "Inhibit Policy Mapping"),
    ] {
        if let Some(t) = it.peek() {
            if t.is_context(tag) {
                let n = parse_integer(t).map_err(|_| ())?;
                vals.push((
                    Some(label.as_bytes().to_vec()),
                    Some(n.to_i2s().into_bytes()),
                ));
                it.next();
            }
        }
    }
    if it.next().is_some() || vals.is_empty() {
        return Err(());
    }
    Ok(val_prn(&vals, false))
}

pub(super) fn print_tls_feature(v: &[u8]) -> Result<Vec<u8>, ()> {
    let items = expect_seq(&ext_first_tlv(v)?)?;
    let mut vals: Vec<ConfValue> = Vec::new();
    for t in &items {
        if !t.is_universal(TAG_INTEGER) {
            return Err(());
        }
        let n = parse_integer(t).map_err(|_| ())?;
        let name = match n.to_long() {
            Some(5) => Some("status_request".to_string()),
            Some(17) => Some("status_request_v2".to_string()),
            _ => None,
        };
        vals.push((None, Some(name.unwrap_or_else(|| n.to_i2s()).into_bytes())));
    }
    if vals.is_empty() {
        return Err(());
    }
    Ok(val_prn(&vals, false))
}

pub(super) fn print_ocsp_nocheck(v: &[u8]) -> Result<Vec<u8>, ()> {
    let t = ext_first_tlv(v)?;
    if !t.is(CLASS_UNIVERSAL, false, TAG_NULL) || !t.content.is_empty() {
        return Err(());
    }
    Ok(Vec::new())
}

/// `i2r_crldp`
pub(super) fn print_crl_distribution_points(v: &[u8]) -> Result<Vec<u8>, ()> {
    let points = expect_seq(&ext_first_tlv(v)?)?;
    let mut out = Vec::new();
    for (i, point) in points.iter().enumerate() {
        let parts = expect_seq(point)?;
        let mut it = parts.iter().peekable();
        // DistributionPointName: fullName [0] GeneralNames, or
        // nameRelativeToCRLIssuer [1] RelativeDistinguishedName.
        let dpname: Option<Result<Vec<GenName>, Name>> = optional(
            &mut it,
            |t| t.is(CLASS_CONTEXT, true, 0),
            |t| {
                let (inner, rest) = read_tlv(t.content).map_err(|_| ())?;
                if !rest.is_empty() {
                    return Err(());
                }
                if inner.is(CLASS_CONTEXT, true, 0) {
                    Ok(Ok(parse_general_names(inner.content).map_err(|_| ())?))
                } else if inner.is(CLASS_CONTEXT, true, 1) {
                    let mut entries = Vec::new();
                    Name::push_set(&mut entries, inner.content, 0).map_err(|_| ())?;
                    Ok(Err(Name { entries }))
                } else {
                    Err(())
                }
            },
        )?;
        let reasons = optional(
            &mut it,
            |t| t.is_context(1),
            |t| parse_bit_string(t).map_err(|_| ()),
        )?;
        let crl_issuer = optional(&mut it, |t| t.is_context(2), implicit_general_names)?;
        if it.next().is_some() {
            return Err(());
        }
        if i > 0 {
            out.push(b'\n');
        }
        let print_gens = |out: &mut Vec<u8>, gens: &[GenName]| {
            for (j, gn) in gens.iter().enumerate() {
                if j > 0 {
                    out.push(b'\n');
                }
                out.extend_from_slice(b"  ");
                out.extend_from_slice(&general_name_print(gn));
            }
        };
        match &dpname {
            Some(Ok(gens)) => {
                out.extend_from_slice(b"Full Name:\n");
                print_gens(&mut out, gens);
            }
            Some(Err(rel)) => {
                out.extend_from_slice(b"Relative Name:\n  ");
                out.extend_from_slice(&name_print_ex(rel, &NAME_FMT_ONELINE));
                out.push(b'\n');
            }
            None => {}
        }
        if let Some(r) = &reasons {
            out.extend_from_slice(b"Reasons:\n  ");
            let set: Vec<&str> = CRL_REASON_NAMES
                .iter()
                .enumerate()
                .filter(|(k, _)| get_bit(r, *k))
                .map(|(_, n)| *n)
                .collect();
            if set.is_empty() {
                out.extend_from_slice(b"<EMPTY>\n");
            } else {
                out.extend_from_slice(set.join(", ").as_bytes());
                out.push(b'\n');
            }
        }
        if let Some(gens) = &crl_issuer {
            out.extend_from_slice(b"CRL Issuer:\n");
            print_gens(&mut out, gens);
        }
    }
    Ok(out)
}

/// DisplayText (`%.*s` of the raw string data: stops at a NUL).
pub(super) fn display_text_raw(t: &Tlv<'_>) -> Result<Vec<u8>, ()> {
    if t.class != CLASS_UNIVERSAL
        || t.constructed
        || !matches!(
            t.tag,
            TAG_UTF8STRING | TAG_IA5STRING | TAG_VISIBLESTRING | TAG_BMPSTRING
        )
    {
        return Err(());
    }
    if t.tag == TAG_BMPSTRING && !t.content.len().is_multiple_of(2) {
        return Err(());
    }
    Ok(c_str(t.content).to_vec())
}

/// `i2r_certpol` (OpenSSL 3.0).
pub(super) fn print_certificate_policies(v: &[u8]) -> Result<Vec<u8>, ()> {
    const ID_QT_CPS: &str = "1.3.6.1.5.5.7.2.1";
    const ID_QT_UNOTICE: &str = "1.3.6.1.5.5.7.2.2";
    let policies = expect_seq(&ext_first_tlv(v)?)?;
    let mut out = Vec::new();
    for (i, pinfo) in policies.iter().enumerate() {
        let parts = expect_seq(pinfo)?;
        let (pid, quals) = match parts.as_slice() {
            [pid] => (pid, None),
            [pid, q] => (pid, Some(expect_seq(q)?)),
            _ => return Err(()),
        };
        let pid = parse_oid(pid).map_err(|_| ())?;
        // decode every qualifier before printing anything
        let mut printed_quals: Vec<Vec<u8>> = Vec::new();
        for q in quals.iter().flatten() {
            let qparts = expect_seq(q)?;
            let [qid, qval] = qparts.as_slice() else {
                return Err(());
            };
            let qid = parse_oid(qid).map_err(|_| ())?;
            let qid_txt = oid_to_dotted(&qid);
            let mut p = Vec::new();
            if qid_txt == ID_QT_CPS {
                if !qval.is(CLASS_UNIVERSAL, false, TAG_IA5STRING) {
                    return Err(());
                }
                p.extend_from_slice(b"  CPS: ");
                p.extend_from_slice(c_str(qval.content));
            } else if qid_txt == ID_QT_UNOTICE {
                let un = expect_seq(qval)?;
                let mut it = un.iter().peekable();
                let mut noticeref = None;
                if let Some(t) = it.peek() {
                    if t.is(CLASS_UNIVERSAL, true, TAG_SEQUENCE) {
                        let nr = expect_seq(t)?;
                        let [org, nums] = nr.as_slice() else {
                            return Err(());
                        };
                        let org = display_text_raw(org)?;
                        let mut numbers = Vec::new();
                        for n in expect_seq(nums)? {
                            if !n.is_universal(TAG_INTEGER) {
                                return Err(());
                            }
                            numbers.push(parse_integer(&n).map_err(|_| ())?.to_i2s());
                        }
                        noticeref = Some((org, numbers));
                        it.next();
                    }
                }
                let mut exptext = None;
                if let Some(t) = it.peek() {
                    exptext = Some(display_text_raw(t)?);
                    it.next();
                }
                if it.next().is_some() {
                    return Err(());
                }
                p.extend_from_slice(b"  User Notice:\n");
                if let Some((org, numbers)) = &noticeref {
                    p.extend_from_slice(b"    Organization: ");
                    p.extend_from_slice(org);
                    p.extend_from_slice(b"\n    Number");
                    if numbers.len() > 1 {
                        p.push(b's');
                    }
                    p.extend_from_slice(b": ");
                    p.extend_from_slice(numbers.join(", ").as_bytes());
                    if exptext.is_some() {
                        p.push(b'\n');
                    }
                }
                if let Some(text) = &exptext {
                    p.extend_from_slice(b"    Explicit Text: ");
                    p.extend_from_slice(text);
                }
            } else {
                p.extend_from_slice(b"    Unknown Qualifier: ");
                p.extend_from_slice(i2t_object(&qid, None).as_bytes());
            }
            printed_quals.push(p);
        }
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(b"Policy: ");
        out.extend_from_slice(i2t_object(&pid, None).as_bytes());
        if quals.is_some() {
            out.push(b'\n');
            out.extend_from_slice(&printed_quals.join(&b'\n'));
        }
    }
    Ok(out)
}

/// `X509V3_EXT_print(bio, ext, 0, 0)` for the types reproduced here.
pub(super) fn x509v3_ext_print(oid_txt: &str, v: &[u8]) -> ExtPrint {
    let result = match oid_txt {
        "2.5.29.19" => print_basic_constraints(v),
        "2.5.29.15" => print_bit_names(v, &KEY_USAGE_NAMES),
        "2.16.840.1.113730.1.1" => print_bit_names(v, &NS_CERT_TYPE_NAMES),
        "2.5.29.37" => print_ext_key_usage(v),
        "2.5.29.17" | "2.5.29.18" => print_general_names_ext(v),
        "2.5.29.14" => print_octet_string_hex(v),
        "2.5.29.35" => print_authority_key_id(v),
        "2.16.840.1.113730.1.2"
        | "2.16.840.1.113730.1.3"
        | "2.16.840.1.113730.1.4"
        | "2.16.840.1.113730.1.7"
        | "2.16.840.1.113730.1.8"
        | "2.16.840.1.113730.1.12"
        | "2.16.840.1.113730.1.13" => print_string_i2s(v, TAG_IA5STRING),
        "1.2.643.100.111" => print_string_i2s(v, TAG_UTF8STRING), // subjectSignTool
        "2.5.29.20" | "2.5.29.27" | "2.5.29.54" => print_integer_i2s(v),
        "1.3.6.1.5.5.7.1.1" | "1.3.6.1.5.5.7.1.11" => print_info_access(v),
        "2.5.29.36" => print_policy_constraints(v),
        "1.3.6.1.5.5.7.1.24" => print_tls_feature(v),
        "1.3.6.1.5.5.7.48.1.5" => print_ocsp_nocheck(v),
        "2.5.29.31" => print_crl_distribution_points(v),
        "2.5.29.32" => print_certificate_policies(v),
        _ => {
            return if OPENSSL_EXTS_NOT_REPRODUCED.contains(&oid_txt) {
                ExtPrint::Unsupported
            } else {
                ExtPrint::Unknown
            }
        }
    };
    match result {
        Ok(v) => ExtPrint::Printed(v),
        Err(()) => ExtPrint::Failed,
    }
}

/// mod_ssl `dump_extn_value`: `d2i_DISPLAYTEXT` (UTF8String, IA5String,
/// VisibleString, BMPString; trailing bytes ignored) printed with
/// `ASN1_STRFLGS_UTF8_CONVERT` only (no escaping).
pub(super) fn dump_extn_value(v: &[u8]) -> Option<Vec<u8>> {
    let (t, _) = read_tlv(v).ok()?;
    if t.class != CLASS_UNIVERSAL || t.constructed {
        return None;
    }
    if !matches!(
        t.tag,
        TAG_UTF8STRING | TAG_IA5STRING | TAG_VISIBLESTRING | TAG_BMPSTRING
    ) {
        return None;
    }
    if t.tag == TAG_BMPSTRING && !t.content.len().is_multiple_of(2) {
        return None;
    }
    let s = AsnString::new(t.tag, t.content.to_vec());
    // A print failure writes nothing, but mod_ssl still keeps the (empty) value.
    Some(asn1_string_print_ex(&s, UTF8_CONVERT).unwrap_or_default())
}
