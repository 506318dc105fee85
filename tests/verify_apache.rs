//! Every SSL_CLIENT_VERIFY / handshake failure that Apache 2.4.71 + OpenSSL
//! 3.0.22 produced in shared/apache-2.4.71/meta-*.json, reproduced with the
//! same certificates at the same instants.

#[path = "support/verify_pki.rs"]
mod common;

use common::{apache_data, read_pem};
use sslrequire::env::verify::{Outcome, Verifier, VerifyMode};

const CLIENTS: [&str; 11] = [
    "none",
    "alice",
    "bob",
    "carol",
    "dave",
    "zoe",
    "expired",
    "notyet",
    "rogue",
    "bigserial",
    "selfsigned",
];

fn unix(rfc3339: &str) -> i64 {
    // "2026-11-25T16:49:37.067026+00:00" (UTC): whole seconds are enough
    let d: Vec<i64> = rfc3339[..19]
        .split(['-', 'T', ':'])
        .map(|s| s.parse().expect("digits"))
        .collect();
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    assert!(rfc3339.ends_with("+00:00"));
    days * 86_400 + d[3] * 3600 + d[4] * 60 + d[5]
}

fn chain(name: &str) -> Vec<Vec<u8>> {
    if name == "none" {
        return vec![];
    }
    read_pem(&apache_data().join(format!("certs/{name}-chain.crt")))
}

fn verifier(mode: VerifyMode, depth: u32) -> Verifier {
    let anchors = read_pem(&apache_data().join("certs/root-ca.crt"));
    Verifier::new(anchors, depth, mode).expect("anchors")
}

/// Replays one meta-*.json; returns how many sessions it checked.
fn replay(meta_file: &str) -> usize {
    let text = std::fs::read_to_string(apache_data().join(meta_file)).expect("meta file");
    let meta: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mode = match meta["verify_mode"].as_str() {
        Some("optional_no_ca") => VerifyMode::OptionalNoCa,
        Some("optional") => VerifyMode::Optional,
        Some("require") => VerifyMode::Require,
        other => panic!("verify_mode {other:?}"),
    };
    let now = unix(meta["started_local"].as_str().expect("started_local"));
    let v = verifier(mode, 5); // SSLVerifyDepth 5 (README)
    let mut checked = 0;
    for name in CLIENTS {
        let s = &meta["sessions"][name];
        assert!(s.is_object(), "{meta_file}: no session {name}");
        let got = v.verify(&chain(name), now, true_if_tls13(s, &meta));
        match s["handshake_error"].as_str() {
            Some(err) => assert!(
                matches!(got, Outcome::HandshakeFails(_)),
                "{meta_file} {name}: Apache failed the handshake ({err}), we said {got:?}"
            ),
            None => {
                let want = s["SSL_CLIENT_VERIFY"].as_str().expect("SSL_CLIENT_VERIFY");
                assert_eq!(got, Outcome::Verify(want.into()), "{meta_file} {name}");
            }
        }
        checked += 1;
    }
    checked
}

fn true_if_tls13(session: &serde_json::Value, meta: &serde_json::Value) -> bool {
    match session["SSL_PROTOCOL"]
        .as_str()
        .or(session["client_protocol"].as_str())
    {
        Some(p) => p == "TLSv1.3",
        None => meta["tls"].as_str() != Some("1.2"), // failed handshakes: the run's protocol
    }
}

#[test]
fn meta_tls13_optional_no_ca() {
    assert_eq!(replay("meta-tls13.json"), 11);
}

#[test]
fn meta_tls12_optional_no_ca() {
    assert_eq!(replay("meta-tls12.json"), 11);
}

#[test]
fn meta_verify_optional() {
    assert_eq!(replay("meta-verify-optional.json"), 11);
}

#[test]
fn meta_probes_tls13() {
    assert_eq!(replay("meta-probes-tls13.json"), 11);
}

/// The exact values, spelled out (meta-tls13.json / meta-tls12.json /
/// meta-verify-optional.json), with the reasons Apache logged.
#[test]
fn measured_values_spelled_out() {
    let tls13 = unix("2026-11-25T16:49:37.067026+00:00");
    let no_ca = verifier(VerifyMode::OptionalNoCa, 5);
    let optional = verifier(VerifyMode::Optional, 5);
    let v = |v: &Verifier, name: &str, tls13_: bool| v.verify(&chain(name), tls13, tls13_);
    let verify = |s: &str| Outcome::Verify(s.into());
    let fails = |s: &str| Outcome::HandshakeFails(s.into());

    assert_eq!(v(&no_ca, "none", true), verify("NONE"));
    for ok in ["alice", "bob", "carol", "dave", "zoe", "bigserial"] {
        assert_eq!(v(&no_ca, ok, true), verify("SUCCESS"), "{ok}");
        assert_eq!(v(&no_ca, ok, false), verify("SUCCESS"), "{ok}");
        assert_eq!(v(&optional, ok, true), verify("SUCCESS"), "{ok}");
    }
    assert_eq!(
        v(&no_ca, "rogue", true),
        verify("FAILED:self-signed certificate in certificate chain")
    );
    assert_eq!(
        v(&no_ca, "selfsigned", true),
        verify("FAILED:self-signed certificate")
    );
    assert_eq!(v(&no_ca, "rogue", false), verify("GENEROUS"));
    assert_eq!(v(&no_ca, "selfsigned", false), verify("GENEROUS"));
    // AH02276 "Certificate Verification: Error (10): certificate has expired"
    for tls in [true, false] {
        assert_eq!(v(&no_ca, "expired", tls), fails("certificate has expired"));
        assert_eq!(
            v(&no_ca, "notyet", tls),
            fails("certificate is not yet valid")
        );
        assert_eq!(
            v(&optional, "expired", tls),
            fails("certificate has expired")
        );
        assert_eq!(
            v(&optional, "notyet", tls),
            fails("certificate is not yet valid")
        );
        // "tlsv1 alert unknown ca"
        assert_eq!(
            v(&optional, "rogue", tls),
            fails("self-signed certificate in certificate chain")
        );
        assert_eq!(
            v(&optional, "selfsigned", tls),
            fails("self-signed certificate")
        );
    }
    assert_eq!(v(&optional, "none", true), verify("NONE"));
    assert_eq!(
        verifier(VerifyMode::Require, 5).verify(&[], tls13, true),
        fails("peer did not return a certificate")
    );
    assert_eq!(
        verifier(VerifyMode::None, 5).verify(&chain("rogue"), tls13, true),
        verify("NONE")
    );
}

/// SSLVerifyDepth, measured here on the same Apache 2.4.71 / OpenSSL 3.0.22
/// (loopback, /work/shared certs, python client; see the report):
///
/// ```text
/// alice d0..1: handshake fails (AH02040 "Certificate Chain too long (chain has 2
///              certificates, but maximum allowed are only 1)", alert internal error)
/// alice d2,d3: SUCCESS          dave d0: fails        dave d1..3: SUCCESS
/// rogue d0:    fails (alert unknown ca)  rogue d1..3: FAILED:self-signed ... (1.3) / GENEROUS (1.2)
/// selfsigned d0..3: FAILED:self-signed certificate (1.3) / GENEROUS (1.2)
/// ```
/// mod_ssl counts the trust anchor: the top of the verified chain (leaf = 0)
/// must be at a depth <= SSLVerifyDepth.
#[test]
fn verify_depth_boundary_measured() {
    let now = unix("2026-11-25T18:23:52+00:00");
    let run = |name: &str, depth: u32, mode: VerifyMode, tls13: bool| {
        verifier(mode, depth).verify(&chain(name), now, tls13)
    };
    let too_long = Outcome::HandshakeFails("certificate chain too long".into());
    for mode in [VerifyMode::OptionalNoCa, VerifyMode::Optional] {
        for tls13 in [true, false] {
            assert_eq!(run("alice", 0, mode, tls13), too_long);
            assert_eq!(run("alice", 1, mode, tls13), too_long);
            assert_eq!(
                run("alice", 2, mode, tls13),
                Outcome::Verify("SUCCESS".into())
            );
            assert_eq!(
                run("alice", 3, mode, tls13),
                Outcome::Verify("SUCCESS".into())
            );
            assert_eq!(run("dave", 0, mode, tls13), too_long);
            assert_eq!(
                run("dave", 1, mode, tls13),
                Outcome::Verify("SUCCESS".into())
            );
        }
    }
    // rogue at depth 0: the optional error at depth 1 is forgiven, then the
    // depth check refuses it
    assert_eq!(run("rogue", 0, VerifyMode::OptionalNoCa, true), too_long);
    for d in 1..=3 {
        assert_eq!(
            run("rogue", d, VerifyMode::OptionalNoCa, true),
            Outcome::Verify("FAILED:self-signed certificate in certificate chain".into())
        );
        assert_eq!(
            run("rogue", d, VerifyMode::OptionalNoCa, false),
            Outcome::Verify("GENEROUS".into())
        );
    }
    for d in 0..=3 {
        assert_eq!(
            run("selfsigned", d, VerifyMode::OptionalNoCa, true),
            Outcome::Verify("FAILED:self-signed certificate".into())
        );
        assert_eq!(
            run("selfsigned", d, VerifyMode::OptionalNoCa, false),
            Outcome::Verify("GENEROUS".into())
        );
    }
}

/// Session resumption, measured here (python client reusing its session,
/// optional_no_ca, SSLVerifyDepth 5): rogue TLS 1.2 `GENEROUS` -> resumed
/// `SUCCESS`; rogue TLS 1.3 `FAILED:self-signed certificate in certificate
/// chain` both times; alice `SUCCESS` both times over both protocols.
#[test]
fn resumed_sessions_measured() {
    let now = unix("2026-11-25T18:40:00+00:00");
    let v = verifier(VerifyMode::OptionalNoCa, 5);
    assert_eq!(
        v.verify(&chain("rogue"), now, false),
        Outcome::Verify("GENEROUS".into())
    );
    assert_eq!(
        v.verify_resumed(&chain("rogue"), now, false),
        Outcome::Verify("SUCCESS".into())
    );
    let failed = Outcome::Verify("FAILED:self-signed certificate in certificate chain".into());
    assert_eq!(v.verify_resumed(&chain("rogue"), now, true), failed);
    for tls13 in [true, false] {
        assert_eq!(
            v.verify_resumed(&chain("alice"), now, tls13),
            Outcome::Verify("SUCCESS".into())
        );
        assert_eq!(
            v.verify_resumed(&[], now, tls13),
            Outcome::Verify("NONE".into())
        );
        assert!(matches!(
            v.verify_resumed(&chain("expired"), now, tls13),
            Outcome::HandshakeFails(_)
        ));
    }
}
