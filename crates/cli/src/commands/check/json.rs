//! The `json` format: one object, the stable contract documented in the README.

use std::io::Write;

use serde::Serialize;

use super::Report;

#[derive(Serialize)]
struct Output<'a> {
    files_checked: usize,
    diagnostics: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    pointer: Option<&'a str>,
    document: Option<usize>,
}

pub(super) fn render(report: &Report, out: &mut impl Write) -> anyhow::Result<()> {
    let diagnostics = report
        .files
        .iter()
        .flat_map(|file| {
            file.diagnostics.iter().map(|d| Entry {
                code: d.code.as_str(),
                name: d.code.name(),
                severity: d.severity.as_str(),
                message: &d.message,
                file: &file.path,
                line: d.span.line,
                column: d.span.column,
                end_line: d.span.end_line,
                end_column: d.span.end_column,
                pointer: d.pointer.as_deref(),
                document: d.document,
            })
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &Output {
            files_checked: report.files_checked,
            diagnostics,
        },
    )?;
    writeln!(out)?;
    Ok(())
}
