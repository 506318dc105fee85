//! A private nginx for the live tests: found on the system, run in the
//! foreground from a temporary prefix with the test's own configuration
//! (127.0.0.1 only, never the system's /etc/nginx), stopped by its own PID,
//! also when the test panics (Drop).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable that names the nginx binary (else the usual places).
pub const BIN_VAR: &str = "SSLREQUIRE_NGINX";

/// Finds the nginx binary; `Err` says why there is none.
pub fn find() -> Result<PathBuf, String> {
    match std::env::var_os(BIN_VAR) {
        Some(p) if Path::new(&p).is_file() => Ok(PathBuf::from(p)),
        Some(p) => Err(format!("{BIN_VAR}={} does not exist", p.to_string_lossy())),
        None => [
            "/usr/sbin/nginx",
            "/usr/local/sbin/nginx",
            "/usr/local/nginx/sbin/nginx",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| "no nginx binary (looked in /usr/sbin, /usr/local/sbin)".to_string()),
    }
}

/// Whether `CI` is set (and not `false`/`0`).
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// [`find`] for a test labelled `label`: None (skipped, loudly) when
/// nginx is missing locally; under CI that fails instead.
pub fn find_or_skip(label: &str) -> Option<PathBuf> {
    match find() {
        Ok(p) => Some(p),
        Err(why) => {
            skip(label, &why);
            None
        }
    }
}

/// Says a part of `label` cannot run, loudly; panics under CI.
pub fn skip(label: &str, why: &str) {
    if ci() {
        panic!("{label}: required under CI: {why}");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "{label}: SKIPPED ********** {why}. Install it (see .ci/run) to run this test. **********"
    );
}

/// The mail module nginx loads (`load_module`), if installed.
pub fn mail_module() -> Result<PathBuf, String> {
    let p = std::env::var_os("SSLREQUIRE_NGINX_MAIL_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/nginx/modules/ngx_mail_module.so"));
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "no nginx mail module at {} (Debian: libnginx-mod-mail; or set SSLREQUIRE_NGINX_MAIL_MODULE)",
            p.display()
        ))
    }
}

/// A running nginx.
pub struct Nginx {
    child: Child,
}

impl Nginx {
    /// Starts `bin` with prefix `prefix` and `conf` (written there as
    /// conf/nginx.conf; it must say `daemon off;` and put its pid and logs
    /// under the prefix), and waits until `port` accepts connections.
    pub fn start(bin: &Path, prefix: &Path, conf: &str, port: u16) -> Result<Nginx, String> {
        for sub in ["conf", "logs", "run"] {
            std::fs::create_dir_all(prefix.join(sub)).map_err(|e| e.to_string())?;
        }
        let conf_path = prefix.join("conf/nginx.conf");
        std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(prefix.join("logs/nginx-error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start {}: {e}", bin.display()))?;
        let mut n = Nginx { child };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = n.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = n.child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("nginx exited at start ({status}): {err}"));
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(n);
            }
            if Instant::now() > deadline {
                return Err(format!("nginx did not listen on 127.0.0.1:{port}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops nginx gracefully (SIGQUIT: its logs written), by its PID.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-QUIT")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The `auth_request` location of the README (the variables nginx passes),
/// proxied to `upstream`.
pub fn auth_location(upstream: &str) -> String {
    format!(
        r#"    location = /_sslrequire {{
        internal;
        proxy_pass http://{upstream};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header Host $http_host;
        proxy_set_header X-SSLRequire-Uri $request_uri;
        proxy_set_header X-SSLRequire-Request $request;
        proxy_set_header X-SSLRequire-Method $request_method;
        proxy_set_header X-SSLRequire-Server-Protocol $server_protocol;
        proxy_set_header X-SSLRequire-Remote-Addr $remote_addr;
        proxy_set_header X-SSLRequire-Remote-Port $remote_port;
        proxy_set_header X-SSLRequire-Remote-User $remote_user;
        proxy_set_header X-SSLRequire-Server-Name $server_name;
        proxy_set_header X-SSLRequire-Server-Port $server_port;
        proxy_set_header X-SSLRequire-SSL-Protocol $ssl_protocol;
        proxy_set_header X-SSLRequire-SSL-Cipher $ssl_cipher;
        proxy_set_header X-SSLRequire-SSL-Server-Name $ssl_server_name;
        proxy_set_header X-SSLRequire-SSL-Session-Id $ssl_session_id;
        proxy_set_header X-SSLRequire-SSL-Session-Reused $ssl_session_reused;
        proxy_set_header X-SSLRequire-SSL-Client-Verify $ssl_client_verify;
        proxy_set_header X-SSLRequire-SSL-Client-Cert $ssl_client_escaped_cert;
    }}
"#
    )
}

/// The beginning of every configuration here: foreground, pid and logs in
/// the prefix.
pub fn preamble(prefix: &Path, modules: &str) -> String {
    let p = |s: &str| prefix.join(s).display().to_string();
    let mut c = format!(
        "{modules}daemon off;\nmaster_process on;\nworker_processes 1;\npid {};\nerror_log {} info;\nevents {{ worker_connections 512; }}\n",
        p("run/nginx.pid"),
        p("logs/nginx-error.log")
    );
    c.push_str("http {\n  access_log off;\n  keepalive_requests 100000;\n");
    for t in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        c.push_str(&format!("  {t}_temp_path {};\n", p(&format!("run/{t}"))));
    }
    c
}
