//! sigil-resolver: just-in-time, structure-safe substitution of secret references.
//!
//! Given a parsed config ([`sigil_parser::Document`]), a [`RunContext`] and a [`SecretSource`],
//! [`resolve_step`] produces what one step needs at the moment it is about to run: the subtree at
//! the step's JSON pointer with every reference substituted ([`ResolvedStep::node`]), the
//! environment bindings of its shell fields ([`ResolvedStep::env`]), and the named values the
//! redactor must scrub from then on ([`ResolvedStep::secrets`]). [`validate`] checks every
//! reference of a document ahead of time without revealing a value.
//!
//! Rules (DESIGN.md section 3):
//! - **Precedence.** `<<secrets.NAME>>` looks in the pipeline scope, then workspace, then
//!   personal ([`Policy`] can change the order per environment); within a scope the value for the
//!   run's environment beats the all-environments value. `<<secrets.NAME@personal>>` looks only
//!   there. The personal scope is the triggering user's for manual runs, the pipeline owner's for
//!   automated runs, and absent for schedules ([`Trigger`]).
//! - **Structure.** Values are put into tree nodes, never into text, and an emitter
//!   ([`to_yaml`], [`to_json`]) writes the result: a value can never change the structure, and
//!   is never scanned for references again. A substituted value is always a string.
//! - **Shell fields.** In a field the policy names as a shell script (default: `run`), a
//!   reference becomes an environment variable and the script gets `"${SIGIL_NAME}"` (see
//!   [`shell`]); where the shell would not expand it, that is SIG106.
//! - **All at once.** Every problem of a step (or document) comes back together, each located.
//!
//! # Example
//!
//! ```
//! use secrecy::{ExposeSecret, SecretString};
//! use sigil_parser::{parse, ParseOptions, Scope};
//! use sigil_resolver::{resolve_step, to_json, MemorySource, Policy, Render, RunContext};
//!
//! let config = "steps:\n  - name: deploy\n    run: |\n      curl -H \"Authorization: <<secrets.token>>\" $URL\n";
//! let parsed = parse(config, &ParseOptions::default());
//!
//! let mut source = MemorySource::new();
//! source.insert(Scope::Workspace, None, None, "token", SecretString::from("t0k3n-value"));
//! let context = RunContext::new("acme").pipeline("deploy");
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let step = runtime
//!     .block_on(resolve_step(&parsed.documents[0], "/steps/0", &context, &source, &Policy::default()))
//!     .unwrap();
//! // The script never contains the value: it reads it from the environment.
//! let script = step.field("run").unwrap();
//! assert_eq!(script.expose_secret(), "curl -H \"Authorization: ${SIGIL_TOKEN}\" $URL\n");
//! let (variable, value) = step.env_vars().next().unwrap();
//! assert_eq!((variable, value.expose_secret()), ("SIGIL_TOKEN", "t0k3n-value"));
//! assert_eq!(step.secrets[0].name, "token");
//! # let _ = to_json(&step.node, &step.secrets, Render::Mask);
//! ```
#![deny(missing_docs)]

/// The README's example, run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod context;
mod emit;
mod policy;
mod resolve;
mod resolved;
pub mod shell;
mod source;

/// Hash maps keyed by secret names and variable names. A step looks names up hundreds of times;
/// foldhash (hashbrown's default hasher, seeded per map) hashes a short name in a fraction of
/// the time of std's SipHash.
type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type Set<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

pub use crate::context::{RunContext, Trigger};
pub use crate::emit::{to_json, to_yaml, yaml_string};
pub use crate::policy::{PointerPattern, Policy};
pub use crate::resolve::{
    Explanation, NamedValues, ResolveError, explain, preview_step, resolve_names, resolve_step,
    validate,
};
pub use crate::resolved::{
    EnvBinding, Piece, Render, ResolvedNode, ResolvedScalar, ResolvedSecret, ResolvedStep,
};
pub use crate::source::{
    Access, Found, HandleOutcome, Lookup, MemorySource, Reveal, SecretSource, Slot, SourceError,
};
