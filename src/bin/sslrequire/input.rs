//! Building the environment from the command line's inputs.

use std::path::Path;

use sslrequire::env::cert::Cert;
use sslrequire::env::{EnvOptions, LazyCert, Session};
use sslrequire::Dialect;

use crate::args::EnvArgs;

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
            Session::from_json(trimmed)
                .map_err(|e| format!("error: --session {}: {e}", path.display()))?
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

/// Rendering options.
pub fn options(a: &EnvArgs, dialect: Dialect) -> EnvOptions {
    EnvOptions {
        legacy_dn: a.legacy_dn,
        dialect,
        ..EnvOptions::default()
    }
}
