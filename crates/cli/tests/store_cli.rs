//! The store commands through the real `sigil` binary: flows, the leak canary and crash safety.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const SIGIL: &str = env!("CARGO_BIN_EXE_sigil");

/// A temporary `SIGIL_HOME` and helpers to run `sigil` in it.
struct Home {
    dir: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
            extra_env: Vec::new(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(SIGIL);
        cmd.args(args)
            .env("SIGIL_HOME", self.path())
            .env("SIGIL_ACTOR", "tester")
            .env("RUST_LOG", "trace")
            .env_remove("SIGIL_STORE")
            .env_remove("SIGIL_MASTER_KEY")
            .env_remove("SIGIL_PASSPHRASE")
            .env_remove("SIGIL_WORKSPACE");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `sigil args` with `stdin`; returns (exit code, stdout, stderr).
    fn run(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let (code, out, err) = self.run(args, stdin);
        assert_eq!(code, 0, "sigil {args:?} failed: {err}");
        out
    }
}

#[test]
fn init_refuses_a_second_store_and_commands_say_how_to_create_one() {
    let home = Home::new();
    let (code, _, err) = home.run(&["secrets", "list"], "");
    assert_eq!(code, 2);
    assert!(err.contains("sigil init"), "{err}");
    home.ok(&["init"], "");
    let mode = std::fs::metadata(home.path().join("master.key")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    let (code, _, err) = home.run(&["init"], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn secrets_lifecycle() {
    let home = Home::new();
    home.ok(&["init"], "");
    home.ok(
        &[
            "secrets",
            "set",
            "db_password",
            "--description",
            "main db",
            "--rotation-days",
            "30",
        ],
        "one\n",
    );
    home.ok(
        &[
            "secrets",
            "rotate",
            "db_password",
            "--reason",
            "leaked",
            "--if-version",
            "1",
        ],
        "two\n",
    );
    let (code, _, err) = home.run(
        &[
            "secrets",
            "rotate",
            "db_password",
            "--reason",
            "r",
            "--if-version",
            "1",
        ],
        "three\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("is at version 2, not 1"), "{err}");
    assert_eq!(
        home.ok(&["secrets", "get", "db_password", "--reveal"], ""),
        "two\n"
    );
    let meta: serde_json::Value =
        serde_json::from_str(&home.ok(&["secrets", "get", "db_password", "--format", "json"], ""))
            .unwrap();
    assert_eq!(meta["version"], 2);
    assert_eq!(meta["description"], "main db");
    home.ok(
        &[
            "secrets",
            "rollback",
            "db_password",
            "--to",
            "1",
            "--reason",
            "bad rotation",
        ],
        "",
    );
    assert_eq!(
        home.ok(&["secrets", "get", "db_password", "--reveal"], ""),
        "one\n"
    );
    let history: serde_json::Value = serde_json::from_str(&home.ok(
        &["secrets", "history", "db_password", "--format", "json"],
        "",
    ))
    .unwrap();
    let hows: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["how"].as_str().unwrap())
        .collect();
    assert_eq!(hows, ["set", "rotate", "rollback"]);
    // Scoped and per-environment values are separate secrets.
    home.ok(
        &[
            "secrets",
            "set",
            "db_password",
            "--pipeline",
            "deploy",
            "--env",
            "production",
        ],
        "p\n",
    );
    let list: serde_json::Value =
        serde_json::from_str(&home.ok(&["secrets", "list", "--format", "json"], "")).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let handle = home.ok(&["secrets", "handle", "db_password", "--ttl", "1m"], "");
    assert!(handle.starts_with("$secret:v1."));
    assert_eq!(home.ok(&["secrets", "redeem", handle.trim()], ""), "one\n");
    let (code, _, err) = home.run(
        &["secrets", "redeem", handle.trim(), "--workspace", "other"],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("another workspace"), "{err}");
    home.ok(&["secrets", "delete", "db_password"], "");
    let (code, _, _) = home.run(&["secrets", "get", "db_password"], "");
    assert_eq!(code, 1);
    home.ok(&["secrets", "purge", "db_password"], "");
    let audit: serde_json::Value = serde_json::from_str(&home.ok(
        &["audit", "--secret", "db_password", "--format", "json"],
        "",
    ))
    .unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "set",
            "rotate",
            "access",
            "rollback",
            "access",
            "set",
            "handle.issue",
            "handle.redeem",
            "delete",
            "purge"
        ]
    );
    assert!(home.ok(&["audit", "verify"], "").contains("intact"));
    home.ok(&["key", "rotate"], "");
    assert!(home.ok(&["audit", "verify"], "").contains("intact"));
}

#[test]
fn value_reads_are_audited_under_either_read_audit_sync() {
    let home = Home::new();
    home.ok(&["init"], "");
    home.ok(&["secrets", "set", "api_token"], "tok-123\n");
    assert_eq!(
        home.ok(&["secrets", "get", "api_token", "--reveal"], ""),
        "tok-123\n"
    );
    assert_eq!(
        home.ok(
            &[
                "secrets",
                "get",
                "api_token",
                "--reveal",
                "--read-audit-sync",
                "full"
            ],
            ""
        ),
        "tok-123\n"
    );
    let (code, out, err) = home.run(
        &[
            "secrets",
            "get",
            "api_token",
            "--reveal",
            "--read-audit-sync",
            "sometimes",
        ],
        "",
    );
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    let audit = home.ok(&["audit", "--action", "access", "--format", "json"], "");
    let records: serde_json::Value = serde_json::from_str(&audit).unwrap();
    assert_eq!(records.as_array().unwrap().len(), 2, "{audit}");
    home.ok(&["audit", "verify"], "");
}

#[test]
fn dotenv_import_export_round_trips() {
    let home = Home::new();
    home.ok(&["init"], "");
    let text = "export PLAIN=abc\nHASH=a#b\nSPACED='a b # c'\nDOLLAR='$HOME'\nQUOTES=\"it's \\\"q\\\"\"\n\
                MULTI=\"l1\nl2\"\nUNICODE='h\u{e9}llo \u{1F600}'\nEQ='a=b'\nBACK=\"a\\\\b\"\n";
    let file = home.path().join("in.env");
    std::fs::write(&file, text).unwrap();
    home.ok(&["secrets", "import", file.to_str().unwrap()], "");
    let exported = home.ok(&["secrets", "export", "--format", "dotenv", "--reveal"], "");
    let expected = [
        ("BACK", "a\\b"),
        ("DOLLAR", "$HOME"),
        ("EQ", "a=b"),
        ("HASH", "a#b"),
        ("MULTI", "l1\nl2"),
        ("PLAIN", "abc"),
        ("QUOTES", "it's \"q\""),
        ("SPACED", "a b # c"),
        ("UNICODE", "h\u{e9}llo \u{1F600}"),
    ];
    // Import the export into a second store: every value comes back byte for byte.
    let other = Home::new();
    other.ok(&["init"], "");
    other.ok(&["secrets", "import", "-"], &exported);
    for (name, value) in expected {
        assert_eq!(
            other.ok(&["secrets", "get", name, "--reveal"], ""),
            format!("{value}\n"),
            "{name}"
        );
    }
    let bad = home.path().join("bad.env");
    std::fs::write(&bad, "A=1\nB=\"never closed\nC=3\n").unwrap();
    let (code, _, err) = home.run(&["secrets", "import", bad.to_str().unwrap()], "");
    assert_eq!(code, 2);
    assert!(err.contains("line 2: unterminated"), "{err}");
    assert!(!err.contains("never closed"), "{err}");
}

#[test]
fn backup_restores_into_an_empty_store_only() {
    let home = Home::new();
    home.ok(&["init"], "");
    home.ok(&["secrets", "set", "k"], "kept\n");
    let backup = home.path().join("store.backup");
    home.ok(&["backup", backup.to_str().unwrap()], "");
    let (code, _, err) = home.run(&["restore", backup.to_str().unwrap()], "");
    assert_eq!(code, 2, "{err}");
    let target = Home::new();
    std::fs::copy(
        home.path().join("master.key"),
        target.path().join("master.key"),
    )
    .unwrap();
    target.ok(&["restore", backup.to_str().unwrap()], "");
    assert_eq!(
        target.ok(&["secrets", "get", "k", "--reveal"], ""),
        "kept\n"
    );
}

/// Every command and error path reachable with a sentinel value: the sentinel shows up only in
/// `--reveal`, `export --reveal` and `redeem` output, never in stderr (with trace logging), and
/// never in the SQLite file or its WAL.
#[test]
fn leak_canary() {
    const SENTINEL: &str = "s3ntinel/c4n4ry+9f3e1b";
    let home = Home::new();
    let mut outputs: Vec<(String, String, String)> = Vec::new();
    let mut run = |home: &Home, args: &[&str], stdin: &str, may_print: bool| {
        let (code, out, err) = home.run(args, stdin);
        if !may_print {
            outputs.push((format!("{args:?}"), out.clone(), err.clone()));
        } else {
            outputs.push((format!("{args:?}"), String::new(), err.clone()));
        }
        (code, out)
    };
    let with_value = format!("{SENTINEL}\n");
    run(&home, &["init"], "", false);
    run(&home, &["secrets", "set", "canary"], &with_value, false);
    run(&home, &["secrets", "set", "canary2", SENTINEL], "", false);
    run(&home, &["secrets", "set", SENTINEL], &with_value, false);
    run(
        &home,
        &["secrets", "set", "canary", "--if-version", "0"],
        &with_value,
        false,
    );
    run(
        &home,
        &[
            "secrets",
            "rotate",
            "canary",
            "--reason",
            "r",
            "--if-version",
            "7",
        ],
        &with_value,
        false,
    );
    run(
        &home,
        &["secrets", "rotate", "canary", "--reason", "r"],
        &with_value,
        false,
    );
    run(
        &home,
        &["secrets", "set", "canary", "--metadata", "[1]"],
        &with_value,
        false,
    );
    run(&home, &["secrets", "get", "canary"], "", false);
    run(
        &home,
        &["secrets", "get", "canary", "--format", "json"],
        "",
        false,
    );
    let (_, revealed) = run(&home, &["secrets", "get", "canary", "--reveal"], "", true);
    assert_eq!(revealed, with_value);
    run(&home, &["secrets", "list", "--format", "json"], "", false);
    run(&home, &["secrets", "history", "canary"], "", false);
    run(
        &home,
        &[
            "secrets", "rollback", "canary", "--to", "1", "--reason", "r",
        ],
        "",
        false,
    );
    let (_, handle) = run(&home, &["secrets", "handle", "canary"], "", false);
    run(&home, &["secrets", "redeem", handle.trim()], "", true);
    run(
        &home,
        &["secrets", "redeem", &format!("{}x", handle.trim())],
        "",
        false,
    );
    let (_, exported) = run(&home, &["secrets", "export", "--reveal"], "", true);
    assert!(
        exported.contains(SENTINEL),
        "export printed: {exported} / {:?}",
        outputs.last()
    );
    run(&home, &["secrets", "export", "--format", "json"], "", false);
    run(&home, &["audit", "--format", "json"], "", false);
    run(&home, &["audit", "verify"], "", false);
    let backup = home.path().join("b.backup");
    run(&home, &["backup", backup.to_str().unwrap()], "", false);
    assert!(!String::from_utf8_lossy(&std::fs::read(&backup).unwrap()).contains(SENTINEL));
    run(&home, &["key", "rotate"], "", false);
    // Wrong key.
    let mut wrong_key = Home::new();
    wrong_key.extra_env = vec![
        (
            "SIGIL_STORE".into(),
            home.path().join("store.db").display().to_string(),
        ),
        (
            "SIGIL_MASTER_KEY".into(),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
        ),
    ];
    let (code, _) = run(
        &wrong_key,
        &["secrets", "get", "canary", "--reveal"],
        "",
        false,
    );
    assert_ne!(code, 0);
    // A key file that others can read.
    let key_file = home.path().join("master.key");
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let (code, _) = run(&home, &["secrets", "get", "canary", "--reveal"], "", false);
    assert_eq!(code, 2);
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    // A corrupted row.
    let db = home.path().join("store.db");
    let status = Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE versions SET ciphertext = zeroblob(40) WHERE version = 1")
        .status();
    if status.is_ok_and(|s| s.success()) {
        let (code, _) = run(
            &home,
            &["secrets", "get", "canary", "--reveal", "--version", "1"],
            "",
            false,
        );
        assert_eq!(code, 3);
    }
    // No store.
    let empty = Home::new();
    run(&empty, &["secrets", "set", "canary"], &with_value, false);
    // PostgreSQL down (and a password that must be masked).
    let mut down = Home::new();
    down.extra_env = vec![(
        "SIGIL_STORE".into(),
        format!("postgres://postgres:{SENTINEL}@127.0.0.1:1/test"),
    )];
    let (code, _) = run(&down, &["secrets", "set", "canary"], &with_value, false);
    assert_ne!(code, 0);
    for (args, out, err) in &outputs {
        assert!(
            !out.contains(SENTINEL),
            "stdout of sigil {args} leaks the value: {out}"
        );
        assert!(
            !err.contains(SENTINEL),
            "stderr of sigil {args} leaks the value: {err}"
        );
    }
    for file in ["store.db", "store.db-wal", "store.db-shm"] {
        let mut bytes = Vec::new();
        if let Ok(mut f) = std::fs::File::open(home.path().join(file)) {
            f.read_to_end(&mut bytes).unwrap();
        }
        assert!(
            !bytes
                .windows(SENTINEL.len())
                .any(|w| w == SENTINEL.as_bytes()),
            "{file} holds the value"
        );
    }
}

/// A small deterministic generator for kill delays.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// SIGKILL the binary at random moments while it writes in a loop, 100 times: the store always
/// opens, every acknowledged write is there, versions are whole, the audit chain verifies.
#[test]
fn crash_safety_under_sigkill() {
    let home = Home::new();
    home.ok(&["init"], "");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let script = r#"i=0; while :; do i=$((i+1)); printf 'v%s' "$i" | "$SIGIL" secrets set "$NAME" >/dev/null 2>&1 && echo "$i"; done"#;
    for round in 0..100 {
        let name = format!("k{round}");
        let mut child = Command::new("sh");
        child
            .arg("-c")
            .arg(script)
            .env("SIGIL", SIGIL)
            .env("NAME", &name)
            .env("SIGIL_HOME", home.path())
            .stdout(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut child, 0);
        let mut child = child.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(next(&mut seed) % 60));
        let group = format!("-{}", child.id());
        Command::new("kill")
            .args(["-KILL", "--", &group])
            .status()
            .unwrap();
        child.wait().unwrap();
        let mut acked = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut acked)
            .unwrap();
        let last_ack: i64 = acked
            .lines()
            .filter_map(|l| l.parse().ok())
            .max()
            .unwrap_or(0);
        let (code, out, err) = home.run(&["secrets", "history", &name, "--format", "json"], "");
        if code != 0 {
            assert_eq!(
                last_ack, 0,
                "round {round}: acknowledged writes missing: {err}"
            );
            continue;
        }
        let history: serde_json::Value = serde_json::from_str(&out).unwrap();
        let versions: Vec<i64> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        let n = versions.len() as i64;
        assert_eq!(versions, (1..=n).collect::<Vec<_>>(), "round {round}");
        assert!(
            n >= last_ack,
            "round {round}: {last_ack} acknowledged, {n} present"
        );
        assert_eq!(
            home.ok(&["secrets", "get", &name, "--reveal"], ""),
            format!("v{n}\n")
        );
    }
    assert!(home.ok(&["audit", "verify"], "").contains("intact"));
}

/// SIGKILL `sigil key rotate` at random moments: whatever the moment, the next command opens the
/// store (with the old key, or with the new one left in `master.key.next`) and reads the value.
#[test]
fn key_rotation_survives_sigkill() {
    let home = Home::new();
    home.ok(&["init"], "");
    for i in 0..20 {
        home.ok(
            &["secrets", "set", &format!("k{i}")],
            &format!("value-{i}\n"),
        );
    }
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("key rotation crash test seed {seed}");
    for round in 0..30 {
        let mut child = home.command(&["key", "rotate"]);
        child
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = child.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(next(&mut seed) % 40));
        let _ = child.kill();
        child.wait().unwrap();
        for i in [0, 19] {
            assert_eq!(
                home.ok(&["secrets", "get", &format!("k{i}"), "--reveal"], ""),
                format!("value-{i}\n"),
                "round {round}"
            );
        }
    }
    assert!(home.ok(&["audit", "verify"], "").contains("intact"));
}

/// The moment between the commit of a key rotation and the retirement of the old key file,
/// recreated exactly: the old key is still `master.key`, the new one is `master.key.next`.
#[test]
fn interrupted_key_rotation_is_finished_on_next_open() {
    let home = Home::new();
    home.ok(&["init"], "");
    home.ok(&["secrets", "set", "k"], "v\n");
    let key = home.path().join("master.key");
    let old = std::fs::read(&key).unwrap();
    home.ok(&["key", "rotate"], "");
    std::fs::rename(&key, home.path().join("master.key.next")).unwrap();
    std::fs::write(&key, &old).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    assert_eq!(home.ok(&["secrets", "get", "k", "--reveal"], ""), "v\n");
    assert!(!home.path().join("master.key.next").exists());
    assert_ne!(std::fs::read(&key).unwrap(), old);
}
