//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong in the store.
///
/// Messages are lowercase, name the thing (secret name, version, file) and never contain a secret
/// value. An invalid name is deliberately *not* echoed: a value pasted where a name belongs would
/// otherwise end up on a terminal or in a log.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorKind>);

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    pub(crate) fn backend(context: &'static str, err: impl fmt::Display) -> Error {
        ErrorKind::Backend {
            context,
            message: err.to_string(),
        }
        .into()
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Error {
        ErrorKind::Corrupt {
            message: message.into(),
        }
        .into()
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        ErrorKind::InvalidInput {
            message: message.into(),
        }
        .into()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error(Box::new(kind))
    }
}

/// The kinds of [`Error`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No live secret (or version) matches.
    #[error("{what} not found")]
    NotFound {
        /// The secret or version that was looked for, described without any value.
        what: String,
    },
    /// A conditional write lost against another writer.
    #[error("conflict: {what} is at version {current_version}, not {expected_version}")]
    Conflict {
        /// The secret.
        what: String,
        /// The version the caller expected.
        expected_version: i64,
        /// The version that is current now (0: the secret does not exist).
        current_version: i64,
    },
    /// A secret name that breaks the naming rule. The name itself is not repeated.
    #[error(
        "invalid secret name ({len} bytes): a name starts with a letter or `_`, continues with \
         letters, digits, `_`, `.` or `-` ([A-Za-z_][A-Za-z0-9_.-]*), and is at most 256 bytes"
    )]
    InvalidName {
        /// Length of the rejected name in bytes.
        len: usize,
    },
    /// A ciphertext failed authentication: wrong key, tampered or moved row.
    #[error(
        "decryption failed for {what}: wrong master key, or the stored row was altered or moved"
    )]
    DecryptionFailed {
        /// What failed to decrypt.
        what: String,
    },
    /// The store has not been created.
    #[error("no store at {location}: create one with `sigil init`")]
    StoreMissing {
        /// Where the store was looked for (passwords masked).
        location: String,
    },
    /// `init` or `restore` found an existing store.
    #[error("a store already exists at {location}")]
    StoreExists {
        /// Where (passwords masked).
        location: String,
    },
    /// The key file can be read by group or others.
    #[error(
        "key file {path} is readable by group or others (mode {mode:o}): run `chmod 600 {path}`"
    )]
    KeyFilePermissions {
        /// The key file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// No master key could be found.
    #[error(
        "no master key: set SIGIL_MASTER_KEY or SIGIL_PASSPHRASE, or create {path} with `sigil init`"
    )]
    KeyMissing {
        /// The key file that was looked for.
        path: String,
    },
    /// The master key does not open this store.
    #[error("the master key (key id {given}) does not open this store (key id {expected})")]
    WrongKey {
        /// Id of the key that was supplied.
        given: String,
        /// Id of the key the store was written with.
        expected: String,
    },
    /// The secret's TTL has passed.
    #[error("{what} expired")]
    Expired {
        /// The secret.
        what: String,
    },
    /// A handle's signature does not verify.
    #[error("handle refused: bad signature")]
    HandleBadMac,
    /// A handle was issued for another workspace.
    #[error("handle refused: issued for another workspace")]
    HandleOtherWorkspace,
    /// A handle's lifetime has passed.
    #[error("handle refused: expired")]
    HandleExpired,
    /// A string that is not a handle.
    #[error("handle refused: malformed (expected $secret:v1.<payload>.<mac>)")]
    HandleMalformed,
    /// `restore` into a store that holds data.
    #[error("the target store is not empty: restore only writes into an empty store")]
    NotEmpty,
    /// A `.env` file that does not parse.
    #[error("line {line}: {message}")]
    Dotenv {
        /// 1-based physical line where the problem starts.
        line: usize,
        /// What is wrong (never the line's text).
        message: String,
    },
    /// A caller error in an argument (metadata that is not an object, a bad TTL...).
    #[error("{message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// The stored data is inconsistent (schema from the future, missing metadata).
    #[error("store is corrupt: {message}")]
    Corrupt {
        /// What is inconsistent.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (names the file).
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The database failed.
    #[error("{context}: {message}")]
    Backend {
        /// What was being done.
        context: &'static str,
        /// The database's message (parameters are never part of it).
        message: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
