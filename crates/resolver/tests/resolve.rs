//! Resolution rules through the public API: precedence, triggers, expiry, handles, policy, shell
//! fields, batching, and structure safety (the injection suite).

use std::sync::Mutex;

use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use sigil_parser::{Document, NodeKind, ParseOptions, Scope, parse};
use sigil_resolver::{
    Access, Found, HandleOutcome, Lookup, MemorySource, PointerPattern, Policy, Render,
    ResolveError, Reveal, RunContext, SecretSource, SourceError, Trigger, resolve_step, to_json,
    to_yaml, validate,
};

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// The first document of `config`.
fn first_document(config: &str) -> Document {
    parse(config, &ParseOptions::default())
        .documents
        .into_iter()
        .next()
        .unwrap()
}

/// Resolves the step at `pointer` of `document` with the default policy.
fn resolve_at<'a>(
    document: &'a Document,
    pointer: &str,
    context: &RunContext,
    source: &impl SecretSource,
) -> sigil_resolver::ResolvedStep<'a> {
    block_on(resolve_step(
        document,
        pointer,
        context,
        source,
        &Policy::default(),
    ))
    .unwrap()
}

/// A source entry: scope, owner, environment, name, value.
type Entry<'a> = (Scope, Option<&'a str>, Option<&'a str>, &'a str, &'a str);

fn source(entries: &[Entry<'_>]) -> MemorySource {
    let mut source = MemorySource::new();
    for (scope, owner, env, name, value) in entries {
        source.insert(
            *scope,
            *owner,
            *env,
            name,
            SecretString::from(value.to_string()),
        );
    }
    source
}

fn context() -> RunContext {
    RunContext::new("acme")
        .pipeline("deploy")
        .pipeline_owner("owner")
        .environment("production")
        .trigger(Trigger::Manual { user: "ada".into() })
        .run_id("run-1")
}

/// Resolves `/steps/0` of `config` and returns the JSON of the step with values revealed, or the
/// diagnostics as `CODE line:column`.
fn check_step(
    config: &str,
    source: &impl SecretSource,
    context: &RunContext,
    policy: &Policy,
) -> Result<serde_json::Value, Vec<String>> {
    let parsed = parse(config, &ParseOptions::default());
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    match block_on(resolve_step(
        &parsed.documents[0],
        "/steps/0",
        context,
        source,
        policy,
    )) {
        Ok(step) => Ok(to_json(&step.node, &step.secrets, Render::Reveal)),
        Err(ResolveError::Diagnostics(diagnostics)) => Err(diagnostics
            .iter()
            .map(|d| format!("{} {}:{}", d.code, d.span.line, d.span.column))
            .collect()),
        Err(other) => panic!("{other}"),
    }
}

/// The value of `/steps/0/env/V` after resolution.
fn resolved_value(
    entries: &[Entry<'_>],
    reference: &str,
    context: &RunContext,
) -> Result<String, Vec<String>> {
    let config = format!("steps:\n  - env:\n      V: \"{reference}\"\n");
    check_step(&config, &source(entries), context, &Policy::default())
        .map(|json| json["env"]["V"].as_str().unwrap().to_owned())
}

use Scope::{Personal, Pipeline, Workspace};

#[test]
fn precedence_pipeline_then_workspace_then_personal() {
    let all: &[Entry<'_>] = &[
        (Personal, Some("ada"), None, "k", "personal"),
        (Workspace, None, None, "k", "workspace"),
        (Pipeline, Some("deploy"), None, "k", "pipeline"),
    ];
    assert_eq!(
        resolved_value(all, "<<secrets.k>>", &context()).unwrap(),
        "pipeline"
    );
    assert_eq!(
        resolved_value(&all[..2], "<<secrets.k>>", &context()).unwrap(),
        "workspace"
    );
    assert_eq!(
        resolved_value(&all[..1], "<<secrets.k>>", &context()).unwrap(),
        "personal"
    );
    // Another pipeline's value is not this pipeline's.
    let other: &[Entry<'_>] = &[
        (Pipeline, Some("other"), None, "k", "x"),
        (Workspace, None, None, "k", "workspace"),
    ];
    assert_eq!(
        resolved_value(other, "<<k>>", &context()).unwrap(),
        "workspace"
    );
}

#[test]
fn environment_value_beats_all_environments_within_a_scope_but_not_across() {
    let entries: &[Entry<'_>] = &[
        (Workspace, None, None, "k", "ws-all"),
        (Workspace, None, Some("production"), "k", "ws-prod"),
        (Workspace, None, Some("staging"), "k", "ws-staging"),
    ];
    assert_eq!(
        resolved_value(entries, "<<k>>", &context()).unwrap(),
        "ws-prod"
    );
    assert_eq!(
        resolved_value(entries, "<<k>>", &context().environment("dev")).unwrap(),
        "ws-all"
    );
    let across: &[Entry<'_>] = &[
        (Workspace, None, Some("production"), "k", "ws-prod"),
        (Pipeline, Some("deploy"), None, "k", "pipe-all"),
    ];
    assert_eq!(
        resolved_value(across, "<<k>>", &context()).unwrap(),
        "pipe-all"
    );
}

#[test]
fn pinned_scope_looks_only_there() {
    let entries: &[Entry<'_>] = &[
        (Workspace, None, None, "k", "workspace"),
        (Personal, Some("ada"), None, "k", "mine"),
    ];
    assert_eq!(
        resolved_value(entries, "<<secrets.k@personal>>", &context()).unwrap(),
        "mine"
    );
    assert_eq!(
        resolved_value(entries, "<<secrets.k@workspace>>", &context()).unwrap(),
        "workspace"
    );
    assert_eq!(
        resolved_value(entries, "<<secrets.k@pipeline>>", &context()),
        Err(vec!["SIG101 3:11".into()])
    );
}

#[test]
fn triggers_decide_the_personal_scope() {
    let entries: &[Entry<'_>] = &[
        (Personal, Some("ada"), None, "k", "ada's"),
        (Personal, Some("owner"), None, "k", "owner's"),
    ];
    let manual = context();
    let automated = context().trigger(Trigger::Automated);
    let schedule = context().trigger(Trigger::Schedule);
    assert_eq!(
        resolved_value(entries, "<<secrets.k>>", &manual).unwrap(),
        "ada's"
    );
    assert_eq!(
        resolved_value(entries, "<<secrets.k>>", &automated).unwrap(),
        "owner's"
    );
    // Unpinned: the personal scope is simply absent, so the name is unknown.
    assert_eq!(
        resolved_value(entries, "<<secrets.k>>", &schedule),
        Err(vec!["SIG101 3:11".into()])
    );
    // Pinned: the scope itself is unavailable.
    assert_eq!(
        resolved_value(entries, "<<secrets.k@personal>>", &schedule),
        Err(vec!["SIG102 3:11".into()])
    );
    let no_pipeline = RunContext::new("acme").trigger(Trigger::Schedule);
    assert_eq!(
        resolved_value(entries, "<<secrets.k@pipeline>>", &no_pipeline),
        Err(vec!["SIG102 3:11".into()])
    );
}

#[test]
fn unknown_secret_explains_where_it_looked_and_why_not_elsewhere() {
    let parsed = parse(
        "steps:\n  - env:\n      V: <<secrets.nope>>\n",
        &ParseOptions::default(),
    );
    let schedule = context().trigger(Trigger::Schedule);
    let diagnostics = block_on(validate(
        &parsed.documents[0],
        &schedule,
        &MemorySource::new(),
        &Policy::default(),
    ))
    .unwrap();
    assert_eq!(diagnostics.len(), 1);
    let d = &diagnostics[0];
    assert_eq!(d.code.as_str(), "SIG101");
    assert_eq!(d.message, "unknown secret `nope`");
    assert_eq!(d.pointer.as_deref(), Some("/steps/0/env/V"));
    assert_eq!(
        d.notes,
        [
            "looked in: pipeline deploy (production), pipeline deploy (all environments), workspace (production), workspace (all environments)",
            "personal scope not searched: scheduled runs have no user, so no personal scope",
        ]
    );
}

#[test]
fn policy_can_put_personal_first_in_development() {
    let entries: &[Entry<'_>] = &[
        (Workspace, None, None, "k", "team"),
        (Personal, Some("ada"), None, "k", "mine"),
    ];
    let policy =
        Policy::default().precedence_in("development", vec![Personal, Pipeline, Workspace]);
    let config = "steps:\n  - env:\n      V: <<k>>\n";
    let dev = check_step(
        config,
        &source(entries),
        &context().environment("development"),
        &policy,
    )
    .unwrap();
    assert_eq!(dev["env"]["V"], "mine");
    let prod = check_step(config, &source(entries), &context(), &policy).unwrap();
    assert_eq!(prod["env"]["V"], "team");
}

#[test]
fn expired_secrets_are_sig103() {
    let mut expired = MemorySource::new();
    expired.insert_expired(Workspace, None, None, "k", SecretString::from("old"));
    let config = "steps:\n  - env:\n      V: <<k>>\n";
    assert_eq!(
        check_step(config, &expired, &context(), &Policy::default()),
        Err(vec!["SIG103 3:10".into()])
    );
}

#[test]
fn policy_allow_list_is_sig105_elsewhere() {
    let policy = Policy::default().allow(PointerPattern::new(
        "/steps/*/fetch/{url,headers,body,query,auth}",
    ));
    let config = "steps:\n  - fetch:\n      url: https://x/<<k>>\n      method: <<k>>\n";
    let entries: &[Entry<'_>] = &[(Workspace, None, None, "k", "v")];
    assert_eq!(
        check_step(config, &source(entries), &context(), &policy),
        Err(vec!["SIG105 4:15".into()])
    );
    let allowed = "steps:\n  - fetch:\n      url: https://x/<<k>>\n      headers: {A: <<k>>}\n";
    let json = check_step(allowed, &source(entries), &context(), &policy).unwrap();
    assert_eq!(json["fetch"]["headers"]["A"], "v");
}

#[test]
fn every_problem_of_a_step_is_reported_at_once() {
    let config = "steps:\n  - env:\n      A: <<missing>>\n      B: <<secrets.k@personal>>\n    run: echo '<<k>>'\n";
    let entries: &[Entry<'_>] = &[(Workspace, None, None, "k", "v")];
    let schedule = context().trigger(Trigger::Schedule);
    assert_eq!(
        check_step(config, &source(entries), &schedule, &Policy::default()),
        Err(vec![
            "SIG101 3:10".into(),
            "SIG102 4:10".into(),
            "SIG106 5:16".into()
        ])
    );
}

#[test]
fn shell_fields_bind_variables_instead_of_splicing() {
    let config = "steps:\n  - run: |\n      echo <<k>> \"<<k>>\" <<secrets.k@workspace>>\n      cat <<EOF\n      <<other>>\n      EOF\n";
    let entries: &[Entry<'_>] = &[
        (Workspace, None, None, "k", "$(touch x)"),
        (Workspace, None, None, "other", "o"),
    ];
    let document = first_document(config);
    let step = resolve_at(&document, "/steps/0", &context(), &source(entries));
    assert_eq!(
        step.field("run").unwrap().expose_secret(),
        "echo \"${SIGIL_K}\" \"${SIGIL_K}\" \"${SIGIL_K_WORKSPACE}\"\ncat <<EOF\n${SIGIL_OTHER}\nEOF\n"
    );
    let env: Vec<(String, String)> = step
        .env_vars()
        .map(|(k, v)| (k.to_owned(), v.expose_secret().to_owned()))
        .collect();
    assert_eq!(
        env,
        [
            ("SIGIL_K".to_owned(), "$(touch x)".to_owned()),
            ("SIGIL_K_WORKSPACE".to_owned(), "$(touch x)".to_owned()),
            ("SIGIL_OTHER".to_owned(), "o".to_owned()),
        ]
    );
}

#[test]
fn names_that_map_to_the_same_variable_get_distinct_ones() {
    // `db.password`, `db-password` and `db_password` are three secrets; as variables they
    // would all be SIGIL_DB_PASSWORD.
    let config = "steps:\n  - run: echo <<secrets.db.password>> <<secrets.db-password>> <<db_password>> <<secrets.db.password>>\n";
    let entries: &[Entry<'_>] = &[
        (Workspace, None, None, "db.password", "dot"),
        (Workspace, None, None, "db-password", "dash"),
        (Workspace, None, None, "db_password", "underscore"),
    ];
    let document = first_document(config);
    let step = resolve_at(&document, "/steps/0", &context(), &source(entries));
    assert_eq!(
        step.field("run").unwrap().expose_secret(),
        "echo \"${SIGIL_DB_PASSWORD}\" \"${SIGIL_DB_PASSWORD_2}\" \"${SIGIL_DB_PASSWORD_3}\" \"${SIGIL_DB_PASSWORD}\""
    );
    let env: Vec<(&str, &str)> = step
        .env_vars()
        .map(|(k, v)| (k, v.expose_secret()))
        .collect();
    assert_eq!(
        env,
        [
            ("SIGIL_DB_PASSWORD", "dot"),
            ("SIGIL_DB_PASSWORD_2", "dash"),
            ("SIGIL_DB_PASSWORD_3", "underscore"),
        ]
    );
}

#[test]
fn shell_contexts_that_would_not_expand_are_sig106() {
    let entries: &[Entry<'_>] = &[(Workspace, None, None, "k", "v")];
    for (script, expected) in [
        ("run: echo '<<k>>'", "SIG106 2:16"),
        ("run: \"echo $((1 + <<k>>))\"", "SIG106 2:23"),
        (
            "run: |\n      cat <<'EOF'\n      <<k>>\n      EOF",
            "SIG106 4:7",
        ),
    ] {
        let config = format!("steps:\n  - {script}\n");
        assert_eq!(
            check_step(&config, &source(entries), &context(), &Policy::default()),
            Err(vec![expected.to_owned()]),
            "{script}"
        );
    }
}

/// Records every call so tests can prove batching and just-in-time reveal.
#[derive(Default)]
struct Recording {
    inner: MemorySource,
    calls: Mutex<Vec<String>>,
}

impl SecretSource for Recording {
    async fn find(
        &self,
        context: &RunContext,
        lookups: &[Lookup<'_>],
    ) -> Result<Vec<Found>, SourceError> {
        let names: Vec<&str> = lookups.iter().map(|l| l.name).collect();
        self.calls
            .lock()
            .unwrap()
            .push(format!("find {}", names.join(",")));
        self.inner.find(context, lookups).await
    }

    async fn reveal(
        &self,
        items: &[Reveal<'_>],
        access: Access<'_>,
    ) -> Result<Vec<SecretString>, SourceError> {
        let names: Vec<&str> = items.iter().map(|r| r.name).collect();
        self.calls.lock().unwrap().push(format!(
            "reveal {} for {} in {}",
            names.join(","),
            access.step,
            access.context.run_id
        ));
        self.inner.reveal(items, access).await
    }

    async fn redeem(
        &self,
        tokens: &[String],
        _access: Access<'_>,
    ) -> Result<Vec<HandleOutcome>, SourceError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("redeem {}", tokens.len()));
        Ok(tokens
            .iter()
            .map(|token| match token.as_str() {
                t if t.ends_with(".expired") => HandleOutcome::Expired,
                t if t.ends_with(".tampered") => HandleOutcome::BadSignature,
                t if t.ends_with(".elsewhere") => HandleOutcome::OtherWorkspace,
                _ => HandleOutcome::Redeemed {
                    name: "api_key".into(),
                    value: SecretString::from("handle-value"),
                },
            })
            .collect())
    }
}

#[test]
fn a_step_reveals_only_its_own_values_in_one_batched_call() {
    let config = "steps:\n  - env: {A: <<a>>, B: <<b>>, A2: <<a>>}\n  - env: {C: <<c>>}\n";
    let recording = Recording {
        inner: source(&[
            (Workspace, None, None, "a", "va"),
            (Workspace, None, None, "b", "vb"),
            (Workspace, None, None, "c", "vc"),
        ]),
        calls: Mutex::default(),
    };
    let document = first_document(config);
    let step = resolve_at(&document, "/steps/0", &context(), &recording);
    assert_eq!(
        step.secrets.iter().map(|s| &*s.name).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(
        *recording.calls.lock().unwrap(),
        ["find a,b", "reveal a,b for /steps/0 in run-1"]
    );
}

#[test]
fn validate_reveals_nothing() {
    let config = "steps:\n  - env: {A: <<a>>}\n  - env: {C: <<c>>}\n";
    let recording = Recording {
        inner: source(&[(Workspace, None, None, "a", "va")]),
        calls: Mutex::default(),
    };
    let parsed = parse(config, &ParseOptions::default());
    let diagnostics = block_on(validate(
        &parsed.documents[0],
        &context(),
        &recording,
        &Policy::default(),
    ))
    .unwrap();
    assert_eq!(
        diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect::<Vec<_>>(),
        ["SIG101"]
    );
    assert_eq!(*recording.calls.lock().unwrap(), ["find a,c"]);
}

#[test]
fn a_failing_step_reveals_nothing() {
    let config = "steps:\n  - env: {A: <<a>>, B: <<missing>>}\n";
    let recording = Recording {
        inner: source(&[(Workspace, None, None, "a", "va")]),
        calls: Mutex::default(),
    };
    let parsed = parse(config, &ParseOptions::default());
    let result = block_on(resolve_step(
        &parsed.documents[0],
        "/steps/0",
        &context(),
        &recording,
        &Policy::default(),
    ));
    assert!(matches!(result, Err(ResolveError::Diagnostics(_))));
    assert_eq!(*recording.calls.lock().unwrap(), ["find a,missing"]);
}

/// Rearranges a `find` answer.
type Garble = fn(&mut Vec<Found>);

/// Answers `find` with what its inner source found, rearranged by `garble`.
struct Garbled {
    inner: MemorySource,
    garble: Garble,
    revealed: Mutex<usize>,
}

impl SecretSource for Garbled {
    async fn find(
        &self,
        context: &RunContext,
        lookups: &[Lookup<'_>],
    ) -> Result<Vec<Found>, SourceError> {
        let mut found = self.inner.find(context, lookups).await?;
        (self.garble)(&mut found);
        Ok(found)
    }

    async fn reveal(
        &self,
        items: &[Reveal<'_>],
        access: Access<'_>,
    ) -> Result<Vec<SecretString>, SourceError> {
        *self.revealed.lock().unwrap() += items.len();
        self.inner.reveal(items, access).await
    }
}

#[test]
fn a_find_answer_out_of_order_or_out_of_range_is_the_sources_error() {
    let config = "steps:
  - env: {A: <<a>>, B: <<b>>}
";
    let parsed = parse(config, &ParseOptions::default());
    let entries = [
        (Workspace, None, None, "a", "va"),
        (Workspace, None, None, "b", "vb"),
    ];
    let garbles: [(&str, Garble); 4] = [
        ("as found", |_| {}),
        ("lookups reversed", |found| found.reverse()),
        ("a lookup not asked for", |found| found[1].lookup = 2),
        ("a slot not asked for", |found| found[0].slot = 99),
    ];
    for (what, garble) in garbles {
        let source = Garbled {
            inner: source(&entries),
            garble,
            revealed: Mutex::default(),
        };
        let result = block_on(resolve_step(
            &parsed.documents[0],
            "/steps/0",
            &context(),
            &source,
            &Policy::default(),
        ));
        if what == "as found" {
            assert_eq!(result.unwrap().secrets.len(), 2);
            continue;
        }
        assert!(
            matches!(&result, Err(ResolveError::Source(_))),
            "{what}: {result:?}"
        );
        assert_eq!(
            *source.revealed.lock().unwrap(),
            0,
            "{what}: nothing revealed"
        );
    }
}

#[test]
fn handles_are_redeemed_at_step_time() {
    let handle = "$secret:v1.cGF5bG9hZA.bWFj";
    let config = format!(
        "steps:\n  - fetch:\n      auth: \"{handle}\"\n      a: \"{handle}.expired\"\n      b: \"{handle}.tampered\"\n      c: \"{handle}.elsewhere\"\n"
    );
    let recording = Recording::default();
    let parsed = parse(&config, &ParseOptions::default());
    let handles: Vec<_> = parsed.references().map(|r| r.form.as_str()).collect();
    // The suffixed tokens are not valid handle shapes for the parser, so only `auth` is a handle.
    assert_eq!(handles, ["handle"]);
    let step = block_on(resolve_step(
        &parsed.documents[0],
        "/steps/0",
        &context(),
        &recording,
        &Policy::default(),
    ))
    .unwrap();
    assert_eq!(
        to_json(&step.node, &step.secrets, Render::Reveal)["fetch"]["auth"],
        "handle-value"
    );
    assert_eq!(step.secrets[0].name, "api_key");
}

#[test]
fn memory_sources_cannot_redeem_handles() {
    let config = "steps:\n  - fetch:\n      auth: $secret:v1.cGF5bG9hZA.bWFj\n";
    assert_eq!(
        check_step(config, &MemorySource::new(), &context(), &Policy::default()),
        Err(vec!["SIG104 3:13".into()])
    );
}

/// Values that break text substitution in other tools.
const HOSTILE: &[&str] = &[
    "quote \" and ' and \\ backslash",
    "line one\nline two\n",
    "key: value",
    "# not a comment",
    "- not a list",
    "---",
    "[not, a, list]",
    "*not_an_alias",
    "&not_an_anchor x",
    "!not_a_tag",
    "> folded?",
    "| literal?",
    "<<secrets.other>>",
    "{{secrets.other}}",
    "${{ secrets.other }}",
    "$secret:v1.cGF5bG9hZA.bWFj",
    "$(touch INJECTED)",
    "`touch INJECTED`",
    "no",
    "null",
    "012",
    "3",
    "héllo wörld ✓ 🎉",
    "\t tab and trailing space ",
];

/// Resolves the whole document with `value` as secret `k`, emits YAML and JSON, re-parses both
/// and checks every string is exactly what it should be, with nothing expanded twice.
fn check_injection(value: &str) {
    let config = "a: <<k>>\nb: \"x <<k>> y\"\nc: [<<k>>, plain]\nd:\n  e: '<<k>>'\nn: 3\nf: no\n";
    let entries: &[Entry<'_>] = &[
        (Workspace, None, None, "k", value),
        (Workspace, None, None, "other", "SECOND-ORDER"),
    ];
    let document = first_document(config);
    let step = resolve_at(&document, "", &context(), &source(entries));

    let expected = serde_json::json!({
        "a": value, "b": format!("x {value} y"), "c": [value, "plain"], "d": {"e": value}, "n": 3, "f": "no",
    });
    let json = to_json(&step.node, &step.secrets, Render::Reveal);
    assert_eq!(json, expected, "{value:?}");
    let reparsed: serde_json::Value = serde_json::from_str(&json.to_string()).unwrap();
    assert_eq!(reparsed, expected);

    let yaml = to_yaml(&step.node, &step.secrets, Render::Reveal);
    let back = parse(&yaml, &ParseOptions::default());
    let root = &back.documents[0].root;
    let text = |pointer: &str| {
        back.documents[0]
            .get(pointer)
            .unwrap()
            .as_scalar()
            .unwrap()
            .text()
            .to_owned()
    };
    assert_eq!(text("/a"), value, "{yaml}");
    assert_eq!(text("/b"), format!("x {value} y"), "{yaml}");
    assert_eq!(text("/c/0"), value, "{yaml}");
    assert_eq!(text("/d/e"), value, "{yaml}");
    let NodeKind::Mapping(entries) = &root.kind else {
        panic!("{yaml}")
    };
    assert_eq!(entries.len(), 6, "{yaml}");
    assert!(!yaml.contains("SECOND-ORDER") && !json.to_string().contains("SECOND-ORDER"));
}

#[test]
fn injection_suite_values_stay_data() {
    for value in HOSTILE {
        check_injection(value);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_values_stay_data(value in "[ -~\n\té✓🎉\"'\\\\]{1,40}") {
        check_injection(&value);
    }
}

#[test]
fn explain_lists_the_chain_and_the_winner_without_revealing() {
    let recording = Recording {
        inner: source(&[
            (Workspace, None, Some("production"), "k", "ws-prod"),
            (Personal, Some("ada"), None, "k", "mine"),
        ]),
        calls: Mutex::default(),
    };
    let explanation = block_on(sigil_resolver::explain(
        "k",
        None,
        &context(),
        &recording,
        &Policy::default(),
    ))
    .unwrap();
    let chain: Vec<(String, bool)> = explanation
        .slots
        .iter()
        .map(|(slot, found)| {
            let env = slot.environment.as_deref().unwrap_or("*");
            (format!("{}:{env}", slot.scope.as_str()), found.is_some())
        })
        .collect();
    assert_eq!(
        chain,
        [
            ("pipeline:production".to_owned(), false),
            ("pipeline:*".to_owned(), false),
            ("workspace:production".to_owned(), true),
            ("workspace:*".to_owned(), false),
            ("personal:production".to_owned(), false),
            ("personal:*".to_owned(), true),
        ]
    );
    assert_eq!(explanation.winner, Some(2));
    assert_eq!(*recording.calls.lock().unwrap(), ["find k"]);

    let schedule = context().trigger(Trigger::Schedule);
    let pinned = block_on(sigil_resolver::explain(
        "k",
        Some(Personal),
        &schedule,
        &recording,
        &Policy::default(),
    ))
    .unwrap();
    assert_eq!(
        pinned.unavailable.as_deref(),
        Some("scheduled runs have no user, so no personal scope")
    );
}

#[test]
fn preview_masks_every_value_and_reveals_nothing() {
    let recording = Recording {
        inner: source(&[(Workspace, None, None, "a", "secret-a")]),
        calls: Mutex::default(),
    };
    let parsed = parse(
        "steps:\n  - env: {A: \"x <<a>>\"}\n",
        &ParseOptions::default(),
    );
    let step = block_on(sigil_resolver::preview_step(
        &parsed.documents[0],
        "/steps/0",
        &context(),
        &recording,
        &Policy::default(),
    ))
    .unwrap();
    assert_eq!(
        to_json(&step.node, &step.secrets, Render::Reveal)["env"]["A"],
        "x ***"
    );
    assert_eq!(*recording.calls.lock().unwrap(), ["find a"]);
}

#[test]
fn names_resolve_with_the_same_precedence_in_one_batch() {
    let recording = Recording {
        inner: source(&[
            (Workspace, None, None, "a", "ws"),
            (Pipeline, Some("deploy"), None, "a", "pipe"),
            (Personal, Some("someone-else"), None, "b", "x"),
        ]),
        calls: Mutex::default(),
    };
    let names = vec!["a".to_owned(), "b".to_owned()];
    let result = block_on(sigil_resolver::resolve_names(
        &names,
        &context(),
        &recording,
        &Policy::default(),
        "command",
    ))
    .unwrap();
    let got: Vec<(&str, &str)> = result
        .secrets
        .iter()
        .map(|s| (&*s.name, s.value.expose_secret()))
        .collect();
    assert_eq!(got, [("a", "pipe")]);
    assert_eq!(
        result.missing,
        [("b".to_owned(), "not visible to this run".to_owned())]
    );
    assert_eq!(
        *recording.calls.lock().unwrap(),
        ["find a,b", "reveal a for command in run-1"]
    );
}
