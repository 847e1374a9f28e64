//! Policy: scope precedence, where secrets may be substituted, which fields are shell scripts.

use std::collections::BTreeMap;

use sigil_parser::Scope;

/// The rules a resolution follows. [`Policy::default`] is DESIGN.md's: pipeline, then workspace,
/// then personal; secrets allowed everywhere; `run` is a shell field.
///
/// ```
/// use sigil_resolver::{Policy, PointerPattern};
/// use sigil_parser::Scope;
///
/// let policy = Policy::default()
///     .precedence_in("development", vec![Scope::Personal, Scope::Pipeline, Scope::Workspace])
///     .allow(PointerPattern::new("/steps/*/fetch/{url,headers,body,query,auth}"));
/// assert_eq!(policy.precedence(Some("development"))[0], Scope::Personal);
/// assert!(policy.allows("/steps/3/fetch/headers/Authorization"));
/// assert!(!policy.allows("/steps/3/run"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    precedence: Vec<Scope>,
    precedence_by_environment: BTreeMap<String, Vec<Scope>>,
    allowed: Option<Vec<PointerPattern>>,
    shell_fields: Vec<String>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            precedence: vec![Scope::Pipeline, Scope::Workspace, Scope::Personal],
            precedence_by_environment: BTreeMap::new(),
            allowed: None,
            shell_fields: vec!["run".to_owned()],
        }
    }
}

impl Policy {
    /// The default policy.
    pub fn new() -> Policy {
        Policy::default()
    }

    /// Sets the scope order used in every environment without its own order.
    #[must_use]
    pub fn precedence_default(mut self, order: Vec<Scope>) -> Policy {
        self.precedence = order;
        self
    }

    /// Sets the scope order for one environment (for example personal first in `development`).
    #[must_use]
    pub fn precedence_in(mut self, environment: impl Into<String>, order: Vec<Scope>) -> Policy {
        self.precedence_by_environment
            .insert(environment.into(), order);
        self
    }

    /// Adds a pattern to the allow-list; once there is one, a reference anywhere else is SIG105.
    #[must_use]
    pub fn allow(mut self, pattern: PointerPattern) -> Policy {
        self.allowed.get_or_insert_with(Vec::new).push(pattern);
        self
    }

    /// Sets the mapping keys whose values are shell scripts (default: `run`).
    #[must_use]
    pub fn shell_fields(mut self, keys: Vec<String>) -> Policy {
        self.shell_fields = keys;
        self
    }

    /// The scope order in `environment`.
    pub fn precedence(&self, environment: Option<&str>) -> &[Scope] {
        environment
            .and_then(|env| self.precedence_by_environment.get(env))
            .unwrap_or(&self.precedence)
    }

    /// Whether a secret may be substituted in the value at `pointer`.
    pub fn allows(&self, pointer: &str) -> bool {
        match &self.allowed {
            None => true,
            Some(patterns) => patterns.iter().any(|pattern| pattern.matches(pointer)),
        }
    }

    /// Whether a mapping key names a shell field.
    pub fn is_shell_field(&self, key: &str) -> bool {
        self.shell_fields.iter().any(|field| field == key)
    }
}

/// A JSON pointer pattern: tokens separated by `/`, where `*` matches any one token, `**` any
/// number of tokens, and `{a,b}` any of the listed tokens. A pattern names a subtree: it matches
/// a pointer when it matches the pointer's leading tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointerPattern {
    text: String,
    tokens: Vec<PatternToken>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternToken {
    Any,
    AnyDepth,
    OneOf(Vec<String>),
}

impl PointerPattern {
    /// Parses a pattern such as `/steps/*/fetch/{url,headers}`.
    pub fn new(pattern: &str) -> PointerPattern {
        let tokens = pattern
            .split('/')
            .skip(1)
            .map(|token| match token {
                "*" => PatternToken::Any,
                "**" => PatternToken::AnyDepth,
                _ if token.starts_with('{') && token.ends_with('}') => PatternToken::OneOf(
                    token[1..token.len() - 1].split(',').map(unescape).collect(),
                ),
                _ => PatternToken::OneOf(vec![unescape(token)]),
            })
            .collect();
        PointerPattern {
            text: pattern.to_owned(),
            tokens,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches `pointer` or one of its ancestors.
    pub fn matches(&self, pointer: &str) -> bool {
        let tokens: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
        matches_prefix(&self.tokens, &tokens)
    }
}

fn matches_prefix(pattern: &[PatternToken], tokens: &[String]) -> bool {
    let Some((first, rest)) = pattern.split_first() else {
        return true;
    };
    match first {
        PatternToken::AnyDepth => {
            (0..=tokens.len()).any(|skip| matches_prefix(rest, &tokens[skip..]))
        }
        PatternToken::Any => !tokens.is_empty() && matches_prefix(rest, &tokens[1..]),
        PatternToken::OneOf(options) => {
            tokens.first().is_some_and(|token| options.contains(token))
                && matches_prefix(rest, &tokens[1..])
        }
    }
}

/// RFC 6901 token unescaping: `~1` is `/`, `~0` is `~`.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, pointer: &str, expected: bool) {
        assert_eq!(
            PointerPattern::new(pattern).matches(pointer),
            expected,
            "{pattern} ~ {pointer}"
        );
    }

    #[test]
    fn pointer_patterns() {
        check("/steps/*/fetch/{url,headers}", "/steps/0/fetch/url", true);
        check(
            "/steps/*/fetch/{url,headers}",
            "/steps/0/fetch/headers/Authorization",
            true,
        );
        check(
            "/steps/*/fetch/{url,headers}",
            "/steps/0/fetch/method",
            false,
        );
        check("/steps/*/fetch/{url,headers}", "/steps/0/run", false);
        check("/steps/*/fetch/{url,headers}", "/steps/0", false);
        check("/**/env", "/jobs/build/steps/2/env/TOKEN", true);
        check("/**/env", "/env/TOKEN", true);
        check("/**/env", "/jobs/build/run", false);
        check("/a~1b", "/a~1b/c", true);
        check("", "/anything", true);
    }

    #[test]
    fn precedence_per_environment() {
        let policy =
            Policy::default().precedence_in("development", vec![Scope::Personal, Scope::Workspace]);
        assert_eq!(
            policy.precedence(Some("development")),
            [Scope::Personal, Scope::Workspace]
        );
        assert_eq!(
            policy.precedence(Some("production")),
            [Scope::Pipeline, Scope::Workspace, Scope::Personal]
        );
        assert_eq!(
            policy.precedence(None),
            [Scope::Pipeline, Scope::Workspace, Scope::Personal]
        );
    }
}
