//! GeneralNames: parsing, mod_ssl's SAN variables (`modssl_X509_getSAN`),
//! and OpenSSL's two printers (`i2v_GENERAL_NAME` for extension values,
//! `GENERAL_NAME_print`).

use super::der::{
    read_all, read_tlv, Tlv, CLASS_CONTEXT, CLASS_UNIVERSAL, TAG_IA5STRING, TAG_SEQUENCE,
    TAG_UTF8STRING,
};
use super::name::{name_oneline, name_print_ex, Name, NAME_FMT_ONELINE};
use super::oid::{check_oid, i2t_object, obj_lookup, oid_to_dotted, parse_oid};
use super::select::SanKind;
use super::string::{
    asn1_string_print_dots, asn1_string_print_ex, c_str, AsnString, ESC_CTRL, UTF8_CONVERT,
};

/// subjectAltName (2.5.29.17), content octets.
pub(super) const OID_SAN_DER: &[u8] = &[0x55, 0x1d, 0x11];
pub(super) const OID_MS_UPN: &str = "1.3.6.1.4.1.311.20.2.3";
pub(super) const OID_DNS_SRV: &str = "1.3.6.1.5.5.7.8.7";
pub(super) const OID_SMTP_UTF8_MAILBOX: &str = "1.3.6.1.5.5.7.8.9";
pub(super) const OID_XMPP_ADDR: &str = "1.3.6.1.5.5.7.8.5";
pub(super) const OID_NAI_REALM: &str = "1.3.6.1.5.5.7.8.8";

/// An otherName value (`ASN1_TYPE`).
#[derive(Debug, Clone)]
pub(super) struct AnyValue {
    /// Universal tag, or None for a non-universal value.
    pub(super) universal_tag: Option<u32>,
    pub(super) constructed: bool,
    pub(super) content: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(super) enum GenName {
    Other { type_id: String, value: AnyValue },
    Email(Vec<u8>),
    Dns(Vec<u8>),
    Uri(Vec<u8>),
    X400,
    EdiParty,
    Dir(Name),
    Ip(Vec<u8>),
    Rid(Vec<u8>),
}

pub(super) fn implicit_string(t: &Tlv<'_>) -> Result<Vec<u8>, String> {
    if t.constructed {
        return Err("constructed string encoding is not supported".into());
    }
    Ok(t.content.to_vec())
}

/// DirectoryString as used by EDIPartyName (DIRECTORYSTRING MSTRING).
pub(super) fn check_directory_string(t: &Tlv<'_>) -> Result<(), String> {
    if t.class == CLASS_UNIVERSAL && !t.constructed && matches!(t.tag, 12 | 19 | 20 | 28 | 30) {
        Ok(())
    } else {
        Err("bad DirectoryString".into())
    }
}

pub(super) fn parse_general_name(t: &Tlv<'_>) -> Result<GenName, String> {
    if t.class != CLASS_CONTEXT {
        return Err("GeneralName is not context-tagged".into());
    }
    match t.tag {
        0 => {
            if !t.constructed {
                return Err("primitive otherName".into());
            }
            let (oid_tlv, rest) = read_tlv(t.content)?;
            let oid = parse_oid(&oid_tlv)?;
            let (explicit, rest) = read_tlv(rest)?;
            if !rest.is_empty() || !explicit.is(CLASS_CONTEXT, true, 0) {
                return Err("bad otherName value".into());
            }
            let (inner, rest) = read_tlv(explicit.content)?;
            if !rest.is_empty() {
                return Err("otherName explicit length mismatch".into());
            }
            Ok(GenName::Other {
                type_id: oid_to_dotted(&oid),
                value: AnyValue {
                    universal_tag: (inner.class == CLASS_UNIVERSAL).then_some(inner.tag),
                    constructed: inner.constructed,
                    content: inner.content.to_vec(),
                },
            })
        }
        1 => Ok(GenName::Email(implicit_string(t)?)),
        2 => Ok(GenName::Dns(implicit_string(t)?)),
        3 => {
            if !t.constructed {
                return Err("primitive x400Address".into());
            }
            Ok(GenName::X400)
        }
        4 => {
            if !t.constructed {
                return Err("primitive directoryName".into());
            }
            let (inner, rest) = read_tlv(t.content)?;
            if !rest.is_empty() || !inner.is(CLASS_UNIVERSAL, true, TAG_SEQUENCE) {
                return Err("bad directoryName".into());
            }
            Ok(GenName::Dir(Name::from_rdn_sequence(inner.content)?))
        }
        5 => {
            if !t.constructed {
                return Err("primitive ediPartyName".into());
            }
            let items = read_all(t.content)?;
            let mut it = items.iter().peekable();
            if let Some(first) = it.peek() {
                if first.is(CLASS_CONTEXT, true, 0) {
                    let (ds, r) = read_tlv(first.content)?;
                    if !r.is_empty() {
                        return Err("bad nameAssigner".into());
                    }
                    check_directory_string(&ds)?;
                    it.next();
                }
            }
            let party = it.next().ok_or("ediPartyName without partyName")?;
            if !party.is(CLASS_CONTEXT, true, 1) {
                return Err("bad partyName".into());
            }
            let (ds, r) = read_tlv(party.content)?;
            if !r.is_empty() {
                return Err("bad partyName".into());
            }
            check_directory_string(&ds)?;
            if it.next().is_some() {
                return Err("ediPartyName has extra elements".into());
            }
            Ok(GenName::EdiParty)
        }
        6 => Ok(GenName::Uri(implicit_string(t)?)),
        7 => Ok(GenName::Ip(implicit_string(t)?)),
        8 => {
            if t.constructed {
                return Err("constructed registeredID".into());
            }
            check_oid(t.content)?;
            Ok(GenName::Rid(t.content.to_vec()))
        }
        _ => Err(format!("unknown GeneralName tag [{}]", t.tag)),
    }
}

/// GeneralNames content (SEQUENCE OF GeneralName content octets).
pub(super) fn parse_general_names(content: &[u8]) -> Result<Vec<GenName>, String> {
    read_all(content)?.iter().map(parse_general_name).collect()
}

/// An extension value that is a GeneralNames SEQUENCE (trailing data ignored, as
/// `ASN1_item_d2i` does).
pub(super) fn parse_general_names_value(v: &[u8]) -> Result<Vec<GenName>, String> {
    let (seq, _) = read_tlv(v)?;
    if !seq.is(CLASS_UNIVERSAL, true, TAG_SEQUENCE) {
        return Err("GeneralNames is not a SEQUENCE".into());
    }
    parse_general_names(seq.content)
}

pub(super) fn san_kind_matches(gn: &GenName, kind: SanKind) -> bool {
    match (gn, kind) {
        (GenName::Email(_), SanKind::Email) => true,
        (GenName::Dns(_), SanKind::Dns) => true,
        (GenName::Other { type_id, .. }, SanKind::MsUpn) => type_id == OID_MS_UPN,
        (GenName::Other { type_id, .. }, SanKind::DnsSrv) => type_id == OID_DNS_SRV,
        _ => false,
    }
}

/// mod_ssl's value for one SAN entry (`asn1_string_to_utf8`; NULL when it prints
/// nothing or, for otherName, the string type is wrong).
pub(super) fn san_value(gn: &GenName, kind: SanKind) -> Option<Vec<u8>> {
    let s = match (gn, kind) {
        (GenName::Email(d), _) | (GenName::Dns(d), _) => AsnString::new(TAG_IA5STRING, d.clone()),
        (GenName::Other { value, .. }, SanKind::MsUpn)
            if value.universal_tag == Some(TAG_UTF8STRING) && !value.constructed =>
        {
            AsnString::new(TAG_UTF8STRING, value.content.clone())
        }
        (GenName::Other { value, .. }, SanKind::DnsSrv)
            if value.universal_tag == Some(TAG_IA5STRING) && !value.constructed =>
        {
            AsnString::new(TAG_IA5STRING, value.content.clone())
        }
        _ => return None,
    };
    let v = asn1_string_print_ex(&s, ESC_CTRL | UTF8_CONVERT)?;
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

/// One CONF_VALUE.
pub(super) type ConfValue = (Option<Vec<u8>>, Option<Vec<u8>>);

/// `x509v3_add_len_value`: rejects embedded NULs; the value stops at a final NUL.
pub(super) fn len_value(data: &[u8]) -> Result<Vec<u8>, ()> {
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let body = &data[..data.len() - 1];
    if body.contains(&0) {
        return Err(());
    }
    let mut v = data.to_vec();
    if v.last() == Some(&0) {
        v.pop();
    }
    Ok(v)
}

/// `ossl_ipaddr_to_asc`
pub(super) fn ipaddr_to_asc(p: &[u8]) -> String {
    match p.len() {
        4 => format!("{}.{}.{}.{}", p[0], p[1], p[2], p[3]),
        16 => p
            .chunks(2)
            .map(|c| format!("{:X}", (u16::from(c[0]) << 8) | u16::from(c[1])))
            .collect::<Vec<_>>()
            .join(":"),
        n => format!("<invalid length={n}>"),
    }
}

/// `i2v_GENERAL_NAME` (OpenSSL 3.0).
pub(super) fn i2v_general_name(gn: &GenName, out: &mut Vec<ConfValue>) -> Result<(), ()> {
    let add = |out: &mut Vec<ConfValue>, name: &str, value: Vec<u8>| {
        out.push((Some(name.as_bytes().to_vec()), Some(value)));
    };
    match gn {
        GenName::Other { type_id, value } => {
            let utf8 = value.universal_tag == Some(TAG_UTF8STRING) && !value.constructed;
            let ia5 = value.universal_tag == Some(TAG_IA5STRING) && !value.constructed;
            let special = match type_id.as_str() {
                OID_SMTP_UTF8_MAILBOX => Some(("othername: SmtpUTF8Mailbox:", utf8)),
                OID_XMPP_ADDR => Some(("othername: XmppAddr:", utf8)),
                OID_DNS_SRV => Some(("othername: SRVName:", ia5)),
                OID_MS_UPN => Some(("othername: UPN:", utf8)),
                OID_NAI_REALM => Some(("othername: NAIRealm:", utf8)),
                _ => None,
            };
            match special {
                Some((label, ok)) => {
                    if !ok {
                        return Err(());
                    }
                    add(out, label, len_value(&value.content)?);
                }
                None => {
                    let oline = match obj_lookup(type_id) {
                        Some(r) => r.2.to_string(),
                        None => type_id.clone(),
                    };
                    let mut oline = oline;
                    oline.truncate(255);
                    // `OBJ_obj2txt` failed (an OID over OBJ2TXT_MAX_LEN
                    // bytes, the only one with no text): "othername:".
                    let label = if oline.is_empty() {
                        "othername:".to_string()
                    } else {
                        format!("othername: {oline}:")
                    };
                    if ia5 || utf8 {
                        if let Ok(v) = len_value(&value.content) {
                            add(out, &label, v);
                            return Ok(());
                        }
                    }
                    add(out, &label, b"<unsupported>".to_vec());
                }
            }
        }
        GenName::X400 => add(out, "X400Name", b"<unsupported>".to_vec()),
        GenName::EdiParty => add(out, "EdiPartyName", b"<unsupported>".to_vec()),
        GenName::Email(d) => add(out, "email", len_value(d)?),
        GenName::Dns(d) => add(out, "DNS", len_value(d)?),
        GenName::Uri(d) => add(out, "URI", len_value(d)?),
        GenName::Dir(n) => add(out, "DirName", name_oneline(n, Some(255)).ok_or(())?),
        GenName::Ip(d) => add(out, "IP Address", ipaddr_to_asc(d).into_bytes()),
        GenName::Rid(oid) => add(
            out,
            "Registered ID",
            i2t_object(oid, Some(256)).into_bytes(),
        ),
    }
    Ok(())
}

/// `GENERAL_NAME_print` (OpenSSL 3.0).
pub(super) fn general_name_print(gn: &GenName) -> Vec<u8> {
    let mut out = Vec::new();
    match gn {
        GenName::Other { type_id, value } => {
            let srv = type_id == OID_DNS_SRV;
            let ok_type = if srv {
                value.universal_tag == Some(TAG_IA5STRING)
            } else {
                value.universal_tag == Some(TAG_UTF8STRING)
            };
            let label = match type_id.as_str() {
                OID_SMTP_UTF8_MAILBOX => Some("othername:SmtpUTF8Mailbox:"),
                OID_XMPP_ADDR => Some("othername:XmppAddr:"),
                OID_DNS_SRV => Some("othername:SRVName:"),
                OID_MS_UPN => Some("othername:UPN:"),
                OID_NAI_REALM => Some("othername:NAIRealm:"),
                _ => None,
            };
            match (ok_type && !value.constructed, label) {
                (true, Some(l)) => {
                    out.extend_from_slice(l.as_bytes());
                    // "%.*s": stops at a NUL
                    out.extend_from_slice(c_str(&value.content));
                }
                _ => out.extend_from_slice(b"othername:<unsupported>"),
            }
        }
        GenName::X400 => out.extend_from_slice(b"X400Name:<unsupported>"),
        GenName::EdiParty => out.extend_from_slice(b"EdiPartyName:<unsupported>"),
        GenName::Email(d) => {
            out.extend_from_slice(b"email:");
            out.extend_from_slice(&asn1_string_print_dots(d));
        }
        GenName::Dns(d) => {
            out.extend_from_slice(b"DNS:");
            out.extend_from_slice(&asn1_string_print_dots(d));
        }
        GenName::Uri(d) => {
            out.extend_from_slice(b"URI:");
            out.extend_from_slice(&asn1_string_print_dots(d));
        }
        GenName::Dir(n) => {
            out.extend_from_slice(b"DirName:");
            out.extend_from_slice(&name_print_ex(n, &NAME_FMT_ONELINE));
        }
        GenName::Ip(d) => {
            out.extend_from_slice(b"IP Address:");
            out.extend_from_slice(ipaddr_to_asc(d).as_bytes());
        }
        GenName::Rid(oid) => {
            out.extend_from_slice(b"Registered ID:");
            out.extend_from_slice(i2t_object(oid, None).as_bytes());
        }
    }
    out
}
