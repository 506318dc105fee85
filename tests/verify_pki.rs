//! rcgen-made PKIs. Every expectation below was checked twice on this
//! machine (Debian 12: OpenSSL 3.0.22, Apache 2.4.71): with `openssl verify`
//! on the same PKIs (`cargo test --test dump -- --ignored` writes them), and
//! with a real Apache (`SSLVerifyClient optional_no_ca` / `optional`,
//! `SSLVerifyDepth 0..6`, python client over TLS 1.3 and 1.2, reading
//! SSL_CLIENT_VERIFY back through `Header always set X-Verify
//! "%{SSL_CLIENT_VERIFY}s"`).
//!
//! ```text
//! $ openssl verify -CAfile X-ca.pem -untrusted X-chain.pem -attime $T -purpose sslclient X-leaf.pem
//! == ok                 ok-leaf.pem: OK
//! == expired            error 10 at 0 depth lookup: certificate has expired
//! == notyet             error 9 at 0 depth lookup: certificate is not yet valid
//! == expired-int        error 10 at 1 depth lookup: certificate has expired
//! == unknown-leaf-only  error 20 at 0 depth lookup: unable to get local issuer certificate
//! == unknown-with-int   error 20 at 1 depth lookup: unable to get local issuer certificate
//! == unknown-with-root  error 19 at 2 depth lookup: self-signed certificate in certificate chain
//! == selfsigned         error 18 at 0 depth lookup: self-signed certificate
//! == long               long-leaf.pem: OK
//! == bad-signature      error 7 at 0 depth lookup: certificate signature failure
//! == wrong-key          error 7 at 0 depth lookup: certificate signature failure
//! == int-not-ca         error 79 at 1 depth lookup: invalid CA certificate
//! == server-only        error 26 at 0 depth lookup: unsuitable certificate purpose
//! == pathlen            error 25 at 2 depth lookup: path length constraint exceeded
//! == int-as-anchor      error 2 at 1 depth lookup: unable to get issuer certificate
//! $ openssl verify -CAfile long-ca.pem -untrusted long-chain.pem -verify_depth 2 -purpose sslclient long-leaf.pem
//! error 22 at 3 depth lookup: certificate chain too long
//! $ openssl verify -CAfile ca.pem ee.pem -auth_level 2     # RSA-1024 leaf
//! error 66 at 0 depth lookup: EE certificate key too weak
//! ```
//!
//! Apache (error.log, `LogLevel ssl:info`) logged the same reasons, e.g.
//! `AH02276: Certificate Verification: Error (79): invalid CA certificate`,
//! `AH02276: ... Error (2): unable to get issuer certificate` (int-as-anchor),
//! `AH02276: ... Error (66): EE certificate key too weak`,
//! `AH02040: Certificate Verification: Certificate Chain too long (chain has 4
//! certificates, but maximum allowed are only 3)` (long, SSLVerifyDepth 3).
//! It answered SSL_CLIENT_VERIFY `FAILED:unable to verify the first
//! certificate` (TLS 1.3) / `GENEROUS` (TLS 1.2) for unknown-leaf-only,
//! `FAILED:unable to get local issuer certificate` / `GENEROUS` for
//! unknown-with-int, and failed the handshake for every other failure below.

#[path = "support/verify_pki.rs"]
mod common;

use common::{scenarios, Scenario, YEAR};
use sslrequire::env::verify::{Outcome, Verifier, VerifyMode};

/// 2030-01-01T00:00:00Z
const NOW: i64 = 1_893_456_000;

fn run(s: &Scenario, mode: VerifyMode, depth: u32, tls13: bool) -> Outcome {
    Verifier::new(s.anchors.clone(), depth, mode)
        .expect("anchors")
        .verify(&s.chain, NOW, tls13)
}

fn verify(s: &str) -> Outcome {
    Outcome::Verify(s.into())
}

fn fails(s: &str) -> Outcome {
    Outcome::HandshakeFails(s.into())
}

/// (scenario, optional_no_ca over TLS 1.3, over TLS 1.2, optional/require)
fn table() -> Vec<(&'static str, Outcome, Outcome, Outcome)> {
    let same = |o: Outcome| (o.clone(), o.clone(), o);
    let mut t = Vec::new();
    for ok in [
        "ok",
        "ok-with-root",
        "ok-direct",
        "long",
        "selfsigned-trusted",
    ] {
        let (a, b, c) = same(verify("SUCCESS"));
        t.push((ok, a, b, c));
    }
    for (name, reason) in [
        ("expired", "certificate has expired"),
        ("notyet", "certificate is not yet valid"),
        ("expired-int", "certificate has expired"),
        ("bad-signature", "certificate signature failure"),
        ("wrong-key", "certificate signature failure"),
        ("int-not-ca", "invalid CA certificate"),
        ("server-only", "unsuitable certificate purpose"),
        ("pathlen", "path length constraint exceeded"),
        ("int-as-anchor", "unable to get issuer certificate"),
    ] {
        let (a, b, c) = same(fails(reason));
        t.push((name, a, b, c));
    }
    t.push((
        "unknown-leaf-only",
        verify("FAILED:unable to verify the first certificate"),
        verify("GENEROUS"),
        fails("unable to get local issuer certificate"),
    ));
    t.push((
        "unknown-with-int",
        verify("FAILED:unable to get local issuer certificate"),
        verify("GENEROUS"),
        fails("unable to get local issuer certificate"),
    ));
    t.push((
        "unknown-with-root",
        verify("FAILED:self-signed certificate in certificate chain"),
        verify("GENEROUS"),
        fails("self-signed certificate in certificate chain"),
    ));
    t.push((
        "selfsigned",
        verify("FAILED:self-signed certificate"),
        verify("GENEROUS"),
        fails("self-signed certificate"),
    ));
    // the missing CA is forgiven, the expiry is not
    t.push((
        "unknown-expired",
        fails("certificate has expired"),
        fails("certificate has expired"),
        fails("unable to get local issuer certificate"),
    ));
    t.push((
        "selfsigned-expired",
        fails("certificate has expired"),
        fails("certificate has expired"),
        fails("self-signed certificate"),
    ));
    t
}

#[test]
fn every_scenario_in_every_mode() {
    let all = scenarios(NOW);
    let table = table();
    assert_eq!(table.len(), all.len(), "every scenario has an expectation");
    for (name, no_ca13, no_ca12, strict) in table {
        let s = all
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("scenario {name}"));
        assert_eq!(
            run(s, VerifyMode::OptionalNoCa, 5, true),
            no_ca13,
            "{name} optional_no_ca TLS 1.3"
        );
        assert_eq!(
            run(s, VerifyMode::OptionalNoCa, 5, false),
            no_ca12,
            "{name} optional_no_ca TLS 1.2"
        );
        for tls13 in [true, false] {
            assert_eq!(
                run(s, VerifyMode::Optional, 5, tls13),
                strict,
                "{name} optional"
            );
            assert_eq!(
                run(s, VerifyMode::Require, 5, tls13),
                strict,
                "{name} require"
            );
            assert_eq!(
                run(s, VerifyMode::None, 5, tls13),
                verify("NONE"),
                "{name} none"
            );
        }
    }
}

fn scenario(name: &str) -> Scenario {
    scenarios(NOW)
        .into_iter()
        .find(|s| s.name == name)
        .expect("scenario")
}

/// `long` = leaf + 3 intermediates + root: its top is at depth 4. Apache:
/// SSLVerifyDepth 2 and 3 fail the handshake ("alert internal error",
/// AH02040), 4 and 5 give SUCCESS.
#[test]
fn chain_too_long_boundary() {
    let s = scenario("long");
    for mode in [
        VerifyMode::OptionalNoCa,
        VerifyMode::Optional,
        VerifyMode::Require,
    ] {
        for tls13 in [true, false] {
            for depth in 0..=3 {
                assert_eq!(
                    run(&s, mode, depth, tls13),
                    fails("certificate chain too long"),
                    "depth {depth}"
                );
            }
            assert_eq!(run(&s, mode, 4, tls13), verify("SUCCESS"));
            assert_eq!(run(&s, mode, 5, tls13), verify("SUCCESS"));
            assert_eq!(run(&s, mode, u32::MAX, tls13), verify("SUCCESS"));
        }
    }
}

/// Untrusted chains count too: Apache gave, under optional_no_ca over
/// TLS 1.3, unknown-with-root (top at depth 2) handshake failures at
/// SSLVerifyDepth 0 and 1 and `FAILED:self-signed ...` from 2; unknown-with-int
/// a failure at 0 and `FAILED:unable to get local issuer certificate` from 1;
/// unknown-leaf-only `FAILED:unable to verify the first certificate` from 0.
#[test]
fn depth_boundary_of_untrusted_chains() {
    let no_ca = VerifyMode::OptionalNoCa;
    let with_root = scenario("unknown-with-root");
    assert_eq!(
        run(&with_root, no_ca, 0, true),
        fails("certificate chain too long")
    );
    assert_eq!(
        run(&with_root, no_ca, 1, true),
        fails("certificate chain too long")
    );
    assert_eq!(
        run(&with_root, no_ca, 2, true),
        verify("FAILED:self-signed certificate in certificate chain")
    );
    let with_int = scenario("unknown-with-int");
    assert_eq!(
        run(&with_int, no_ca, 0, true),
        fails("certificate chain too long")
    );
    assert_eq!(
        run(&with_int, no_ca, 1, true),
        verify("FAILED:unable to get local issuer certificate")
    );
    assert_eq!(run(&with_int, no_ca, 1, false), verify("GENEROUS"));
    let leaf_only = scenario("unknown-leaf-only");
    assert_eq!(
        run(&leaf_only, no_ca, 0, true),
        verify("FAILED:unable to verify the first certificate")
    );
    // a self-signed client certificate in the trust store passes at depth 0
    // (Apache: SUCCESS at SSLVerifyDepth 0 and 1)
    assert_eq!(
        run(
            &scenario("selfsigned-trusted"),
            VerifyMode::Require,
            0,
            true
        ),
        verify("SUCCESS")
    );
    // a leaf issued directly by the root needs depth 1
    let direct = scenario("ok-direct");
    assert_eq!(
        run(&direct, VerifyMode::Require, 0, true),
        fails("certificate chain too long")
    );
    assert_eq!(
        run(&direct, VerifyMode::Require, 1, true),
        verify("SUCCESS")
    );
}

/// Validity edges: notBefore is inclusive, notAfter is not (X509_cmp_time
/// treats "equal" as "earlier").
#[test]
fn validity_edges_to_the_second() {
    let s = scenario("ok");
    let v = Verifier::new(s.anchors.clone(), 5, VerifyMode::Optional).expect("anchors");
    let leaf_nb = NOW - YEAR;
    let leaf_na = NOW + YEAR;
    assert_eq!(
        v.verify(&s.chain, leaf_nb - 1, true),
        fails("certificate is not yet valid")
    );
    assert_eq!(v.verify(&s.chain, leaf_nb, true), verify("SUCCESS"));
    assert_eq!(v.verify(&s.chain, leaf_na - 1, true), verify("SUCCESS"));
    assert_eq!(
        v.verify(&s.chain, leaf_na, true),
        fails("certificate has expired")
    );
}

/// An RSA-1024 leaf (public key made with `openssl genrsa 1024`) under an
/// EC root: Debian's OpenSSL runs at security level 2, so Apache refuses it
/// (AH02276 ... Error (66): EE certificate key too weak), even under
/// optional_no_ca; at level 1 it would pass.
#[test]
fn weak_leaf_key_is_refused_at_security_level_2() {
    struct Rsa1024;
    const SPKI_KEY: &str = "30818902818100d89f7654fe30c0732f834f359c9993f07355f1615afefcb37eeda9dbe7b7a5b14a81ae283bc45cde6ab25251b236d0e785e5934632ff171e2fb899c841c38c3b2e31ba0e2ebd6aee7e5c77d1d5fe5ee09b1abd9c12380c806a1cf597e5af344998effff001faab952a0f62a9148e55b29f3f382b52d93e3fe12b8e341b127d5b0203010001";
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    impl rcgen::PublicKeyData for Rsa1024 {
        fn der_bytes(&self) -> &[u8] {
            KEY.get_or_init(|| {
                (0..SPKI_KEY.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&SPKI_KEY[i..i + 2], 16).expect("hex"))
                    .collect()
            })
        }
        fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
            &rcgen::PKCS_RSA_SHA256
        }
    }
    let root = common::self_signed(&common::Spec::ca("Weak Test Root", NOW));
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "weak1024");
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let leaf = p
        .signed_by(
            &Rsa1024,
            &rcgen::Issuer::from_params(&root.params, &root.key),
        )
        .expect("sign");
    let chain = vec![leaf.der().to_vec()];
    let mut v =
        Verifier::new(vec![root.der.clone()], 5, VerifyMode::OptionalNoCa).expect("anchors");
    assert_eq!(
        v.verify(&chain, NOW, true),
        fails("EE certificate key too weak")
    );
    v.security_level(1);
    assert_eq!(v.verify(&chain, NOW, true), verify("SUCCESS"));
}
