//! Field visits: the catalogue of sites and services, bookings through their life, exposure
//! reports with the notifications they send, and the retention of visit data.

pub mod bookings;
pub mod catalogue;
pub mod exposures;
pub mod retention;

pub use bookings::{BookingInput, BookingPorts, Bookings, BookingsError, Step};
pub use catalogue::{Catalogue, CatalogueError, ServiceInput, SiteInput};
pub use exposures::{ExposureInput, ExposurePorts, Exposures, ExposuresError, Reported};
pub use retention::{PURGE_BATCH, PurgeFailed, PurgeRun, Purged, RetentionPorts, VisitRetention};
