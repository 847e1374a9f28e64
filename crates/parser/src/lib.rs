//! sigil-parser: finds secret references in YAML and JSON pipeline configs.
#![deny(missing_docs)]
