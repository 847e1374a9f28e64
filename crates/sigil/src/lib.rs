//! sigil for embedders: one place to start reading.
//!
//! This crate re-exports the engine's parts: [`parser`] finds references in configs,
//! [`redactor`] scrubs values from output, [`store`] keeps the secrets.
#![deny(missing_docs)]

pub use sigil_parser as parser;
pub use sigil_redactor as redactor;
pub use sigil_store as store;
