//! The rustls adapter against a real rustls client and server on loopback,
//! with certificates made here (rcgen).
#![cfg(feature = "rustls")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, ServerConnection};
use sslrequire::session::{session_from_rustls, ClientAuth, EnvOptions, SessionEnv};
use sslrequire::Program;

struct Pki {
    ca: CertificateDer<'static>,
    server: (CertificateDer<'static>, PrivateKeyDer<'static>),
    client: (CertificateDer<'static>, PrivateKeyDer<'static>),
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(DnType::CommonName, "Test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
    let leaf = |cn: &str, sans: Vec<SanType>| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name
            .push(DnType::OrganizationName, "Snake Oil, Ltd.");
        p.distinguished_name
            .push(DnType::OrganizationalUnitName, "Staff");
        p.distinguished_name.push(DnType::CommonName, cn);
        p.subject_alt_names = sans;
        let cert = p.signed_by(&key, &issuer).unwrap();
        (
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    };
    Pki {
        ca: ca_cert.der().clone(),
        server: leaf(
            "localhost",
            vec![SanType::DnsName("localhost".try_into().unwrap())],
        ),
        client: leaf(
            "alice",
            vec![SanType::Rfc822Name("alice@example.com".try_into().unwrap())],
        ),
    }
}

/// Runs one handshake over loopback; returns the server's connection.
fn handshake(pki: &Pki, tls12: bool, client_cert: bool) -> ServerConnection {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let roots = Arc::new(roots);
    let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
        .allow_unauthenticated()
        .build()
        .unwrap();
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server.0.clone()], pki.server.1.clone_key())
        .unwrap();
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12 {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13]
    };
    let client = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots);
    let client = if client_cert {
        client
            .with_client_auth_cert(vec![pki.client.0.clone()], pki.client.1.clone_key())
            .unwrap()
    } else {
        client.with_no_client_auth()
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut conn = rustls::ClientConnection::new(
            Arc::new(client),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let mut sock = TcpStream::connect(addr).unwrap();
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        tls.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).unwrap();
    });
    let (mut sock, _) = listener.accept().unwrap();
    let mut conn = ServerConnection::new(Arc::new(server)).unwrap();
    let mut buf = [0u8; 4];
    {
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        tls.read_exact(&mut buf).unwrap();
        tls.write_all(b"pong").unwrap();
        tls.flush().unwrap();
    }
    client.join().unwrap();
    conn
}

fn eval(conn: &ServerConnection, server_cert: &CertificateDer<'_>, expr: &str) -> bool {
    let session = session_from_rustls(conn, &[server_cert.as_ref()], ClientAuth::Verified);
    let env = SessionEnv::new(&session, EnvOptions::default());
    Program::new(expr).unwrap().eval(&env).unwrap()
}

#[test]
fn tls13_with_client_certificate() {
    let pki = pki();
    let conn = handshake(&pki, false, true);
    let s = &pki.server.0;
    assert!(eval(
        &conn,
        s,
        r#"%{SSL_PROTOCOL} == "TLSv1.3" && %{SSL_CIPHER} =~ m/^TLS_(AES|CHACHA20)/"#
    ));
    assert!(eval(
        &conn,
        s,
        r#"%{SSL_CIPHER_USEKEYSIZE} >= 128 && %{SSL_TLS_SNI} == "localhost""#
    ));
    assert!(eval(
        &conn,
        s,
        r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq "alice""#
    ));
    assert!(eval(
        &conn,
        s,
        r#"%{SSL_CLIENT_S_DN} == "CN=alice,OU=Staff,O=Snake Oil\\, Ltd.""#
    ));
    assert!(eval(
        &conn,
        s,
        r#"%{SSL_CLIENT_SAN_Email_0} == "alice@example.com" && %{SSL_CLIENT_I_DN_CN} == "Test CA""#
    ));
    assert!(eval(
        &conn,
        s,
        r#"%{SSL_SERVER_S_DN_CN} == "localhost" && %{SSL_SERVER_SAN_DNS_0} == "localhost""#
    ));
    assert!(eval(&conn, s, r#"%{SSL_SESSION_RESUMED} == "Initial""#));
}

#[test]
fn tls12_without_client_certificate() {
    let pki = pki();
    let conn = handshake(&pki, true, false);
    let s = &pki.server.0;
    assert!(eval(
        &conn,
        s,
        r#"%{SSL_PROTOCOL} == "TLSv1.2" && %{SSL_CIPHER} =~ m/^ECDHE-(RSA|ECDSA)-/"#
    ));
    assert!(eval(
        &conn,
        s,
        r#"%{SSL_CLIENT_VERIFY} == "NONE" && %{SSL_CLIENT_S_DN_CN} == """#
    ));
}
