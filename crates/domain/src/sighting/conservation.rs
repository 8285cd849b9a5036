//! Conservation statuses on the IUCN Red List scale ([`ConservationStatus`]), read leniently
//! from what providers write.

/// A conservation status on the IUCN Red List scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConservationStatus {
    /// Not evaluated, or data deficient: nothing known, so nothing implied.
    Unknown,
    /// Least Concern (LC).
    LeastConcern,
    /// Near Threatened (NT).
    NearThreatened,
    /// Vulnerable (VU).
    Vulnerable,
    /// Endangered (EN).
    Endangered,
    /// Critically Endangered (CR).
    CriticallyEndangered,
    /// Extinct in the Wild (EW).
    ExtinctInTheWild,
    /// Extinct (EX).
    Extinct,
}

impl ConservationStatus {
    /// The status a provider stated, read leniently (`Near Threatened`, `NT`,
    /// `near-threatened (IUCN)`); anything unrecognised is [`ConservationStatus::Unknown`].
    pub fn from_provider(text: &str) -> Self {
        let words: String = text
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphabetic() { c } else { ' ' })
            .collect();
        let words: Vec<&str> = words.split_whitespace().collect();
        let has = |phrase: &[&str]| words.windows(phrase.len()).any(|w| w == phrase);
        // Most specific phrases first: "critically endangered" holds "endangered".
        if has(&["extinct", "in", "the", "wild"]) || has(&["ew"]) {
            Self::ExtinctInTheWild
        } else if has(&["critically", "endangered"]) || has(&["cr"]) {
            Self::CriticallyEndangered
        } else if has(&["endangered"]) || has(&["en"]) {
            Self::Endangered
        } else if has(&["vulnerable"]) || has(&["vu"]) {
            Self::Vulnerable
        } else if has(&["near", "threatened"]) || has(&["nt"]) {
            Self::NearThreatened
        } else if has(&["least", "concern"]) || has(&["lc"]) {
            Self::LeastConcern
        } else if has(&["extinct"]) || has(&["ex"]) {
            Self::Extinct
        } else {
            Self::Unknown
        }
    }

    /// Every status, least threatened first ([`ConservationStatus::Unknown`] first of all).
    pub const ALL: [ConservationStatus; 8] = [
        Self::Unknown,
        Self::LeastConcern,
        Self::NearThreatened,
        Self::Vulnerable,
        Self::Endangered,
        Self::CriticallyEndangered,
        Self::ExtinctInTheWild,
        Self::Extinct,
    ];

    /// Its place on the scale: 0 for [`ConservationStatus::Unknown`], 1 (LC) to 7 (EX).
    pub fn rank(self) -> u8 {
        Self::ALL
            .iter()
            .position(|s| *s == self)
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(0)
    }

    /// The status at `rank` ([`ConservationStatus::rank`]).
    pub fn from_rank(rank: u8) -> Option<Self> {
        Self::ALL.get(usize::from(rank)).copied()
    }

    /// The two-letter code (`NT`); `None` for [`ConservationStatus::Unknown`].
    pub fn code(self) -> Option<&'static str> {
        Some(match self {
            Self::Unknown => return None,
            Self::LeastConcern => "LC",
            Self::NearThreatened => "NT",
            Self::Vulnerable => "VU",
            Self::Endangered => "EN",
            Self::CriticallyEndangered => "CR",
            Self::ExtinctInTheWild => "EW",
            Self::Extinct => "EX",
        })
    }

    /// The status with this two-letter code (as [`ConservationStatus::code`] writes it).
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::LeastConcern,
            Self::NearThreatened,
            Self::Vulnerable,
            Self::Endangered,
            Self::CriticallyEndangered,
            Self::ExtinctInTheWild,
            Self::Extinct,
        ]
        .into_iter()
        .find(|s| s.code().is_some_and(|c| c.eq_ignore_ascii_case(code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_from_what_providers_write() {
        use ConservationStatus as S;
        for (text, status) in [
            ("Near Threatened", S::NearThreatened),
            ("NT", S::NearThreatened),
            ("Least Concern (LC)", S::LeastConcern),
            ("critically endangered", S::CriticallyEndangered),
            ("Endangered", S::Endangered),
            ("Vulnerable (IUCN 3.1)", S::Vulnerable),
            ("Extinct in the Wild", S::ExtinctInTheWild),
            ("Extinct", S::Extinct),
            ("Data Deficient", S::Unknown),
            ("Not evaluated", S::Unknown),
            ("<script>", S::Unknown),
        ] {
            assert_eq!(S::from_provider(text), status, "{text}");
        }
        assert_eq!(S::from_code("vu"), Some(S::Vulnerable));
        for status in S::ALL {
            assert_eq!(S::from_rank(status.rank()), Some(status));
        }
        assert_eq!((S::Unknown.rank(), S::Extinct.rank()), (0, 7));
        assert_eq!(S::from_rank(8), None);
        assert_eq!(S::from_code("xx"), None);
    }
}
