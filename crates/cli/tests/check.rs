//! `sigil check` through the real binary: every format, exit codes, directories, unreadable
//! files, invalid UTF-8, `--secrets` and `--dialect`.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn sigil() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sigil"));
    command.env_remove("NO_COLOR").env("RUST_LOG", "off");
    command
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    name.to_owned()
}

/// Runs `sigil check ARGS` in `dir`; returns (exit code, stdout, stderr).
fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = sigil()
        .current_dir(dir)
        .arg("check")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, _) = check(dir, &all);
    (
        code,
        serde_json::from_str(&stdout).expect("valid JSON on stdout"),
    )
}

const BAD: &str = "steps:\n  - env:\n      A: \"x <<secrets.>>\"\n      B: <<secrets.ok>>\n";

#[test]
fn human_format_shows_location_source_line_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ci.yml", BAD.as_bytes());
    let (code, stdout, stderr) = check(dir.path(), &["ci.yml"]);
    assert_eq!(code, 1);
    let expected = "ci.yml:3:13: empty secret name [SIG002]\n  |\n3 |       A: \"x <<secrets.>>\"\n  |             ^^^^^^^^^^^^ error: malformed-reference\n";
    assert!(stdout.starts_with(expected), "{stdout}");
    assert!(
        !stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(
        stderr.contains("1 error, 0 warnings (1 file checked)"),
        "{stderr}"
    );
}

#[test]
fn json_format_is_the_documented_contract() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ci.yml", BAD.as_bytes());
    let (code, report) = json(dir.path(), &["ci.yml"]);
    assert_eq!(code, 1);
    assert_eq!(
        report,
        serde_json::json!({
            "files_checked": 1,
            "diagnostics": [{
                "code": "SIG002", "name": "malformed-reference", "severity": "error",
                "message": "empty secret name", "file": "ci.yml",
                "line": 3, "column": 13, "end_line": 3, "end_column": 25,
                "pointer": "/steps/0/env/A", "document": 0
            }]
        })
    );
}

#[test]
fn github_format_writes_workflow_commands() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ci.yml",
        b"a: cat <<EOF>>log\nb: <<secrets.>>\n",
    );
    let (code, stdout, _) = check(dir.path(), &["--format", "github", "ci.yml"]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "::warning file=ci.yml,line=1,col=8,endLine=1,endColumn=15,title=SIG201 ambiguous-heredoc::`<<EOF>>` could be a heredoc or a reference; read as the secret `EOF`\n\
         ::error file=ci.yml,line=2,col=4,endLine=2,endColumn=16,title=SIG002 malformed-reference::empty secret name\n"
    );
}

#[test]
fn sarif_format_is_sarif_2_1_0() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ci.yml", BAD.as_bytes());
    let (code, stdout, _) = check(dir.path(), &["--format", "sarif", "ci.yml"]);
    assert_eq!(code, 1);
    let sarif: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "sigil");
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 14);
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "SIG002");
    assert_eq!(result["level"], "error");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "ci.yml");
    assert_eq!(location["region"]["startLine"], 3);
    assert_eq!(location["region"]["startColumn"], 13);
    assert_eq!(run["results"].as_array().unwrap().len(), 1);
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "clean.yml",
        b"run: |\n  cat <<EOF\n  hi\n  EOF\nmerge:\n  <<: {a: 1}\n",
    );
    write(dir.path(), "warning.yml", b"a: cat <<EOF>>log\n");
    write(dir.path(), "error.yml", b"a: <<secrets.x\n");
    assert_eq!(check(dir.path(), &["clean.yml"]).0, 0, "no diagnostics");
    assert_eq!(check(dir.path(), &["warning.yml"]).0, 0, "warnings only");
    assert_eq!(
        check(dir.path(), &["clean.yml", "error.yml"]).0,
        1,
        "an error"
    );
    assert_eq!(
        check(dir.path(), &["--format", "xml", "clean.yml"]).0,
        2,
        "bad flag"
    );
    assert_eq!(check(dir.path(), &[]).0, 2, "no path");
    let (code, _, stderr) = check(dir.path(), &["clean.yml", "missing.yml"]);
    assert_eq!(code, 2, "missing path");
    assert!(
        stderr.contains("missing.yml: no such file or directory"),
        "{stderr}"
    );
}

#[test]
fn directories_are_walked_for_configs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "configs/a.yml", b"a: <<secrets.one>>\n");
    write(dir.path(), "configs/sub/b.yaml", b"b: <<secrets.>>\n");
    write(
        dir.path(),
        "configs/sub/c.json",
        b"{\"c\": \"<<secrets.x\"}",
    );
    write(dir.path(), "configs/notes.txt", b"<<secrets.>>");
    let (code, report) = json(dir.path(), &["configs"]);
    assert_eq!(code, 1);
    assert_eq!(report["files_checked"], 3);
    let found: Vec<(String, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_owned(),
                d["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("configs/sub/b.yaml".to_owned(), "SIG002".to_owned()),
            ("configs/sub/c.json".to_owned(), "SIG003".to_owned())
        ]
    );
}

#[test]
fn many_files_are_reported_in_path_order_whatever_thread_checked_them() {
    // Enough files for the parallel path; sizes differ a lot, so workers finish out of order.
    let dir = tempfile::tempdir().unwrap();
    let mut expected = vec!["first.yml".to_owned()];
    write(dir.path(), "first.yml", b"a: <<secrets.>>\n");
    for d in 0..6 {
        for f in 0..10 {
            let name = format!("tree/d{d}/f{f}.yml");
            let padding: String = (0..(d * 10 + f) * 37 % 400)
                .map(|i| format!("k{i}: 1\n"))
                .collect();
            write(
                dir.path(),
                &name,
                format!("{padding}a: <<secrets.>>\n").as_bytes(),
            );
            expected.push(name);
        }
    }
    write(dir.path(), "tree/e.yml", b"a: <<secrets.>>\n");
    expected.push("tree/e.yml".to_owned());
    let (code, stdout, stderr) = check(
        dir.path(),
        &["--format", "json", "first.yml", "tree", "missing.yml"],
    );
    assert_eq!(code, 2, "a missing path is a usage error");
    assert!(
        stderr.contains("missing.yml: no such file or directory"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["files_checked"], expected.len());
    let files: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, expected);
}

#[test]
fn an_unreadable_file_is_a_diagnostic_and_the_others_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.yml", b"a: <<secrets.>>\n");
    std::os::unix::fs::symlink(
        dir.path().join("nowhere.yml"),
        dir.path().join("dangling.yml"),
    )
    .unwrap();
    let (code, report) = json(dir.path(), &["dangling.yml", "good.yml"]);
    assert_eq!(code, 1);
    assert_eq!(report["files_checked"], 2);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics[0]["file"], "dangling.yml");
    assert_eq!(diagnostics[0]["code"], "SIG001");
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot read the file"),
        "{report}"
    );
    assert_eq!(diagnostics[1]["file"], "good.yml");
}

#[test]
fn invalid_utf8_is_a_syntax_error_at_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "latin1.yml", b"a: 1\nb: caf\xe9\n");
    let (code, report) = json(dir.path(), &["latin1.yml"]);
    assert_eq!(code, 1);
    let d = &report["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("SIG001"), Some(2), Some(7))
    );
}

#[test]
fn secrets_file_names_unknown_secrets_without_printing_values() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "known.env", b"known_name=canary-value-1234\n");
    write(
        dir.path(),
        "ci.yml",
        b"a: <<secrets.known_name>>\nb: <<secrets.missing>>\nc: <<secrets.known_name@personal>>\nd: <<known_name>>\n",
    );
    let (code, stdout, stderr) = check(dir.path(), &["--secrets", "known.env", "ci.yml"]);
    assert_eq!(code, 1);
    assert!(!stdout.contains("canary-value") && !stderr.contains("canary-value"));
    let (_, report) = json(dir.path(), &["--secrets", "known.env", "ci.yml"]);
    let unknown: Vec<(u64, &str)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        unknown,
        [
            (2, "unknown secret `missing`"),
            (3, "unknown secret `known_name` in scope personal")
        ]
    );
    assert_eq!(
        check(dir.path(), &["--secrets", "absent.env", "ci.yml"]).0,
        2,
        "unreadable secrets file"
    );
}

#[test]
fn braces_dialect() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "wf.yml",
        b"a: ${{ secrets.GH }}\nb: \"{{ secrets.x }}\"\nc: <<secrets.>>\n",
    );
    let (code, report) = json(dir.path(), &["--dialect", "braces", "wf.yml"]);
    assert_eq!(code, 1);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(
        (
            diagnostics[0]["line"].as_u64(),
            diagnostics[0]["code"].as_str()
        ),
        (Some(2), Some("SIG002"))
    );
}
