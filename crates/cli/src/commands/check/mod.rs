//! `sigil check`: validate configs and report every problem at once.
//!
//! Files are parsed in parallel while the directories are still being walked (one thread per
//! core taking the next file found; output order is the order of the paths); the diagnostics are
//! then rendered in one of four formats.

mod github;
mod human;
mod json;
mod sarif;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use sigil_parser::{
    Code, Diagnostic, Dialect, Format, ParseOptions, Parsed, Span, diagnostics_bytes, parse_bytes,
};

use crate::exit::Exit;

/// Arguments of `sigil check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (directories: every *.yml, *.yaml, *.json below).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Reference syntax: `angle` for <<secrets.NAME>>, `braces` for {{secrets.NAME}}.
    #[arg(long, value_enum, default_value_t = DialectArg::Angle)]
    pub dialect: DialectArg,
    /// Check references against a secrets file (`--secrets FILE`) or a store (`--store URL`, or
    /// `SIGIL_STORE`): unknown names (SIG101), unavailable scopes (SIG102), expired secrets
    /// (SIG103) and unsafe shell contexts (SIG106), for every step. No value is read.
    #[command(flatten)]
    pub source: crate::context::SourceArgs,
    #[command(flatten)]
    pub context: crate::context::ContextArgs,
}

/// How diagnostics are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// `file:line:col: message [SIGxxx]` with the source line and a caret.
    Human,
    /// One JSON object (the stable contract documented in the README).
    Json,
    /// GitHub Actions workflow commands (`::error file=...::message`).
    Github,
    /// SARIF 2.1.0.
    Sarif,
}

/// The reference syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// `<<secrets.NAME>>`, `<<KEY>>`.
    Angle,
    /// `{{secrets.NAME}}`, `{{KEY}}`.
    Braces,
}

/// The diagnostics of one file, with its text for caret snippets.
#[derive(Debug)]
pub(crate) struct FileReport {
    /// The path as given or found below a given directory.
    pub path: String,
    /// The file's text when it could be read as UTF-8.
    pub source: Option<String>,
    /// Sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Everything the renderers need.
#[derive(Debug)]
pub(crate) struct Report {
    pub files_checked: usize,
    pub files: Vec<FileReport>,
}

impl Report {
    fn count(&self, error: bool) -> usize {
        self.files
            .iter()
            .flat_map(|f| &f.diagnostics)
            .filter(|d| d.is_error() == error)
            .count()
    }
}

/// Runs `sigil check`.
pub fn run(args: CheckArgs) -> Result<Exit> {
    let validation = match Validation::open(&args) {
        Ok(validation) => validation,
        Err(err) => {
            eprintln!("error: {err:#}");
            return Ok(Exit::Usage);
        }
    };
    let dialect = match args.dialect {
        DialectArg::Angle => Dialect::Angle,
        DialectArg::Braces => Dialect::Braces,
    };
    let options = ParseOptions::default().dialect(dialect);
    let (files, missing) = check_paths(&args.paths, &options, validation.as_ref())?;
    for path in &missing {
        eprintln!("error: {}: no such file or directory", path.display());
    }
    let report = Report {
        files_checked: files.len(),
        files,
    };

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        OutputFormat::Human => human::render(&report, &mut out, human::use_colour())?,
        OutputFormat::Json => json::render(&report, &mut out)?,
        OutputFormat::Github => github::render(&report, &mut out)?,
        OutputFormat::Sarif => sarif::render(&report, &mut out)?,
    }
    out.flush().context("cannot write to stdout")?;
    if args.format == OutputFormat::Human {
        human::summary(&report);
    }

    Ok(if !missing.is_empty() {
        Exit::Usage
    } else if report.count(true) > 0 {
        Exit::Findings
    } else {
        Exit::Ok
    })
}

/// Finds the files to check and hands each one to `found` as soon as it is found: given files as
/// they are, directories walked for `*.yml`, `*.yaml`, `*.json` (sorted). A directory that
/// cannot be read becomes an entry too, so its error is reported. Returns the paths that do not
/// exist.
fn walk_files(paths: &[PathBuf], mut found: impl FnMut(PathBuf)) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = walkdir::WalkDir::new(path).sort_by_file_name().into_iter();
            for entry in entries {
                match entry {
                    Ok(entry) => {
                        // Symlinked directories are not followed, but a symlinked config file
                        // is checked (and a dangling one reported).
                        let file_like = entry.file_type().is_file()
                            || (entry.path_is_symlink() && !entry.path().is_dir());
                        if file_like && is_config(entry.path()) {
                            found(entry.into_path());
                        }
                    }
                    // An unreadable directory: keep its path so the read error is reported.
                    Err(err) => {
                        if let Some(path) = err.path() {
                            found(path.to_path_buf());
                        }
                    }
                }
            }
        } else if path.exists() || path.symlink_metadata().is_ok() {
            found(path.clone());
        } else {
            missing.push(path.clone());
        }
    }
    missing
}

fn is_config(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("yml" | "yaml" | "json")
    )
}

/// Walks `paths` and checks every file found, in the order found; also returns the paths that
/// do not exist.
///
/// A few named files are checked on this thread. Otherwise one worker per core checks files
/// while this thread is still walking (the walk is mostly system calls, so it overlaps well
/// with parsing); each worker takes the next file as it becomes free, since files differ a lot
/// in size.
fn check_paths(
    paths: &[PathBuf],
    options: &ParseOptions,
    validation: Option<&Validation>,
) -> Result<(Vec<FileReport>, Vec<PathBuf>)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let few_files = paths.len() < 16 && !paths.iter().any(|path| path.is_dir());
    if threads == 1 || few_files {
        let mut files = Vec::new();
        let missing = walk_files(paths, |path| files.push(path));
        let reports = files
            .iter()
            .map(|path| check_file(path, options, validation))
            .collect::<Result<_>>()?;
        return Ok((reports, missing));
    }
    let (sender, receiver) = std::sync::mpsc::channel::<(usize, PathBuf)>();
    let receiver = Mutex::new(receiver);
    let (mut results, missing) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        // The lock is held only to take one path; a poisoned lock still holds
                        // a valid receiver.
                        let next = receiver
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .recv();
                        let Ok((index, path)) = next else { break };
                        done.push((index, check_file(&path, options, validation)?));
                    }
                    Ok::<_, anyhow::Error>(done)
                })
            })
            .collect();
        let mut index = 0;
        let missing = walk_files(paths, |path| {
            // The workers outlive the walk, so the channel is open.
            let _ = sender.send((index, path));
            index += 1;
        });
        drop(sender);
        let mut results = Vec::with_capacity(index);
        for worker in workers {
            match worker.join() {
                Ok(done) => results.extend(done?),
                Err(_) => anyhow::bail!("a checking thread failed"),
            }
        }
        Ok((results, missing))
    })?;
    results.sort_unstable_by_key(|(index, _)| *index);
    let reports = results.into_iter().map(|(_, report)| report).collect();
    Ok((reports, missing))
}

fn check_file(
    path: &Path,
    options: &ParseOptions,
    validation: Option<&Validation>,
) -> Result<FileReport> {
    let display = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            let span = Span {
                byte_range: 0..0,
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
            };
            let diagnostic = Diagnostic::new(
                Code::Syntax,
                format!("cannot read the file: {}", io_reason(&err)),
                span,
            );
            return Ok(FileReport {
                path: display,
                source: None,
                diagnostics: vec![diagnostic],
            });
        }
    };
    let options = options.clone().format(Format::from_path(path));
    let diagnostics = match validation {
        Some(validation) => {
            let Parsed {
                documents,
                mut diagnostics,
            } = parse_bytes(&bytes, &options);
            validation.check(&documents, &mut diagnostics)?;
            diagnostics
        }
        // Without a source to validate against, no document tree is needed.
        None => diagnostics_bytes(&bytes, &options),
    };
    // The text is kept only for the caret snippets of files with something to show.
    let source = if diagnostics.is_empty() {
        None
    } else {
        String::from_utf8(bytes).ok()
    };
    Ok(FileReport {
        path: display,
        source,
        diagnostics,
    })
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => err.to_string().to_lowercase(),
    }
}

/// References checked against a source, without reading any value.
struct Validation {
    runtime: tokio::runtime::Runtime,
    opened: crate::context::OpenedSource,
    context: sigil::resolver::RunContext,
    policy: sigil::resolver::Policy,
}

impl Validation {
    /// A validation when the command names a source (`--secrets` or `--store`), else none.
    fn open(args: &CheckArgs) -> Result<Option<Validation>> {
        if args.source.secrets.is_none() && args.source.store.store.is_none() {
            return Ok(None);
        }
        let runtime = crate::context::runtime()?;
        let opened = runtime.block_on(args.source.open(false))?;
        let context = args.context.context(&args.source.store.workspace);
        Ok(Some(Validation {
            runtime,
            opened,
            context,
            policy: args.context.policy(),
        }))
    }

    /// Adds the resolution problems of every document, each reported once (a reference inside an
    /// anchored value appears once per alias).
    fn check(
        &self,
        documents: &[sigil_parser::Document],
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Result<()> {
        let source = self.opened.source();
        let policy = &self.policy;
        let mut seen: HashSet<(Code, usize)> = diagnostics
            .iter()
            .map(|d| (d.code, d.span.byte_range.start))
            .collect();
        for document in documents {
            let found = self.runtime.block_on(sigil::resolver::validate(
                document,
                &self.context,
                &source,
                policy,
            ))?;
            for diagnostic in found {
                if seen.insert((diagnostic.code, diagnostic.span.byte_range.start)) {
                    diagnostics.push(diagnostic);
                }
            }
        }
        diagnostics.sort_by_key(|d| (d.span.byte_range.start, d.code));
        Ok(())
    }
}

impl From<DialectArg> for Dialect {
    fn from(dialect: DialectArg) -> Dialect {
        match dialect {
            DialectArg::Angle => Dialect::Angle,
            DialectArg::Braces => Dialect::Braces,
        }
    }
}

/// Writes one file's diagnostics to stderr in the human format (for `resolve` and `run`, whose
/// stdout carries data).
pub(crate) fn eprint_human(path: &str, source: &str, diagnostics: &[Diagnostic]) -> Result<()> {
    if diagnostics.is_empty() {
        return Ok(());
    }
    let report = single_file_report(path, source, diagnostics);
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    human::render(&report, &mut std::io::stderr().lock(), colour)?;
    Ok(())
}

/// One file's diagnostics as the `diagnostics` array of the JSON contract.
pub(crate) fn json_entries(path: &str, diagnostics: &[Diagnostic]) -> serde_json::Value {
    let report = single_file_report(path, "", diagnostics);
    let mut rendered = Vec::new();
    if json::render(&report, &mut rendered).is_err() {
        return serde_json::Value::Array(Vec::new());
    }
    serde_json::from_slice::<serde_json::Value>(&rendered)
        .ok()
        .and_then(|mut value| value.get_mut("diagnostics").map(serde_json::Value::take))
        .unwrap_or_default()
}

fn single_file_report(path: &str, source: &str, diagnostics: &[Diagnostic]) -> Report {
    Report {
        files_checked: 1,
        files: vec![FileReport {
            path: path.to_owned(),
            source: Some(source.to_owned()),
            diagnostics: diagnostics.to_vec(),
        }],
    }
}
