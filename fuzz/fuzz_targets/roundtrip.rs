//! A generated expression tree, printed with Display, must parse back equal.
//! The check itself is `sslrequire_fuzz::check_roundtrip` (fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sslrequire_fuzz::check_roundtrip(data));
