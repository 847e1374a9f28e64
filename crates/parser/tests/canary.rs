//! No diagnostic repeats a literal it flags or a value near it: SIG202 names the kind of
//! credential, never the text, and reference errors name only secret names.

use sigil_parser::{ParseOptions, parse};

#[test]
fn diagnostics_never_echo_flagged_literals() {
    let literals = [
        "sk-proj-canaryCANARY0123456789abcdef",
        "ghp_canary0123456789abcdefghijABCDEFGHIJ",
        "AKIACANARY0123456789",
        "xoxb-canary-123456789012",
        "glpat-canary0123456789abcd",
        "cAnArY7kP2mQ9xL4vN8rW3zY",
    ];
    let source = format!(
        "env:\n  A: {}\n  B: \"x {}\"\n  C: {}\n  D: {}\n  E: {}\n  DB_PASSWORD: {}\n  F: <<secrets.x {}>>\n",
        literals[0], literals[1], literals[2], literals[3], literals[4], literals[5], literals[5]
    );
    let parsed = parse(&source, &ParseOptions::default());
    assert!(parsed.diagnostics.len() >= 7, "{:#?}", parsed.diagnostics);
    for diagnostic in &parsed.diagnostics {
        let text = format!(
            "{} {:?} {:?}",
            diagnostic.message, diagnostic.help, diagnostic.notes
        );
        for literal in literals {
            assert!(
                !text.contains(literal),
                "{} echoes a literal: {text}",
                diagnostic.code
            );
        }
        assert!(!text.to_lowercase().contains("canary"), "{text}");
    }
}
