//! The ephemeral visit token a visitor shows at check-in.

/// A random, unlinkable visit token. Without the encrypted mapping it says
/// nothing about who visited.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VisitToken([u8; 16]);

/// The text is not a visit token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid visit token")]
pub struct InvalidVisitToken;

impl VisitToken {
    /// A token from 16 bytes of a CSPRNG.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Parses the 32-character lower-case hex form.
    ///
    /// # Errors
    /// [`InvalidVisitToken`] for any other shape.
    pub fn parse(raw: &str) -> Result<Self, InvalidVisitToken> {
        if raw.len() != 32 {
            return Err(InvalidVisitToken);
        }
        let bytes = hex::decode(raw).map_err(|_| InvalidVisitToken)?;
        bytes.try_into().map(Self).map_err(|_| InvalidVisitToken)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Display for VisitToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for VisitToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitToken(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visit_tokens_round_trip() {
        let t = VisitToken::from_random([0xab; 16]);
        assert_eq!(VisitToken::parse(&t.to_string()), Ok(t));
        assert!(VisitToken::parse("zz").is_err());
    }
}
