//! What the fuzz targets check, shared with the test suite.
//!
//! Every target is a `check_*` function here that panics when a property
//! fails; `fuzz_targets/*.rs` only hand libFuzzer's bytes to it. The test
//! suite compiles this same file (`tests/fuzz_regressions.rs`, through
//! `#[path]`) and replays every saved case of `tests/fuzz-cases/<target>/`
//! with [`check`], so a crash found once is checked by every `cargo test`.
//!
//! This file may use only `sslrequire` and `arbitrary` (the two crates both
//! the fuzz crate and the test suite have) and must not touch the file
//! system: `file()`, `filesize()` and the file tests go through
//! [`FuzzEnv`], which refuses every path but one in-memory file.

mod certs;
mod compile_eval;
mod parse;
mod roundtrip;

pub use certs::{check_cert_env, check_session};
pub use compile_eval::check_compile_eval;
pub use parse::{check_parse, check_reprint};
pub use roundtrip::check_roundtrip;

use std::sync::OnceLock;

use arbitrary::Unstructured;
use sslrequire::env::cert::Cert;
use sslrequire::env::{resolve, FileInfo, Files, Resolved, Var};
use sslrequire::session::{EnvOptions, LazyCert, Session, SessionEnv};
use sslrequire::syntax::{
    CmpOp, ExprKind, List, Name, Regex, StrPart, VarRef, Word, WordKind, DEFAULT_SIZE_LIMIT,
};
use sslrequire::{
    Dialect, Env, Error, ErrorKind, Expr, Machine, ParserBuilder, ProgramBuilder, Reparser, Span,
    VarMap,
};

/// The fuzz targets, by name (also the folders of `tests/fuzz-cases/`).
pub const TARGETS: &[&str] = &["parse", "compile_eval", "roundtrip", "cert_env", "session"];

/// Runs the check of `target` on one input (panics on a failed property).
pub fn check(target: &str, data: &[u8]) {
    match target {
        "parse" => check_parse(data),
        "compile_eval" => check_compile_eval(data),
        "roundtrip" => check_roundtrip(data),
        "cert_env" => check_cert_env(data),
        "session" => check_session(data),
        _ => panic!("unknown fuzz target `{target}`"),
    }
}

// ======================================================================
// The environment
// ======================================================================

/// The only path [`FuzzEnv::read_file`] answers (from memory).
pub const VIRTUAL_FILE: &[u8] = b"/fuzz/virtual";
/// Its content (a NUL inside: `file()` returns a C string).
pub const VIRTUAL_CONTENT: &[u8] = b"virtual file\0after the NUL";

/// A [`VarMap`] whose `file()` and file tests never reach the file system.
#[derive(Debug, Clone)]
pub struct FuzzEnv(pub VarMap);

impl Env for FuzzEnv {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        self.0.var(var)
    }

    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        self.0.peer_extensions(id, numeric_only)
    }

    fn files(&self) -> &dyn Files {
        &VirtualFiles
    }
}

/// The fuzz environment's file system: one file, in memory.
#[derive(Debug)]
pub struct VirtualFiles;

impl Files for VirtualFiles {
    fn read(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        if path == VIRTUAL_FILE {
            return Ok(VIRTUAL_CONTENT.to_vec());
        }
        Err(refused(path))
    }

    fn stat(&self, path: &[u8], _follow: bool) -> Result<Option<FileInfo>, ErrorKind> {
        Err(refused(path))
    }
}

fn refused(path: &[u8]) -> ErrorKind {
    ErrorKind::FileDenied {
        path: String::from_utf8_lossy(path).into_owned(),
        reason: "the fuzz environment reads no files".into(),
    }
}

/// A fixed environment: a dozen SSL_*, REMOTE_ADDR and TIME_* values, a
/// request header and two `PeerExtList("1.2.3.4.5.6")` values.
pub fn fuzz_env() -> &'static FuzzEnv {
    static ENV: OnceLock<FuzzEnv> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut m = VarMap::new();
        let values: &[(&str, &[u8])] = &[
            ("SSL_CLIENT_S_DN_CN", b"Alice Example"),
            ("SSL_CLIENT_S_DN_O", b"Snake Oil, Ltd."),
            ("SSL_CLIENT_S_DN_OU", b"Staff"),
            (
                "SSL_CLIENT_S_DN",
                b"CN=Alice Example,OU=Staff,O=Snake Oil\\, Ltd.,C=US",
            ),
            ("SSL_CLIENT_I_DN_CN", b"Oracle Test Intermediate CA"),
            ("SSL_CLIENT_VERIFY", b"SUCCESS"),
            ("SSL_CLIENT_M_SERIAL", b"1001"),
            ("SSL_CLIENT_V_END", b"Nov 25 16:43:29 2027 GMT"),
            ("SSL_CLIENT_SAN_Email_0", b"alice@example.com"),
            ("SSL_CIPHER", b"ECDHE-RSA-AES256-GCM-SHA384"),
            ("SSL_CIPHER_USEKEYSIZE", b"256"),
            ("SSL_PROTOCOL", b"TLSv1.3"),
            ("SSL_TLS_SNI", b"www.example.com"),
            ("HTTPS", b"on"),
            ("REMOTE_ADDR", b"192.76.162.40"),
            ("REMOTE_USER", b"al\0ice"),
            ("QUERY_STRING", b"\xc3\xa9t\xc3\xa9=\xff"),
            ("TIME_YEAR", b"2026"),
            ("TIME_MON", b"11"),
            ("TIME_DAY", b"25"),
            ("TIME_HOUR", b"16"),
            ("TIME_MIN", b"49"),
            ("TIME_SEC", b"37"),
            ("TIME_WDAY", b"3"),
            ("TIME", b"20261125164937"),
            ("http:User-Agent", b"curl/8.5.0"),
            ("env:path", VIRTUAL_FILE),
        ];
        for (name, value) in values {
            m.set(name, *value)
                .unwrap_or_else(|e| panic!("fuzz env: {name}: {e}"));
        }
        m.add_extension("1.2.3.4.5.6", "hello-oracle");
        m.add_extension("1.2.3.4.5.6", "second\0cut");
        m.add_extension("subjectAltName", "DNS:alice.example.com");
        FuzzEnv(m)
    })
}

/// Both dialects, 2.4 first.
pub const DIALECTS: [Dialect; 2] = [Dialect::V24, Dialect::V22];

fn reparser(d: Dialect) -> &'static Reparser {
    // Small caches, shared across inputs: eviction runs too.
    static R24: OnceLock<Reparser> = OnceLock::new();
    static R22: OnceLock<Reparser> = OnceLock::new();
    match d {
        Dialect::V24 => R24.get_or_init(|| Reparser::with_dialect(Dialect::V24, 4)),
        Dialect::V22 => R22.get_or_init(|| Reparser::with_dialect(Dialect::V22, 4)),
    }
}

/// An outcome comparable across modes: the verdict or the error code.
pub fn outcome(r: &Result<bool, Error>) -> Result<bool, &'static str> {
    match r {
        Ok(b) => Ok(*b),
        Err(e) => Err(e.code()),
    }
}

/// An error must render (the caret drawing slices the source by its span).
fn render(e: &Error, stage: char) {
    let text = e.to_string();
    assert!(text.contains(e.code()), "{text}");
    assert!(
        e.code().as_bytes()[1] == stage as u8,
        "{} is not an E{stage}xx error: {e}",
        e.code()
    );
    let _ = e.line_col();
}

fn text_of(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}
