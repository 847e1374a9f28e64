//! SIG202: literals that look like credentials. Two rules: a well-known token prefix anywhere in
//! a value, and a long high-entropy token as the value of a key named like a credential.
//! Neither ever echoes the literal it flags.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// Well-known credential shapes, each with the label used in messages.
const PATTERNS: &[(&str, &str)] = &[
    (
        r"sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{20,}",
        "an API secret key (`sk-`)",
    ),
    (r"gh[pousr]_[A-Za-z0-9]{36}", "a GitHub token"),
    (
        r"github_pat_[A-Za-z0-9_]{22,}",
        "a GitHub fine-grained token",
    ),
    (r"(?:AKIA|ASIA)[0-9A-Z]{16}", "an AWS access key id"),
    (r"xox[abposr]-[A-Za-z0-9-]{10,}", "a Slack token"),
    (r"glpat-[A-Za-z0-9_-]{20,}", "a GitLab token"),
    (r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----", "a private key"),
];

static PREFIXES: LazyLock<Regex> = LazyLock::new(|| {
    // No capture groups and no look-around: the regex engine can then run its multi-literal
    // prefilter at full speed; word boundaries and labels are checked on the few matches.
    let alternation: Vec<&str> = PATTERNS.iter().map(|(pattern, _)| *pattern).collect();
    Regex::new(&format!("(?:{})", alternation.join("|"))).expect("valid credential patterns")
});

/// Every well-known credential in the text, as byte ranges with a label, in order.
pub(crate) fn find_prefixed(text: &str) -> Vec<(Range<usize>, &'static str)> {
    let bytes = text.as_bytes();
    PREFIXES
        .find_iter(text)
        .filter(|found| {
            let glued =
                |at: Option<&u8>| at.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
            let before = found.start().checked_sub(1).and_then(|i| bytes.get(i));
            found.as_str().starts_with('-') || (!glued(before) && !glued(bytes.get(found.end())))
        })
        .map(|found| (found.range(), label(found.as_str())))
        .collect()
}

/// The label of a match, by its prefix.
fn label(found: &str) -> &'static str {
    let index = match found.as_bytes() {
        [b's', b'k', b'-', ..] => 0,
        [b'g', b'h', _, b'_', ..] => 1,
        [b'g', b'i', b't', ..] => 2,
        [b'A', ..] => 3,
        [b'x', ..] => 4,
        [b'g', b'l', ..] => 5,
        _ => 6,
    };
    PATTERNS[index].1
}

/// Whether a key names a credential: `*password*`, `*token*`, `*secret*`, `*api_key*`.
pub(crate) fn is_credential_key(key: &str) -> bool {
    if key.len() < 5 {
        return false;
    }
    const WORDS: [&[u8]; 7] = [
        b"password",
        b"passwd",
        b"token",
        b"secret",
        b"api_key",
        b"apikey",
        b"api-key",
    ];
    let key = key.as_bytes();
    (0..key.len()).any(|i| {
        matches!(key[i].to_ascii_lowercase(), b'p' | b't' | b's' | b'a')
            && WORDS.iter().any(|word| {
                key.len() - i >= word.len() && key[i..i + word.len()].eq_ignore_ascii_case(word)
            })
    })
}

/// Whether a literal value looks like a generated secret: one long token of base64-like
/// characters, mixing character classes, with high entropy.
pub(crate) fn looks_random(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() < 16 || bytes.len() > 512 {
        return false;
    }
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-' | b'.'))
    {
        return false;
    }
    let upper = bytes.iter().any(u8::is_ascii_uppercase);
    let lower = bytes.iter().any(u8::is_ascii_lowercase);
    let digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
    let classes = usize::from(upper) + usize::from(lower) + usize::from(digits > 0);
    if classes < 3 || digits < 2 {
        return false;
    }
    entropy(bytes) >= 3.5
}

/// Shannon entropy in bits per byte.
fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_prefixed(text: &str, expected: &[&str]) {
        let labels: Vec<&str> = find_prefixed(text)
            .into_iter()
            .map(|(_, label)| label)
            .collect();
        assert_eq!(labels, expected, "{text:?}");
    }

    #[test]
    fn prefixes() {
        check_prefixed(
            "key: sk-proj-abcdefghijklmnopqrstuvwx",
            &["an API secret key (`sk-`)"],
        );
        check_prefixed(
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            &["a GitHub token"],
        );
        check_prefixed("AKIAIOSFODNN7EXAMPLE", &["an AWS access key id"]);
        check_prefixed("xoxb-123456789012-abcdef", &["a Slack token"]);
        check_prefixed("glpat-abcdefghij0123456789", &["a GitLab token"]);
        check_prefixed("-----BEGIN RSA PRIVATE KEY-----", &["a private key"]);
        check_prefixed("-----BEGIN PRIVATE KEY-----", &["a private key"]);
        check_prefixed("task-runner sk-short", &[]);
        check_prefixed("mask-abcdefghijklmnopqrstuvwxyz", &[]);
        check_prefixed("-----BEGIN PUBLIC KEY-----", &[]);
    }

    fn check_random(value: &str, expected: bool) {
        assert_eq!(looks_random(value), expected, "{value:?}");
    }

    #[test]
    fn random_tokens() {
        check_random("hT7kP2mQ9xL4vN8rW3zY", true);
        check_random("my-docker-registry-secret", false);
        check_random("changeme", false);
        check_random("${{ secrets.TOKEN }}", false);
        check_random("ABCDEFGHIJKLMNOP1234", false);
    }

    #[test]
    fn credential_keys() {
        assert!(is_credential_key("DB_PASSWORD"));
        assert!(is_credential_key("githubToken"));
        assert!(is_credential_key("x-api-key"));
        assert!(!is_credential_key("name"));
    }
}
