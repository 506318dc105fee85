//! `sslrequire serve …`: policy servers that decide with SSLRequire rules.
//!
//! What every server shares lives here: the command-line flags, the policy
//! file ([`policy`]) and its reload on SIGHUP, the listeners, the bounds on
//! connections and requests, and the one-line-per-event log on stderr. A
//! server (e.g. [`postfix`]) brings its protocol: how a request is read,
//! mapped onto variables and answered; [`nginx`] speaks HTTP (nginx's mail
//! `auth_http` and HTTP `auth_request`).

pub mod nginx;
pub mod policy;
pub mod postfix;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use clap::{Args, Subcommand};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::output::outln;
use crate::Outcome;
use policy::{Policy, Protocol};

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub server: Server,
}

#[derive(Subcommand, Debug)]
pub enum Server {
    /// A Postfix SMTPD access policy server (check_policy_service): each
    /// request's TLS attributes become SSL_* variables, the policy file's
    /// rules decide the answer. Logs one line per decision on stderr.
    ///
    /// Example: sslrequire serve postfix --policy /etc/postfix/sslrequire.toml --listen 127.0.0.1:10040
    Postfix(ServeCommon),
    /// An nginx auth server: the mail proxy's auth_http (Auth-SSL-*
    /// headers) and HTTP's auth_request (the README's snippet passes
    /// nginx's $ssl_* variables); the policy file's rules decide per
    /// protocol and URI prefix. Logs one line per decision on stderr.
    ///
    /// Example: sslrequire serve nginx --policy /etc/nginx/sslrequire.toml --listen 127.0.0.1:10041
    Nginx(ServeCommon),
}

/// The flags every server takes.
#[derive(Args, Debug, Clone)]
pub struct ServeCommon {
    /// The policy file (TOML; format in the README). Reloaded on SIGHUP; a
    /// file that does not load is refused and the old one kept.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Where to listen, as ADDR:PORT or NAME=ADDR:PORT (rules may name the
    /// listeners they apply to; the name defaults to ADDR:PORT).
    /// Repeatable. Port 0 picks a free port (logged at start).
    #[arg(long, value_name = "[NAME=]ADDR:PORT", default_value = "127.0.0.1:10040", value_parser = parse_listen)]
    pub listen: Vec<(String, SocketAddr)>,
    /// Load and compile the policy file, report, and exit (0 = loads).
    #[arg(long)]
    pub check: bool,
    /// The longest request line accepted, in bytes (a longer one closes the
    /// connection after a safe answer). Default: 4096 for postfix (one
    /// attribute line); 262144 for nginx (one request head, whose escaped
    /// client certificate is the longest header).
    #[arg(long, value_name = "BYTES")]
    pub max_line: Option<usize>,
    /// The most attributes (nginx: headers) one request may have.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub max_attributes: usize,
    /// Seconds a connection may stay idle (Postfix's own default
    /// smtpd_policy_service_max_idle is 300 s; it reconnects as needed).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub idle_timeout: u64,
    /// The most connections served at once; more are closed and logged.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,
}

fn parse_listen(s: &str) -> Result<(String, SocketAddr), String> {
    let (name, addr) = match s.split_once('=') {
        Some((n, a)) if !n.is_empty() => (n.to_string(), a),
        Some(_) => return Err(format!("`{s}`: the listener name before `=` is empty")),
        None => (s.to_string(), s),
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| format!("`{addr}` is not ADDR:PORT ({e}); e.g. 127.0.0.1:10040"))?;
    Ok((name, addr))
}

/// Writes one log line to stderr: UTC time, the server, the message.
pub fn log(server: &str, msg: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let line = format!(
        "{} sslrequire serve {server}: {msg}\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
    // One write per line, so concurrent connections do not interleave.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// What every connection shares: the current policy (swapped on reload)
/// and the bounds.
pub struct Shared {
    policy: RwLock<Arc<Policy>>,
    pub limits: Limits,
}

impl Shared {
    /// The policy as of now; a reload does not change it for the caller.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Bounds on what one connection may send.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_line: usize,
    pub max_attributes: usize,
    pub idle: Duration,
}

/// One accepted connection.
pub struct Conn {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub listener: Arc<str>,
    pub shared: Arc<Shared>,
}

/// Runs a server: loads the policy (or only checks it with `--check`),
/// binds the listeners, and serves every connection with `handle` until
/// SIGTERM or SIGINT. SIGHUP reloads the policy file.
pub fn run<P, F, Fut>(name: &'static str, args: ServeCommon, protocol: P, handle: F) -> Outcome
where
    P: Protocol + Send + Sync + 'static,
    F: Fn(Conn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let names: Vec<String> = args.listen.iter().map(|(n, _)| n.clone()).collect();
    if let Some(dup) = names
        .iter()
        .enumerate()
        .find(|(i, n)| names[..*i].contains(n))
    {
        return Err(format!(
            "error: --listen: two listeners are named `{}`: give each its own NAME=ADDR:PORT",
            dup.1
        ));
    }
    let policy =
        policy::load(&args.policy, &protocol, &names).map_err(|e| format!("error: {e}"))?;
    if args.check {
        outln!(
            "ok: policy file {}: {} rule{} compile",
            args.policy.display(),
            policy.rules.len(),
            if policy.rules.len() == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("error: cannot start the server's runtime: {e}"))?;
    runtime.block_on(serve(name, args, names, policy, protocol, handle))
}

async fn serve<P, F, Fut>(
    name: &'static str,
    args: ServeCommon,
    names: Vec<String>,
    policy: Policy,
    protocol: P,
    handle: F,
) -> Outcome
where
    P: Protocol + Send + Sync + 'static,
    F: Fn(Conn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    use tokio::signal::unix::{signal, SignalKind};
    let sig = |kind| signal(kind).map_err(|e| format!("error: cannot handle signals: {e}"));
    let (mut hup, mut term, mut int) = (
        sig(SignalKind::hangup())?,
        sig(SignalKind::terminate())?,
        sig(SignalKind::interrupt())?,
    );
    log(name, format_args!("{}", describe(&policy)));
    let shared = Arc::new(Shared {
        policy: RwLock::new(Arc::new(policy)),
        limits: Limits {
            max_line: args.max_line.unwrap_or(4096).max(64),
            max_attributes: args.max_attributes.max(1),
            idle: Duration::from_secs(args.idle_timeout.max(1)),
        },
    });
    let handle = Arc::new(handle);
    let slots = Arc::new(Semaphore::new(args.max_connections.max(1)));
    for (lname, addr) in &args.listen {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("error: --listen {addr}: cannot listen there: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        log(
            name,
            format_args!("listening on {local} (listener `{lname}`)"),
        );
        let (lname, shared, handle, slots): (Arc<str>, _, _, _) = (
            lname.as_str().into(),
            shared.clone(),
            handle.clone(),
            slots.clone(),
        );
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(x) => x,
                    Err(e) => {
                        // EMFILE and the like: wait and go on.
                        log(name, format_args!("accept on {local}: {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    log(
                        name,
                        format_args!(
                            "client={peer} refused: too many connections (--max-connections)"
                        ),
                    );
                    continue;
                };
                let conn = Conn {
                    stream,
                    peer,
                    listener: lname.clone(),
                    shared: shared.clone(),
                };
                let fut = handle(conn);
                tokio::spawn(async move {
                    fut.await;
                    drop(permit);
                });
            }
        });
    }
    let policy_path = args.policy.clone();
    loop {
        tokio::select! {
            _ = hup.recv() => {
                match policy::load(&policy_path, &protocol, &names) {
                    Ok(p) => {
                        let what = describe(&p);
                        *shared.policy.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(p);
                        log(name, format_args!("reloaded: {what}"));
                    }
                    Err(e) => log(
                        name,
                        format_args!(
                            "reload refused, the previous policy stays in force: {}",
                            e.replace('\n', "\n    ")
                        ),
                    ),
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    log(name, format_args!("stopping"));
    Ok(ExitCode::SUCCESS)
}

fn describe(p: &Policy) -> String {
    format!(
        "policy {} loaded: {} rules, dialect {}",
        p.path.display(),
        p.rules.len(),
        p.dialect
    )
}

/// `sslrequire serve …`.
pub fn main(a: ServeArgs) -> Outcome {
    match a.server {
        Server::Postfix(args) => postfix::run(args),
        Server::Nginx(args) => nginx::run(args),
    }
}
