//! Where a reference stands in a shell script, as `sh` would read it.
//!
//! A `run:` field is a shell script. Splicing a secret into its text would let the value become
//! shell code (`$(...)`, backticks, a closing quote), the way GitHub Actions' `${{ }}` does. So the
//! resolver never splices: each reference becomes an environment variable of the child process,
//! and the script gets a variable expansion in its place. Which expansion is safe depends on the
//! quoting context, and in some contexts the shell would not expand a variable at all (single
//! quotes, quoted heredoc bodies) or would evaluate its value as code (arithmetic). This module
//! finds that context with a small lexer of the POSIX shell language plus the bash forms CI
//! scripts use (`$'...'`, `<<<`, `((...))`).
//!
//! Invariant: the lexer never sees a secret value. It reads the script text with each reference
//! still in place as an opaque part, and returns one [`ShellContext`] per reference.

/// A piece of a script: text, or a reference the resolver will bind to a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptPart<'a> {
    /// Script text, as the shell will read it.
    Text(&'a str),
    /// A reference, with its text as written in the config (used only to keep comments intact).
    Reference(&'a str),
}

/// The quoting context of one reference in a shell script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellContext {
    /// Outside quotes: the expansion must be double-quoted (`"${VAR}"`) so the value stays one
    /// word and is not globbed.
    Unquoted,
    /// Inside double quotes: a bare `${VAR}` keeps the surrounding quoting intact.
    DoubleQuoted,
    /// In the body of a heredoc whose delimiter is unquoted: quotes are literal there, so a bare
    /// `${VAR}`.
    HeredocBody,
    /// In a comment: the shell ignores it, so the reference is left as written and resolves to
    /// nothing.
    Comment,
    /// The shell would not expand a variable here, or would evaluate its value as code.
    NoExpansion(NoExpansionReason),
}

/// Why a reference cannot be bound to a variable where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoExpansionReason {
    /// Inside `'...'`.
    SingleQuotes,
    /// Inside `$'...'`.
    AnsiCQuotes,
    /// In the body of a heredoc whose delimiter is quoted (`<<'EOF'`, `<<"EOF"`, `<<\EOF`).
    QuotedHeredoc {
        /// The delimiter word, quotes removed.
        delimiter: String,
    },
    /// Right after a backslash, which makes the `$` of an expansion literal.
    Escaped,
    /// Inside `$((...))` or `((...))`, where bash evaluates a variable's value as an expression,
    /// and an expression can run commands (`a[$(cmd)]`).
    Arithmetic,
}

impl NoExpansionReason {
    /// A sentence for the diagnostic: why the shell would not expand a variable here.
    pub fn explain(&self) -> String {
        match self {
            NoExpansionReason::SingleQuotes => {
                "the shell does not expand variables inside single quotes".to_owned()
            }
            NoExpansionReason::AnsiCQuotes => {
                "the shell does not expand variables inside $'...' quotes".to_owned()
            }
            NoExpansionReason::QuotedHeredoc { delimiter } => format!(
                "the body of a heredoc with a quoted delimiter ({delimiter}) is taken literally"
            ),
            NoExpansionReason::Escaped => {
                "a backslash before the reference would make its expansion literal".to_owned()
            }
            NoExpansionReason::Arithmetic => {
                "an arithmetic context evaluates a value as an expression, which can run commands"
                    .to_owned()
            }
        }
    }

    /// A suggestion for the diagnostic's help line.
    pub fn help(&self) -> &'static str {
        match self {
            NoExpansionReason::SingleQuotes | NoExpansionReason::AnsiCQuotes => {
                "close the single quotes around the reference: 'text'\"<<secrets.NAME>>\"'text'"
            }
            NoExpansionReason::QuotedHeredoc { .. } => {
                "unquote the heredoc delimiter (<<EOF) if the body should expand the reference"
            }
            NoExpansionReason::Escaped => "remove the backslash before the reference",
            NoExpansionReason::Arithmetic => {
                "assign the reference to a variable first and validate it as a number"
            }
        }
    }
}

/// Finds the quoting context of every reference in `parts`, in order.
pub fn classify(parts: &[ScriptPart<'_>]) -> Vec<ShellContext> {
    let mut lexer = Lexer::default();
    let mut contexts = Vec::new();
    for part in parts {
        match part {
            ScriptPart::Text(text) => lexer.text(text),
            ScriptPart::Reference(_) => contexts.push(lexer.reference()),
        }
    }
    contexts
}

/// Writes the script with each reference replaced by the expansion its context needs.
///
/// `variable(i)` names the environment variable bound to the `i`-th reference. References in
/// comments keep their text; references with [`ShellContext::NoExpansion`] also keep their text
/// (the resolver reports them and does not run the step).
pub fn render<V: AsRef<str>>(
    parts: &[ScriptPart<'_>],
    contexts: &[ShellContext],
    mut variable: impl FnMut(usize) -> V,
) -> String {
    let written = |part: &ScriptPart<'_>| match part {
        ScriptPart::Text(text) | ScriptPart::Reference(text) => text.len(),
    };
    let mut script = String::with_capacity(parts.iter().map(written).sum());
    let mut index = 0;
    for part in parts {
        match part {
            ScriptPart::Text(text) => script.push_str(text),
            ScriptPart::Reference(written) => {
                match &contexts[index] {
                    ShellContext::Unquoted => {
                        script.push_str("\"${");
                        script.push_str(variable(index).as_ref());
                        script.push_str("}\"");
                    }
                    ShellContext::DoubleQuoted | ShellContext::HeredocBody => {
                        script.push_str("${");
                        script.push_str(variable(index).as_ref());
                        script.push('}');
                    }
                    ShellContext::Comment | ShellContext::NoExpansion(_) => {
                        script.push_str(written);
                    }
                }
                index += 1;
            }
        }
    }
    script
}

/// A nesting level of the shell grammar that can hold words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// `"..."`.
    DoubleQuote,
    /// `$(...)`, with the depth of plain parentheses opened inside it.
    CommandSubstitution(u32),
    /// `` `...` ``.
    Backtick,
    /// `${...}`, with the depth of nested braces.
    Parameter(u32),
    /// `$((...))` or `((...))`, with the depth of plain parentheses opened inside it.
    Arithmetic(u32),
}

/// Modes in which most of the grammar is switched off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Normal,
    SingleQuote,
    AnsiC,
    Comment,
    HeredocBody(Heredoc),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Heredoc {
    delimiter: String,
    quoted: bool,
    strip_tabs: bool,
}

#[derive(Debug)]
struct Lexer {
    stack: Vec<Frame>,
    mode: Mode,
    /// A backslash is waiting for the character it escapes.
    escaped: bool,
    /// The next character starts a word (so `#` starts a comment, `((` arithmetic).
    word_start: bool,
    /// Heredocs whose operator was read on the current line; bodies start at the next newline.
    pending: Vec<Heredoc>,
    /// The heredoc body line read so far, and whether a reference stood in it.
    body_line: Vec<u8>,
    body_line_has_reference: bool,
}

impl Default for Lexer {
    fn default() -> Self {
        Lexer {
            stack: Vec::new(),
            mode: Mode::Normal,
            escaped: false,
            word_start: true,
            pending: Vec::new(),
            body_line: Vec::new(),
            body_line_has_reference: false,
        }
    }
}

impl Lexer {
    fn top(&self) -> Option<Frame> {
        self.stack.last().copied()
    }

    fn in_double_quotes(&self) -> bool {
        self.stack.contains(&Frame::DoubleQuote)
    }

    fn reference(&mut self) -> ShellContext {
        let escaped = std::mem::take(&mut self.escaped);
        self.word_start = false;
        match &self.mode {
            Mode::SingleQuote => ShellContext::NoExpansion(NoExpansionReason::SingleQuotes),
            Mode::AnsiC => ShellContext::NoExpansion(NoExpansionReason::AnsiCQuotes),
            Mode::Comment => ShellContext::Comment,
            Mode::HeredocBody(heredoc) => {
                self.body_line_has_reference = true;
                if heredoc.quoted {
                    ShellContext::NoExpansion(NoExpansionReason::QuotedHeredoc {
                        delimiter: heredoc.delimiter.clone(),
                    })
                } else if escaped {
                    ShellContext::NoExpansion(NoExpansionReason::Escaped)
                } else {
                    ShellContext::HeredocBody
                }
            }
            Mode::Normal if escaped => ShellContext::NoExpansion(NoExpansionReason::Escaped),
            Mode::Normal => match self.top() {
                Some(Frame::DoubleQuote) => ShellContext::DoubleQuoted,
                Some(Frame::Arithmetic(_)) => {
                    ShellContext::NoExpansion(NoExpansionReason::Arithmetic)
                }
                Some(Frame::Parameter(_)) if self.in_double_quotes() => ShellContext::DoubleQuoted,
                Some(Frame::Parameter(_) | Frame::CommandSubstitution(_) | Frame::Backtick)
                | None => ShellContext::Unquoted,
            },
        }
    }

    fn text(&mut self, text: &str) {
        // Every character of the shell's syntax is ASCII, and no byte of a multi-byte UTF-8
        // character is, so the lexer reads bytes.
        self.text_with_heredocs(text.as_bytes());
    }

    /// Reads the character at `i` (looking ahead within the same text part) and returns how many
    /// characters it consumed.
    fn step(&mut self, chars: &[u8], i: usize) -> usize {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match &self.mode {
            Mode::SingleQuote => {
                if c == b'\'' {
                    self.mode = Mode::Normal;
                }
                1
            }
            Mode::AnsiC => {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'\'' {
                    self.mode = Mode::Normal;
                }
                1
            }
            Mode::Comment => {
                if c == b'\n' {
                    self.mode = Mode::Normal;
                    self.newline();
                }
                1
            }
            Mode::HeredocBody(_) => {
                self.body_char(c);
                1
            }
            Mode::Normal => self.normal(c, next, chars.get(i + 2).copied()),
        }
    }

    /// One byte of a heredoc body (the current mode).
    fn body_char(&mut self, c: u8) {
        let Mode::HeredocBody(heredoc) = &self.mode else {
            return;
        };
        if c != b'\n' {
            // A backslash escapes in an unquoted body; in a quoted one everything is literal.
            if !heredoc.quoted {
                self.escaped = !self.escaped && c == b'\\';
            }
            self.body_line.push(c);
            return;
        }
        self.escaped = false;
        let tabs = match heredoc.strip_tabs {
            true => self.body_line.iter().take_while(|&&b| b == b'\t').count(),
            false => 0,
        };
        let ends = !self.body_line_has_reference
            && self.body_line[tabs..] == *heredoc.delimiter.as_bytes();
        self.body_line.clear();
        self.body_line_has_reference = false;
        if ends {
            self.mode = match self.pending.is_empty() {
                true => Mode::Normal,
                false => Mode::HeredocBody(self.pending.remove(0)),
            };
            self.word_start = true;
        }
    }

    fn newline(&mut self) {
        self.word_start = true;
        if !self.pending.is_empty() {
            self.mode = Mode::HeredocBody(self.pending.remove(0));
        }
    }

    fn normal(&mut self, c: u8, next: Option<u8>, after: Option<u8>) -> usize {
        let word_start = std::mem::replace(&mut self.word_start, false);
        let in_double = self.top() == Some(Frame::DoubleQuote);
        if self.escaped {
            self.escaped = false;
            return 1;
        }
        if c == b'\\' {
            // Inside double quotes a backslash escapes only $ ` " \ and newline; a reference is
            // neither, but its expansion starts with `$`, so treat the backslash as escaping it.
            if !in_double || matches!(next, Some(b'$' | b'`' | b'"' | b'\\' | b'\n') | None) {
                self.escaped = true;
            }
            return 1;
        }
        match c {
            b'\'' if !in_double && !matches!(self.top(), Some(Frame::Parameter(_))) => {
                self.mode = Mode::SingleQuote;
                1
            }
            b'"' if in_double => {
                self.stack.pop();
                1
            }
            b'"' => {
                self.stack.push(Frame::DoubleQuote);
                1
            }
            b'`' if self.top() == Some(Frame::Backtick) => {
                self.stack.pop();
                1
            }
            b'`' => {
                self.stack.push(Frame::Backtick);
                self.word_start = true;
                1
            }
            b'$' => match next {
                Some(b'(') if after == Some(b'(') => {
                    self.stack.push(Frame::Arithmetic(0));
                    3
                }
                Some(b'(') => {
                    self.stack.push(Frame::CommandSubstitution(0));
                    self.word_start = true;
                    2
                }
                Some(b'{') => {
                    self.stack.push(Frame::Parameter(0));
                    2
                }
                Some(b'\'') if !in_double => {
                    self.mode = Mode::AnsiC;
                    2
                }
                _ => 1,
            },
            b'#' if word_start
                && !in_double
                && !matches!(self.top(), Some(Frame::Parameter(_))) =>
            {
                self.mode = Mode::Comment;
                1
            }
            b'\n' => {
                self.newline();
                1
            }
            _ if in_double => 1,
            b'(' => {
                match self.stack.last_mut() {
                    Some(Frame::CommandSubstitution(depth) | Frame::Arithmetic(depth)) => {
                        *depth += 1
                    }
                    _ if word_start && next == Some(b'(') => {
                        self.stack.push(Frame::Arithmetic(0));
                        return 2;
                    }
                    _ => {}
                }
                self.word_start = true;
                1
            }
            b')' => {
                match self.stack.last_mut() {
                    Some(Frame::CommandSubstitution(0)) => {
                        self.stack.pop();
                    }
                    Some(Frame::Arithmetic(0)) if next == Some(b')') => {
                        self.stack.pop();
                        return 2;
                    }
                    Some(Frame::CommandSubstitution(depth) | Frame::Arithmetic(depth)) => {
                        *depth = depth.saturating_sub(1)
                    }
                    _ => {}
                }
                self.word_start = true;
                1
            }
            b'{' => {
                if let Some(Frame::Parameter(depth)) = self.stack.last_mut() {
                    *depth += 1;
                }
                self.word_start = true;
                1
            }
            b'}' => {
                match self.stack.last_mut() {
                    Some(Frame::Parameter(0)) => {
                        self.stack.pop();
                    }
                    Some(Frame::Parameter(depth)) => *depth -= 1,
                    _ => self.word_start = true,
                }
                1
            }
            // A here-string `<<<` has no body. (Heredoc operators are read in
            // `text_with_heredocs`, where the whole delimiter word is at hand.)
            b'<' if next == Some(b'<') && after == Some(b'<') => 3,
            b' ' | b'\t' | b';' | b'&' | b'|' => {
                self.word_start = true;
                1
            }
            _ => 1,
        }
    }
}

/// Bytes that [`Lexer::normal`] treats as plain word characters outside double quotes: anything
/// but the shell's quoting, expansion, comment, grouping, redirection and separator characters.
const INERT: [bool; 256] = inert_table(b"\\'\"`$#\n(){}< \t;&|");
/// The same inside double quotes, where only `\`, `"`, `` ` ``, `$` and newlines mean anything.
const INERT_IN_DOUBLE_QUOTES: [bool; 256] = inert_table(b"\\\"`$\n");

const fn inert_table(special: &[u8]) -> [bool; 256] {
    let mut table = [true; 256];
    let mut i = 0;
    while i < special.len() {
        table[special[i] as usize] = false;
        i += 1;
    }
    table
}

/// Reads a heredoc operator's delimiter word: `<<` (already consumed), optional `-`, blanks, then
/// a word whose quoted parts make the whole delimiter quoted. Returns the heredoc and the number of
/// characters consumed after `<<`, or `None` when no word follows.
fn heredoc_operator(chars: &[u8]) -> Option<(Heredoc, usize)> {
    let mut i = 0;
    let strip_tabs = chars.first() == Some(&b'-');
    if strip_tabs {
        i += 1;
    }
    while matches!(chars.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let mut delimiter = Vec::new();
    let mut quoted = false;
    while let Some(&c) = chars.get(i) {
        match c {
            b'\'' | b'"' => {
                quoted = true;
                let close = chars[i + 1..].iter().position(|&q| q == c)?;
                delimiter.extend(&chars[i + 1..i + 1 + close]);
                i += close + 2;
            }
            b'\\' => {
                quoted = true;
                delimiter.extend(chars.get(i + 1));
                i += 2;
            }
            c if c.is_ascii_whitespace() || b";|&<>()".contains(&c) => break,
            c => {
                delimiter.push(c);
                i += 1;
            }
        }
    }
    let delimiter = String::from_utf8_lossy(&delimiter).into_owned();
    (!delimiter.is_empty()).then_some((
        Heredoc {
            delimiter,
            quoted,
            strip_tabs,
        },
        i,
    ))
}

impl Lexer {
    /// `text` with heredoc operators recognised: the delimiter word is read here, where the whole
    /// text part is at hand, and its body is queued to start at the end of the line.
    fn text_with_heredocs(&mut self, chars: &[u8]) {
        let mut i = 0;
        while i < chars.len() {
            // Fast path: a run of bytes that mean nothing in the current context only ends the
            // word start (most of a script is such runs).
            if !self.escaped && self.mode == Mode::Normal {
                let inert = match self.top() == Some(Frame::DoubleQuote) {
                    true => &INERT_IN_DOUBLE_QUOTES,
                    false => &INERT,
                };
                let run = chars[i..]
                    .iter()
                    .take_while(|&&c| inert[usize::from(c)])
                    .count();
                if run > 0 {
                    self.word_start = false;
                    i += run;
                    continue;
                }
            }
            let is_heredoc_operator = self.mode == Mode::Normal
                && !self.escaped
                && chars[i] == b'<'
                && chars.get(i + 1) == Some(&b'<')
                && chars.get(i + 2) != Some(&b'<')
                && !matches!(self.top(), Some(Frame::Arithmetic(_) | Frame::DoubleQuote));
            if is_heredoc_operator {
                self.word_start = false;
                i += 2;
                if let Some((heredoc, used)) = heredoc_operator(&chars[i..]) {
                    self.pending.push(heredoc);
                    i += used;
                }
                continue;
            }
            i += self.step(chars, i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `script` at each `@` into text and references, classifies, and renders with
    /// variables named V0, V1, ...; returns the contexts and the rendered script.
    fn check(script: &str, expected: &[ShellContext], expected_script: &str) {
        let pieces: Vec<&str> = script.split('@').collect();
        let mut parts = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                parts.push(ScriptPart::Reference("<<secrets.X>>"));
            }
            parts.push(ScriptPart::Text(piece));
        }
        let contexts = classify(&parts);
        assert_eq!(contexts, expected, "contexts of {script:?}");
        let rendered = render(&parts, &contexts, |i| format!("V{i}"));
        assert_eq!(rendered, expected_script, "rendering of {script:?}");
    }

    use NoExpansionReason as R;
    use ShellContext as C;

    #[test]
    fn unquoted_words_get_double_quotes() {
        check("echo @", &[C::Unquoted], "echo \"${V0}\"");
        check(
            "curl -H x=@ -d @",
            &[C::Unquoted, C::Unquoted],
            "curl -H x=\"${V0}\" -d \"${V1}\"",
        );
    }

    #[test]
    fn double_quotes_get_bare_expansions() {
        check(
            "echo \"token: @\"",
            &[C::DoubleQuoted],
            "echo \"token: ${V0}\"",
        );
        check(
            "echo \"a\" @ \"@\"",
            &[C::Unquoted, C::DoubleQuoted],
            "echo \"a\" \"${V0}\" \"${V1}\"",
        );
    }

    #[test]
    fn single_quotes_do_not_expand() {
        check(
            "echo 'x @'",
            &[C::NoExpansion(R::SingleQuotes)],
            "echo 'x <<secrets.X>>'",
        );
        check("echo \"it's @\"", &[C::DoubleQuoted], "echo \"it's ${V0}\"");
        check(
            "echo $'a\\'b @'",
            &[C::NoExpansion(R::AnsiCQuotes)],
            "echo $'a\\'b <<secrets.X>>'",
        );
    }

    #[test]
    fn command_substitution_and_backticks_are_new_word_contexts() {
        check("x=$(echo @)", &[C::Unquoted], "x=$(echo \"${V0}\")");
        check(
            "x=\"$(echo \"@\")\"",
            &[C::DoubleQuoted],
            "x=\"$(echo \"${V0}\")\"",
        );
        check("x=`echo @`", &[C::Unquoted], "x=`echo \"${V0}\"`");
        check("x=\"$(f) @\"", &[C::DoubleQuoted], "x=\"$(f) ${V0}\"");
    }

    #[test]
    fn parameter_expansion_defaults() {
        check("echo ${A:-@}", &[C::Unquoted], "echo ${A:-\"${V0}\"}");
        check(
            "echo \"${A:-@}\"",
            &[C::DoubleQuoted],
            "echo \"${A:-${V0}}\"",
        );
    }

    #[test]
    fn arithmetic_is_refused() {
        check(
            "echo $((1 + @))",
            &[C::NoExpansion(R::Arithmetic)],
            "echo $((1 + <<secrets.X>>))",
        );
        check(
            "((n = @))",
            &[C::NoExpansion(R::Arithmetic)],
            "((n = <<secrets.X>>))",
        );
        check(
            "echo $((x<<2)) @",
            &[C::Unquoted],
            "echo $((x<<2)) \"${V0}\"",
        );
    }

    #[test]
    fn comments_keep_the_reference_text() {
        check(
            "echo a # @\necho @",
            &[C::Comment, C::Unquoted],
            "echo a # <<secrets.X>>\necho \"${V1}\"",
        );
        check("echo a#@", &[C::Unquoted], "echo a#\"${V0}\"");
    }

    #[test]
    fn backslash_makes_the_expansion_literal() {
        check(
            "echo \\@",
            &[C::NoExpansion(R::Escaped)],
            "echo \\<<secrets.X>>",
        );
        check("echo \\\\@", &[C::Unquoted], "echo \\\\\"${V0}\"");
    }

    #[test]
    fn heredocs() {
        check(
            "cat <<EOF\nkey @\nEOF\necho @",
            &[C::HeredocBody, C::Unquoted],
            "cat <<EOF\nkey ${V0}\nEOF\necho \"${V1}\"",
        );
        check(
            "cat <<'EOF'\nkey @\nEOF\necho @",
            &[
                C::NoExpansion(R::QuotedHeredoc {
                    delimiter: "EOF".into(),
                }),
                C::Unquoted,
            ],
            "cat <<'EOF'\nkey <<secrets.X>>\nEOF\necho \"${V1}\"",
        );
        check(
            "cat <<\"E\"\n@\nE\n",
            &[C::NoExpansion(R::QuotedHeredoc {
                delimiter: "E".into(),
            })],
            "cat <<\"E\"\n<<secrets.X>>\nE\n",
        );
        check(
            "cat <<\\E\n@\nE\n",
            &[C::NoExpansion(R::QuotedHeredoc {
                delimiter: "E".into(),
            })],
            "cat <<\\E\n<<secrets.X>>\nE\n",
        );
        check(
            "\tcat <<-EOF\n\t@\n\tEOF\necho @",
            &[C::HeredocBody, C::Unquoted],
            "\tcat <<-EOF\n\t${V0}\n\tEOF\necho \"${V1}\"",
        );
        // Without `-`, a tab-indented delimiter does not end the body.
        check(
            "cat <<EOF\n\tEOF\n@\nEOF\n",
            &[C::HeredocBody],
            "cat <<EOF\n\tEOF\n${V0}\nEOF\n",
        );
        // Quotes in an unquoted body are literal, so the expansion stays bare.
        check(
            "cat <<EOF>>log\n'@'\nEOF\n",
            &[C::HeredocBody],
            "cat <<EOF>>log\n'${V0}'\nEOF\n",
        );
    }

    #[test]
    fn two_heredocs_on_one_line_take_their_bodies_in_order() {
        check(
            "cat <<A <<'B'\n@\nA\n@\nB\necho @",
            &[
                C::HeredocBody,
                C::NoExpansion(R::QuotedHeredoc {
                    delimiter: "B".into(),
                }),
                C::Unquoted,
            ],
            "cat <<A <<'B'\n${V0}\nA\n<<secrets.X>>\nB\necho \"${V2}\"",
        );
    }

    #[test]
    fn here_strings_are_not_heredocs() {
        check(
            "cat <<<@\necho @",
            &[C::Unquoted, C::Unquoted],
            "cat <<<\"${V0}\"\necho \"${V1}\"",
        );
        check("cat <<< \"@\"", &[C::DoubleQuoted], "cat <<< \"${V0}\"");
    }

    /// The oracle is the shell itself: each rendered script runs under `sh` with a hostile value
    /// bound to V0 and must print the value (framed as the script says), never run it.
    #[test]
    fn rendered_scripts_pass_hostile_values_through_sh_as_data() {
        let value = "a \"b\" 'c' $(touch INJECTED) `touch INJECTED` ${HOME} * ; \\ \n--- end";
        let cases: &[(&str, String)] = &[
            ("printf '%s' @", value.to_owned()),
            ("printf '%s' \"<@>\"", format!("<{value}>")),
            (
                "x=$(printf '%s' @); printf '%s' \"$x\"",
                value.trim_end().to_owned(),
            ),
            ("printf '%s' ${UNSET:-@}", value.to_owned()),
            ("cat <<EOF\n[@]\nEOF", format!("[{value}]\n")),
            ("\tcat <<-EOF\n\t@\n\tEOF", format!("{value}\n")),
        ];
        let dir = std::env::temp_dir().join(format!("sigil-shell-oracle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (script, expected) in cases {
            let pieces: Vec<&str> = script.split('@').collect();
            let mut parts = vec![ScriptPart::Text(pieces[0])];
            for piece in &pieces[1..] {
                parts.push(ScriptPart::Reference("<<secrets.X>>"));
                parts.push(ScriptPart::Text(piece));
            }
            let contexts = classify(&parts);
            assert!(
                contexts
                    .iter()
                    .all(|c| !matches!(c, ShellContext::NoExpansion(_))),
                "{script:?}: {contexts:?}"
            );
            let rendered = render(&parts, &contexts, |i| format!("V{i}"));
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(&rendered)
                .env("V0", value)
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(output.status.success(), "{rendered:?}: {output:?}");
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                *expected,
                "{rendered:?}"
            );
            assert!(!dir.join("INJECTED").exists(), "{rendered:?} ran the value");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
