//! The files the compatibility suites serve and read: certificates, the
//! /env CGI, and the data files of file(), filesize() and the file tests.

use super::pki::Pki;
use super::server::WorkDir;

/// Writes them under `work`.
pub fn write_files(work: &WorkDir, pki: &Pki) {
    let pem =
        |ders: &[Vec<u8>]| super::der::pem(&ders.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let key = |der: &[u8]| super::der::pem_block("PRIVATE KEY", &[der]);
    work.write(
        "certs/root-ca.pem",
        pem(std::slice::from_ref(&pki.root.der)),
        0o644,
    );
    work.write("certs/server-rsa.pem", pem(&pki.server_rsa.0), 0o644);
    work.write("certs/server-rsa.key", key(&pki.server_rsa.1), 0o600);
    work.write("certs/server-ec.pem", pem(&pki.server_ec.0), 0o644);
    work.write("certs/server-ec.key", key(&pki.server_ec.1), 0o600);
    for c in &pki.clients {
        if !c.chain.is_empty() {
            work.write(&format!("certs/{}-chain.pem", c.name), pem(&c.chain), 0o644);
        }
    }
    work.write("htdocs/ok.txt", "ok\n", 0o644);
    work.write(
        "cgi/env.cgi",
        "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\nexec /usr/bin/env -0\n",
        0o755,
    );
    // Files for file(), filesize() and the file tests.
    work.write("data/user.txt", "alice", 0o644);
    work.write("data/alice.txt", "alice", 0o644);
    work.write("data/user-nl.txt", "alice\n", 0o644);
    work.write("data/ous.txt", "Engineering\nSupport\n", 0o644);
    work.write("data/empty.txt", "", 0o644);
    work.write("data/nul.txt", b"ab\0cd", 0o644);
    work.write("data/latin1.txt", b"caf\xe9", 0o644);
    work.write("data/crlf.txt", "alice\r\n", 0o644);
    work.write("data/exec.sh", "#!/bin/sh\n", 0o755);
    // PEMs as mod_ssl exports them, for SSL_CLIENT_CERT_CHAIN_n / SSL_SERVER_CERT.
    work.write(
        "data/root-ca.pem",
        pem(std::slice::from_ref(&pki.root.der)),
        0o644,
    );
    work.write(
        "data/int-ca.pem",
        pem(std::slice::from_ref(&pki.int)),
        0o644,
    );
    work.write("data/server-rsa.pem", pem(&pki.server_rsa.0[..1]), 0o644);
    let big = work.path("data/big.bin");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(10 * 1024 * 1024 + 1))
        .expect("big.bin");
    super::server::set_mode(&big, 0o644);
    std::fs::create_dir(work.path("data/dir")).expect("data/dir");
    super::server::set_mode(&work.path("data/dir"), 0o755);
    std::os::unix::fs::symlink("user.txt", work.path("data/link")).expect("symlink");
    std::os::unix::fs::symlink("nowhere", work.path("data/dangling")).expect("symlink");
}

/// The corpus (tests/compat/corpus.txt), numbered, without the
/// expressions that read the test's data files (`@DATA@`).
pub fn corpus_without_data() -> Vec<(usize, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/corpus.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.contains("@DATA@"))
        .map(str::to_string)
        .enumerate()
        .collect()
}
