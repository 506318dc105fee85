//! The rustls adapter: a [`Session`] from a server connection after its
//! handshake (feature `rustls`).

use rustls::{HandshakeKind, ProtocolVersion, ServerConnection};

use super::cipher;
use super::{LazyCert, Session};

/// What a TLS server knows about the client's certificate chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// The connection's client-certificate verifier checked the chain
    /// (rustls fails the handshake otherwise): `SSL_CLIENT_VERIFY` is
    /// `SUCCESS` when a certificate was sent.
    Verified,
    /// The chain was accepted without verification (like mod_ssl's
    /// `optional_no_ca`): `SSL_CLIENT_VERIFY` is left to the caller
    /// ([`EnvOptions::verify`](super::EnvOptions::verify)).
    Unverified,
}

/// The TLS facts of `conn` (protocol, cipher suite, SNI, the client's and
/// the server's chains) as a [`Session`]. Certificates are kept as DER and
/// parsed only when an expression reads one of their variables, at most
/// once per connection. Build it once per connection, share it between the
/// connection's requests (`Arc<Session>`), and layer each request's
/// variables over it with [`SessionEnv::with_request`](super::SessionEnv::with_request).
///
/// Call it after the handshake; before, the negotiated values are absent.
pub fn session_from_rustls(
    conn: &ServerConnection,
    server_chain: &[&[u8]],
    auth: ClientAuth,
) -> Session {
    let mut s = Session {
        protocol: conn
            .protocol_version()
            .and_then(protocol_name)
            .map(str::to_string),
        ..Session::default()
    };
    if let Some(suite) = conn.negotiated_cipher_suite() {
        let id = u16::from(suite.suite());
        match cipher::by_id(id) {
            Some(known) => {
                s.cipher = Some(known.openssl.to_string());
                s.cipher_bits = Some(known.use_bits.into());
                s.cipher_alg_bits = Some(known.alg_bits.into());
            }
            // A suite OpenSSL does not know: keep rustls's name.
            None => s.cipher = suite.suite().as_str().map(str::to_string),
        }
    }
    s.sni = conn.server_name().map(str::to_string);
    s.resumed = conn.handshake_kind().map(|k| k == HandshakeKind::Resumed);
    // rustls never compresses. SSL_SECURE_RENEG depends on whether the
    // client sent the renegotiation_info extension (Apache reports `false`
    // for a TLS 1.3-only client that does not), which rustls does not
    // expose: it stays unset rather than guessed.
    s.compression = Some("NULL".into());
    if let Some(certs) = conn.peer_certificates() {
        s.client_chain = certs
            .iter()
            .map(|c| LazyCert::from_der(c.as_ref().to_vec()))
            .collect();
    }
    s.server_chain = server_chain
        .iter()
        .map(|c| LazyCert::from_der(c.to_vec()))
        .collect();
    s.verify = match (s.client_chain.is_empty(), auth) {
        (true, _) => Some("NONE".into()),
        (false, ClientAuth::Verified) => Some("SUCCESS".into()),
        (false, ClientAuth::Unverified) => None,
    };
    s
}

fn protocol_name(v: ProtocolVersion) -> Option<&'static str> {
    Some(match v {
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        ProtocolVersion::TLSv1_1 => "TLSv1.1",
        ProtocolVersion::TLSv1_0 => "TLSv1",
        ProtocolVersion::SSLv3 => "SSLv3",
        _ => return None,
    })
}
