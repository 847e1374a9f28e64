#![no_main]
//! Placeholder: replaced by the parser fuzz target.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
