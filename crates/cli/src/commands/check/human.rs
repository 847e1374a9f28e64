//! The human format: `file:line:col: message [SIGxxx]`, the source line and a caret, like rustc
//! and actionlint. Colour only on a terminal, and never when `NO_COLOR` is set.

use std::io::{IsTerminal, Write};

use sigil_parser::{Diagnostic, LineIndex, Severity};

use super::Report;

/// Whether stdout gets colour: a terminal, and `NO_COLOR` unset or empty.
pub(super) fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

struct Style {
    colour: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

pub(super) fn render(report: &Report, out: &mut impl Write, colour: bool) -> std::io::Result<()> {
    let style = Style { colour };
    for file in &report.files {
        if file.diagnostics.is_empty() {
            continue;
        }
        let index = file.source.as_deref().map(LineIndex::new);
        for diagnostic in &file.diagnostics {
            write_one(out, &style, &file.path, index.as_ref(), diagnostic)?;
        }
    }
    Ok(())
}

fn write_one(
    out: &mut impl Write,
    style: &Style,
    path: &str,
    index: Option<&LineIndex<'_>>,
    diagnostic: &Diagnostic,
) -> std::io::Result<()> {
    let span = &diagnostic.span;
    let severity_colour = match diagnostic.severity {
        Severity::Error => "1;31",
        _ => "1;33",
    };
    writeln!(
        out,
        "{}: {} {}",
        style.paint("1", &format!("{path}:{}:{}", span.line, span.column)),
        diagnostic.message,
        style.paint(severity_colour, &format!("[{}]", diagnostic.code)),
    )?;
    let line_text = index
        .map(|index| index.line_text(span.line))
        .unwrap_or_default();
    if !line_text.is_empty() {
        let number = span.line.to_string();
        let gutter = " ".repeat(number.len());
        let bar = style.paint("1;34", "|");
        writeln!(out, "{gutter} {bar}")?;
        writeln!(out, "{} {bar} {line_text}", style.paint("1;34", &number))?;
        // Pad with the line's own tabs so the caret lines up however tabs are shown.
        let padding: String = line_text
            .chars()
            .take(span.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let line_chars = line_text.chars().count();
        let end = if span.end_line == span.line {
            span.end_column
        } else {
            line_chars + 1
        };
        let width = end.saturating_sub(span.column).max(1);
        let label = format!(
            "{} {}: {}",
            "^".repeat(width),
            diagnostic.severity.as_str(),
            diagnostic.code.name()
        );
        writeln!(
            out,
            "{gutter} {bar} {padding}{}",
            style.paint(severity_colour, &label)
        )?;
        for note in &diagnostic.notes {
            writeln!(out, "{gutter} = note: {note}")?;
        }
        if let Some(help) = &diagnostic.help {
            writeln!(out, "{gutter} = help: {help}")?;
        }
    } else {
        for note in &diagnostic.notes {
            writeln!(out, "  = note: {note}")?;
        }
        if let Some(help) = &diagnostic.help {
            writeln!(out, "  = help: {help}")?;
        }
    }
    writeln!(out)
}

/// One line on stderr: how many errors and warnings in how many files.
pub(super) fn summary(report: &Report) {
    let errors = report.count(true);
    let warnings = report.count(false);
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    eprintln!(
        "{}, {} ({} checked)",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(report.files_checked, "file")
    );
}
