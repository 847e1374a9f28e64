//! Writes the redactor bench's workload to files, for timing `sigil redact` as a whole command
//! (`benches/redact-throughput.sh`): `DIR/log-SECRETS` (the 256 MiB CI log, or KIB KiB) and
//! `DIR/secrets-SECRETS.json` (the values, a JSON array).
//!
//! Run: `cargo run --release -p sigil-benches --example redact_workload -- DIR SECRETS [KIB]`

use std::path::PathBuf;

use sigil_benches::redactor_workload::{build, needles, values, workload};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: redact_workload DIR SECRETS [KIB]";
    let [dir, count, rest @ ..] = &args[..] else {
        panic!("{usage}");
    };
    let dir = PathBuf::from(dir);
    let count: usize = count.parse().expect(usage);
    let kib: usize = rest.first().map_or(256 << 10, |k| k.parse().expect(usage));
    let values = values(count);
    let (log, _) = workload(&needles(&build(&values)), kib << 10);
    std::fs::write(dir.join(format!("log-{count}")), log)?;
    let json = serde_json::to_string(&values).expect("strings serialize");
    std::fs::write(dir.join(format!("secrets-{count}.json")), json)
}
