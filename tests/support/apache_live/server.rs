//! A private Apache httpd: found on the system, configured in a temporary
//! ServerRoot (never the system's /etc/apache2), checked with `-t`, run in
//! the foreground on 127.0.0.1 and stopped by its own PID.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable that names the httpd binary (else the usual places).
pub const BIN_VAR: &str = "SSLREQUIRE_APACHE";
/// The variable that names the modules directory (else the usual places).
pub const MODULES_VAR: &str = "SSLREQUIRE_APACHE_MODULES";

/// Modules the configuration loads (the MPM only where it is a module).
const MODULES: &[(&str, &str)] = &[
    ("authz_core_module", "mod_authz_core.so"),
    ("alias_module", "mod_alias.so"),
    ("cgid_module", "mod_cgid.so"),
    ("ssl_module", "mod_ssl.so"),
];

/// An Apache httpd installation.
#[derive(Clone, Debug)]
pub struct Apache {
    pub bin: PathBuf,
    pub modules: PathBuf,
    /// `mod_mpm_event.so` when the MPM is a loadable module (Debian).
    pub mpm: Option<PathBuf>,
    pub version: String,
}

/// [`find`] for a test labelled `label`: `None` (the test is skipped, with
/// a loud line on stderr) when no usable Apache is found locally; under CI
/// (`CI` set and not `false`/`0`) that is a failure instead.
pub fn find_or_skip(label: &str) -> Option<Apache> {
    let why = match find() {
        Ok(a) => return Some(a),
        Err(why) => why,
    };
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if ci {
        panic!("{label}: a real Apache httpd 2.4 with mod_ssl is required under CI: {why}");
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "{label}: SKIPPED, no usable Apache httpd: {why}. Install apache2 (Debian) or set {BIN_VAR}=/path/to/httpd."
    );
    None
}

/// Finds httpd and its modules; `Err` says why it cannot be used.
pub fn find() -> Result<Apache, String> {
    let bin = match std::env::var_os(BIN_VAR) {
        Some(p) => {
            let p = PathBuf::from(p);
            if !p.is_file() {
                return Err(format!("{BIN_VAR}={} does not exist", p.display()));
            }
            p
        }
        None => ["/usr/sbin/apache2", "/usr/sbin/httpd", "/usr/local/apache2/bin/httpd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or("no Apache httpd binary (looked for /usr/sbin/apache2, /usr/sbin/httpd, /usr/local/apache2/bin/httpd)")?,
    };
    let modules = match std::env::var_os(MODULES_VAR) {
        Some(p) => PathBuf::from(p),
        None => [
            "/usr/lib/apache2/modules",
            "/usr/lib64/httpd/modules",
            "/usr/lib/httpd/modules",
            "/usr/local/apache2/modules",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("mod_ssl.so").is_file())
        .ok_or("no Apache modules directory holding mod_ssl.so")?,
    };
    for (_, file) in MODULES {
        if !modules.join(file).is_file() {
            return Err(format!("{} is missing", modules.join(file).display()));
        }
    }
    let mpm = Some(modules.join("mod_mpm_event.so")).filter(|p| p.is_file());
    let out = Command::new(&bin)
        .arg("-v")
        .output()
        .map_err(|e| format!("{} -v: {e}", bin.display()))?;
    let version = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("Server version: ")
        .to_string();
    if !out.status.success() || !version.contains("Apache/2.4") {
        return Err(format!(
            "{} -v did not report Apache 2.4: {version:?}",
            bin.display()
        ));
    }
    Ok(Apache {
        bin,
        modules,
        mpm,
        version,
    })
}

/// The temporary ServerRoot, removed on drop (kept when
/// SSLREQUIRE_KEEP_WORKDIR is set, for debugging).
pub struct WorkDir {
    pub root: PathBuf,
}

impl WorkDir {
    pub fn new() -> WorkDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let root = std::env::temp_dir().join(format!(
            "sslrequire-apache-live-{}-{nanos}",
            std::process::id()
        ));
        for sub in ["", "conf", "certs", "data", "htdocs", "cgi", "logs", "run"] {
            let d = root.join(sub);
            std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
            // Apache's children run as another user when started by root.
            set_mode(&d, 0o755);
        }
        WorkDir { root }
    }

    pub fn path(&self, sub: &str) -> PathBuf {
        self.root.join(sub)
    }

    /// Writes a file readable by everyone (mode 0644, or 0755).
    pub fn write(&self, sub: &str, data: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        let p = self.root.join(sub);
        std::fs::write(&p, data).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        set_mode(&p, mode);
        p
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::env::var_os("SSLREQUIRE_KEEP_WORKDIR").is_some() {
            eprintln!(
                "apache-compat: work directory kept: {}",
                self.root.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

pub fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
}

/// A free loopback port (bound, then released for Apache).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// `User`/`Group` lines when running as root (Apache refuses to serve as
/// root): the first of www-data, daemon, nobody that exists.
fn user_lines() -> String {
    use std::os::unix::fs::MetadataExt;
    let euid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1);
    if euid != 0 {
        return String::new();
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for user in ["www-data", "daemon", "nobody"] {
        if let Some(line) = passwd.lines().find(|l| l.starts_with(&format!("{user}:"))) {
            let gid = line.split(':').nth(3).unwrap_or("65534");
            return format!("User {user}\nGroup #{gid}\n");
        }
    }
    "User #65534\nGroup #65534\n".to_string()
}

/// What the configuration serves.
#[derive(Clone, Copy)]
pub struct Site<'a> {
    pub port: u16,
    pub work: &'a WorkDir,
    /// (corpus index, expression) for each `<Location /e/N.txt>`.
    pub exprs: &'a [(usize, String)],
}

/// The configuration text and, per corpus index, the line of its
/// `SSLRequire`.
pub fn config(apache: &Apache, site: &Site<'_>) -> (String, BTreeMap<usize, usize>) {
    let w = site.work;
    let p = |s: &str| w.path(s).display().to_string();
    let mut c = String::new();
    let _ = writeln!(c, "# written by tests/apache_live.rs");
    let _ = writeln!(c, "ServerRoot {}", p(""));
    let _ = writeln!(c, "DefaultRuntimeDir {}", p("run"));
    let _ = writeln!(c, "PidFile {}", p("run/httpd.pid"));
    let _ = writeln!(c, "Mutex file:{} default", p("run"));
    let _ = writeln!(c, "ErrorLog {}", p("logs/error.log"));
    let _ = writeln!(c, "ErrorLogFormat \"[%l] [probe %{{X-Probe}}i] %M\"");
    let _ = writeln!(c, "LogLevel warn");
    if let Some(mpm) = &apache.mpm {
        let _ = writeln!(c, "LoadModule mpm_event_module {}", mpm.display());
    }
    for (name, file) in MODULES {
        let _ = writeln!(
            c,
            "LoadModule {name} {}",
            apache.modules.join(file).display()
        );
    }
    c.push_str(&user_lines());
    let _ = writeln!(c, "ServerName localhost");
    let _ = writeln!(c, "ServerAdmin admin@localhost");
    let _ = writeln!(c, "Listen 127.0.0.1:{}", site.port);
    let _ = writeln!(c, "ScriptSock {}", p("run/cgid.sock"));
    let _ = writeln!(
        c,
        "StartServers 2\nServerLimit 2\nThreadsPerChild 16\nMaxRequestWorkers 32"
    );
    let _ = writeln!(
        c,
        "KeepAlive On\nMaxKeepAliveRequests 0\nKeepAliveTimeout 30"
    );
    let _ = writeln!(c, "DocumentRoot {}", p("htdocs"));
    let _ = writeln!(c, "SSLEngine on");
    let _ = writeln!(c, "SSLProtocol -all +TLSv1.2 +TLSv1.3");
    for kind in ["rsa", "ec"] {
        let _ = writeln!(
            c,
            "SSLCertificateFile {}",
            p(&format!("certs/server-{kind}.pem"))
        );
        let _ = writeln!(
            c,
            "SSLCertificateKeyFile {}",
            p(&format!("certs/server-{kind}.key"))
        );
    }
    let _ = writeln!(c, "SSLCACertificateFile {}", p("certs/root-ca.pem"));
    let _ = writeln!(c, "SSLVerifyClient optional_no_ca");
    let _ = writeln!(c, "SSLVerifyDepth 5");
    let _ = writeln!(c, "ScriptAlias /env {}", p("cgi/env.cgi"));
    let _ = writeln!(
        c,
        "<Location /env>\nSSLOptions +StdEnvVars +ExportCertData\n</Location>"
    );
    let _ = writeln!(c, "AliasMatch ^/e/ {}", p("htdocs/ok.txt"));
    let mut lines = BTreeMap::new();
    for (n, expr) in site.exprs {
        let _ = writeln!(c, "<Location /e/{n}.txt>");
        lines.insert(c.lines().count() + 1, *n);
        let _ = writeln!(c, "SSLRequire {expr}");
        let _ = writeln!(c, "</Location>");
    }
    (c, lines)
}

/// `httpd -t`: None when the configuration is accepted, else the output.
pub fn check(apache: &Apache, conf: &Path) -> Option<String> {
    let out = Command::new(&apache.bin)
        .arg("-t")
        .arg("-f")
        .arg(conf)
        .env_clear()
        .envs(environment())
        .output()
        .expect("run httpd -t");
    if out.status.success() {
        None
    } else {
        Some(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The expressions Apache refuses at configuration time, with its
/// message: `httpd -t` stops at the first bad line, so each run finds one;
/// it is taken out and the rest checked again. Four interleaved shares of
/// the corpus are checked in parallel.
pub fn parse_errors(apache: &Apache, site: &Site<'_>) -> BTreeMap<usize, String> {
    const SHARES: usize = 4;
    let shares: Vec<Vec<(usize, String)>> = (0..SHARES)
        .map(|k| {
            site.exprs
                .iter()
                .enumerate()
                .filter(|(i, _)| i % SHARES == k)
                .map(|(_, e)| e.clone())
                .collect()
        })
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .iter()
            .enumerate()
            .map(|(k, exprs)| {
                scope.spawn(move || {
                    refused_in(
                        apache,
                        &Site { exprs, ..*site },
                        &format!("conf/check-{k}.conf"),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("httpd -t checker"))
            .collect()
    })
}

fn refused_in(apache: &Apache, site: &Site<'_>, conf: &str) -> BTreeMap<usize, String> {
    let mut refused = BTreeMap::new();
    let conf = site.work.path(conf);
    loop {
        let exprs: Vec<(usize, String)> = site
            .exprs
            .iter()
            .filter(|(n, _)| !refused.contains_key(n))
            .cloned()
            .collect();
        let (text, lines) = config(
            apache,
            &Site {
                exprs: &exprs,
                ..*site
            },
        );
        std::fs::write(&conf, text).expect("write check.conf");
        let Some(out) = check(apache, &conf) else {
            return refused;
        };
        // "AH00526: Syntax error on line 57 of /…/check.conf:\nSSLRequire: …"
        let line = out
            .split("Syntax error on line ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok());
        let Some(n) = line.and_then(|l| lines.get(&l)) else {
            panic!("httpd -t refused the configuration outside any SSLRequire line:\n{out}");
        };
        let message = out
            .lines()
            .skip_while(|l| !l.contains("Syntax error on line"))
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        refused.insert(*n, message);
    }
}

/// The environment Apache runs with: fixed, so `env()`/`osenv()` are known.
pub fn environment() -> Vec<(String, String)> {
    let mut env = vec![
        (
            "PATH".to_string(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        ),
        ("LANG".to_string(), "C".to_string()),
        ("COMPAT_MARK".to_string(), "marker value".to_string()),
    ];
    if let Ok(tz) = std::env::var("TZ") {
        env.push(("TZ".to_string(), tz));
    }
    env
}

/// A running httpd, stopped (SIGTERM to its PID, then SIGKILL) on drop.
pub struct Running {
    child: Child,
    pub pid: u32,
    error_log: PathBuf,
}

impl Running {
    pub fn start(apache: &Apache, conf: &Path, work: &WorkDir, port: u16) -> Running {
        let out = std::fs::File::create(work.path("logs/stdout.log")).expect("stdout log");
        let err = std::fs::File::create(work.path("logs/stderr.log")).expect("stderr log");
        let child = Command::new(&apache.bin)
            .arg("-f")
            .arg(conf)
            .arg("-DFOREGROUND")
            .env_clear()
            .envs(environment())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", apache.bin.display()));
        let mut running = Running {
            pid: child.id(),
            child,
            error_log: work.path("logs/error.log"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = running.child.try_wait() {
                panic!(
                    "httpd exited at start ({status}):\n{}\n{}",
                    std::fs::read_to_string(work.path("logs/stderr.log")).unwrap_or_default(),
                    running.error_log()
                );
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return running;
            }
            if Instant::now() > deadline {
                panic!(
                    "httpd did not listen on 127.0.0.1:{port}:\n{}",
                    running.error_log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn error_log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.error_log).unwrap_or_default()).into_owned()
    }

    /// Stops httpd now (also done on drop).
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -TERM {}", self.pid))
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

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}
