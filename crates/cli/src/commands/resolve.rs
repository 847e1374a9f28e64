//! `sigil resolve` (what a config or one step becomes in a run) and `sigil explain` (which scope
//! and environment a name resolves from, and why).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde_json::json;
use sigil::parser::{Diagnostic, ParseOptions, Scope, parse_bytes};
use sigil::resolver::{
    Render, ResolveError, ResolvedStep, preview_step, resolve_step, to_json, to_yaml,
};

use crate::commands::check::{DialectArg, eprint_human, json_entries};
use crate::context::{ContextArgs, SourceArgs, runtime};
use crate::exit::Exit;

/// Arguments of `sigil resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The config to resolve.
    pub config: PathBuf,
    /// Resolve only the step at this JSON pointer (for example `/steps/0`).
    #[arg(long, value_name = "POINTER")]
    pub step: Option<String>,
    /// Print the values instead of `***` (audited when the source is the store).
    #[arg(long)]
    pub reveal: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ResolveFormat::Yaml)]
    pub format: ResolveFormat,
    /// Reference syntax.
    #[arg(long, value_enum, default_value_t = DialectArg::Angle)]
    pub dialect: DialectArg,
    #[command(flatten)]
    pub context: ContextArgs,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `sigil resolve --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResolveFormat {
    /// The resolved documents as YAML.
    Yaml,
    /// `{"documents": [...], "diagnostics": [...]}`.
    Json,
}

/// Runs `sigil resolve`.
pub fn resolve(args: ResolveArgs) -> Result<Exit> {
    let path = args.config.display().to_string();
    let bytes = std::fs::read(&args.config).with_context(|| format!("cannot read {path}"))?;
    let options = ParseOptions::default().dialect(args.dialect.into());
    let parsed = parse_bytes(&bytes, &options);
    let text = String::from_utf8_lossy(&bytes);
    let mut diagnostics: Vec<Diagnostic> = parsed.diagnostics.clone();
    let mut steps: Vec<ResolvedStep> = Vec::new();

    if !parsed.has_errors() {
        let runtime = runtime()?;
        let opened = runtime.block_on(args.source.open(false))?;
        let source = opened.source();
        let context = args.context.context(&args.source.store.workspace);
        let policy = args.context.policy();
        let pointer = args.step.as_deref().unwrap_or("");
        for document in &parsed.documents {
            if document.get(pointer).is_none() {
                continue;
            }
            let result = runtime.block_on(async {
                match args.reveal {
                    true => resolve_step(document, pointer, &context, &source, &policy).await,
                    false => preview_step(document, pointer, &context, &source, &policy).await,
                }
            });
            match result {
                Ok(step) => steps.push(step),
                Err(ResolveError::Diagnostics(found)) => diagnostics.extend(found),
                Err(other) => return Err(other).context(format!("cannot resolve {path}")),
            }
        }
        if steps.is_empty() && !diagnostics.iter().any(Diagnostic::is_error) {
            eprintln!("error: {path}: no node at pointer {pointer:?}");
            return Ok(Exit::Usage);
        }
    }

    let failed = diagnostics.iter().any(Diagnostic::is_error);
    let render = if args.reveal {
        Render::Reveal
    } else {
        Render::Mask
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ResolveFormat::Json => {
            let documents: Vec<_> = match failed {
                true => Vec::new(),
                false => steps
                    .iter()
                    .map(|s| to_json(&s.node, &s.secrets, render))
                    .collect(),
            };
            let output =
                json!({ "documents": documents, "diagnostics": json_entries(&path, &diagnostics) });
            serde_json::to_writer_pretty(&mut out, &output)?;
            writeln!(out)?;
        }
        ResolveFormat::Yaml => {
            eprint_human(&path, &text, &diagnostics)?;
            if !failed {
                for (i, step) in steps.iter().enumerate() {
                    if i > 0 || steps.len() > 1 {
                        writeln!(out, "---")?;
                    }
                    out.write_all(to_yaml(&step.node, &step.secrets, render).as_bytes())?;
                }
            }
        }
    }
    out.flush()?;
    Ok(if failed { Exit::Findings } else { Exit::Ok })
}

/// Arguments of `sigil explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The secret name.
    pub name: String,
    /// Look only in this scope, as `<<secrets.NAME@SCOPE>>` does.
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    #[command(flatten)]
    pub context: ContextArgs,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// A scope as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// Shared by the workspace.
    Workspace,
    /// One pipeline.
    Pipeline,
    /// One user.
    Personal,
}

/// `sigil explain --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// Lines for people.
    Text,
    /// One JSON object.
    Json,
}

/// Runs `sigil explain`.
pub fn explain(args: ExplainArgs) -> Result<Exit> {
    let runtime = runtime()?;
    let opened = runtime.block_on(args.source.open(false))?;
    let source = opened.source();
    let context = args.context.context(&args.source.store.workspace);
    let pinned = args.scope.map(|scope| match scope {
        ScopeArg::Workspace => Scope::Workspace,
        ScopeArg::Pipeline => Scope::Pipeline,
        ScopeArg::Personal => Scope::Personal,
    });
    let explanation = runtime.block_on(sigil::resolver::explain(
        &args.name,
        pinned,
        &context,
        &source,
        &args.context.policy(),
    ))?;
    let describe = |slot: &sigil::resolver::Slot| {
        let owner = slot
            .owner
            .as_deref()
            .map(|o| format!(" {o}"))
            .unwrap_or_default();
        let environment = slot.environment.as_deref().unwrap_or("all environments");
        format!("{}{owner} ({environment})", slot.scope.as_str())
    };
    let winner = explanation.winner.map(|i| &explanation.slots[i]);
    let decided = match winner {
        Some((_, Some(found))) if found.expired => "expired",
        Some(_) => "found",
        None => "not found",
    };

    let mut out = std::io::stdout().lock();
    if args.format == ExplainFormat::Json {
        let slots: Vec<_> = explanation
            .slots
            .iter()
            .enumerate()
            .map(|(i, (slot, found))| {
                json!({
                    "scope": slot.scope.as_str(),
                    "owner": slot.owner,
                    "environment": slot.environment,
                    "found": found.is_some(),
                    "expired": found.as_ref().map(|f| f.expired),
                    "version": found.as_ref().and_then(|f| f.version),
                    "wins": explanation.winner == Some(i),
                })
            })
            .collect();
        let skipped: Vec<_> = explanation
            .skipped
            .iter()
            .map(|(scope, why)| json!({"scope": scope.as_str(), "why": why}))
            .collect();
        let output = json!({
            "name": explanation.name,
            "result": decided,
            "order": explanation.order.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "slots": slots,
            "skipped": skipped,
            "unavailable": explanation.unavailable,
        });
        serde_json::to_writer_pretty(&mut out, &output)?;
        writeln!(out)?;
    } else {
        let order: Vec<&str> = explanation.order.iter().map(|s| s.as_str()).collect();
        writeln!(out, "{}: {decided}", explanation.name)?;
        writeln!(
            out,
            "order: {} (environment-specific before all environments)",
            order.join(", ")
        )?;
        if let Some(why) = &explanation.unavailable {
            writeln!(out, "scope unavailable: {why}")?;
        }
        for (i, (slot, found)) in explanation.slots.iter().enumerate() {
            let state = match found {
                None => "not set".to_owned(),
                Some(found) => {
                    let version = found
                        .version
                        .map(|v| format!(", version {v}"))
                        .unwrap_or_default();
                    let expired = if found.expired { ", expired" } else { "" };
                    format!("set{version}{expired}")
                }
            };
            let mark = match explanation.winner {
                Some(w) if w == i => "  <- wins",
                Some(w) if w < i && found.is_some() => "  (shadowed)",
                _ => "",
            };
            writeln!(out, "  {}. {:<44} {state}{mark}", i + 1, describe(slot))?;
        }
        for (scope, why) in &explanation.skipped {
            writeln!(out, "  {} scope not searched: {why}", scope.as_str())?;
        }
    }
    Ok(match decided {
        "found" => Exit::Ok,
        _ => Exit::Findings,
    })
}
