//! Free text written by users (notes, descriptions, display names): bounded, without control
//! characters. Markup is removed by the core before a `PlainText` is built (see the ports
//! crate); templates escape it again on output.

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty after cleaning.
    #[error("the text is empty")]
    Empty,
    /// Longer than allowed.
    #[error("the text is longer than {max} characters")]
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
}

/// Cleaned user text: control characters removed (line breaks and tabs kept, `\r\n` folded to
/// `\n`), surrounding white space trimmed, at most a given number of characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlainText(String);

impl PlainText {
    /// Cleans `raw` and checks it holds between 1 and `max_chars` characters.
    ///
    /// # Errors
    /// [`TextError`] when nothing is left or too much is.
    pub fn new(raw: &str, max_chars: usize) -> Result<Self, TextError> {
        // Most text (and all text read back from storage) is clean already: no copy to clean.
        let cleaned = if raw.chars().all(is_kept) {
            std::borrow::Cow::Borrowed(raw)
        } else {
            std::borrow::Cow::Owned(without_controls(raw))
        };
        let trimmed = cleaned.trim();
        if trimmed.is_empty() {
            return Err(TextError::Empty);
        }
        if trimmed.chars().count() > max_chars {
            return Err(TextError::TooLong { max: max_chars });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A constant of this crate that is known to be clean (no cleaning needed).
    pub(crate) fn from_constant(text: &'static str) -> Self {
        Self(text.to_owned())
    }
}

/// `raw` without control characters (line breaks and tabs kept, `\r\n` folded to `\n`) and
/// without the invisible formatting characters that can disguise text (bidirectional overrides,
/// zero-width characters).
pub fn without_controls(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .chars()
        .filter(|c| is_kept(*c))
        .collect()
}

/// Whether `c` stays in cleaned text (`\r` does not: a lone one is removed, and `\r\n` is
/// folded before this is asked).
fn is_kept(c: char) -> bool {
    c == '\n' || c == '\t' || !(c.is_control() || is_invisible_format(c))
}

/// Bidirectional overrides and zero-width characters that can disguise text.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_and_bounds() {
        let t = PlainText::new("  Saw a \u{7}heron\r\nnear the \u{202E}pond\t ", 100).unwrap();
        assert_eq!(t.as_str(), "Saw a heron\nnear the pond");
        assert_eq!(PlainText::new("\u{0}\u{1} ", 10), Err(TextError::Empty));
        assert_eq!(
            PlainText::new("ééééé", 4),
            Err(TextError::TooLong { max: 4 })
        );
        assert!(PlainText::new("ééééé", 5).is_ok());
    }
}
