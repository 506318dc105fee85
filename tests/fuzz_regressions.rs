//! Every input a fuzz target ever failed on, replayed by `cargo test`.
//!
//! Cases live in `tests/fuzz-cases/<target>/`, one file per case (raw
//! bytes, exactly what libFuzzer saved, or a minimised hand-written
//! equivalent). Each is run through the same check as the fuzz target —
//! `fuzz/src/lib.rs` is compiled in here — so a fixed bug stays fixed.
//! See `tests/fuzz-cases/README.md` and `fuzz/README.md`.
//!
//! `cargo run --example fuzz_seeds` writes the fuzzers' seed corpora from
//! the test data (`fuzz/run.sh` runs it before fuzzing).

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Files of a case folder: everything but READMEs and dot files.
fn cases(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable folder").path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with('.') && !name.starts_with("README")
        })
        .collect();
    files.sort();
    files
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(non-string panic)".into())
}

#[test]
fn saved_fuzz_cases_pass() {
    let dir = root().join("tests/fuzz-cases");
    // A folder that names no target is a mistake (its cases would never run).
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    fuzz::TARGETS.contains(&name.as_str()),
                    "tests/fuzz-cases/{name}/ is not a fuzz target ({:?})",
                    fuzz::TARGETS
                );
            }
        }
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    for target in fuzz::TARGETS {
        for case in cases(&dir.join(target)) {
            let data = std::fs::read(&case).unwrap();
            ran += 1;
            let result = std::panic::catch_unwind(|| fuzz::check(target, &data));
            if let Err(p) = result {
                failures.push(format!(
                    "{}:\n{}",
                    case.strip_prefix(root()).unwrap_or(&case).display(),
                    panic_text(&*p)
                ));
            }
        }
    }
    eprintln!("replayed {ran} saved fuzz case(s)");
    assert!(
        failures.is_empty(),
        "{} of {ran} saved fuzz case(s) fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_target_accepts_empty_and_junk_input() {
    for target in fuzz::TARGETS {
        for data in [
            &b""[..],
            b"\xff\xfe\x00",
            b"{}",
            b"true",
            b"-----BEGIN CERTIFICATE-----\n",
        ] {
            fuzz::check(target, data);
        }
    }
}

#[test]
fn the_fuzz_environment_reads_no_files() {
    use sslrequire::{Env, Program};
    let env = fuzz::fuzz_env();
    assert_eq!(env.files().read(b"/etc/passwd").unwrap_err().code(), "E303");
    assert_eq!(env.files().stat(b"/", true).unwrap_err().code(), "E303");
    let p = Program::new(r#"file("/etc/hostname") == """#).unwrap();
    assert_eq!(p.eval(env).unwrap_err().code(), "E303");
    let p = Program::new(r#"-e "/" || filesize("/etc/hostname") > 0"#).unwrap();
    assert_eq!(p.eval(env).unwrap_err().code(), "E303");
    // The one in-memory file, read as a C string.
    let p = Program::new(r#"file(%{env:path}) == "virtual file""#).unwrap();
    assert!(p.eval(env).unwrap());
}
