//! One module per command (or family of commands); each exposes its clap arguments and a `run`.

pub mod check;
pub mod redact;
pub mod resolve;
pub mod run;
pub mod store;
