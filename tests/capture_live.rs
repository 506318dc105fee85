//! Captures from real servers (issue 18): a real Apache httpd 2.4 with
//! mod_ssl and a real nginx serve the live suite's clients over TLS 1.3 and
//! 1.2 on loopback, each writing its access log with the documented format
//! (`sslrequire::capture::{APACHE_LOG_FORMAT, NGINX_LOG_FORMAT}`); the logs
//! are audited and every verdict compared with the one Apache itself gave
//! (its `SSLRequire` for the same expression, client and TLS version).
//!
//! * Expressions: those of tests/compat/corpus.txt that read only what a
//!   log line carries (see `carried`: no file(), no process environment, no
//!   server version strings …); for nginx also no client chain beyond the
//!   leaf, no server certificate, no secure-renegotiation flag.
//! * Apache: one `<Location /e/N.txt>` with `SSLRequire` per expression (as
//!   tests/apache_live.rs); its access log line for each request carries
//!   the status (200 allow, 403 deny; 403 with "Failed to execute SSL
//!   requirement expression" in the error log = evaluation error).
//! * nginx: the same requests (it only serves and logs them).
//! * Each log line is read with `sslrequire::capture::parse` and evaluated;
//!   a sample of expressions also runs through `sslrequire audit` (the CLI),
//!   which must give the same rows.
//!
//! Prints `capture-compat: N sessions (apache-log N, nginx-log N, pcap N),
//! N agree, N differ` and fails on any difference. Without Apache or nginx
//! the test is skipped with a message, except under CI=true, where that
//! fails. SSLREQUIRE_NGINX names the nginx binary.

#[path = "support/apache_live/mod.rs"]
mod live;
#[path = "support/nginx.rs"]
mod nginx;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use live::client::{self, Conn, TlsChoice};
use live::pki::Pki;
use live::server::{self, Running, Site, WorkDir};
use sslrequire::capture::{self, Format, APACHE_LOG_FORMAT, NGINX_LOG_FORMAT};
use sslrequire::env::{CoreVar, SessionVar, Side, Table, Var};
use sslrequire::session::{EnvOptions, SessionEnv};
use sslrequire::{Machine, Program};

fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Under CI a missing server fails; locally it is skipped, loudly.
fn missing(what: &str, why: &str) {
    if ci() {
        panic!("capture-compat: {what} is required under CI: {why}");
    }
    say(&format!(
        "capture-compat: SKIPPED ********** no usable {what}: {why}. Install it (see .ci/run) to run this test. **********"
    ));
}

/// Request headers the clients send, and which of them the documented
/// formats log.
const SENT: &[&str] = &["Host", "User-Agent", "Accept", "X-Probe"];
const LOGGED_HEADERS: &[&str] = &["Host", "User-Agent", "Referer", "Accept"];
const USER_AGENT: &str = "sslrequire-capture/1.0";

/// Whether a log line written with the documented format holds what
/// `var` needs to have Apache's value.
fn carried(var: &Var, format: Format) -> bool {
    let nginx = format == Format::Nginx;
    match var {
        Var::Session(v) => match v {
            // Server version strings: not in a log.
            SessionVar::VersionInterface | SessionVar::VersionLibrary => false,
            // nginx has no variable for these.
            SessionVar::SecureReneg | SessionVar::SessionId => !nginx,
            _ => true,
        },
        Var::Cert(Side::Client, _) => true,
        // nginx logs no server certificate and only the client's leaf.
        Var::Cert(Side::Server, _) | Var::ClientCertChain(_) => !nginx,
        Var::Core(c) => {
            if let Some(h) = c.request_header() {
                return LOGGED_HEADERS.contains(&h)
                    || !SENT.iter().any(|s| s.eq_ignore_ascii_case(h));
            }
            match c.name() {
                "HTTPS" | "REMOTE_ADDR" | "REMOTE_PORT" | "SERVER_NAME" | "SERVER_PORT"
                | "THE_REQUEST" | "REQUEST_METHOD" | "REQUEST_URI" | "QUERY_STRING"
                | "SERVER_PROTOCOL" | "REMOTE_USER" => true,
                // nginx's root is not Apache's DocumentRoot.
                "REQUEST_FILENAME" => !nginx,
                n => n.starts_with("TIME"),
            }
        }
        Var::Lookup(Table::RequestHeader, h) => {
            LOGGED_HEADERS.iter().any(|l| l.eq_ignore_ascii_case(h))
                || !SENT.iter().any(|s| s.eq_ignore_ascii_case(h))
        }
        // Notes, environments, response headers: not in a log.
        Var::Lookup(..) => false,
        // A kind of variable this test does not know: not carried.
        _ => false,
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Verdict {
    Allow,
    Deny,
    Error,
    Other(String),
}

fn target(n: usize) -> String {
    format!("/e/{n}.txt?n={n}&q=caf%C3%A9")
}

/// One client certificate over one TLS version.
#[derive(Clone, Copy)]
struct Task {
    client: usize,
    choice: TlsChoice,
}

fn tasks(pki: &Pki) -> Vec<Task> {
    let mut out = Vec::new();
    for (i, _) in pki.clients.iter().enumerate() {
        for tls13 in [true, false] {
            out.push(Task {
                client: i,
                choice: TlsChoice {
                    tls13,
                    rsa_server: (i % 2 == 0) ^ tls13,
                    cipher: (i + usize::from(tls13)) % 3,
                },
            });
        }
    }
    out
}

/// Requests every expression's URL for every task (one keep-alive
/// connection per task, renewed when the server closes it). Returns the
/// task of each client port.
fn run_requests(
    port: u16,
    pki: &Pki,
    roots: &rustls::RootCertStore,
    tasks: &[Task],
    exprs: &[usize],
) -> HashMap<u16, usize> {
    let ports = Mutex::new(HashMap::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let t = next.fetch_add(1, Ordering::SeqCst);
                let Some(task) = tasks.get(t) else { break };
                let client = &pki.clients[task.client];
                let host = format!("localhost:{port}");
                let mut conn: Option<Conn> = None;
                let mut i = 0;
                let mut failures = 0;
                while i < exprs.len() {
                    if conn.is_none() {
                        let c = client::connect(
                            port,
                            roots,
                            &client.chain,
                            client.key.as_deref(),
                            task.choice,
                        )
                        .unwrap_or_else(|e| panic!("{}: TLS connection failed: {e}", client.name));
                        ports.lock().unwrap().insert(c.local_port, t);
                        conn = Some(c);
                    }
                    let n = exprs[i];
                    let probe = format!("{t}.{n}");
                    let c = conn.as_mut().expect("connected");
                    match c.get(
                        &target(n),
                        &[
                            ("Host", &host),
                            ("User-Agent", USER_AGENT),
                            ("Accept", "*/*"),
                            ("X-Probe", &probe),
                        ],
                    ) {
                        Ok(resp) => {
                            i += 1;
                            if resp
                                .header("Connection")
                                .is_some_and(|v| v.eq_ignore_ascii_case("close"))
                            {
                                conn = None;
                            }
                        }
                        Err(e) => {
                            failures += 1;
                            assert!(failures < 5, "{}: GET {}: {e}", client.name, target(n));
                            conn = None;
                        }
                    }
                }
            });
        }
    });
    ports.into_inner().unwrap()
}

fn pem(ders: &[Vec<u8>]) -> String {
    live::der::pem(&ders.iter().map(Vec::as_slice).collect::<Vec<_>>())
}

fn write_certs(work: &WorkDir, pki: &Pki) {
    let key = |der: &[u8]| live::der::pem_block("PRIVATE KEY", &[der]);
    work.write(
        "certs/root-ca.pem",
        pem(std::slice::from_ref(&pki.root.der)),
        0o644,
    );
    work.write("certs/server-rsa.pem", pem(&pki.server_rsa.0), 0o644);
    work.write("certs/server-rsa.key", key(&pki.server_rsa.1), 0o600);
    work.write("certs/server-ec.pem", pem(&pki.server_ec.0), 0o644);
    work.write("certs/server-ec.key", key(&pki.server_ec.1), 0o600);
    work.write("htdocs/ok.txt", "ok\n", 0o644);
}

/// A log line's task (by the client's port) and expression (by its URI).
fn line_key(c: &capture::Capture, ports: &HashMap<u16, usize>) -> Result<(usize, usize), String> {
    use sslrequire::Env as _;
    let env = SessionEnv::new(&c.session, EnvOptions::default());
    let core = |name: &str| {
        let var = Var::Core(CoreVar::lookup(name, sslrequire::Dialect::V24).expect(name));
        String::from_utf8_lossy(env.var(&var).unwrap_or_default()).into_owned()
    };
    let port: u16 = core("REMOTE_PORT").parse().map_err(|_| "no REMOTE_PORT")?;
    let task = *ports.get(&port).ok_or("a port no client used")?;
    let uri = core("REQUEST_URI");
    let n = uri
        .strip_prefix("/e/")
        .and_then(|r| r.strip_suffix(".txt"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unexpected URI {uri}"))?;
    Ok((task, n))
}

/// The nginx configuration: its access log with the documented format.
fn nginx_config(work: &WorkDir, port: u16) -> String {
    let p = |s: &str| work.path(s).display().to_string();
    let mut c = String::new();
    c.push_str("daemon off;\nmaster_process on;\nworker_processes 1;\n");
    c.push_str(&format!(
        "pid {};\nerror_log {} warn;\n",
        p("run/nginx.pid"),
        p("logs/nginx-error.log")
    ));
    c.push_str("events { worker_connections 256; }\nhttp {\n");
    for t in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        c.push_str(&format!("  {t}_temp_path {};\n", p(&format!("run/{t}"))));
    }
    c.push_str(&format!("  {NGINX_LOG_FORMAT}\n"));
    c.push_str(&format!(
        "  access_log {} sslrequire;\n",
        p("logs/nginx-access.log")
    ));
    c.push_str("  keepalive_requests 100000;\n");
    c.push_str(&format!(
        "  server {{\n    listen 127.0.0.1:{port} ssl;\n    server_name localhost;\n"
    ));
    c.push_str("    ssl_protocols TLSv1.2 TLSv1.3;\n");
    for kind in ["rsa", "ec"] {
        c.push_str(&format!(
            "    ssl_certificate {};\n    ssl_certificate_key {};\n",
            p(&format!("certs/server-{kind}.pem")),
            p(&format!("certs/server-{kind}.key"))
        ));
    }
    c.push_str(&format!(
        "    ssl_client_certificate {};\n    ssl_verify_client optional_no_ca;\n    ssl_verify_depth 5;\n",
        p("certs/root-ca.pem")
    ));
    c.push_str(&format!("    root {};\n", p("htdocs")));
    c.push_str("    location /e/ { return 200 \"ok\\n\"; }\n  }\n}\n");
    c
}

/// Options under which sslrequire sees what this Apache sees: every file
/// the server can read (the library's default reads none).
fn as_apache() -> EnvOptions {
    EnvOptions {
        files: sslrequire::env::FileAccess::under("/").expect("/"),
        ..EnvOptions::default()
    }
}

/// sslrequire's verdict on one log line's session.
fn ours(program: &Program, m: &mut Machine, c: &capture::Capture, opts: &EnvOptions) -> Verdict {
    let env = SessionEnv::new(&c.session, opts.clone());
    match program.eval_with(m, &env) {
        Ok(true) => Verdict::Allow,
        Ok(false) => Verdict::Deny,
        Err(_) => Verdict::Error,
    }
}

fn read(format: Format, line: &str) -> capture::Capture {
    capture::parse(format, line).unwrap_or_else(|e| panic!("{format} log line {line:?}: {e}"))
}

/// The CLI's verdicts on a file of log lines (`audit --json`).
fn cli_verdicts(format: Format, lines: &[&str], expr: &str, work: &WorkDir) -> Vec<Verdict> {
    let file = work.write(
        &format!("logs/cli-{}.log", format.name()),
        lines.join("\n") + "\n",
        0o644,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_sslrequire"))
        .args([
            "audit",
            "--json",
            "--file-root",
            "/",
            "--format",
            format.name(),
            "--sessions",
        ])
        .arg(&file)
        .arg("--")
        .arg(expr)
        .output()
        .expect("run sslrequire audit");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON row");
            match v["verdict"].as_str() {
                Some("allow") => Verdict::Allow,
                Some("deny") => Verdict::Deny,
                Some("error") => Verdict::Error,
                other => Verdict::Other(format!("{other:?}")),
            }
        })
        .collect()
}

/// Whether the session rebuilt from a packet capture holds what `var`
/// needs: the handshake and the TCP connection, not the (encrypted) request.
fn carried_by_pcap(var: &Var) -> bool {
    match var {
        Var::Session(v) => !matches!(
            v,
            SessionVar::VersionInterface | SessionVar::VersionLibrary | SessionVar::SessionId
        ),
        Var::Cert(..) | Var::ClientCertChain(_) => true,
        Var::Core(c) => {
            c.request_header().is_none()
                && (matches!(c.name(), "HTTPS" | "REMOTE_ADDR" | "CONN_REMOTE_ADDR")
                    || c.name().starts_with("TIME"))
        }
        Var::Lookup(..) => false,
        // A kind of variable this test does not know: not carried.
        _ => false,
    }
}

/// The clients' TLS secrets, as an SSLKEYLOGFILE.
#[derive(Debug)]
struct KeyLogFile(Mutex<std::fs::File>);

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        use std::io::Write as _;
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let mut f = self.0.lock().unwrap();
        writeln!(f, "{label} {} {}", hex(client_random), hex(secret)).expect("write the key log");
    }
}

/// tcpdump on the loopback interface, stopped by its own PID.
struct Tcpdump {
    child: Child,
    stderr: PathBuf,
}

impl Tcpdump {
    fn find() -> Result<PathBuf, String> {
        ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| "no tcpdump (looked in /usr/bin, /usr/sbin)".to_string())
    }

    fn start(bin: &Path, work: &WorkDir, port: u16) -> Result<Tcpdump, String> {
        let stderr = work.path("logs/tcpdump.err");
        let err = std::fs::File::create(&stderr).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .args(["-i", "lo", "-U", "-s", "0", "-w"])
            .arg(work.path("logs/capture.pcap"))
            .arg(format!("tcp port {port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .map_err(|e| format!("start {}: {e}", bin.display()))?;
        let mut t = Tcpdump { child, stderr };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&t.stderr).unwrap_or_default();
            if text.contains("listening on") {
                return Ok(t);
            }
            if let Ok(Some(status)) = t.child.try_wait() {
                return Err(format!("tcpdump exited ({status}): {text}"));
            }
            if Instant::now() > deadline {
                t.stop();
                return Err(format!("tcpdump did not start listening: {text}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it (SIGINT: the file is complete) and returns its report.
    fn stop(&mut self) -> String {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg("-INT")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One TLS connection per task, captured: one request on each, so the
/// server has read the client's whole flight. Returns each connection's
/// task, by the client's port.
fn captured_connections(
    port: u16,
    pki: &Pki,
    roots: &rustls::RootCertStore,
    tasks: &[Task],
    key_log: &std::sync::Arc<KeyLogFile>,
    n: usize,
) -> HashMap<u16, usize> {
    let mut ports = HashMap::new();
    for (t, task) in tasks.iter().enumerate() {
        let client = &pki.clients[task.client];
        let mut c = client::connect_logged(
            port,
            roots,
            &client.chain,
            client.key.as_deref(),
            task.choice,
            Some(key_log.clone()),
        )
        .unwrap_or_else(|e| panic!("{}: TLS connection failed: {e}", client.name));
        let host = format!("localhost:{port}");
        c.get(&target(n), &[("Host", &host), ("User-Agent", USER_AGENT)])
            .unwrap_or_else(|e| panic!("{}: GET: {e}", client.name));
        ports.insert(c.local_port, t);
    }
    ports
}

#[test]
fn audits_of_real_server_logs_agree_with_apache() {
    let started = Instant::now();
    let apache = match server::find() {
        Ok(a) => a,
        Err(why) => return missing("Apache httpd 2.4 with mod_ssl", &why),
    };
    // Without nginx (locally) its part is skipped, loudly; the rest runs.
    let nginx_bin = nginx::find().map_err(|why| missing("nginx", &why)).ok();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let pki = Pki::generate(now);
    let work = WorkDir::new();
    write_certs(&work, &pki);

    // The expressions: compiled by sslrequire (what it refuses, Apache
    // refuses too: tests/apache_live.rs) and reading only what the log
    // carries.
    let corpus = live::files::corpus_without_data();
    let mut programs: BTreeMap<usize, (String, Program)> = BTreeMap::new();
    let mut apache_set = Vec::new();
    let mut nginx_set = BTreeSet::new();
    for (n, e) in &corpus {
        let Ok(p) = Program::new(e) else { continue };
        // -U/-A (subrequests) are refused by sslrequire; PeerExtList and
        // other function reads are covered by the variable check.
        if !p.vars().iter().all(|v| carried(v, Format::Apache)) {
            continue;
        }
        apache_set.push((*n, e.clone()));
        if p.vars().iter().all(|v| carried(v, Format::Nginx)) {
            nginx_set.insert(*n);
        }
        programs.insert(*n, (e.clone(), p));
    }
    let ns: Vec<usize> = apache_set.iter().map(|(n, _)| *n).collect();

    // --- Apache ---------------------------------------------------------
    let port = server::free_port();
    let site = Site {
        port,
        work: &work,
        exprs: &apache_set,
    };
    let (mut conf_text, _) = server::config(&apache, &site);
    conf_text.push_str(APACHE_LOG_FORMAT);
    conf_text.push('\n');
    conf_text.push_str(&format!(
        "CustomLog {} sslrequire\n",
        work.path("logs/access.log").display()
    ));
    let conf = work.write("conf/httpd.conf", conf_text, 0o644);
    if let Some(out) = server::check(&apache, &conf) {
        panic!("httpd -t refused the configuration:\n{out}");
    }
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            pki.root.der.clone(),
        ))
        .expect("root");
    let tasks = tasks(&pki);
    let mut httpd = Running::start(&apache, &conf, &work, port);
    let apache_ports = run_requests(port, &pki, &roots, &tasks, &ns);
    // The same clients again, captured by tcpdump with their key log.
    let pcap_ports = match Tcpdump::find() {
        Err(why) => {
            missing("tcpdump", &why);
            None
        }
        Ok(bin) => {
            let mut tcpdump = Tcpdump::start(&bin, &work, port)
                .unwrap_or_else(|e| panic!("capture-compat: tcpdump: {e}"));
            let key_log = std::sync::Arc::new(KeyLogFile(Mutex::new(
                std::fs::File::create(work.path("logs/keys.log")).expect("key log"),
            )));
            let ports = captured_connections(port, &pki, &roots, &tasks, &key_log, ns[0]);
            // tcpdump may lag behind (a busy machine): wait until the file
            // has not grown for a second.
            let pcap = work.path("logs/capture.pcap");
            let size = || std::fs::metadata(&pcap).map(|m| m.len()).unwrap_or(0);
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut last = (size(), Instant::now());
            while Instant::now() < deadline && last.1.elapsed() < Duration::from_secs(1) {
                std::thread::sleep(Duration::from_millis(50));
                let now = size();
                if now != last.0 {
                    last = (now, Instant::now());
                }
            }
            let report = tcpdump.stop();
            assert!(
                report
                    .lines()
                    .any(|l| l.trim() == "0 packets dropped by kernel"),
                "tcpdump dropped packets:\n{report}"
            );
            Some(ports)
        }
    };
    let error_log = httpd.error_log();
    httpd.stop();
    let failed: BTreeSet<String> = error_log
        .lines()
        .filter(|l| l.contains("Failed to execute SSL requirement expression"))
        .filter_map(|l| {
            let p = l.find("[probe ")?;
            Some(l[p + 7..].split(']').next()?.to_string())
        })
        .collect();
    let apache_log = std::fs::read_to_string(work.path("logs/access.log")).expect("access.log");

    // --- nginx ----------------------------------------------------------
    let nginx_ns: Vec<usize> = nginx_set.iter().copied().collect();
    let (nginx_ports, nginx_log) = match &nginx_bin {
        Some(bin) => {
            let nport = server::free_port();
            let conf = nginx_config(&work, nport);
            let mut nginx =
                nginx::Nginx::start(bin, &work.root, &conf, nport).unwrap_or_else(|e| {
                    panic!("capture-compat: nginx is installed but did not start: {e}")
                });
            let ports = run_requests(nport, &pki, &roots, &tasks, &nginx_ns);
            nginx.stop();
            let log = std::fs::read_to_string(work.path("logs/nginx-access.log"))
                .expect("nginx access log");
            (ports, log)
        }
        None => (HashMap::new(), String::new()),
    };

    let served = started.elapsed().as_secs_f64();
    // --- the verdicts -----------------------------------------------------
    let mut m = Machine::new();
    let mut apache_verdict: HashMap<(usize, usize), Verdict> = HashMap::new();
    let mut apache_verify: HashMap<usize, String> = HashMap::new();
    let (mut sessions, mut agree) = (0usize, 0usize);
    let mut differ: Vec<String> = Vec::new();
    let name = |t: usize| {
        let task = tasks[t];
        format!(
            "{}@TLSv1.{}",
            pki.clients[task.client].name,
            if task.choice.tls13 { 3 } else { 2 }
        )
    };
    let mut apache_lines: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    let mut apache_count = 0;
    let opts = as_apache();
    // The captured connections' requests are in the log too.
    let mut all_ports = apache_ports.clone();
    all_ports.extend(pcap_ports.iter().flatten().map(|(p, t)| (*p, *t)));
    let mut parsed: Vec<(usize, usize, &str, capture::Capture)> = Vec::new();
    for line in apache_log.lines() {
        let c = read(Format::Apache, line);
        let (t, n) =
            line_key(&c, &all_ports).unwrap_or_else(|e| panic!("apache log line {line:?}: {e}"));
        parsed.push((t, n, line, c));
    }
    for (t, n, line, c) in &parsed {
        let (t, n) = (*t, *n);
        let theirs = match c.status {
            Some(200) => Verdict::Allow,
            Some(403) if failed.contains(&format!("{t}.{n}")) => Verdict::Error,
            Some(403) => Verdict::Deny,
            s => Verdict::Other(format!("HTTP {s:?}")),
        };
        let mine = ours(&programs[&n].1, &mut m, c, &opts);
        apache_verify.insert(t, c.session.verify.clone().unwrap_or_default());
        sessions += 1;
        apache_count += 1;
        if mine == theirs {
            agree += 1;
        } else {
            differ.push(format!(
                "apache-log {} `{}`: Apache {theirs:?}, sslrequire {mine:?}",
                name(t),
                programs[&n].0
            ));
        }
        apache_verdict.insert((t, n), theirs);
        apache_lines.entry(n).or_default().push(line);
    }
    assert_eq!(
        apache_count,
        tasks.len() * ns.len() + pcap_ports.as_ref().map_or(0, HashMap::len),
        "one Apache log line per request"
    );

    let mut nginx_lines: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    let mut nginx_count = 0usize;
    for line in nginx_log.lines() {
        let c = read(Format::Nginx, line);
        let (t, n) =
            line_key(&c, &nginx_ports).unwrap_or_else(|e| panic!("nginx log line {line:?}: {e}"));
        let mine = ours(&programs[&n].1, &mut m, &c, &opts);
        let verify = c.session.verify.clone().unwrap_or_default();
        // nginx wrote its own verification result; read back it must be
        // mod_ssl's (GENEROUS for an unknown CA over TLS 1.2).
        assert_eq!(
            verify, apache_verify[&t],
            "nginx log line {line:?}: SSL_CLIENT_VERIFY"
        );
        let theirs = apache_verdict[&(t, n)].clone();
        sessions += 1;
        nginx_count += 1;
        if mine == theirs {
            agree += 1;
        } else {
            differ.push(format!(
                "nginx-log {} `{}`: Apache {theirs:?}, sslrequire {mine:?}",
                name(t),
                programs[&n].0
            ));
        }
        nginx_lines.entry(n).or_default().push(line);
    }

    // --- the packet capture ----------------------------------------------
    let mut pcap_count = 0usize;
    let mut pcap_exprs = 0usize;
    if let Some(ports) = &pcap_ports {
        use sslrequire::env::verify::{Verifier, VerifyMode};
        // What Apache's configuration says: SSLCACertificateFile,
        // SSLVerifyDepth 5, SSLVerifyClient optional_no_ca.
        let verifier = Verifier::new(vec![pki.root.der.clone()], 5, VerifyMode::OptionalNoCa)
            .expect("verifier");
        let popts = EnvOptions {
            verifier: Some(std::sync::Arc::new(verifier)),
            ..as_apache()
        };
        let keylog_text = std::fs::read_to_string(work.path("logs/keys.log")).expect("key log");
        let keylog = capture::pcap::KeyLog::parse(&keylog_text).expect("the clients' key log");
        let file = std::fs::File::open(work.path("logs/capture.pcap")).expect("capture.pcap");
        let pexprs: Vec<usize> = ns
            .iter()
            .copied()
            .filter(|n| programs[n].1.vars().iter().all(carried_by_pcap))
            .collect();
        pcap_exprs = pexprs.len();
        let mut seen = BTreeSet::new();
        for conn in capture::pcap::Reader::new(file, Some(&keylog)).expect("a pcap file") {
            let conn = conn.expect("the capture reads");
            let t = *ports
                .get(&conn.client.port())
                .unwrap_or_else(|| panic!("a connection no client made: {}", conn.name()));
            let cname = conn.name();
            let session = conn
                .session
                .unwrap_or_else(|e| panic!("{cname} ({}): not rebuilt: {e}", name(t)));
            seen.insert(t);
            pcap_count += 1;
            let c = capture::Capture {
                session,
                status: None,
                warnings: Vec::new(),
            };
            for n in &pexprs {
                let theirs = &apache_verdict[&(t, *n)];
                let mine = ours(&programs[n].1, &mut m, &c, &popts);
                if mine == *theirs {
                    agree += 1;
                } else {
                    differ.push(format!(
                        "pcap {} `{}`: Apache {theirs:?}, sslrequire {mine:?}",
                        name(t),
                        programs[n].0
                    ));
                }
            }
        }
        assert_eq!(
            seen.len(),
            tasks.len(),
            "one captured connection per client and TLS version"
        );
        // The CLI on the same capture.
        let cli = Command::new(env!("CARGO_BIN_EXE_sslrequire"))
            .args([
                "audit",
                "--json",
                "--verify-depth",
                "5",
                "--verify-client",
                "optional_no_ca",
            ])
            .arg("--ca")
            .arg(work.path("certs/root-ca.pem"))
            .arg("--pcap")
            .arg(work.path("logs/capture.pcap"))
            .arg("--keylog")
            .arg(work.path("logs/keys.log"))
            .arg("--")
            .arg(r#"%{SSL_CLIENT_VERIFY} == "SUCCESS" || %{SSL_CLIENT_VERIFY} == "NONE""#)
            .output()
            .expect("run sslrequire audit --pcap");
        let rows = String::from_utf8_lossy(&cli.stdout);
        assert_eq!(
            rows.lines().count(),
            tasks.len(),
            "{rows}{}",
            String::from_utf8_lossy(&cli.stderr)
        );
        assert!(!rows.contains("\"error\""), "{rows}");
    }

    // The CLI over a sample of expressions gives the library's verdicts.
    let mut cli_checked = 0;
    for (format, lines) in [
        (Format::Apache, &apache_lines),
        (Format::Nginx, &nginx_lines),
    ] {
        for (n, ls) in lines.iter().step_by(lines.len().div_ceil(12).max(1)) {
            let (expr, program) = &programs[n];
            let via_cli = cli_verdicts(format, ls, expr, &work);
            let direct: Vec<Verdict> = ls
                .iter()
                .map(|l| ours(program, &mut m, &read(format, l), &opts))
                .collect();
            assert_eq!(
                via_cli, direct,
                "{format} `{expr}`: the CLI and the library differ"
            );
            cli_checked += ls.len();
        }
    }

    sessions += pcap_count;
    say(&format!(
        "capture-compat: {sessions} sessions (apache-log {apache_count}, nginx-log {nginx_count}, pcap {pcap_count}), {agree} agree, {} differ",
        differ.len()
    ));
    say(&format!(
        "capture-compat: {} of {} corpus expressions read only what an Apache log carries ({} an nginx log); {} clients x 2 TLS versions; {cli_checked} rows also through `sslrequire audit`; {pcap_count} captured connections x {pcap_exprs} expressions (those reading only the handshake and the connection); {served:.1} s serving, {:.1} s in all",
        ns.len(),
        corpus.len(),
        nginx_ns.len(),
        pki.clients.len(),
        started.elapsed().as_secs_f64()
    ));
    assert!(
        differ.is_empty(),
        "{} verdicts differ from Apache's:\n{}",
        differ.len(),
        differ
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(apache_count > 0 && (nginx_count > 0 || nginx_bin.is_none()));
}
