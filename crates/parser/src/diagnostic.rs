//! Diagnostics: plain data, rendered at the edge (the `sigil check` renderers).

use serde::Serialize;

use crate::Span;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// The config cannot be used as it is; `sigil check` exits with 1.
    Error,
    /// Worth a look; `sigil check` still exits with 0.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = ($code:literal, $name:literal, $severity:ident, $summary:literal), )*) => {
        /// A stable diagnostic code: the table in DESIGN.md section 2 and in the README.
        ///
        /// SIG0xx are found by the parser, SIG1xx by resolution (the resolver and `sigil check
        /// --secrets`), SIG2xx are warnings.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as written in output: `"SIG101"`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// The kebab-case name: `"unknown-secret"`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The severity a diagnostic with this code has unless its creator says otherwise.
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$severity,)* }
            }

            /// One sentence saying when the code is reported (the README table's last column).
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }
        }
    };
}

codes! {
    /// The YAML or JSON itself is malformed (or the file is not UTF-8, or cannot be read).
    Syntax = ("SIG001", "syntax", Error, "the YAML or JSON itself is malformed"),
    /// `<<secrets.>>`, `<< secrets.x >>`, a bad name or scope.
    MalformedReference = ("SIG002", "malformed-reference", Error, "a reference that is not well formed: empty or bad name, unknown scope, spaces inside"),
    /// `<<secrets.x` with no `>>`.
    UnterminatedReference = ("SIG003", "unterminated-reference", Error, "a reference with no closing delimiter"),
    /// A reference inside a mapping key.
    ReferenceInKey = ("SIG004", "reference-in-key", Error, "a reference in a mapping key"),
    /// The same key twice in one mapping.
    DuplicateKey = ("SIG005", "duplicate-key", Error, "the same key twice in one mapping"),
    /// A `$secret:` scalar that is not a valid handle.
    MalformedHandle = ("SIG006", "malformed-handle", Error, "a value starting with `$secret:` that is not a valid handle"),
    /// No secret of that name in any scope visible to the run.
    UnknownSecret = ("SIG101", "unknown-secret", Error, "no secret of that name in any scope visible to this run"),
    /// The pinned scope does not exist in this run (a personal secret in a schedule).
    ScopeUnavailable = ("SIG102", "scope-unavailable", Error, "the scope is not available in this run"),
    /// The secret's TTL or the handle's lifetime has passed.
    Expired = ("SIG103", "expired", Error, "the secret's TTL or the handle's lifetime has passed"),
    /// A handle whose signature, scope or workspace does not match.
    InvalidHandle = ("SIG104", "invalid-handle", Error, "a handle whose signature, scope or workspace does not match"),
    /// The policy does not allow a secret at this JSON pointer.
    ForbiddenLocation = ("SIG105", "forbidden-location", Error, "the policy does not allow a secret at this location"),
    /// A reference where the shell would not expand a variable.
    UnsafeShellContext = ("SIG106", "unsafe-shell-context", Error, "a reference where the shell would not expand a variable"),
    /// `<<WORD>>` that could be a heredoc or a reference.
    AmbiguousHeredoc = ("SIG201", "ambiguous-heredoc", Warning, "`<<WORD>>` that could be a heredoc or a reference"),
    /// A literal that looks like a credential.
    HardcodedCredential = ("SIG202", "hardcoded-credential", Warning, "a literal value that looks like a credential"),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One problem found in a config. Never holds a secret value.
///
/// Build one with [`Diagnostic::new`] and the `with_*` methods:
///
/// ```
/// use sigil_parser::{Code, Diagnostic, Severity, Span};
///
/// let diagnostic = Diagnostic::new(Code::UnknownSecret, "unknown secret `db_password`", Span::default())
///     .with_pointer("/steps/0/env/DB")
///     .with_document(0)
///     .with_help("add it with `sigil secrets set db_password`");
/// assert_eq!(diagnostic.severity, Severity::Error);
/// assert_eq!(diagnostic.code.name(), "unknown-secret");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// Error or warning (the code's default unless changed).
    pub severity: Severity,
    /// Lowercase, no trailing period, never a secret value.
    pub message: String,
    /// The primary location.
    pub span: Span,
    /// JSON pointer of the value concerned, when there is one.
    pub pointer: Option<String>,
    /// Index of the document in a multi-document file, when known.
    pub document: Option<usize>,
    /// Extra facts (for example where a duplicate key was first defined).
    pub notes: Vec<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity and no pointer, document, notes or help.
    pub fn new(code: Code, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span,
            pointer: None,
            document: None,
            notes: Vec::new(),
            help: None,
        }
    }

    /// Sets the JSON pointer.
    #[must_use]
    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Diagnostic {
        self.pointer = Some(pointer.into());
        self
    }

    /// Sets the document index.
    #[must_use]
    pub fn with_document(mut self, document: usize) -> Diagnostic {
        self.document = Some(document);
        self
    }

    /// Adds a note.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Sets the help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Overrides the severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Diagnostic {
        self.severity = severity;
        self
    }

    /// Whether this diagnostic is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: Code, expected: (&str, &str, Severity)) {
        assert_eq!(
            (code.as_str(), code.name(), code.default_severity()),
            expected
        );
    }

    #[test]
    fn table() {
        check(Code::Syntax, ("SIG001", "syntax", Severity::Error));
        check(
            Code::MalformedHandle,
            ("SIG006", "malformed-handle", Severity::Error),
        );
        check(
            Code::UnknownSecret,
            ("SIG101", "unknown-secret", Severity::Error),
        );
        check(
            Code::UnsafeShellContext,
            ("SIG106", "unsafe-shell-context", Severity::Error),
        );
        check(
            Code::AmbiguousHeredoc,
            ("SIG201", "ambiguous-heredoc", Severity::Warning),
        );
        check(
            Code::HardcodedCredential,
            ("SIG202", "hardcoded-credential", Severity::Warning),
        );
        assert_eq!(Code::ALL.len(), 14);
    }
}
