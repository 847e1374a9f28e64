//! The redactor against a brute-force model, under every chunking.
//!
//! The model knows nothing of grams, partial matches or carries: it tries every needle at every
//! position, takes the union of the occurrences, and replaces each merged interval. Table tests
//! run each case as one write, at every split point of two writes, and one byte per write (the
//! way ripgrep's searcher tests force tiny buffers); the property tests do the same on random
//! values, inputs and chunkings.

use std::io::Write;

use proptest::prelude::*;
use secrecy::SecretString;

use crate::matcher::Matcher;
use crate::needles::{Flexible, MAX_WHITESPACE_RUN};
use crate::{Encoding, Mask, RedactBuffer, RedactWriter, Redactor};

fn build(values: &[(&str, &str)], mask: Mask, encodings: &[Encoding]) -> Redactor {
    let mut builder = Redactor::builder();
    builder.mask(mask).encodings(encodings);
    for (name, value) in values {
        builder.value(name, &SecretString::from(*value));
    }
    builder.build().unwrap()
}

/// End of an occurrence of `flex` at `start`, trying every run length (not greedily).
fn model_flexible(flex: &Flexible, hay: &[u8], start: usize) -> Option<usize> {
    fn rest(segments: &[crate::SecretBytes], hay: &[u8], at: usize) -> Option<usize> {
        let Some((first, others)) = segments.split_first() else {
            return Some(at);
        };
        if !hay[at..].starts_with(first) {
            return None;
        }
        let at = at + first.len();
        if others.is_empty() {
            return Some(at);
        }
        (1..=MAX_WHITESPACE_RUN).find_map(|run| {
            let ws = hay.get(at..at + run)?;
            if ws.iter().all(u8::is_ascii_whitespace) {
                rest(others, hay, at + run)
            } else {
                None
            }
        })
    }
    rest(&flex.segments, hay, start)
}

/// Every occurrence of every needle: (start, end, id) sorted by start, longest first.
fn model_occurrences(matcher: &Matcher, input: &[u8]) -> Vec<(usize, usize, u32)> {
    let mut found = Vec::new();
    for start in 0..input.len() {
        for (id, literal) in matcher.literals.iter().enumerate() {
            if input[start..].starts_with(&literal.bytes) {
                found.push((start, start + literal.bytes.len(), id as u32));
            }
        }
        for (id, flex) in matcher.flexibles.iter().enumerate() {
            if let Some(end) = model_flexible(flex, input, start) {
                found.push((start, end, id as u32 | 1 << 31));
            }
        }
    }
    found.sort_by_key(|&(start, end, id)| (start, std::cmp::Reverse(end), id));
    found
}

/// The union of occurrences, each merged interval replaced by its mask.
fn model(redactor: &Redactor, mask: &Mask, input: &[u8]) -> Vec<u8> {
    let matcher = redactor.matcher().1;
    let mut intervals: Vec<(usize, usize, u32)> = Vec::new();
    for (start, end, id) in model_occurrences(&matcher, input) {
        match intervals.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => intervals.push((start, end, id)),
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end, id) in intervals {
        out.extend_from_slice(&input[at..start]);
        match mask {
            Mask::Stars => out.extend_from_slice(b"***"),
            Mask::Name => {
                out.extend_from_slice(format!("[secrets.{}]", matcher.name(id)).as_bytes())
            }
            Mask::Fixed(text) => out.extend_from_slice(text.as_bytes()),
        }
        at = end;
    }
    out.extend_from_slice(&input[at..]);
    out
}

/// What a stream must hold back after `input`: the longest suffix that is a proper prefix of
/// an occurrence. (An interval of occurrences that runs into it has its mask written already.)
fn model_held(redactor: &Redactor, input: &[u8]) -> usize {
    let matcher = redactor.matcher().1;
    let n = input.len();
    let could_continue = |start: usize| {
        let tail = &input[start..];
        let literal = matcher
            .literals
            .iter()
            .any(|l| l.bytes.len() > tail.len() && l.bytes.starts_with(tail));
        let flexible = matcher.flexibles.iter().any(|f| flexible_prefix(f, tail));
        literal || flexible
    };
    n - (0..n).find(|&start| could_continue(start)).unwrap_or(n)
}

/// Whether `tail` is a proper prefix of some occurrence of `flex`.
fn flexible_prefix(flex: &Flexible, tail: &[u8]) -> bool {
    // Build the occurrence greedily along the tail: segments in order, whitespace runs as the
    // tail has them; the tail must run out before the last segment is complete.
    let mut at = 0;
    for (index, segment) in flex.segments.iter().enumerate() {
        if index > 0 {
            let run = tail[at..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            if run > MAX_WHITESPACE_RUN {
                return false;
            }
            if at + run == tail.len() {
                return true;
            }
            if run == 0 {
                return false;
            }
            at += run;
        }
        let left = &tail[at..];
        if left.len() < segment.len() {
            return segment.starts_with(left);
        }
        if !left.starts_with(segment) {
            return false;
        }
        at += segment.len();
        if index + 1 == flex.segments.len() {
            return false;
        }
    }
    false
}

/// Writes `input` in the given pieces through both stream adapters, checking after each write
/// that each holds back what the model says and that both released the same bytes; returns the
/// output.
fn stream(redactor: &Redactor, input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut writer = RedactWriter::new(redactor, Vec::new());
    let mut buffer = RedactBuffer::new(redactor, Vec::new());
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(at, input.len());
        writer.write_all(&input[at..cut]).unwrap();
        buffer.push(&input[at..cut]);
        at = cut;
        let held = model_held(redactor, &input[..at]);
        assert_eq!(writer.held(), held, "writer's hold-back after {at} bytes");
        assert_eq!(buffer.held(), held, "buffer's hold-back after {at} bytes");
        assert!(
            buffer.released() == &writer.get_ref()[..],
            "released after {at} bytes"
        );
    }
    let out = writer.finish().unwrap();
    assert!(buffer.finish() == out, "finished");
    out
}

/// One table case: `expected` as one write, at every split of two writes, byte by byte, and
/// from the model.
fn check_with(redactor: &Redactor, mask: &Mask, input: &[u8], expected: &[u8]) {
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(show(&model(redactor, mask, input)), show(expected), "model");
    assert_eq!(show(&redactor.redact(input)), show(expected), "one buffer");
    for split in 0..=input.len() {
        assert_eq!(
            show(&stream(redactor, input, &[split])),
            show(expected),
            "split at {split}"
        );
    }
    let bytes: Vec<usize> = (1..input.len()).collect();
    assert_eq!(
        show(&stream(redactor, input, &bytes)),
        show(expected),
        "byte by byte"
    );
}

/// Raw values only, `***`.
fn check(values: &[&str], input: &str, expected: &str) {
    let named: Vec<(String, &str)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("s{i}"), *v))
        .collect();
    let named: Vec<(&str, &str)> = named.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let redactor = build(&named, Mask::Stars, &[]);
    check_with(
        &redactor,
        &Mask::Stars,
        input.as_bytes(),
        expected.as_bytes(),
    );
}

/// Every encoding on, `***`.
fn check_encoded(values: &[&str], input: &str, expected: &str) {
    let named: Vec<(String, &str)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("s{i}"), *v))
        .collect();
    let named: Vec<(&str, &str)> = named.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let redactor = build(&named, Mask::Stars, Encoding::ALL);
    check_with(
        &redactor,
        &Mask::Stars,
        input.as_bytes(),
        expected.as_bytes(),
    );
}

#[test]
fn raw_values() {
    check(&["hunter2"], "pw=hunter2 ok", "pw=*** ok");
    check(&["  hunter2\n"], "pw=hunter2 ok", "pw=*** ok");
    check(&["Hunter2"], "pw=hunter2 ok", "pw=hunter2 ok");
    check(&["abc", ""], "abc abc", "abc abc");
    check(&["hunter2"], "", "");
    check(&["hunter2"], "hunter", "hunter");
}

#[test]
fn overlapping_nested_and_adjacent() {
    // One secret a prefix of another: the longer is masked whole, not `***def`.
    check(&["abcd", "abcdefgh"], "x abcdefgh y", "x *** y");
    check(
        &["ipsum dolor", "dolor sit"],
        "lorem ipsum dolor sit amet",
        "lorem *** amet",
    );
    // Adjacent occurrences keep one mask each.
    check(&["abcd", "efgh"], "abcdefgh", "******");
    // A chain of overlaps is one mask.
    check(&["aaab", "abbb", "bbbc", "bccc"], "xaaabbbcccx", "x***x");
    // Nested.
    check(
        &["secret-value", "ret-v"],
        "a secret-value b ret-v",
        "a *** b ***",
    );
}

#[test]
fn self_overlapping_secret_split_across_writes() {
    // Regression: a widely used runner's masker leaks `hunter2hunter2!` written as
    // `pw=hunter2hunte` + `r2hunter2!`; `check` runs that split among all others.
    check(
        &["hunter2hunter2!"],
        "pw=hunter2hunter2hunter2!",
        "pw=hunter2***",
    );
    check(&["hunter2hunter2!"], "pw=hunter2hunter2!", "pw=***");
    check(&["aaaa"], "aaaaaaa", "***");
    check(&["abab"], "abababa", "***a");
}

#[test]
fn multi_line_values() {
    let pem = "-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END KEY-----";
    // LF, CRLF, spaces (an unquoted echo), indentation, and a long line on its own.
    check(&[pem], &format!("k={pem}!"), "k=***!");
    check(
        &[pem],
        &format!("k={}!", pem.replace('\n', "\r\n")),
        "k=***!",
    );
    check(&[pem], &format!("k={}!", pem.replace('\n', " ")), "k=***!");
    check(
        &[pem],
        &format!("k={}!", pem.replace('\n', "\n    ")),
        "k=***!",
    );
    check(&[pem], "line MIIEowIBAAKCAQEA only", "line *** only");
    // A short line (`abc`) is not masked on its own.
    check(&[pem], "abc", "abc");
    // Cut off by the end of the stream: the lines seen are masked, the rest is written as is.
    check(
        &[pem],
        "-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\nab",
        "***\n***\nab",
    );
}

#[test]
fn base64_at_every_alignment_and_in_basic_auth() {
    // "hunter2hunter2" at offsets 0, 1 and 2 of an encoded text.
    check_encoded(&["hunter2hunter2"], "aHVudGVyMmh1bnRlcjI=", "***");
    check_encoded(&["hunter2hunter2"], "eGh1bnRlcjJodW50ZXIy", "eG***");
    check_encoded(&["hunter2hunter2"], "eHlodW50ZXIyaHVudGVyMg==", "eHl***");
    // `Authorization: Basic base64(user:hunter2hunter2)`.
    check_encoded(
        &["hunter2hunter2"],
        "Authorization: Basic dXNlcjpodW50ZXIyaHVudGVyMg==",
        "Authorization: Basic dXNlcjp***",
    );
}

#[test]
fn escaped_forms_split_mid_escape() {
    check_encoded(&["p@ss w/rd!x"], "u=p%40ss+w%2Frd%21x&", "u=***&");
    check_encoded(&["p@ss w/rd!x"], "u=p%40ss%20w%2Frd!x&", "u=***&");
    check_encoded(
        &["quote\"back\\slash"],
        r#"{"k":"quote\"back\\slash"}"#,
        r#"{"k":"***"}"#,
    );
    check_encoded(
        &["caf\u{e9}-\u{1f600}-x"],
        r#""caf\u00e9-\ud83d\ude00-x""#,
        r#""***""#,
    );
    check_encoded(
        &["a<b>c&d-1234"],
        r#""a\u003cb\u003ec\u0026d-1234""#,
        r#""***""#,
    );
    check_encoded(
        &["a<b>c&d'1\"2"],
        "<v>a&lt;b&gt;c&amp;d&apos;1&quot;2</v>",
        "<v>***</v>",
    );
    check_encoded(&["it's-a-secret"], "echo 'it'\\''s-a-secret'", "echo '***'");
}

#[test]
fn json_value_leaves() {
    check_encoded(
        &[r#"{"client_id": "abc", "client_secret": "s3cr3t-v4lue"}"#],
        "secret is s3cr3t-v4lue and id abc",
        "secret is *** and id abc",
    );
}

#[test]
fn bytes_pass_through_untouched() {
    let redactor = build(&[("k", "s3cr3t-v4lue")], Mask::Stars, &[]);
    // Invalid UTF-8, CR, CRLF, NUL around an occurrence.
    let input = b"\xff\xfe\r\n\0s3cr3t-v4lue\r\xc3";
    check_with(&redactor, &Mask::Stars, input, b"\xff\xfe\r\n\0***\r\xc3");
    // A UTF-8 value split mid-code-point by the writes (every split is tried).
    let redactor = build(&[("k", "p\u{e4}ssw\u{f6}rd\u{1f511}")], Mask::Stars, &[]);
    check_with(
        &redactor,
        &Mask::Stars,
        "x p\u{e4}ssw\u{f6}rd\u{1f511} \u{e9}".as_bytes(),
        "x *** \u{e9}".as_bytes(),
    );
}

#[test]
fn masks() {
    let values = [("db", "hunter2hunter2"), ("api", "hunter2hunter2!!")];
    let by_name = build(&values, Mask::Name, &[]);
    check_with(
        &by_name,
        &Mask::Name,
        b"a hunter2hunter2!! b",
        b"a [secrets.api] b",
    );
    check_with(
        &by_name,
        &Mask::Name,
        b"a hunter2hunter2 b",
        b"a [secrets.db] b",
    );
    let fixed = Mask::Fixed("<hidden>".to_owned());
    let fixed_redactor = build(&values, fixed.clone(), &[]);
    check_with(
        &fixed_redactor,
        &fixed,
        b"a hunter2hunter2 b",
        b"a <hidden> b",
    );
}

#[test]
fn a_value_longer_than_64_kib() {
    // Letters from a xorshift sequence: a value that repeats itself every few bytes would
    // keep a partial match alive at every repetition (see `benches/examples/redact_runs.rs`),
    // which this test is not about.
    let mut state = 0x2545_f491_u32;
    let value: String = (0..70_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    let redactor = build(&[("big", &value)], Mask::Stars, Encoding::ALL);
    let input = format!("<{value}>{value}");
    let expected = b"<***>***";
    assert_eq!(redactor.redact(input.as_bytes()), expected);
    for pieces in [1usize, 4096, 65_536] {
        let cuts: Vec<usize> = (1..input.len()).step_by(pieces).skip(1).collect();
        let mut writer = RedactWriter::new(&redactor, Vec::new());
        let mut at = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            writer.write_all(&input.as_bytes()[at..cut]).unwrap();
            at = cut;
        }
        assert_eq!(
            writer.finish().unwrap(),
            expected,
            "writes of {pieces} bytes"
        );
    }
}

#[test]
fn large_inputs_find_occurrences_at_every_offset() {
    // The scan reads four strides at a time: values placed all along a large input (at every
    // offset modulo the stride and modulo four strides, in the remainder) must all be found,
    // in one buffer and in one write.
    let values = ["sk-live-7Hq2LmZp9XwR4tVb", "ghp_Zy81KdQe0PmWx5NcA3Lu7"];
    let redactor = build(&[("a", values[0]), ("b", values[1])], Mask::Stars, &[]);
    let filler = b"INFO step 3/12: npm ci --prefer-offline --no-audit; ";
    let mut input = Vec::new();
    let mut injected = 0;
    while input.len() < 200_000 {
        let lead = injected % 41;
        input.extend(filler.iter().cycle().skip(injected).take(lead + 60));
        input.extend_from_slice(values[injected % 2].as_bytes());
        injected += 1;
    }
    let expected = model(&redactor, &Mask::Stars, &input);
    assert_eq!(
        expected.windows(3).filter(|w| w == b"***").count(),
        injected
    );
    assert!(redactor.redact(&input) == expected, "one buffer");
    let mut writer = RedactWriter::new(&redactor, Vec::new());
    writer.write_all(&input).unwrap();
    assert!(writer.finish().unwrap() == expected, "one write");
}

#[test]
fn a_long_run_of_overlapping_occurrences_is_masked_as_it_comes() {
    // A value such as `xxxxxxxx` in a long line of `x`: an occurrence starts at every position
    // and they all overlap into one interval. Its mask goes out as soon as its first
    // occurrence is complete, and the stream holds back less than one value, however long the
    // run: holding the whole interval until it ended made memory grow with the run and every
    // write handle all of it again.
    let value = "xxxxxxxx";
    let redactor = build(&[("filler", value)], Mask::Stars, Encoding::ALL);
    let input = format!("before {} after\n", "x".repeat(256 << 10));
    let expected = b"before *** after\n";
    assert_eq!(redactor.redact(input.as_bytes()), expected);
    for write in [1usize, 7, 4096] {
        let mut writer = RedactWriter::new(&redactor, Vec::new());
        let mut buffer = RedactBuffer::new(&redactor, Vec::new());
        let mut at = 0;
        for chunk in input.as_bytes().chunks(write) {
            writer.write_all(chunk).unwrap();
            buffer.push(chunk);
            at += chunk.len();
            assert!(
                writer.held() < value.len(),
                "{write}-byte writes, {at} bytes"
            );
            assert!(
                buffer.held() < value.len(),
                "{write}-byte writes, {at} bytes"
            );
            if at >= "before ".len() + value.len() {
                assert!(
                    buffer.released().starts_with(b"before ***"),
                    "{write}-byte writes, {at} bytes: the mask is out"
                );
            }
        }
        assert_eq!(writer.finish().unwrap(), expected, "{write}-byte writes");
        assert_eq!(buffer.finish(), expected, "{write}-byte writes");
    }
}

#[test]
fn redact_to_and_buffers_append_after_what_the_vec_holds() {
    // `redact_to` copies in pieces, and the scan writes into the buffer's spare capacity ahead
    // of each copy: what the buffer held stays, and the output follows it exactly, however long
    // the input, whatever capacity the buffer starts with, and also when the masks are longer
    // than the values, so that the output outgrows the room reserved for it and the last pieces
    // find too little spare capacity to write to.
    let value = "ghp_Zy81KdQe0PmWx5NcA3Lu7";
    let line = format!("INFO pushing with {value} to origin; done\n");
    let long_mask = Mask::Fixed("[a mask much longer than the value it stands for]".to_owned());
    for mask in [Mask::Stars, long_mask] {
        let redactor = build(&[("token", value)], mask.clone(), Encoding::ALL);
        for lines in [1usize, 200, 3_000] {
            let input = line.repeat(lines).into_bytes();
            let expected = model(&redactor, &mask, &input);
            for spare in [0, input.len(), 2 * input.len()] {
                let mut out = Vec::with_capacity(6 + spare);
                out.extend_from_slice(b"held: ");
                redactor.redact_to(&input, &mut out);
                let case = format!("{mask:?}, {lines} lines, {spare} spare");
                assert_eq!(&out[..6], b"held: ", "{case}");
                assert!(out[6..] == expected[..], "{case}");
                // A `RedactBuffer` claims its `Vec` in the same way, write after write.
                let mut out = Vec::with_capacity(6 + spare);
                out.extend_from_slice(b"held: ");
                let mut buffer = RedactBuffer::new(&redactor, out);
                for piece in input.chunks(4096) {
                    buffer.push(piece);
                }
                let out = buffer.finish();
                assert_eq!(&out[..6], b"held: ", "{case}, buffer");
                assert!(out[6..] == expected[..], "{case}, buffer");
            }
        }
    }
}

#[test]
fn one_hundred_secrets_sharing_a_prefix() {
    let values: Vec<String> = (0..100)
        .map(|i| format!("ghp_shared_prefix_{i:03}x"))
        .collect();
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    let input = "t=ghp_shared_prefix_042x ghp_shared_prefix_ ghp_shared_prefix_100x ghp_shared_prefix_099x.";
    check(
        &values,
        input,
        "t=*** ghp_shared_prefix_ ghp_shared_prefix_100x ***.",
    );
}

#[test]
fn binary_input() {
    let redactor = build(&[("k", "\u{1}\u{2}\u{3}\u{4}\u{5}")], Mask::Stars, &[]);
    let input: Vec<u8> = (0..=255u8).chain(1..=5).chain(0..=255).collect();
    let block = |out: &mut Vec<u8>| {
        out.push(0);
        out.extend_from_slice(b"***");
        out.extend(6..=255u8);
    };
    let mut expected = Vec::new();
    block(&mut expected);
    expected.extend_from_slice(b"***");
    block(&mut expected);
    check_with(&redactor, &Mask::Stars, &input, &expected);
}

#[test]
fn growing_set_reexamines_held_bytes() {
    let redactor = build(&[("a", "tokenAAAA")], Mask::Stars, &[]);
    let mut writer = RedactWriter::new(&redactor, Vec::new());
    let mut buffer = RedactBuffer::new(&redactor, Vec::new());
    writer.write_all(b"t=token").unwrap();
    buffer.push(b"t=token");
    assert_eq!(writer.held(), 5);
    assert_eq!(buffer.held(), 5);
    redactor
        .add_values([("b", &SecretString::from("tokenBBBB"))])
        .unwrap();
    writer.write_all(b"BBBB and tokenAAAA").unwrap();
    buffer.push(b"BBBB and tokenAAAA");
    assert_eq!(writer.finish().unwrap(), b"t=*** and ***");
    assert_eq!(buffer.finish(), b"t=*** and ***");
    // A clone shares the set: a value added through one is masked through the other.
    let other = redactor.clone();
    other
        .add_values([("c", &SecretString::from("charlie-7"))])
        .unwrap();
    assert_eq!(redactor.redact(b"charlie-7"), b"***");
}

#[test]
fn too_short_values_are_reported_not_masked() {
    let redactor = build(
        &[("pin", "123"), ("pin", "456"), ("ok", "1234")],
        Mask::Stars,
        &[],
    );
    assert_eq!(redactor.too_short(), ["pin"]);
    assert_eq!(redactor.redact(b"123 1234"), b"123 ***");
}

#[test]
fn debug_prints_no_value() {
    let redactor = build(&[("k", "s3cr3t-v4lue")], Mask::Stars, Encoding::ALL);
    let mut writer = RedactWriter::new(&redactor, Vec::new());
    writer.write_all(b"s3cr3t-v4").unwrap();
    let shown = format!(
        "{redactor:?} {writer:?} {:?}",
        Redactor::builder().value("k", &SecretString::from("s3cr3t-v4lue"))
    );
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[test]
fn invalid_names_are_refused() {
    let err = Redactor::builder()
        .value("a b", &SecretString::from("s3cr3t-v4lue"))
        .build()
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid secret name"), "{err}");
    assert!(!err.to_string().contains("s3cr3t"), "{err}");
}

#[tokio::test]
async fn async_writer_matches_sync() {
    use tokio::io::AsyncWriteExt;
    let redactor = build(&[("k", "s3cr3t-v4lue")], Mask::Stars, Encoding::ALL);
    let mut writer = crate::AsyncRedactWriter::new(&redactor, Vec::new());
    writer.write_all(b"a s3cr3t").await.unwrap();
    writer.write_all(b"-v4lue b s3cr3t-v4").await.unwrap();
    writer.shutdown().await.unwrap();
    assert_eq!(writer.into_inner(), b"a *** b s3cr3t-v4");
}

/// A writer into a buffer the test keeps a handle on (what a `MakeWriter` hands out per event).
#[derive(Clone)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn tracing_writer_masks_events() {
    use tracing_subscriber::fmt::MakeWriter;
    let redactor = build(&[("k", "s3cr3t-v4lue")], Mask::Stars, &[]);
    let sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let shared = Shared(sink.clone());
    let make = crate::RedactMakeWriter::new(&redactor, move || shared.clone());
    let mut writer = make.make_writer();
    writer
        .write_all(b"event token=s3cr3t-v4lue tail=s3cr3t")
        .unwrap();
    drop(writer);
    assert_eq!(&*sink.lock().unwrap(), b"event token=*** tail=s3cr3t");
}

/// A wrapped `MakeWriter` still decides per event: an inner writer limited to warnings gets the
/// warning, masked, and never the info event.
#[test]
fn tracing_writer_keeps_the_inner_writers_level_filter() {
    use tracing_subscriber::fmt::writer::MakeWriterExt as _;
    let redactor = build(&[("k", "s3cr3t-v4lue")], Mask::Stars, &[]);
    let sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let shared = Shared(sink.clone());
    let inner = (move || shared.clone()).with_max_level(tracing::Level::WARN);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(crate::RedactMakeWriter::new(&redactor, inner))
        .with_ansi(false)
        .without_time()
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("info token=s3cr3t-v4lue");
        tracing::warn!("warn token=s3cr3t-v4lue");
    });
    let written = String::from_utf8(sink.lock().unwrap().clone()).unwrap();
    assert!(written.contains("warn token=***"), "{written}");
    assert!(!written.contains("info"), "{written}");
    assert!(!written.contains("s3cr3t-v4lue"), "{written}");
}

/// Random values over a small alphabet (so they overlap and repeat), an input made of random
/// bytes and pieces of needles, and random cuts.
fn case() -> impl Strategy<Value = (Vec<String>, bool, Vec<u8>, Vec<usize>)> {
    let value = proptest::string::string_regex("[ab\\n -]{3,12}").unwrap();
    (proptest::collection::vec(value, 1..5), any::<bool>()).prop_flat_map(|(values, encode)| {
        let piece = prop_oneof![
            proptest::collection::vec(
                prop_oneof![
                    Just(b'a'),
                    Just(b'b'),
                    Just(b' '),
                    Just(b'\n'),
                    Just(b'\r'),
                    any::<u8>()
                ],
                0..6
            ),
            (0..64usize, 0..64usize, any::<bool>()).prop_map(|(n, cut, whole)| vec![
                0xFF,
                n as u8,
                cut as u8,
                u8::from(whole)
            ]),
        ];
        let pieces = proptest::collection::vec(piece, 0..12);
        let cuts = proptest::collection::vec(0..200usize, 0..8);
        (Just(values), Just(encode), pieces, cuts).prop_map(|(values, encode, pieces, mut cuts)| {
            cuts.sort_unstable();
            (values, encode, pieces.concat(), cuts)
        })
    })
}

/// Replaces each `0xFF n cut whole` marker with needle `n` (whole, or its first `cut` bytes).
fn expand(redactor: &Redactor, raw: &[u8]) -> Vec<u8> {
    let matcher = redactor.matcher().1;
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == 0xFF && i + 3 < raw.len() && !matcher.literals.is_empty() {
            let needle = &matcher.literals[raw[i + 1] as usize % matcher.literals.len()].bytes;
            let take = if raw[i + 3] == 1 {
                needle.len()
            } else {
                raw[i + 2] as usize % needle.len()
            };
            out.extend_from_slice(&needle[..take]);
            i += 4;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn streaming_equals_the_model((values, encode, raw, cuts) in case()) {
        let named: Vec<(String, &str)> = values.iter().enumerate().map(|(i, v)| (format!("s{i}"), v.as_str())).collect();
        let named: Vec<(&str, &str)> = named.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let encodings: &[Encoding] = if encode { Encoding::ALL } else { &[] };
        let redactor = build(&named, Mask::Name, encodings);
        let input = expand(&redactor, &raw);
        let expected = model(&redactor, &Mask::Name, &input);
        prop_assert_eq!(&redactor.redact(&input), &expected);
        prop_assert_eq!(&stream(&redactor, &input, &cuts), &expected);
        let bytes: Vec<usize> = (1..input.len()).collect();
        prop_assert_eq!(&stream(&redactor, &input, &bytes), &expected);
    }

    #[test]
    fn no_needle_survives((values, encode, raw, cuts) in case()) {
        let named: Vec<(String, &str)> = values.iter().enumerate().map(|(i, v)| (format!("s{i}"), v.as_str())).collect();
        let named: Vec<(&str, &str)> = named.iter().map(|(n, v)| (n.as_str(), *v)).collect();
        let encodings: &[Encoding] = if encode { Encoding::ALL } else { &[] };
        let redactor = build(&named, Mask::Stars, encodings);
        let input = expand(&redactor, &raw);
        let output = stream(&redactor, &input, &cuts);
        let matcher = redactor.matcher().1;
        for literal in &matcher.literals {
            prop_assert!(
                !output.windows(literal.bytes.len()).any(|w| w == &literal.bytes[..]) || literal.bytes.contains(&b'*'),
                "a needle survived"
            );
        }
    }
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Redactor>();
    check::<RedactWriter<Vec<u8>>>();
    check::<RedactBuffer>();
    check::<crate::AsyncRedactWriter<Vec<u8>>>();
    check::<crate::RedactMakeWriter<fn() -> std::io::Stderr>>();
}
