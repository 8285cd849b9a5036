//! Points on the globe in whole microdegrees ([`Position`]) and the geoprivacy cells that
//! hold them ([`Cell`]).

use super::SightingError;

/// Microdegrees in one degree.
pub const MICRODEGREES: i32 = 1_000_000;
/// The side of a geoprivacy cell, in microdegrees (0.2 degrees, about 22 km north to south).
pub const CELL_MICRODEGREES: i32 = 200_000;

/// A point on the globe, in microdegrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    pub(super) lat: i32,
    pub(super) lon: i32,
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

pub(super) fn to_micro(degrees: f64, limit: i32) -> Option<i32> {
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
    pub(super) south: i32,
    pub(super) west: i32,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    proptest! {
        #[test]
        fn degrees_round_trip_through_microdegrees(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            let p = Position::new(lat, lon).unwrap();
            prop_assert!((p.latitude() - lat).abs() <= 0.000_000_5 + f64::EPSILON);
            prop_assert!((p.longitude() - lon).abs() <= 0.000_000_5 + f64::EPSILON);
        }
    }
}
