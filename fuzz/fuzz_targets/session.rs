//! Any bytes as a captured-session JSON line, then every variable exported.
//! The check itself is `sslrequire_fuzz::check_session` (fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sslrequire_fuzz::check_session(data));
