//! `sigil run` through the real binary with real child processes: masking, ordering, exit codes,
//! injection, signals, the environment of the command form, and the README quickstart.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const TOKEN: &str = "tok-5f2c9a7e1b3d8c4f";

fn sigil() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigil"));
    command
        .env_remove("SIGIL_STORE")
        .env_remove("SIGIL_WORKSPACE")
        .env("NO_COLOR", "1");
    command
}

/// A temp dir with a secrets file (`secrets.json`) and a pipeline (`pipeline.yaml`).
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(pipeline: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let secrets = serde_json::json!({
            "TOKEN": TOKEN,
            "MULTI": "-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\nEEEEFFFFGGGGHHHH\n-----END KEY-----",
            "EVIL1": "$(touch INJECTED)",
            "EVIL2": "\"; touch INJECTED; \"",
            "EVIL3": "`touch INJECTED`",
            "EVIL4": "'; touch INJECTED; '",
        });
        std::fs::write(dir.path().join("secrets.json"), secrets.to_string()).unwrap();
        std::fs::write(dir.path().join("pipeline.yaml"), pipeline).unwrap();
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self) -> Command {
        let mut command = sigil();
        command
            .current_dir(self.dir.path())
            .env("SIGIL_HOME", self.path("home"))
            .args(["run", "pipeline.yaml", "--secrets", "secrets.json"]);
        command
    }

    fn run(&self) -> Output {
        self.command().stdin(Stdio::null()).output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_secret(output: &Output) {
    for stream in [&output.stdout, &output.stderr] {
        let stream = text(stream);
        assert!(!stream.contains(TOKEN), "token leaked: {stream}");
        assert!(
            !stream.contains("AAAABBBBCCCCDDDD"),
            "key line leaked: {stream}"
        );
    }
}

#[test]
fn masks_stdout_and_stderr_split_writes_base64_and_multiline_values() {
    let setup = Setup::new(
        r#"
name: masking
steps:
  - name: out
    run: echo "token <<TOKEN>>"
  - name: err
    run: echo "token <<TOKEN>>" >&2
  - name: split
    run: |
      t="<<TOKEN>>"
      printf 'split %s' "$(printf '%s' "$t" | cut -c1-7)"
      sleep 0.3
      printf '%s end\n' "$(printf '%s' "$t" | cut -c8-)"
  - name: base64
    run: printf '%s' "<<TOKEN>>" | base64
  - name: multi
    run: |
      echo "<<MULTI>>"
      echo "<<MULTI>>" | tr '\n' ' '
"#,
    );
    let output = setup.run();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_no_secret(&output);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("token ***\n"), "{stdout}");
    assert!(stdout.contains("split *** end\n"), "{stdout}");
    assert!(text(&output.stderr).contains("token ***\n"));
    assert!(!stdout.contains(&base64(TOKEN)), "{stdout}");
    // Step headers and the summary go to stderr.
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("==> out\n") && stderr.contains("==> 5 of 5 steps run"),
        "{stderr}"
    );
}

fn base64(value: &str) -> String {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' '{value}' | base64"))
        .output()
        .unwrap();
    text(&output.stdout).trim().to_owned()
}

#[test]
fn lines_keep_their_order_and_nothing_is_lost_past_the_pipe_buffer() {
    // 200,000 numbered lines (about 1.3 MB, far past a 64 KiB pipe buffer), then exit at once.
    let setup =
        Setup::new("steps:\n  - name: flood\n    run: seq 1 200000; echo \"last <<TOKEN>>\"\n");
    let output = setup.run();
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 200_001);
    for (i, line) in lines[..200_000].iter().enumerate() {
        assert_eq!(*line, (i + 1).to_string());
    }
    assert_eq!(lines[200_000], "last ***");
}

#[test]
fn a_failing_step_stops_the_pipeline_with_its_exit_code() {
    let setup = Setup::new(
        "steps:\n  - name: one\n    run: exit 7\n  - name: two\n    run: touch TWO_RAN\n",
    );
    let output = setup.run();
    assert_eq!(output.status.code(), Some(7));
    assert!(text(&output.stderr).contains("step \"one\" failed with exit code 7"));
    assert!(!setup.path("TWO_RAN").exists());
}

#[test]
fn a_missing_secret_stops_the_pipeline_before_the_step_starts() {
    let setup = Setup::new(
        "steps:\n  - name: one\n    run: touch ONE_RAN\n  - name: two\n    run: touch TWO_RAN; echo <<NOPE>>\n",
    );
    let output = setup.run();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("pipeline.yaml:5:30: unknown secret `NOPE` [SIG101]"),
        "{stderr}"
    );
    assert!(stderr.contains("step \"two\" was not started"), "{stderr}");
    assert!(setup.path("ONE_RAN").exists());
    assert!(!setup.path("TWO_RAN").exists());
}

#[test]
fn values_never_become_shell_code() {
    let setup = Setup::new(
        r#"
steps:
  - name: unquoted
    run: echo <<EVIL1>> <<EVIL2>> <<EVIL3>> <<EVIL4>>
  - name: double-quoted
    run: echo "<<EVIL1>> <<EVIL2>> <<EVIL3>> <<EVIL4>>"
  - name: heredoc
    run: |
      cat <<EOF
      <<EVIL1>> <<EVIL2>> <<EVIL3>> <<EVIL4>>
      EOF
  - name: command substitution
    run: x=$(echo <<EVIL1>>); echo "$x"
"#,
    );
    let output = setup.run();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!setup.path("INJECTED").exists(), "a value ran as code");
    // The values arrived as data (masked in the log).
    assert_eq!(
        text(&output.stdout).matches("***").count(),
        13,
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn sigterm_reaches_the_child_which_can_clean_up() {
    let setup = Setup::new(
        "steps:\n  - name: long\n    run: |\n      trap 'echo cleaned up; touch CLEANED; exit 143' TERM\n      touch STARTED\n      while :; do sleep 0.05; done\n",
    );
    let child = setup
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the step is running.
    let started = std::time::Instant::now();
    while !setup.path("STARTED").exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(setup.path("STARTED").exists(), "the step never started");
    nix_kill(child.id(), "TERM");
    let output = child.wait_with_output().unwrap();
    assert!(
        setup.path("CLEANED").exists(),
        "the child did not get SIGTERM: {}",
        text(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(143));
    assert!(text(&output.stdout).contains("cleaned up"));
}

fn nix_kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_command_form_sets_secrets_and_passes_the_exit_code_through() {
    let setup = Setup::new("steps: []\n");
    let output = sigil()
        .current_dir(setup.dir.path())
        .args([
            "run",
            "--secrets",
            "secrets.json",
            "--",
            "sh",
            "-c",
            "echo \"$TOKEN\"; exit 3",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(text(&output.stdout), "***\n");
}

#[test]
fn a_secret_overrides_the_environment_unless_preserved() {
    let setup = Setup::new("steps: []\n");
    std::fs::write(
        setup.path("s.env"),
        "HOME_DIR=from-secret-value\nbad.name=some-value-here\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut command = sigil();
        command
            .current_dir(setup.dir.path())
            .env("HOME_DIR", "from-environment")
            .args(["run", "--secrets", "s.env"])
            .args(extra)
            .args(["--", "sh", "-c", "printf '%s' \"$HOME_DIR\" | tr a-z A-Z"]);
        command.stdin(Stdio::null()).output().unwrap()
    };
    let overridden = run(&[]);
    // The value arrives (upper-cased by the child so the mask does not hide the proof).
    assert_eq!(text(&overridden.stdout), "FROM-SECRET-VALUE");
    assert!(
        text(&overridden.stderr)
            .contains("warning: secret bad.name is skipped: not a valid environment variable name")
    );
    let preserved = run(&["--preserve-env", "HOME_DIR"]);
    assert_eq!(text(&preserved.stdout), "FROM-ENVIRONMENT");
}

#[test]
fn the_command_form_passes_stdin_through_and_reports_signals_as_128_plus_n() {
    let setup = Setup::new("steps: []\n");
    let mut child = sigil()
        .current_dir(setup.dir.path())
        .args([
            "run",
            "--secrets",
            "secrets.json",
            "--",
            "sh",
            "-c",
            "cat; kill -9 $$",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("input {TOKEN}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(text(&output.stdout), "input ***\n");
    assert_eq!(output.status.code(), Some(128 + 9));
}

#[test]
fn a_run_from_the_store_audits_each_access_with_pipeline_and_run() {
    let setup = Setup::new("name: audited\nsteps:\n  - name: use\n    run: echo <<TOKEN>>\n");
    let home = setup.path("home");
    let with_home = |args: &[&str]| {
        let mut command = sigil();
        command
            .current_dir(setup.dir.path())
            .env("SIGIL_HOME", &home)
            .args(args)
            .stdin(Stdio::null());
        command.output().unwrap()
    };
    assert!(with_home(&["init"]).status.success());
    let mut set = sigil();
    set.current_dir(setup.dir.path())
        .env("SIGIL_HOME", &home)
        .args(["secrets", "set", "TOKEN"]);
    set.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = set.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), TOKEN.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());

    let output = with_home(&["run", "pipeline.yaml", "--run-id", "run-42"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "***\n");
    let audit = with_home(&["audit", "--run", "run-42", "--format", "json"]);
    let audit = text(&audit.stdout);
    assert!(
        audit.contains("\"pipeline\": \"audited\"") || audit.contains("\"pipeline\":\"audited\""),
        "{audit}"
    );
    assert!(audit.contains("/steps/0"), "{audit}");
    assert!(!audit.contains(TOKEN));
}

/// The README's first command, exactly as a new user runs it from the repository root.
#[test]
fn the_readme_quickstart_runs_and_prints_no_fixture_secret() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let home = tempfile::tempdir().unwrap();
    let output = sigil()
        .current_dir(&root)
        .env("SIGIL_HOME", home.path())
        .args(["run", "fixtures/pipelines/quickstart.yaml"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let fixture = std::fs::read_to_string(root.join("fixtures/pipelines/quickstart.env")).unwrap();
    let both = format!("{}{}", text(&output.stdout), text(&output.stderr));
    for line in fixture
        .lines()
        .filter(|l| !l.starts_with('#') && l.len() > 8)
    {
        let value = line
            .split_once('=')
            .map_or(line, |(_, v)| v)
            .trim_matches('"');
        assert!(!both.contains(value), "{value:?} leaked:\n{both}");
    }
    assert!(both.contains("the deploy token is ***"), "{both}");
    assert!(both.contains("5 of 5 steps run"), "{both}");
}
