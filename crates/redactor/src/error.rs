//! The crate's one error type.

/// An error of the redactor; its message never holds a value.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    kind: ErrorKind,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value's name is empty or holds whitespace or control characters.
    #[error("invalid secret name {name:?}: names must be non-empty, without whitespace")]
    InvalidName {
        /// The name, escaped.
        name: String,
    },
}
