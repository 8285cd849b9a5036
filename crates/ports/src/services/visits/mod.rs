//! Field visits (seed 004 items 2 and 19): the catalogue of sites and services, and bookings
//! through their life.

pub mod bookings;
pub mod catalogue;
pub mod exposures;
pub mod retention;

pub use bookings::{BookingInput, BookingPorts, Bookings, BookingsError, Step};
pub use catalogue::{Catalogue, CatalogueError, ServiceInput, SiteInput};
pub use exposures::{ExposureInput, ExposurePorts, Exposures, ExposuresError, Reported};
pub use retention::{PURGE_BATCH, PurgeFailed, PurgeRun, Purged, RetentionPorts, VisitRetention};
