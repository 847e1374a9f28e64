//! A driver for profilers (callgrind, perf) and for paired timing: the redactor bench's
//! workload, redacted a given number of times in memory or as a stream of writes (4 KiB unless
//! told), and nothing else timed.
//!
//! Run: `cargo run --release -p sigil-benches --example redact_passes -- SECRETS
//! redact|stream|buffer|discard|paired|copy PASSES [KIB [WRITE]]` (default 1,024 KiB, small
//! enough to stay in cache: the instruction count per KiB is then the work itself, not the wait
//! on memory; streams are fed writes of WRITE bytes, default 4,096). `stream` is a
//! `RedactWriter` into a `Vec`, `buffer` a `RedactBuffer`, `discard` a `RedactWriter` into
//! `std::io::sink()`: the stream's own work, without copying its output anywhere. Subtract a run of 0 passes, which builds the same workload,
//! to count the passes alone. Prints the median pass time.
//!
//! `paired` takes turns: one in-memory pass, one `RedactWriter` pass, one `RedactBuffer` pass,
//! so that all see the machine in the same state, and prints the median of each and the median
//! of each stream's ratios to the in-memory pass of its round. On a noisy virtual machine those
//! ratios are steadier than separate runs.
//!
//! `copy` masks nothing: it copies the workload into the same reused `Vec` in pieces of WRITE
//! bytes, the floor of a copy made piece by piece. The C library copies very large buffers
//! (such as the bench's memcpy baseline) with stores that bypass the cache, which a copy made
//! in pieces does not get; WRITE at least the workload's size makes it one copy.

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use sigil_benches::redactor_workload::{
    buffer_in_writes, build, needles, stream_in_writes, values, workload,
};
use sigil_redactor::RedactWriter;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: redact_passes SECRETS redact|stream|buffer|discard|paired|copy PASSES [KIB [WRITE]]";
    let [count, mode, passes, rest @ ..] = &args[..] else {
        panic!("{usage}");
    };
    let count: usize = count.parse().expect(usage);
    let passes: usize = passes.parse().expect(usage);
    let kib: usize = rest.first().map_or(1024, |k| k.parse().expect(usage));
    let write: usize = rest.get(1).map_or(4096, |w| w.parse().expect(usage));
    let redactor = build(&values(count));
    let (haystack, _) = workload(&needles(&redactor), kib << 10);
    let mut out = Vec::with_capacity(haystack.len());
    let mut copy = || {
        let start = Instant::now();
        out.clear();
        for piece in black_box(&haystack).chunks(write) {
            out.extend_from_slice(piece);
        }
        black_box(out.len());
        start.elapsed()
    };
    if mode == "copy" {
        let times: Vec<Duration> = (0..passes).map(|_| copy()).collect();
        if let Some(median) = median(times) {
            println!(
                "copy {kib} KiB in {write}-byte pieces: median {median:?} over {passes} passes"
            );
        }
        return;
    }
    let mut pass = |mode: &str| {
        let start = Instant::now();
        match mode {
            "stream" => stream_in_writes(&redactor, black_box(&haystack), write, &mut out),
            "buffer" => buffer_in_writes(&redactor, black_box(&haystack), write, &mut out),
            "discard" => {
                let mut writer = RedactWriter::new(&redactor, std::io::sink());
                for chunk in black_box(&haystack).chunks(write) {
                    writer.write_all(chunk).unwrap();
                }
                writer.finish().unwrap();
            }
            _ => {
                out.clear();
                redactor.redact_to(black_box(&haystack), &mut out);
            }
        }
        black_box(out.len());
        start.elapsed()
    };
    let label = format!("{count} secrets, {kib} KiB, {write}-byte writes");
    match mode.as_str() {
        "redact" | "stream" | "buffer" | "discard" => {
            let times: Vec<Duration> = (0..passes).map(|_| pass(mode)).collect();
            if let Some(median) = median(times) {
                println!("{mode} {label}: median {median:?} over {passes} passes");
            }
        }
        "paired" => {
            let (mut memory, mut streamed, mut buffered) = (vec![], vec![], vec![]);
            let (mut stream_ratios, mut buffer_ratios) = (vec![], vec![]);
            for _ in 0..passes {
                let (m, s, b) = (pass("redact"), pass("stream"), pass("buffer"));
                memory.push(m);
                streamed.push(s);
                buffered.push(b);
                stream_ratios.push(s.as_secs_f64() / m.as_secs_f64());
                buffer_ratios.push(b.as_secs_f64() / m.as_secs_f64());
            }
            stream_ratios.sort_by(f64::total_cmp);
            buffer_ratios.sort_by(f64::total_cmp);
            if let (Some(m), Some(s), Some(b)) =
                (median(memory), median(streamed), median(buffered))
            {
                println!(
                    "paired {label}: in memory {m:?}, RedactWriter {s:?} ({:.3}), RedactBuffer {b:?} ({:.3}) (medians of {passes} rounds; ratios to in memory)",
                    stream_ratios[passes / 2],
                    buffer_ratios[passes / 2]
                );
            }
        }
        _ => panic!("{usage}"),
    }
}

fn median(mut times: Vec<Duration>) -> Option<Duration> {
    times.sort();
    times.get(times.len() / 2).copied()
}
