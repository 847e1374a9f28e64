//! A driver for profilers (callgrind, perf): the redactor bench's workload, redacted a given
//! number of times in memory or as a stream of 4 KiB writes, and nothing else timed.
//!
//! Run: `cargo run --release -p sigil-benches --example redact_passes -- SECRETS redact|stream
//! PASSES [KIB]` (default 1,024 KiB, small enough to stay in cache: the instruction count per
//! KiB is then the work itself, not the wait on memory). Subtract a run of 0 passes, which
//! builds the same workload, to count the passes alone. Prints the median pass time.

use std::hint::black_box;
use std::time::Instant;

use sigil_benches::redactor_workload::{build, needles, stream, values, workload};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: redact_passes SECRETS redact|stream PASSES [KIB]";
    let [count, mode, passes, rest @ ..] = &args[..] else {
        panic!("{usage}");
    };
    let count: usize = count.parse().expect(usage);
    let passes: usize = passes.parse().expect(usage);
    let kib: usize = rest.first().map_or(1024, |k| k.parse().expect(usage));
    let redactor = build(&values(count));
    let (haystack, _) = workload(&needles(&redactor), kib << 10);
    let mut out = Vec::with_capacity(haystack.len());
    let mut times = Vec::with_capacity(passes);
    for _ in 0..passes {
        let start = Instant::now();
        match mode.as_str() {
            "redact" => {
                out.clear();
                redactor.redact_to(black_box(&haystack), &mut out);
            }
            "stream" => stream(&redactor, black_box(&haystack), &mut out),
            _ => panic!("{usage}"),
        }
        times.push(start.elapsed());
        black_box(out.len());
    }
    times.sort();
    if let Some(median) = times.get(passes / 2) {
        println!("{mode} {count} secrets, {kib} KiB: median {median:?} over {passes} passes");
    }
}
