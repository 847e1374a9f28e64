//! `.env` interchange: dotenvy's dialect in, and out again byte for byte.
//!
//! The dialect is dotenvy's: `export` prefix, `#` comments (a `#` inside an unquoted value is
//! part of the value unless whitespace precedes it), single quotes literal, double quotes with
//! `\\ \" \' \$ \n` escapes and `$VAR`/`${VAR}` substitution from earlier lines, multi-line
//! quoted values. A UTF-8 byte order mark is skipped; CRLF line ends are accepted; when a key
//! repeats, the last value wins and the name is reported.

use secrecy::{ExposeSecret, SecretString};

use crate::error::{ErrorKind, Result};
use crate::model::SecretName;

/// The entries of a `.env` text.
#[derive(Debug, Default)]
pub struct DotenvEntries {
    /// Names and values, in first-appearance order; the last value of a repeated key wins.
    pub entries: Vec<(SecretName, SecretString)>,
    /// Names that appeared more than once.
    pub duplicates: Vec<SecretName>,
}

fn parse_all(text: &str) -> std::result::Result<Vec<(String, String)>, (String, usize)> {
    let mut out = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(pair) => out.push(pair),
            Err(dotenvy::Error::LineParse(line, index)) => return Err((line, index)),
            Err(_) => return Err((String::new(), 0)),
        }
    }
    Ok(out)
}

/// Parses `.env` text.
///
/// # Errors
/// [`ErrorKind::Dotenv`] naming the physical line where the problem starts (never the line's
/// text, which may hold a value); [`ErrorKind::InvalidName`] for a key that is not a valid name.
pub fn parse_dotenv(text: &str) -> Result<DotenvEntries> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let pairs = match parse_all(text) {
        Ok(pairs) => pairs,
        Err(_) => return Err(locate_error(text)),
    };
    let mut result = DotenvEntries::default();
    for (key, value) in pairs {
        let name = SecretName::new(&key)?;
        let value = SecretString::from(value);
        match result.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                if !result.duplicates.contains(&name) {
                    result.duplicates.push(name);
                }
            }
            None => result.entries.push((name, value)),
        }
    }
    Ok(result)
}

/// Finds the first physical line whose prefix of the file fails to parse: that is where an
/// unterminated quote opens or where a bad line is.
fn locate_error(text: &str) -> crate::Error {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let prefix = |n: usize| lines[..n].concat();
    let (mut lo, mut hi) = (1, lines.len().max(1));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if parse_all(&prefix(mid)).is_err() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let line = lo;
    let own = lines.get(line - 1).copied().unwrap_or("");
    let message = match parse_all(own) {
        Err((logical, index)) if index < logical.chars().count() => {
            format!("invalid syntax at column {}", index + 1)
        }
        _ => "unterminated quoted value (it runs to the end of the file)".to_owned(),
    };
    ErrorKind::Dotenv { line, message }.into()
}

/// Renders entries so that [`parse_dotenv`] reads them back byte for byte.
///
/// Plain values (letters, digits and `_-./:@+,%`) are written bare; values without `'` that do
/// not end in `\` are single-quoted (literal in this dialect); others are double-quoted with
/// `\\`, `\"` and `\$` escaped and newlines written as `\n`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for a name the dialect cannot write (dotenvy keys have no `-`).
pub fn render_dotenv(entries: &[(SecretName, SecretString)]) -> Result<String> {
    let mut out = String::new();
    for (name, value) in entries {
        if name.as_str().contains('-') {
            return Err(crate::Error::invalid(format!(
                "`{name}` cannot be written to a .env file: the dialect allows no `-` in names"
            )));
        }
        let value = value.expose_secret();
        out.push_str(name.as_str());
        out.push('=');
        if !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./:@+,%".contains(c))
        {
            out.push_str(value);
        } else if !value.contains('\'') && !value.ends_with('\\') {
            out.push('\'');
            out.push_str(value);
            out.push('\'');
        } else {
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '$' => out.push_str("\\$"),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push('\n');
    }
    Ok(out)
}
