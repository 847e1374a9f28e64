//! `sigil run`: the reference runner (`sigil run PIPELINE.yaml`) and the command wrapper
//! (`sigil run -- COMMAND`).
//!
//! Each pipeline step is resolved at the moment it is about to start, never before; its
//! references in `run` become environment variables of the child (never script text); the
//! child's stdout and stderr pass through one shared redactor, live, whose set of values grows
//! as steps resolve more. sigil is built to be embedded in real runners: this one exists to show
//! and test the whole chain on one machine.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use sigil::parser::{Diagnostic, Document, Node, NodeKind, ParseOptions, parse_bytes};
use sigil::redactor::{RedactWriter, Redactor};
use sigil::resolver::{
    Policy, Render, ResolveError, ResolvedNode, ResolvedStep, RunContext, resolve_names,
    resolve_step,
};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};

use crate::commands::check::{DialectArg, eprint_human};
use crate::context::{CliSource, ContextArgs, OpenedSource, SourceArgs, runtime};
use crate::exit::Exit;

/// Arguments of `sigil run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline to run. Omit it and give a command after `--` to run any program with the
    /// secrets in its environment.
    #[arg(value_name = "PIPELINE")]
    pub pipeline_file: Option<PathBuf>,
    /// Command form: only these secrets (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub only: Vec<String>,
    /// Command form: keep these existing environment variables even when a secret has the same
    /// name (by default a secret overrides the variable).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub preserve_env: Vec<String>,
    /// Reference syntax of the pipeline.
    #[arg(long, value_enum, default_value_t = DialectArg::Angle)]
    pub dialect: DialectArg,
    #[command(flatten)]
    pub context: ContextArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    /// The command to run and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// Runs `sigil run`.
pub fn run(args: RunArgs) -> Result<Exit> {
    match (&args.pipeline_file, args.command.is_empty()) {
        (Some(_), false) => {
            eprintln!("error: give either a pipeline file or a command after `--`, not both");
            Ok(Exit::Usage)
        }
        (None, true) => {
            eprintln!("error: give a pipeline file, or a command after `--`");
            Ok(Exit::Usage)
        }
        (Some(pipeline), true) => runtime()?.block_on(run_pipeline(pipeline, &args)),
        (None, false) => runtime()?.block_on(run_command(&args)),
    }
}

/// One step of a pipeline, as read from the config.
#[derive(Debug)]
struct StepSpec {
    name: String,
    pointer: String,
    shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Shell {
    Sh,
    Bash,
}

async fn run_pipeline(path: &Path, args: &RunArgs) -> Result<Exit> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {display}"))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let parsed = parse_bytes(
        &bytes,
        &ParseOptions::default().dialect(args.dialect.into()),
    );
    eprint_human(&display, &text, &parsed.diagnostics)?;
    if parsed.has_errors() {
        return Ok(Exit::Findings);
    }
    let Some(document) = parsed.documents.first() else {
        bail!("{display}: the file holds no document");
    };
    let (pipeline_name, steps) = match read_pipeline(document) {
        Ok(found) => found,
        Err(problems) => {
            for problem in problems {
                eprintln!("error: {display}:{problem}");
            }
            return Ok(Exit::Findings);
        }
    };

    let opened = args.source.open(true).await?;
    let source = opened.source();
    let mut context = args.context.context(&args.source.store.workspace);
    if context.pipeline.is_none() {
        context.pipeline = pipeline_name.clone();
    }
    let policy = args.context.policy();
    let redactor = Redactor::builder().build()?;
    let signals = SignalForwarder::start()?;

    // The pipeline's own `env` is shared by every step: resolve it before the first one.
    let mut shared_env = Vec::new();
    if document.get("/env").is_some() {
        match resolve(document, "/env", &context, &source, &policy, &redactor).await? {
            Ok(resolved) => shared_env = env_of(&resolved.node, &resolved),
            Err(diagnostics) => {
                eprint_human(&display, &text, &diagnostics)?;
                eprintln!("error: the pipeline env could not be resolved; no step was started");
                return Ok(Exit::Findings);
            }
        }
    }

    // Steps can call sigil itself against the same store and run: `"$SIGIL_BIN" secrets ...`.
    let mut sigil_env: Vec<(&str, String)> = vec![
        ("SIGIL_WORKSPACE", context.workspace.clone()),
        ("SIGIL_RUN_ID", context.run_id.clone()),
    ];
    if let Ok(exe) = std::env::current_exe() {
        sigil_env.push(("SIGIL_BIN", exe.display().to_string()));
    }
    if let Some(pipeline) = &context.pipeline {
        sigil_env.push(("SIGIL_PIPELINE", pipeline.clone()));
    }
    match &args.source.store.store {
        Some(store) => sigil_env.push(("SIGIL_STORE", store.clone())),
        None => {
            // Absolute, so a step with its own working_directory finds the same store.
            let home = std::path::absolute(args.source.store.home()?)?;
            sigil_env.push(("SIGIL_HOME", home.display().to_string()));
        }
    }

    let started = Instant::now();
    let mut timings: Vec<(String, Duration, String)> = Vec::new();
    let mut exit = Exit::Ok;
    for spec in &steps {
        eprintln!("==> {}", spec.name);
        let step_started = Instant::now();
        let resolved = match resolve(
            document,
            &spec.pointer,
            &context,
            &source,
            &policy,
            &redactor,
        )
        .await?
        {
            Ok(resolved) => resolved,
            Err(diagnostics) => {
                eprint_human(&display, &text, &diagnostics)?;
                eprintln!(
                    "error: step {:?} was not started: its secrets could not be resolved",
                    spec.name
                );
                timings.push((
                    spec.name.clone(),
                    step_started.elapsed(),
                    "not started".into(),
                ));
                exit = Exit::Findings;
                break;
            }
        };
        let script = resolved
            .field("run")
            .unwrap_or_else(|| SecretString::from(String::new()));
        let mut command = tokio::process::Command::new(match spec.shell {
            Shell::Sh => "sh",
            Shell::Bash => "bash",
        });
        command.arg("-c").arg(script.expose_secret());
        let ResolvedNode::Mapping(fields) = &resolved.node else {
            unreachable!("checked by read_pipeline")
        };
        if let Some((_, ResolvedNode::Scalar(dir))) =
            fields.iter().find(|(k, _)| *k == "working_directory")
        {
            command.current_dir(dir.render(&resolved.secrets, Render::Reveal));
        }
        command.envs(sigil_env.iter().map(|(name, value)| (name, value)));
        for (name, value) in &shared_env {
            command.env(name, value.expose_secret());
        }
        if let Some((_, env)) = fields.iter().find(|(k, _)| *k == "env") {
            for (name, value) in env_of(env, &resolved) {
                command.env(name, value.expose_secret());
            }
        }
        for (name, value) in resolved.env_vars() {
            command.env(name, value.expose_secret());
        }
        let status = run_child(command, &redactor, &signals).await;
        let status = match status {
            Ok(status) => status,
            Err(err) => {
                eprintln!("error: step {:?} could not be started: {err:#}", spec.name);
                timings.push((
                    spec.name.clone(),
                    step_started.elapsed(),
                    "not started".into(),
                ));
                exit = Exit::Internal;
                break;
            }
        };
        let code = exit_code(status);
        timings.push((
            spec.name.clone(),
            step_started.elapsed(),
            if code == 0 {
                "ok".into()
            } else {
                format!("exit {code}")
            },
        ));
        if code != 0 {
            eprintln!("error: step {:?} failed with exit code {code}", spec.name);
            exit = Exit::Code(code);
            break;
        }
        if let Some(signal) = signals.received() {
            eprintln!("error: stopped by signal {signal}");
            exit = Exit::Code(128 + signal as u8);
            break;
        }
    }

    eprintln!(
        "==> {} of {} steps run in {:.2}s",
        timings
            .iter()
            .filter(|(_, _, s)| s != "not started")
            .count(),
        steps.len(),
        started.elapsed().as_secs_f64()
    );
    for (name, time, outcome) in &timings {
        eprintln!("    {outcome:<12} {:>7.2}s  {name}", time.as_secs_f64());
    }
    for name in redactor.too_short() {
        eprintln!("warning: the value of {name} is too short to mask (under 4 bytes)");
    }
    if opened.is_store() {
        tracing::info!(run = %context.run_id, "access audited in the store");
    }
    Ok(exit)
}

/// Resolves one step (or the pipeline `env`) now and adds its values to the redactor before
/// anything can print them.
async fn resolve<'a>(
    document: &'a Document,
    pointer: &str,
    context: &RunContext,
    source: &CliSource<'_>,
    policy: &Policy,
    redactor: &Redactor,
) -> Result<std::result::Result<ResolvedStep<'a>, Vec<Diagnostic>>> {
    match resolve_step(document, pointer, context, source, policy).await {
        Ok(step) => {
            redactor.add_values(step.secrets.iter().map(|s| (&*s.name, &s.value)))?;
            Ok(Ok(step))
        }
        Err(ResolveError::Diagnostics(diagnostics)) => Ok(Err(diagnostics)),
        Err(err) => Err(err.into()),
    }
}

/// `NAME: value` pairs of a resolved `env` mapping.
fn env_of(node: &ResolvedNode<'_>, step: &ResolvedStep<'_>) -> Vec<(String, SecretString)> {
    let ResolvedNode::Mapping(entries) = node else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|(name, value)| match value {
            ResolvedNode::Scalar(scalar) => Some((
                (*name).to_owned(),
                SecretString::from(scalar.render(&step.secrets, Render::Reveal)),
            )),
            _ => None,
        })
        .collect()
}

/// Reads the pipeline format: `name`, optional `env`, and `steps`, each `{name, run, env?,
/// working_directory?, shell?}`. Problems come back as `line:column: message`.
fn read_pipeline(
    document: &Document,
) -> std::result::Result<(Option<String>, Vec<StepSpec>), Vec<String>> {
    let mut problems = Vec::new();
    let at = |node: &Node, message: String| {
        format!("{}:{}: {message}", node.span.line, node.span.column)
    };
    let Some(root) = document.root.as_mapping() else {
        return Err(vec![at(
            &document.root,
            "a pipeline is a mapping with `steps`".into(),
        )]);
    };
    let name = field(root, "name")
        .and_then(Node::as_scalar)
        .map(|s| s.literal_text());
    if let Some(env) = field(root, "env") {
        check_env(env, &mut problems, &at);
    }
    let Some(steps_node) = field(root, "steps") else {
        return Err(vec![at(
            &document.root,
            "a pipeline needs `steps`, a list of steps".into(),
        )]);
    };
    let Some(items) = steps_node.as_sequence() else {
        return Err(vec![at(steps_node, "`steps` must be a list".into())]);
    };
    let mut steps = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(entries) = item.as_mapping() else {
            problems.push(at(
                item,
                format!("step {} must be a mapping with `run`", index + 1),
            ));
            continue;
        };
        let step_name = field(entries, "name")
            .and_then(Node::as_scalar)
            .map(|s| s.literal_text())
            .unwrap_or_else(|| format!("step {}", index + 1));
        match field(entries, "run") {
            Some(run) if matches!(run.kind, NodeKind::Scalar(_)) => {}
            Some(run) => problems.push(at(
                run,
                format!("`run` of step {step_name:?} must be a string"),
            )),
            None => problems.push(at(item, format!("step {step_name:?} has no `run`"))),
        }
        if let Some(env) = field(entries, "env") {
            check_env(env, &mut problems, &at);
        }
        let shell = match field(entries, "shell")
            .and_then(Node::as_scalar)
            .map(|s| s.literal_text())
        {
            None => Shell::Sh,
            Some(shell) if shell == "sh" => Shell::Sh,
            Some(shell) if shell == "bash" => Shell::Bash,
            Some(other) => {
                problems.push(at(
                    item,
                    format!("step {step_name:?}: shell must be sh or bash, not {other:?}"),
                ));
                Shell::Sh
            }
        };
        for key in entries.iter().map(|e| e.key.text.as_str()) {
            if !["name", "run", "env", "working_directory", "shell"].contains(&key) {
                problems.push(at(
                    item,
                    format!("step {step_name:?}: unknown field `{key}`"),
                ));
            }
        }
        steps.push(StepSpec {
            name: step_name,
            pointer: format!("/steps/{index}"),
            shell,
        });
    }
    if problems.is_empty() {
        Ok((name, steps))
    } else {
        Err(problems)
    }
}

/// The value of `key` in a mapping's entries.
fn field<'a>(entries: &'a [sigil::parser::Entry], key: &str) -> Option<&'a Node> {
    entries.iter().find(|e| e.key.text == key).map(|e| &e.value)
}

fn check_env(env: &Node, problems: &mut Vec<String>, at: &impl Fn(&Node, String) -> String) {
    let Some(entries) = env.as_mapping() else {
        problems.push(at(env, "`env` must be a mapping of NAME: value".into()));
        return;
    };
    for entry in entries {
        if !is_env_name(&entry.key.text) {
            problems.push(at(
                env,
                format!(
                    "`{}` is not a valid environment variable name",
                    entry.key.text
                ),
            ));
        }
        if !matches!(entry.value.kind, NodeKind::Scalar(_)) {
            problems.push(at(
                &entry.value,
                format!("the value of `{}` must be a string", entry.key.text),
            ));
        }
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

async fn run_command(args: &RunArgs) -> Result<Exit> {
    let opened = args.source.open(false).await?;
    let source = opened.source();
    let context = args.context.context(&args.source.store.workspace);
    let names = match (&args.only, &opened) {
        (only, _) if !only.is_empty() => only.clone(),
        (_, OpenedSource::File(memory)) => memory.names(),
        (_, OpenedSource::Store(store)) => {
            let mut names: Vec<String> = store
                .list(&context.workspace, &Default::default())
                .await?
                .into_iter()
                .map(|meta| meta.key.name.as_str().to_owned())
                .collect();
            names.dedup();
            names
        }
    };
    let resolved =
        resolve_names(&names, &context, &source, &args.context.policy(), "command").await?;
    for (name, why) in &resolved.missing {
        if !args.only.is_empty() {
            eprintln!("warning: secret {name} is not set: {why}");
        }
    }
    let redactor = Redactor::builder().build()?;
    redactor.add_values(resolved.secrets.iter().map(|s| (&*s.name, &s.value)))?;
    for name in redactor.too_short() {
        eprintln!("warning: the value of {name} is too short to mask (under 4 bytes)");
    }

    let mut command = tokio::process::Command::new(&args.command[0]);
    command.args(&args.command[1..]);
    for secret in &resolved.secrets {
        let name: &str = &secret.name;
        if !is_env_name(name) {
            eprintln!("warning: secret {name} is skipped: not a valid environment variable name");
            continue;
        }
        if args.preserve_env.iter().any(|kept| kept == name) && std::env::var_os(name).is_some() {
            continue;
        }
        command.env(name, secret.value.expose_secret());
    }
    let signals = SignalForwarder::start()?;
    match run_child(command, &redactor, &signals).await {
        Ok(status) => Ok(Exit::Code(exit_code(status))),
        Err(err) => {
            eprintln!("error: cannot run {}: {err:#}", args.command[0]);
            Ok(Exit::Code(127))
        }
    }
}

/// The exit code a shell would report: the code, or 128 + the signal that killed the child.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code as u8,
        (None, Some(signal)) => 128u8.wrapping_add(signal as u8),
        (None, None) => 1,
    }
}

/// Starts the child with stdin passed through and stdout and stderr piped through the redactor
/// to sigil's own, live; waits for it and for both streams to drain.
async fn run_child(
    mut command: tokio::process::Command,
    redactor: &Redactor,
    signals: &SignalForwarder,
) -> Result<ExitStatus> {
    command
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn()?;
    signals.set_child(child.id());
    let stdout = child.stdout.take().expect("piped").into_owned_fd()?;
    let stderr = child.stderr.take().expect("piped").into_owned_fd()?;
    let out = pump(
        stdout,
        std::io::stdout().as_fd().try_clone_to_owned()?,
        redactor,
    );
    let err = pump(
        stderr,
        std::io::stderr().as_fd().try_clone_to_owned()?,
        redactor,
    );
    let status = child.wait().await;
    signals.set_child(None);
    // The streams end when the child and any background process holding them exit.
    tokio::task::spawn_blocking(move || {
        let _ = out.join();
        let _ = err.join();
    })
    .await?;
    Ok(status?)
}

/// Copies a child's stream through a redacting writer on its own thread, with plain blocking
/// reads and writes of up to 1 MiB (tokio's stdout would copy every write through its blocking
/// pool), flushing after every read so output is live. If our own output is closed, stop reading:
/// the child then gets SIGPIPE as it would in a shell pipeline.
fn pump(from: OwnedFd, to: OwnedFd, redactor: &Redactor) -> std::thread::JoinHandle<()> {
    let redactor = redactor.clone();
    std::thread::spawn(move || {
        // A larger pipe means fewer wake-ups for a child that writes a lot; best effort.
        let _ = nix::fcntl::fcntl(&from, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
        let mut from = std::fs::File::from(from);
        let mut to = RedactWriter::new(&redactor, std::fs::File::from(to));
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = match from.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if to.write_all(&buffer[..n]).is_err() || to.flush().is_err() {
                return;
            }
        }
        let _ = to.finish();
    })
}

/// Forwards SIGINT, SIGTERM and SIGHUP sent to sigil to the running child, and remembers that
/// one arrived so the pipeline stops after the child exits.
#[derive(Debug, Clone)]
struct SignalForwarder {
    child: Arc<AtomicI32>,
    received: Arc<AtomicI32>,
}

impl SignalForwarder {
    fn start() -> Result<SignalForwarder> {
        use tokio::signal::unix::{SignalKind, signal};
        let forwarder = SignalForwarder {
            child: Arc::new(AtomicI32::new(0)),
            received: Arc::new(AtomicI32::new(0)),
        };
        for (kind, number) in [
            (SignalKind::interrupt(), nix::sys::signal::Signal::SIGINT),
            (SignalKind::terminate(), nix::sys::signal::Signal::SIGTERM),
            (SignalKind::hangup(), nix::sys::signal::Signal::SIGHUP),
        ] {
            let mut stream = signal(kind).context("cannot listen for signals")?;
            let forwarder = forwarder.clone();
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    forwarder.received.store(number as i32, Ordering::SeqCst);
                    let pid = forwarder.child.load(Ordering::SeqCst);
                    if pid > 0 {
                        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), number);
                    }
                }
            });
        }
        Ok(forwarder)
    }

    fn set_child(&self, pid: Option<u32>) {
        let pid = pid.and_then(|pid| i32::try_from(pid).ok()).unwrap_or(0);
        self.child.store(pid, Ordering::SeqCst);
    }

    fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}
