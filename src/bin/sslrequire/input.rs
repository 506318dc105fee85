//! Building the environment from the command line's inputs.

use std::path::Path;

use sslrequire::env::cert::Cert;
use sslrequire::env::verify::{Verifier, VerifyMode};
use sslrequire::env::{EnvOptions, LazyCert, Session};
use sslrequire::{Dialect, Env, ErrorKind, VarMap};

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

/// The `--file-root` policy around an environment: `file()`, `filesize()`
/// and the file tests may read only inside the root, and nothing at all
/// without one.
pub struct Guarded<'a> {
    pub inner: &'a dyn Env,
    pub root: Option<&'a Path>,
}

impl Guarded<'_> {
    fn allow(&self, path: &[u8]) -> Result<(), ErrorKind> {
        let shown = String::from_utf8_lossy(path).into_owned();
        let deny = |reason: String| {
            Err(ErrorKind::FileDenied {
                path: shown.clone(),
                reason,
            })
        };
        let Some(root) = self.root else {
            return deny(
                "file access is off; pass --file-root DIR to let expressions read files under DIR"
                    .into(),
            );
        };
        let p = sslrequire::env::bytes_to_path(path);
        // As Apache: relative to the working directory. Refused unless it
        // lies inside the root both as written and once symlinks resolve.
        let absolute = std::env::current_dir()
            .map(|d| d.join(&p))
            .unwrap_or_else(|_| p.to_path_buf());
        let lexical = normalize(&absolute);
        let resolved = std::fs::canonicalize(&absolute).ok();
        let inside =
            lexical.starts_with(root) && resolved.as_ref().is_none_or(|r| r.starts_with(root));
        if !inside {
            return deny(format!("outside --file-root {}", root.display()));
        }
        Ok(())
    }
}

/// `a/./b/../c` → `a/c`, without touching the filesystem.
fn normalize(p: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

impl Env for Guarded<'_> {
    fn var(&self, var: &sslrequire::Var) -> Option<&[u8]> {
        self.inner.var(var)
    }
    fn peer_extensions(&self, id: &[u8], numeric_only: bool) -> Vec<Vec<u8>> {
        self.inner.peer_extensions(id, numeric_only)
    }
    fn read_file(&self, path: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        self.allow(path)?;
        sslrequire::env::read_file(path)
    }
    fn check_path(&self, path: &[u8]) -> Result<(), ErrorKind> {
        self.allow(path)
    }
}

/// The canonical `--file-root`.
pub fn file_root(dir: &Option<std::path::PathBuf>) -> Result<Option<std::path::PathBuf>, String> {
    dir.as_ref()
        .map(|d| {
            let c = std::fs::canonicalize(d).map_err(|e| {
                format!(
                    "error: --file-root {}: {e} (give an existing directory)",
                    d.display()
                )
            })?;
            if !c.is_dir() {
                return Err(format!(
                    "error: --file-root {}: not a directory",
                    d.display()
                ));
            }
            Ok(c)
        })
        .transpose()
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
