//! Regexes that can never match, and `!~` patterns that can hit PCRE's
//! limits (a heuristic: nested quantifiers, quantified alternation,
//! back-references, lookaround).

use crate::dialect::Dialect;

/// A `$` (outside classes and escapes) followed by something that must
/// match a character, in one alternative: never matches under
/// `PCRE2_DOLLAR_ENDONLY` (unless multiline mode is switched on).
pub(super) fn dollar_then_more(pattern: &str) -> bool {
    if pattern.contains("(?") {
        // Inline options and groups with flags: do not guess.
        return false;
    }
    let b = pattern.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                // `[]…]` and `[^]…]`: a leading `]` is literal.
                if b.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b']' if in_class => in_class = false,
            b'$' if !in_class => {
                // What follows: a literal character or class (not `)`, `|`,
                // `$`, `?`/`*` (optional), the end).
                match b.get(i + 1) {
                    None | Some(b')' | b'|' | b'$' | b'?' | b'*' | b'{') => {}
                    Some(b'\\') => {
                        // \z, \Z, \b … are zero-width; \n etc. need a byte.
                        if matches!(b.get(i + 2), Some(b'w' | b'd' | b's' | b'W' | b'D' | b'S'))
                            || b.get(i + 2).is_some_and(|c| {
                                c.is_ascii_alphanumeric() && matches!(c, b'x' | b't' | b'r' | b'n')
                            })
                        {
                            return !follows_quantifier(b, i + 3);
                        }
                    }
                    Some(_) => return !follows_quantifier(b, i + 2),
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Whether the atom that ended at `at` is made optional by a quantifier.
pub(super) fn follows_quantifier(b: &[u8], at: usize) -> bool {
    matches!(b.get(at), Some(b'?' | b'*'))
        || (b.get(at) == Some(&b'{') && b.get(at + 1) == Some(&b'0'))
}

/// Nested quantifiers, back-references, lookaround or anything else that
/// sends the pattern to PCRE2 with a real chance of its match limit.
pub(super) fn pcre_limit_risk(pattern: &str, dialect: Dialect) -> bool {
    let b = pattern.as_bytes();
    // A quantified group that contains a quantifier: `(a+)+`, `(a|aa)*`.
    let mut stack: Vec<bool> = Vec::new();
    let mut i = 0;
    let mut in_class = false;
    let mut nested = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                i += 2;
                continue;
            }
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => stack.push(false),
            b')' if !in_class => {
                let had = stack.pop().unwrap_or(false);
                let quantified = matches!(b.get(i + 1), Some(b'+' | b'*' | b'{'));
                if had && quantified {
                    nested = true;
                }
                if let Some(top) = stack.last_mut() {
                    *top |= had || quantified;
                }
            }
            // A quantifier, or an alternation (`(a|aa)*` backtracks too).
            b'+' | b'*' | b'{' | b'|' if !in_class => {
                if let Some(top) = stack.last_mut() {
                    *top = true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    nested
        || crate::pattern::needs_pcre(pattern, dialect) && {
            // Back-references and lookaround are the PCRE-only features that
            // backtrack; a lone `\Z` or `\h` does not.
            pattern.contains("(?=")
                || pattern.contains("(?!")
                || pattern.contains("(?<")
                || b.windows(2)
                    .any(|w| w[0] == b'\\' && w[1].is_ascii_digit() && w[1] != b'0')
        }
}
