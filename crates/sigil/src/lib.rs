//! sigil for embedders: parse pipeline configs, resolve secret references just in time, scrub
//! every resolved value from output.
//!
//! This crate is the one place to start reading. It re-exports the engine's parts, each its own
//! crate with one job: [`parser`] finds references in configs with exact positions,
//! [`resolver`] substitutes values into one step's parsed tree, [`redactor`] scrubs values and
//! their encodings from output, [`store`] keeps the secrets encrypted, versioned and audited.
//! [`StoreSource`] connects the store to the resolver.
//!
//! # Example
//!
//! ```
//! use secrecy::{ExposeSecret, SecretString};
//! use sigil::parser::{parse, ParseOptions};
//! use sigil::resolver::{resolve_step, Policy, RunContext};
//! use sigil::store::{Actor, KeySource, MasterKey, SecretKey, SecretName, SetOptions, Store, StoreLocation};
//! use sigil::StoreSource;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let actor = Actor::new("ci");
//! let location = StoreLocation::Sqlite(dir.path().join("store.db"));
//! let store = Store::create(&location, KeySource::Key(MasterKey::generate()), &actor).await.unwrap();
//! let key = SecretKey::new("acme", SecretName::new("token").unwrap());
//! store.set(&actor, &key, &SecretString::from("t0k3n-value"), &SetOptions::default()).await.unwrap();
//!
//! let parsed = parse("steps:\n  - env: {TOKEN: <<secrets.token>>}\n", &ParseOptions::default());
//! let context = RunContext::new("acme").pipeline("deploy");
//! let source = StoreSource::new(&store, actor);
//! let step = resolve_step(&parsed.documents[0], "/steps/0", &context, &source, &Policy::default())
//!     .await
//!     .unwrap();
//! assert_eq!(step.secrets[0].value.expose_secret(), "t0k3n-value");
//! # });
//! ```
#![deny(missing_docs)]

mod store_source;

pub use crate::store_source::StoreSource;
pub use sigil_parser as parser;
pub use sigil_redactor as redactor;
pub use sigil_resolver as resolver;
pub use sigil_store as store;
