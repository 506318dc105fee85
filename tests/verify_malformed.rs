//! Malformed or hostile DER never panics: it is an outcome (or, for trust
//! anchors, an error).

#[path = "support/verify_pki.rs"]
mod common;

use common::{apache_data, read_pem};
use sslrequire::env::verify::{Outcome, Verifier, VerifyMode};

const NOW: i64 = 1_795_625_377; // meta-tls13.json started_local

#[test]
fn truncated_and_flipped_chains() {
    let anchors = read_pem(&apache_data().join("certs/root-ca.crt"));
    let chain = read_pem(&apache_data().join("certs/alice-chain.crt"));
    let verifiers: Vec<Verifier> = [VerifyMode::OptionalNoCa, VerifyMode::Require]
        .into_iter()
        .map(|m| Verifier::new(anchors.clone(), 5, m).expect("anchors"))
        .collect();
    let mut outcomes = 0usize;
    for which in 0..chain.len() {
        let der = &chain[which];
        let mut variants: Vec<Vec<u8>> = (0..der.len())
            .step_by(7)
            .map(|n| der[..n].to_vec())
            .collect();
        for pos in 0..der.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut v = der.clone();
                v[pos] ^= mask;
                variants.push(v);
            }
        }
        let mut longer = der.clone();
        longer.push(0);
        variants.push(longer);
        for v in variants {
            let mut c = chain.clone();
            c[which] = v;
            for verifier in &verifiers {
                for tls13 in [true, false] {
                    match verifier.verify(&c, NOW, tls13) {
                        Outcome::Verify(s) => assert!(!s.is_empty()),
                        Outcome::HandshakeFails(s) => assert!(!s.is_empty()),
                    }
                    outcomes += 1;
                }
            }
        }
    }
    assert!(outcomes > 10_000);
}

#[test]
fn garbage_anchor_is_an_error() {
    let root = read_pem(&apache_data().join("certs/root-ca.crt")).remove(0);
    for n in [0, 1, 10, root.len() - 1] {
        assert!(
            Verifier::new(vec![root[..n].to_vec()], 1, VerifyMode::Optional).is_err(),
            "truncated at {n}"
        );
    }
    let mut trailing = root.clone();
    trailing.extend_from_slice(&[0x05, 0x00]);
    assert!(Verifier::new(vec![trailing], 1, VerifyMode::Optional).is_err());
    // flipped anchors either load or are refused, never panic
    for pos in 0..root.len() {
        let mut v = root.clone();
        v[pos] ^= 0x5a;
        if let Ok(verifier) = Verifier::new(vec![v], 2, VerifyMode::OptionalNoCa) {
            let _ = verifier.verify(
                &read_pem(&apache_data().join("certs/alice-chain.crt")),
                NOW,
                true,
            );
        }
    }
}

#[test]
fn long_and_looping_chains() {
    let anchors = read_pem(&apache_data().join("certs/root-ca.crt"));
    let alice = read_pem(&apache_data().join("certs/alice-chain.crt"));
    let v = Verifier::new(anchors, 5, VerifyMode::OptionalNoCa).expect("anchors");
    // the intermediate repeated 500 times, and the leaf sent twice
    let mut chain = vec![alice[0].clone(), alice[0].clone()];
    chain.extend(std::iter::repeat_n(alice[1].clone(), 500));
    assert_eq!(
        v.verify(&chain, NOW, true),
        Outcome::Verify("SUCCESS".into())
    );
    // a chain of the rogue leaf and its CA, many times over
    let rogue = read_pem(&apache_data().join("certs/rogue-chain.crt"));
    let mut chain = rogue.clone();
    for _ in 0..200 {
        chain.extend(rogue.iter().cloned());
    }
    assert_eq!(
        v.verify(&chain, NOW, true),
        Outcome::Verify("FAILED:self-signed certificate in certificate chain".into())
    );
}
