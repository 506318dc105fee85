//! `sslrequire`: evaluate, check, explain and audit SSLRequire expressions
//! from a terminal. Exit status: 0 true / ok, 1 false, 2 error.

mod args;
mod audit;
mod input;
mod output;
mod serve;
mod style;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use serde_json::json;
use sslrequire::session::SessionEnv;
use sslrequire::{Env, Error, Program, ProgramBuilder};

use args::{CheckArgs, Cli, Command, EvalArgs, ExplainArgs, VarsArgs};
use output::{out, outln};
use style::Style;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(a) => eval(a),
        Command::Check(a) => check(a),
        Command::Explain(a) => explain(a),
        Command::Why(a) => why(a),
        Command::Audit(a) => audit::run(a),
        Command::Vars(a) => vars(a),
        Command::Migrate(a) => migrate(a),
        Command::Serve(a) => serve::main(a),
    };
    result.unwrap_or_else(|msg| {
        eprintln!("{}", Style::stderr().error(&msg));
        ExitCode::from(2)
    })
}

/// A command's outcome: an exit code, or a message for stderr (exit 2).
pub type Outcome = Result<ExitCode, String>;

fn builder(common: &args::Common) -> ProgramBuilder {
    let mut b = ProgramBuilder::new();
    b.dialect(common.dialect);
    b
}

/// Runs `f` against the environment the flags describe.
fn with_env<T>(
    common: &args::Common,
    env: &args::EnvArgs,
    f: impl FnOnce(&dyn Env) -> T,
) -> Result<T, String> {
    let files = input::file_access(&common.file_root)?;
    if input::has_session(env) {
        let session = input::session(env)?;
        let mut opts = input::options(&env.render, common.dialect)?;
        opts.files = files;
        let session_env = SessionEnv::new(&session, opts);
        if let Some(reason) = session_env.handshake_failure() {
            return Err(input::handshake_error(reason));
        }
        Ok(f(&session_env))
    } else {
        let mut map = input::var_map(env)?;
        map.set_files(files);
        Ok(f(&map))
    }
}

fn error_json(e: &Error) -> serde_json::Value {
    let (line, column) = e.line_col();
    json!({
        "code": e.code(),
        "message": e.message(),
        "span": [e.span().start, e.span().end],
        "line": line,
        "column": column,
    })
}

fn eval(a: EvalArgs) -> Outcome {
    let program = builder(&a.common).build(&a.expr);
    let result = match &program {
        Ok(p) => with_env(&a.common, &a.env, |env| p.eval(env))?,
        Err(e) => Err(e.clone()),
    };
    if a.json {
        let body = match &result {
            Ok(r) => {
                json!({"result": r, "expression": a.expr, "dialect": a.common.dialect.as_str()})
            }
            Err(e) => {
                json!({"result": null, "expression": a.expr, "dialect": a.common.dialect.as_str(), "error": error_json(e)})
            }
        };
        outln!("{body}");
    }
    match result {
        Ok(r) => {
            if !a.json {
                outln!("{r}");
            }
            Ok(if r {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        // Apache denies on an evaluation error and logs it; so do we.
        Err(e) if a.json => {
            let _ = e;
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// `# sslrequire: allow L101 L120` (commas allowed): the codes, or None
/// when the comment is not an allow comment.
fn allow_comment(line: &str) -> Option<Result<Vec<String>, String>> {
    let rest = line.trim_start().strip_prefix('#')?.trim_start();
    let rest = rest.strip_prefix("sslrequire:")?.trim_start();
    let codes = rest.strip_prefix("allow")?;
    Some(
        codes
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .map(args::parse_lint_code)
            .collect(),
    )
}

/// One expression to check: where it is, its line, its text, the lints
/// silenced for it.
struct CheckInput {
    place: String,
    line: usize,
    expr: String,
    allow: Vec<String>,
}

fn check(a: CheckArgs) -> Outcome {
    let inputs: Vec<CheckInput> = match &a.file {
        Some(path) => {
            let text = input::read(path, "expression file")?;
            let mut out = Vec::new();
            let mut pending: Vec<String> = Vec::new();
            for (i, l) in text.lines().enumerate() {
                if l.trim().is_empty() {
                    continue;
                }
                if l.trim_start().starts_with('#') {
                    match allow_comment(l) {
                        Some(Ok(codes)) => pending.extend(codes),
                        Some(Err(e)) => {
                            return Err(format!("{}:{}: {e}", path.display(), i + 1));
                        }
                        None => {}
                    }
                    continue;
                }
                let mut allow = std::mem::take(&mut pending);
                allow.extend(a.allow.iter().cloned());
                out.push(CheckInput {
                    place: format!("{}:{}", path.display(), i + 1),
                    line: i + 1,
                    expr: l.to_string(),
                    allow,
                });
            }
            out
        }
        None => a
            .exprs
            .iter()
            .enumerate()
            .map(|(i, e)| CheckInput {
                place: format!("argument {}", i + 1),
                line: 1,
                expr: e.clone(),
                allow: a.allow.clone(),
            })
            .collect(),
    };
    let b = builder(&a.common);
    let parser = sslrequire::ParserBuilder::new()
        .dialect(a.common.dialect)
        .build();
    let style = Style::stderr();
    let mut diagnostics = Vec::new();
    let mut lints_json = Vec::new();
    let (mut warnings, mut notes) = (0usize, 0usize);
    for CheckInput {
        place,
        line,
        expr,
        allow,
    } in &inputs
    {
        let parsed = parser
            .parse(expr)
            .and_then(|tree| b.compile(&tree, expr).map(|_| tree));
        match parsed {
            Err(e) => {
                let (l, column) = e.line_col();
                if a.json {
                    let mut d = error_json(&e);
                    d["input"] = json!(place);
                    d["expression"] = json!(expr);
                    d["line"] = json!(line + l - 1);
                    d["column"] = json!(column);
                    diagnostics.push(d);
                } else {
                    eprintln!(
                        "{}:\n{}\n",
                        style.bold(&format!("{place}:{column}")),
                        style.diagnostic(&e.to_string())
                    );
                    diagnostics.push(json!(null));
                }
            }
            Ok(tree) => {
                for l in sslrequire::lint(&tree, expr, a.common.dialect)
                    .into_iter()
                    .filter(|l| !allow.iter().any(|c| c == l.code))
                {
                    match l.severity {
                        sslrequire::Severity::Warning => warnings += 1,
                        sslrequire::Severity::Note => notes += 1,
                    }
                    let (ll, column) = sslrequire::error::line_col(expr, l.span.start);
                    if a.json {
                        lints_json.push(json!({
                            "input": place,
                            "expression": expr,
                            "code": l.code,
                            "severity": l.severity.as_str(),
                            "message": l.message,
                            "span": [l.span.start, l.span.end],
                            "line": line + ll - 1,
                            "column": column,
                            "fix": l.fix,
                        }));
                    } else {
                        eprintln!("{}", lint_text(place, column, &l, &style));
                    }
                }
            }
        }
    }
    let failed = diagnostics.len();
    let denied = a.deny_warnings && warnings > 0;
    if a.json {
        outln!(
            "{}",
            json!({"checked": inputs.len(), "failed": failed, "diagnostics": diagnostics,
                   "warnings": warnings, "notes": notes, "lints": lints_json})
        );
        return Ok(if failed > 0 || denied {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        });
    }
    if failed > 0 {
        return Err(format!(
            "{failed} of {} expressions failed to compile",
            inputs.len()
        ));
    }
    let n = inputs.len();
    outln!(
        "ok: {n} expression{} compile",
        if n == 1 { "" } else { "s" }
    );
    if warnings + notes > 0 {
        eprintln!(
            "{warnings} warning{}, {notes} note{} (sslrequire check --allow CODE to silence one; README: Lints)",
            if warnings == 1 { "" } else { "s" },
            if notes == 1 { "" } else { "s" }
        );
    }
    if denied {
        return Err(format!(
            "--deny-warnings: {warnings} warning{}",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `place:column: warning[L101]: message` and the fix, for stderr.
fn lint_text(place: &str, column: usize, l: &sslrequire::Lint, style: &Style) -> String {
    let head = format!("{}[{}]", l.severity.as_str(), l.code);
    let head = match l.severity {
        sslrequire::Severity::Warning => style.red(&head),
        sslrequire::Severity::Note => style.dim(&head),
    };
    let mut s = format!(
        "{}: {head}: {}",
        style.bold(&format!("{place}:{column}")),
        l.message
    );
    if let Some(fix) = &l.fix {
        s.push_str(&format!("\n    fix: {fix}"));
    }
    s
}

fn migrate(a: args::MigrateArgs) -> Outcome {
    use sslrequire::migrate::{migrate as run, migrate_config, MigrateError};
    let style = Style::stderr();
    let lint_json = |l: &sslrequire::Lint| {
        json!({"code": l.code, "severity": l.severity.as_str(), "message": l.message,
               "span": [l.span.start, l.span.end], "fix": l.fix})
    };
    if let Some(path) = &a.config {
        let text = input::read(path, "configuration file")?;
        let m = migrate_config(&text, a.dialect);
        let place = |line: usize| format!("{}:{line}", path.display());
        if a.json {
            println!(
                "{}",
                json!({
                    "file": path.display().to_string(),
                    "dialect": a.dialect.as_str(),
                    "changes": m.changes.iter().map(|c| json!({
                        "line": c.line, "original": c.original, "migrated": c.migrated,
                        "lints": c.lints.iter().map(lint_json).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                    "problems": m.problems.iter().map(|p| json!({"line": p.line, "message": p.message})).collect::<Vec<_>>(),
                    "notes": m.notes.iter().map(|p| json!({"line": p.line, "message": p.message})).collect::<Vec<_>>(),
                })
            );
        } else {
            for c in &m.changes {
                eprintln!(
                    "{}: SSLRequire → Require expr {}",
                    style.bold(&place(c.line)),
                    c.migrated
                );
                for l in &c.lints {
                    eprintln!("{}", lint_text(&place(c.line), l.span.start + 1, l, &style));
                }
            }
            for n in &m.notes {
                eprintln!("{}: note: {}", style.bold(&place(n.line)), n.message);
            }
            for p in &m.problems {
                eprintln!(
                    "{}: {} {}",
                    style.bold(&place(p.line)),
                    style.red("not migrated:"),
                    p.message
                );
            }
        }
        if a.in_place {
            if m.text != text {
                std::fs::write(path, &m.text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
        } else if !a.json {
            print!("{}", m.text);
        }
        eprintln!(
            "migrate: {} SSLRequire rewritten, {} left as they were",
            m.changes.len(),
            m.problems.len()
        );
        return Ok(if m.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    }
    let expr = a.expr.as_deref().unwrap_or_default();
    match run(expr, a.dialect) {
        Ok(m) => {
            if a.json {
                println!(
                    "{}",
                    json!({"expression": expr, "dialect": a.dialect.as_str(), "migrated": m.expr,
                           "lints": m.lints.iter().map(lint_json).collect::<Vec<_>>()})
                );
            } else {
                println!("{}", m.expr);
                for l in &m.lints {
                    let (_, column) = sslrequire::error::line_col(expr, l.span.start);
                    eprintln!("{}", lint_text("expression", column, l, &style));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(MigrateError::Parse(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn explain(a: ExplainArgs) -> Outcome {
    let b = builder(&a.common);
    let expr = sslrequire::ParserBuilder::new()
        .dialect(a.common.dialect)
        .build()
        .parse(&a.expr)
        .map_err(|e| e.to_string())?;
    let program = b.compile(&expr, &a.expr).map_err(|e| e.to_string())?;
    let style = Style::stdout();
    let mut out = String::new();
    out.push_str(&format!(
        "{}\n  {}\n",
        style.bold("expression (fully parenthesised):"),
        expr.to_parenthesized()
    ));
    out.push_str(&format!("{}\n", style.bold("variables read:")));
    if program.vars().is_empty() {
        out.push_str("  (none)\n");
    }
    for v in program.vars() {
        out.push_str(&format!("  {v}\n"));
    }
    out.push_str(&format!("{}\n", style.bold("bytecode:")));
    for line in program.listing().lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn why(a: EvalArgs) -> Outcome {
    let program = builder(&a.common)
        .build(&a.expr)
        .map_err(|e| e.to_string())?;
    let traced = with_env(&a.common, &a.env, |env| {
        program.eval_traced(&mut sslrequire::Machine::new(), env)
    })?;
    let style = Style::stdout();
    let src = program.source();
    let text = |s: sslrequire::Span| src.get(s.start..s.end).unwrap_or("").to_string();
    let show = |v: &[u8]| format!("{:?}", String::from_utf8_lossy(v));
    let mut out = String::new();
    // The verdict first: the one line an admin needs.
    let last = traced.steps.last();
    match (&traced.result, last) {
        (Ok(r), Some(step)) => out.push_str(&format!(
            "{}: {} was {} ({})\n",
            if *r {
                style.green("allow")
            } else {
                style.red("deny")
            },
            text(step.span),
            step.result,
            step.values
                .iter()
                .map(|v| show(v))
                .collect::<Vec<_>>()
                .join(" vs ")
        )),
        (Ok(r), None) => out.push_str(&format!(
            "{}: the expression is constant\n",
            if *r {
                style.green("allow")
            } else {
                style.red("deny")
            }
        )),
        (Err(e), _) => out.push_str(&format!(
            "{}: evaluation error {}: {}\n",
            style.red("deny"),
            e.code(),
            e.message()
        )),
    }
    out.push_str(&format!("{}\n", style.bold("tests:")));
    for (index, span) in program.tests() {
        match traced.steps.iter().find(|s| s.index == index) {
            Some(step) => out.push_str(&format!(
                "  {:<5}  {}    [{}]\n",
                // Pad before painting: escape codes have no width.
                if step.result {
                    style.green("true ")
                } else {
                    style.red("false")
                },
                text(span),
                step.values
                    .iter()
                    .map(|v| show(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => out.push_str(&format!(
                "  {:<5}  {}\n",
                style.dim("skip "),
                style.dim(&text(span))
            )),
        }
    }
    out!("{out}");
    match traced.result {
        Ok(true) => Ok(ExitCode::SUCCESS),
        Ok(false) => Ok(ExitCode::from(1)),
        Err(_) => Ok(ExitCode::from(2)),
    }
}

fn vars(a: VarsArgs) -> Outcome {
    let session = input::session(&a.env)?;
    let env = SessionEnv::new(&session, input::options(&a.env.render, a.common.dialect)?);
    if let Some(reason) = env.handshake_failure() {
        eprintln!(
            "warning: {}",
            input::handshake_error(reason).trim_start_matches("error: ")
        );
    }
    let vars = env.export();
    let mut out = std::io::stdout().lock();
    if a.json {
        let map: serde_json::Map<String, serde_json::Value> = vars
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned().into()))
            .collect();
        writeln!(out, "{}", serde_json::Value::Object(map))
            .and_then(|()| out.flush())
            .unwrap_or_else(|e| output::exit_on(&e));
        return Ok(ExitCode::SUCCESS);
    }
    // One variable per line: control bytes (the newlines of a PEM) are
    // written as \n, \r, \t or \xHH; --json gives exact values.
    for (k, v) in vars {
        let mut line = k.into_bytes();
        line.push(b'=');
        for b in v {
            match b {
                b'\n' => line.extend_from_slice(b"\\n"),
                b'\r' => line.extend_from_slice(b"\\r"),
                b'\t' => line.extend_from_slice(b"\\t"),
                0..=0x1f | 0x7f => line.extend_from_slice(format!("\\x{b:02X}").as_bytes()),
                _ => line.push(b),
            }
        }
        line.push(b'\n');
        out.write_all(&line).unwrap_or_else(|e| output::exit_on(&e));
    }
    out.flush().unwrap_or_else(|e| output::exit_on(&e));
    Ok(ExitCode::SUCCESS)
}

/// Used by `audit` too.
pub fn compile(common: &args::Common, src: &str, what: &str) -> Result<Program, String> {
    builder(common)
        .build(src)
        .map_err(|e| format!("{what}:\n{e}"))
}
