//! sigil-resolver: just-in-time, structure-safe substitution of secret references.
#![deny(missing_docs)]

pub mod shell;
