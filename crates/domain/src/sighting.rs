//! Where and when an animal was seen, who may see where, and geoprivacy.
//!
//! Positions are kept in whole microdegrees (about 11 cm at the equator), so that they compare
//! exactly, store as integers on every database, and a value that passed [`Position::new`]
//! is always on the globe.
//!
//! Geoprivacy follows iNaturalist: a sighting is shown to people other than its owner either
//! where it was seen ([`Visibility::Open`]), at a point chosen once at random inside the
//! 0.2 x 0.2 degree cell that holds it ([`Visibility::Obscured`], see [`obscure`]), or not at
//! all ([`Visibility::Private`]). A species whose conservation status is at or beyond a
//! threshold is obscured whatever its owner chose ([`Placement::for_public`]).

use crate::Timestamp;
use crate::text::{PlainText, TextError};

/// Microdegrees in one degree.
pub const MICRODEGREES: i32 = 1_000_000;
/// The side of a geoprivacy cell, in microdegrees (0.2 degrees, about 22 km north to south).
pub const CELL_MICRODEGREES: i32 = 200_000;
/// The longest note on a sighting, in characters.
pub const NOTES_MAX_CHARS: usize = 2_000;
/// How far in the future an observation time may be (clocks of phones drift).
pub const FUTURE_TOLERANCE_MINUTES: i64 = 10;

/// Why a sighting was refused. The texts are safe to show to the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SightingError {
    /// A latitude outside -90 to 90 degrees, or not a number.
    #[error("the latitude must be a number from -90 to 90 degrees")]
    Latitude,
    /// A longitude outside -180 to 180 degrees, or not a number.
    #[error("the longitude must be a number from -180 to 180 degrees")]
    Longitude,
    /// One coordinate without the other.
    #[error("give both the latitude and the longitude, or neither")]
    HalfPosition,
    /// The animal cannot have been seen after now.
    #[error("the observation time is in the future")]
    ObservedInFuture,
    /// The note is too long.
    #[error("the note is longer than {NOTES_MAX_CHARS} characters")]
    NotesTooLong,
}

/// A point on the globe, in microdegrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    lat: i32,
    lon: i32,
}

impl Position {
    /// The point at `latitude` and `longitude` degrees, rounded to a microdegree.
    ///
    /// # Errors
    /// [`SightingError::Latitude`] or [`SightingError::Longitude`] when a value is not a
    /// finite number in its range.
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, SightingError> {
        let lat = to_micro(latitude, 90).ok_or(SightingError::Latitude)?;
        let lon = to_micro(longitude, 180).ok_or(SightingError::Longitude)?;
        Ok(Self { lat, lon })
    }

    /// The point at `lat` and `lon` microdegrees (as stored).
    ///
    /// # Errors
    /// As [`Position::new`].
    pub fn from_micro(lat: i32, lon: i32) -> Result<Self, SightingError> {
        if lat.abs() > 90 * MICRODEGREES {
            return Err(SightingError::Latitude);
        }
        if lon.abs() > 180 * MICRODEGREES {
            return Err(SightingError::Longitude);
        }
        Ok(Self { lat, lon })
    }

    /// Latitude in microdegrees.
    pub fn lat_micro(self) -> i32 {
        self.lat
    }

    /// Longitude in microdegrees.
    pub fn lon_micro(self) -> i32 {
        self.lon
    }

    /// Latitude in degrees.
    pub fn latitude(self) -> f64 {
        f64::from(self.lat) / f64::from(MICRODEGREES)
    }

    /// Longitude in degrees.
    pub fn longitude(self) -> f64 {
        f64::from(self.lon) / f64::from(MICRODEGREES)
    }

    /// The geoprivacy cell that holds this point.
    pub fn cell(self) -> Cell {
        // The cells of the northern and eastern edges (90 degrees, 180 degrees) are the ones
        // below them, so every cell lies on the globe.
        let south = self.lat.div_euclid(CELL_MICRODEGREES) * CELL_MICRODEGREES;
        let west = self.lon.div_euclid(CELL_MICRODEGREES) * CELL_MICRODEGREES;
        Cell {
            south: south.min(90 * MICRODEGREES - CELL_MICRODEGREES),
            west: west.min(180 * MICRODEGREES - CELL_MICRODEGREES),
        }
    }
}

fn to_micro(degrees: f64, limit: i32) -> Option<i32> {
    if !degrees.is_finite() || degrees.abs() > f64::from(limit) {
        return None;
    }
    // In range by the check above, so the cast neither truncates nor wraps.
    #[allow(clippy::cast_possible_truncation)]
    let micro = (degrees * f64::from(MICRODEGREES)).round() as i32;
    Some(micro)
}

/// A 0.2 x 0.2 degree cell of the globe, by its south-west corner (included; the northern and
/// eastern edges belong to the next cell, except at 90 and 180 degrees).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cell {
    south: i32,
    west: i32,
}

impl Cell {
    /// Whether `p` lies in this cell.
    pub fn contains(self, p: Position) -> bool {
        p.cell() == self
    }

    /// The south-west corner.
    pub fn south_west(self) -> Position {
        Position {
            lat: self.south,
            lon: self.west,
        }
    }
}

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

/// Why an area of the map was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    /// A side is not a number in range (latitudes -90 to 90, longitudes -180 to 180).
    #[error("the area's sides must be latitudes from -90 to 90 and longitudes from -180 to 180")]
    OutOfRange,
    /// South above north, or west east of east (an area across the 180th meridian is asked
    /// for as two).
    #[error("the area's south must not be above its north, nor its west east of its east")]
    Inverted,
}

/// A rectangle of the globe, sides included, in microdegrees: what a map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Area {
    south: i32,
    west: i32,
    north: i32,
    east: i32,
}

impl Area {
    /// The whole globe.
    pub const WORLD: Area = Area {
        south: -90 * MICRODEGREES,
        west: -180 * MICRODEGREES,
        north: 90 * MICRODEGREES,
        east: 180 * MICRODEGREES,
    };

    /// The area between these sides, in degrees.
    ///
    /// # Errors
    /// [`AreaError`] naming what is wrong.
    pub fn new(south: f64, west: f64, north: f64, east: f64) -> Result<Self, AreaError> {
        let lat = |d| to_micro(d, 90).ok_or(AreaError::OutOfRange);
        let lon = |d| to_micro(d, 180).ok_or(AreaError::OutOfRange);
        let area = Self {
            south: lat(south)?,
            west: lon(west)?,
            north: lat(north)?,
            east: lon(east)?,
        };
        if area.south > area.north || area.west > area.east {
            return Err(AreaError::Inverted);
        }
        Ok(area)
    }

    /// The area between these sides, in microdegrees (as stored).
    ///
    /// # Errors
    /// [`AreaError`] naming what is wrong.
    pub fn from_micro(south: i32, west: i32, north: i32, east: i32) -> Result<Self, AreaError> {
        let lat = |m: i32| (-90 * MICRODEGREES..=90 * MICRODEGREES).contains(&m);
        let lon = |m: i32| (-180 * MICRODEGREES..=180 * MICRODEGREES).contains(&m);
        if !(lat(south) && lat(north) && lon(west) && lon(east)) {
            return Err(AreaError::OutOfRange);
        }
        if south > north || west > east {
            return Err(AreaError::Inverted);
        }
        Ok(Self {
            south,
            west,
            north,
            east,
        })
    }

    /// Whether `p` lies in the area (sides included).
    pub fn contains(self, p: Position) -> bool {
        (self.south..=self.north).contains(&p.lat) && (self.west..=self.east).contains(&p.lon)
    }

    /// South side, microdegrees.
    pub fn south(self) -> i32 {
        self.south
    }

    /// West side, microdegrees.
    pub fn west(self) -> i32 {
        self.west
    }

    /// North side, microdegrees.
    pub fn north(self) -> i32 {
        self.north
    }

    /// East side, microdegrees.
    pub fn east(self) -> i32 {
        self.east
    }
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

/// Where and when a person says they saw an animal, as sent and not yet checked
/// ([`Sighting::from_input`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SightingInput {
    /// Latitude in degrees.
    pub latitude: Option<f64>,
    /// Longitude in degrees.
    pub longitude: Option<f64>,
    /// When.
    pub observed_at: Option<Timestamp>,
    /// A note, uncleaned.
    pub notes: Option<String>,
}

/// Where and when the person saw the animal, as they said; every part is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sighting {
    /// Where.
    pub position: Option<Position>,
    /// When (never after it was recorded).
    pub observed_at: Option<Timestamp>,
    /// A note, cleaned.
    pub notes: Option<PlainText>,
}

impl Sighting {
    /// A sighting from what a person typed: `latitude` and `longitude` in degrees (both or
    /// neither), `observed_at` no later than `now` (give or take
    /// [`FUTURE_TOLERANCE_MINUTES`]), `notes` cleaned ([`PlainText`]; empty means none).
    ///
    /// # Errors
    /// [`SightingError`] naming the first part that is wrong.
    pub fn new(
        latitude: Option<f64>,
        longitude: Option<f64>,
        observed_at: Option<Timestamp>,
        notes: Option<&str>,
        now: Timestamp,
    ) -> Result<Self, SightingError> {
        let position = match (latitude, longitude) {
            (Some(lat), Some(lon)) => Some(Position::new(lat, lon)?),
            (None, None) => None,
            _ => return Err(SightingError::HalfPosition),
        };
        if observed_at
            .is_some_and(|t| t > now + chrono::TimeDelta::minutes(FUTURE_TOLERANCE_MINUTES))
        {
            return Err(SightingError::ObservedInFuture);
        }
        let notes = match notes.map(|n| PlainText::new(n, NOTES_MAX_CHARS)) {
            None | Some(Err(TextError::Empty)) => None,
            Some(Ok(text)) => Some(text),
            Some(Err(TextError::TooLong { .. })) => return Err(SightingError::NotesTooLong),
        };
        Ok(Self {
            position,
            observed_at,
            notes,
        })
    }

    /// [`Sighting::new`] on what a person sent.
    ///
    /// # Errors
    /// As [`Sighting::new`].
    pub fn from_input(input: &SightingInput, now: Timestamp) -> Result<Self, SightingError> {
        Self::new(
            input.latitude,
            input.longitude,
            input.observed_at,
            input.notes.as_deref(),
            now,
        )
    }

    /// Whether nothing was said.
    pub fn is_empty(&self) -> bool {
        self.position.is_none() && self.observed_at.is_none() && self.notes.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn positions_are_checked_and_rounded_to_a_microdegree() {
        let p = Position::new(-33.856_784_4, 151.215_297_1).unwrap();
        assert_eq!((p.lat_micro(), p.lon_micro()), (-33_856_784, 151_215_297));
        assert_eq!(Position::new(90.000_001, 0.0), Err(SightingError::Latitude));
        assert_eq!(Position::new(0.0, -180.5), Err(SightingError::Longitude));
        assert_eq!(Position::new(f64::NAN, 0.0), Err(SightingError::Latitude));
        assert_eq!(
            Position::new(0.0, f64::INFINITY),
            Err(SightingError::Longitude)
        );
        assert!(Position::new(90.0, 180.0).is_ok());
        assert_eq!(
            Position::from_micro(90_000_001, 0),
            Err(SightingError::Latitude)
        );
    }

    #[test]
    fn cells_are_aligned_to_a_fifth_of_a_degree_and_stay_on_the_globe() {
        let p = Position::new(51.4567, -0.1234).unwrap();
        assert_eq!(p.cell().south_west(), Position::new(51.4, -0.2).unwrap());
        let pole = Position::new(90.0, 180.0).unwrap();
        assert_eq!(
            pole.cell().south_west(),
            Position::new(89.8, 179.8).unwrap()
        );
        assert!(pole.cell().contains(pole));
    }

    #[test]
    fn areas_are_checked_and_hold_their_sides() {
        let a = Area::new(-34.0, 150.0, -33.0, 152.0).unwrap();
        assert!(a.contains(Position::new(-33.5, 151.0).unwrap()));
        assert!(
            a.contains(Position::new(-34.0, 152.0).unwrap()),
            "sides included"
        );
        assert!(!a.contains(Position::new(-32.9, 151.0).unwrap()));
        assert_eq!(
            Area::new(-33.0, 150.0, -34.0, 152.0),
            Err(AreaError::Inverted)
        );
        assert_eq!(Area::new(0.0, 170.0, 1.0, -170.0), Err(AreaError::Inverted));
        assert_eq!(Area::new(-91.0, 0.0, 0.0, 1.0), Err(AreaError::OutOfRange));
        assert_eq!(
            Area::new(0.0, f64::NAN, 1.0, 1.0),
            Err(AreaError::OutOfRange)
        );
        assert!(Area::WORLD.contains(Position::new(90.0, -180.0).unwrap()));
    }

    #[test]
    fn sightings_refuse_bad_parts_by_name() {
        let t = now();
        assert_eq!(
            Sighting::new(Some(1.0), None, None, None, t),
            Err(SightingError::HalfPosition)
        );
        assert_eq!(
            Sighting::new(None, None, Some(t + chrono::TimeDelta::hours(1)), None, t),
            Err(SightingError::ObservedInFuture)
        );
        let long = "a".repeat(NOTES_MAX_CHARS + 1);
        assert_eq!(
            Sighting::new(None, None, None, Some(&long), t),
            Err(SightingError::NotesTooLong)
        );
        let s = Sighting::new(Some(1.0), Some(2.0), Some(t), Some("  \n "), t).unwrap();
        assert_eq!(s.notes, None, "an empty note is no note");
        assert!(Sighting::default().is_empty());
    }

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

        #[test]
        fn degrees_round_trip_through_microdegrees(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            let p = Position::new(lat, lon).unwrap();
            prop_assert!((p.latitude() - lat).abs() <= 0.000_000_5 + f64::EPSILON);
            prop_assert!((p.longitude() - lon).abs() <= 0.000_000_5 + f64::EPSILON);
        }
    }
}
