//! The command line: one table of commands and flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sslrequire::Dialect;

/// Evaluate, check, explain and audit Apache mod_ssl SSLRequire expressions.
///
/// Exit status: 0 = true (or: all expressions compile, every session was
/// evaluated), 1 = false, 2 = error (bad expression, bad argument or input,
/// evaluation error — which Apache answers with 403).
#[derive(Parser, Debug)]
#[command(name = "sslrequire", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Evaluate an expression and print `true` or `false`.
    ///
    /// Example: sslrequire eval --var SSL_CLIENT_S_DN_CN=alice '%{SSL_CLIENT_S_DN_CN} eq "alice"'
    Eval(EvalArgs),
    /// Compile expressions and report every error, without evaluating.
    ///
    /// Example: sslrequire check -f policies.txt
    Check(CheckArgs),
    /// Show how an expression is read: fully parenthesised, the variables
    /// it reads, and its bytecode.
    Explain(ExplainArgs),
    /// Evaluate against a session and show every test that ran, with the
    /// values it compared, and which were skipped.
    ///
    /// Example: sslrequire why --session denied.json "$(cat policy.txt)"
    Why(EvalArgs),
    /// Evaluate every captured session of a JSON-lines file (or stdin): one
    /// line per session, a summary on stderr.
    ///
    /// Example: sslrequire audit --sessions yesterday.jsonl --compare "$NEW" "$OLD"
    Audit(AuditArgs),
    /// Print every variable the environment holds (NAME=VALUE lines, sorted),
    /// with the names Apache exports (SSLOptions +StdEnvVars +ExportCertData).
    ///
    /// Example: sslrequire vars --session session.json
    Vars(VarsArgs),
    /// Turn SSLRequire into the `Require expr` expression with the same
    /// verdict for every request (prints the expression; the lints on
    /// stderr), or rewrite the SSLRequire lines of an Apache configuration
    /// file.
    ///
    /// Example: sslrequire migrate '%{TIME_HOUR} <= 20 and %{SSL_CLIENT_S_DN_O} eq "Example"'
    Migrate(MigrateArgs),
    /// Run a policy server that decides with SSLRequire rules from a policy
    /// file (reloaded on SIGHUP).
    ///
    /// Example: sslrequire serve postfix --policy sslrequire.toml --listen 127.0.0.1:10040
    Serve(crate::serve::ServeArgs),
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The SSLRequire language: 2.4 (Apache httpd 2.4, default) or 2.2.
    #[arg(long, default_value = "2.4", value_parser = parse_dialect)]
    pub dialect: Dialect,
    /// Rewrite the SSLRequire lines of this Apache configuration (or
    /// .htaccess) file; the new text goes to stdout unless --in-place.
    #[arg(long, value_name = "FILE", conflicts_with = "expr")]
    pub config: Option<PathBuf>,
    /// With --config: write the result back to FILE.
    #[arg(long, requires = "config")]
    pub in_place: bool,
    /// Print one JSON object (the migrated expression or the changes, and
    /// the lints).
    #[arg(long)]
    pub json: bool,
    /// The SSLRequire expression (use `--` before one that starts with `-`).
    #[arg(
        value_name = "EXPR",
        required_unless_present = "config",
        allow_hyphen_values = true
    )]
    pub expr: Option<String>,
}

#[derive(Args, Debug)]
pub struct Common {
    /// The SSLRequire language: 2.4 (Apache httpd 2.4, default) or 2.2
    /// (mod_ssl 2.2's own).
    #[arg(long, default_value = "2.4", value_parser = parse_dialect)]
    pub dialect: Dialect,
    /// The only directory file(), filesize() and the file tests (-f, -d …)
    /// may read. The path is read as Apache reads it (relative to the
    /// working directory) and refused unless it resolves inside DIR.
    /// Without it, file() is an error.
    #[arg(long, value_name = "DIR")]
    pub file_root: Option<PathBuf>,
}

/// Where the variables come from.
#[derive(Args, Debug)]
pub struct EnvArgs {
    /// Set a variable, e.g. --var SSL_CLIENT_S_DN_CN=alice (names resolve
    /// as in Apache: SSL_ and core names case-insensitively, DN components
    /// case-sensitively; request tables as http:Name, env:name …).
    /// Repeatable; overrides the session's values; unset variables are "".
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// The instant TIME_* and SSL_CLIENT_V_REMAIN read, RFC 3339 (its offset
    /// is the time zone used), e.g. 2026-11-25T14:00:00+01:00. Default: the
    /// session's `time`, else now in the local zone.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// A captured session: one JSON object (format in the README).
    #[arg(long, value_name = "FILE.json")]
    pub session: Option<PathBuf>,
    /// The client's certificate chain, PEM, leaf first (replaces the
    /// session's client_chain).
    #[arg(long, value_name = "PEM")]
    pub client_cert: Option<PathBuf>,
    /// The server's certificate chain, PEM, leaf first (replaces the
    /// session's server_chain).
    #[arg(long, value_name = "PEM")]
    pub server_cert: Option<PathBuf>,
    #[command(flatten)]
    pub render: RenderArgs,
}

/// How session variables are computed.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Print DNs as /C=…/O=…/CN=… (SSLOptions +LegacyDNStringFormat).
    #[arg(long)]
    pub legacy_dn: bool,
    /// Trust anchors (PEM) to verify client chains that carry no recorded
    /// `verify` result, as SSLCACertificateFile.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// SSLVerifyDepth: how many CA certificates above the client's may be
    /// needed to reach a trust anchor (Apache's default: 1).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "ca")]
    pub verify_depth: u32,
    /// SSLVerifyClient: optional (untrusted chains fail the handshake),
    /// optional_no_ca (they reach SSLRequire with GENEROUS or FAILED:…),
    /// require.
    #[arg(long, value_name = "MODE", default_value = "optional", value_parser = ["optional", "optional_no_ca", "require"], requires = "ca")]
    pub verify_client: String,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Print one JSON object: {"result": true|false|null, "error": …}.
    #[arg(long)]
    pub json: bool,
    /// The expression (use `--` before one that starts with `-`).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
}

#[derive(Args, Debug)]
pub struct VarsArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Print one JSON object instead of NAME=VALUE lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: Common,
    /// Read the expressions from FILE, one per line (`#` comments and blank
    /// lines skipped).
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "exprs"
    )]
    pub file: Option<PathBuf>,
    /// Print the diagnostics as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Exit 2 when a lint of severity warning fires (notes do not count).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Silence a lint (its code, e.g. L101; repeatable). In a -f file, a
    /// comment line `# sslrequire: allow L101 L120` silences them for the
    /// next expression only.
    #[arg(long = "allow", value_name = "CODE", value_parser = parse_lint_code)]
    pub allow: Vec<String>,
    /// The expressions (use `--` before one that starts with `-`).
    #[arg(
        value_name = "EXPR",
        required_unless_present = "file",
        allow_hyphen_values = true
    )]
    pub exprs: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub common: Common,
    /// The expression (use `--` before one that starts with `-`).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub render: RenderArgs,
    /// The sessions: a JSON-lines file (one captured session per line), an
    /// access log written with the README's Apache LogFormat or nginx
    /// log_format, or `-` for standard input. Repeatable.
    #[arg(long, value_name = "FILE|-", required_unless_present = "pcap")]
    pub sessions: Vec<PathBuf>,
    /// A packet capture (pcap or pcapng, e.g. from `tcpdump -w`): one
    /// session per TLS connection, rebuilt from its handshake. Repeatable.
    /// Give --ca to verify client chains as mod_ssl would.
    #[arg(long, value_name = "FILE")]
    pub pcap: Vec<PathBuf>,
    /// The TLS key log (SSLKEYLOGFILE) of the captured clients or servers:
    /// TLS 1.3 sends certificates encrypted, and this decrypts them.
    #[arg(long, value_name = "FILE", requires = "pcap")]
    pub keylog: Option<PathBuf>,
    /// The format of the --sessions files: json, apache or nginx (default:
    /// detected per file from its first line).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Option<sslrequire::capture::Format>,
    /// Show only the sessions whose verdict differs between EXPR (the new
    /// policy) and EXPR2 (the current one).
    #[arg(long, value_name = "EXPR2", allow_hyphen_values = true)]
    pub compare: Option<String>,
    /// One JSON object per session instead of tab-separated lines.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: one per core). 1 = single-threaded.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// The instant for sessions that record no `time` (default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// The expression (use `--` before one that starts with `-`).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
}

fn parse_format(s: &str) -> Result<sslrequire::capture::Format, String> {
    s.parse()
}

fn parse_dialect(s: &str) -> Result<Dialect, sslrequire::UnknownDialect> {
    s.parse()
}

pub fn parse_lint_code(s: &str) -> Result<String, String> {
    match sslrequire::lint::info(s) {
        Some(i) => Ok(i.code.to_string()),
        None => Err(format!(
            "`{s}` is not a lint code (one of {})",
            sslrequire::lint::codes()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!(
            "`{s}` is not NAME=VALUE (e.g. SSL_CLIENT_S_DN_CN=alice)"
        )),
    }
}

fn parse_now(s: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("`{s}` is not an RFC 3339 time ({e}); e.g. 2026-11-25T14:00:00Z"))
}
