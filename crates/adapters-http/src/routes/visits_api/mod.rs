//! The JSON API of field visits (seed 004 item 2 and its booking, worker and admin routes):
//! the catalogue of sites and services, visitors' bookings, the workers' queue, and the
//! admins' changes. Who may call what is declared in the route table; a visitor asking for
//! someone else's booking gets 404, exactly as for a missing one.

pub(crate) mod admin;
pub(crate) mod bookings;
pub(crate) mod catalogue;
mod views;
pub(crate) mod worker;
