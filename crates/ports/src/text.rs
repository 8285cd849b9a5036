//! Cleaning the free text users write (display names today; feedback notes, booking
//! descriptions and exposure notes as those features arrive) before it is stored.
//!
//! [`clean`] removes every tag with ammonia (the content of `script` and `style` goes with its
//! tags), turns the escaped text ammonia returns back into plain text, and builds a
//! [`PlainText`], which removes control and invisible formatting characters, trims, and bounds
//! the length. What is stored is plain text; templates escape it again when they render it.

use wildid_domain::text::{PlainText, TextError, without_controls};

/// Most cleaning passes: markup hidden under several layers of entity encoding
/// (`&amp;lt;b&amp;gt;`) loses one layer per pass.
const MAX_PASSES: usize = 8;

/// How much longer than the allowed length raw input may be (markup that cleaning removes)
/// before it is refused without being parsed.
const RAW_ALLOWANCE: usize = 8;

/// Cleans `raw` into plain text of 1 to `max_chars` characters.
///
/// Markup is removed until none is left, including tags written as entities (`&lt;b&gt;`,
/// which a browser would show as `<b>`); text that is not markup (`a < b`, `Fish & Chips`)
/// is kept as written. Input longer than 8 x `max_chars` bytes is refused before parsing.
///
/// # Errors
/// [`TextError::Empty`] when nothing is left; [`TextError::TooLong`] when too much is.
pub fn clean(raw: &str, max_chars: usize) -> Result<PlainText, TextError> {
    if raw.len() > max_chars.saturating_mul(RAW_ALLOWANCE).max(64) {
        return Err(TextError::TooLong { max: max_chars });
    }
    let mut text = raw.to_owned();
    for _ in 0..MAX_PASSES {
        let stripped = strip_once(&text);
        if stripped == text {
            break;
        }
        text = stripped;
    }
    PlainText::new(&text, max_chars)
}

/// One pass: control characters removed first (removing one can join `<` and a letter into a
/// tag), then ammonia with no tag allowed, then its escaping undone (which can bring back
/// controls written as entities, such as `&#1;`: the next pass removes them).
fn strip_once(text: &str) -> String {
    let escaped = ammonia::Builder::empty()
        .clean(&without_controls(text))
        .to_string();
    unescape(&escaped)
}

/// Undoes the escaping of html5ever's serializer, which ammonia uses: in text it writes `&`,
/// a no-break space, `<` and `>` as these four entities and nothing else as an entity. One
/// pass from left to right, so `&amp;lt;` becomes `&lt;` (text), not `<`.
fn unescape(escaped: &str) -> String {
    const ENTITIES: [(&str, char); 4] = [
        ("&amp;", '&'),
        ("&nbsp;", '\u{a0}'),
        ("&lt;", '<'),
        ("&gt;", '>'),
    ];
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match ENTITIES.iter().find(|(entity, _)| rest.starts_with(entity)) {
            Some((entity, c)) => {
                out.push(*c);
                rest = &rest[entity.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn cleaned(raw: &str) -> String {
        clean(raw, 100).unwrap().as_str().to_owned()
    }

    #[test]
    fn removes_markup_and_keeps_text() {
        assert_eq!(cleaned("<b>Ann</b> the <i>ranger</i>"), "Ann the ranger");
        assert_eq!(cleaned("Ann<script>alert(1)</script>"), "Ann");
        assert_eq!(cleaned("<style>p{}</style>Ann"), "Ann");
        assert_eq!(cleaned("<img src=x onerror=alert(1)>Ann"), "Ann");
        assert_eq!(
            cleaned("&lt;b&gt;Ann&lt;/b&gt;"),
            "Ann",
            "tags written as entities"
        );
        assert_eq!(
            cleaned("&amp;lt;b&amp;gt;Ann"),
            "Ann",
            "two layers of entities"
        );
        assert_eq!(
            cleaned("<&#1;b>Ann"),
            "Ann",
            "a control between < and a tag name"
        );
        assert_eq!(cleaned("a < b and c > d"), "a < b and c > d");
        assert_eq!(
            cleaned("Fish & Chips \"Ltd\" 'x'"),
            "Fish & Chips \"Ltd\" 'x'"
        );
        assert_eq!(
            cleaned("Ann\u{7}\u{202E} Lee"),
            "Ann Lee",
            "controls and bidi overrides"
        );
        assert_eq!(cleaned("  Ann  "), "Ann");
    }

    #[test]
    fn refuses_what_is_empty_or_too_long() {
        assert_eq!(clean("<script>x</script>", 10), Err(TextError::Empty));
        assert_eq!(clean(" \u{0} ", 10), Err(TextError::Empty));
        assert_eq!(
            clean(&"a".repeat(11), 10),
            Err(TextError::TooLong { max: 10 })
        );
        assert_eq!(
            clean(&"<b></b>".repeat(100), 10),
            Err(TextError::TooLong { max: 10 }),
            "refused before parsing"
        );
        assert!(clean(&format!("<b>{}</b>", "a".repeat(10)), 10).is_ok());
    }

    proptest! {
        /// Whatever goes in, what comes out is a fixed point (cleaning it again changes
        /// nothing), has no tag a browser would parse and no control character.
        #[test]
        fn output_is_clean_and_stable(raw in "[<>/&;a-z =\"'\\u{0}-\\u{1f}\\u{202e}]{0,60}") {
            if let Ok(text) = clean(&raw, 200) {
                let text = text.as_str();
                let again = clean(text, 200).unwrap();
                prop_assert_eq!(again.as_str(), text);
                prop_assert_eq!(strip_once(text), text);
                prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
            }
        }
    }
}
