//! `sslrequire`: evaluate and check SSLRequire expressions from a terminal.

mod args;

use std::process::ExitCode;

use clap::Parser as _;
use sslrequire::{ProgramBuilder, VarMap};

use args::{CheckArgs, Cli, Command, EvalArgs};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Eval(a) => eval(a),
        Command::Check(a) => check(a),
    }
}

/// Exit status 2 with a message on stderr.
fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::from(2)
}

fn eval(a: EvalArgs) -> ExitCode {
    let mut env = VarMap::new();
    for (name, value) in &a.vars {
        if let Err(e) = env.set(name, value.as_bytes()) {
            return fail(format!("error: --var {name}=…: {e}"));
        }
    }
    match a.now {
        Some(t) => env.set_time(&t),
        None => env.set_time(&chrono::Local::now()),
    };
    let mut builder = ProgramBuilder::new();
    builder.dialect(a.common.dialect);
    let program = match builder.build(&a.expr) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    match program.eval(&env) {
        Ok(result) => {
            println!("{result}");
            if result {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        // Apache denies on an evaluation error and logs it; so do we.
        Err(e) => fail(e),
    }
}

fn check(a: CheckArgs) -> ExitCode {
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
        eprintln!(
            "{failed} of {} expressions failed to compile",
            a.exprs.len()
        );
        return ExitCode::from(2);
    }
    println!(
        "ok: {} expression{} compile",
        a.exprs.len(),
        if a.exprs.len() == 1 { "" } else { "s" }
    );
    ExitCode::SUCCESS
}
