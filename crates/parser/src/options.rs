//! Parse options: the reference dialect and the input format.

/// Which delimiters mark a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Dialect {
    /// `<<secrets.NAME>>`, `<<KEY>>`, `<<'<<'>>` (the default).
    #[default]
    Angle,
    /// `{{secrets.NAME}}`, `{{KEY}}`, `{{'{{'}}`; GitHub-style `${{ ... }}` stays text.
    Braces,
}

/// Which syntax the input is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// JSON if the text, after a BOM and whitespace, starts with `{` or `[` and scans as JSON;
    /// YAML otherwise (a YAML flow collection that is not JSON is still read as YAML).
    #[default]
    Auto,
    /// YAML 1.2 (any number of documents).
    Yaml,
    /// JSON (RFC 8259), one document.
    Json,
}

impl Format {
    /// The format a file name implies: `.json` is JSON, `.yml` and `.yaml` are YAML, anything
    /// else is [`Format::Auto`].
    pub fn from_path(path: &std::path::Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("json") => Format::Json,
            Some("yml" | "yaml") => Format::Yaml,
            _ => Format::Auto,
        }
    }
}

/// Options for [`parse`](crate::parse). `ParseOptions::default()` is the angle dialect, format
/// detection and the hardcoded-credential check on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// The reference dialect.
    pub dialect: Dialect,
    /// The input format.
    pub format: Format,
    /// Whether to report literals that look like credentials (SIG202).
    pub credential_check: bool,
}

impl Default for ParseOptions {
    fn default() -> ParseOptions {
        ParseOptions {
            dialect: Dialect::Angle,
            format: Format::Auto,
            credential_check: true,
        }
    }
}

impl ParseOptions {
    /// The defaults.
    pub fn new() -> ParseOptions {
        ParseOptions::default()
    }

    /// Sets the dialect.
    #[must_use]
    pub fn dialect(mut self, dialect: Dialect) -> ParseOptions {
        self.dialect = dialect;
        self
    }

    /// Sets the format.
    #[must_use]
    pub fn format(mut self, format: Format) -> ParseOptions {
        self.format = format;
        self
    }

    /// Turns the hardcoded-credential check (SIG202) on or off.
    #[must_use]
    pub fn credential_check(mut self, on: bool) -> ParseOptions {
        self.credential_check = on;
        self
    }
}
