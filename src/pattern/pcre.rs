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
    ///
    /// `reuse` keeps the match data and match context between matches.
    pub(crate) fn search(
        &self,
        subject: &[u8],
        groups: &mut [Option<(usize, usize)>],
        limits: Limits,
        reuse: &mut Reuse,
    ) -> Result<bool, Stopped> {
        let oom = || Stopped("out of memory for the match data".into());
        if reuse.limits != Some(limits) {
            // Frames grown under other limits (a larger heap limit) would
            // let this match past its own: it starts as a fresh one does.
            *reuse = Reuse {
                limits: Some(limits),
                ..Reuse::default()
            };
        }
        if reuse.ctx.is_none() {
            let ctx = MatchContext::new().ok_or_else(oom)?;
            ctx.set(limits);
            reuse.ctx = Some(ctx);
        }
        if reuse.md.is_none() {
            reuse.md = Some(MatchData::new().ok_or_else(oom)?);
        }
        let (Some(md), Some(ctx)) = (&reuse.md, &reuse.ctx) else {
            unreachable!("both made above");
        };
        // SAFETY: code, subject (explicit length), match data and context
        // are valid for the call; the match data has OVECTOR_PAIRS pairs
        // (PCRE2 returns 0 when a pattern has more groups: the first pairs
        // are then all filled).
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
        let result = if rc == sys::PCRE2_ERROR_NOMATCH {
            Ok(false)
        } else if rc < 0 {
            Err(Stopped(error_message(rc)))
        } else {
            md.read_groups(rc, subject.len(), groups);
            Ok(true)
        };
        // PCRE2 keeps its backtracking frames in the match data: after a
        // match that stopped at a limit or ran over a long subject, let them
        // go rather than keep that memory for the machine's life.
        if rc < 0 && rc != sys::PCRE2_ERROR_NOMATCH || subject.len() > KEEP_FRAMES_UP_TO {
            reuse.md = None;
        }
        result
    }
}

/// Ovector pairs: `$0`–`$9`, all Apache keeps (AP_MAX_REG_MATCH).
const OVECTOR_PAIRS: u32 = 10;

/// Longest subject after which a [`Reuse`] keeps its match data.
const KEEP_FRAMES_UP_TO: usize = 4096;

/// A match context and match data kept between matches (by a machine):
/// making them costs four allocator round-trips per match, and PCRE2 keeps
/// its backtracking frames in the match data.
#[derive(Debug, Default)]
pub(crate) struct Reuse {
    md: Option<MatchData>,
    /// Set to `limits`.
    ctx: Option<MatchContext>,
    /// The limits `md`'s frames were grown under and `ctx` holds.
    limits: Option<Limits>,
}

// SAFETY: the match data and context are owned by this value alone and
// used only through `&mut` (in `Code::search`), never shared; PCRE2 ties
// them to no thread.
unsafe impl Send for Reuse {}
// SAFETY: `&Reuse` gives access to nothing (no method takes `&self`).
unsafe impl Sync for Reuse {}

#[derive(Debug)]
struct MatchData(NonNull<sys::pcre2_match_data_8>);

impl MatchData {
    fn new() -> Option<MatchData> {
        // SAFETY: a pair count and the default general context.
        NonNull::new(unsafe { sys::pcre2_match_data_create_8(OVECTOR_PAIRS, ptr::null_mut()) })
            .map(MatchData)
    }

    /// After a match that returned `rc` ≥ 0 on a subject of `len` bytes:
    /// `groups[i]` = group i's byte range (`None` when it did not take
    /// part), for every i < groups.len().
    fn read_groups(&self, rc: i32, len: usize, groups: &mut [Option<(usize, usize)>]) {
        // SAFETY: the ovector holds `count` pairs of offsets and lives as
        // long as the match data.
        let (ov, count) = unsafe {
            let count = sys::pcre2_get_ovector_count_8(self.0.as_ptr()) as usize;
            (sys::pcre2_get_ovector_pointer_8(self.0.as_ptr()), count)
        };
        // rc pairs were set, or all of them when rc is 0 (too few pairs).
        let set = if rc == 0 {
            count
        } else {
            count.min(rc as usize)
        };
        for (i, slot) in groups.iter_mut().enumerate() {
            *slot = None;
            if i < set {
                // SAFETY: i < count.
                let (s, e) = unsafe { (*ov.add(2 * i), *ov.add(2 * i + 1)) };
                if s != usize::MAX && s <= e && e <= len {
                    *slot = Some((s, e));
                }
            }
        }
    }
}

impl Drop for MatchData {
    fn drop(&mut self) {
        // SAFETY: created by pcre2_match_data_create_from_pattern_8.
        unsafe { sys::pcre2_match_data_free_8(self.0.as_ptr()) }
    }
}

#[derive(Debug)]
struct MatchContext(NonNull<sys::pcre2_match_context_8>);

impl MatchContext {
    fn new() -> Option<MatchContext> {
        // SAFETY: the default general context.
        NonNull::new(unsafe { sys::pcre2_match_context_create_8(ptr::null_mut()) })
            .map(MatchContext)
    }

    fn set(&self, limits: Limits) {
        // SAFETY: a valid match context, not in use by a match.
        unsafe {
            sys::pcre2_set_match_limit_8(self.0.as_ptr(), limits.match_limit);
            sys::pcre2_set_depth_limit_8(self.0.as_ptr(), limits.depth_limit);
            sys::pcre2_set_heap_limit_8(self.0.as_ptr(), limits.heap_limit_kib);
        }
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
            .search(s, &mut [], LIMITS, &mut Reuse::default())
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
        assert_eq!(
            c.search(b"zab", &mut g, LIMITS, &mut Reuse::default()),
            Ok(true)
        );
        assert_eq!(g, [Some((1, 3)), Some((1, 2)), None, Some((2, 3))]);
    }

    #[test]
    fn kept_match_data_serves_every_pattern() {
        let mut reuse = Reuse::default();
        let mut g = [None; 10];
        // More groups than pairs: PCRE2 fills the ten it has.
        let many = Code::new(br"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)", APACHE_24).unwrap();
        assert_eq!(
            many.search(b"abcdefghijkl", &mut g, LIMITS, &mut reuse),
            Ok(true)
        );
        assert_eq!((g[0], g[9]), (Some((0, 12)), Some((8, 9))));
        // Pairs the last match left behind are not read as groups.
        let one = Code::new(br"x(y)?", APACHE_24).unwrap();
        assert_eq!(one.search(b"x", &mut g, LIMITS, &mut reuse), Ok(true));
        assert_eq!(g[..3], [Some((0, 1)), None, None]);
        // A limit hit lets the match data (and its frames) go.
        let bad = Code::new(b"^(a+)+$", APACHE_24).unwrap();
        let subject = [&[b'a'; 40][..], b"b"].concat();
        assert!(bad.search(&subject, &mut [], LIMITS, &mut reuse).is_err());
        assert!(reuse.md.is_none());
        assert_eq!(one.search(b"zxy", &mut g, LIMITS, &mut reuse), Ok(true));
        assert_eq!(g[..2], [Some((1, 3)), Some((2, 3))]);
        // Frames grown under one heap limit do not serve a smaller one: a
        // deep match that fits 64 MiB, then the same under 1 KiB, stops
        // there as it does on a fresh machine.
        let deep = Code::new(br"^(a|b)*c", APACHE_24).unwrap();
        let subject = [&[b'a'; 3000][..], b"c"].concat();
        assert_eq!(deep.search(&subject, &mut [], LIMITS, &mut reuse), Ok(true));
        let small_heap = Limits {
            heap_limit_kib: 1,
            ..LIMITS
        };
        let fresh = deep.search(&subject, &mut [], small_heap, &mut Reuse::default());
        assert!(fresh.is_err(), "{fresh:?}");
        assert_eq!(
            deep.search(&subject, &mut [], small_heap, &mut reuse),
            fresh
        );
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
        let stopped = c
            .search(&subject, &mut [], LIMITS, &mut Reuse::default())
            .unwrap_err();
        assert!(stopped.0.contains("match limit"), "{stopped:?}");
        // So does a small heap limit on deep backtracking.
        let small_heap = Limits {
            heap_limit_kib: 1,
            ..LIMITS
        };
        let deep = Code::new(br"^(a|b)*c", APACHE_24).unwrap();
        let stopped = deep
            .search(&[b'a'; 100_000], &mut [], small_heap, &mut Reuse::default())
            .unwrap_err();
        assert!(stopped.0.contains("heap limit"), "{stopped:?}");
    }
}
