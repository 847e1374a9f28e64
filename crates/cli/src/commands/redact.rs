//! `sigil redact`: a filter that masks secret values and their encodings.
//!
//! Values come from `--secrets FILE`, `--from-env NAME` (a glob selects every matching
//! variable) and `--from-store` (every live secret of the workspace, each read audited). Input
//! is stdin, or the files given, read as one stream like `cat` would; output goes to stdout as
//! soon as it is safe, so `tail -f log | sigil redact ...` stays live.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use secrecy::SecretString;
use sigil_redactor::{Mask, RedactWriter, Redactor};
use sigil_store::{Access, ErrorKind, ListFilter};

use crate::commands::store::{StoreOptions, actor, block_on};
use crate::exit::Exit;
use crate::secrets_file;

/// Arguments of `sigil redact`.
#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Files to read, in order, as one stream (default: stdin).
    pub files: Vec<PathBuf>,
    /// A file of values to mask: `.env`, a JSON object of name to value, a scoped JSON object,
    /// or a JSON array of values. Repeatable.
    #[arg(long = "secrets", value_name = "FILE")]
    pub secrets: Vec<PathBuf>,
    /// Mask the value of this environment variable; a glob such as '*_TOKEN' selects every
    /// matching variable. Repeatable.
    #[arg(long = "from-env", value_name = "NAME")]
    pub from_env: Vec<String>,
    /// Mask the current value of every live secret of the workspace in the store, in every
    /// scope and environment. Each value read is audited.
    #[arg(long)]
    pub from_store: bool,
    /// With --from-store, mask every version of each secret, not only the current one: a log
    /// written before a rotation holds the old value.
    #[arg(long, requires = "from_store")]
    pub all_versions: bool,
    #[command(flatten)]
    pub store: StoreOptions,
    /// Replace each occurrence with this text.
    #[arg(long, value_name = "TEXT", conflicts_with = "mask_style")]
    pub mask: Option<String>,
    /// `stars` writes `***`, `name` writes `[secrets.NAME]`.
    #[arg(long, value_enum, default_value_t = MaskStyle::Stars)]
    pub mask_style: MaskStyle,
}

/// How occurrences are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaskStyle {
    /// `***`.
    Stars,
    /// `[secrets.NAME]`.
    Name,
}

/// Runs `sigil redact`.
pub fn run(args: RedactArgs) -> Result<Exit> {
    let values = match collect_values(&args) {
        Ok(values) => values,
        Err(err) => {
            eprintln!("error: {err:#}");
            return Ok(Exit::Usage);
        }
    };
    let mask = match (&args.mask, args.mask_style) {
        (Some(text), _) => Mask::Fixed(text.clone()),
        (None, MaskStyle::Stars) => Mask::Stars,
        (None, MaskStyle::Name) => Mask::Name,
    };
    let mut builder = Redactor::builder();
    builder.mask(mask);
    for (name, value) in &values {
        builder.value(name, value);
    }
    let redactor = match builder.build() {
        Ok(redactor) => redactor,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(Exit::Usage);
        }
    };
    let too_short = redactor.too_short();
    if !too_short.is_empty() {
        eprintln!(
            "warning: not masking {}: values shorter than 4 bytes would mask too much and reveal themselves",
            too_short.join(", ")
        );
    }
    if redactor.stats().needles == 0 {
        // Passing everything through silently would look like success.
        eprintln!(
            "error: no values to mask: give --secrets FILE, --from-env NAME or --from-store with non-empty values"
        );
        return Ok(Exit::Usage);
    }

    let mut inputs: Vec<Box<dyn Read>> = Vec::new();
    if args.files.is_empty() {
        inputs.push(Box::new(std::io::stdin().lock()));
    }
    for path in &args.files {
        match std::fs::File::open(path) {
            Ok(file) => inputs.push(Box::new(file)),
            Err(err) => {
                eprintln!("error: cannot open {}: {err}", path.display());
                return Ok(Exit::Usage);
            }
        }
    }
    let stdout = std::io::stdout();
    let mut writer = RedactWriter::new(&redactor, stdout.lock());
    let mut buffer = vec![0u8; 64 * 1024];
    for (index, mut input) in inputs.into_iter().enumerate() {
        loop {
            let n = match input.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err).with_context(|| input_name(&args.files, index)),
            };
            writer
                .write_all(&buffer[..n])
                .context("cannot write to stdout")?;
            // Release what is safe now: a live log must not wait for the next chunk.
            writer.flush().context("cannot write to stdout")?;
        }
    }
    let mut stdout = writer.finish().context("cannot write to stdout")?;
    stdout.flush().context("cannot write to stdout")?;
    Ok(Exit::Ok)
}

fn input_name(files: &[PathBuf], index: usize) -> String {
    match files.get(index) {
        Some(path) => format!("cannot read {}", path.display()),
        None => "cannot read stdin".to_owned(),
    }
}

/// Every (name, value) from the secrets files and the environment.
fn collect_values(args: &RedactArgs) -> Result<Vec<(String, SecretString)>> {
    let mut values = Vec::new();
    for path in &args.secrets {
        for secret in secrets_file::load(path)? {
            values.push((secret.name, secret.value));
        }
    }
    for pattern in &args.from_env {
        if !pattern.contains(['*', '?']) {
            let value = std::env::var_os(pattern)
                .with_context(|| format!("environment variable {pattern} is not set"))?;
            let value = value
                .into_string()
                .map_err(|_| anyhow::anyhow!("environment variable {pattern} is not UTF-8"))?;
            values.push((pattern.clone(), SecretString::from(value)));
            continue;
        }
        let glob = glob_regex(pattern)?;
        let mut names: Vec<(String, SecretString)> = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str() else { continue };
            if !glob.is_match(name) {
                continue;
            }
            match value.into_string() {
                Ok(value) => names.push((name.to_owned(), SecretString::from(value))),
                Err(_) => eprintln!("warning: skipping {name}: its value is not UTF-8"),
            }
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        values.extend(names);
    }
    if args.from_store {
        values.extend(block_on(store_values(&args.store, args.all_versions))?);
    }
    Ok(values)
}

/// Every live secret of the workspace: its current value, or with `all_versions` the value of
/// each of its versions. Each read writes an `access` audit record. An expired secret is not
/// decrypted (the store refuses); it is named in a warning instead.
async fn store_values(
    options: &StoreOptions,
    all_versions: bool,
) -> Result<Vec<(String, SecretString)>> {
    let store = options.open().await?;
    let actor = actor();
    let access = Access::default();
    let mut values = Vec::new();
    for meta in store
        .list(&options.workspace, &ListFilter::default())
        .await?
    {
        let name = meta.key.name.as_str().to_owned();
        let versions = if all_versions {
            let history = store.history(&meta.key).await?;
            history.iter().map(|v| Some(v.version)).collect()
        } else {
            vec![None]
        };
        for version in versions {
            match store.reveal(&actor, &meta.key, &access, version).await {
                Ok((_, value)) => values.push((name.clone(), value)),
                Err(err) if matches!(err.kind(), ErrorKind::Expired { .. }) => {
                    eprintln!("warning: not masking {}: it has expired", meta.key);
                    break;
                }
                Err(err) => return Err(err).with_context(|| format!("cannot read {}", meta.key)),
            }
        }
    }
    Ok(values)
}

/// A shell-style glob (`*` any run, `?` one character) as an anchored regex.
fn glob_regex(pattern: &str) -> Result<regex::Regex> {
    let mut source = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => source.push_str(".*"),
            '?' => source.push('.'),
            c => source.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    source.push('$');
    regex::Regex::new(&source).with_context(|| format!("invalid pattern {pattern}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, name: &str, expected: bool) {
        assert_eq!(
            glob_regex(pattern).unwrap().is_match(name),
            expected,
            "{pattern} ~ {name}"
        );
    }

    #[test]
    fn globs() {
        check("*_TOKEN", "GITHUB_TOKEN", true);
        check("*_TOKEN", "GITHUB_TOKEN_OLD", false);
        check("*_TOKEN", "_TOKEN", true);
        check("AWS_*", "AWS_SECRET_ACCESS_KEY", true);
        check("A?C", "ABC", true);
        check("A?C", "AC", false);
        check("A.C*", "ABC", false);
        check("A.C*", "A.CD", true);
    }
}
