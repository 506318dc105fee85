//! Per-directory reparse mode.
//!
//! Apache parses an `SSLRequire` in a `.htaccess` file each time it reads
//! the file, that is on every request. [`Reparser`] offers the same
//! contract — evaluate from source text — with a bounded cache keyed by the
//! text, so a repeated expression costs a hash lookup instead of a parse.
//! Results are those of compiled mode: both run the same [`Program`].

use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::dialect::Dialect;
use crate::env::Env;
use crate::error::Error;
use crate::program::{Program, ProgramBuilder};
use crate::vm::Machine;

/// Default cache size: 16 MiB of source text and compiled programs.
pub const DEFAULT_CAPACITY: u64 = 16 << 20;

/// Evaluates expressions from source text, caching compiled programs (and
/// compile errors, which Apache would report on every request too).
///
/// The cache is bounded by bytes (each entry weighs its source twice — the
/// key and the program's copy — plus its compiled form), sharded (a hit
/// takes one shard's read lock) and evicts in constant time (CLOCK-Pro, by
/// the `quick_cache` crate).
///
/// ```
/// use sslrequire::{Machine, Reparser, VarMap};
///
/// // One per process, shared by the threads (e.g. in an Arc).
/// let reparser = Reparser::new();
/// let mut env = VarMap::new();
/// env.set("REMOTE_USER", "alice")?;
/// // The .htaccess text, as read for this request:
/// let allowed = reparser.eval(r#"%{REMOTE_USER} in {"alice", "bob"}"#, &mut Machine::new(), &env)?;
/// assert!(allowed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Reparser {
    builder: ProgramBuilder,
    capacity: u64,
    cache: Option<Cache<Box<str>, Compiled, ByBytes>>,
}

type Compiled = Result<Arc<Program>, Error>;

/// What an entry costs.
#[derive(Clone)]
struct ByBytes;

impl Weighter<Box<str>, Compiled> for ByBytes {
    fn weight(&self, key: &Box<str>, program: &Compiled) -> u64 {
        let compiled = match program {
            Ok(p) => p.weight(),
            Err(e) => e.expr().len() + 64,
        };
        (key.len() + compiled) as u64
    }
}

impl std::fmt::Debug for Reparser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reparser")
            .field("builder", &self.builder)
            .field("capacity", &self.capacity)
            .field("cached", &self.cached())
            .finish()
    }
}

impl Reparser {
    /// A 2.4 reparser caching up to [`DEFAULT_CAPACITY`] bytes.
    pub fn new() -> Reparser {
        Reparser::with_builder(ProgramBuilder::new(), DEFAULT_CAPACITY)
    }

    /// A reparser for `dialect` caching up to `capacity` bytes (0: parse
    /// on every call, exactly as Apache does).
    pub fn with_dialect(dialect: Dialect, capacity: u64) -> Reparser {
        let mut b = ProgramBuilder::new();
        b.dialect(dialect);
        Reparser::with_builder(b, capacity)
    }

    /// A reparser compiling with `builder`'s options (limits included),
    /// caching up to `capacity` bytes.
    pub fn with_builder(builder: ProgramBuilder, capacity: u64) -> Reparser {
        // A guess at the number of entries, for the cache's sizing only.
        let items = (capacity / 1024).clamp(16, 1 << 16) as usize;
        Reparser {
            builder,
            capacity,
            cache: (capacity > 0).then(|| Cache::with_weighter(items, capacity, ByBytes)),
        }
    }

    /// The compiled program for `src`, from the cache or freshly compiled.
    ///
    /// # Errors
    /// The parse or compile error of `src` (cached too).
    pub fn program(&self, src: &str) -> Result<Arc<Program>, Error> {
        let Some(cache) = &self.cache else {
            return self.builder.build(src).map(Arc::new);
        };
        if let Some(hit) = cache.get(src) {
            return hit;
        }
        // Compiled without any lock held: other threads keep evaluating.
        // An entry heavier than the whole cache is not kept.
        let program = self.builder.build(src).map(Arc::new);
        cache.insert(src.into(), program.clone());
        program
    }

    /// Parses (or finds) `src` and evaluates it.
    ///
    /// # Errors
    /// A parse, compile or evaluation error; all mean deny.
    pub fn eval<E: Env + ?Sized>(
        &self,
        src: &str,
        machine: &mut Machine,
        env: &E,
    ) -> Result<bool, Error> {
        self.program(src)?.eval_with(machine, env)
    }

    /// Number of cached expressions.
    pub fn cached(&self) -> usize {
        self.cache.as_ref().map_or(0, Cache::len)
    }

    /// Bytes the cached expressions weigh (at most the capacity).
    pub fn cached_bytes(&self) -> u64 {
        self.cache.as_ref().map_or(0, Cache::weight)
    }
}

impl Default for Reparser {
    fn default() -> Self {
        Reparser::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::VarMap;

    #[test]
    fn caches_programs_and_errors_within_capacity() {
        let r = Reparser::with_dialect(Dialect::V24, 64 << 10);
        let mut m = Machine::new();
        let env = VarMap::new();
        assert!(r.eval("true", &mut m, &env).unwrap());
        assert!(!r.eval("false", &mut m, &env).unwrap());
        assert_eq!(r.cached(), 2);
        assert!(Arc::ptr_eq(
            &r.program("true").unwrap(),
            &r.program("true").unwrap()
        ));
        assert_eq!(
            r.eval("%{NOPE} == \"\"", &mut m, &env).unwrap_err().code(),
            "E200"
        );
        assert_eq!(r.cached(), 3);
    }

    #[test]
    fn the_cache_is_bounded_by_bytes() {
        let capacity = 64 << 10;
        let r = Reparser::with_dialect(Dialect::V24, capacity);
        let env = VarMap::new();
        let mut m = Machine::new();
        // 2 000 distinct 1 KiB expressions: far more than fit.
        for i in 0..2000 {
            let src = format!("\"{i:0>1000}\" == \"x\"");
            assert!(!r.eval(&src, &mut m, &env).unwrap());
            assert!(r.cached_bytes() <= capacity, "{}", r.cached_bytes());
        }
        assert!(r.cached() < 64, "{}", r.cached());
        // One expression heavier than the cache is compiled, not kept.
        let huge = format!("\"{}\" == \"x\"", "a".repeat(8000));
        let small = Reparser::with_dialect(Dialect::V24, 1024);
        assert!(!small.eval(&huge, &mut m, &env).unwrap());
        assert_eq!(small.cached(), 0);
    }

    #[test]
    fn capacity_zero_parses_every_time() {
        let r = Reparser::with_dialect(Dialect::V22, 0);
        let env = VarMap::new();
        assert!(r.eval("\"a\" eq \"a\"", &mut Machine::new(), &env).unwrap());
        assert_eq!(r.cached(), 0);
    }
}
