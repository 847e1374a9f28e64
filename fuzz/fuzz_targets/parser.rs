#![no_main]
//! Fuzzes the parser: any bytes, in every format and dialect, must parse without panicking, and
//! every reported span must lie inside the input on character boundaries.
//!
//! Run locally with `cargo fuzz run parser` (nightly and cargo-fuzz needed); CI only builds it.

use sigil_parser::{Dialect, Format, ParseOptions, parse_bytes};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for format in [Format::Auto, Format::Yaml, Format::Json] {
        for dialect in [Dialect::Angle, Dialect::Braces] {
            let parsed = parse_bytes(
                data,
                &ParseOptions::default().format(format).dialect(dialect),
            );
            let Ok(text) = std::str::from_utf8(data) else {
                continue;
            };
            for reference in parsed.references() {
                let range = reference.span.byte_range.clone();
                assert!(range.start <= range.end && range.end <= text.len());
                assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
            }
            for diagnostic in &parsed.diagnostics {
                assert!(diagnostic.span.byte_range.end <= text.len() + 1);
                assert!(diagnostic.span.line >= 1 && diagnostic.span.column >= 1);
            }
        }
    }
});
