//! Placeholder: replaced by the store benches.
fn main() {}
