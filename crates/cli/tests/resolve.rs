//! `sigil resolve` and `sigil explain` through the real binary.
//!
//! Fixture cases live in `fixtures/resolver/<case>/`: `config.yaml`, `secrets.json` (a scoped
//! secrets file), `args` (extra flags) and `expected.json`, the output of
//! `sigil resolve config.yaml --secrets secrets.json --format json --reveal ARGS`. A new case is
//! a new directory. `SIGIL_BLESS=1` rewrites the expected files (review them before committing).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn sigil() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigil"));
    command
        .env_remove("SIGIL_STORE")
        .env_remove("SIGIL_WORKSPACE")
        .env("NO_COLOR", "1");
    command.stdin(Stdio::null());
    command
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/resolver")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn fixture_cases() {
    let bless = std::env::var_os("SIGIL_BLESS").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "fixture cases missing");
    let mut failures = Vec::new();
    for case in &cases {
        let args = std::fs::read_to_string(case.join("args")).unwrap();
        let output = sigil()
            .current_dir(case)
            .args([
                "resolve",
                "config.yaml",
                "--secrets",
                "secrets.json",
                "--format",
                "json",
                "--reveal",
            ])
            .args(args.split_whitespace())
            .output()
            .unwrap();
        let actual: serde_json::Value = match serde_json::from_slice(&output.stdout) {
            Ok(value) => value,
            Err(err) => panic!(
                "{}: not JSON ({err}): {}",
                case.display(),
                text(&output.stderr)
            ),
        };
        let expected_path = case.join("expected.json");
        if bless {
            std::fs::write(
                &expected_path,
                serde_json::to_string_pretty(&actual).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
        if actual != expected {
            failures.push(format!(
                "{}:\nexpected {}\nactual   {}",
                case.display(),
                serde_json::to_string_pretty(&expected).unwrap(),
                serde_json::to_string_pretty(&actual).unwrap()
            ));
        }
        let has_errors = expected["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["severity"] == "error");
        let code = if has_errors { 1 } else { 0 };
        if output.status.code() != Some(code) {
            failures.push(format!(
                "{}: exit {:?}, expected {code}",
                case.display(),
                output.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn values_print_masked_unless_revealed_and_yaml_reparses() {
    let case = fixtures().join("injection");
    let run = |extra: &[&str]| {
        sigil()
            .current_dir(&case)
            .args(["resolve", "config.yaml", "--secrets", "secrets.json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let masked = run(&[]);
    assert!(masked.status.success());
    let masked = text(&masked.stdout);
    assert!(masked.contains("a: \"***\""), "{masked}");
    assert!(!masked.contains("line one"), "{masked}");
    // The revealed YAML holds every value as the same string (checked with sigil's own parser,
    // which reads YAML structure exactly; nothing is resolved again here).
    let revealed = run(&["--reveal"]);
    let yaml = text(&revealed.stdout);
    let parsed = sigil_parser::parse(&yaml, &sigil_parser::ParseOptions::default());
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap())
            .unwrap();
    for pointer in ["/a", "/b", "/c/0", "/c/1", "/d/e", "/f"] {
        let node = parsed.documents[0]
            .get(pointer)
            .unwrap_or_else(|| panic!("{pointer} in {yaml}"));
        let scalar = node.as_scalar().unwrap();
        assert_eq!(
            scalar.text(),
            expected["documents"][0]
                .pointer(pointer)
                .unwrap()
                .as_str()
                .unwrap(),
            "{yaml}"
        );
    }
    let entries = parsed.documents[0].root.as_mapping().unwrap();
    assert_eq!(entries.len(), 6, "{yaml}");
}

/// A store in a temp dir with one secret set through the CLI.
struct StoreSetup {
    dir: tempfile::TempDir,
}

impl StoreSetup {
    fn new() -> StoreSetup {
        let setup = StoreSetup {
            dir: tempfile::tempdir().unwrap(),
        };
        assert!(setup.sigil(&["init"]).status.success());
        setup.set("api_token", "store-token-0123456789", &[]);
        setup.set(
            "api_token",
            "prod-token-0123456789",
            &["--env", "production"],
        );
        std::fs::write(
            setup.dir.path().join("config.yaml"),
            "steps:\n  - env:\n      TOKEN: <<secrets.api_token>>\n",
        )
        .unwrap();
        setup
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = sigil();
        command
            .current_dir(self.dir.path())
            .env("SIGIL_HOME", self.dir.path().join("home"))
            .args(args);
        command
    }

    fn sigil(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn set(&self, name: &str, value: &str, extra: &[&str]) {
        let mut command = self.command(&["secrets", "set", name]);
        command
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), value.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
    }

    fn access_records(&self) -> Vec<serde_json::Value> {
        let audit = self.sigil(&["audit", "--format", "json"]);
        let records: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
        let records = match records {
            serde_json::Value::Array(records) => records,
            other => other["records"].as_array().cloned().unwrap_or_default(),
        };
        records
            .into_iter()
            .filter(|r| r["action"].as_str().is_some_and(|a| a.contains("access")))
            .collect()
    }
}

#[test]
fn resolving_from_the_store_audits_only_revealed_values() {
    let setup = StoreSetup::new();
    let masked = setup.sigil(&[
        "resolve",
        "config.yaml",
        "--env",
        "production",
        "--format",
        "json",
    ]);
    assert!(masked.status.success(), "{}", text(&masked.stderr));
    let masked: serde_json::Value = serde_json::from_slice(&masked.stdout).unwrap();
    assert_eq!(masked["documents"][0]["steps"][0]["env"]["TOKEN"], "***");
    assert!(
        setup.access_records().is_empty(),
        "a masked resolve must not read values"
    );

    let revealed = setup.sigil(&[
        "resolve",
        "config.yaml",
        "--env",
        "production",
        "--reveal",
        "--format",
        "json",
        "--pipeline",
        "p1",
        "--run-id",
        "run-7",
        "--step",
        "/steps/0",
    ]);
    assert!(revealed.status.success(), "{}", text(&revealed.stderr));
    let revealed: serde_json::Value = serde_json::from_slice(&revealed.stdout).unwrap();
    assert_eq!(
        revealed["documents"][0]["env"]["TOKEN"],
        "prod-token-0123456789"
    );
    let records = setup.access_records();
    assert_eq!(records.len(), 1, "{records:?}");
    let record = records[0].to_string();
    for expected in ["p1", "run-7", "/steps/0", "api_token", "production"] {
        assert!(
            record.contains(expected),
            "{expected} missing from {record}"
        );
    }
    assert!(!record.contains("prod-token"), "{record}");
}

#[test]
fn check_validates_against_the_store_without_reading_values() {
    let setup = StoreSetup::new();
    std::fs::write(
        setup.dir.path().join("bad.yaml"),
        "steps:\n  - env:\n      A: <<secrets.api_token>>\n      B: <<secrets.nope>>\n",
    )
    .unwrap();
    let output = setup.sigil(&[
        "check",
        "bad.yaml",
        "--store",
        "home/store.db",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let codes: Vec<_> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].clone())
        .collect();
    assert_eq!(codes, ["SIG101"]);
    assert_eq!(report["diagnostics"][0]["line"], 4);
    assert!(setup.access_records().is_empty());
}

#[test]
fn explain_shows_the_chain_and_the_winner() {
    let setup = StoreSetup::new();
    let output = setup.sigil(&[
        "explain",
        "api_token",
        "--env",
        "production",
        "--pipeline",
        "p1",
        "--user",
        "ada",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "api_token: found");
    assert!(
        lines[2].contains("pipeline p1 (production)") && lines[2].ends_with("not set"),
        "{stdout}"
    );
    assert!(
        lines[4].contains("workspace (production)") && lines[4].contains("<- wins"),
        "{stdout}"
    );
    assert!(
        lines[5].contains("workspace (all environments)") && lines[5].contains("(shadowed)"),
        "{stdout}"
    );
    assert!(!stdout.contains("token-0123456789"));

    let missing = setup.sigil(&["explain", "nope", "--trigger", "schedule"]);
    assert_eq!(missing.status.code(), Some(1));
    let stdout = text(&missing.stdout);
    assert!(stdout.starts_with("nope: not found\n"), "{stdout}");
    assert!(
        stdout.contains("personal scope not searched: scheduled runs have no user"),
        "{stdout}"
    );
}
