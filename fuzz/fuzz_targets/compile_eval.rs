//! Any bytes compiled and evaluated against the fixed fuzz environment: compiled mode, reparse mode and the reprinted text must agree.
//! The check itself is `sslrequire_fuzz::check_compile_eval` (fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sslrequire_fuzz::check_compile_eval(data));
