//! Placeholder: replaced by the parser benches.
fn main() {}
