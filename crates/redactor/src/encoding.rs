//! The encodings of a value that count as occurrences of it (DESIGN.md section 4).
//!
//! Each [`Encoding`] turns one value into the byte strings an encoder of that family could write
//! for it; the redactor registers each as a needle. The list is open: anything implementing
//! [`Encoder`] can be added with [`crate::RedactorBuilder::encoder`].

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

/// Bytes that hold (an encoding of) a secret value; zeroed when dropped.
pub type SecretBytes = Zeroizing<Vec<u8>>;

/// Turns a value into the forms in which an encoder could write it.
///
/// Implementations push every form they know into `out`; forms equal to the value itself or to
/// each other are removed by the caller, and forms shorter than 4 bytes are ignored. `encode` is
/// called only for values of at least 8 bytes (see [`crate::RedactorBuilder::encode_min_len`]).
///
/// # Example
///
/// ```
/// use sigil_redactor::{Encoder, SecretBytes};
///
/// /// Values written backwards, as some obfuscating tool might.
/// #[derive(Debug)]
/// struct Reversed;
///
/// impl Encoder for Reversed {
///     fn encode(&self, value: &[u8], out: &mut Vec<SecretBytes>) {
///         out.push(SecretBytes::new(value.iter().rev().copied().collect()));
///     }
/// }
/// ```
pub trait Encoder: std::fmt::Debug + Send + Sync {
    /// Pushes the encoded forms of `value` into `out`.
    fn encode(&self, value: &[u8], out: &mut Vec<SecretBytes>);
}

/// The built-in encodings; all are on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Base64, standard and URL-safe alphabets, at each of the three byte alignments a value can
    /// have inside a longer encoded text, with and without padding. The characters that also
    /// carry bits of neighbouring bytes are dropped, so `Basic dXNlcjpodW50ZXIy...` is caught
    /// whatever precedes the value in the encoded text.
    Base64,
    /// Percent-encoding: `+` for space (form and query encoding) and `%20` (path encoding), with
    /// upper- and lower-case hex digits, and the `encodeURIComponent` form that keeps `!'()*`.
    Percent,
    /// JSON string escaping: minimal (what serde_json and `JSON.stringify` write), `\uXXXX` for
    /// every non-ASCII character with surrogate pairs (Python's `ensure_ascii`), and the
    /// HTML-safe form that also writes `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026` (Go).
    Json,
    /// XML and HTML entities: `&amp;`, `&lt;`, `&gt;`, with quotes as `&quot;`/`&apos;` (XML), as
    /// `&#34;`/`&#39;` (HTML), or left alone (text content).
    Xml,
    /// The POSIX shell single-quoted form, where `'` is written `'\''`.
    Shell,
}

impl Encoding {
    /// Every built-in encoding, the default set.
    pub const ALL: &'static [Encoding] = &[
        Encoding::Base64,
        Encoding::Percent,
        Encoding::Json,
        Encoding::Xml,
        Encoding::Shell,
    ];
}

impl Encoder for Encoding {
    fn encode(&self, value: &[u8], out: &mut Vec<SecretBytes>) {
        match self {
            Encoding::Base64 => base64_forms(value, out),
            Encoding::Percent => percent_forms(value, out),
            Encoding::Json => json_forms(value, out),
            Encoding::Xml => xml_forms(value, out),
            Encoding::Shell => shell_forms(value, out),
        }
    }
}

fn base64_forms(value: &[u8], out: &mut Vec<SecretBytes>) {
    for shift in 0..3usize {
        // The value preceded by `shift` bytes of something else: the first characters mix those
        // bytes with the value's and are dropped.
        let mut shifted = SecretBytes::new(vec![0u8; shift]);
        shifted.extend_from_slice(value);
        let skip = (shift * 8).div_ceil(6);
        let whole_bits = shifted.len() * 8;
        for (no_pad, pad) in [(&STANDARD_NO_PAD, &STANDARD), (&URL_SAFE_NO_PAD, &URL_SAFE)] {
            let bare = SecretBytes::new(no_pad.encode(&shifted[..]).into_bytes());
            let padded = SecretBytes::new(pad.encode(&shifted[..]).into_bytes());
            // Followed by more bytes, the last character mixes with them unless the bits end on
            // a character boundary.
            let exact = whole_bits.is_multiple_of(6);
            let trimmed_end = if exact { bare.len() } else { bare.len() - 1 };
            out.push(SecretBytes::new(bare[skip..trimmed_end].to_vec()));
            out.push(SecretBytes::new(bare[skip..].to_vec()));
            out.push(SecretBytes::new(padded[skip..].to_vec()));
        }
    }
}

fn percent_forms(value: &[u8], out: &mut Vec<SecretBytes>) {
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
    let component = |b: u8| unreserved(b) || matches!(b, b'!' | b'\'' | b'(' | b')' | b'*');
    type Form<'a> = (&'a [u8; 16], bool, &'a dyn Fn(u8) -> bool);
    let forms: [Form<'_>; 4] = [
        (UPPER, true, &unreserved),
        (UPPER, false, &unreserved),
        (LOWER, true, &unreserved),
        (UPPER, false, &component),
    ];
    for (hex, plus, keep) in forms {
        let mut encoded = SecretBytes::new(Vec::with_capacity(value.len() * 3));
        for &b in value {
            if keep(b) {
                encoded.push(b);
            } else if b == b' ' && plus {
                encoded.push(b'+');
            } else {
                encoded.extend_from_slice(&[
                    b'%',
                    hex[usize::from(b >> 4)],
                    hex[usize::from(b & 15)],
                ]);
            }
        }
        out.push(encoded);
    }
}

fn json_forms(value: &[u8], out: &mut Vec<SecretBytes>) {
    // JSON escaping is defined on text; a value that is not UTF-8 has no JSON form.
    let Ok(text) = std::str::from_utf8(value) else {
        return;
    };
    #[derive(Clone, Copy)]
    enum Style {
        Minimal,
        Ascii,
        HtmlSafe,
    }
    for style in [Style::Minimal, Style::Ascii, Style::HtmlSafe] {
        let mut encoded = SecretBytes::new(Vec::with_capacity(value.len() + 8));
        let unit = |encoded: &mut SecretBytes, u: u16| {
            encoded.extend_from_slice(format!("\\u{u:04x}").as_bytes());
        };
        for c in text.chars() {
            match c {
                '"' => encoded.extend_from_slice(b"\\\""),
                '\\' => encoded.extend_from_slice(b"\\\\"),
                '\n' => encoded.extend_from_slice(b"\\n"),
                '\r' => encoded.extend_from_slice(b"\\r"),
                '\t' => encoded.extend_from_slice(b"\\t"),
                '\u{8}' => encoded.extend_from_slice(b"\\b"),
                '\u{c}' => encoded.extend_from_slice(b"\\f"),
                c if (c as u32) < 0x20 => unit(&mut encoded, c as u16),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if matches!(style, Style::HtmlSafe) => {
                    unit(&mut encoded, c as u16)
                }
                c if !c.is_ascii() && matches!(style, Style::Ascii) => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        unit(&mut encoded, *u);
                    }
                }
                c => {
                    let mut bytes = [0u8; 4];
                    encoded.extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
                }
            }
        }
        out.push(encoded);
    }
}

fn xml_forms(value: &[u8], out: &mut Vec<SecretBytes>) {
    let quote_styles: [(&[u8], &[u8]); 3] =
        [(b"&quot;", b"&apos;"), (b"&#34;", b"&#39;"), (b"\"", b"'")];
    for (double, single) in quote_styles {
        let mut encoded = SecretBytes::new(Vec::with_capacity(value.len() + 8));
        for &b in value {
            match b {
                b'&' => encoded.extend_from_slice(b"&amp;"),
                b'<' => encoded.extend_from_slice(b"&lt;"),
                b'>' => encoded.extend_from_slice(b"&gt;"),
                b'"' => encoded.extend_from_slice(double),
                b'\'' => encoded.extend_from_slice(single),
                b => encoded.push(b),
            }
        }
        out.push(encoded);
    }
}

fn shell_forms(value: &[u8], out: &mut Vec<SecretBytes>) {
    let mut encoded = SecretBytes::new(Vec::with_capacity(value.len() + 8));
    for &b in value {
        if b == b'\'' {
            encoded.extend_from_slice(b"'\\''");
        } else {
            encoded.push(b);
        }
    }
    out.push(encoded);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distinct forms `encoding` produces for `value`, as text, in order.
    fn check(encoding: Encoding, value: &str, expected: &[&str]) {
        let mut out = Vec::new();
        encoding.encode(value.as_bytes(), &mut out);
        let mut forms: Vec<String> = Vec::new();
        for form in out {
            let form = String::from_utf8(form.to_vec()).unwrap();
            if form != value && !forms.contains(&form) {
                forms.push(form);
            }
        }
        assert_eq!(forms, expected, "{encoding:?} of {value:?}");
    }

    #[test]
    fn base64_every_alignment_with_and_without_padding() {
        // "hunter2hunter2" = aHVudGVyMmh1bnRlcjI= ; shifted by one byte: AGh1bnRlcjJodW50ZXIy ;
        // by two: AABodW50ZXIyaHVudGVyMg== (the third character mixes both)
        check(
            Encoding::Base64,
            "hunter2hunter2",
            &[
                "aHVudGVyMmh1bnRlcj",
                "aHVudGVyMmh1bnRlcjI",
                "aHVudGVyMmh1bnRlcjI=",
                "h1bnRlcjJodW50ZXIy",
                "odW50ZXIyaHVudGVyM",
                "odW50ZXIyaHVudGVyMg",
                "odW50ZXIyaHVudGVyMg==",
            ],
        );
        // `?>?` encodes with `+` and `/` in the standard alphabet and `-`, `_` in the URL-safe one.
        check(
            Encoding::Base64,
            "??>>??>>",
            &[
                "Pz8+Pj8/Pj",
                "Pz8+Pj8/Pj4",
                "Pz8+Pj8/Pj4=",
                "Pz8-Pj8_Pj",
                "Pz8-Pj8_Pj4",
                "Pz8-Pj8_Pj4=",
                "8/Pj4/Pz4+",
                "8_Pj4_Pz4-",
                "/Pz4+Pz8+P",
                "/Pz4+Pz8+Pg",
                "/Pz4+Pz8+Pg==",
                "_Pz4-Pz8-P",
                "_Pz4-Pz8-Pg",
                "_Pz4-Pz8-Pg==",
            ],
        );
    }

    #[test]
    fn percent_forms_plus_and_hex_case() {
        check(
            Encoding::Percent,
            "a b/c!d\u{e9}",
            &[
                "a+b%2Fc%21d%C3%A9",
                "a%20b%2Fc%21d%C3%A9",
                "a+b%2fc%21d%c3%a9",
                "a%20b%2Fc!d%C3%A9",
            ],
        );
        check(Encoding::Percent, "plain-token_1.2~x", &[]);
    }

    #[test]
    fn json_forms_minimal_ascii_and_html_safe() {
        check(
            Encoding::Json,
            "p\"w\\<\u{e9}\u{1f600}\n",
            &[
                "p\\\"w\\\\<\u{e9}\u{1f600}\\n",
                "p\\\"w\\\\<\\u00e9\\ud83d\\ude00\\n",
                "p\\\"w\\\\\\u003c\u{e9}\u{1f600}\\n",
            ],
        );
    }

    #[test]
    fn xml_and_shell_forms() {
        check(
            Encoding::Xml,
            "a<b>&'\"c",
            &[
                "a&lt;b&gt;&amp;&apos;&quot;c",
                "a&lt;b&gt;&amp;&#39;&#34;c",
                "a&lt;b&gt;&amp;'\"c",
            ],
        );
        check(Encoding::Shell, "it's a secret", &["it'\\''s a secret"]);
    }
}
