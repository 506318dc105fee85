//! Regenerates every SSL_* variable a real Apache 2.4.71 exported
//! (tests/apache-2.4.71/env/*.json, env-tls12/*.json) from the same
//! certificates and session facts, and compares them byte for byte.
//!
//! Given from the run rather than computed (they are not derived from the
//! certificates): the session id, the server's version strings and the
//! recorded verification result (meta-*.json); everything else — DNs,
//! components, serials, dates, V_REMAIN, SANs, PEMs, the chain, the cipher's
//! key sizes — is computed.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sslrequire::env::cert::Cert;
use sslrequire::session::{EnvOptions, LazyCert, Session, SessionEnv};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apache-2.4.71")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn chain(file: &str) -> Vec<LazyCert> {
    let pem = std::fs::read_to_string(root().join("certs").join(file)).unwrap();
    Cert::from_pem_chain(&pem)
        .unwrap()
        .into_iter()
        .map(|c| LazyCert::from_der(c.der().to_vec()))
        .collect()
}

/// The session Apache saw for `cert`, as a captured session would record it.
fn session(meta: &Value, dump: &Value, cert: &str) -> Session {
    let ssl = &dump["ssl_env"];
    let s = |k: &str| ssl[k].as_str().map(str::to_string);
    let mut session = Session {
        time: Some(
            chrono::DateTime::parse_from_rfc3339(meta["started_local"].as_str().unwrap()).unwrap(),
        ),
        protocol: s("SSL_PROTOCOL"),
        sni: Some("localhost".into()),
        session_id: s("SSL_SESSION_ID"),
        resumed: Some(false),
        secure_reneg: Some(true),
        compression: Some("NULL".into()),
        verify: meta["sessions"][cert]["SSL_CLIENT_VERIFY"]
            .as_str()
            .map(str::to_string),
        server_chain: chain("server-chain.crt"),
        ..Session::default()
    };
    let suite = sslrequire::session::cipher::lookup(
        dump["client_session"]["client_cipher"].as_str().unwrap(),
    )
    .expect("known cipher");
    session.cipher = Some(suite.openssl.to_string());
    session.cipher_bits = Some(suite.use_bits.into());
    session.cipher_alg_bits = Some(suite.alg_bits.into());
    if cert != "none" {
        session.client_chain = chain(&format!("{cert}-chain.crt"));
    }
    if cert == "dave" {
        // dave's chain file holds only the leaf (issued by the root); the
        // test client completed it with the root CA, which Apache exported
        // as SSL_CLIENT_CERT_CHAIN_0.
        session.client_chain.extend(chain("root-ca.crt"));
    }
    for k in ["SSL_VERSION_INTERFACE", "SSL_VERSION_LIBRARY"] {
        session.vars.set(k, ssl[k].as_str().unwrap()).unwrap();
    }
    session
}

fn compare(env_dir: &str, meta: &str) {
    let meta = read_json(&root().join(meta));
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut dir: Vec<_> = std::fs::read_dir(root().join(env_dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dir.sort();
    for path in dir {
        let dump = read_json(&path);
        let cert = dump["cert"].as_str().unwrap().to_string();
        let session = session(&meta, &dump, &cert);
        let env = SessionEnv::new(&session, EnvOptions::default());
        let ours: std::collections::BTreeMap<String, Vec<u8>> = env.export().into_iter().collect();
        for (k, v) in dump["ssl_env"].as_object().unwrap() {
            checked += 1;
            let want = v.as_str().unwrap().as_bytes();
            match ours.get(k) {
                Some(got) if got == want => {}
                Some(got) => failures.push(format!(
                    "{env_dir}/{cert} {k}: Apache {:?}, sslrequire {:?}",
                    String::from_utf8_lossy(want),
                    String::from_utf8_lossy(got)
                )),
                None => failures.push(format!("{env_dir}/{cert} {k}: missing")),
            }
        }
        for k in ours.keys().filter(|k| k.starts_with("SSL_")) {
            if dump["ssl_env"].get(k).is_none() {
                failures.push(format!(
                    "{env_dir}/{cert} {k}: exported, but Apache did not"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 300, "{checked}");
    eprintln!("{env_dir}: {checked} variables identical to Apache's");
}

#[test]
fn tls13_dumps() {
    compare("env", "meta-tls13.json");
}

#[test]
fn tls12_dumps() {
    compare("env-tls12", "meta-tls12.json");
}

/// SSL_CLIENT_VERIFY computed by the verifier (root CA as
/// SSLCACertificateFile, SSLVerifyDepth 5, SSLVerifyClient optional_no_ca,
/// as the reference run) instead of recorded, for every client.
#[test]
fn verify_results_computed_like_apache() {
    use sslrequire::env::verify::{Verifier, VerifyMode};
    let root_ca = chain("root-ca.crt")
        .into_iter()
        .map(|c| c.der().to_vec())
        .collect();
    let verifier =
        std::sync::Arc::new(Verifier::new(root_ca, 5, VerifyMode::OptionalNoCa).unwrap());
    let mut checked = 0;
    for (env_dir, meta) in [("env", "meta-tls13.json"), ("env-tls12", "meta-tls12.json")] {
        let meta = read_json(&root().join(meta));
        for entry in std::fs::read_dir(root().join(env_dir)).unwrap() {
            let dump = read_json(&entry.unwrap().path());
            let cert = dump["cert"].as_str().unwrap().to_string();
            let mut session = session(&meta, &dump, &cert);
            session.verify = None;
            let opts = EnvOptions {
                verifier: Some(verifier.clone()),
                ..EnvOptions::default()
            };
            let env = SessionEnv::new(&session, opts);
            assert_eq!(env.handshake_failure(), None, "{env_dir}/{cert}");
            let got = sslrequire::Env::var(
                &env,
                &sslrequire::Var::Session(sslrequire::env::SessionVar::ClientVerify),
            );
            let want = dump["ssl_env"]["SSL_CLIENT_VERIFY"].as_str().unwrap();
            assert_eq!(
                got.map(String::from_utf8_lossy).as_deref(),
                Some(want),
                "{env_dir}/{cert}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 18);
}
