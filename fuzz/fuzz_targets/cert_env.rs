//! Any bytes as a DER certificate or a PEM chain, then every variable exported.
//! The check itself is `sslrequire_fuzz::check_cert_env` (fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sslrequire_fuzz::check_cert_env(data));
