//! Per-directory reparse mode.
//!
//! Apache parses an `SSLRequire` in a `.htaccess` file each time it reads
//! the file, that is on every request. [`Reparser`] offers the same
//! contract — evaluate from source text — with a bounded cache keyed by the
//! text, so a repeated expression costs a hash lookup instead of a parse.
//! Results are those of compiled mode: both run the same [`Program`].

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use crate::compile::{Program, ProgramBuilder};
use crate::env::Env;
use crate::error::Error;
use crate::syntax::Dialect;
use crate::vm::Machine;

/// Default number of distinct expressions kept.
pub const DEFAULT_CAPACITY: usize = 256;

/// Evaluates expressions from source text, caching compiled programs (and
/// compile errors, which Apache would report on every request too).
#[derive(Debug)]
pub struct Reparser {
    builder: ProgramBuilder,
    capacity: usize,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    map: FxHashMap<Arc<str>, Entry>,
    tick: u64,
}

#[derive(Debug)]
struct Entry {
    program: Result<Arc<Program>, Error>,
    used: u64,
}

impl Reparser {
    /// A 2.4 reparser keeping up to [`DEFAULT_CAPACITY`] expressions.
    pub fn new() -> Reparser {
        Reparser::with_builder(ProgramBuilder::new(), DEFAULT_CAPACITY)
    }

    /// A reparser for `dialect` keeping up to `capacity` expressions
    /// (0: parse on every call, exactly as Apache does).
    pub fn with_dialect(dialect: Dialect, capacity: usize) -> Reparser {
        let mut b = ProgramBuilder::new();
        b.dialect(dialect);
        Reparser::with_builder(b, capacity)
    }

    /// A reparser compiling with `builder`'s options.
    pub fn with_builder(builder: ProgramBuilder, capacity: usize) -> Reparser {
        Reparser {
            builder,
            capacity,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The compiled program for `src`, from the cache or freshly compiled.
    ///
    /// # Errors
    /// The parse or compile error of `src` (cached too).
    pub fn program(&self, src: &str) -> Result<Arc<Program>, Error> {
        if self.capacity == 0 {
            return self.builder.build(src).map(Arc::new);
        }
        {
            let mut cache = self.lock();
            cache.tick += 1;
            let tick = cache.tick;
            if let Some(e) = cache.map.get_mut(src) {
                e.used = tick;
                return e.program.clone();
            }
        }
        // Compile outside the lock: other threads keep evaluating.
        let program = self.builder.build(src).map(Arc::new);
        let mut cache = self.lock();
        if cache.map.len() >= self.capacity {
            // Evict the least recently used entry (a scan: misses pay a
            // parse anyway, which costs more).
            if let Some(oldest) = cache
                .map
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            {
                cache.map.remove(&oldest);
            }
        }
        let used = cache.tick;
        cache.map.insert(
            Arc::from(src),
            Entry {
                program: program.clone(),
                used,
            },
        );
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
        self.lock().map.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every update is a single insert or remove), so poisoning is moot.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
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
        let r = Reparser::with_dialect(Dialect::V24, 2);
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
        assert_eq!(r.cached(), 2);
        // "false" was least recently used and went; "true" stayed.
        assert!(r.lock().map.contains_key("true"));
    }

    #[test]
    fn capacity_zero_parses_every_time() {
        let r = Reparser::with_dialect(Dialect::V22, 0);
        let env = VarMap::new();
        assert!(r.eval("\"a\" eq \"a\"", &mut Machine::new(), &env).unwrap());
        assert_eq!(r.cached(), 0);
    }
}
