//! Regex literals → a matcher with Apache's semantics.
//!
//! Apache compiles `=~` patterns with PCRE (2.4.71: PCRE2) over bytes, with
//! `PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY` in 2.4 (since 2.4.41) and no options
//! in 2.2. Two engines run them here:
//!
//! * the `regex` crate (linear time, no backtracking) for every pattern whose
//!   meaning is provably the same in both engines — [`needs_pcre`] decides;
//! * PCRE2 itself for the rest: back-references, lookaround, `\Q…\E`,
//!   possessive quantifiers, `(?m)`, `\v`, 2.2's `$` … with PCRE2's match,
//!   depth and heap limits ([`RegexLimits`]), so no pattern can hang a
//!   request.
//!
//! So no pattern is silently evaluated differently from Apache: it either
//! runs in an engine that agrees, or in PCRE2.

mod pcre;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use regex::bytes::{CaptureLocations, Regex as Fast, RegexBuilder};
use rustc_hash::FxHashMap;

use crate::dialect::Dialect;
pub(crate) use pcre::Stopped;

/// What PCRE2 may spend on one match, and what hitting a limit means.
///
/// Only patterns that need PCRE2 (back-references, lookaround, …) run
/// there; the rest run in the `regex` crate, in linear time, and never
/// stop early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegexLimits {
    /// PCRE2's match limit (internal match calls). Default 10 000 000,
    /// PCRE2's own, so Apache's.
    pub match_limit: u32,
    /// PCRE2's backtracking depth limit. Default 10 000 000, PCRE2's own.
    pub depth_limit: u32,
    /// PCRE2's heap limit for backtracking frames, in KiB. Default 65 536
    /// (64 MiB); PCRE2's own is 20 000 000 (about 20 GB).
    pub heap_limit_kib: u32,
    /// `false` (the default, as Apache): a match that hits a limit counts
    /// as "no match", so `!~` is then *true*. `true`: it is an evaluation
    /// error (E306), which denies.
    pub strict: bool,
}

impl RegexLimits {
    /// The defaults documented on each field.
    pub const DEFAULT: RegexLimits = RegexLimits {
        match_limit: 10_000_000,
        depth_limit: 10_000_000,
        heap_limit_kib: 64 << 10,
        strict: false,
    };

    pub(crate) const fn pcre(self) -> pcre::Limits {
        pcre::Limits {
            match_limit: self.match_limit,
            depth_limit: self.depth_limit,
            heap_limit_kib: self.heap_limit_kib,
        }
    }
}

impl Default for RegexLimits {
    fn default() -> RegexLimits {
        RegexLimits::DEFAULT
    }
}

/// Apache keeps `$0`–`$9` (AP_MAX_REG_MATCH = 10).
pub(crate) const MAX_GROUPS: usize = 10;

/// A compiled regex literal.
#[derive(Debug)]
pub(crate) struct Regex {
    /// Process-unique: a machine keeps capture scratch per regex by it.
    id: u64,
    engine: Engine,
    groups: u32,
    pattern: String,
    icase: bool,
}

#[derive(Debug)]
enum Engine {
    Fast(Fast),
    Pcre(pcre::Code),
}

/// Byte ranges of `$0`–`$9` after a match.
pub(crate) type Groups = [Option<(usize, usize)>; MAX_GROUPS];

impl Regex {
    /// Compiles `pattern` with the options of `dialect`.
    ///
    /// # Errors
    /// PCRE2's message and the byte offset in `pattern` where it stopped.
    pub(crate) fn new(
        pattern: &str,
        icase: bool,
        dialect: Dialect,
    ) -> Result<Regex, (String, usize)> {
        let v24 = dialect == Dialect::V24;
        if !needs_pcre(pattern, dialect) {
            let fast = RegexBuilder::new(pattern)
                .unicode(false)
                .case_insensitive(icase)
                .dot_matches_new_line(v24)
                .build();
            if let Ok(re) = fast {
                let groups = (re.captures_len() - 1) as u32;
                return Ok(Regex {
                    id: next_regex_id(),
                    engine: Engine::Fast(re),
                    groups,
                    pattern: pattern.into(),
                    icase,
                });
            }
        }
        let opts = pcre::Options {
            caseless: icase,
            dotall: v24,
            dollar_endonly: v24,
        };
        let code = pcre::Code::new(pattern.as_bytes(), opts)?;
        Ok(Regex {
            id: next_regex_id(),
            groups: code.captures(),
            engine: Engine::Pcre(code),
            pattern: pattern.into(),
            icase,
        })
    }

    /// [`Regex::new`] through a process-wide cache: programs that use the
    /// same pattern (10 000 policies of a multi-tenant proxy, a reparsed
    /// `.htaccess`) share one compiled regex. Entries are weak, so a regex
    /// no program uses any more is freed.
    pub(crate) fn shared(
        pattern: &str,
        icase: bool,
        dialect: Dialect,
    ) -> Result<Arc<Regex>, (String, usize)> {
        type Key = (Box<str>, bool, Dialect);
        static CACHE: OnceLock<Mutex<FxHashMap<Key, Weak<Regex>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let key: Key = (pattern.into(), icase, dialect);
        if let Some(re) = lock(cache).get(&key).and_then(Weak::upgrade) {
            return Ok(re);
        }
        // Compile outside the lock; errors are not cached (they are rare and
        // reported once per directive).
        let re = Arc::new(Regex::new(pattern, icase, dialect)?);
        let mut map = lock(cache);
        if map.len() >= 1024 && map.len().is_power_of_two() {
            map.retain(|_, w| w.strong_count() > 0);
        }
        map.insert(key, Arc::downgrade(&re));
        Ok(re)
    }

    /// The number of capture groups (not counting `$0`).
    pub(crate) fn groups(&self) -> u32 {
        self.groups
    }

    /// The pattern as written.
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The `i` flag.
    pub(crate) fn icase(&self) -> bool {
        self.icase
    }

    /// `"pcre2"` or `"regex"`: which engine runs it.
    pub(crate) fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Fast(_) => "regex",
            Engine::Pcre(_) => "pcre2",
        }
    }

    /// Unanchored search, no captures.
    ///
    /// # Errors
    /// PCRE2 stopped at one of `limits` (the `regex` engine never does).
    pub(crate) fn is_match(&self, subject: &[u8], limits: pcre::Limits) -> Result<bool, Stopped> {
        self.is_match_with(subject, limits, &mut Scratch::default())
    }

    /// [`Regex::is_match`] with the caller's scratch space.
    pub(crate) fn is_match_with(
        &self,
        subject: &[u8],
        limits: pcre::Limits,
        scratch: &mut Scratch,
    ) -> Result<bool, Stopped> {
        match &self.engine {
            Engine::Fast(re) => Ok(re.is_match(subject)),
            Engine::Pcre(code) => code.search(subject, &mut [], limits, &mut scratch.pcre),
        }
    }

    /// Unanchored search filling `$0`–`$9`. `scratch` is the caller's,
    /// kept between matches so that a match allocates nothing.
    pub(crate) fn search(
        &self,
        subject: &[u8],
        groups: &mut Groups,
        scratch: &mut Scratch,
        limits: pcre::Limits,
    ) -> Result<bool, Stopped> {
        match &self.engine {
            Engine::Fast(re) => {
                let slot = &mut scratch.locs[(self.id % LOCS as u64) as usize];
                let locs = match slot {
                    Some((id, locs)) if *id == self.id => locs,
                    _ => &mut slot.insert((self.id, re.capture_locations())).1,
                };
                if re.captures_read(locs, subject).is_none() {
                    return Ok(false);
                }
                for (i, g) in groups.iter_mut().enumerate() {
                    *g = locs.get(i);
                }
                Ok(true)
            }
            Engine::Pcre(code) => code.search(subject, groups, limits, &mut scratch.pcre),
        }
    }
}

/// How many regexes' capture scratch a [`Scratch`] keeps.
const LOCS: usize = 16;

/// A matcher's scratch space, kept by the caller (one per machine): the
/// `regex` engine's capture slots for the last regexes that captured —
/// direct-mapped by regex, so a machine that serves many programs neither
/// grows nor starts over when it switches between them — and PCRE2's match
/// data and context.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    locs: [Option<(u64, CaptureLocations)>; LOCS],
    pcre: pcre::Reuse,
}

fn next_regex_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The cache's lock; a panic elsewhere cannot leave the map inconsistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether `pattern` must run in PCRE2 because the `regex` crate would read
/// it differently (or not at all). Conservative: anything unusual goes to
/// PCRE2, which is Apache's own engine.
pub(crate) fn needs_pcre(pattern: &str, dialect: Dialect) -> bool {
    let b = pattern.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                let Some(&e) = b.get(i + 1) else { return true };
                // Escapes both engines read alike; everything else (\v, \h,
                // \Q, \Z, \u, \<, back-references, octal, \x without two hex
                // digits, \b{…}) goes to PCRE2.
                let same = match e {
                    b'd' | b'D' | b's' | b'S' | b'w' | b'W' | b'n' | b't' | b'r' | b'f' | b'a' => {
                        true
                    }
                    b'b' | b'B' => in_class || b.get(i + 2) != Some(&b'{'),
                    b'A' | b'z' => !in_class,
                    b'x' => {
                        let hex = b
                            .get(i + 2..i + 4)
                            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
                        if hex {
                            i += 2;
                        }
                        hex
                    }
                    _ => e.is_ascii_punctuation() && e != b'<' && e != b'>',
                };
                if !same {
                    return true;
                }
                i += 2;
                continue;
            }
            b'[' if in_class => {
                // POSIX class `[:alpha:]` is fine; a nested class is a set
                // operation in `regex` and a literal `[` in PCRE.
                if b.get(i + 1) != Some(&b':') {
                    return true;
                }
                match pattern[i + 2..].find(":]") {
                    Some(end) => i += end + 4,
                    None => return true,
                }
                continue;
            }
            b'[' => {
                in_class = true;
                i += 1;
                if b.get(i) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    i += 1; // a leading `]` is literal in both
                }
                continue;
            }
            b']' if in_class => in_class = false,
            b'&' | b'-' | b'~' if in_class && b.get(i + 1) == Some(&c) => return true,
            b'(' if !in_class && b.get(i + 1) == Some(&b'?') => {
                // Only `(?:`, named groups and the flags i, s, U (same
                // meaning in both); `(?m)` differs at a final newline, `(?x)`
                // inside classes, the rest does not exist in `regex`.
                let rest = &b[i + 2..];
                let ok = match rest.first() {
                    Some(b':') => true,
                    Some(b'P') => rest.get(1) == Some(&b'<'),
                    Some(b'<') => rest.get(1).is_some_and(u8::is_ascii_alphabetic),
                    _ => {
                        let flags: Vec<u8> = rest
                            .iter()
                            .copied()
                            .take_while(|f| f.is_ascii_alphabetic() || *f == b'-')
                            .collect();
                        let closed = matches!(rest.get(flags.len()), Some(b')' | b':'));
                        closed && !flags.is_empty() && flags.iter().all(|f| b"isU-".contains(f))
                    }
                };
                if !ok {
                    return true;
                }
            }
            // A quantifier right after a quantifier: possessive in PCRE
            // (`a*+`, `a?+`, `a{2}+`), or an error there (`a**`), while
            // `regex` reads a nested repetition. Lazy `*?` is the same in
            // both. `{` forms PCRE reads as literals make `regex` fail, and
            // the build falls back to PCRE2.
            b'*' | b'+' | b'?' | b'}'
                if !in_class && matches!(b.get(i + 1), Some(b'*' | b'+' | b'{')) =>
            {
                return true;
            }
            b'$' if !in_class && dialect == Dialect::V22 => {
                // Without DOLLAR_ENDONLY `$` also matches before a final
                // newline, which `regex` cannot express.
                return true;
            }
            _ if c >= 0x80 && in_class => return true,
            _ => {}
        }
        i += 1;
    }
    in_class
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: pcre::Limits = RegexLimits::DEFAULT.pcre();

    fn re(p: &str, icase: bool) -> Regex {
        Regex::new(p, icase, Dialect::V24).unwrap()
    }

    #[test]
    fn engine_choice() {
        for p in [
            r"^(EXP|NULL)-",
            r"^CN=[a-z]+,OU=Staff",
            r"\d+\.\w",
            r"[[:alpha:]]x",
            r"(?i)abc",
            r"a{2,3}",
            r"[]a]",
            r"\x41",
        ] {
            assert_eq!(re(p, false).engine_name(), "regex", "{p}");
        }
        for p in [
            r"(ab)\1", r"a(?=b)", r"\Qa.b\E", r"a++", r"a{2}+", r"\v", r"(?m)^a$", r"[a&&b]",
            r"[[a]]", r"\<a", r"x{,3}", r"\Z",
        ] {
            assert_eq!(re(p, false).engine_name(), "pcre2", "{p}");
        }
        assert!(needs_pcre("a$", Dialect::V22));
        assert!(!needs_pcre("a$", Dialect::V24));
    }

    #[test]
    fn apache_24_options() {
        // DOLLAR_ENDONLY, DOTALL, bytes.
        assert!(!re("^yes$", false).is_match(b"yes\n", LIMITS).unwrap());
        assert!(re("^yes\\n$", false).is_match(b"yes\n", LIMITS).unwrap());
        assert!(re("a.b", false).is_match(b"a\nb", LIMITS).unwrap());
        assert!(!re("^B", false).is_match(b"A\nB", LIMITS).unwrap());
        assert!(!re("^.$", false).is_match("é".as_bytes(), LIMITS).unwrap());
        assert!(re("^..$", false).is_match("é".as_bytes(), LIMITS).unwrap());
        assert!(re(r"^\xc3\xa9$", false)
            .is_match("é".as_bytes(), LIMITS)
            .unwrap());
        assert!(!re(r"\w", false).is_match("é".as_bytes(), LIMITS).unwrap());
        assert!(re("b", true).is_match(b"ABC", LIMITS).unwrap());
        assert!(!re("é", true).is_match("É".as_bytes(), LIMITS).unwrap());
        assert!(re("^é$", false).is_match("é".as_bytes(), LIMITS).unwrap());
    }

    #[test]
    fn shared_regexes_are_shared() {
        let a = Regex::shared("^shared-x$", true, Dialect::V24).unwrap();
        let b = Regex::shared("^shared-x$", true, Dialect::V24).unwrap();
        let c = Regex::shared("^shared-x$", false, Dialect::V24).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn apache_22_options() {
        let r = Regex::new("^yes$", false, Dialect::V22).unwrap();
        assert!(r.is_match(b"yes\n", LIMITS).unwrap());
        let r = Regex::new("a.b", false, Dialect::V22).unwrap();
        assert!(!r.is_match(b"a\nb", LIMITS).unwrap());
    }

    #[test]
    fn both_engines_capture() {
        for p in [r"^(\w+) (x)?(\w+)$", r"^(\w+) (x)?(\w+)$(?=)"] {
            let r = re(p, false);
            let mut g = [None; MAX_GROUPS];
            let mut scratch = Scratch::default();
            assert!(
                r.search(b"Alice Example", &mut g, &mut scratch, LIMITS)
                    .unwrap(),
                "{p}"
            );
            assert_eq!(r.groups(), 3);
            assert_eq!(
                &g[..4],
                &[Some((0, 13)), Some((0, 5)), None, Some((6, 13))],
                "{p}"
            );
        }
    }

    #[test]
    fn invalid_patterns_report_pcre_messages() {
        let (msg, at) = Regex::new("[", false, Dialect::V24).unwrap_err();
        assert!(msg.contains("missing terminating ]"), "{msg}");
        assert_eq!(at, 1);
        assert!(Regex::new(r"\u0041", false, Dialect::V24).is_err());
        assert!(Regex::new("a**", false, Dialect::V24).is_err());
    }
}
