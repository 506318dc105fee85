//! A session's certificates: [`LazyCert`] (DER, parsed and printed on first
//! use) and [`CertCache`], which lets sessions that carry the same
//! certificate share one parse and one set of printed fields.
//!
//! Everything a [`LazyCert`] keeps is a function of its bytes alone (the
//! parsed certificate; each field as printed in each [`Format`]; never
//! `V_REMAIN`, which depends on the clock), so sharing it between sessions,
//! connections and threads changes no value.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};

use crate::env::var::CertVar;
use crate::x509::cert::{Cert, CertError};

/// A certificate kept as DER and parsed on first use (once, whichever
/// thread reads it first: a [`Session`](super::Session) is shared by a
/// connection's requests). Clones share the parse and the printed fields.
#[derive(Clone, Debug)]
pub struct LazyCert(Arc<Cell>);

#[derive(Debug)]
struct Cell {
    der: Vec<u8>,
    parsed: OnceLock<Result<Cert, CertError>>,
    /// Its variables as printed, by field and format: made once, then read
    /// by every request without allocating.
    printed: elsa::sync::FrozenMap<(CertVar, Format), Box<[u8]>>,
}

/// What a printed certificate field depends on besides the certificate:
/// `SSLOptions +LegacyDNStringFormat` and the dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Format {
    pub legacy: bool,
    pub v22: bool,
}

impl LazyCert {
    /// Wraps DER bytes; nothing is parsed yet.
    pub fn from_der(der: Vec<u8>) -> LazyCert {
        LazyCert(Arc::new(Cell {
            der,
            parsed: OnceLock::new(),
            printed: elsa::sync::FrozenMap::new(),
        }))
    }

    /// Wraps a certificate already parsed.
    pub fn from_cert(cert: Cert) -> LazyCert {
        let lazy = LazyCert::from_der(cert.der().to_vec());
        let _ = lazy.0.parsed.set(Ok(cert));
        lazy
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// `field` of this certificate as printed in `format`: from the cache,
    /// or made by `print` and kept there.
    pub(crate) fn printed(
        &self,
        field: CertVar,
        format: Format,
        print: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Option<&[u8]> {
        if let Some(v) = self.0.printed.get(&(field, format)) {
            return Some(v);
        }
        let v = print()?;
        Some(self.0.printed.insert((field, format), v.into_boxed_slice()))
    }

    /// Whether the certificate has been parsed yet.
    pub fn is_parsed(&self) -> bool {
        self.0.parsed.get().is_some()
    }

    /// The parsed certificate (parsed on the first call).
    ///
    /// # Errors
    /// Why the DER is not a certificate.
    pub fn get(&self) -> Result<&Cert, &CertError> {
        self.0
            .parsed
            .get_or_init(|| Cert::from_der(&self.0.der))
            .as_ref()
    }
}

/// Certificates by their bytes, shared between the sessions that carry
/// them: an audit of real traffic, where a few client certificates come
/// back on every line, parses and prints each once. Bounded by bytes
/// (least recently used entries go first) and safe to share between
/// threads.
///
/// ```
/// use sslrequire::session::{CertCache, Session};
///
/// let certs = CertCache::new(16 << 20);
/// let pem = std::fs::read_to_string("tests/apache-2.4.71/certs/alice.crt")?;
/// let line = serde_json::json!({ "client_chain": [pem] }).to_string();
/// let (a, _) = Session::from_json_shared(&line, &certs)?;
/// let (b, _) = Session::from_json_shared(&line, &certs)?;
/// assert!(a.client_chain[0].same_as(&b.client_chain[0]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CertCache {
    cache: Cache<Key, LazyCert, ByBytes>,
}

/// A certificate as it was given: its text (a PEM certificate as a JSON
/// string in the captured-session format, which logs are mapped onto) or
/// DER (packet captures, TLS stacks).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    Pem(Box<str>),
    Der(Box<[u8]>),
}

/// A [`Key`] borrowed, to look one up without copying it: which kind
/// (0 PEM, 1 DER) and the bytes. Both hash as `(kind, bytes)`.
#[derive(Clone, Copy)]
struct KeyRef<'a>(u8, &'a [u8]);

impl Key {
    fn as_ref(&self) -> KeyRef<'_> {
        match self {
            Key::Pem(p) => KeyRef(0, p.as_bytes()),
            Key::Der(d) => KeyRef(1, d),
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_ref().hash(state);
    }
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0, self.1).hash(state);
    }
}

impl Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        let k = key.as_ref();
        self.0 == k.0 && self.1 == k.1
    }
}

/// What an entry costs: its key, its DER, and an allowance for the parsed
/// certificate and its printed fields (each a few times the DER at most).
#[derive(Clone)]
struct ByBytes;

impl Weighter<Key, LazyCert> for ByBytes {
    fn weight(&self, key: &Key, cert: &LazyCert) -> u64 {
        let key = match key {
            Key::Pem(p) => p.len(),
            Key::Der(d) => d.len(),
        };
        (key + 8 * cert.der().len()) as u64
    }
}

impl CertCache {
    /// The default bound, 64 MiB: some 4 000 typical certificates.
    pub const DEFAULT_BYTES: u64 = 64 << 20;

    /// A cache of at most about `max_bytes`.
    pub fn new(max_bytes: u64) -> CertCache {
        // quick_cache wants an estimate of the item count: typical
        // certificates weigh ~16 KiB here.
        let items = usize::try_from(max_bytes / (16 << 10)).unwrap_or(usize::MAX);
        CertCache {
            cache: Cache::with_weighter(items.max(16), max_bytes.max(1), ByBytes),
        }
    }

    /// The certificate of this DER: shared when these bytes were seen.
    pub fn der(&self, der: &[u8]) -> LazyCert {
        if let Some(c) = self.cache.get(&KeyRef(1, der)) {
            return c;
        }
        let cert = LazyCert::from_der(der.to_vec());
        self.cache.insert(Key::Der(der.into()), cert.clone());
        cert
    }

    /// The certificate of this text (a chain element as the JSON of a
    /// captured session holds it), read by `read` (which checks it) when
    /// this text was not seen; an error is not kept.
    pub(crate) fn pem<E>(
        &self,
        pem: &str,
        read: impl FnOnce(&str) -> Result<LazyCert, E>,
    ) -> Result<LazyCert, E> {
        if let Some(c) = self.cache.get(&KeyRef(0, pem.as_bytes())) {
            return Ok(c);
        }
        let cert = read(pem)?;
        self.cache.insert(Key::Pem(pem.into()), cert.clone());
        Ok(cert)
    }

    /// How many certificates it holds.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

impl Default for CertCache {
    fn default() -> CertCache {
        CertCache::new(CertCache::DEFAULT_BYTES)
    }
}

impl std::fmt::Debug for CertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertCache")
            .field("certificates", &self.len())
            .finish()
    }
}

impl LazyCert {
    /// Whether the two share one parse (one came from the other, or both
    /// from a [`CertCache`]).
    pub fn same_as(&self, other: &LazyCert) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice_pem() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/apache-2.4.71/certs/alice.crt"
        ))
        .expect("alice.crt")
    }

    fn read(pem: &str) -> Result<LazyCert, String> {
        let mut certs = Cert::from_pem_chain(pem).map_err(|e| e.to_string())?;
        certs
            .pop()
            .map(LazyCert::from_cert)
            .ok_or_else(|| "none".into())
    }

    #[test]
    fn the_same_bytes_share_one_certificate() {
        let cache = CertCache::default();
        let pem = alice_pem();
        let a = cache.pem(&pem, read).expect("alice");
        let b = cache
            .pem(&pem, |_| Err("read again".to_string()))
            .expect("kept");
        assert!(a.same_as(&b));
        let d1 = cache.der(a.der());
        let d2 = cache.der(a.der());
        assert!(d1.same_as(&d2));
        // PEM text and DER are different keys; the certificate is the same.
        assert!(!d1.same_as(&a));
        assert_eq!(
            d1.get().expect("parses").der(),
            a.get().expect("parses").der()
        );
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn an_error_is_not_kept() {
        let cache = CertCache::default();
        assert!(cache.pem("junk", read).is_err());
        assert!(cache.is_empty());
    }

    #[test]
    fn the_bound_holds() {
        // Room for about one certificate: the others are evicted.
        let pem = alice_pem();
        let der = read(&pem).expect("alice").der().to_vec();
        let cache = CertCache::new(10 * der.len() as u64);
        for i in 0..50u8 {
            let mut d = der.clone();
            d.push(i); // other bytes: another key
            cache.der(&d);
        }
        assert!(cache.len() <= 2, "{} kept", cache.len());
    }
}
