//! The `parse` target: any bytes, both dialects; what parses prints back to itself.

use super::*;

/// Parses `data` (lossy UTF-8) in both dialects. A tree must print
/// (`Display` and `{:#}`) to text that parses back to an equal tree; an
/// error must be an `E1xx` that renders.
pub fn check_parse(data: &[u8]) {
    let src = text_of(data);
    for d in DIALECTS {
        let parser = ParserBuilder::new().dialect(d).build();
        match parser.parse(&src) {
            Ok(e) => check_reprint(d, &e, &src),
            Err(err) => render(&err, '1'),
        }
    }
}

/// `e` printed both ways parses back (in dialect `d`) to a tree equal to
/// `e`. `src`, if given, is what `e` was parsed from (for messages).
pub fn check_reprint(d: Dialect, e: &Expr, src: &str) {
    let parser = ParserBuilder::new().dialect(d).build();
    for (how, printed) in [("Display", e.to_string()), ("{:#}", e.to_parenthesized())] {
        if printed.len() > DEFAULT_SIZE_LIMIT {
            continue; // escaping can outgrow the size limit; nothing to learn
        }
        let back = match parser.parse(&printed) {
            Ok(back) => back,
            Err(err) => panic!(
                "{d}: the {how} form of the tree does not parse\n\
                 source:  {src:?}\nprinted: {printed:?}\ntree: {e:?}\n{err}"
            ),
        };
        if has_fallback_regex(e) {
            // The printer had to spell `/` as `\x2F`: equal up to that.
            continue;
        }
        assert!(
            back == *e,
            "{d}: the {how} form reads back differently\n\
             source:  {src:?}\nprinted: {printed:?}\nbefore: {e:?}\nafter:  {back:?}"
        );
    }
}

/// Regex delimiters the printer may use (`Display for Regex`).
const PRINT_DELIMS: &[char] = &[
    '/', '#', '|', '!', ',', ';', ':', '%', '^', '?', '-', '.', '$', '\'', '"',
];

pub(crate) fn prints_with_fallback(r: &Regex) -> bool {
    PRINT_DELIMS.iter().all(|d| r.pattern.contains(*d))
}

/// Whether some regex of `e` holds every delimiter (printed with `\x2F`).
pub(crate) fn has_fallback_regex(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Match { regex, .. } => prints_with_fallback(regex),
        ExprKind::Not(i) => has_fallback_regex(i),
        ExprKind::And(v) | ExprKind::Or(v) => v.iter().any(has_fallback_regex),
        _ => false,
    }
}
