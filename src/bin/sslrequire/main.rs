//! `sslrequire`: evaluate and check SSLRequire expressions from a terminal.

mod args;
mod input;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use sslrequire::env::SessionEnv;
use sslrequire::{ProgramBuilder, VarMap};

use args::{CheckArgs, Cli, Command, EvalArgs, VarsArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(a) => eval(a),
        Command::Check(a) => check(a),
        Command::Vars(a) => vars(a),
    };
    result.unwrap_or_else(|msg| {
        eprintln!("{msg}");
        ExitCode::from(2)
    })
}

type Outcome = Result<ExitCode, String>;

fn eval(a: EvalArgs) -> Outcome {
    let mut builder = ProgramBuilder::new();
    builder.dialect(a.common.dialect);
    let program = builder.build(&a.expr).map_err(|e| e.to_string())?;
    let result = if input::has_session(&a.env) {
        let session = input::session(&a.env)?;
        let env = SessionEnv::new(&session, input::options(&a.env, a.common.dialect));
        program.eval(&env)
    } else {
        let mut env = VarMap::new();
        for (name, value) in &a.env.vars {
            env.set(name, value.as_bytes())
                .map_err(|e| format!("error: --var {name}=…: {e}"))?;
        }
        match a.env.now {
            Some(t) => env.set_time(&t),
            None => env.set_time(&chrono::Local::now()),
        };
        program.eval(&env)
    };
    // Apache denies on an evaluation error and logs it; so do we (exit 2).
    let result = result.map_err(|e| e.to_string())?;
    println!("{result}");
    Ok(if result {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check(a: CheckArgs) -> Outcome {
    let mut builder = ProgramBuilder::new();
    builder.dialect(a.common.dialect);
    let mut failed = 0;
    for (i, expr) in a.exprs.iter().enumerate() {
        if let Err(e) = builder.build(expr) {
            failed += 1;
            eprintln!("expression {} of {}:\n{e}\n", i + 1, a.exprs.len());
        }
    }
    if failed > 0 {
        return Err(format!(
            "{failed} of {} expressions failed to compile",
            a.exprs.len()
        ));
    }
    println!(
        "ok: {} expression{} compile",
        a.exprs.len(),
        if a.exprs.len() == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

fn vars(a: VarsArgs) -> Outcome {
    let session = input::session(&a.env)?;
    let env = SessionEnv::new(&session, input::options(&a.env, a.common.dialect));
    let vars = env.export();
    let mut out = std::io::stdout().lock();
    if a.json {
        let map: serde_json::Map<String, serde_json::Value> = vars
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned().into()))
            .collect();
        let _ = writeln!(out, "{}", serde_json::Value::Object(map));
    } else {
        // One variable per line: control bytes (the newlines of a PEM)
        // are written as \n, \r, \t or \xHH; --json gives exact values.
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
            let _ = out.write_all(&line);
        }
    }
    Ok(ExitCode::SUCCESS)
}
