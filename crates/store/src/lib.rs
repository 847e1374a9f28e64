//! sigil-store: encrypted, versioned, audited secrets on SQLite and PostgreSQL.
//!
//! A [`Store`] keeps secrets identified by a [`SecretKey`] (workspace, [`Scope`],
//! [`SecretName`], [`Environment`]). Every write makes an immutable version encrypted with a
//! fresh data key (AES-256-GCM), wrapped by the master key ([`MasterKey`], from a key file, the
//! environment or a passphrase), with associated data that binds each ciphertext to its store,
//! secret, scope, environment and version. Every read of a value and every change appends an
//! [`AuditRecord`] to a hash chain in the same transaction; [`Store::verify_audit`] names the
//! first record that was edited, deleted or reordered.
//!
//! For the resolver, [`Store::candidates`] returns every row that may answer a batch of names
//! (metadata only) and [`Store::reveal_batch`] decrypts the chosen versions and audits each
//! access, both in one transaction. [`Store::issue_handle`] and [`Store::redeem_handle`] deal in
//! signed, short-lived `$secret:` handles. [`parse_dotenv`] and [`render_dotenv`] read and write
//! the `.env` dialect of dotenvy, byte for byte.
//!
//! # Example
//!
//! ```
//! use secrecy::{ExposeSecret, SecretString};
//! use sigil_store::{Access, Actor, KeySource, MasterKey, SecretKey, SecretName, SetOptions, Store, StoreLocation};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sigil_store::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let location = StoreLocation::Sqlite(dir.path().join("store.db"));
//! let actor = Actor::new("alice");
//! let store = Store::create(&location, KeySource::Key(MasterKey::generate()), &actor).await?;
//!
//! let key = SecretKey::new("default", SecretName::new("openai_api_key")?);
//! let value = SecretString::from("sk-test-123");
//! let (_, version) = store.set(&actor, &key, &value, &SetOptions::default()).await?;
//! assert_eq!(version.version, 1);
//!
//! let (_, revealed) = store.reveal(&actor, &key, &Access::default(), None).await?;
//! assert_eq!(revealed.expose_secret(), "sk-test-123");
//! assert!(store.verify_audit().await?.first_bad.is_none());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod backup;
mod crypto;
mod dotenv;
mod error;
mod keyfile;
mod model;
mod ops;
mod sql;
mod store;
#[doc(hidden)]
pub mod testing;

#[doc(hidden)]
pub use crate::testing::test_postgres_url;
pub use crate::{
    crypto::{KdfParams, MasterKey},
    dotenv::{DotenvEntries, parse_dotenv, render_dotenv},
    error::{Error, ErrorKind, Result},
    keyfile::{create_key_file, read_key_file},
    model::{
        Access, Actor, AuditDefect, AuditQuery, AuditRecord, AuditVerdict, Candidate, Environment,
        How, ListFilter, NameQuery, Progress, RunContext, Scope, ScopeKind, SecretKey, SecretMeta,
        SecretName, SecretValue, SetOptions, Timestamp, VersionInfo, parse_duration,
    },
    sql::{PostgresUrl, StoreLocation},
    store::{KeySource, ReadAuditSync, Store},
};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
