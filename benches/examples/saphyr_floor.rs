//! The floor of any `sigil check` built on saphyr-parser, as a whole command: read every
//! `*.yml`, `*.yaml` and `*.json` file below the given directories and pull every saphyr-parser
//! event of each, on every core, and nothing else (no positions, references, checks or output).
//! `benches/check-vs-actionlint.sh` times it beside `sigil check` on the same tree.
//!
//! Run: `cargo run --release -p sigil-benches --example saphyr_floor -- DIR...`

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use saphyr_parser::{Event, Parser};

fn main() {
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("readable directory") {
                stack.push(entry.expect("directory entry").path());
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml" | "json")
        ) {
            files.push(path);
        }
    }
    let next = AtomicUsize::new(0);
    let events = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let bytes = std::fs::read(path).expect("readable file");
                    let text = String::from_utf8_lossy(&bytes);
                    let mut count = 0;
                    for event in Parser::new_from_str(&text) {
                        match event {
                            Ok((Event::StreamEnd, _)) | Err(_) => break,
                            Ok(_) => count += 1,
                        }
                    }
                    events.fetch_add(count, Ordering::Relaxed);
                }
            });
        }
    });
    println!("{} files, {} events", files.len(), events.into_inner());
}
