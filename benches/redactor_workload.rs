//! The redactor benches' workload: CI log lines with values or their encoded forms injected,
//! shared by `benches/redactor.rs` and the `redact_passes` profiling driver.

use std::io::Write;

use secrecy::SecretString;
use sigil_redactor::{RedactBuffer, RedactWriter, Redactor};

/// A small deterministic generator (xorshift64*), so every run benches the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `count` values of 20 to 50 characters shaped like real tokens.
pub fn values(count: usize) -> Vec<String> {
    let mut rng = Rng(0x5EED_0000 + count as u64);
    let prefixes = [
        "ghp_", "sk-live-", "AKIA", "xoxb-", "glpat-", "npm_", "", "",
    ];
    (0..count)
        .map(|_| {
            let mut value = rng.pick(&prefixes).to_owned();
            let len = 20 + rng.below(31);
            while value.len() < len {
                value.push(char::from(ALNUM[rng.below(ALNUM.len())]));
            }
            value
        })
        .collect()
}

/// One log line of the kinds a CI job prints.
fn log_line(rng: &mut Rng, out: &mut Vec<u8>) {
    let n = rng.below(10_000);
    let hex: String = (0..12)
        .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
        .collect();
    let line = match rng.below(10) {
        0 => format!(
            "2026-11-25T09:{:02}:{:02}.{n:03}Z INFO  step {}/12: npm ci --prefer-offline --no-audit\n",
            n % 60,
            n % 59,
            n % 12
        ),
        1 => format!(
            "Downloading https://registry.npmjs.org/{}/-/{}-4.17.{n}.tgz ({} kB)\n",
            rng.pick(&["lodash", "react", "typescript", "webpack"]),
            rng.pick(&["a", "b"]),
            n % 900
        ),
        2 => format!(
            "test tests::{}::case_{n} ... ok\n",
            rng.pick(&["parser", "store", "redactor", "resolver"])
        ),
        3 => format!(
            "   Compiling {} v0.{}.{} (/builds/group/project/crates/{})\n",
            rng.pick(&["serde", "tokio", "regex", "clap"]),
            n % 40,
            n % 9,
            rng.pick(&["core", "cli"])
        ),
        4 => format!("{hex}: Pull complete\n"),
        5 => format!("remote: Counting objects: {}% ({n}/{n}), done.\n", n % 100),
        6 => format!(
            "[{n:>5}] warning: unused variable `x{n}` in src/module_{}.rs:{}:{}\n",
            n % 37,
            n % 400,
            n % 80
        ),
        7 => format!(
            "+ curl -sSf -H 'Accept: application/json' https://api.example.com/v1/builds/{n}/status\n"
        ),
        8 => format!(
            "Step {}/{}: RUN apt-get update && apt-get install -y build-essential libssl-dev ({hex})\n",
            n % 20,
            20
        ),
        _ => format!(
            "    at Object.<anonymous> (/builds/app/node_modules/jest/build/index.js:{n}:{})\n",
            n % 60
        ),
    };
    out.extend_from_slice(line.as_bytes());
}

/// The log, and how many values were injected. Each injection is one of the needles (a value
/// or one of its encoded forms), cycling through them.
pub fn workload(needles: &[Vec<u8>], bytes: usize) -> (Vec<u8>, usize) {
    let mut rng = Rng(0xC0FFEE);
    let mut out = Vec::with_capacity(bytes + 4096);
    let mut injected = 0;
    let mut next_injection = 0;
    while out.len() < bytes {
        if out.len() >= next_injection {
            let needle = &needles[injected * 7919 % needles.len()];
            out.extend_from_slice(format!("export SECRET_{injected}=").as_bytes());
            out.extend_from_slice(needle);
            out.push(b'\n');
            injected += 1;
            next_injection += 64 * 1024;
        }
        log_line(&mut rng, &mut out);
    }
    (out, injected)
}

/// A redactor over `values`, named `S0`, `S1`, ...
pub fn build(values: &[String]) -> Redactor {
    let mut builder = Redactor::builder();
    for (i, value) in values.iter().enumerate() {
        builder.value(&format!("S{i}"), &SecretString::from(value.as_str()));
    }
    builder.build().unwrap()
}

/// Copies of every needle `redactor` searches for: what the workload injects, and the
/// baseline's patterns.
pub fn needles(redactor: &Redactor) -> Vec<Vec<u8>> {
    redactor
        .expose_needles()
        .iter()
        .map(|n| n.to_vec())
        .collect()
}

/// This process's resident memory in KiB (0 where `/proc` is missing).
pub fn resident_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `input` through a `RedactWriter` in 4 KiB writes, into `out` (its allocation reused).
pub fn stream(redactor: &Redactor, input: &[u8], out: &mut Vec<u8>) {
    stream_in_writes(redactor, input, 4096, out);
}

/// [`stream`] with writes of `write` bytes.
pub fn stream_in_writes(redactor: &Redactor, input: &[u8], write: usize, out: &mut Vec<u8>) {
    out.clear();
    let mut writer = RedactWriter::new(redactor, std::mem::take(out));
    for chunk in input.chunks(write) {
        writer.write_all(chunk).unwrap();
    }
    *out = writer.finish().unwrap();
}

/// `input` through a `RedactBuffer` in writes of `write` bytes, into `out` (its allocation
/// reused).
pub fn buffer_in_writes(redactor: &Redactor, input: &[u8], write: usize, out: &mut Vec<u8>) {
    out.clear();
    let mut buffer = RedactBuffer::new(redactor, std::mem::take(out));
    for chunk in input.chunks(write) {
        buffer.push(chunk);
    }
    *out = buffer.finish();
}
