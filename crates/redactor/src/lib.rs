//! sigil-redactor: streaming scrubber for secret values and their encodings.
//!
//! Give a [`Redactor`] the named values a run resolved; it masks every occurrence of each value
//! and of its common encodings in any output, as a buffer ([`Redactor::redact`]), through a
//! `std::io::Write` ([`RedactWriter`]), as a stream collected in memory ([`RedactBuffer`]),
//! through a tokio `AsyncWrite` ([`AsyncRedactWriter`]), or a `tracing-subscriber` writer
//! ([`RedactMakeWriter`]).
//!
//! # What is masked
//!
//! - the raw value, byte-exact and case-sensitive, surrounding whitespace trimmed; empty values
//!   are ignored; values under 4 bytes are not masked but reported once by name
//!   ([`Redactor::too_short`]);
//! - for a multi-line value: the value with LF and with CRLF line ends, the value with any run
//!   of 1 to 32 whitespace bytes where a line break was, and each trimmed line of 8 bytes or more;
//! - for a value of 8 bytes or more, its encodings ([`Encoding`]: base64 at every alignment,
//!   percent, JSON, XML, shell), and, for a JSON object or array, each string leaf of 8 bytes or
//!   more (with its encodings);
//! - overlapping and nested occurrences are masked as one (their union); adjacent ones keep one
//!   mask each; the mask is never scanned again.
//!
//! # Streaming
//!
//! The output is the same however the input is cut into writes. A writer holds back only the
//! longest tail that could still begin an occurrence, and releases it as soon as it cannot;
//! [`RedactWriter::finish`] (and drop) write out the rest, a partial occurrence cut off by the
//! end of the stream as it is. Bytes are bytes: invalid UTF-8, CR and CRLF pass untouched.
//!
//! The set of values can grow while streams are open ([`Redactor::add_values`]): each writer
//! picks up the new set at its next write and re-examines what it holds back.
//!
//! # Speed with many values
//!
//! Every needle (a value or one of its forms) is at least 4 bytes, and with realistic values
//! 20 bytes or more. The search reads one 4-byte window every `L - 3` bytes (8-byte windows
//! every `L - 7` bytes for sets of over 1,024 needles), where `L` is the shortest needle, tests one bit of a hashed bitmap of the needles'
//! windows, and compares needles only on a hit. Its cost per byte does not depend on the number
//! of needles, only on the bitmap's density, which is kept near 1% by sizing it (at most
//! 1 MiB); there is no cliff at 64 patterns as with a packed prefilter. See the README
//! ("Resource usage") for the figures.
//!
//! # Example
//!
//! ```
//! use std::io::Write;
//!
//! use secrecy::SecretString;
//! use sigil_redactor::{Mask, RedactWriter, Redactor};
//!
//! let redactor = Redactor::builder()
//!     .mask(Mask::Name)
//!     .value("db_password", &SecretString::from("hunter2hunter2"))
//!     .build()?;
//!
//! let mut writer = RedactWriter::new(&redactor, Vec::new());
//! // The value arrives split across writes; its base64 form arrives too.
//! writer.write_all(b"pw=hunter2hunte")?;
//! writer.write_all(b"r2 auth=aHVudGVyMmh1bnRlcjI=\n")?;
//! let out = writer.finish()?;
//! assert_eq!(out, b"pw=[secrets.db_password] auth=[secrets.db_password]\n");
//!
//! // A later step resolves another value: open streams mask it from their next write.
//! redactor.add_values([("api_key", &SecretString::from("sk-live-0123456789"))])?;
//! assert_eq!(redactor.redact(b"key sk-live-0123456789"), b"key [secrets.api_key]");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod encoding;
mod error;
mod matcher;
mod needles;
mod redactor;
mod scrubber;
mod writer;

pub use crate::{
    encoding::{Encoder, Encoding, SecretBytes},
    error::{Error, ErrorKind},
    redactor::{Mask, Redactor, RedactorBuilder, Stats},
    writer::{AsyncRedactWriter, RedactBuffer, RedactMakeWriter, RedactWriter},
};

/// The `secrecy` crate, re-exported so that callers build values with the same
/// `SecretString` this crate takes.
pub use secrecy;

#[cfg(test)]
mod tests;

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
