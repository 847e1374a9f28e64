//! `sigil redact` through the real binary.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn sigil() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigil"));
    command.env_remove("RUST_LOG");
    command
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/redactor")
}

/// Runs `sigil redact ARGS` on `input`; returns (exit code, stdout, stderr).
fn redact(args: &[&str], envs: &[(&str, &str)], input: &[u8]) -> (i32, String, String) {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_sigil"));
    command
        .env_remove("RUST_LOG")
        .arg("redact")
        .args(args)
        .current_dir(fixtures());
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = command.write_stdin(input.to_vec()).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Each `fixtures/redactor/<case>.in` is redacted with the secrets of `<case>.args` (one
/// argument per line) and compared with `<case>.out`.
#[test]
fn fixture_cases() {
    let mut cases = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "in") {
            continue;
        }
        let args = std::fs::read_to_string(path.with_extension("args")).unwrap();
        let args: Vec<&str> = args.lines().filter(|l| !l.is_empty()).collect();
        let input = std::fs::read(&path).unwrap();
        let expected = std::fs::read_to_string(path.with_extension("out")).unwrap();
        let (code, stdout, stderr) = redact(&args, &[], &input);
        assert_eq!(
            (code, stdout.as_str()),
            (0, expected.as_str()),
            "{}: {stderr}",
            path.display()
        );
        cases += 1;
    }
    assert!(cases >= 3, "fixtures missing");
}

#[test]
fn env_names_and_globs() {
    let envs = [
        ("CI_TOKEN", "tok-1111-aaaa"),
        ("NPM_TOKEN", "npm-2222-bbbb"),
        ("OTHER", "other-3333"),
    ];
    let input = b"a tok-1111-aaaa b npm-2222-bbbb c other-3333\n";
    let (code, stdout, _) = redact(
        &["--from-env", "*_TOKEN", "--mask-style", "name"],
        &envs,
        input,
    );
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "a [secrets.CI_TOKEN] b [secrets.NPM_TOKEN] c other-3333\n"
    );
    let (code, stdout, _) = redact(&["--from-env", "OTHER", "--mask", "<hidden>"], &envs, input);
    assert_eq!(code, 0);
    assert_eq!(stdout, "a tok-1111-aaaa b npm-2222-bbbb c <hidden>\n");
}

#[test]
fn refuses_without_values() {
    let (code, stdout, stderr) = redact(&[], &[], b"x\n");
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(stderr.contains("no values to mask"), "{stderr}");
    // A glob that matches nothing is no values either.
    let (code, _, _) = redact(&["--from-env", "SIGIL_TEST_NOTHING_*"], &[], b"x\n");
    assert_eq!(code, 2);
    // So are values that are all too short; their names are reported, never their values.
    let (code, _, stderr) = redact(&["--from-env", "PIN"], &[("PIN", "987")], b"x\n");
    assert_eq!(code, 2);
    assert!(stderr.contains("not masking PIN"), "{stderr}");
    assert!(!stderr.contains("987"), "{stderr}");
    let (code, _, stderr) = redact(&["--from-env", "SIGIL_TEST_UNSET"], &[], b"x\n");
    assert_eq!(code, 2);
    assert!(stderr.contains("SIGIL_TEST_UNSET is not set"), "{stderr}");
}

#[test]
fn files_are_one_stream() {
    let dir = tempfile::tempdir().unwrap();
    // The value is cut across the two files, as `cat a b | sigil redact` would see it.
    std::fs::write(dir.path().join("a.log"), "first hunter2hun").unwrap();
    std::fs::write(dir.path().join("b.log"), "ter2 last\n").unwrap();
    let output = sigil()
        .current_dir(dir.path())
        .args(["redact", "--from-env", "PW", "a.log", "b.log"])
        .env("PW", "hunter2hunter2")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "first *** last\n");
    let missing = sigil()
        .current_dir(dir.path())
        .args(["redact", "--from-env", "PW", "missing.log"])
        .env("PW", "hunter2hunter2")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// A child writes the secret in two parts with a pause between them; the pipe delivers them
/// as separate reads.
#[test]
fn slow_writer_child() {
    let mut child = Command::new("sh")
        .args(["-c", "printf 'pw=hunter2hun'; sleep 0.3; printf 'ter2hunter2!\\n'; sleep 0.3; printf 'done\\n'"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let output = sigil()
        .args(["redact", "--from-env", "PW"])
        .env("PW", "hunter2hunter2!")
        .stdin(Stdio::from(child.stdout.take().unwrap()))
        .output()
        .unwrap();
    child.wait().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "pw=hunter2***\ndone\n"
    );
}

/// Output is released as soon as it is safe, before the input ends: the test reads the safe
/// part while sigil's stdin is still open (it would wait forever otherwise).
#[test]
fn output_is_live() {
    let mut child = sigil()
        .args(["redact", "--from-env", "PW"])
        .env("PW", "hunter2hunter2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(b"first line\npw=hunter2hun").unwrap();
    stdin.flush().unwrap();
    let expected = b"first line\npw=";
    let mut got = Vec::new();
    let mut buffer = [0u8; 64];
    while got.len() < expected.len() {
        let n = stdout.read(&mut buffer).unwrap();
        assert!(n > 0, "sigil closed its output early");
        got.extend_from_slice(&buffer[..n]);
    }
    // Exactly the safe part: the held `hunter2hun` could still be the secret.
    assert_eq!(String::from_utf8_lossy(&got), "first line\npw=");
    stdin.write_all(b"ter2 end\n").unwrap();
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "*** end\n");
    assert!(child.wait().unwrap().success());
}

/// `sigil redact big | head -c 10`: the reader goes away; sigil exits 0, quietly.
#[test]
fn broken_pipe_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.log");
    std::fs::write(
        &big,
        "a line of log output with hunter2hunter2 inside\n".repeat(200_000),
    )
    .unwrap();
    let mut child = sigil()
        .args(["redact", "--from-env", "PW"])
        .arg(&big)
        .env("PW", "hunter2hunter2")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"a line of ");
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

/// `sigil ARGS` in a store of its own (`env`: `SIGIL_HOME` and maybe `SIGIL_STORE`), with
/// `stdin`; returns (exit code, stdout, stderr).
fn in_store(env: &[(&str, &str)], args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_sigil"));
    command
        .args(args)
        .env("SIGIL_ACTOR", "tester")
        .env_remove("RUST_LOG")
        .env_remove("SIGIL_STORE")
        .env_remove("SIGIL_MASTER_KEY")
        .env_remove("SIGIL_PASSPHRASE")
        .env_remove("SIGIL_WORKSPACE");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command
        .write_stdin(stdin.as_bytes().to_vec())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `--from-store` masks the live secrets of every scope and environment, each read audited;
/// `--all-versions` adds the values rotated away.
fn values_from_the_store(env: &[(&str, &str)]) {
    let ok = |args: &[&str], stdin: &str| {
        let (code, stdout, stderr) = in_store(env, args, stdin);
        assert_eq!(code, 0, "sigil {args:?}: {stderr}");
        stdout
    };
    // Nothing in the store yet: nothing to mask is refused, as with no flags at all.
    ok(&["init"], "");
    let (code, stdout, stderr) = in_store(env, &["redact", "--from-store"], "x\n");
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains("no values to mask"), "{stderr}");

    ok(&["secrets", "set", "API_TOKEN"], "first-token-value-1111\n");
    ok(
        &["secrets", "rotate", "API_TOKEN", "--reason", "leaked"],
        "second-token-value-2222\n",
    );
    let db = &[
        "secrets",
        "set",
        "DB_PASS",
        "--pipeline",
        "deploy",
        "--env",
        "production",
    ];
    ok(db, "prod-db-password-3333\n");
    ok(
        &["secrets", "set", "MY_KEY", "--user", "alice"],
        "personal-key-4444\n",
    );
    ok(
        &["secrets", "set", "GONE", "--ttl", "1s"],
        "expired-value-5555\n",
    );
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let audited_before = ok(&["audit"], "").lines().count();

    let base64 = "cHJvZC1kYi1wYXNzd29yZC0zMzMz"; // prod-db-password-3333
    let log = format!(
        "old first-token-value-1111 new second-token-value-2222\n\
         db prod-db-password-3333 as base64 {base64}\n\
         mine personal-key-4444 gone expired-value-5555\n"
    );
    let args = ["redact", "--from-store", "--mask-style", "name"];
    let (code, stdout, stderr) = in_store(env, &args, &log);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "old first-token-value-1111 new [secrets.API_TOKEN]\n\
         db [secrets.DB_PASS] as base64 [secrets.DB_PASS]\n\
         mine [secrets.MY_KEY] gone expired-value-5555\n"
    );
    // The store refuses to decrypt an expired secret; the warning names it.
    assert!(stderr.contains("not masking secret `GONE`"), "{stderr}");
    assert!(stderr.contains("expired"), "{stderr}");
    // One access record per value read: the three live secrets' current values.
    let audit = ok(&["audit"], "");
    let new_records: Vec<&str> = audit.lines().skip(audited_before).collect();
    assert_eq!(new_records.len(), 3, "{audit}");
    assert!(new_records.iter().all(|r| r.contains("access")), "{audit}");

    let args = ["redact", "--from-store", "--all-versions"];
    let (code, stdout, stderr) = in_store(env, &args, &log);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "old *** new ***\ndb *** as base64 ***\nmine *** gone expired-value-5555\n"
    );
    for value in ["token-value", "password", "personal-key"] {
        assert!(!stderr.contains(value), "{stderr}");
    }
}

#[test]
fn values_from_a_sqlite_store() {
    let home = tempfile::tempdir().unwrap();
    values_from_the_store(&[("SIGIL_HOME", home.path().to_str().unwrap())]);
}

#[test]
fn values_from_a_postgres_store() {
    let Some(url) = sigil_store::test_postgres_url() else {
        return;
    };
    let schema = sigil_store::testing::TestSchema::new(&url);
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = format!("{url}{sep}schema={}", schema.name);
    let home = tempfile::tempdir().unwrap();
    values_from_the_store(&[
        ("SIGIL_HOME", home.path().to_str().unwrap()),
        ("SIGIL_STORE", &store),
    ]);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(schema.drop_schema());
}
