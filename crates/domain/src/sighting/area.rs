//! Rectangles of the globe ([`Area`]): what a map shows and asks sightings for.

use super::position::{MICRODEGREES, Position, to_micro};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
