//! Writers in separate `sigil` processes: none lost, and `--if-version` lets exactly one win.
//! Also the PostgreSQL store and the passphrase key through the binary.

use std::process::{Command, Stdio};

const SIGIL: &str = env!("CARGO_BIN_EXE_sigil");

fn sigil(env: &[(&str, &str)], args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut cmd = Command::new(SIGIL);
    cmd.args(args)
        .env_remove("SIGIL_STORE")
        .env_remove("SIGIL_MASTER_KEY")
        .env_remove("SIGIL_PASSPHRASE")
        .env_remove("SIGIL_WORKSPACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn versions(env: &[(&str, &str)], name: &str) -> Vec<i64> {
    let (code, out, err) = sigil(env, &["secrets", "history", name, "--format", "json"], "");
    assert_eq!(code, 0, "{err}");
    let history: serde_json::Value = serde_json::from_str(&out).unwrap();
    history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect()
}

/// Eight processes rotate one secret five times each, then eight race with `--if-version`.
fn eight_writers(env: &[(&str, &str)]) {
    assert_eq!(sigil(env, &["secrets", "set", "hot"], "0\n").0, 0);
    std::thread::scope(|scope| {
        for w in 0..8 {
            scope.spawn(move || {
                for i in 0..5 {
                    let (code, _, err) = sigil(
                        env,
                        &["secrets", "rotate", "hot", "--reason", "load"],
                        &format!("{w}-{i}\n"),
                    );
                    assert_eq!(code, 0, "{err}");
                }
            });
        }
    });
    assert_eq!(versions(env, "hot"), (1..=41).collect::<Vec<_>>());
    let wins: Vec<i32> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|w| {
                scope.spawn(move || {
                    let (code, _, err) = sigil(
                        env,
                        &[
                            "secrets",
                            "rotate",
                            "hot",
                            "--reason",
                            "cas",
                            "--if-version",
                            "41",
                        ],
                        &format!("cas-{w}\n"),
                    );
                    assert!(
                        code == 0 || err.contains("is at version 42, not 41"),
                        "{err}"
                    );
                    code
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(wins.iter().filter(|c| **c == 0).count(), 1, "{wins:?}");
    let (code, out, _) = sigil(env, &["audit", "verify"], "");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn sqlite_eight_processes() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap().to_owned();
    let env = [("SIGIL_HOME", home.as_str())];
    assert_eq!(sigil(&env, &["init"], "").0, 0);
    eight_writers(&env);
}

#[test]
fn postgres_eight_processes() {
    let Some(url) = sigil_store::test_postgres_url() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap().to_owned();
    let schema = format!(
        "cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = format!("{url}{sep}schema={schema}");
    let env = [
        ("SIGIL_HOME", home.as_str()),
        ("SIGIL_STORE", store.as_str()),
    ];
    assert_eq!(sigil(&env, &["init"], "").0, 0);
    eight_writers(&env);
    // Leave the server as we found it, when psql is at hand.
    let _ = Command::new("psql")
        .arg(&url)
        .args([
            "-q",
            "-c",
            &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
        ])
        .status();
}

#[test]
fn passphrase_store() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap().to_owned();
    let env = [
        ("SIGIL_HOME", home.as_str()),
        ("SIGIL_PASSPHRASE", "correct horse battery"),
    ];
    assert_eq!(sigil(&env, &["init"], "").0, 0);
    assert!(!std::path::Path::new(&home).join("master.key").exists());
    assert_eq!(sigil(&env, &["secrets", "set", "k"], "v\n").0, 0);
    let wrong = [("SIGIL_HOME", home.as_str()), ("SIGIL_PASSPHRASE", "wrong")];
    let (code, _, err) = sigil(&wrong, &["secrets", "get", "k", "--reveal"], "");
    assert_ne!(code, 0);
    assert!(err.contains("does not open this store"), "{err}");
    let rotate = [
        ("SIGIL_HOME", home.as_str()),
        ("SIGIL_PASSPHRASE", "correct horse battery"),
        ("SIGIL_NEW_PASSPHRASE", "new passphrase"),
    ];
    assert_eq!(sigil(&rotate, &["key", "rotate"], "").0, 0);
    let new = [
        ("SIGIL_HOME", home.as_str()),
        ("SIGIL_PASSPHRASE", "new passphrase"),
    ];
    assert_eq!(
        sigil(&new, &["secrets", "get", "k", "--reveal"], "").1,
        "v\n"
    );
}
