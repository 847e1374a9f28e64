//! Secrets files given with `--secrets FILE`: a `.env` file or a JSON file.
//!
//! Accepted shapes, chosen by content:
//! - `.env` (anything that is not JSON): the dialect of the `dotenvy` crate; every entry is a
//!   workspace secret for all environments.
//! - a JSON object of name to string: workspace secrets for all environments;
//! - a scoped JSON object whose keys are `workspace`, `pipeline` or `personal`, optionally with
//!   `@ENVIRONMENT` (`"workspace@production": {...}`), each holding an object of name to string;
//! - a JSON array of strings: values without names (for `sigil redact`); each is named by its
//!   index.
//!
//! Errors name the file and the line, never a value.

use std::path::Path;

use anyhow::{Context, Result, bail};
use secrecy::SecretString;

/// One secret read from a file. The value is only reachable through `expose_secret()`.
#[derive(Debug)]
pub struct FileSecret {
    /// The secret's name (for a JSON array, its index).
    pub name: String,
    /// `workspace`, `pipeline` or `personal`.
    pub scope: String,
    /// The environment this value is for; `None` means every environment.
    pub environment: Option<String>,
    /// The value.
    pub value: SecretString,
}

/// Reads a secrets file, choosing `.env` or JSON by its first non-blank byte.
pub fn load(path: &Path) -> Result<Vec<FileSecret>> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read secrets file {}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("secrets file {} is not UTF-8", path.display()))?;
    let text = SecretString::from(text);
    let trimmed = secrecy::ExposeSecret::expose_secret(&text).trim_start_matches('\u{feff}');
    match trimmed.trim_start().as_bytes().first() {
        Some(b'{') | Some(b'[') => load_json(path, trimmed),
        _ => load_dotenv(path, trimmed),
    }
}

fn load_dotenv(path: &Path, text: &str) -> Result<Vec<FileSecret>> {
    let mut secrets = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((name, value)) => secrets.push(FileSecret {
                name,
                scope: "workspace".to_owned(),
                environment: None,
                value: SecretString::from(value),
            }),
            Err(dotenvy::Error::LineParse(line, _)) => {
                // The offending line may hold a value: report where it is, never what it says.
                let line_number = text
                    .find(line.as_str())
                    .map(|offset| text[..offset].matches('\n').count() + 1);
                match line_number {
                    Some(n) => bail!("{}:{n}: malformed .env line", path.display()),
                    None => bail!("{}: malformed .env line", path.display()),
                }
            }
            Err(_) => bail!("{}: malformed .env file", path.display()),
        }
    }
    Ok(secrets)
}

fn load_json(path: &Path, text: &str) -> Result<Vec<FileSecret>> {
    use serde_json::Value;
    // serde_json's error messages quote no input, only line and column.
    let value: Value = serde_json::from_str(text)
        .map_err(|err| anyhow::anyhow!("{}: invalid JSON: {err}", path.display()))?;
    let mut secrets = Vec::new();
    match value {
        Value::Array(items) => {
            for (index, item) in items.into_iter().enumerate() {
                let Value::String(value) = item else {
                    bail!("{}: entry {index} is not a string", path.display());
                };
                secrets.push(FileSecret {
                    name: index.to_string(),
                    scope: "workspace".to_owned(),
                    environment: None,
                    value: SecretString::from(value),
                });
            }
        }
        Value::Object(map) => {
            let scoped = !map.is_empty()
                && map
                    .iter()
                    .all(|(key, value)| value.is_object() && parse_scope_key(key).is_some());
            for (key, value) in map {
                if scoped {
                    let (scope, environment) = parse_scope_key(&key).expect("checked above");
                    let Value::Object(entries) = value else {
                        unreachable!("checked above")
                    };
                    for (name, value) in entries {
                        secrets.push(json_secret(path, name, scope, environment.clone(), value)?);
                    }
                } else {
                    secrets.push(json_secret(path, key, "workspace", None, value)?);
                }
            }
        }
        _ => bail!(
            "{}: expected a JSON object of name to value, a scoped object, or an array of strings",
            path.display()
        ),
    }
    Ok(secrets)
}

fn json_secret(
    path: &Path,
    name: String,
    scope: &str,
    environment: Option<String>,
    value: serde_json::Value,
) -> Result<FileSecret> {
    let serde_json::Value::String(value) = value else {
        bail!("{}: the value of {name} is not a string", path.display());
    };
    Ok(FileSecret {
        name,
        scope: scope.to_owned(),
        environment,
        value: SecretString::from(value),
    })
}

/// `workspace`, `pipeline@staging`, ... into (scope, environment).
fn parse_scope_key(key: &str) -> Option<(&'static str, Option<String>)> {
    let (scope, environment) = match key.split_once('@') {
        Some((scope, env)) if !env.is_empty() => (scope, Some(env.to_owned())),
        Some(_) => return None,
        None => (key, None),
    };
    let scope = match scope {
        "workspace" => "workspace",
        "pipeline" => "pipeline",
        "personal" => "personal",
        _ => return None,
    };
    Some((scope, environment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn load_text(name: &str, text: &str) -> Result<Vec<FileSecret>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load(&path)
    }

    fn summary(secrets: &[FileSecret]) -> Vec<String> {
        secrets
            .iter()
            .map(|s| {
                let env = s.environment.as_deref().unwrap_or("*");
                format!("{}/{}@{}={}", s.scope, s.name, env, s.value.expose_secret())
            })
            .collect()
    }

    #[test]
    fn dotenv_file() {
        let secrets = load_text("s.env", "# c\nexport A=1\nB='x y'\nC=\"l1\nl2\"\n").unwrap();
        assert_eq!(
            summary(&secrets),
            [
                "workspace/A@*=1",
                "workspace/B@*=x y",
                "workspace/C@*=l1\nl2"
            ]
        );
    }

    #[test]
    fn dotenv_error_names_line_not_value() {
        let err = load_text("s.env", "A=1\nB='hunter2-secret\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2: malformed"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn json_flat_scoped_and_array() {
        let flat = load_text("s.json", r#"{"A": "1", "B": "two"}"#).unwrap();
        assert_eq!(summary(&flat), ["workspace/A@*=1", "workspace/B@*=two"]);
        let scoped = load_text(
            "s.json",
            r#"{"pipeline": {"A": "p"}, "workspace@production": {"A": "w"}}"#,
        )
        .unwrap();
        assert_eq!(
            summary(&scoped),
            ["pipeline/A@*=p", "workspace/A@production=w"]
        );
        let array = load_text("s.json", r#"["v1", "v2"]"#).unwrap();
        assert_eq!(summary(&array), ["workspace/0@*=v1", "workspace/1@*=v2"]);
    }

    #[test]
    fn json_errors_quote_no_value() {
        let err = load_text("s.json", r#"{"A": 12345678}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("value of A is not a string"), "{err}");
        assert!(!err.contains("12345678"), "{err}");
    }
}
