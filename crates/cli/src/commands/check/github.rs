//! The `github` format: workflow commands that GitHub Actions turns into annotations.

use std::io::Write;

use sigil_parser::Severity;

use super::Report;

pub(super) fn render(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    for file in &report.files {
        for d in &file.diagnostics {
            let command = match d.severity {
                Severity::Error => "error",
                _ => "warning",
            };
            let title = format!("{} {}", d.code.as_str(), d.code.name());
            writeln!(
                out,
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                property(&file.path),
                d.span.line,
                d.span.column,
                d.span.end_line,
                d.span.end_column,
                property(&title),
                data(&d.message),
            )?;
        }
    }
    Ok(())
}

/// Escapes a message as the runner expects.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        assert_eq!(property(text), expected);
    }

    #[test]
    fn escapes() {
        check("a,b:c", "a%2Cb%3Ac");
        check("50%\nx", "50%25%0Ax");
    }
}
