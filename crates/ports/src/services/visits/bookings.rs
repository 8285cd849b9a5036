//! Booking field visits: visitors book and cancel; workers claim, check in and complete; admins
//! reassign. The rules are the domain's ([`Booking`](wildid_domain::visits::Booking)); this
//! use case loads, applies and stores them, and audits each change.
//!
//! - A visitor sees and changes only their own bookings: someone else's booking is
//!   [`BookingsError::NotFound`], exactly like a missing one. Workers and admins see all.
//! - Places are taken atomically with the booking ([`BookingRepository::book`]), and every
//!   transition is stored only if nobody changed the booking meanwhile
//!   ([`BookingRepository::apply`]); the loser gets [`BookingsError::Changed`].
//!
//! Its files, by what they hold:
//!
//! - `request`: a visitor books a visit ([`BookingInput`]);
//! - `views`: what each role sees (one booking, the listings, places left);
//! - `changes`: claim, complete, cancel and reassign, stored only if nobody changed the
//!   booking meanwhile, and audited ([`Step`]);
//! - `check_in`: the visit token shown to the visitor and checked at check-in, and the visit
//!   mapping written with it;
//! - `error`: why a request or a change was refused ([`BookingsError`]).

mod changes;
mod check_in;
mod error;
#[cfg(test)]
mod fixture;
mod request;
mod views;

use std::sync::Arc;

use crate::clock::Clock;
use crate::crypto::{FieldCipher, KeyedDigest};
use crate::random::SecureRandom;
use crate::repo::{BookingRepository, ServiceTypeRepository, SiteRepository, UserRepository};
use crate::services::audit::AuditTrail;

pub use changes::Step;
pub use error::BookingsError;
pub use request::BookingInput;
pub use views::MAX_LISTED;

/// What [`Bookings`] works with.
pub struct BookingPorts {
    /// Bookings, their places and their sealed tokens.
    pub bookings: Arc<dyn BookingRepository>,
    /// Sites (is it open?).
    pub sites: Arc<dyn SiteRepository>,
    /// Kinds of visit (length, capacity).
    pub services: Arc<dyn ServiceTypeRepository>,
    /// Accounts (who a booking is reassigned to).
    pub users: Arc<dyn UserRepository>,
    /// Where changes are recorded.
    pub audit: AuditTrail,
    /// The current time: when bookings are made and changed, and which visits are still open.
    pub clock: Arc<dyn Clock>,
    /// Ids and visit tokens.
    pub random: Arc<dyn SecureRandom>,
    /// Seals visit tokens and the visitors of visit mappings at rest.
    pub cipher: Arc<dyn FieldCipher>,
    /// Digests visit tokens for the visit mappings.
    pub digest: Arc<dyn KeyedDigest>,
}

/// The bookings use case.
#[derive(Clone)]
pub struct Bookings {
    bookings: Arc<dyn BookingRepository>,
    sites: Arc<dyn SiteRepository>,
    services: Arc<dyn ServiceTypeRepository>,
    users: Arc<dyn UserRepository>,
    audit: AuditTrail,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
    cipher: Arc<dyn FieldCipher>,
    digest: Arc<dyn KeyedDigest>,
}

impl Bookings {
    /// The use case over its ports.
    pub fn new(ports: BookingPorts) -> Self {
        Self {
            bookings: ports.bookings,
            sites: ports.sites,
            services: ports.services,
            users: ports.users,
            audit: ports.audit,
            clock: ports.clock,
            random: ports.random,
            cipher: ports.cipher,
            digest: ports.digest,
        }
    }
}
