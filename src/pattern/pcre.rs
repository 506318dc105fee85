//! A minimal safe wrapper over PCRE2 (the library Apache 2.4.71 matches
//! with), for the patterns the `regex` crate cannot run: back-references,
//! lookaround, atomic groups, possessive quantifiers, `\Q…\E` …
//!
//! Why not the `pcre2` crate: it cannot set `PCRE2_DOLLAR_ENDONLY`, which
//! Apache 2.4.30+ compiles every expression regex with, nor a match limit.
//! This is the only module with `unsafe` code; every call below follows the
//! PCRE2 API contract noted beside it.
#![allow(unsafe_code)]

use std::ptr::{self, NonNull};

use pcre2_sys as sys;

/// How much one match may spend (see [`crate::RegexLimits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub match_limit: u32,
    pub depth_limit: u32,
    pub heap_limit_kib: u32,
}

/// PCRE2 stopped before it could say "match" or "no match": a limit, or
/// memory. The message is PCRE2's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stopped(pub String);

/// Compile options.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    pub caseless: bool,
    pub dotall: bool,
    pub dollar_endonly: bool,
}

/// A compiled pattern. PCRE2 code is read-only after compilation and may be
/// used from several threads at once (pcre2api: "a compiled pattern can be
/// shared between threads").
#[derive(Debug)]
pub(crate) struct Code {
    code: NonNull<sys::pcre2_code_8>,
    captures: u32,
}

// SAFETY: see the type's documentation; matching takes `&self` and writes
// only to per-call match data.
unsafe impl Send for Code {}
unsafe impl Sync for Code {}

impl Drop for Code {
    fn drop(&mut self) {
        // SAFETY: `code` came from pcre2_compile_8 and is freed once.
        unsafe { sys::pcre2_code_free_8(self.code.as_ptr()) }
    }
}

impl Code {
    /// Compiles `pattern` (bytes, not UTF: `.` is one byte, as in Apache).
    pub(crate) fn new(pattern: &[u8], opts: Options) -> Result<Code, (String, usize)> {
        let mut flags = 0;
        if opts.caseless {
            flags |= sys::PCRE2_CASELESS;
        }
        if opts.dotall {
            flags |= sys::PCRE2_DOTALL;
        }
        if opts.dollar_endonly {
            flags |= sys::PCRE2_DOLLAR_ENDONLY;
        }
        let mut error_code = 0;
        let mut error_offset = 0usize;
        // SAFETY: pattern points to `len` readable bytes (an explicit length,
        // so no NUL terminator is needed); the out-pointers are valid; a null
        // compile context means defaults.
        let raw = unsafe {
            sys::pcre2_compile_8(
                pattern.as_ptr(),
                pattern.len(),
                flags,
                &mut error_code,
                &mut error_offset,
                ptr::null_mut(),
            )
        };
        let Some(code) = NonNull::new(raw) else {
            return Err((error_message(error_code), error_offset));
        };
        let mut captures: u32 = 0;
        // SAFETY: CAPTURECOUNT writes a uint32_t to the given pointer.
        let rc = unsafe {
            sys::pcre2_pattern_info_8(
                code.as_ptr(),
                sys::PCRE2_INFO_CAPTURECOUNT,
                (&mut captures as *mut u32).cast(),
            )
        };
        debug_assert_eq!(rc, 0);
        Ok(Code { code, captures })
    }

    /// The number of capture groups.
    pub(crate) fn captures(&self) -> u32 {
        self.captures
    }

    /// Searches `subject`; on a match fills `groups[i]` with the byte range of
    /// group i (`None` when it did not take part) for i < groups.len().
    ///
    /// # Errors
    /// PCRE2 stopped at one of `limits` (or could not allocate): the caller
    /// decides what that means (Apache: no match).
    pub(crate) fn search(
        &self,
        subject: &[u8],
        groups: &mut [Option<(usize, usize)>],
        limits: Limits,
    ) -> Result<bool, Stopped> {
        let md = MatchData::new(self);
        let ctx = MatchContext::new(limits);
        let (Some(md), Some(ctx)) = (md, ctx) else {
            return Err(Stopped("out of memory for the match data".into()));
        };
        // SAFETY: code, subject (explicit length), match data and context
        // are valid for the call; the match data was sized from this pattern.
        let rc = unsafe {
            sys::pcre2_match_8(
                self.code.as_ptr(),
                subject.as_ptr(),
                subject.len(),
                0,
                0,
                md.0.as_ptr(),
                ctx.0.as_ptr(),
            )
        };
        if rc == sys::PCRE2_ERROR_NOMATCH {
            return Ok(false);
        }
        if rc < 0 {
            return Err(Stopped(error_message(rc)));
        }
        // SAFETY: the ovector holds `count` pairs of offsets and lives as
        // long as the match data.
        let (ov, count) = unsafe {
            let count = sys::pcre2_get_ovector_count_8(md.0.as_ptr()) as usize;
            (sys::pcre2_get_ovector_pointer_8(md.0.as_ptr()), count)
        };
        for (i, slot) in groups.iter_mut().enumerate() {
            *slot = None;
            if i < count && (i as i32) < rc.max(1) {
                // SAFETY: i < count.
                let (s, e) = unsafe { (*ov.add(2 * i), *ov.add(2 * i + 1)) };
                if s != usize::MAX && s <= e && e <= subject.len() {
                    *slot = Some((s, e));
                }
            }
        }
        Ok(true)
    }
}

struct MatchData(NonNull<sys::pcre2_match_data_8>);

impl MatchData {
    fn new(code: &Code) -> Option<MatchData> {
        // SAFETY: a valid code pointer and the default general context.
        NonNull::new(unsafe {
            sys::pcre2_match_data_create_from_pattern_8(code.code.as_ptr(), ptr::null_mut())
        })
        .map(MatchData)
    }
}

impl Drop for MatchData {
    fn drop(&mut self) {
        // SAFETY: created by pcre2_match_data_create_from_pattern_8.
        unsafe { sys::pcre2_match_data_free_8(self.0.as_ptr()) }
    }
}

struct MatchContext(NonNull<sys::pcre2_match_context_8>);

impl MatchContext {
    fn new(limits: Limits) -> Option<MatchContext> {
        // SAFETY: the default general context.
        let ctx = NonNull::new(unsafe { sys::pcre2_match_context_create_8(ptr::null_mut()) })?;
        // SAFETY: a valid match context.
        unsafe {
            sys::pcre2_set_match_limit_8(ctx.as_ptr(), limits.match_limit);
            sys::pcre2_set_depth_limit_8(ctx.as_ptr(), limits.depth_limit);
            sys::pcre2_set_heap_limit_8(ctx.as_ptr(), limits.heap_limit_kib);
        }
        Some(MatchContext(ctx))
    }
}

impl Drop for MatchContext {
    fn drop(&mut self) {
        // SAFETY: created by pcre2_match_context_create_8.
        unsafe { sys::pcre2_match_context_free_8(self.0.as_ptr()) }
    }
}

fn error_message(code: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its length; PCRE2 NUL-terminates.
    let n = unsafe { sys::pcre2_get_error_message_8(code, buf.as_mut_ptr(), buf.len()) };
    if n < 0 {
        return format!("PCRE2 error {code}");
    }
    String::from_utf8_lossy(&buf[..n as usize]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const APACHE_24: Options = Options {
        caseless: false,
        dotall: true,
        dollar_endonly: true,
    };

    const LIMITS: Limits = Limits {
        match_limit: 10_000_000,
        depth_limit: 10_000_000,
        heap_limit_kib: 64 << 10,
    };

    fn is_match(p: &str, s: &[u8]) -> bool {
        Code::new(p.as_bytes(), APACHE_24)
            .unwrap()
            .search(s, &mut [], LIMITS)
            .unwrap()
    }

    #[test]
    fn backrefs_lookaround_and_options() {
        assert!(is_match(r"(ab)\1", b"abab"));
        assert!(is_match(r"a(?=b)", b"abc"));
        assert!(!is_match(r"a(?!b)", b"abc"));
        assert!(!is_match(r"^yes$", b"yes\n"));
        assert!(is_match(r"a.b", b"a\nb"));
        assert!(is_match(r"^..$", "é".as_bytes()));
    }

    #[test]
    fn captures() {
        let c = Code::new(br"(a)(x)?(b)", APACHE_24).unwrap();
        assert_eq!(c.captures(), 3);
        let mut g = [None; 4];
        assert_eq!(c.search(b"zab", &mut g, LIMITS), Ok(true));
        assert_eq!(g, [Some((1, 3)), Some((1, 2)), None, Some((2, 3))]);
    }

    #[test]
    fn errors_have_offsets() {
        let (msg, at) = Code::new(b"a(b", APACHE_24).unwrap_err();
        assert!(msg.contains("missing closing parenthesis"), "{msg}");
        assert_eq!(at, 3);
    }

    #[test]
    fn catastrophic_backtracking_is_bounded() {
        let c = Code::new(b"^(a+)+$", APACHE_24).unwrap();
        let mut subject = vec![b'a'; 40];
        subject.push(b'b');
        // Terminates: the match limit stops it, and says so.
        let stopped = c.search(&subject, &mut [], LIMITS).unwrap_err();
        assert!(stopped.0.contains("match limit"), "{stopped:?}");
        // So does a small heap limit on deep backtracking.
        let small_heap = Limits {
            heap_limit_kib: 1,
            ..LIMITS
        };
        let deep = Code::new(br"^(a|b)*c", APACHE_24).unwrap();
        let stopped = deep
            .search(&[b'a'; 100_000], &mut [], small_heap)
            .unwrap_err();
        assert!(stopped.0.contains("heap limit"), "{stopped:?}");
    }
}
