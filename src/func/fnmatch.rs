//! `-fnmatch`, `-strmatch`, `-strcmatch`: `apr_fnmatch` (APR >= 1.4.5),
//! byte for byte.

use super::at;
use crate::env::cstr;

// ---------------------------------------------------------------------------
// -fnmatch / -strmatch / -strcmatch
// ---------------------------------------------------------------------------

/// Flags of `apr_fnmatch` that Apache's expression operators use. Escaping
/// with `\` is always on (Apache never passes `APR_FNM_NOESCAPE`) and
/// leading periods are never special (Apache never passes `APR_FNM_PERIOD`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FnmatchFlags {
    /// `APR_FNM_PATHNAME`: `*`, `?` and `[...]` never match `/`, and slashes
    /// in pattern and string must correspond one to one.
    pub pathname: bool,
    /// `APR_FNM_CASE_BLIND`: ASCII case-insensitive.
    pub casefold: bool,
}

impl FnmatchFlags {
    /// Flags of `-fnmatch`.
    pub const FNMATCH: FnmatchFlags = FnmatchFlags {
        pathname: true,
        casefold: false,
    };
    /// Flags of `-strmatch`.
    pub const STRMATCH: FnmatchFlags = FnmatchFlags {
        pathname: false,
        casefold: false,
    };
    /// Flags of `-strcmatch`.
    pub const STRCMATCH: FnmatchFlags = FnmatchFlags {
        pathname: false,
        casefold: true,
    };
}

/// `char` as x86-64 gcc sees it (signed): bytes >= 0x80 sort below 0.
fn schar(c: u8) -> i32 {
    i32::from(c as i8)
}

/// C-locale `isupper`.
fn c_isupper(c: u8) -> bool {
    c.is_ascii_uppercase()
}

/// C-locale `tolower` applied to a (signed) `char`.
fn c_tolower(c: u8) -> i32 {
    schar(c.to_ascii_lowercase())
}

/// `fnmatch_ch`: match one pattern element (`?`, `[...]`, `\x` or a literal)
/// at `*pi` against the string byte at `*si`; returns whether it matched and
/// advances both indices the way the C code advances its pointers.
fn fnmatch_ch(p: &[u8], pi: &mut usize, s: &[u8], si: &mut usize, flags: FnmatchFlags) -> bool {
    let mismatch = *pi;
    let nocase = flags.casefold;
    let slash = flags.pathname;
    let mut matched = false;

    if at(p, *pi) == b'[' {
        *pi += 1;
        // Negation: a leading '!' or '^' (never both).
        let negate = matches!(at(p, *pi), b'!' | b'^');
        if negate {
            *pi += 1;
        }
        // ']' is an ordinary character at the start of the bracket.
        let mut leading_close_brace = at(p, *pi) == b']';
        loop {
            if leading_close_brace {
                leading_close_brace = false;
            } else {
                if at(p, *pi) == 0 {
                    break;
                }
                if at(p, *pi) == b']' {
                    *pi += 1;
                    *si += 1;
                    return matched != negate;
                }
                if at(p, *pi) == b'\\' {
                    *pi += 1;
                    // Brackets must end with ']', not at the end of the pattern.
                    if at(p, *pi) == 0 {
                        break;
                    }
                }
                // Brackets must end with ']', not '/'.
                if slash && at(p, *pi) == b'/' {
                    break;
                }
            }

            // Only well-formed ranges: "x-]" is not a range unless escaped.
            if at(p, *pi + 1) == b'-' && at(p, *pi + 2) != b']' {
                let start = at(p, *pi);
                *pi += if at(p, *pi + 2) == b'\\' { 3 } else { 2 };
                if at(p, *pi) == 0 || (slash && at(p, *pi) == b'/') {
                    break;
                }
                let c = at(s, *si);
                let end = at(p, *pi);
                let in_range = schar(c) >= schar(start) && schar(c) <= schar(end);
                let in_folded_range = nocase
                    && (c_isupper(c) || c_isupper(start) || c_isupper(end))
                    && c_tolower(c) >= c_tolower(start)
                    && c_tolower(c) <= c_tolower(end);
                if in_range || in_folded_range {
                    matched = true;
                }
                *pi += 1;
                continue;
            }

            let c = at(s, *si);
            let pc = at(p, *pi);
            if c == pc
                || (nocase && (c_isupper(c) || c_isupper(pc)) && c_tolower(c) == c_tolower(pc))
            {
                matched = true;
            }
            *pi += 1;
        }
        // Not a balanced [...]: rewind and treat '[' as a literal.
        *pi = mismatch;
        matched = false;
    } else if at(p, *pi) == b'?' {
        let c = at(s, *si);
        if c == 0 || (slash && c == b'/') {
            return false;
        }
        *pi += 1;
        *si += 1;
        return true;
    } else if at(p, *pi) == b'\\' && at(p, *pi + 1) != 0 {
        *pi += 1;
    }

    let c = at(s, *si);
    let pc = at(p, *pi);
    if c == pc || (nocase && (c_isupper(c) || c_isupper(pc)) && c_tolower(c) == c_tolower(pc)) {
        matched = true;
    }
    // Refuse to advance over a trailing slash or the end of either string.
    if c == 0 || pc == 0 || (slash && (c == b'/' || pc == b'/')) {
        return matched;
    }
    *pi += 1;
    *si += 1;
    matched
}

/// `apr_fnmatch(pattern, string, flags) == APR_SUCCESS` (APR >= 1.4.5
/// algorithm, always with backslash escapes, never `APR_FNM_PERIOD`).
///
/// `*` matches any run (including empty, including a leading `.`), `?` one
/// byte, `[...]`/`[!...]`/`[^...]` a set with ranges; `\x` is a literal `x`;
/// a `[` without a closing `]` is a literal. With `pathname`, `*`, `?` and
/// brackets never match `/`. Bytes are compared as signed `char` (x86-64),
/// so a range like `[a-\xff]` is empty. Case folding is ASCII only.
pub fn fnmatch(pattern: &[u8], string: &[u8], flags: FnmatchFlags) -> bool {
    let p = cstr(pattern);
    let s = cstr(string);
    let slash = flags.pathname;
    let is_slash_at = |i: usize| -> bool {
        slash && (at(p, i) == b'/' || (at(p, i) == b'\\' && at(p, i + 1) == b'/'))
    };
    let mut pi = 0usize;
    let mut si = 0usize;
    let mut strstartseg = 0usize;
    let mut mismatch = 0usize;
    let mut matchlen = 0usize;

    // A leading '*' enters the first segment even when the string is empty.
    let mut first_segment = at(p, 0) == b'*';
    loop {
        if first_segment {
            first_segment = false;
        } else {
            if at(p, pi) == 0 || at(s, si) == 0 {
                break;
            }
            // Pre-decode "\/" and match balanced slashes.
            if slash && at(p, pi) == b'\\' && at(p, pi + 1) == b'/' {
                pi += 1;
            }
            if slash && at(p, pi) == b'/' && at(s, si) == b'/' {
                pi += 1;
                si += 1;
            }
        }

        let strendseg = if slash {
            s[si..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(s.len(), |k| si + k)
        } else {
            s.len()
        };

        while at(p, pi) != 0 {
            if si > strendseg || (si == strendseg && at(p, pi) != b'*') {
                break;
            }
            if is_slash_at(pi) {
                break;
            }

            // Reduce runs of '*' and '?' to n '?' matches and one '*'.
            let mut wild = false;
            while matches!(at(p, pi), b'*' | b'?') {
                if at(p, pi) == b'*' {
                    wild = true;
                } else if si < strendseg {
                    si += 1;
                } else {
                    return false;
                }
                pi += 1;
            }

            if wild {
                strstartseg = si;
                mismatch = pi;
                // Count the fixed single-character matches left in this
                // segment of the pattern.
                let mut mp = pi;
                matchlen = 0;
                loop {
                    if at(p, mp) == 0 || is_slash_at(mp) {
                        // Anchor the rest at the end of the string segment.
                        if si + matchlen > strendseg {
                            return false;
                        }
                        si = strendseg - matchlen;
                        wild = false;
                        break;
                    }
                    if at(p, mp) == b'*' {
                        if si + matchlen > strendseg {
                            return false;
                        }
                        break;
                    }
                    if at(p, mp) == b'\\' && at(p, mp + 1) != 0 {
                        mp += 2;
                    } else if at(p, mp) == b'[' {
                        let mut dummy = 0usize;
                        fnmatch_ch(p, &mut mp, b" ", &mut dummy, flags);
                    } else {
                        mp += 1;
                    }
                    matchlen += 1;
                }
            }

            // Match the string incrementally against the pattern.
            while at(p, pi) != 0 && si < strendseg {
                if at(p, pi) == b'*' {
                    break;
                }
                if slash && (at(s, si) == b'/' || is_slash_at(pi)) {
                    break;
                }
                if fnmatch_ch(p, &mut pi, s, &mut si, flags) {
                    continue;
                }
                if wild {
                    // Retry the '*' one byte further on.
                    strstartseg += 1;
                    si = strstartseg;
                    if si + matchlen > strendseg {
                        return false;
                    }
                    pi = mismatch;
                    continue;
                }
                return false;
            }
        }

        if at(s, si) != 0 && !(slash && at(s, si) == b'/') {
            return false;
        }
        if at(p, pi) != 0 && !is_slash_at(pi) {
            return false;
        }
    }

    at(s, si) == 0 && at(p, pi) == 0
}

#[cfg(test)]
mod tests {
    //! Expected values come from running the real thing on this machine
    //! (Debian 12: Apache httpd 2.4.67, libapr1 1.7.2, libaprutil1 1.6.3,
    //! glibc 2.36) or from coreutils / OpenSSL / Python, as each comment says.
    //! "apr_oracle" is a 60-line C program linked against the real libapr-1
    //! and libaprutil-1 that prints `apr_fnmatch(...) == APR_SUCCESS`,
    //! `apr_ipsubnet_create` + `apr_sockaddr_info_get(APR_UNSPEC)` +
    //! `apr_ipsubnet_test`, and `apr_base64_decode` for its input lines.
    //! "httpd" means Apache 2.4.67 evaluating `Header always set X
    //! "expr=..."` for a request carrying the input in a header.
    use super::*;

    const F: FnmatchFlags = FnmatchFlags::STRMATCH;
    const P: FnmatchFlags = FnmatchFlags::FNMATCH;
    const C: FnmatchFlags = FnmatchFlags::STRCMATCH;
    const PC: FnmatchFlags = FnmatchFlags {
        pathname: true,
        casefold: true,
    };

    #[test]
    fn fnmatch_basics() {
        // apr_oracle; python3 ctypes glibc fnmatch() (C locale) agrees on all of these.
        let cases: &[(FnmatchFlags, &[u8], &[u8], bool)] = &[
            (F, b"", b"", true),
            (F, b"", b"a", false),
            (F, b"a", b"", false),
            (F, b"*", b"", true),
            (F, b"*", b"anything", true),
            (F, b"a*", b"abc", true),
            (F, b"a*c", b"abbbc", true),
            (F, b"a*c", b"abcd", false),
            (F, b"*.txt", b"notes.txt", true),
            (F, b"*.txt", b"notes.txt.bak", false),
            (F, b"?", b"a", true),
            (F, b"?", b"", false),
            (F, b"??", b"a", false),
            (F, b"a?c", b"abc", true),
            (F, b"[abc]", b"b", true),
            (F, b"[abc]", b"d", false),
            (F, b"[!abc]", b"d", true),
            (F, b"[!abc]", b"a", false),
            (F, b"[^abc]", b"d", true),
            (F, b"[a-c]x", b"bx", true),
            (F, b"[a-c]x", b"dx", false),
            (F, b"[]]", b"]", true),
            (F, b"[!]]", b"a", true),
            (F, b"[a-]", b"-", true),
            (F, b"[", b"[", true),
            (F, b"[ab", b"[ab", true),
            (F, b"a[", b"a[", true),
            (F, b"\\*", b"*", true),
            (F, b"\\*", b"a", false),
            (F, b"\\?", b"?", true),
            (F, b"\\[a]", b"[a]", true),
            (F, b"\\a", b"a", true),
            (F, b"[\\]]", b"]", true),
            (F, b"[a\\-c]", b"-", true),
            (F, b"[a\\-c]", b"b", false),
            (F, b"\xe9", b"\xe9", true),
            (F, b"[\x80-\xff]", b"\x90", true),
            (F, b"*\xff", b"ab\xff", true),
            (F, b"?", b"\xff", true),
            (F, b"[\xe9]", b"\xe9", true),
        ];
        for &(flags, p, s, want) in cases {
            assert_eq!(fnmatch(p, s, flags), want, "{p:?} {s:?} {flags:?}");
        }
    }

    #[test]
    fn fnmatch_pathname_period_casefold() {
        // apr_oracle; python3 ctypes glibc fnmatch() agrees on all of these.
        let cases: &[(FnmatchFlags, &[u8], &[u8], bool)] = &[
            (F, b"*", b"a/b", true),
            (P, b"*", b"a/b", false),
            (P, b"a/*", b"a/b", true),
            (P, b"*/*", b"a/b", true),
            (P, b"a*", b"a/b", false),
            (F, b"a?c", b"a/c", true),
            (P, b"a?b", b"a/b", false),
            (P, b"a[/]b", b"a/b", false),
            (F, b"a[/]b", b"a/b", true),
            (P, b"/x/*", b"/x/y", true),
            (P, b"/x/*", b"/x/y/z", false),
            (P, b"a//b", b"a/b", false),
            (P, b"a\\/b", b"a/b", true),
            (P, b"*/", b"a/", true),
            // Apache never passes APR_FNM_PERIOD: a leading '.' is ordinary.
            (F, b"*", b".hidden", true),
            (P, b"*", b".hidden", true),
            (P, b"a/*", b"a/.b", true),
            (P, b"?hidden", b".hidden", true),
            (P, b"[.]x", b".x", true),
            (F, b"ABC", b"abc", false),
            (C, b"ABC", b"abc", true),
            (C, b"a*", b"ABC", true),
            (C, b"[a-c]", b"B", true),
            (C, b"[A-C]", b"b", true),
            (C, b"[!x]", b"X", false),
            (PC, b"A/*", b"a/B", true),
            (C, b"\xc9", b"\xe9", false), // ASCII-only folding
        ];
        for &(flags, p, s, want) in cases {
            assert_eq!(fnmatch(p, s, flags), want, "{p:?} {s:?} {flags:?}");
        }
        // Through httpd: "a/b" -fnmatch "a*" false, -strmatch/-strcmatch true;
        // "ABC" -strcmatch "a*" true; "aXb" -strcmatch "a[!x]b" false.
        assert!(!fnmatch(b"a*", b"a/b", FnmatchFlags::FNMATCH));
        assert!(fnmatch(b"a*", b"a/b", FnmatchFlags::STRMATCH));
        assert!(fnmatch(b"a*", b"ABC", FnmatchFlags::STRCMATCH));
        assert!(!fnmatch(b"a[!x]b", b"aXb", FnmatchFlags::STRCMATCH));
        assert!(fnmatch(b"a[!x]b", b"aXb", FnmatchFlags::STRMATCH));
    }

    #[test]
    fn fnmatch_apr_quirks() {
        // apr_oracle gives these; glibc fnmatch() gives the opposite.
        // A trailing backslash is a literal backslash:
        assert!(fnmatch(b"a\\", b"a\\", F));
        // chars compare as signed: 0xff sorts below 'a', so [a-\xff] is empty.
        assert!(!fnmatch(b"[a-\xff]", b"z", F));
        // C strings
        assert!(fnmatch(b"a*\0zzz", b"abc", F));
        assert!(fnmatch(b"abc", b"abc\0def", F));
    }
}
