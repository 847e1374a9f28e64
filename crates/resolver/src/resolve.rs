//! Validation and just-in-time resolution of one step.
//!
//! Both walk the subtree once, collect every reference with what it needs (its slots in
//! precedence order, its policy check, its shell context), make one batched `find` call, and
//! report every problem together. Resolution then makes one batched `reveal` call (and one
//! `redeem` call for handles) and builds the resolved tree from the parsed one: a value is put
//! into a tree node, never into text, so it is never parsed or expanded again.

use std::borrow::Cow;
use std::sync::Arc;

use secrecy::SecretString;

use sigil_parser::{
    Code, CoreType, Diagnostic, Document, Node, NodeKind, Part, Reference, ReferenceKind, Scope,
    Segment,
};

use crate::resolved::{
    EnvBinding, Piece, ResolvedNode, ResolvedScalar, ResolvedSecret, ResolvedStep,
};
use crate::shell::{self, ScriptPart, ShellContext};
use crate::source::{
    Access, Found, HandleOutcome, Lookup, Reveal, SecretSource, Slot, SourceError,
};
use crate::{Policy, RunContext};

/// Why a step could not be resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The step has problems; every one of them, each with its position.
    #[error("the step has {} problem(s)", .0.len())]
    Diagnostics(Vec<Diagnostic>),
    /// No node at the pointer.
    #[error("no step at pointer {0:?}")]
    NoSuchStep(String),
    /// The source failed as a whole.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Checks every reference in `document` (existence, scope availability, expiry, policy, shell
/// context) without revealing any value. Returns every problem found, in document order.
pub async fn validate<S: SecretSource>(
    document: &Document,
    context: &RunContext,
    source: &S,
    policy: &Policy,
) -> Result<Vec<Diagnostic>, SourceError> {
    let plan = plan(&document.root, document.index, context, policy);
    let winners = find(&plan, context, source).await?;
    let mut diagnostics = plan.diagnostics.clone();
    diagnostics.extend(lookup_diagnostics(&plan, &winners, context, document.index));
    // An alias or merge key copies a reference; report it once, at the anchor.
    let mut seen = std::collections::HashSet::new();
    diagnostics.retain(|d| seen.insert((d.code, d.span.byte_range.clone(), d.message.clone())));
    diagnostics.sort_by_key(|d| d.span.byte_range.start);
    Ok(diagnostics)
}

/// Resolves the step at `pointer` now: looks up and reveals exactly the values that step needs,
/// in one batched call each, and returns the substituted subtree, the environment bindings of
/// its shell fields and the values to scrub.
pub async fn resolve_step<'a, S: SecretSource>(
    document: &'a Document,
    pointer: &str,
    context: &RunContext,
    source: &S,
    policy: &Policy,
) -> Result<ResolvedStep<'a>, ResolveError> {
    resolve(document, pointer, context, source, policy, Mode::Reveal).await
}

/// Like [`resolve_step`], but reveals nothing: every check is made (handles excepted: redeeming
/// one reveals it) and every value in the result is `***`. For showing what a step would become.
pub async fn preview_step<'a, S: SecretSource>(
    document: &'a Document,
    pointer: &str,
    context: &RunContext,
    source: &S,
    policy: &Policy,
) -> Result<ResolvedStep<'a>, ResolveError> {
    resolve(document, pointer, context, source, policy, Mode::Preview).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Reveal,
    Preview,
}

async fn resolve<'a, S: SecretSource>(
    document: &'a Document,
    pointer: &str,
    context: &RunContext,
    source: &S,
    policy: &Policy,
    mode: Mode,
) -> Result<ResolvedStep<'a>, ResolveError> {
    let node = document
        .get(pointer)
        .ok_or_else(|| ResolveError::NoSuchStep(pointer.to_owned()))?;
    let plan = plan(node, document.index, context, policy);
    let winners = find(&plan, context, source).await?;
    let mut diagnostics = plan.diagnostics.clone();
    diagnostics.extend(lookup_diagnostics(&plan, &winners, context, document.index));

    // Reveal the winners, one batched call; redeem handles, one batched call.
    let access = Access {
        context,
        step: pointer,
    };
    let mut reveals = Vec::with_capacity(plan.lookups.len());
    // (lookup index, reveal index), in lookup order so secrets come out in document order.
    let mut reveal_index = Vec::with_capacity(plan.lookups.len());
    for (lookup_index, lookup) in plan.lookups.iter().enumerate() {
        if let Some(first) = winners[lookup_index].filter(|f| !f.expired) {
            reveal_index.push((lookup_index, reveals.len()));
            reveals.push(Reveal {
                name: lookup.name,
                slot: &lookup.slots[first.slot],
                found: first,
            });
        }
    }
    let failing = diagnostics.iter().any(Diagnostic::is_error);
    let values = match (mode, failing) {
        // Nothing is revealed for a step that will not run.
        (_, true) => Vec::new(),
        (Mode::Preview, false) => reveals.iter().map(|_| SecretString::from("***")).collect(),
        (Mode::Reveal, false) if reveals.is_empty() => Vec::new(),
        (Mode::Reveal, false) => source.reveal(&reveals, access).await?,
    };
    let outcomes = match (mode, failing || plan.handles.is_empty()) {
        (_, true) => Vec::new(),
        (Mode::Preview, false) => plan
            .handles
            .iter()
            .map(|_| HandleOutcome::Redeemed {
                name: "handle".to_owned(),
                value: SecretString::from("***"),
            })
            .collect(),
        (Mode::Reveal, false) => source.redeem(&plan.handles, access).await?,
    };

    let mut secrets: Vec<ResolvedSecret<'a>> = Vec::with_capacity(values.len());
    let mut secret_of_lookup: Vec<Option<usize>> = vec![None; plan.lookups.len()];
    // Each value moves into its secret (a copy would be one more plaintext to zeroize).
    let mut values = values.into_iter();
    for (lookup_index, _) in &reveal_index {
        if let Some(value) = values.next() {
            secret_of_lookup[*lookup_index] = Some(secrets.len());
            secrets.push(ResolvedSecret {
                name: Cow::Borrowed(plan.lookups[*lookup_index].name),
                value,
            });
        }
    }
    let mut secret_of_handle: Vec<Option<usize>> = vec![None; plan.handles.len()];
    for (handle_index, outcome) in outcomes.into_iter().enumerate() {
        let site = plan
            .sites
            .iter()
            .find(|s| s.target == Target::Handle(handle_index))
            .expect("every handle has a site");
        let reference = &site.reference;
        let problem = match outcome {
            HandleOutcome::Redeemed { name, value } => {
                secret_of_handle[handle_index] = Some(secrets.len());
                secrets.push(ResolvedSecret {
                    name: Cow::Owned(name),
                    value,
                });
                continue;
            }
            HandleOutcome::Expired => (Code::Expired, "the handle's lifetime has passed"),
            HandleOutcome::BadSignature => {
                (Code::InvalidHandle, "the handle's signature does not match")
            }
            HandleOutcome::OtherWorkspace => (
                Code::InvalidHandle,
                "the handle was issued for another workspace",
            ),
            HandleOutcome::SecretGone => (
                Code::InvalidHandle,
                "the secret the handle was issued for no longer exists",
            ),
            _ => (
                Code::InvalidHandle,
                "this secret source cannot redeem handles",
            ),
        };
        diagnostics.push(
            located(
                Diagnostic::new(problem.0, problem.1, reference.span.clone()),
                reference,
                document.index,
            )
            .with_help("ask the store for a fresh handle right before the step runs"),
        );
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.sort_by_key(|d| d.span.byte_range.start);
        return Err(ResolveError::Diagnostics(diagnostics));
    }

    // Build the tree, binding shell-field references to variables.
    let mut builder = Builder {
        plan: &plan,
        secret_of_lookup: &secret_of_lookup,
        secret_of_handle: &secret_of_handle,
        env: Vec::with_capacity(secrets.len()),
        variables: vec![None; secrets.len()],
        indexes: Vec::new(),
        used: Default::default(),
        secrets: &secrets,
        next_site: 0,
        next_shell: 0,
    };
    let node = builder.node(node);
    let env = builder.env;
    Ok(ResolvedStep {
        pointer: pointer.to_owned(),
        node,
        env,
        secrets,
    })
}

/// What [`resolve_names`] found: the values, and the names it could not resolve with why.
#[derive(Debug, Default)]
pub struct NamedValues<'a> {
    /// Resolved values, in the order of the names asked for.
    pub secrets: Vec<ResolvedSecret<'a>>,
    /// Names found nowhere visible to the run, or expired, with a reason (no value).
    pub missing: Vec<(String, String)>,
}

/// Resolves secrets by name, with the same precedence as references, in one batched `find` and
/// one batched `reveal` (for commands run with secrets in their environment).
pub async fn resolve_names<'a, S: SecretSource>(
    names: &'a [String],
    context: &RunContext,
    source: &S,
    policy: &Policy,
    step: &str,
) -> Result<NamedValues<'a>, SourceError> {
    let mut result = NamedValues::default();
    let mut lookups = Vec::new();
    let shared = slots(None, context, policy).map(|(slots, _)| Arc::<[Slot]>::from(slots));
    for name in names {
        match &shared {
            Ok(slots) => lookups.push(Lookup {
                name,
                slots: slots.clone(),
            }),
            Err(why) => result.missing.push((name.clone(), (*why).to_owned())),
        }
    }
    if lookups.is_empty() {
        return Ok(result);
    }
    let found = source.find(context, &lookups).await?;
    let winners = winners(&found, &lookups)?;
    let mut reveals = Vec::new();
    // The names revealed, borrowed from `names` (a reveal borrows the local lookups).
    let mut revealed: Vec<&'a str> = Vec::new();
    for (lookup, winner) in lookups.iter().zip(winners) {
        match winner {
            None => result
                .missing
                .push((lookup.name.to_owned(), "not visible to this run".to_owned())),
            Some(first) if first.expired => result
                .missing
                .push((lookup.name.to_owned(), "expired".to_owned())),
            Some(first) => {
                revealed.push(lookup.name);
                reveals.push(Reveal {
                    name: lookup.name,
                    slot: &lookup.slots[first.slot],
                    found: first,
                });
            }
        }
    }
    if !reveals.is_empty() {
        let values = source.reveal(&reveals, Access { context, step }).await?;
        result.secrets = revealed
            .into_iter()
            .zip(values)
            .map(|(name, value)| ResolvedSecret {
                name: Cow::Borrowed(name),
                value,
            })
            .collect();
    }
    Ok(result)
}

/// How a name resolves in a run: every slot looked at, in order, what each holds, which won.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The name asked about.
    pub name: String,
    /// The pinned scope, if the question pinned one.
    pub pinned: Option<Scope>,
    /// The scope order the policy gives for this run's environment.
    pub order: Vec<Scope>,
    /// Every slot looked in, best first, with what the source holds there.
    pub slots: Vec<(Slot, Option<Found>)>,
    /// Index into `slots` of the slot that decides (it may hold an expired secret).
    pub winner: Option<usize>,
    /// Scopes not searched in this run, and why.
    pub skipped: Vec<(Scope, String)>,
    /// Why a pinned scope cannot be searched at all in this run.
    pub unavailable: Option<String>,
}

/// Explains how `name` (optionally pinned to a scope) resolves in `context`, without revealing
/// anything: one metadata lookup.
pub async fn explain<S: SecretSource>(
    name: &str,
    pinned: Option<Scope>,
    context: &RunContext,
    source: &S,
    policy: &Policy,
) -> Result<Explanation, SourceError> {
    let order = match pinned {
        Some(scope) => vec![scope],
        None => policy.precedence(context.environment.as_deref()).to_vec(),
    };
    let mut explanation = Explanation {
        name: name.to_owned(),
        pinned,
        order,
        slots: Vec::new(),
        winner: None,
        skipped: Vec::new(),
        unavailable: None,
    };
    let (slots, skipped) = match slots(pinned, context, policy) {
        Ok(found) => found,
        Err(why) => {
            explanation.unavailable = Some(why.to_owned());
            return Ok(explanation);
        }
    };
    explanation.skipped = skipped
        .into_iter()
        .map(|(scope, why)| (scope, why.to_owned()))
        .collect();
    let lookup = Lookup {
        name,
        slots: slots.into(),
    };
    let lookups = std::slice::from_ref(&lookup);
    let found = source.find(context, lookups).await?;
    // Checks the answer's shape; every slot that holds the name is shown, not only the winner.
    winners(&found, lookups)?;
    explanation.slots = lookup
        .slots
        .iter()
        .enumerate()
        .map(|(index, slot)| {
            (
                slot.clone(),
                found.iter().find(|f| f.slot == index).copied(),
            )
        })
        .collect();
    explanation.winner = explanation
        .slots
        .iter()
        .position(|(_, found)| found.is_some());
    Ok(explanation)
}

/// The slots an unpinned (or pinned) name looks in, and the scopes left out with why; or why a
/// pinned scope is unavailable.
type SlotList = Result<(Arc<[Slot]>, Arc<[(Scope, &'static str)]>), &'static str>;

/// One reference occurrence in the subtree, in tree order.
#[derive(Debug)]
struct Site<'a> {
    reference: &'a Reference,
    target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Index into `Plan::lookups`.
    Lookup(usize),
    /// Index into `Plan::handles`.
    Handle(usize),
    /// Not looked up (in a shell comment, or not allowed where it stands).
    Skipped,
}

/// What a subtree needs, before anything is looked up.
#[derive(Debug, Default)]
struct Plan<'a> {
    sites: Vec<Site<'a>>,
    lookups: Vec<Lookup<'a>>,
    /// Why a scope was left out of a lookup's slots (to explain an unknown secret).
    unavailable: Vec<Arc<[(Scope, &'static str)]>>,
    handles: Vec<String>,
    diagnostics: Vec<Diagnostic>,
    /// Shell contexts of shell-field scalars with the index of their first site, in tree order.
    shell: Vec<(usize, Vec<ShellContext>)>,
}

fn plan<'a>(node: &'a Node, document: usize, context: &RunContext, policy: &Policy) -> Plan<'a> {
    let mut plan = Plan::default();
    let mut lookup_of: crate::Map<(&'a str, Option<Scope>), usize> =
        crate::Map::with_capacity_and_hasher(64, Default::default());
    // Every unpinned name looks in the same slots: compute each slot list once and share it.
    let mut slot_lists: Vec<(Option<Scope>, SlotList)> = Vec::new();
    walk(node, None, &mut |scalar_node, key| {
        let NodeKind::Scalar(scalar) = &scalar_node.kind else {
            return;
        };
        if !scalar.has_references() {
            return;
        }
        let first_site = plan.sites.len();
        let shell_contexts = key.filter(|key| policy.is_shell_field(key)).map(|_| {
            let parts: Vec<ScriptPart<'_>> = scalar
                .parts()
                .map(|part| match part {
                    Part::Text(text) => ScriptPart::Text(text),
                    Part::Reference(_) => ScriptPart::Reference(""),
                })
                .collect();
            shell::classify(&parts)
        });
        let references = scalar.parts().filter_map(|part| match part {
            Part::Reference(reference) => Some(reference),
            Part::Text(_) => None,
        });
        for (i, reference) in references.enumerate() {
            let shell_context = shell_contexts.as_ref().map(|contexts| &contexts[i]);
            let target = match shell_context {
                Some(ShellContext::Comment) => Target::Skipped,
                Some(ShellContext::NoExpansion(reason)) => {
                    plan.diagnostics.push(
                        located(
                            Diagnostic::new(
                                Code::UnsafeShellContext,
                                format!(
                                    "{} here would not reach the script: {}",
                                    describe(reference),
                                    reason.explain()
                                ),
                                reference.span.clone(),
                            ),
                            reference,
                            document,
                        )
                        .with_help(reason.help()),
                    );
                    Target::Skipped
                }
                _ if !policy.allows(&reference.pointer) => {
                    plan.diagnostics.push(
                        located(
                            Diagnostic::new(
                                Code::ForbiddenLocation,
                                format!(
                                    "the policy does not allow secrets at {}",
                                    display_pointer(&reference.pointer)
                                ),
                                reference.span.clone(),
                            ),
                            reference,
                            document,
                        )
                        .with_help("move the reference to a field the policy allows"),
                    );
                    Target::Skipped
                }
                _ => match &reference.kind {
                    ReferenceKind::Secret { name, scope } => {
                        let key = (name.as_str(), *scope);
                        let list = match slot_lists.iter().find(|(pinned, _)| pinned == scope) {
                            Some((_, list)) => list.clone(),
                            None => {
                                let list =
                                    slots(*scope, context, policy).map(|(slots, unavailable)| {
                                        (Arc::from(slots), Arc::from(unavailable))
                                    });
                                slot_lists.push((*scope, list.clone()));
                                list
                            }
                        };
                        match lookup_of.get(&key) {
                            Some(&index) => Target::Lookup(index),
                            None => match list {
                                Ok((slots, unavailable)) => {
                                    let index = plan.lookups.len();
                                    plan.lookups.push(Lookup {
                                        name: name.as_str(),
                                        slots,
                                    });
                                    plan.unavailable.push(unavailable);
                                    lookup_of.insert(key, index);
                                    Target::Lookup(index)
                                }
                                Err(why) => {
                                    plan.diagnostics.push(
                                        located(
                                            Diagnostic::new(
                                                Code::ScopeUnavailable,
                                                format!("{} is unavailable in this run: {why}", describe(reference)),
                                                reference.span.clone(),
                                            ),
                                            reference,
                                            document,
                                        )
                                        .with_help("use a scope this run has, or run it with the context it needs"),
                                    );
                                    Target::Skipped
                                }
                            },
                        }
                    }
                    ReferenceKind::Handle { token } => {
                        plan.handles.push(token.clone());
                        Target::Handle(plan.handles.len() - 1)
                    }
                    _ => Target::Skipped,
                },
            };
            plan.sites.push(Site { reference, target });
        }
        if let Some(contexts) = shell_contexts {
            plan.shell.push((first_site, contexts));
        }
    });
    plan
}

/// Walks scalars in tree order, with the mapping key each one stands under.
fn walk<'a>(
    node: &'a Node,
    key: Option<&'a str>,
    visit: &mut impl FnMut(&'a Node, Option<&'a str>),
) {
    match &node.kind {
        NodeKind::Mapping(entries) => {
            for entry in entries {
                walk(&entry.value, Some(&entry.key.text), visit);
            }
        }
        NodeKind::Sequence(items) => {
            for item in items {
                walk(item, None, visit);
            }
        }
        _ => visit(node, key),
    }
}

/// The slots to look in for a name, best first, and the scopes left out with why; or, for a
/// pinned scope this run does not have, why.
#[allow(clippy::type_complexity)]
fn slots(
    pinned: Option<Scope>,
    context: &RunContext,
    policy: &Policy,
) -> Result<(Vec<Slot>, Vec<(Scope, &'static str)>), &'static str> {
    let order: Vec<Scope> = match pinned {
        Some(scope) => vec![scope],
        None => policy.precedence(context.environment.as_deref()).to_vec(),
    };
    let mut slots = Vec::new();
    let mut unavailable = Vec::new();
    for scope in order {
        let owner = match scope {
            Scope::Workspace => None,
            Scope::Pipeline => match &context.pipeline {
                Some(pipeline) => Some(pipeline.clone()),
                None => {
                    let why = "this run belongs to no pipeline";
                    if pinned.is_some() {
                        return Err(why);
                    }
                    unavailable.push((scope, why));
                    continue;
                }
            },
            Scope::Personal => match context.personal_user() {
                Ok(user) => Some(user.to_owned()),
                Err(why) => {
                    if pinned.is_some() {
                        return Err(why);
                    }
                    unavailable.push((scope, why));
                    continue;
                }
            },
            _ => continue,
        };
        if let Some(environment) = &context.environment {
            slots.push(Slot {
                scope,
                owner: owner.clone(),
                environment: Some(environment.clone()),
            });
        }
        slots.push(Slot {
            scope,
            owner,
            environment: None,
        });
    }
    Ok((slots, unavailable))
}

/// The winner of each of the plan's lookups (`None`: found nowhere), from one batched `find`.
async fn find<S: SecretSource>(
    plan: &Plan<'_>,
    context: &RunContext,
    source: &S,
) -> Result<Vec<Option<Found>>, SourceError> {
    if plan.lookups.is_empty() {
        return Ok(Vec::new());
    }
    let found = source.find(context, &plan.lookups).await?;
    winners(&found, &plan.lookups)
}

/// The first slot found for each lookup: the one precedence picks. A source's answer must be
/// ordered by lookup, then slot, and name only lookups and slots that were asked for; anything
/// else is the source's error, never a guess at what it meant.
fn winners(found: &[Found], lookups: &[Lookup<'_>]) -> Result<Vec<Option<Found>>, SourceError> {
    let mut winners = vec![None; lookups.len()];
    let mut previous: Option<(usize, usize)> = None;
    for found in found {
        let key = (found.lookup, found.slot);
        let in_range = lookups
            .get(found.lookup)
            .is_some_and(|lookup| found.slot < lookup.slots.len());
        if !in_range || previous.is_some_and(|previous| previous >= key) {
            return Err(SourceError::new(
                "the secret source answered lookups it was not asked, or out of order",
            ));
        }
        previous = Some(key);
        winners[found.lookup].get_or_insert(*found);
    }
    Ok(winners)
}

/// SIG101 for names found nowhere, SIG103 for expired winners.
fn lookup_diagnostics(
    plan: &Plan<'_>,
    winners: &[Option<Found>],
    context: &RunContext,
    document: usize,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for site in &plan.sites {
        let Target::Lookup(index) = site.target else {
            continue;
        };
        let lookup = &plan.lookups[index];
        let reference = &site.reference;
        match winners[index] {
            None => {
                let places: Vec<String> = lookup.slots.iter().map(describe_slot).collect();
                let mut diagnostic = located(
                    Diagnostic::new(
                        Code::UnknownSecret,
                        match &reference.kind {
                            ReferenceKind::Secret {
                                scope: Some(scope), ..
                            } => format!(
                                "unknown secret `{}` in scope {}",
                                lookup.name,
                                scope.as_str()
                            ),
                            _ => format!("unknown secret `{}`", lookup.name),
                        },
                        reference.span.clone(),
                    ),
                    reference,
                    document,
                );
                if !places.is_empty() {
                    diagnostic = diagnostic.with_note(format!("looked in: {}", places.join(", ")));
                }
                for (scope, why) in plan.unavailable[index].iter() {
                    diagnostic = diagnostic
                        .with_note(format!("{} scope not searched: {why}", scope.as_str()));
                }
                diagnostics.push(diagnostic.with_help(format!(
                        "add it with `sigil secrets set {}{}`",
                        lookup.name,
                        context
                            .environment
                            .as_deref()
                            .map(|env| format!(" --env {env}"))
                            .unwrap_or_default()
                    )));
            }
            Some(first) if first.expired => {
                let slot = &lookup.slots[first.slot];
                diagnostics.push(
                    located(
                        Diagnostic::new(
                            Code::Expired,
                            format!(
                                "secret {} in {} has expired",
                                lookup.name,
                                describe_slot(slot)
                            ),
                            reference.span.clone(),
                        ),
                        reference,
                        document,
                    )
                    .with_help(format!(
                        "set a new value with `sigil secrets rotate {}`",
                        lookup.name
                    )),
                );
            }
            Some(_) => {}
        }
    }
    diagnostics
}

fn located(diagnostic: Diagnostic, reference: &Reference, document: usize) -> Diagnostic {
    diagnostic
        .with_pointer(reference.pointer.clone())
        .with_document(document)
}

fn describe(reference: &Reference) -> String {
    match &reference.kind {
        ReferenceKind::Secret {
            name,
            scope: Some(scope),
        } => format!("secret {name}@{}", scope.as_str()),
        ReferenceKind::Secret { name, scope: None } => format!("secret {name}"),
        _ => "the handle".to_owned(),
    }
}

fn describe_slot(slot: &Slot) -> String {
    let environment = slot.environment.as_deref().unwrap_or("all environments");
    match (&slot.scope, &slot.owner) {
        (Scope::Pipeline, Some(owner)) => format!("pipeline {owner} ({environment})"),
        (Scope::Personal, Some(owner)) => format!("personal {owner} ({environment})"),
        (scope, _) => format!("{} ({environment})", scope.as_str()),
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the document root"
    } else {
        pointer
    }
}

/// Builds the resolved tree, in the same order `plan` walked it.
struct Builder<'p, 'a> {
    plan: &'p Plan<'a>,
    secret_of_lookup: &'p [Option<usize>],
    secret_of_handle: &'p [Option<usize>],
    secrets: &'p [ResolvedSecret<'a>],
    env: Vec<EnvBinding>,
    /// The binding (index into `env`) of each secret, by secret index.
    variables: Vec<Option<usize>>,
    /// Every variable name bound so far.
    used: crate::Set<String>,
    /// Scratch: the secret of each reference of the scalar being built.
    indexes: Vec<Option<usize>>,
    next_site: usize,
    /// The next entry of `plan.shell` (the builder walks in the plan's order).
    next_shell: usize,
}

impl<'a> Builder<'_, 'a> {
    fn node(&mut self, node: &'a Node) -> ResolvedNode<'a> {
        match &node.kind {
            NodeKind::Mapping(entries) => ResolvedNode::Mapping(
                entries
                    .iter()
                    .map(|entry| (entry.key.text.as_str(), self.node(&entry.value)))
                    .collect(),
            ),
            NodeKind::Sequence(items) => {
                ResolvedNode::Sequence(items.iter().map(|item| self.node(item)).collect())
            }
            NodeKind::Scalar(scalar) if !scalar.has_references() => {
                ResolvedNode::Scalar(ResolvedScalar {
                    pieces: scalar
                        .parts()
                        .filter_map(|part| match part {
                            Part::Text(text) => Some(Piece::Text(Cow::Borrowed(text))),
                            Part::Reference(_) => None,
                        })
                        .collect(),
                    core_type: scalar.core_type(),
                })
            }
            NodeKind::Scalar(scalar) => {
                let first_site = self.next_site;
                let mut secret_indexes = std::mem::take(&mut self.indexes);
                secret_indexes.clear();
                for part in scalar.parts() {
                    if let Part::Reference(_) = part {
                        let site = &self.plan.sites[self.next_site];
                        self.next_site += 1;
                        secret_indexes.push(match site.target {
                            Target::Lookup(index) => self.secret_of_lookup[index],
                            Target::Handle(index) => self.secret_of_handle[index],
                            Target::Skipped => None,
                        });
                    }
                }
                let shell = self
                    .plan
                    .shell
                    .get(self.next_shell)
                    .filter(|(site, _)| *site == first_site);
                if shell.is_some() {
                    self.next_shell += 1;
                }
                let pieces = match shell {
                    Some((_, contexts)) => vec![Piece::Text(Cow::Owned(self.script(
                        scalar,
                        contexts,
                        &secret_indexes,
                        first_site,
                    )))],
                    None => {
                        let mut references = secret_indexes.iter();
                        scalar
                            .parts()
                            .map(|part| match part {
                                Part::Text(text) => Piece::Text(Cow::Borrowed(text)),
                                Part::Reference(_) => match references.next().copied().flatten() {
                                    Some(secret) => Piece::Secret(secret),
                                    // Unreachable for a step that resolved: every site resolved.
                                    None => Piece::Text(Cow::Borrowed("")),
                                },
                            })
                            .collect()
                    }
                };
                self.indexes = secret_indexes;
                ResolvedNode::Scalar(ResolvedScalar {
                    pieces,
                    core_type: CoreType::String,
                })
            }
            _ => ResolvedNode::Scalar(ResolvedScalar::text("", CoreType::Null)),
        }
    }

    /// The shell field's script with each reference replaced by its variable's expansion.
    fn script(
        &mut self,
        scalar: &sigil_parser::Scalar,
        contexts: &[ShellContext],
        secret_indexes: &[Option<usize>],
        first_site: usize,
    ) -> String {
        let parts = script_parts(scalar);
        for (i, secret) in secret_indexes.iter().enumerate() {
            if let Some(secret) = secret {
                self.bind(*secret, self.plan.sites[first_site + i].reference);
            }
        }
        let (variables, env) = (&self.variables, &self.env);
        shell::render(&parts, contexts, |i| {
            secret_indexes[i]
                .and_then(|secret| variables[secret])
                .map_or("", |binding| env[binding].variable.as_str())
        })
    }

    /// Binds a secret to a variable, once: `SIGIL_` and the name in capitals, made unique.
    fn bind(&mut self, secret: usize, reference: &Reference) {
        if let Some(Some(_)) = self.variables.get(secret) {
            return;
        }
        let mut base = String::with_capacity(32);
        base.push_str("SIGIL_");
        match &reference.kind {
            ReferenceKind::Secret { name, scope } => {
                push_env_name(&mut base, name);
                if let Some(scope) = scope {
                    base.push('_');
                    push_env_name(&mut base, scope.as_str());
                }
            }
            _ => {
                base.push_str("HANDLE_");
                push_env_name(&mut base, &self.secrets[secret].name);
            }
        }
        let mut variable = base;
        if self.used.contains(&variable) {
            let base = std::mem::take(&mut variable);
            let mut n = 2;
            loop {
                variable = format!("{base}_{n}");
                if !self.used.contains(&variable) {
                    break;
                }
                n += 1;
            }
        }
        if self.variables.len() <= secret {
            self.variables.resize(secret + 1, None);
        }
        self.used.insert(variable.clone());
        self.variables[secret] = Some(self.env.len());
        self.env.push(EnvBinding { variable, secret });
    }
}

/// A scalar as script parts, each reference with its text as written in the scalar (the bytes
/// between its neighbouring text segments), so a reference in a shell comment stays as it was.
fn script_parts(scalar: &sigil_parser::Scalar) -> Vec<ScriptPart<'_>> {
    let text = scalar.text();
    let segments = scalar.segments();
    segments
        .iter()
        .enumerate()
        .map(|(i, segment)| match segment {
            Segment::Text(range) => ScriptPart::Text(&text[range.clone()]),
            Segment::Reference(_) => {
                let start = segments[..i]
                    .iter()
                    .rev()
                    .find_map(|s| match s {
                        Segment::Text(range) => Some(range.end),
                        Segment::Reference(_) => None,
                    })
                    .unwrap_or(0);
                let end = segments[i + 1..]
                    .iter()
                    .find_map(|s| match s {
                        Segment::Text(range) => Some(range.start),
                        Segment::Reference(_) => None,
                    })
                    .unwrap_or(text.len());
                ScriptPart::Reference(text.get(start..end.max(start)).unwrap_or_default())
            }
        })
        .collect()
}

/// Appends a secret name as environment variable characters: capitals, digits and underscores.
fn push_env_name(out: &mut String, name: &str) {
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
}
