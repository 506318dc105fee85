//! The patterns `migrate` writes: `strcmplex` orderings as regexes, and
//! 2.2's regexes in 2.4's spelling.

use std::fmt::Write as _;

/// A PCRE pattern (for `m#…#`, dot-all whatever the defaults) matching the
/// strings `s` with `strcmplex(s, c) < 0` (`or_equal`: `<= 0`): shorter
/// than `c`, or as long and smaller at the first differing byte, bytes
/// compared as signed chars.
pub fn order_regex(c: &[u8], or_equal: bool) -> String {
    let n = c.len();
    let mut alts: Vec<String> = Vec::new();
    if n > 0 {
        alts.push(if n == 1 {
            String::new()
        } else {
            format!(".{{0,{}}}", n - 1)
        });
    }
    for i in 0..n {
        let class = signed_less_class(c[i]);
        if class.is_empty() {
            continue;
        }
        let rest = n - i - 1;
        let mut alt = escape_bytes(&c[..i]);
        alt.push_str(&class);
        match rest {
            0 => {}
            1 => alt.push('.'),
            _ => {
                let _ = write!(alt, ".{{{rest}}}");
            }
        }
        alts.push(alt);
    }
    if or_equal {
        alts.push(escape_bytes(c));
    }
    if alts.is_empty() {
        // Nothing orders below "": a pattern that never matches.
        return "(?!)".to_string();
    }
    format!("\\A(?s:{})\\z", alts.join("|"))
}

/// `[…]` of the bytes 1–255 below `b` as signed chars ("" when none).
fn signed_less_class(b: u8) -> String {
    let mut ranges: Vec<(u8, u8)> = Vec::new();
    if b < 0x80 {
        // Every byte ≥ 0x80 is negative, so smaller.
        if b > 1 {
            ranges.push((1, b - 1));
        }
        ranges.push((0x80, 0xff));
    } else if b > 0x80 {
        ranges.push((0x80, b - 1));
    }
    if ranges.is_empty() {
        return String::new();
    }
    let mut s = String::from("[");
    for (lo, hi) in ranges {
        if lo == hi {
            let _ = write!(s, "\\x{lo:02x}");
        } else {
            let _ = write!(s, "\\x{lo:02x}-\\x{hi:02x}");
        }
    }
    s.push(']');
    s
}

/// Literal bytes for a pattern: letters and digits as is, everything else
/// as `\xHH` (so no delimiter or metacharacter appears).
fn escape_bytes(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    s
}

/// A 2.2 pattern (PCRE without DOTALL, `$` also before a final newline)
/// for 2.4's options (DOTALL, DOLLAR_ENDONLY): `(?-s)` in front and every
/// `$` anchor written as `(?=\n?\z)`.
pub fn regex_22_to_24(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::from("(?-s)");
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                out.push('\\');
                if let Some(&n) = b.get(i + 1) {
                    // Keep multi-byte characters whole.
                    let len = utf8_len(n);
                    out.push_str(&pattern[i + 1..(i + 1 + len).min(b.len())]);
                    i += 1 + len;
                } else {
                    i += 1;
                }
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                if b.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    out.push(']');
                    i += 1;
                }
                continue;
            }
            b']' if in_class => in_class = false,
            b'$' if !in_class => {
                out.push_str("(?=\\n?\\z)");
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = utf8_len(c);
        out.push_str(&pattern[i..(i + len).min(b.len())]);
        i += len;
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strcmplex;

    fn matches(pattern: &str, s: &[u8]) -> bool {
        // The pattern is PCRE; these simple ones read the same in `regex`
        // with `(?-u)` for bytes.
        let p = pattern.replace("(?!)", "[^\\x00-\\xff]");
        regex::bytes::Regex::new(&format!("(?-u){p}"))
            .unwrap()
            .is_match(s)
    }

    #[test]
    fn order_regex_is_strcmplex() {
        let samples: Vec<&[u8]> = vec![
            b"", b"0", b"8", b"9", b"08", b"10", b"20", b"21", b"7", b"aa", b"b", b"\x80",
            b"a\xff", b"TLSv1.2", b"TLSv1", b"TLSv1.3", b"~~", b"zz", b"A",
        ];
        for c in &samples {
            for or_equal in [false, true] {
                let p = order_regex(c, or_equal);
                for s in &samples {
                    let want = match strcmplex(s, c) {
                        std::cmp::Ordering::Less => true,
                        std::cmp::Ordering::Equal => or_equal,
                        std::cmp::Ordering::Greater => false,
                    };
                    assert_eq!(matches(&p, s), want, "{s:?} vs {c:?} ({or_equal}): {p}");
                }
            }
        }
    }
}
