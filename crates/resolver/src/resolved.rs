//! The result of resolving a step: a tree whose strings are literal text and secret slots, the
//! environment bindings of shell fields, and the values to scrub.
//!
//! The tree borrows its keys, its literal text and its names from the parsed document (`'a`):
//! a step is resolved right before it runs, while its document is at hand, and copying every
//! untouched string of it would cost more than the resolution itself.

use std::borrow::Cow;

use secrecy::{ExposeSecret, SecretString};
use sigil_parser::CoreType;

/// A resolved step: the subtree at its pointer with every reference substituted.
///
/// Values never sit in the tree itself: a substituted string holds [`Piece::Secret`] indexes into
/// [`ResolvedStep::secrets`], so `Debug` of the tree shows no value, and an emitter decides
/// whether to write a value or a mask.
#[derive(Debug)]
pub struct ResolvedStep<'a> {
    /// The JSON pointer of the step.
    pub pointer: String,
    /// The subtree with references substituted; a shell field holds its rewritten script.
    pub node: ResolvedNode<'a>,
    /// Environment variables a shell field's script expects (`SIGIL_...`), each bound to a
    /// secret.
    pub env: Vec<EnvBinding>,
    /// Every value this step resolved, with its name: what the redactor must scrub from now on.
    pub secrets: Vec<ResolvedSecret<'a>>,
}

impl ResolvedStep<'_> {
    /// The environment variables to set for the step's child process.
    pub fn env_vars(&self) -> impl Iterator<Item = (&str, &SecretString)> {
        self.env.iter().map(|binding| {
            (
                binding.variable.as_str(),
                &self.secrets[binding.secret].value,
            )
        })
    }

    /// The string value of the scalar at `key` directly under the step (for example its `run`
    /// script or its `name`), with secrets written out. `None` when there is no such scalar.
    pub fn field(&self, key: &str) -> Option<SecretString> {
        let ResolvedNode::Mapping(entries) = &self.node else {
            return None;
        };
        let (_, ResolvedNode::Scalar(scalar)) = entries.iter().find(|(k, _)| *k == key)? else {
            return None;
        };
        Some(SecretString::from(
            scalar.render(&self.secrets, Render::Reveal),
        ))
    }
}

/// One value resolved for a step.
#[derive(Debug)]
pub struct ResolvedSecret<'a> {
    /// The secret's name (for a handle, the name of the secret it was issued for).
    pub name: Cow<'a, str>,
    /// The value.
    pub value: SecretString,
}

/// An environment variable bound to a secret for a shell field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvBinding {
    /// The variable name, `SIGIL_...`.
    pub variable: String,
    /// Index into [`ResolvedStep::secrets`].
    pub secret: usize,
}

/// A node of a resolved tree.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedNode<'a> {
    /// Entries in order, keys as written.
    Mapping(Vec<(&'a str, ResolvedNode<'a>)>),
    /// Items in order.
    Sequence(Vec<ResolvedNode<'a>>),
    /// A scalar.
    Scalar(ResolvedScalar<'a>),
}

/// A resolved scalar: its pieces and its type.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedScalar<'a> {
    /// Literal text and secrets, in order.
    pub pieces: Vec<Piece<'a>>,
    /// The scalar's type: a substituted scalar is always a string; an untouched one keeps the
    /// type its text had (YAML 1.2 core schema for plain scalars, JSON types for JSON).
    pub core_type: CoreType,
}

/// A piece of a resolved string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text: borrowed from the document, or owned where sigil wrote it (a shell field's
    /// rewritten script).
    Text(Cow<'a, str>),
    /// The value of [`ResolvedStep::secrets`]`[i]`.
    Secret(usize),
}

/// Whether an emitter writes values or masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    /// Write `***` for every value.
    Mask,
    /// Write the values themselves.
    Reveal,
}

impl<'a> ResolvedScalar<'a> {
    /// A scalar of one literal text.
    pub fn text(text: impl Into<Cow<'a, str>>, core_type: CoreType) -> ResolvedScalar<'a> {
        ResolvedScalar {
            pieces: vec![Piece::Text(text.into())],
            core_type,
        }
    }

    /// The scalar's string, with values written out or masked.
    pub fn render(&self, secrets: &[ResolvedSecret<'_>], render: Render) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Secret(index) => match render {
                    Render::Mask => out.push_str("***"),
                    Render::Reveal => out.push_str(secrets[*index].value.expose_secret()),
                },
            }
        }
        out
    }
}
