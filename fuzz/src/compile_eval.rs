//! The `compile_eval` target: compiled, reparse mode and the reprinted text agree.

use super::parse::has_fallback_regex;
use super::*;

/// Compiles `data` (lossy UTF-8) in both dialects and evaluates it against
/// [`fuzz_env`]: compiled mode (twice on one machine, and traced), reparse
/// mode and the compiled `Display` form must give the same verdict or the
/// same error code.
pub fn check_compile_eval(data: &[u8]) {
    let src = text_of(data);
    let env = fuzz_env();
    for d in DIALECTS {
        let mut builder = ProgramBuilder::new();
        builder.dialect(d);
        let reparsed = reparser(d).eval(&src, &mut Machine::new(), env);
        let program = match builder.build(&src) {
            Ok(p) => p,
            Err(e) => {
                render(&e, if e.code().starts_with("E1") { '1' } else { '2' });
                assert_eq!(
                    outcome(&reparsed),
                    Err(e.code()),
                    "{d}: reparse mode disagrees on a compile error: {src:?}"
                );
                continue;
            }
        };
        let _ = program.listing();
        let _ = (
            program.vars(),
            program.tests(),
            program.reads_certificates(),
        );
        let mut m = Machine::new();
        let first = program.eval_with(&mut m, env);
        if let Err(e) = &first {
            render(e, '3');
        }
        let again = program.eval_with(&mut m, env);
        let traced = program.eval_traced(&mut Machine::new(), env);
        // A machine is reused across programs (one per thread): one that
        // ran another program first must give the same answer.
        let mut used = Machine::new();
        let _ = warm_up(d).eval_with(&mut used, env);
        let after_other = program.eval_with(&mut used, env);
        let want = outcome(&first);
        assert_eq!(
            outcome(&again),
            want,
            "{d}: a reused machine disagrees: {src:?}"
        );
        assert_eq!(
            outcome(&traced.result),
            want,
            "{d}: traced evaluation disagrees: {src:?}"
        );
        assert_eq!(
            outcome(&reparsed),
            want,
            "{d}: reparse mode disagrees: {src:?}"
        );
        assert_eq!(
            outcome(&after_other),
            want,
            "{d}: a machine that ran another program first disagrees: {src:?}"
        );
        for step in &traced.steps {
            assert!(step.span.end <= src.len() && step.span.start <= step.span.end);
        }
        // Printing keeps the meaning: the Display form compiles to the same
        // verdict (unless a regex needed the `\x2F` spelling).
        let expr = ParserBuilder::new()
            .dialect(d)
            .build()
            .parse(&src)
            .expect("it compiled");
        if has_fallback_regex(&expr) {
            continue;
        }
        let printed = expr.to_string();
        if printed.len() > DEFAULT_SIZE_LIMIT {
            continue;
        }
        let via_print = builder.build(&printed).and_then(|p| p.eval(env));
        assert_eq!(
            outcome(&via_print),
            want,
            "{d}: the Display form evaluates differently\nsource:  {src:?}\nprinted: {printed:?}"
        );
    }
}

/// A program with captures in regexes of every size (1, 9, 0, 2, 2
/// groups) that (in 2.4) reads `$N`, so the machine keeps capture state;
/// run on a machine before the input's program.
fn warm_up(d: Dialect) -> &'static sslrequire::Program {
    static W24: OnceLock<sslrequire::Program> = OnceLock::new();
    static W22: OnceLock<sslrequire::Program> = OnceLock::new();
    const SRC: &str = r#""a" =~ m/(a)/ && "abcdefghi" =~ m/(a)(b)(c)(d)(e)(f)(g)(h)(i)/
        && "x" =~ m/x/ && "ab" =~ m/(a)(b)?/ && "zz" =~ m/(z)(z)/"#;
    let (cell, src) = match d {
        Dialect::V24 => (&W24, format!("{SRC} && $2 == \"z\"")),
        // 2.2 has no `$N`.
        Dialect::V22 => (&W22, SRC.to_string()),
    };
    cell.get_or_init(|| {
        let mut b = ProgramBuilder::new();
        b.dialect(d);
        b.build(&src).expect("the warm-up program compiles")
    })
}
