//! The `sarif` format: SARIF 2.1.0, one run, one rule per diagnostic code, columns in Unicode
//! code points (as sigil counts them).

use std::io::Write;

use serde_json::json;
use sigil_parser::{Code, Severity};

use super::Report;

pub(super) fn render(report: &Report, out: &mut impl Write) -> anyhow::Result<()> {
    let rules: Vec<_> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": code.name(),
                "shortDescription": { "text": code.summary() },
                "defaultConfiguration": { "level": level(code.default_severity()) },
            })
        })
        .collect();
    let results: Vec<_> = report
        .files
        .iter()
        .flat_map(|file| {
            file.diagnostics.iter().map(|d| {
                let rule_index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
                let mut message = d.message.clone();
                if let Some(help) = &d.help {
                    message.push_str("; help: ");
                    message.push_str(help);
                }
                json!({
                    "ruleId": d.code.as_str(),
                    "ruleIndex": rule_index,
                    "level": level(d.severity),
                    "message": { "text": message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(&file.path) },
                            "region": {
                                "startLine": d.span.line,
                                "startColumn": d.span.column,
                                "endLine": d.span.end_line,
                                "endColumn": d.span.end_column,
                            },
                        },
                    }],
                    "properties": { "pointer": d.pointer, "document": d.document },
                })
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "sigil",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/sigil-secrets/sigil",
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)?;
    Ok(())
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        _ => "warning",
    }
}

/// A relative URI: forward slashes, spaces and `%` percent-encoded.
fn uri(path: &str) -> String {
    path.replace('\\', "/")
        .replace('%', "%25")
        .replace(' ', "%20")
}
