//! Geoprivacy: who may see where a sighting was ([`Visibility`]), the obscured point shown
//! instead of the true one ([`obscure`]), and where a sighting appears to others
//! ([`Placement`]).

use super::conservation::ConservationStatus;
use super::position::{CELL_MICRODEGREES, MICRODEGREES, Position};

/// The point shown to others for a sighting at `true_position` when it is obscured: inside the
/// same cell, chosen from `random` (8 bytes of a CSPRNG), never the true point. It is chosen
/// once, when the sighting is stored, and stored with it, so that asking again and again
/// cannot average it out.
pub fn obscure(true_position: Position, random: [u8; 8]) -> Position {
    let cell = true_position.cell();
    let spread = u32::try_from(CELL_MICRODEGREES).unwrap_or(1);
    let [a0, a1, a2, a3, b0, b1, b2, b3] = random;
    let pick = |word: [u8; 4]| -> i32 {
        // Below CELL_MICRODEGREES, so it fits.
        i32::try_from(u32::from_le_bytes(word) % spread).unwrap_or(0)
    };
    let mut shown = Position {
        lat: cell.south + pick([a0, a1, a2, a3]),
        lon: cell.west + pick([b0, b1, b2, b3]),
    };
    if shown == true_position {
        // One microdegree east (or west at the cell's eastern edge): still in the cell.
        let east = shown.lon + 1;
        shown.lon = if east < cell.west + CELL_MICRODEGREES && east <= 180 * MICRODEGREES {
            east
        } else {
            shown.lon - 1
        };
    }
    shown
}

/// Who may see where a sighting was, as its owner chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Visibility {
    /// On the public map where it was seen.
    Open,
    /// On the public map at a point inside its 0.2 degree cell (see [`obscure`]).
    Obscured,
    /// Not on the public map; only its owner sees it. The default: nothing is shared until
    /// its owner shares it.
    #[default]
    Private,
}

impl Visibility {
    /// Every value, for forms and documentation.
    pub const ALL: [Visibility; 3] = [Visibility::Open, Visibility::Obscured, Visibility::Private];

    /// Stable name (`open`, `obscured`, `private`).
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Open => "open",
            Visibility::Obscured => "obscured",
            Visibility::Private => "private",
        }
    }

    /// The value named `name` (exactly as [`Visibility::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == name)
    }
}

/// How a sighting appears to people other than its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Not shown.
    Hidden,
    /// Shown at this point (the true one, or the stored obscured one).
    At(Position),
}

impl Placement {
    /// Where a sighting at `position` (with its stored obscured point `obscured`) appears to
    /// others, given its owner's `visibility`, the `status` of its species and the status
    /// from which sightings are obscured whatever their owner chose (`obscure_from`).
    pub fn for_public(
        position: Position,
        obscured: Position,
        visibility: Visibility,
        status: ConservationStatus,
        obscure_from: ConservationStatus,
    ) -> Self {
        let threatened = status != ConservationStatus::Unknown && status >= obscure_from;
        match visibility {
            Visibility::Private => Placement::Hidden,
            Visibility::Obscured => Placement::At(obscured),
            Visibility::Open if threatened => Placement::At(obscured),
            Visibility::Open => Placement::At(position),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn threatened_species_are_obscured_whatever_the_owner_chose() {
        use ConservationStatus as S;
        let p = Position::new(10.05, 20.05).unwrap();
        let o = obscure(p, [7; 8]);
        let place = |v, s| Placement::for_public(p, o, v, s, S::NearThreatened);
        assert_eq!(place(Visibility::Open, S::LeastConcern), Placement::At(p));
        assert_eq!(place(Visibility::Open, S::Unknown), Placement::At(p));
        assert_eq!(place(Visibility::Open, S::NearThreatened), Placement::At(o));
        assert_eq!(place(Visibility::Open, S::Endangered), Placement::At(o));
        assert_eq!(
            place(Visibility::Obscured, S::LeastConcern),
            Placement::At(o)
        );
        assert_eq!(place(Visibility::Private, S::Endangered), Placement::Hidden);
    }

    fn any_position() -> impl Strategy<Value = Position> {
        (-90_000_000i32..=90_000_000, -180_000_000i32..=180_000_000)
            .prop_map(|(lat, lon)| Position::from_micro(lat, lon).unwrap())
    }

    proptest! {
        #[test]
        fn an_obscured_point_is_in_the_true_cell_never_the_true_point_and_stable(
            p in any_position(),
            random in any::<[u8; 8]>(),
        ) {
            let shown = obscure(p, random);
            prop_assert!(p.cell().contains(shown), "{p:?} shown at {shown:?}");
            prop_assert_ne!(shown, p);
            prop_assert_eq!(obscure(p, random), shown);
            prop_assert!(Position::from_micro(shown.lat_micro(), shown.lon_micro()).is_ok());
        }
    }
}
