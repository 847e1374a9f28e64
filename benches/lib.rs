//! Shared helpers for sigil's criterion benches: locating the corpus and building workloads.
//!
//! The benches themselves live in `benches/benches/`; each one runs its named baseline in the
//! same run, and `benches/README.md` records the figures with the command that produced them.

use std::path::PathBuf;

pub mod redactor_workload;

/// The shared corpus of real CI configs, expected beside the repository (`../shared/corpus`),
/// or wherever `SIGIL_CORPUS` points.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SIGIL_CORPUS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}
