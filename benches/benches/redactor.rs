//! Placeholder: replaced by the redactor benches.
fn main() {}
