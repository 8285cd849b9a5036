//! Field visits on diesel: `SiteRepository`, `ServiceTypeRepository`, `BookingRepository` and
//! `VisitMappingRepository`, all implemented by [`SqlVisits`].
//!
//! Each slot's places are counted in `visit_slots`. Booking takes a place with one conditional
//! update (`taken < capacity`) in the same transaction as the insert, so concurrent requests
//! never take more places than there are: on SQLite the transaction holds the write lock from
//! its start, on Postgres the updated row's lock orders them and the second re-reads the
//! count. A cancellation gives its place back in the transaction that stores it; a booking
//! deleted with its visitor's account gives it back through a trigger (see the migration).
//! Each booking's visit token is kept encrypted in `visit_tokens` until check-in or
//! cancellation, and deleted in the transaction that stores either.
//!
//! - `catalogue`: the sites and the kinds of visit offered;
//! - `bookings`: a booking's row, booking a place, the listings, the purge;
//! - `transitions`: a booking's change of status, stored only if it is still where it was;
//! - `mappings`: the encrypted visit mappings (who was at a site when).

mod bookings;
mod catalogue;
mod mappings;
mod transitions;

use std::sync::Arc;

use crate::Database;

pub(crate) struct SqlVisits {
    pub(crate) db: Arc<Database>,
}

/// A count or length the domain bounds far below `i32::MAX`.
fn small(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
