//! sigil-redactor: streaming scrubber for secret values and their encodings.
#![deny(missing_docs)]
