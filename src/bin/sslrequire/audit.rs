//! `audit`: evaluate every captured session of JSON-lines files and access
//! logs (`sslrequire::capture`: the format detected per file or given with
//! `--format`).
//!
//! Streaming: lines are read in chunks, each chunk is evaluated in parallel
//! (rayon, one `Machine` per worker) and written in input order before the
//! next chunk is read, so memory stays flat however large the input.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use rayon::prelude::*;
use serde_json::json;
use sslrequire::capture::{self, Format};
use sslrequire::session::{CertCache, EnvOptions, SessionEnv, SessionError};
use sslrequire::{Machine, Program};

use crate::args::AuditArgs;
use crate::Outcome;
use crate::{input, output};

/// Lines evaluated per parallel step.
const CHUNK: usize = 4096;
/// The longest session line read (a line of four PEM chains is ~10 KiB).
const MAX_LINE: usize = 16 << 20;

#[derive(Clone, PartialEq)]
enum Verdict {
    Allow,
    Deny,
    Error(String),
}

impl Verdict {
    fn word(&self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::Error(_) => "error",
        }
    }
}

struct Row {
    line: usize,
    id: Option<String>,
    verdict: Verdict,
    /// Under `--compare EXPR2`.
    compared: Option<Verdict>,
    /// The response status a log recorded.
    status: Option<u16>,
    /// Names kept but worth a warning (reported once per name).
    warnings: Vec<SessionError>,
}

impl Row {
    /// A line that could not be evaluated (`compared`: under --compare,
    /// which fails the same way).
    fn error(line: usize, id: Option<String>, compared: bool, message: String) -> Row {
        let verdict = Verdict::Error(message);
        Row {
            line,
            id,
            compared: compared.then(|| verdict.clone()),
            verdict,
            status: None,
            warnings: Vec::new(),
        }
    }
}

struct Ctx<'a> {
    program: &'a Program,
    compare: Option<&'a Program>,
    opts: EnvOptions,
    /// Certificates seen so far: real traffic repeats a few certificates on
    /// every line, each parsed and printed once.
    certs: &'a CertCache,
}

fn evaluate(ctx: &Ctx<'_>, m: &mut Machine, line: usize, text: &str, format: Format) -> Row {
    match capture::parse_shared(format, text, ctx.certs) {
        Ok(c) => judge(ctx, m, line, c),
        Err(e) => Row::error(
            line,
            None,
            ctx.compare.is_some(),
            format!("line {line}: {e}"),
        ),
    }
}

/// The verdicts on one session.
fn judge(ctx: &Ctx<'_>, m: &mut Machine, line: usize, capture: capture::Capture) -> Row {
    let compare = ctx.compare.is_some();
    let session = &capture.session;
    let env = SessionEnv::new(session, ctx.opts.clone());
    if let Some(reason) = env.handshake_failure() {
        let message = format!("handshake would fail: {reason}");
        return Row::error(line, session.id.clone(), compare, message);
    }
    let run = |p: &Program, m: &mut Machine| match p.eval_with(m, &env) {
        Ok(true) => Verdict::Allow,
        Ok(false) => Verdict::Deny,
        Err(e) => Verdict::Error(format!("{}: {}", e.code(), e.message())),
    };
    let verdict = run(ctx.program, m);
    let compared = ctx.compare.map(|p| run(p, m));
    Row {
        line,
        id: session.id.clone(),
        verdict,
        compared,
        status: capture.status,
        warnings: capture.warnings,
    }
}

/// Totals over every input.
#[derive(Default)]
struct Totals {
    allow: usize,
    deny: usize,
    error: usize,
    changed: usize,
    sessions: usize,
}

pub fn run(a: AuditArgs) -> Outcome {
    let program = crate::compile(&a.common, &a.expr, "EXPR")?;
    let compare = a
        .compare
        .as_deref()
        .map(|e| crate::compile(&a.common, e, "--compare EXPR2"))
        .transpose()?;
    let mut opts = input::options(&a.render, a.common.dialect)?;
    opts.now = a.now;
    opts.files = input::file_access(&a.common.file_root)?;
    let certs = CertCache::default();
    let ctx = Ctx {
        program: &program,
        compare: compare.as_ref(),
        opts,
        certs: &certs,
    };

    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| format!("error: cannot start {jobs} worker threads: {e}"))?;
    let started = Instant::now();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut t = Totals::default();
    let mut warned = std::collections::HashSet::new();
    let many = a.sessions.len() > 1;
    for path in &a.sessions {
        let (mut reader, total_bytes): (Box<dyn BufRead>, Option<u64>) = if path.as_os_str() == "-"
        {
            (Box::new(std::io::stdin().lock()), None)
        } else {
            let f = std::fs::File::open(path)
                .map_err(|e| format!("error: cannot read sessions file {}: {e}", path.display()))?;
            let len = f.metadata().ok().map(|m| m.len());
            (Box::new(BufReader::with_capacity(1 << 16, f)), len)
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total_bytes {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::new_spinner(),
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        let source = Source {
            path,
            label: many.then(|| path.display().to_string()),
            format: a.format,
        };
        audit_one(
            &ctx,
            &pool,
            &mut reader,
            &source,
            &bar,
            &mut out,
            &mut t,
            &mut warned,
            a.json,
        )?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
    if !a.pcap.is_empty() {
        let keylog = match &a.keylog {
            Some(p) => Some(
                capture::pcap::KeyLog::parse(&input::read(p, "key log")?)
                    .map_err(|e| format!("error: --keylog {}: {e}", p.display()))?,
            ),
            None => None,
        };
        if a.render.ca.is_none() {
            eprintln!(
                "note: no --ca given: a capture holds no verification result, so SSL_CLIENT_VERIFY is \"\" \
                 for connections with a client certificate (give --ca, --verify-depth, --verify-client as in Apache)"
            );
        }
        for path in &a.pcap {
            audit_pcap(&ctx, &pool, path, keylog.as_ref(), &mut out, &mut t, a.json)?;
        }
    }
    let Totals {
        allow,
        deny,
        error,
        changed,
        sessions,
    } = t;
    out.flush().unwrap_or_else(|e| output::exit_on(&e));
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        sessions as f64 / secs
    } else {
        0.0
    };
    let mut summary = format!(
        "audit: {sessions} sessions: {allow} allow, {deny} deny, {error} error; {secs:.3} s, {rate:.0} sessions/s"
    );
    if compare.is_some() {
        let (noun, verb) = if changed == 1 {
            ("verdict", "differs")
        } else {
            ("verdicts", "differ")
        };
        summary.push_str(&format!("; {changed} {noun} {verb} from --compare"));
    }
    eprintln!("{summary}");
    Ok(if error > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The connections of one packet capture, a chunk at a time.
fn audit_pcap(
    ctx: &Ctx<'_>,
    pool: &rayon::ThreadPool,
    path: &std::path::Path,
    keylog: Option<&capture::pcap::KeyLog>,
    out: &mut impl Write,
    t: &mut Totals,
    json: bool,
) -> Result<(), String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("error: cannot read capture {}: {e}", path.display()))?;
    let mut reader = capture::pcap::Reader::new(BufReader::new(file), keylog)
        .map_err(|e| format!("error: --pcap {}: {e}", path.display()))?;
    let label = path.display().to_string();
    loop {
        let mut chunk = Vec::with_capacity(CHUNK);
        for c in reader.by_ref().take(CHUNK) {
            chunk.push(c.map_err(|e| format!("error: --pcap {}: {e}", path.display()))?);
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let rows: Vec<Row> = pool.install(|| {
            chunk
                .into_par_iter()
                .map_init(Machine::new, |m, c| {
                    let line = usize::try_from(c.packet).unwrap_or(usize::MAX);
                    let name = c.name();
                    match c.session {
                        Ok(mut session) => {
                            session.share_certs(ctx.certs);
                            judge(
                                ctx,
                                m,
                                line,
                                capture::Capture {
                                    session,
                                    status: None,
                                    warnings: Vec::new(),
                                },
                            )
                        }
                        Err(e) => Row::error(
                            line,
                            Some(name.clone()),
                            ctx.compare.is_some(),
                            format!("{label}: connection {name} (packet {line}): {e}"),
                        ),
                    }
                })
                .collect()
        });
        for row in rows {
            t.count(&row);
            if row.compared.is_some() && row.compared.as_ref() == Some(&row.verdict) {
                continue;
            }
            write_row(out, &row, json, &|n| format!("{label}:packet {n}"))
                .unwrap_or_else(|e| output::exit_on(&e));
        }
    }
}

impl Totals {
    fn count(&mut self, row: &Row) {
        self.sessions += 1;
        match row.verdict {
            Verdict::Allow => self.allow += 1,
            Verdict::Deny => self.deny += 1,
            Verdict::Error(_) => self.error += 1,
        }
        let differs = row.compared.as_ref().is_some_and(|c| *c != row.verdict);
        self.changed += usize::from(differs);
    }
}

/// One input file.
struct Source<'a> {
    path: &'a std::path::Path,
    /// Shown before line numbers when several files are audited.
    label: Option<String>,
    /// `--format`, else detected from the first non-blank line.
    format: Option<Format>,
}

/// A chunk of input lines: (line number, the text or why it cannot be read).
type Chunk = Vec<(usize, Result<String, String>)>;

/// Reads up to [`CHUNK`] lines (and how many bytes they took), detecting
/// the format on the first line that has text.
fn read_chunk(
    reader: &mut dyn BufRead,
    src: &Source<'_>,
    format: &mut Option<Format>,
    line_no: &mut usize,
    buf: &mut Vec<u8>,
) -> Result<(Chunk, u64), String> {
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut read_bytes = 0u64;
    while chunk.len() < CHUNK {
        let line = input::read_line(reader, buf, MAX_LINE).map_err(|e| {
            format!(
                "error: reading {} at line {}: {e}",
                src.path.display(),
                *line_no + 1
            )
        })?;
        let Some(n) = line else { break };
        read_bytes += n as u64;
        *line_no += 1;
        let line_no = *line_no;
        if n > MAX_LINE {
            let error = format!(
                "line {line_no}: {n} bytes, over the {MAX_LINE}-byte limit of a session line; skipped"
            );
            chunk.push((line_no, Err(error)));
            continue;
        }
        match std::str::from_utf8(buf) {
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) => {
                if format.is_none() {
                    *format = Some(capture::detect(text));
                }
                chunk.push((line_no, Ok(text.to_string())));
            }
            Err(e) => {
                let at = e.valid_up_to();
                let error = format!(
                    "line {line_no}: not UTF-8 (byte {at}); sessions and logs are text \
                     (nginx logs bytes over 0x7f unescaped: such a line cannot be read)"
                );
                chunk.push((line_no, Err(error)));
            }
        }
    }
    Ok((chunk, read_bytes))
}

/// The verdicts on a chunk, in input order, by the worker pool.
fn evaluate_chunk(ctx: &Ctx<'_>, pool: &rayon::ThreadPool, chunk: &Chunk, fmt: Format) -> Vec<Row> {
    pool.install(|| {
        chunk
            .par_iter()
            .map_init(Machine::new, |m, (n, text)| match text {
                Ok(text) => evaluate(ctx, m, *n, text, fmt),
                Err(e) => Row::error(*n, None, ctx.compare.is_some(), e.clone()),
            })
            .collect()
    })
}

/// Audits one input: the next chunk is read while the workers evaluate
/// this one, and rows are written in input order.
#[allow(clippy::too_many_arguments)]
fn audit_one(
    ctx: &Ctx<'_>,
    pool: &rayon::ThreadPool,
    reader: &mut dyn BufRead,
    src: &Source<'_>,
    bar: &Option<indicatif::ProgressBar>,
    out: &mut impl Write,
    t: &mut Totals,
    warned: &mut std::collections::HashSet<String>,
    json: bool,
) -> Result<(), String> {
    let mut format = src.format;
    let mut line_no = 0usize;
    let mut buf = Vec::new();
    let at = |n: usize| match &src.label {
        Some(l) => format!("{l}:{n}"),
        None => n.to_string(),
    };
    std::thread::scope(|scope| {
        let mut pending: Option<(std::thread::ScopedJoinHandle<'_, Vec<Row>>, u64)> = None;
        loop {
            let next = read_chunk(reader, src, &mut format, &mut line_no, &mut buf);
            if let Some((evaluating, read_bytes)) = pending.take() {
                let rows = evaluating
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                report(rows, src, out, t, warned, json, &at);
                if let Some(bar) = bar {
                    bar.inc(read_bytes);
                    bar.set_message(format!("{} sessions", t.sessions));
                }
            }
            let (chunk, read_bytes) = next?;
            if chunk.is_empty() {
                return Ok(());
            }
            let fmt = format.unwrap_or(Format::Json);
            let evaluating = scope.spawn(move || evaluate_chunk(ctx, pool, &chunk, fmt));
            pending = Some((evaluating, read_bytes));
        }
    })
}

/// Counts and writes a chunk's rows (warnings once per name).
fn report(
    rows: Vec<Row>,
    src: &Source<'_>,
    out: &mut impl Write,
    t: &mut Totals,
    warned: &mut std::collections::HashSet<String>,
    json: bool,
    at: &dyn Fn(usize) -> String,
) {
    for mut row in rows {
        for w in &row.warnings {
            if warned.insert(w.field.clone()) {
                eprintln!(
                    "warning: {} line {}: {w} (reported once)",
                    src.path.display(),
                    row.line
                );
            }
        }
        t.count(&row);
        let differs = row.compared.as_ref().is_some_and(|c| *c != row.verdict);
        if row.compared.is_some() && !differs {
            continue;
        }
        if let (Some(label), Verdict::Error(e)) = (&src.label, &mut row.verdict) {
            *e = format!("{label}: {e}");
        }
        write_row(out, &row, json, at).unwrap_or_else(|e| output::exit_on(&e));
    }
}

fn write_row(
    out: &mut impl Write,
    row: &Row,
    json: bool,
    at: &dyn Fn(usize) -> String,
) -> std::io::Result<()> {
    let id = row.id.clone().unwrap_or_else(|| at(row.line));
    if json {
        let mut v = json!({"line": row.line, "id": row.id, "verdict": row.verdict.word()});
        if let Some(s) = row.status {
            v["status"] = json!(s);
        }
        if let Verdict::Error(e) = &row.verdict {
            v["error"] = json!(e);
        }
        if let Some(c) = &row.compared {
            v["compare_verdict"] = json!(c.word());
        }
        return writeln!(out, "{v}");
    }
    let detail = match (&row.verdict, &row.compared) {
        (Verdict::Error(e), _) => e.replace(['\n', '\t'], " "),
        (_, Some(c)) => format!("was {}", c.word()),
        _ => String::new(),
    };
    writeln!(out, "{id}\t{}\t{detail}", row.verdict.word())
}
