//! The reference scanner: finds references, escapes and malformed references in the decoded
//! text of one scalar. Offsets here are byte offsets of the decoded text; the caller maps them
//! back to the raw source.

use std::ops::Range;

use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::recognize;
use nom::{IResult, Parser};

use crate::{Code, Dialect, ReferenceForm, ReferenceKind, Scope};

/// A reference or an escape, in decoded offsets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Found {
    /// A reference covering `range`.
    Reference {
        range: Range<usize>,
        kind: ReferenceKind,
        form: ReferenceForm,
    },
    /// The escape `<<'<<'>>` covering `range`; `literal` is the `<<` it stands for.
    Escape {
        range: Range<usize>,
        literal: Range<usize>,
    },
}

impl Found {
    pub(crate) fn range(&self) -> &Range<usize> {
        match self {
            Found::Reference { range, .. } | Found::Escape { range, .. } => range,
        }
    }
}

/// Something to report, in decoded offsets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub range: Range<usize>,
    pub code: Code,
    pub message: String,
    pub help: Option<String>,
}

/// The result of scanning one scalar.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Scan {
    pub found: Vec<Found>,
    pub problems: Vec<Problem>,
}

impl Scan {
    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty() && self.problems.is_empty()
    }
}

/// The delimiters of a dialect.
struct Delimiters {
    open_byte: u8,
    open: &'static str,
    close: &'static str,
    secrets: &'static str,
    escape: &'static str,
}

const ANGLE: Delimiters = Delimiters {
    open_byte: b'<',
    open: "<<",
    close: ">>",
    secrets: "<<secrets.",
    escape: "<<'<<'>>",
};
const BRACES: Delimiters = Delimiters {
    open_byte: b'{',
    open: "{{",
    close: "}}",
    secrets: "{{secrets.",
    escape: "{{'{{'}}",
};

const HANDLE_PREFIX: &str = "$secret:";

/// Cheap test: can this text hold anything the scanner reports?
pub(crate) fn might_contain(text: &str, dialect: Dialect) -> bool {
    let (open, byte) = match dialect {
        Dialect::Braces => ("{{", b'{'),
        _ => ("<<", b'<'),
    };
    // Most values hold neither byte: one SIMD pass rejects them (a short text, most keys and
    // many values, is faster to test byte by byte than to set up the SIMD search for).
    let bytes = text.as_bytes();
    let candidate = if bytes.len() < 32 {
        bytes.iter().any(|&b| b == byte || b == b'$')
    } else {
        memchr::memchr2(byte, b'$', bytes).is_some()
    };
    candidate && (text.contains(open) || text.contains(HANDLE_PREFIX))
}

/// Scans decoded scalar text for references.
pub(crate) fn scan(text: &str, dialect: Dialect) -> Scan {
    let delimiters = match dialect {
        Dialect::Braces => &BRACES,
        _ => &ANGLE,
    };
    let mut scanner = Scanner {
        text,
        d: delimiters,
        angle: delimiters.open_byte == b'<',
        alone: None,
        out: Scan::default(),
    };
    scanner.run();
    scanner.out
}

struct Scanner<'t> {
    text: &'t str,
    d: &'static Delimiters,
    angle: bool,
    /// For each word that stands alone on a line (after optional tabs), the start of the last
    /// such line; built on first use, so heredoc checks stay linear in the text.
    alone: Option<std::collections::HashMap<&'t str, usize>>,
    out: Scan,
}

impl Scanner<'_> {
    fn run(&mut self) {
        let bytes = self.text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let Some(offset) = bytes[i..]
                .iter()
                .position(|&b| b == self.d.open_byte || b == b'$')
            else {
                break;
            };
            let j = i + offset;
            if bytes[j] == b'$' {
                i = self.dollar(j);
                continue;
            }
            let run = bytes[j..]
                .iter()
                .take_while(|&&b| b == self.d.open_byte)
                .count();
            // `<<` right after `<` starts no reference: after a here-string `<<<`, exactly two more
            // `<` start one (`cat <<<<<secrets.x>>`); any other run is shell syntax.
            let start = match run {
                2 => Some(j),
                5 if self.angle => Some(j + 3),
                _ => None,
            };
            i = match start {
                Some(p) => self.open(p),
                None => j + run,
            };
        }
    }

    /// At a `$`: a handle, a `${{ ... }}` expression in the braces dialect, or text.
    fn dollar(&mut self, j: usize) -> usize {
        let rest = &self.text[j..];
        if !self.angle && rest.starts_with("${{") {
            // GitHub-style expressions pass through untouched, up to their closing `}}`.
            return match rest[3..].find("}}") {
                Some(end) => j + 3 + end + 2,
                None => self.text.len(),
            };
        }
        let Some(after) = rest.strip_prefix(HANDLE_PREFIX) else {
            return j + 1;
        };
        let token_start = j + HANDLE_PREFIX.len();
        if let Ok((remaining, _)) = handle_token(after) {
            let boundary = remaining
                .chars()
                .next()
                .is_none_or(|c| !is_base64url(c) && c != '.');
            if boundary {
                let end = self.text.len() - remaining.len();
                self.out.found.push(Found::Reference {
                    range: j..end,
                    kind: ReferenceKind::Handle {
                        token: self.text[j..end].to_owned(),
                    },
                    form: ReferenceForm::Handle,
                });
                return end;
            }
        }
        if j == 0 {
            let end = token_start + after.find(char::is_whitespace).unwrap_or(after.len());
            self.problem(
                j..end,
                Code::MalformedHandle,
                "value starts with `$secret:` but is not a valid handle".to_owned(),
                Some("a handle is `$secret:v1.PAYLOAD.MAC` as issued by the store; to write the text `$secret:`, put something before it".to_owned()),
            );
            return end;
        }
        token_start
    }

    /// At an opening delimiter that can start a reference.
    fn open(&mut self, p: usize) -> usize {
        let text = self.text;
        let rest = &text[p..];
        if rest.starts_with(self.d.secrets) {
            return self.secret(p);
        }
        if rest.starts_with(self.d.escape) {
            let len = self.d.escape.len();
            self.out.found.push(Found::Escape {
                range: p..p + len,
                literal: p + 3..p + 5,
            });
            return p + len;
        }
        let after = &rest[2..];
        if after.starts_with([' ', '\t']) {
            let trimmed = after.trim_start_matches([' ', '\t']);
            if trimmed.starts_with("secrets.") {
                let name_start = text.len() - trimmed.len() + "secrets.".len();
                let name = secret_name(&text[name_start..])
                    .map(|(_, n)| n)
                    .unwrap_or("NAME");
                let end = self
                    .close_on_line(p + 2)
                    .map_or(name_start + name.len(), |k| k + 2);
                let fixed = format!("{}secrets.{name}{}", self.d.open, self.d.close);
                self.problem(
                    p..end,
                    Code::MalformedReference,
                    "spaces inside a reference".to_owned(),
                    Some(format!("remove the spaces: `{fixed}`")),
                );
                return end;
            }
            return p + 2;
        }
        if let Ok((remaining, key)) = short_key(after)
            && remaining.starts_with(self.d.close)
        {
            let end = text.len() - remaining.len() + 2;
            if self.angle && self.heredoc_terminated(key, end) {
                // `<<EOF>>log` with `EOF` alone on a later line: a heredoc, left as text.
                return end;
            }
            let kind = ReferenceKind::Secret {
                name: key.to_owned(),
                scope: None,
            };
            self.out.found.push(Found::Reference {
                range: p..end,
                kind,
                form: ReferenceForm::Bare,
            });
            if self.angle && looks_like_heredoc(key, &text[end..]) {
                self.problem(
                    p..end,
                    Code::AmbiguousHeredoc,
                    format!("`<<{key}>>` could be a heredoc or a reference; read as the secret `{key}`"),
                    Some(format!(
                        "write `<<secrets.{key}>>` if you mean the secret; a heredoc needs `{key}` alone on a later line"
                    )),
                );
            }
            return end;
        }
        p + 2
    }

    /// At `<<secrets.`: a reference, or an error, never text.
    fn secret(&mut self, p: usize) -> usize {
        let text = self.text;
        let name_start = p + self.d.secrets.len();
        let (after_name, name) =
            secret_name(&text[name_start..]).unwrap_or((&text[name_start..], ""));
        let name_end = name_start + name.len();
        if name.is_empty() {
            let end = self.close_on_line(name_start).map_or(name_start, |k| k + 2);
            let message = if after_name.starts_with(self.d.close) {
                "empty secret name".to_owned()
            } else {
                "`secrets.` must be followed by a secret name".to_owned()
            };
            let help = format!(
                "a name starts with a letter or `_` and goes on with letters, digits, `_`, `.` or `-`: `{}secrets.NAME{}`",
                self.d.open, self.d.close
            );
            self.problem(p..end, Code::MalformedReference, message, Some(help));
            return end;
        }
        if let Some(remaining) = after_name.strip_prefix(self.d.close) {
            let end = text.len() - remaining.len();
            let kind = ReferenceKind::Secret {
                name: name.to_owned(),
                scope: None,
            };
            self.out.found.push(Found::Reference {
                range: p..end,
                kind,
                form: ReferenceForm::Secrets,
            });
            return end;
        }
        if let Some(scoped) = after_name.strip_prefix('@') {
            let (remaining, scope_name) = take_while::<_, _, nom::error::Error<&str>>(|c: char| {
                c.is_ascii_alphanumeric() || c == '_'
            })(scoped)
            .unwrap_or((scoped, ""));
            let scope_end = text.len() - remaining.len();
            match (
                Scope::from_name(scope_name),
                remaining.strip_prefix(self.d.close),
            ) {
                (Some(scope), Some(remaining)) => {
                    let end = text.len() - remaining.len();
                    let kind = ReferenceKind::Secret {
                        name: name.to_owned(),
                        scope: Some(scope),
                    };
                    self.out.found.push(Found::Reference {
                        range: p..end,
                        kind,
                        form: ReferenceForm::Secrets,
                    });
                    return end;
                }
                (None, _) => {
                    let end = self.close_on_line(scope_end).map_or(scope_end, |k| k + 2);
                    self.problem(
                        p..end,
                        Code::MalformedReference,
                        format!("unknown scope `{scope_name}` in the reference to `{name}`"),
                        Some(
                            "the scope is one of `@workspace`, `@pipeline`, `@personal`".to_owned(),
                        ),
                    );
                    return end;
                }
                (Some(_), None) => {
                    return self.unterminated_or_malformed(p, scope_end, name);
                }
            }
        }
        self.unterminated_or_malformed(p, name_end, name)
    }

    /// After a valid name (and scope), something other than the closing delimiter.
    fn unterminated_or_malformed(&mut self, p: usize, at: usize, name: &str) -> usize {
        let next = self.text[at..].chars().next();
        match (next, self.close_on_line(at)) {
            (Some(c), Some(k)) => {
                let message = if c.is_whitespace() {
                    "spaces inside a reference".to_owned()
                } else {
                    format!(
                        "unexpected character `{}` in the reference to `{name}`",
                        c.escape_default()
                    )
                };
                self.problem(
                    p..k + 2,
                    Code::MalformedReference,
                    message,
                    Some(format!(
                        "a name is letters, digits, `_`, `.` and `-`, optionally followed by `@workspace`, `@pipeline` or `@personal`: `{}secrets.{name}{}`",
                        self.d.open, self.d.close
                    )),
                );
                k + 2
            }
            _ => {
                self.problem(
                    p..at,
                    Code::UnterminatedReference,
                    format!(
                        "unterminated reference to `{name}`: no `{}` after the name",
                        self.d.close
                    ),
                    Some(format!(
                        "close it: `{}secrets.{name}{}`",
                        self.d.open, self.d.close
                    )),
                );
                at
            }
        }
    }

    /// The offset of the next closing delimiter on the same line, if any.
    fn close_on_line(&self, from: usize) -> Option<usize> {
        let rest = &self.text[from..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        line.find(self.d.close).map(|k| from + k)
    }

    /// Whether `key` stands alone (after optional tabs) on a later line of the text.
    fn heredoc_terminated(&mut self, key: &str, from: usize) -> bool {
        let text = self.text;
        let Some(newline) = text[from..].find('\n') else {
            return false;
        };
        let alone = self.alone.get_or_insert_with(|| {
            let mut alone = std::collections::HashMap::new();
            let mut start = 0;
            for line in text.split('\n') {
                let word = line.trim_start_matches('\t').trim_end_matches('\r');
                if !word.is_empty() {
                    alone.insert(word, start);
                }
                start += line.len() + 1;
            }
            alone
        });
        alone
            .get(key)
            .is_some_and(|&line_start| line_start > from + newline)
    }

    fn problem(&mut self, range: Range<usize>, code: Code, message: String, help: Option<String>) {
        self.out.problems.push(Problem {
            range,
            code,
            message,
            help,
        });
    }
}

/// Delimiter words conventionally used for heredocs.
const HEREDOC_WORDS: &[&str] = &[
    "EOF", "EOT", "EOL", "EOM", "END", "HEREDOC", "HERE", "DONE", "STOP", "MARKER", "DATA",
];

/// A short form followed by a file name (`<<WORD>>log`) or spelled like a heredoc delimiter could
/// be the bash `<<WORD >>file` that is missing its terminator.
fn looks_like_heredoc(key: &str, after: &str) -> bool {
    let redirect_target = after.chars().next().is_some_and(|c| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '~' | '$' | '-')
    });
    redirect_target || HEREDOC_WORDS.contains(&key)
}

fn is_base64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// `NAME`: `[A-Za-z_][A-Za-z0-9_.-]*`.
pub(crate) fn secret_name(input: &str) -> IResult<&str, &str> {
    recognize((
        satisfy(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')),
    ))
    .parse(input)
}

/// `KEY` of the short form: `[A-Za-z_][A-Za-z0-9_]*`.
fn short_key(input: &str) -> IResult<&str, &str> {
    recognize((
        satisfy(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(input)
}

/// The handle token after `$secret:`: `v1.PAYLOAD.MAC`, base64url payload and MAC.
fn handle_token(input: &str) -> IResult<&str, &str> {
    recognize((
        tag("v1."),
        take_while1(is_base64url),
        char('.'),
        take_while1(is_base64url),
    ))
    .parse(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a scan as one line per item: `ref secrets NAME@scope 0..14`, `escape 3..5`,
    /// `SIG002 0..9`.
    fn render(text: &str, dialect: Dialect) -> Vec<String> {
        let scan = scan(text, dialect);
        let mut lines: Vec<String> = scan
            .found
            .iter()
            .map(|found| match found {
                Found::Reference { range, kind, form } => {
                    let what = match kind {
                        ReferenceKind::Secret {
                            name,
                            scope: Some(scope),
                        } => format!("{name}@{}", scope.as_str()),
                        ReferenceKind::Secret { name, scope: None } => name.clone(),
                        ReferenceKind::Handle { token } => token.clone(),
                    };
                    format!("ref {} {what} {range:?}", form.as_str())
                }
                Found::Escape { literal, .. } => format!("escape {literal:?}"),
            })
            .collect();
        lines.extend(
            scan.problems
                .iter()
                .map(|p| format!("{} {:?}", p.code, p.range)),
        );
        lines
    }

    fn check(text: &str, expected: &[&str]) {
        assert_eq!(render(text, Dialect::Angle), expected, "{text:?}");
    }

    fn check_braces(text: &str, expected: &[&str]) {
        assert_eq!(render(text, Dialect::Braces), expected, "{text:?}");
    }

    #[test]
    fn secrets_form() {
        check("<<secrets.x>>", &["ref secrets x 0..13"]);
        check(
            "a <<secrets.db.pass-word_2>> b",
            &["ref secrets db.pass-word_2 2..28"],
        );
        check(
            "<<secrets.x@workspace>>",
            &["ref secrets x@workspace 0..23"],
        );
        check(
            "<<secrets.x@pipeline>><<secrets.y@personal>>",
            &[
                "ref secrets x@pipeline 0..22",
                "ref secrets y@personal 22..44",
            ],
        );
        check("\"<<secrets.x>>\"", &["ref secrets x 1..14"]);
    }

    #[test]
    fn secrets_form_errors() {
        check("<<secrets.>>", &["SIG002 0..12"]);
        check("<<secrets. x>>", &["SIG002 0..14"]);
        check("<<secrets.x y>>", &["SIG002 0..15"]);
        check("<<secrets.x!>>", &["SIG002 0..14"]);
        check("<<secrets.x@team>>", &["SIG002 0..18"]);
        check("<<secrets.9x>>", &["SIG002 0..14"]);
        check("<<secrets.x", &["SIG003 0..11"]);
        check("<<secrets.x\necho >> log", &["SIG003 0..11"]);
        check("<<secrets.x@workspace", &["SIG003 0..21"]);
        check("<< secrets.x >>", &["SIG002 0..15"]);
        check("<<  secrets.x", &["SIG002 0..13"]);
    }

    #[test]
    fn short_form() {
        check("<<KEY>>", &["ref bare KEY 0..7"]);
        check("x<<_a1>>\"", &["ref bare _a1 1..8"]);
        check("<<parameters.x>>", &[]);
        check("<< pipeline.git.branch >>", &[]);
        check("<<a-b>>", &[]);
    }

    #[test]
    fn shell_passes_through() {
        check("cat <<EOF\nhi\nEOF", &[]);
        check("cat <<-EOF\n\thi\n\tEOF", &[]);
        check("cat <<'EOF'\nhi\nEOF", &[]);
        check("cat <<\"EOF\"\nhi\nEOF", &[]);
        check("cat <<EOF>>log\nhi\nEOF", &[]);
        check("cat <<EOF>>log\nhi\n\t\tEOF\n", &[]);
        check("cat <<EOF>email.txt\nhi\nEOF", &[]);
        check("cat <<< \"$x\"", &[]);
        check("cat <<<$x", &[]);
        check("echo $((x<<2))", &[]);
        check("cat << EOF", &[]);
        check("<<: *base", &[]);
        check("a <<<< b", &[]);
        check("echo \"body<<EOF\" >> $GITHUB_OUTPUT", &[]);
        check("printf 'result<<%s\\n'", &[]);
    }

    #[test]
    fn here_string_then_reference() {
        check("cat <<<<<secrets.x>>", &["ref secrets x 7..20"]);
        check("cat <<<<secrets.x>>", &[]);
    }

    #[test]
    fn ambiguous_heredoc() {
        check("cat <<EOF>>log", &["ref bare EOF 4..11", "SIG201 4..11"]);
        check(
            "x=<<TOKEN>>suffix",
            &["ref bare TOKEN 2..11", "SIG201 2..11"],
        );
        check("x=<<TOKEN>> y", &["ref bare TOKEN 2..11"]);
    }

    #[test]
    fn escape() {
        check("<<'<<'>>", &["escape 3..5"]);
        check("a<<'<<'>>secrets.x>>", &["escape 4..6"]);
    }

    #[test]
    fn handles() {
        check(
            "$secret:v1.abc_-9.MAC0",
            &["ref handle $secret:v1.abc_-9.MAC0 0..22"],
        );
        check(
            "Bearer $secret:v1.a.b",
            &["ref handle $secret:v1.a.b 7..21"],
        );
        check("$secret:v1.a.b.c", &["SIG006 0..16"]);
        check("$secret:nope", &["SIG006 0..12"]);
        check("echo $secret:nope", &[]);
        check("echo $secret", &[]);
    }

    #[test]
    fn braces() {
        check_braces("{{secrets.x}}", &["ref secrets x 0..13"]);
        check_braces("{{secrets.x@personal}}", &["ref secrets x@personal 0..22"]);
        check_braces("{{KEY}}", &["ref bare KEY 0..7"]);
        check_braces("${{ secrets.x }}", &[]);
        check_braces("${{secrets.x}} {{y}}", &["ref bare y 15..20"]);
        check_braces("{{inputs.parameters.x}}", &[]);
        check_braces("{{.Home}}", &[]);
        check_braces("{{ secrets.x }}", &["SIG002 0..15"]);
        check_braces("{{secrets.x", &["SIG003 0..11"]);
        check_braces("{{'{{'}}", &["escape 3..5"]);
        check_braces("<<secrets.x>>", &[]);
    }
}
