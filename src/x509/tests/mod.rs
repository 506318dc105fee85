//! Unit tests of the printers, on certificates built here byte by byte.
//! (The Apache dumps and the OpenSSL oracle check them end to end:
//! `tests/env_dumps.rs`, `tests/cert_oracle.rs`.)

mod extensions;
mod malformed;
mod names;
mod values;

use super::cert::*;
use super::ext::*;
use super::general_name::*;
use super::int::*;
use super::name::*;
use super::objects::OBJECTS;
use super::oid::*;
use super::pem::*;
use super::time::*;

/// 2026-11-25T16:49:37Z, `meta-tls13.json` `started_local`.
const NOW: i64 = 1_795_625_377;

// ------------------------------------------------------------------
// A tiny DER writer for building test certificates
// ------------------------------------------------------------------

fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let b = (n as u64).to_be_bytes();
    let skip = b.iter().take_while(|&&x| x == 0).count();
    let mut v = vec![0x80 | (8 - skip) as u8];
    v.extend_from_slice(&b[skip..]);
    v
}
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend(der_len(content.len()));
    v.extend_from_slice(content);
    v
}
fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &items.concat())
}
fn set(items: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x31, &items.concat())
}
fn oid(dotted: &str) -> Vec<u8> {
    tlv(0x06, &a2d_oid(dotted).expect("valid test OID"))
}
fn utf8(s: &str) -> Vec<u8> {
    tlv(0x0c, s.as_bytes())
}
fn printable(s: &str) -> Vec<u8> {
    tlv(0x13, s.as_bytes())
}
fn ia5(s: &str) -> Vec<u8> {
    tlv(0x16, s.as_bytes())
}
fn utctime(s: &str) -> Vec<u8> {
    tlv(0x17, s.as_bytes())
}
fn gentime(s: &str) -> Vec<u8> {
    tlv(0x18, s.as_bytes())
}
/// A Name; each RDN is a list of (OID, encoded value).
fn name(rdns: &[&[(&str, Vec<u8>)]]) -> Vec<u8> {
    seq(&rdns
        .iter()
        .map(|rdn| {
            set(&rdn
                .iter()
                .map(|(o, v)| seq(&[oid(o), v.clone()]))
                .collect::<Vec<_>>())
        })
        .collect::<Vec<_>>())
}
fn ext(o: &str, value: Vec<u8>) -> Vec<u8> {
    seq(&[oid(o), tlv(0x04, &value)])
}

struct Tpl {
    serial: Vec<u8>,
    issuer: Vec<u8>,
    subject: Vec<u8>,
    not_before: Vec<u8>,
    not_after: Vec<u8>,
    exts: Vec<Vec<u8>>,
}

impl Default for Tpl {
    fn default() -> Self {
        Tpl {
            serial: vec![0x10, 0x01],
            issuer: name(&[&[("2.5.4.3", utf8("Test CA"))]]),
            subject: name(&[&[("2.5.4.3", utf8("leaf"))]]),
            not_before: utctime("261124164329Z"),
            not_after: utctime("271125164329Z"),
            exts: Vec::new(),
        }
    }
}

impl Tpl {
    fn der(&self) -> Vec<u8> {
        let alg = seq(&[oid("1.2.840.113549.1.1.11"), vec![0x05, 0x00]]);
        let spki = seq(&[
            seq(&[oid("1.2.840.113549.1.1.1"), vec![0x05, 0x00]]),
            tlv(0x03, &[0x00, 0x30, 0x00]),
        ]);
        let mut tbs = vec![
            tlv(0xa0, &tlv(0x02, &[2])),
            tlv(0x02, &self.serial),
            alg.clone(),
            self.issuer.clone(),
            seq(&[self.not_before.clone(), self.not_after.clone()]),
            self.subject.clone(),
            spki,
        ];
        if !self.exts.is_empty() {
            tbs.push(tlv(0xa3, &seq(&self.exts)));
        }
        seq(&[seq(&tbs), alg, tlv(0x03, &[0, 1, 2, 3])])
    }
    fn cert(&self) -> Cert {
        Cert::from_der(&self.der()).expect("test certificate parses")
    }
}

fn snakeoil_subject() -> Vec<u8> {
    name(&[
        &[("2.5.4.6", printable("US"))],
        &[("2.5.4.8", utf8("California"))],
        &[("2.5.4.7", utf8("San Francisco"))],
        &[("2.5.4.10", utf8("Snake Oil, Ltd."))],
        &[("2.5.4.11", utf8("Staff"))],
        &[("2.5.4.11", utf8("Dev"))],
        &[("2.5.4.3", utf8("José \"Q\" +<x>;"))],
        &[("1.2.840.113549.1.9.1", ia5("test-dev@httpd.apache.org"))],
    ])
}
