#![no_main]
//! Random policy, random values, random input, random chunking: no needle survives, and the
//! output streamed through each stream adapter equals the one-buffer output.
//!
//! Input layout: byte 0 picks the policy (bit 0: encodings, bits 1-2: mask); byte 1 the number
//! of values (1 to 8); then each value as a length byte and that many bytes; then a byte per
//! write size; the rest is the stream.

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use sigil_redactor::secrecy::SecretString;
use sigil_redactor::{Encoding, Mask, RedactBuffer, RedactWriter, Redactor};

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.iter().copied();
    let (Some(policy), Some(count)) = (bytes.next(), bytes.next()) else {
        return;
    };
    let mut builder = Redactor::builder();
    builder.encodings(if policy & 1 == 1 { Encoding::ALL } else { &[] });
    builder.mask(match (policy >> 1) & 3 {
        0 => Mask::Stars,
        1 => Mask::Name,
        _ => Mask::Fixed("#".to_owned()),
    });
    for index in 0..(count % 8 + 1) {
        let Some(len) = bytes.next() else { return };
        let value: Vec<u8> = bytes.by_ref().take(usize::from(len % 48)).collect();
        // Values arrive as text; keep the fuzzer's bytes as lossy UTF-8.
        let value = String::from_utf8_lossy(&value).into_owned();
        builder.value(&format!("v{index}"), &SecretString::from(value));
    }
    let Some(write_size) = bytes.next() else {
        return;
    };
    let input: Vec<u8> = bytes.collect();
    let redactor = builder.build().expect("names are valid");

    let whole = redactor.redact(&input);
    let mut writer = RedactWriter::new(&redactor, Vec::new());
    let mut buffer = RedactBuffer::new(&redactor, Vec::new());
    for chunk in input.chunks(usize::from(write_size % 16) + 1) {
        writer.write_all(chunk).expect("a Vec accepts everything");
        buffer.push(chunk);
    }
    let streamed = writer.finish().expect("a Vec accepts everything");
    assert!(
        whole == streamed,
        "streamed output differs from one-buffer output"
    );
    assert!(
        whole == buffer.finish(),
        "output streamed into a buffer differs from one-buffer output"
    );

    let mask_bytes: &[u8] = match (policy >> 1) & 3 {
        0 => b"*",
        1 => b"[secrets.v0123456789]",
        _ => b"#",
    };
    for needle in redactor.expose_needles() {
        // A needle holding mask characters may be formed anew by a mask and its neighbours;
        // any other needle in the output would be an occurrence left in clear.
        if needle.iter().any(|b| mask_bytes.contains(b)) {
            continue;
        }
        assert!(
            !whole.windows(needle.len()).any(|w| w == &needle[..]),
            "a needle survived"
        );
    }
});
