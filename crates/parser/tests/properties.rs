//! Property tests: the parser never panics, and in generated documents every reference is found,
//! in order, with a byte range that starts with its delimiter in the raw text, whatever the
//! scalar style and line folding.

use proptest::prelude::*;
use sigil_parser::{Dialect, Format, ParseOptions, diagnostics, parse, parse_bytes};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_bytes(&bytes, &ParseOptions::default());
        let _ = parse_bytes(&bytes, &ParseOptions::default().format(Format::Json));
    }

    #[test]
    fn never_panics_on_config_like_text(text in "[a-z0-9:<>{}\\[\\],\"' \n\t#&*!|>$@.\\\\-]{0,200}") {
        for dialect in [Dialect::Angle, Dialect::Braces] {
            let _ = parse(&text, &ParseOptions::default().dialect(dialect));
        }
        let _ = parse(&text, &ParseOptions::default().format(Format::Json));
    }

    #[test]
    fn diagnostics_without_the_tree_are_the_same(text in "[a-z0-9:<>{}\\[\\],\"' \n\t#&*!|>$@.\\\\-]{0,200}") {
        for options in [
            ParseOptions::default(),
            ParseOptions::default().dialect(Dialect::Braces),
            ParseOptions::default().format(Format::Json),
        ] {
            prop_assert_eq!(diagnostics(&text, &options), parse(&text, &options).diagnostics);
        }
    }

    #[test]
    fn generated_references_are_found_at_their_delimiter(document in document()) {
        let (source, names) = document;
        let parsed = parse(&source, &ParseOptions::default().format(Format::Yaml));
        prop_assert!(parsed.diagnostics.is_empty(), "{source}\n{:?}", parsed.diagnostics);
        let found: Vec<&str> = parsed.references().map(|r| r.name().unwrap()).collect();
        prop_assert_eq!(&found, &names, "{}", source);
        for reference in parsed.references() {
            let raw = &source[reference.span.byte_range.clone()];
            prop_assert!(
                raw.starts_with("<<") || raw.starts_with("\\u003c") || raw.starts_with("\\x3c"),
                "{raw:?} at {:?} in\n{source}", reference.span
            );
            prop_assert!(raw.ends_with(">>"), "{raw:?}");
        }
    }
}

#[derive(Debug, Clone)]
enum Fragment {
    Word(String),
    Reference(String),
}

#[derive(Debug, Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
    Flow,
}

fn fragments() -> impl Strategy<Value = Vec<Fragment>> {
    let fragment = prop_oneof![
        "[a-z0-9]{1,6}".prop_map(Fragment::Word),
        "[a-z_][a-z0-9_]{0,8}".prop_map(Fragment::Reference),
    ];
    proptest::collection::vec(fragment, 1..6)
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        Just(Style::Plain),
        Just(Style::Single),
        Just(Style::Double),
        Just(Style::Literal),
        Just(Style::Folded),
        Just(Style::Flow),
    ]
}

/// A YAML document of `kN: value` entries and the names it references, in order.
fn document() -> impl Strategy<Value = (String, Vec<String>)> {
    proptest::collection::vec(
        (
            style(),
            fragments(),
            proptest::collection::vec(any::<bool>(), 6),
        ),
        1..6,
    )
    .prop_map(|entries| {
        let mut source = String::new();
        let mut names = Vec::new();
        for (i, (style, fragments, choices)) in entries.into_iter().enumerate() {
            source.push_str(&format!("k{i}: "));
            source.push_str(&render(style, &fragments, &choices));
            source.push('\n');
            names.extend(fragments.into_iter().filter_map(|f| match f {
                Fragment::Reference(name) => Some(name),
                Fragment::Word(_) => None,
            }));
        }
        (source, names)
    })
}

fn reference(name: &str, escaped: bool) -> String {
    if escaped {
        format!("\\u003c\\x3csecrets.{name}>>")
    } else {
        format!("<<secrets.{name}>>")
    }
}

/// Renders one value; `choices` pick line breaks and escapes.
fn render(style: Style, fragments: &[Fragment], choices: &[bool]) -> String {
    let pick = |i: usize| choices[i % choices.len()];
    let piece = |f: &Fragment, escaped: bool| match f {
        Fragment::Word(w) => w.clone(),
        Fragment::Reference(name) => reference(name, escaped),
    };
    match style {
        Style::Plain | Style::Single | Style::Double => {
            let mut out = String::new();
            for (i, fragment) in fragments.iter().enumerate() {
                if i > 0 {
                    // A space, or a line break with deeper indentation (folded to a space).
                    out.push_str(if pick(i) { "\n    " } else { " " });
                }
                let escaped = matches!(style, Style::Double) && pick(i + 3);
                let mut text = piece(fragment, escaped);
                if matches!(style, Style::Single) && pick(i + 1) {
                    text.push_str("''");
                }
                if matches!(style, Style::Double) && pick(i + 2) {
                    text.push_str("\\t\\\"");
                }
                out.push_str(&text);
            }
            match style {
                Style::Single => format!("'{out}'"),
                Style::Double => format!("\"{out}\""),
                _ => out,
            }
        }
        Style::Literal | Style::Folded => {
            let mut out = String::from(if matches!(style, Style::Literal) {
                "|"
            } else {
                ">-"
            });
            for (i, fragment) in fragments.iter().enumerate() {
                if i == 0 || pick(i) {
                    out.push_str(if pick(i + 4) { "\n\n  " } else { "\n  " });
                    if i > 0 && pick(i + 5) {
                        out.push_str("  ");
                    }
                } else {
                    out.push(' ');
                }
                out.push_str(&piece(fragment, false));
            }
            out
        }
        Style::Flow => {
            let items: Vec<String> = fragments.iter().map(|f| piece(f, false)).collect();
            format!("[{}]", items.join(if pick(0) { ",\n  " } else { ", " }))
        }
    }
}

/// Anchors, aliases and merge keys are where reading without the tree could diverge: the alias
/// budget counts anchored nodes, merge values must be kept, aliases can be keys.
#[test]
fn diagnostics_without_the_tree_on_aliases_and_merges() {
    let mut laughs = String::from("a: &a [x, y, z, <<secrets.>>]\n");
    for level in 1..12 {
        let prev = (b'a' + level - 1) as char;
        let this = (b'a' + level) as char;
        laughs.push_str(&format!(
            "{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let cases = [
        laughs.as_str(),
        "base: &b\n  token: hT7kP2mQ9xL4vN8rW3zY\n  k: <<secrets.x\njob:\n  <<: *b\n  k: 1\n  k: 2\n",
        "m: &m {a: 1}\nn:\n  <<: [*m, {b: <<secrets.>>}]\n  <<: 3\n  *m : 4\n",
        "k: &k api_token\nv:\n  *k : hT7kP2mQ9xL4vN8rW3zY\n  ? [a, b]\n  : 1\n  ? [a, b]\n  : 2\n",
        "- &s [1, {<<secrets.x>>: 2}]\n- *s\n- <<: *s\n- *missing\n",
    ];
    for source in cases {
        let options = ParseOptions::default();
        let parsed = parse(source, &options);
        assert_eq!(
            diagnostics(source, &options),
            parsed.diagnostics,
            "{source}"
        );
    }
}
