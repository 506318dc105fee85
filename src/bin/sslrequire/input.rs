//! Building the environment from the command line's inputs.

use std::path::Path;

use sslrequire::env::cert::Cert;
use sslrequire::env::verify::{Verifier, VerifyMode};
use sslrequire::env::FileAccess;
use sslrequire::session::{EnvOptions, LazyCert, Session};
use sslrequire::{Dialect, VarMap};

use crate::args::{EnvArgs, RenderArgs};

/// Reads a file, naming it in the error.
pub fn read(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("error: cannot read {what} {}: {e}", path.display()))
}

/// Whether any session input was given (otherwise variables are only
/// what `--var` sets, and everything else is "").
pub fn has_session(a: &EnvArgs) -> bool {
    a.session.is_some() || a.client_cert.is_some() || a.server_cert.is_some()
}

fn chain(path: &Path, flag: &str) -> Result<Vec<LazyCert>, String> {
    let pem = read(path, "certificate file")?;
    let certs =
        Cert::from_pem_chain(&pem).map_err(|e| format!("error: {flag} {}: {e}", path.display()))?;
    Ok(certs
        .into_iter()
        .map(|c| LazyCert::from_der(c.der().to_vec()))
        .collect())
}

/// The session the flags describe.
pub fn session(a: &EnvArgs) -> Result<Session, String> {
    let mut s = match &a.session {
        Some(path) => {
            let text = read(path, "session file")?;
            let trimmed = text.trim();
            if trimmed.lines().count() > 1
                && trimmed.lines().all(|l| l.trim_start().starts_with('{'))
            {
                return Err(format!(
                    "error: {} holds several sessions (JSON lines); --session takes one JSON object",
                    path.display()
                ));
            }
            let (s, warnings) = Session::from_json_with_warnings(trimmed)
                .map_err(|e| format!("error: --session {}: {e}", path.display()))?;
            for w in warnings {
                eprintln!("warning: --session {}: {w}", path.display());
            }
            s
        }
        None => Session::default(),
    };
    if let Some(p) = &a.client_cert {
        s.client_chain = chain(p, "--client-cert")?;
    }
    if let Some(p) = &a.server_cert {
        s.server_chain = chain(p, "--server-cert")?;
    }
    for (name, value) in &a.vars {
        s.vars
            .set(name, value.as_bytes())
            .map_err(|e| format!("error: --var {name}=…: {e}"))?;
    }
    if let Some(t) = a.now {
        s.time = Some(t);
    }
    Ok(s)
}

/// How variables are computed: DN format, and the verifier of `--ca`.
pub fn options(a: &RenderArgs, dialect: Dialect) -> Result<EnvOptions, String> {
    let verifier = match &a.ca {
        None => None,
        Some(path) => {
            let pem = read(path, "CA file")?;
            let anchors = Cert::from_pem_chain(&pem)
                .map_err(|e| format!("error: --ca {}: {e}", path.display()))?;
            let mode = match a.verify_client.as_str() {
                "optional_no_ca" => VerifyMode::OptionalNoCa,
                "require" => VerifyMode::Require,
                _ => VerifyMode::Optional,
            };
            let ders = anchors.iter().map(|c| c.der().to_vec()).collect();
            let v = Verifier::new(ders, a.verify_depth, mode)
                .map_err(|e| format!("error: --ca {}: {e}", path.display()))?;
            Some(std::sync::Arc::new(v))
        }
    };
    Ok(EnvOptions {
        legacy_dn: a.legacy_dn,
        dialect,
        verifier,
        ..EnvOptions::default()
    })
}

/// The error for a session whose TLS handshake would have failed.
pub fn handshake_error(reason: &str) -> String {
    format!(
        "error: the TLS handshake would fail ({reason}), so Apache would never evaluate SSLRequire for this session; \
         check --ca, --verify-depth and --verify-client"
    )
}

/// What `--file-root` allows `file()`, `filesize()` and the file tests to
/// see: that directory, or nothing.
pub fn file_access(dir: &Option<std::path::PathBuf>) -> Result<FileAccess, String> {
    let Some(d) = dir else {
        return Ok(FileAccess::none());
    };
    if std::fs::metadata(d).is_ok_and(|m| !m.is_dir()) {
        return Err(format!(
            "error: --file-root {}: not a directory",
            d.display()
        ));
    }
    FileAccess::under(d).map_err(|e| {
        format!(
            "error: --file-root {}: {e} (give an existing directory)",
            d.display()
        )
    })
}

/// The plain environment of `--var` and `--now` when no session is given:
/// every other variable is "".
pub fn var_map(a: &EnvArgs) -> Result<VarMap, String> {
    let mut env = VarMap::new();
    for (name, value) in &a.vars {
        env.set(name, value.as_bytes())
            .map_err(|e| format!("error: --var {name}=…: {e}"))?;
    }
    match a.now {
        Some(t) => env.set_time(&t),
        None => env.set_time(&chrono::Local::now()),
    };
    Ok(env)
}

/// Reads one line (without its `\n`) into `buf`, keeping at most `max`
/// bytes of it: `Some(n)` with the line's whole length `n` (over `max`:
/// the rest was read and dropped, so one huge line costs no memory), or
/// `None` at the end of the input.
///
/// # Errors
/// The reader's own errors.
pub fn read_line(
    reader: &mut dyn std::io::BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<usize>> {
    buf.clear();
    let mut total = 0usize;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((total > 0).then_some(total));
        }
        let (piece, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..i], i + 1),
            None => (available, available.len()),
        };
        let keep = piece.len().min(max.saturating_sub(buf.len()));
        buf.extend_from_slice(&piece[..keep]);
        total += piece.len();
        let end = done > piece.len();
        reader.consume(done);
        if end {
            // An empty line still counts as a line.
            return Ok(Some(total.max(1)));
        }
    }
}
