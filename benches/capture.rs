//! Sessions per second audited from each capture format (issue 18), in one
//! run: the same 64 TLS sessions (a client chain of two certificates, a
//! server certificate) as captured-session JSON lines, Apache access-log
//! lines (`APACHE_LOG_FORMAT`), nginx access-log lines (`NGINX_LOG_FORMAT`)
//! and a packet capture of real rustls handshakes (half TLS 1.3, decrypted
//! with the key log; half TLS 1.2). Each iteration reads every session and
//! evaluates the mod_ssl manual's example expression (one core).
//!
//! Run: `cargo bench --bench capture`.

use std::hint::black_box;
use std::sync::{Arc, Mutex};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use sslrequire::capture::{self, pcap, Format};
use sslrequire::session::{EnvOptions, SessionEnv};
use sslrequire::{Machine, Program};

const SESSIONS: usize = 64;
const EXPR: &str = r#"( %{SSL_CIPHER} !~ m/^(EXP|NULL)-/ and %{SSL_CLIENT_S_DN_O} eq "Snake Oil, Ltd." and %{SSL_CLIENT_S_DN_OU} in {"Staff", "CA", "Dev"} ) or %{REMOTE_ADDR} =~ m/^192\.76\.162\./"#;

struct Pki {
    ca: Vec<u8>,
    server: (Vec<u8>, Vec<u8>),
    client: (Vec<u8>, Vec<u8>),
}

fn pki() -> Pki {
    let dn = |parts: &[(DnType, &str)]| {
        let mut d = DistinguishedName::new();
        for (t, v) in parts {
            d.push(t.clone(), *v);
        }
        d
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name = dn(&[(DnType::CommonName, "Bench CA")]);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf = |names: Vec<String>, d: DistinguishedName| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names).unwrap();
        p.distinguished_name = d;
        let cert = p.signed_by(&key, &issuer).unwrap();
        (cert.der().to_vec(), key.serialize_der())
    };
    Pki {
        ca: ca_cert.der().to_vec(),
        server: leaf(
            vec!["localhost".into()],
            dn(&[(DnType::CommonName, "localhost")]),
        ),
        client: leaf(
            vec![],
            dn(&[
                (DnType::OrganizationName, "Snake Oil, Ltd."),
                (DnType::OrganizationalUnitName, "Staff"),
                (DnType::CommonName, "alice"),
            ]),
        ),
    }
}

fn pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap());
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

fn json_line(p: &Pki, i: usize) -> String {
    serde_json::json!({
        "id": format!("s{i}"), "time": "2026-11-25T16:49:37Z", "protocol": "TLSv1.3",
        "cipher": "TLS_AES_256_GCM_SHA384", "sni": "localhost", "verify": "SUCCESS",
        "client_chain": [pem(&p.client.0), pem(&p.ca)], "server_chain": [pem(&p.server.0)],
        "vars": {"REMOTE_ADDR": format!("10.0.0.{}", i % 250), "HTTP_USER_AGENT": "curl/8.5.0"}
    })
    .to_string()
}

fn apache_line(p: &Pki, i: usize) -> String {
    let e = |s: String| s.replace('\n', "\\n");
    format!(
        r#"time="2026-11-25T16:49:37+0000" status="200" REMOTE_ADDR="10.0.0.{}" REMOTE_PORT="{}" THE_REQUEST="GET / HTTP/1.1" REQUEST_METHOD="GET" REQUEST_URI="/" QUERY_STRING="" http:Host="localhost" http:User-Agent="curl/8.5.0" SSL_TLS_SNI="localhost" SSL_PROTOCOL="TLSv1.3" SSL_CIPHER="TLS_AES_256_GCM_SHA384" SSL_SESSION_RESUMED="Initial" SSL_CLIENT_VERIFY="SUCCESS" SSL_CLIENT_CERT="{}" SSL_CLIENT_CERT_CHAIN_0="{}" SSL_CLIENT_CERT_CHAIN_1="-" SSL_SERVER_CERT="{}""#,
        i % 250,
        40000 + i,
        e(pem(&p.client.0)),
        e(pem(&p.ca)),
        e(pem(&p.server.0))
    )
}

fn nginx_line(p: &Pki, i: usize) -> String {
    let escaped: String = pem(&p.client.0)
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    serde_json::json!({
        "time": "2026-11-25T16:49:37+00:00", "status": "200", "REMOTE_ADDR": format!("10.0.0.{}", i % 250),
        "REQUEST_METHOD": "GET", "REQUEST_URI": "/", "http:User-Agent": "curl/8.5.0",
        "SSL_TLS_SNI": "localhost", "SSL_PROTOCOL": "TLSv1.3", "SSL_CIPHER": "TLS_AES_256_GCM_SHA384",
        "SSL_SESSION_RESUMED": ".", "SSL_CLIENT_VERIFY": "SUCCESS", "ssl_client_escaped_cert": escaped
    })
    .to_string()
}

#[derive(Debug, Default)]
struct Keys(Mutex<String>);

impl rustls::KeyLog for Keys {
    fn log(&self, label: &str, random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let line = format!("{label} {} {}\n", hex(random), hex(secret));
        self.0.lock().unwrap().push_str(&line);
    }
}

/// A pcap of `SESSIONS` TCP connections, each a whole rustls handshake
/// with a client certificate, and the clients' key log.
fn capture(p: &Pki) -> (Vec<u8>, String) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(p.ca.clone())).unwrap();
    let roots = Arc::new(roots);
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        roots.clone(),
        provider.clone(),
    )
    .build()
    .unwrap();
    let key = |k: &[u8]| PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(k.to_vec()));
    let keys = Arc::new(Keys::default());
    let mut out = Vec::new();
    for v in [
        0xa1b2c3d4u32.to_le_bytes(),
        0x0004_0002u32.to_le_bytes(),
        [0; 4],
        [0; 4],
    ] {
        out.extend(v);
    }
    out.extend(65535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    let mut packet =
        |from_client: bool, port: u16, seq: u32, ack: u32, syn: bool, payload: &[u8]| {
            let (sp, dp, sa, da) = if from_client {
                (port, 443, [10, 0, 0, 1], [10, 0, 0, 2])
            } else {
                (443, port, [10, 0, 0, 2], [10, 0, 0, 1])
            };
            let mut b = etherparse::PacketBuilder::ethernet2([1; 6], [2; 6])
                .ipv4(sa, da, 64)
                .tcp(sp, dp, seq, 65535);
            if syn {
                b = b.syn();
            }
            if !(syn && from_client) {
                b = b.ack(ack);
            }
            let mut frame = Vec::new();
            b.write(&mut frame, payload).unwrap();
            for v in [
                1_764_000_000u32.to_le_bytes(),
                [0; 4],
                (frame.len() as u32).to_le_bytes(),
                (frame.len() as u32).to_le_bytes(),
            ] {
                out.extend(v);
            }
            out.extend(frame);
        };
    for i in 0..SESSIONS {
        let version = if i % 2 == 0 {
            &rustls::version::TLS13
        } else {
            &rustls::version::TLS12
        };
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[version])
            .unwrap()
            .with_client_cert_verifier(verifier.clone())
            .with_single_cert(
                vec![CertificateDer::from(p.server.0.clone())],
                key(&p.server.1),
            )
            .unwrap();
        let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_client_auth_cert(
                vec![
                    CertificateDer::from(p.client.0.clone()),
                    CertificateDer::from(p.ca.clone()),
                ],
                key(&p.client.1),
            )
            .unwrap();
        client.key_log = keys.clone();
        let mut c = rustls::ClientConnection::new(
            Arc::new(client),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let mut s = rustls::ServerConnection::new(Arc::new(server)).unwrap();
        let port = 40000 + i as u16;
        let (mut cseq, mut sseq) = (1000u32, 9000u32);
        packet(true, port, cseq - 1, 0, true, b"");
        packet(false, port, sseq - 1, cseq, true, b"");
        for _ in 0..10 {
            let mut buf = Vec::new();
            c.write_tls(&mut buf).unwrap();
            if !buf.is_empty() {
                packet(true, port, cseq, sseq, false, &buf);
                cseq = cseq.wrapping_add(buf.len() as u32);
                s.read_tls(&mut &buf[..]).unwrap();
                s.process_new_packets().unwrap();
            }
            let mut buf = Vec::new();
            s.write_tls(&mut buf).unwrap();
            if !buf.is_empty() {
                packet(false, port, sseq, cseq, false, &buf);
                sseq = sseq.wrapping_add(buf.len() as u32);
                c.read_tls(&mut &buf[..]).unwrap();
                c.process_new_packets().unwrap();
            }
            if !c.is_handshaking() && !s.is_handshaking() && !c.wants_write() {
                break;
            }
        }
        assert!(!s.is_handshaking(), "in-memory handshake {i}");
    }
    let log = keys.0.lock().unwrap().clone();
    (out, log)
}

fn bench(c: &mut Criterion) {
    let p = pki();
    let program = Program::new(EXPR).unwrap();
    let opts = EnvOptions::default();
    let json: Vec<String> = (0..SESSIONS).map(|i| json_line(&p, i)).collect();
    let apache: Vec<String> = (0..SESSIONS).map(|i| apache_line(&p, i)).collect();
    let nginx: Vec<String> = (0..SESSIONS).map(|i| nginx_line(&p, i)).collect();
    let (pcap_bytes, keylog) = capture(&p);
    let keylog = pcap::KeyLog::parse(&keylog).unwrap();

    // Every format gives the same verdicts (and none fails).
    let mut m = Machine::new();
    for (format, lines) in [
        (Format::Json, &json),
        (Format::Apache, &apache),
        (Format::Nginx, &nginx),
    ] {
        for l in lines {
            let s = capture::parse(format, l).unwrap().session;
            assert!(
                program
                    .eval_with(&mut m, &SessionEnv::new(&s, opts.clone()))
                    .unwrap(),
                "{format}"
            );
        }
    }
    let rebuilt: Vec<_> =
        pcap::Reader::new(std::io::Cursor::new(pcap_bytes.clone()), Some(&keylog))
            .unwrap()
            .map(|c| c.unwrap().session.unwrap())
            .collect();
    assert_eq!(rebuilt.len(), SESSIONS);
    for s in &rebuilt {
        assert!(program
            .eval_with(&mut m, &SessionEnv::new(s, opts.clone()))
            .unwrap());
    }

    let mut g = c.benchmark_group("capture");
    g.throughput(Throughput::Elements(SESSIONS as u64));
    for (name, format, lines) in [
        ("json", Format::Json, &json),
        ("apache-log", Format::Apache, &apache),
        ("nginx-log", Format::Nginx, &nginx),
    ] {
        g.bench_function(name, |b| {
            let mut m = Machine::new();
            b.iter(|| {
                let mut allowed = 0;
                for l in lines {
                    let s = capture::parse(format, l).unwrap().session;
                    allowed += usize::from(
                        program
                            .eval_with(&mut m, &SessionEnv::new(&s, opts.clone()))
                            .unwrap(),
                    );
                }
                black_box(allowed)
            })
        });
    }
    g.bench_function("pcap", |b| {
        let mut m = Machine::new();
        b.iter(|| {
            let mut allowed = 0;
            let reader =
                pcap::Reader::new(std::io::Cursor::new(pcap_bytes.clone()), Some(&keylog)).unwrap();
            for conn in reader {
                let s = conn.unwrap().session.unwrap();
                allowed += usize::from(
                    program
                        .eval_with(&mut m, &SessionEnv::new(&s, opts.clone()))
                        .unwrap(),
                );
            }
            black_box(allowed)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
