//! The CLI, run as a real binary: output and exit codes (0 true, 1 false,
//! 2 error).

use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_sslrequire"))
        .args(args)
        .output()
        .expect("run sslrequire");
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

macro_rules! cli_test {
    ($name:ident, [$($arg:expr),*], $code:expr, $stdout:expr) => {
        #[test]
        fn $name() {
            let r = run(&[$($arg),*]);
            assert_eq!(r.code, $code, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
            assert_eq!(r.stdout, $stdout, "stderr: {}", r.stderr);
        }
    };
}

cli_test!(
    eval_true,
    [
        "eval",
        "--var",
        "SSL_CLIENT_S_DN_CN=alice",
        r#"%{SSL_CLIENT_S_DN_CN} eq "alice""#
    ],
    0,
    "true\n"
);
cli_test!(
    eval_false,
    ["eval", r#"%{SSL_CLIENT_S_DN_CN} eq "alice""#],
    1,
    "false\n"
);
cli_test!(
    eval_leading_dash_after_double_dash,
    ["eval", "--", "-1 < 5"],
    1,
    "false\n"
);
cli_test!(
    eval_dialect_22,
    ["eval", "--dialect", "2.2", r#"%{X} == """#],
    0,
    "true\n"
);
cli_test!(
    eval_now_fixes_time,
    [
        "eval",
        "--now",
        "2026-11-25T14:00:00+01:00",
        r#"%{TIME} == "20261125140000" && %{TIME_WDAY} == 3"#
    ],
    0,
    "true\n"
);
cli_test!(
    check_ok,
    ["check", "true", r#"%{SSL_CIPHER} =~ m/GCM/"#],
    0,
    "ok: 2 expressions compile\n"
);

#[test]
fn parse_error_shows_caret_and_exits_2() {
    let r = run(&["eval", r#"%{SSL_CIPHER} in {"a","#]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .contains("\n                          ^\nerror[E100]: expected a word"),
        "{}",
        r.stderr
    );
}

#[test]
fn eval_error_denies_with_exit_2() {
    let r = run(&["eval", r#"file("/nonexistent/sslrequire") == """#]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("error[E300]: cannot open file /nonexistent/sslrequire"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_reports_every_failure() {
    let r = run(&["check", "true", "%{NOPE} == 1", "TRUE"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("expression 2 of 3") && r.stderr.contains("error[E200]"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("expression 3 of 3") && r.stderr.contains("2 of 3 expressions failed")
    );
}

#[test]
fn bad_arguments_exit_2_and_say_what_to_do() {
    let r = run(&["eval", "--var", "FOO=1", "true"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--var FOO=") && r.stderr.contains("not a variable"),
        "{}",
        r.stderr
    );
    let r = run(&["eval", "--var", "novalue", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("NAME=VALUE"), "{}", r.stderr);
    let r = run(&["eval", "--now", "yesterday", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("RFC 3339"), "{}", r.stderr);
    let r = run(&["eval", "--dialect", "3.0", "true"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("use 2.4 or 2.2"), "{}", r.stderr);
}
