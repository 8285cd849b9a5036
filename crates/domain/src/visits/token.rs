//! The ephemeral visit token a visitor shows at check-in.

/// A random, unlinkable visit token: 128 bits from the CSPRNG, new for every visit and derived
/// from nothing. Without the encrypted mapping it says nothing about who visited. `Debug` hides
/// it; it is shown only to its visitor.
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

    /// Parses the hex form as a person may type it from a screen: 32 hex digits, in either
    /// case, with any spaces or dashes between them (as [`VisitToken::grouped`] shows it).
    ///
    /// # Errors
    /// [`InvalidVisitToken`] for any other shape.
    pub fn parse(raw: &str) -> Result<Self, InvalidVisitToken> {
        if raw.len() > 128 {
            return Err(InvalidVisitToken);
        }
        let digits: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if digits.len() != 32 {
            return Err(InvalidVisitToken);
        }
        let bytes = hex::decode(digits).map_err(|_| InvalidVisitToken)?;
        bytes.try_into().map(Self).map_err(|_| InvalidVisitToken)
    }

    /// The hex form in eight groups of four, for reading aloud or typing (`3f2a 9c01 ...`).
    pub fn grouped(&self) -> String {
        let hex = hex::encode(self.0);
        let groups: Vec<&str> = (0..8).map(|i| &hex[i * 4..i * 4 + 4]).collect();
        groups.join(" ")
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
        assert_eq!(VisitToken::parse(&t.grouped()), Ok(t));
        assert_eq!(
            VisitToken::parse(&t.grouped().to_uppercase().replace(' ', "-")),
            Ok(t)
        );
        assert!(VisitToken::parse("zz").is_err());
        assert!(VisitToken::parse(&"a".repeat(33)).is_err());
        assert!(VisitToken::parse(&format!("{}é", "a".repeat(31))).is_err());
        assert_eq!(format!("{t:?}"), "VisitToken(..)");
    }
}
