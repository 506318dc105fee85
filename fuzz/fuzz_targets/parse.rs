//! Any bytes as an expression in both dialects; what parses must print back to itself.
//! The check itself is `sslrequire_fuzz::check_parse` (fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sslrequire_fuzz::check_parse(data));
