#![no_main]
//! Placeholder: replaced by the redactor fuzz target.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
