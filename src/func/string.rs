//! The string functions of Apache 2.4's `ap_expr` (`tolower`, `toupper`,
//! `escape`, `unescape`, `base64`, `unbase64`, `sha1`, `md5`) and `-T`,
//! re-implemented to match Apache/APR byte for byte: each takes a C string
//! (everything from the first NUL on is ignored) and returns one.
//!
//! Hand-written where a crate would differ: `escape` must print lowercase
//! hex (`percent-encoding` prints uppercase) and `unbase64` must be as
//! lenient as APR's decoder.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use md5::Md5;
use sha1::{Digest, Sha1};

use std::fmt;

use super::{at, hex_lower, hex_value, LOWER_HEX};
use crate::env::cstr;

// ---------------------------------------------------------------------------
// tolower / toupper
// ---------------------------------------------------------------------------

/// `tolower()`: `ap_str_tolower` in the C locale, so only `A`-`Z` change;
/// bytes 0x80-0xFF are left alone.
pub fn tolower(s: &[u8]) -> Vec<u8> {
    cstr(s).to_ascii_lowercase()
}

/// `toupper()`: `ap_str_toupper` in the C locale, so only `a`-`z` change.
pub fn toupper(s: &[u8]) -> Vec<u8> {
    cstr(s).to_ascii_uppercase()
}

// ---------------------------------------------------------------------------
// escape / unescape
// ---------------------------------------------------------------------------

/// Bytes `ap_os_escape_path` copies unchanged: ASCII alphanumerics and
/// ``$-_.+!*'(),:;@&=/~`` (everything else has `T_OS_ESCAPE_PATH` set).
fn os_escape_path_keeps(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"$-_.+!*'(),:;@&=/~".contains(&c)
}

/// `escape()`: `ap_escape_uri`, i.e. `ap_os_escape_path(p, s, partial=1)`.
///
/// Every byte outside ASCII alphanumerics and ``$-_.+!*'(),:;@&=/~`` becomes
/// `%xx` with **lowercase** hex (Apache's `c2x` table is `0123456789abcdef`).
/// Space becomes `%20` (never `+`); `/`, `&`, `=`, `:`, `;`, `@` stay as
/// they are; `?`, `#`, `%`, `"`, `<`, `>`, `[`, `]`, `\`, `^`, `` ` ``, `{`,
/// `|`, `}`, control bytes and all bytes >= 0x80 are escaped. (The
/// `percent-encoding` crate is not used: it emits uppercase hex.)
pub fn escape(s: &[u8]) -> Vec<u8> {
    let s = cstr(s);
    let mut out = Vec::with_capacity(s.len() * 3);
    for &c in s {
        if os_escape_path_keeps(c) {
            out.push(c);
        } else {
            out.extend_from_slice(&[
                b'%',
                LOWER_HEX[usize::from(c >> 4)],
                LOWER_HEX[usize::from(c & 0x0f)],
            ]);
        }
    }
    out
}

/// Why `ap_unescape_url_keep2f` rejected its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnescapeError {
    /// A `%` not followed by two hex digits (`HTTP_BAD_REQUEST`; Apache logs
    /// "Bad % escape in unescape(...)").
    Bad,
    /// `%00` (`HTTP_NOT_FOUND`; Apache logs "Forbidden % escape in
    /// unescape(...)").
    Forbidden,
}

impl fmt::Display for UnescapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnescapeError::Bad => "Bad",
            UnescapeError::Forbidden => "Forbidden",
        })
    }
}

/// What [`percent_decode`] met besides plain text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Escapes {
    /// A `%` not followed by two hex digits (kept as it is).
    pub bad: bool,
    /// `%00` (decoded).
    pub nul: bool,
    /// `%2F` or `%2f` (decoded, or kept when asked).
    pub slash: bool,
}

/// The `%XX` decoding every URL-escaped value goes through (Apache's
/// `unescape_url`, nginx's `ngx_unescape_uri`): `%xx` in either hex case is
/// decoded, a `%` without two hex digits after it is kept as it is, `+` is
/// not a space, and `%2F` is kept verbatim (its original case) when
/// `keep_2f`. The callers decide what a bad escape, `%00` or `%2F` means.
pub fn percent_decode(s: &[u8], keep_2f: bool) -> (Vec<u8>, Escapes) {
    let mut out = Vec::with_capacity(s.len());
    let mut seen = Escapes::default();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        match (hex_value(at(s, i + 1)), hex_value(at(s, i + 2))) {
            (Some(hi), Some(lo)) => {
                let decoded = (hi << 4) | lo;
                seen.nul |= decoded == 0;
                seen.slash |= decoded == b'/';
                if decoded == b'/' && keep_2f {
                    out.extend_from_slice(&s[i..i + 3]);
                } else {
                    out.push(decoded);
                }
                i += 3;
            }
            _ => {
                seen.bad = true;
                out.push(b'%');
                i += 1;
            }
        }
    }
    (out, seen)
}

/// `ap_unescape_url_keep2f(s, 0)` with its status: [`percent_decode`]
/// keeping `%2F`. A bad escape wins over a forbidden one when both occur,
/// as in Apache.
pub fn try_unescape(s: &[u8]) -> Result<Vec<u8>, UnescapeError> {
    match percent_decode(cstr(s), true) {
        (_, Escapes { bad: true, .. }) => Err(UnescapeError::Bad),
        (_, Escapes { nul: true, .. }) => Err(UnescapeError::Forbidden),
        (out, _) => Ok(out),
    }
}

/// `unescape()`: [`try_unescape`], but like Apache's `unescape_func` it
/// returns the empty string when the input has a bad `%` escape or `%00`.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    try_unescape(s).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// base64 / unbase64
// ---------------------------------------------------------------------------

/// `base64()`: `ap_pbase64encode`, standard alphabet with `=` padding, no
/// line breaks.
pub fn base64(s: &[u8]) -> Vec<u8> {
    STANDARD.encode(cstr(s)).into_bytes()
}

/// Decoder for the already-validated prefix: no `=` in it, and the unused
/// low bits of the last symbol are ignored exactly as `apr_base64_decode`
/// ignores them.
const APR_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

fn is_base64_symbol(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// `unbase64()`: `ap_pbase64decode` (`apr_base64_decode`).
///
/// APR decodes only the leading run of standard-alphabet symbols
/// (`A-Za-z0-9+/`) and stops silently at the first other byte: `=`,
/// whitespace, `-`, `_`, anything. Nothing after that byte is looked at, no
/// padding is required, and if the run's length is `4k+1` its last symbol
/// is dropped. The result is a C string, so it ends at the first decoded
/// NUL byte.
pub fn unbase64(s: &[u8]) -> Vec<u8> {
    let mut n = s.iter().take_while(|&&c| is_base64_symbol(c)).count();
    if n % 4 == 1 {
        n -= 1;
    }
    // Cannot fail: the input is symbols only and its length is not 4k+1.
    let mut out = APR_LENIENT.decode(&s[..n]).unwrap_or_default();
    if let Some(nul) = out.iter().position(|&b| b == 0) {
        out.truncate(nul);
    }
    out
}

// ---------------------------------------------------------------------------
// sha1 / md5
// ---------------------------------------------------------------------------

/// `sha1()`: 40 lowercase hex digits of the SHA-1 of the (C string) input.
pub fn sha1_hex(s: &[u8]) -> Vec<u8> {
    hex_lower(&Sha1::digest(cstr(s)))
}

/// `md5()`: 32 lowercase hex digits of the MD5 of the (C string) input.
pub fn md5_hex(s: &[u8]) -> Vec<u8> {
    hex_lower(&Md5::digest(cstr(s)))
}

// ---------------------------------------------------------------------------
// -T
// ---------------------------------------------------------------------------

/// Unary `-T` (`op_T`): false for `""`, `"0"` and any ASCII-case variant of
/// `"off"`, `"no"`, `"false"`; true for everything else (`"00"`, `" 0"`,
/// `"nope"`, `"offf"`, ... are all true).
pub fn is_true(s: &[u8]) -> bool {
    let s = cstr(s);
    match s.first() {
        None => false,
        Some(b'o' | b'O') => !s.eq_ignore_ascii_case(b"off"),
        Some(b'n' | b'N') => !s.eq_ignore_ascii_case(b"no"),
        Some(b'f' | b'F') => !s.eq_ignore_ascii_case(b"false"),
        Some(b'0') => s.len() != 1,
        Some(_) => true,
    }
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

    #[test]
    fn tolower_toupper_ascii_only() {
        assert_eq!(tolower(b""), b"");
        assert_eq!(toupper(b""), b"");
        // httpd: %{tolower:...} / %{toupper:...} of "Hello World/\xc3\xa9?"
        // gave base64 aGVsbG8gd29ybGQvw6k/ and SEVMTE8gV09STEQvw6k/.
        assert_eq!(tolower(b"Hello World/\xc3\xa9?"), b"hello world/\xc3\xa9?");
        assert_eq!(toupper(b"Hello World/\xc3\xa9?"), b"HELLO WORLD/\xc3\xa9?");
        assert_eq!(tolower(b"\xc9\xff\x80AZ"), b"\xc9\xff\x80az");
        assert_eq!(toupper(b"\xe9\xff\x80az"), b"\xe9\xff\x80AZ");
        // C string: nothing after a NUL is seen.
        assert_eq!(tolower(b"AB\0CD"), b"ab");
    }

    #[test]
    fn escape_matches_ap_escape_uri() {
        // python3: re.sub('%[0-9A-F]{2}', lower, urllib.parse.quote(b,
        //   safe="$+!*'(),:;@&=/"))  (same keep-set as T_OS_ESCAPE_PATH);
        // the same values came out of httpd's %{escape:...}.
        assert_eq!(escape(b""), b"");
        assert_eq!(escape(b"abcXYZ019"), b"abcXYZ019");
        assert_eq!(escape(b"$-_.+!*'(),:;@&=/~"), b"$-_.+!*'(),:;@&=/~");
        assert_eq!(escape(b"a b"), b"a%20b");
        assert_eq!(
            escape(b"?#%\"<>[\\]^`{|}"),
            b"%3f%23%25%22%3c%3e%5b%5c%5d%5e%60%7b%7c%7d"
        );
        assert_eq!(escape(b"\x80\xff\xfe"), b"%80%ff%fe");
        assert_eq!(escape(b"caf\xc3\xa9"), b"caf%c3%a9");
        assert_eq!(escape(b"\x01\x1f\x7f"), b"%01%1f%7f");
        assert_eq!(escape(b"100%"), b"100%25");
        // httpd: base64(escape("Hello World/\xc3\xa9?")) = SGVsbG8lMjBXb3JsZC8lYzMlYTklM2Y=
        assert_eq!(escape(b"Hello World/\xc3\xa9?"), b"Hello%20World/%c3%a9%3f");
        assert_eq!(escape(b"a\0b"), b"a");
    }

    #[test]
    fn unescape_matches_ap_unescape_url_keep2f() {
        // python3 urllib.parse.unquote_to_bytes (agrees where no %2f, %00 or
        // bad escape is involved):
        assert_eq!(unescape(b""), b"");
        assert_eq!(unescape(b"plain"), b"plain");
        assert_eq!(unescape(b"%41%42c"), b"ABc");
        assert_eq!(unescape(b"%e9%C3%A9"), b"\xe9\xc3\xa9");
        assert_eq!(unescape(b"a+b%20c"), b"a+b c");
        assert_eq!(unescape(b"%7e%7E"), b"~~");
        assert_eq!(unescape(b"%ff%80"), b"\xff\x80");
        // Apache-specific (checked with httpd %{unescape:...}): %2f stays
        // encoded in its original case; bad escapes and %00 give "".
        assert_eq!(unescape(b"%2f%2F%2e"), b"%2f%2F.");
        assert_eq!(unescape(b"a%2Fb"), b"a%2Fb");
        for bad in [
            &b"%"[..],
            b"%4",
            b"%zz",
            b"%G1",
            b"100%",
            b"%00",
            b"x%00y%zz",
            b"%41%00",
        ] {
            assert_eq!(unescape(bad), b"", "{bad:?}");
        }
        assert_eq!(try_unescape(b"%zz"), Err(UnescapeError::Bad));
        assert_eq!(try_unescape(b"%00"), Err(UnescapeError::Forbidden));
        assert_eq!(try_unescape(b"%00%zz"), Err(UnescapeError::Bad));
        assert_eq!(try_unescape(b"%2F"), Ok(b"%2F".to_vec()));
        // raw non-ASCII passes through untouched
        assert_eq!(unescape(b"\xff\xfe%41"), b"\xff\xfeA");
        // C string: the "%zz" after the NUL is never seen
        assert_eq!(unescape(b"%41\0%zz"), b"A");
    }

    #[test]
    fn base64_encode() {
        // printf '...' | base64 -w0
        assert_eq!(base64(b""), b"");
        assert_eq!(base64(b"f"), b"Zg==");
        assert_eq!(base64(b"fo"), b"Zm8=");
        assert_eq!(base64(b"foo"), b"Zm9v");
        assert_eq!(base64(b"foobar"), b"Zm9vYmFy");
        assert_eq!(base64(b"Hello, World!"), b"SGVsbG8sIFdvcmxkIQ==");
        assert_eq!(base64(b"\x80\xff\xfe"), b"gP/+");
        assert_eq!(base64(b"caf\xc3\xa9"), b"Y2Fmw6k=");
        assert_eq!(base64(b"\xff\xff\xff\xff"), b"/////w==");
        assert_eq!(base64(b"foo\0bar"), b"Zm9v");
    }

    #[test]
    fn unbase64_is_apr_lenient() {
        // apr_oracle (apr_base64_decode), printed as "len hex":
        assert_eq!(unbase64(b""), b""); // 0
        assert_eq!(unbase64(b"Zm9vYmFy"), b"foobar"); // 6 666f6f626172
        assert_eq!(unbase64(b"Zm9vYg"), b"foob"); // 4 666f6f62
        assert_eq!(unbase64(b"Zm9vYg=="), b"foob"); // 4 666f6f62
        assert_eq!(unbase64(b"Zm9vYmE"), b"fooba"); // 5 666f6f6261
        assert_eq!(unbase64(b"Zm9vY"), b"foo"); // 3 666f6f (4k+1: last symbol dropped)
        assert_eq!(unbase64(b"Zm9vYmFyZ"), b"foobar"); // 6 666f6f626172
        assert_eq!(unbase64(b"Zg=junk"), b"f"); // 1 66
        assert_eq!(unbase64(b"Zm9v YmFy"), b"foo"); // 3 666f6f (stops at space)
        assert_eq!(unbase64(b"Zm9vYmFy\nZm9v"), b"foobar"); // 6 (stops at newline)
        assert_eq!(unbase64(b"Zm9vYmFy=Zm9v"), b"foobar"); // 6
        assert_eq!(unbase64(b"Zm9vYmFy-_"), b"foobar"); // 6 (URL-safe symbols invalid)
        assert_eq!(unbase64(b"!!!"), b""); // 0
        assert_eq!(unbase64(b"\x80Zm9v"), b""); // 0
        assert_eq!(unbase64(b"Zh"), b"f"); // 1 66 (python3 b64decode('Zh==') == b'f')
        assert_eq!(unbase64(b"gP/+"), b"\x80\xff\xfe"); // 3 80fffe
        assert_eq!(unbase64(b"SGVsbG8sIFdvcmxkIQ"), b"Hello, World!"); // 13
                                                                       // The C string result ends at the first decoded NUL:
        assert_eq!(unbase64(b"AGFi"), b""); // 3 006162
        assert_eq!(unbase64(b"YQBi"), b"a"); // 3 610062
                                             // httpd: base64(unbase64("Hello World/\xc3\xa9?")) = "Hell"
        assert_eq!(base64(&unbase64(b"Hello World/\xc3\xa9?")), b"Hell");
    }

    #[test]
    fn sha1_and_md5_hex() {
        // printf '...' | sha1sum ; printf '...' | md5sum ; openssl dgst for "abc"
        let cases: [(&[u8], &[u8], &[u8]); 7] = [
            (
                b"",
                b"da39a3ee5e6b4b0d3255bfef95601890afd80709",
                b"d41d8cd98f00b204e9800998ecf8427e",
            ),
            (
                b"abc",
                b"a9993e364706816aba3e25717850c26c9cd0d89d",
                b"900150983cd24fb0d6963f7d28e17f72",
            ),
            (
                b"foobar",
                b"8843d7f92416211de9ebb963ff4ce28125932878",
                b"3858f62230ac3c915f300c664312c63f",
            ),
            (
                b"Hello, World!",
                b"0a0a9f2a6772942557ab5355d76af442f8f65e01",
                b"65a8e27d8879283831b664bd8b7f0ad4",
            ),
            (
                b"\x80\xff\xfe",
                b"825a49e0fa670025ae25f3ea60b0a6c5eff2cfd0",
                b"8863ba4be8d270433ae4579b131106fe",
            ),
            (
                b"caf\xc3\xa9",
                b"f424452a9673918c6f09b0cdd35b20be8e6ae7d7",
                b"07117fe4a1ebd544965dc19573183da2",
            ),
            // httpd %{sha1:...} / %{md5:...}
            (
                b"Hello World/\xc3\xa9?",
                b"26722ba1786b3184a3221aa6aa63c3722f27ef07",
                b"f64eb4a8ee4d9fb3dded03d24b3fcdcb",
            ),
        ];
        for (input, sha1, md5) in cases {
            assert_eq!(sha1_hex(input), sha1, "{input:?}");
            assert_eq!(md5_hex(input), md5, "{input:?}");
        }
        // strlen: "foo\0bar" hashes as "foo" (printf 'foo' | sha1sum)
        assert_eq!(
            sha1_hex(b"foo\0bar"),
            b"0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33"
        );
        assert_eq!(md5_hex(b"foo\0bar"), b"acbd18db4cc2f85cedef654fccc4a4d8");
    }

    #[test]
    fn is_true_like_op_t() {
        // httpd: Header set X-T "1" "expr=-T %{HTTP:X-In}"
        for s in [
            &b""[..],
            b"0",
            b"off",
            b"OFF",
            b"oFf",
            b"no",
            b"No",
            b"nO",
            b"false",
            b"FALSE",
            b"fAlSe",
        ] {
            assert!(!is_true(s), "{s:?}");
        }
        for s in [
            &b"1"[..],
            b"00",
            b"0 ",
            b"on",
            b"yes",
            b"true",
            b"offf",
            b"of",
            b"nope",
            b"n",
            b"fals",
            b"falsey",
            b"-",
            b"\xff",
            b"\x80off",
        ] {
            assert!(is_true(s), "{s:?}");
        }
        assert!(!is_true(b"\0yes"));
        assert!(!is_true(b"off\0x"));
    }
}
