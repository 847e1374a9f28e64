//! A long run of overlapping occurrences: 1 MiB of one byte, masked against a value that is
//! that byte repeated (a placeholder such as `xxxxxxxx` or `0000...` in a line of the same
//! byte). An occurrence starts at every position and they all merge into one interval; the
//! output is one mask. Prints the time in memory and in 4 KiB writes for values of 16, 64 and
//! 256 bytes.
//!
//! Run: `cargo run --release -p sigil-benches --example redact_runs`

use std::time::Instant;

use sigil_redactor::secrecy::SecretString;
use sigil_redactor::{RedactBuffer, Redactor};

fn main() {
    let mut input = vec![b'x'; 1 << 20];
    input.push(b'\n');
    for length in [16, 64, 256] {
        let value = SecretString::from("x".repeat(length));
        let redactor = Redactor::builder()
            .value("filler", &value)
            .build()
            .expect("a valid name");
        let start = Instant::now();
        let whole = redactor.redact(&input);
        let in_memory = start.elapsed();
        let start = Instant::now();
        let mut buffer = RedactBuffer::new(&redactor, Vec::new());
        for write in input.chunks(4096) {
            buffer.push(write);
        }
        let streamed = buffer.finish();
        let in_writes = start.elapsed();
        assert!(
            whole == b"***\n" && streamed == whole,
            "one mask for the run"
        );
        println!(
            "value of {length} bytes, a run of 1 MiB: in memory {in_memory:?}, in 4 KiB writes {in_writes:?}"
        );
    }
}
