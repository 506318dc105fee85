//! A rustls HTTPS/1.1 client: one keep-alive connection per (client
//! certificate, TLS version), many GETs on it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
    StreamOwned, SupportedCipherSuite, SupportedProtocolVersion,
};

/// How one connection negotiates.
#[derive(Clone, Copy, Debug)]
pub struct TlsChoice {
    pub tls13: bool,
    /// Offer only the signature schemes (TLS 1.3) or suites (TLS 1.2) of
    /// the server's RSA certificate, else of its EC one.
    pub rsa_server: bool,
    /// 0: AES-256-GCM, 1: AES-128-GCM, 2: ChaCha20-Poly1305.
    pub cipher: usize,
}

impl TlsChoice {
    fn suite(&self) -> SupportedCipherSuite {
        use rustls::crypto::ring::cipher_suite as cs;
        let table13 = [
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_CHACHA20_POLY1305_SHA256,
        ];
        let rsa12 = [
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ];
        let ec12 = [
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ];
        let i = self.cipher % 3;
        match (self.tls13, self.rsa_server) {
            (true, _) => table13[i],
            (false, true) => rsa12[i],
            (false, false) => ec12[i],
        }
    }

    fn version(&self) -> &'static SupportedProtocolVersion {
        if self.tls13 {
            &rustls::version::TLS13
        } else {
            &rustls::version::TLS12
        }
    }
}

/// The server verifier, offering only the signature schemes of one kind
/// of server key (so the server picks that certificate).
#[derive(Debug)]
struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
    rsa: bool,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner
            .supported_verify_schemes()
            .into_iter()
            .filter(|s| {
                let name = format!("{s:?}");
                if self.rsa {
                    name.starts_with("RSA_")
                } else {
                    name.starts_with("ECDSA_")
                }
            })
            .collect()
    }
}

/// One HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An established connection and what it negotiated.
pub struct Conn {
    reader: BufReader<StreamOwned<ClientConnection, TcpStream>>,
    pub local_port: u16,
    pub tls13: bool,
    pub suite_id: u16,
    /// The server's chain as sent (leaf first).
    pub server_chain: Vec<Vec<u8>>,
}

/// Connects and completes the handshake.
pub fn connect(
    port: u16,
    roots: &RootCertStore,
    chain: &[Vec<u8>],
    key: Option<&[u8]>,
    choice: TlsChoice,
) -> Result<Conn, String> {
    connect_logged(port, roots, chain, key, choice, None)
}

/// [`connect`], writing the connection's secrets to `key_log` (the
/// SSLKEYLOGFILE of a packet capture).
pub fn connect_logged(
    port: u16,
    roots: &RootCertStore,
    chain: &[Vec<u8>],
    key: Option<&[u8]>,
    choice: TlsChoice,
    key_log: Option<Arc<dyn rustls::KeyLog>>,
) -> Result<Conn, String> {
    let provider = Arc::new(CryptoProvider {
        cipher_suites: vec![choice.suite()],
        ..rustls::crypto::ring::default_provider()
    });
    let inner =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots.clone()), provider.clone())
            .build()
            .map_err(|e| e.to_string())?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[choice.version()])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier {
            inner,
            rsa: choice.rsa_server,
        }));
    let config = match key {
        Some(key) => builder
            .with_client_auth_cert(
                chain
                    .iter()
                    .map(|c| CertificateDer::from(c.clone()))
                    .collect(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec())),
            )
            .map_err(|e| e.to_string())?,
        None => builder.with_no_client_auth(),
    };
    let mut config = config;
    if let Some(k) = key_log {
        config.key_log = k;
    }
    let name = ServerName::try_from("localhost").expect("server name");
    let mut conn = ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_nodelay(true).ok();
    sock.set_read_timeout(Some(Duration::from_secs(30))).ok();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)
            .map_err(|e| format!("handshake: {e}"))?;
    }
    let local_port = sock.local_addr().map_err(|e| e.to_string())?.port();
    let suite_id = u16::from(
        conn.negotiated_cipher_suite()
            .ok_or("no cipher suite")?
            .suite(),
    );
    let tls13 = conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    let server_chain = conn
        .peer_certificates()
        .ok_or("no server certificate")?
        .iter()
        .map(|c| c.as_ref().to_vec())
        .collect();
    Ok(Conn {
        reader: BufReader::new(StreamOwned::new(conn, sock)),
        local_port,
        tls13,
        suite_id,
        server_chain,
    })
}

impl Conn {
    /// Sends one GET and reads its response.
    pub fn get(&mut self, target: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
        let mut req = format!("GET {target} HTTP/1.1\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let stream = self.reader.get_mut();
        stream.write_all(req.as_bytes())?;
        stream.flush()?;
        read_response(&mut self.reader)
    }
}

fn bad(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn read_response(r: &mut impl BufRead) -> std::io::Result<Response> {
    let status_line = read_line(r)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(r)?;
        if line.is_empty() {
            break;
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header {line:?}")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut resp = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if resp
        .header("Transfer-Encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let size_line = read_line(r)?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // trailers
                while !read_line(r)?.is_empty() {}
                break;
            }
            let mut chunk = vec![0; size];
            r.read_exact(&mut chunk)?;
            resp.body.extend(chunk);
            read_line(r)?;
        }
    } else if let Some(len) = resp.header("Content-Length") {
        let len: usize = len.parse().map_err(|_| bad("bad Content-Length"))?;
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        resp.body = body;
    } else {
        r.read_to_end(&mut resp.body)?;
    }
    Ok(resp)
}
