//! Input safety checks that run before pest.
//!
//! pest parses recursively, and so do the later stages that walk the tree.
//! A hostile `((((…` or `!!!!…` a million levels deep would overflow the
//! stack, so the nesting depth is measured here first, by a linear scan that
//! knows just enough of the lexical structure (strings, regex bodies) not to
//! count brackets inside them.

use crate::error::{ErrorKind, Span};

#[derive(Clone, Copy)]
enum Frame {
    /// `(` — grouping or a function call's argument.
    Paren { nots: u32 },
    /// `%{` — a variable, possibly inside a string.
    Var { nots: u32 },
    /// `{` — a word list (does not count toward depth).
    List { nots: u32 },
    /// Inside a quoted string.
    Str { quote: u8, at: usize },
}

impl Frame {
    /// How much this frame adds to the depth: the `!` run before it, and one
    /// level for `(` and `%{`.
    fn depth(self) -> u32 {
        match self {
            Frame::Paren { nots } | Frame::Var { nots } => nots + 1,
            Frame::List { nots } => nots,
            Frame::Str { .. } => 0,
        }
    }
}

/// Rejects input over `size_limit` bytes and input whose nesting of `(`,
/// `%{` and runs of `!`/`not` exceeds `nest_limit`; reports unterminated
/// strings and regexes with the span of their opening (pest would only say
/// "expected closing quote" at the end of the input). `v24` selects the 2.4
/// lexical rules (single quotes, interpolation, restricted regex delimiters).
pub(crate) fn check(
    src: &str,
    size_limit: usize,
    nest_limit: u32,
    v24: bool,
) -> Result<u32, (ErrorKind, Span)> {
    if src.len() > size_limit {
        return Err((
            ErrorKind::InputTooLong { limit: size_limit },
            Span::new(size_limit, src.len()),
        ));
    }
    let b = src.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut base = 0u32; // depth of the frames on the stack
    let mut nots = 0u32; // the current run of `!`/`not`
    let mut max = 0u32;
    let mut i = 0;
    let too_deep = |at: usize| {
        Err((
            ErrorKind::NestTooDeep { limit: nest_limit },
            Span::new(at, (at + 1).min(src.len())),
        ))
    };
    while i < b.len() {
        let c = b[i];
        if let Some(Frame::Str { quote, at }) = stack.last().copied() {
            match c {
                b'\\' if b.get(i + 1) != Some(&b'\n') => i += 1,
                b'\n' => return Err((ErrorKind::StringUnterminated, Span::new(at, i))),
                b'%' if v24 && b.get(i + 1) == Some(&b'{') => {
                    stack.push(Frame::Var { nots: 0 });
                    base += 1;
                    if base > nest_limit {
                        return too_deep(i);
                    }
                    i += 1;
                }
                _ if c == quote => {
                    let f = stack.pop().map_or(0, Frame::depth);
                    base -= f;
                    nots = 0;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        if let Some(Frame::Var { .. }) = stack.last() {
            // Inside %{…}: a name, or a function argument whose escapes,
            // quotes (escaped) and braces are text; only %{ and } nest.
            match c {
                b'\\' => i += 1,
                b'%' if b.get(i + 1) == Some(&b'{') => {
                    stack.push(Frame::Var { nots: 0 });
                    base += 1;
                    if base > nest_limit {
                        return too_deep(i);
                    }
                    i += 1;
                }
                b'}' => {
                    if let Some(f) = stack.pop() {
                        base -= f.depth();
                    }
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b' ' | b'\t' | b'\n' => {}
            b'"' | b'\'' if c == b'"' || v24 => {
                stack.push(Frame::Str { quote: c, at: i });
                nots = 0;
            }
            b'(' | b'{' => {
                let var = c == b'{' && i > 0 && b[i - 1] == b'%';
                let frame = match (c, var) {
                    (b'(', _) => Frame::Paren { nots },
                    (_, true) => Frame::Var { nots },
                    _ => Frame::List { nots },
                };
                base += frame.depth();
                stack.push(frame);
                nots = 0;
                if base > nest_limit {
                    return too_deep(i);
                }
            }
            b')' | b'}' => {
                if let Some(f) = stack.pop() {
                    base -= f.depth();
                }
                nots = 0;
            }
            b'!' if !matches!(b.get(i + 1), Some(b'=' | b'~')) => {
                nots += 1;
                if base + nots > nest_limit {
                    return too_deep(i);
                }
            }
            b'=' | b'!' if b.get(i + 1) == Some(&b'~') => {
                // A regex follows: skip its body, whose brackets do not nest.
                i += 2;
                while matches!(b.get(i), Some(b' ' | b'\t' | b'\n')) {
                    i += 1;
                }
                let start = i;
                let delim = match b.get(i) {
                    Some(b'/') => Some(b'/'),
                    Some(b'm') => {
                        let d = b.get(i + 1).copied();
                        i += 1;
                        d.filter(|&d| {
                            if v24 {
                                b"/#$%^,;:_?|-!.'\"".contains(&d)
                            } else {
                                d != b'\n'
                            }
                        })
                    }
                    _ => None,
                };
                if let Some(d) = delim {
                    i += 1;
                    while i < b.len() && b[i] != d {
                        i += 1;
                    }
                    if i >= b.len() {
                        return Err((ErrorKind::RegexUnterminated, Span::new(start, b.len())));
                    }
                }
                nots = 0;
            }
            b'n' if src[i..].starts_with("not")
                && (i == 0 || !is_ident(b[i - 1]))
                && !b.get(i + 3).copied().is_some_and(is_ident) =>
            {
                nots += 1;
                if base + nots > nest_limit {
                    return too_deep(i);
                }
                i += 2;
            }
            _ => {
                nots = 0;
                // Skip the rest of an identifier so `cannot` is not `not`.
                while i + 1 < b.len() && is_ident(b[i]) && is_ident(b[i + 1]) {
                    i += 1;
                }
            }
        }
        max = max.max(base + nots);
        i += 1;
    }
    if let Some(Frame::Str { at, .. }) = stack.last() {
        return Err((ErrorKind::StringUnterminated, Span::new(*at, src.len())));
    }
    Ok(max)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(src: &str, limit: u32) -> bool {
        check(src, usize::MAX, limit, true).is_ok()
    }

    #[test]
    fn parens_and_nots_count() {
        assert!(depth_ok("((true))", 2));
        assert!(!depth_ok("(((true)))", 2));
        assert!(depth_ok("!!true", 2));
        assert!(!depth_ok("!!!true", 2));
        assert!(!depth_ok("!(!(true))", 3));
        assert!(depth_ok("!(!(true))", 4));
        assert!(depth_ok("not not true", 2));
        assert!(!depth_ok("not not not true", 2));
    }

    #[test]
    fn reports_the_depth() {
        assert_eq!(check("(!(%{A} == \"%{B}\"))", 100, 10, true), Ok(4));
    }

    #[test]
    fn sequences_do_not_nest() {
        let many = vec!["!true"; 1000].join(" && ");
        assert!(depth_ok(&many, 2));
        let many = vec!["(true)"; 1000].join(" || ");
        assert!(depth_ok(&many, 2));
    }

    #[test]
    fn strings_and_regexes_hide_brackets() {
        assert!(depth_ok(r#""((((((" == "x""#, 1));
        assert!(depth_ok(r#"%{A} =~ m/((((((/ && "cannot" == "x""#, 1));
        assert!(!depth_ok(r#""%{tolower:%{tolower:%{A}}}" == "a""#, 2));
    }

    #[test]
    fn unterminated() {
        let e = check(r#"%{A} == "abc"#, 100, 10, true).unwrap_err();
        assert_eq!(e, (ErrorKind::StringUnterminated, Span::new(8, 12)));
        let e = check("%{A} =~ m/abc", 100, 10, true).unwrap_err();
        assert_eq!(e, (ErrorKind::RegexUnterminated, Span::new(8, 13)));
        // 2.2: no single quotes, no interpolation, any delimiter.
        assert!(check(r#""100%{" == "x" && 'x"#, 100, 10, false).is_ok());
        assert!(check(r#"%{A} =~ mxabc"#, 100, 10, false).is_err());
    }

    #[test]
    fn variable_arguments_are_text() {
        // See: tests/fuzz-cases/parse/limits-var-arg-*
        for src in [
            r#""%{tolower:\173}" == "x""#,
            r#"%{tolower:\042} == "x""#,
            r#""%{tolower:\047}" == "x""#,
        ] {
            assert!(check(src, 100, 10, true).is_ok(), "{src}");
        }
    }

    #[test]
    fn size_limit() {
        assert!(matches!(
            check("true", 3, 10, true),
            Err((ErrorKind::InputTooLong { limit: 3 }, _))
        ));
    }
}
