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
//!
//! Its files, by what they hold:
//!
//! - `position`: points in microdegrees and the cells that hold them ([`Position`], [`Cell`]);
//! - `area`: rectangles of the globe a map asks for ([`Area`]);
//! - `conservation`: the IUCN Red List scale ([`ConservationStatus`]);
//! - `geoprivacy`: who may see where, and what others see ([`Visibility`], [`obscure`],
//!   [`Placement`]);
//! - `observation`: what a person says and how it is checked ([`SightingInput`], [`Sighting`]).

mod area;
mod conservation;
mod geoprivacy;
mod observation;
mod position;

pub use area::{Area, AreaError};
pub use conservation::ConservationStatus;
pub use geoprivacy::{Placement, Visibility, obscure};
pub use observation::{
    FUTURE_TOLERANCE_MINUTES, NOTES_MAX_CHARS, Sighting, SightingError, SightingInput,
};
pub use position::{CELL_MICRODEGREES, Cell, MICRODEGREES, Position};
