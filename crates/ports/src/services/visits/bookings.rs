//! Booking field visits: visitors book and cancel; workers claim, check in and complete; admins
//! reassign. The rules are the domain's ([`Booking`]); this use case loads, applies and stores
//! them, and audits each change.
//!
//! - A visitor sees and changes only their own bookings: someone else's booking is
//!   [`BookingsError::NotFound`], exactly like a missing one. Workers and admins see all.
//! - Places are taken atomically with the booking ([`BookingRepository::book`]), and every
//!   transition is stored only if nobody changed the booking meanwhile
//!   ([`BookingRepository::apply`]); the loser gets [`BookingsError::Changed`].

use std::sync::Arc;

use subtle::ConstantTimeEq as _;
use wildid_domain::Timestamp;
use wildid_domain::audit::{self, AuditDetails, AuditRecord};
use wildid_domain::ids::{BookingId, RequestId, ServiceTypeId, SiteId, UserId};
use wildid_domain::role::Role;
use wildid_domain::text::TextError;
use wildid_domain::visits::{
    Actor, Booking, BookingError, DESCRIPTION_MAX_CHARS, RequestError, Transition, VisitMapping,
    VisitToken,
};

use crate::RepoError;
use crate::clock::Clock;
use crate::crypto::{FieldCipher, KeyedDigest};
use crate::random::{SecureRandom, random_array};
use crate::repo::{
    Booked, BookingRepository, ServiceTypeRepository, SiteRepository, UserRepository,
};
use crate::services::audit::AuditTrail;
use crate::text::clean;

/// The most bookings one listing returns.
pub const MAX_LISTED: u32 = 200;

/// A booking as a visitor asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingInput {
    /// Where.
    pub site: SiteId,
    /// What.
    pub service: ServiceTypeId,
    /// When it starts.
    pub start: Timestamp,
    /// A note for the guide; blank for none.
    pub description: String,
}

/// Why a booking request or change was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingsError {
    /// No such site.
    #[error("no such site")]
    UnknownSite,
    /// No such service type.
    #[error("no such service")]
    UnknownService,
    /// The request breaks a rule (closed site, time, description).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Every place of the slot is taken.
    #[error("this visit is fully booked; choose another time")]
    Full,
    /// The visitor already has a place in this slot.
    #[error("you have already booked this visit")]
    AlreadyBooked,
    /// No such booking (or, for a visitor, someone else's).
    #[error("no such booking")]
    NotFound,
    /// The change breaks a rule of the booking's life.
    #[error(transparent)]
    Refused(#[from] BookingError),
    /// Someone changed the booking meanwhile; reload it and decide again.
    #[error("this booking was changed meanwhile; reload it and try again")]
    Changed,
    /// The text presented at check-in is not a visit token.
    #[error("a visit token is 32 letters and digits (0-9 and a-f)")]
    InvalidToken,
    /// The token presented is not this visit's (or the visit has none any more).
    #[error("this is not the token of this visit")]
    WrongToken,
    /// The assignee is not an active account.
    #[error("no such worker")]
    UnknownAssignee,
    /// A dependency failed.
    #[error("bookings unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for BookingsError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => BookingsError::NotFound,
            RepoError::Conflict => BookingsError::Changed,
            other => BookingsError::Unavailable(other.to_string()),
        }
    }
}

/// A step of a booking's life that needs nothing but who takes it ([`Bookings::step`]; a
/// check-in also needs the visit token: [`Bookings::check_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A worker takes a requested booking.
    Claim,
    /// The worker holding it closes the visit.
    Complete,
    /// The visitor (or an admin) calls it off before it starts.
    Cancel,
}

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
    /// Now.
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

/// The purpose under which visit tokens are digested for the visit mappings
/// ([`KeyedDigest::digest`]).
const TOKEN_DIGEST_PURPOSE: &str = "visit-token";

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

    /// `visitor` books a visit.
    ///
    /// # Errors
    /// [`BookingsError`] naming what is wrong.
    pub async fn book(
        &self,
        visitor: UserId,
        input: &BookingInput,
        request: Option<RequestId>,
    ) -> Result<Booking, BookingsError> {
        let site = self.sites.get(input.site).await.map_err(|e| match e {
            RepoError::NotFound => BookingsError::UnknownSite,
            other => other.into(),
        })?;
        let service = self
            .services
            .get(input.service)
            .await
            .map_err(|e| match e {
                RepoError::NotFound => BookingsError::UnknownService,
                other => other.into(),
            })?;
        let no_randomness = |_| BookingsError::Unavailable("no randomness".into());
        let id = BookingId::from_random(random_array(self.random.as_ref()).map_err(no_randomness)?);
        // The visit token: 128 fresh bits, derived from nothing, stored only encrypted.
        let token =
            VisitToken::from_random(random_array(self.random.as_ref()).map_err(no_randomness)?);
        let sealed = self
            .cipher
            .encrypt(token.to_string().as_bytes())
            .map_err(|e| BookingsError::Unavailable(e.to_string()))?;
        // Markup goes before the domain bounds the text (as for every text users write).
        let description = match clean(&input.description, DESCRIPTION_MAX_CHARS) {
            Ok(text) => text.as_str().to_owned(),
            Err(TextError::Empty) => String::new(),
            Err(why) => return Err(RequestError::Description(why).into()),
        };
        let now = self.clock.now();
        let booking =
            Booking::request(id, visitor, &site, &service, input.start, &description, now)?;
        match self
            .bookings
            .book(&booking, service.capacity(), &sealed)
            .await
        {
            Ok(Booked::Stored) => {}
            Ok(Booked::Full) => return Err(BookingsError::Full),
            // A duplicate is the visitor's own concurrent request winning the race for the
            // slot (a random id cannot repeat).
            Ok(Booked::AlreadyBooked) | Err(RepoError::Duplicate) => {
                return Err(BookingsError::AlreadyBooked);
            }
            Err(other) => return Err(other.into()),
        }
        let details = AuditDetails::new()
            .with("site", site.id().to_string())
            .with("service", service.id().to_string());
        self.record(visitor, audit::Action::BookingMade, id, details, request)
            .await;
        Ok(booking)
    }

    /// `actor`'s view of one booking.
    ///
    /// # Errors
    /// [`BookingsError::NotFound`] for a missing booking or, for a visitor, someone else's.
    pub async fn get(&self, actor: Actor, id: BookingId) -> Result<Booking, BookingsError> {
        let booking = self.bookings.get(id).await?;
        if actor.role == Role::Visitor && booking.visitor() != actor.id {
            return Err(BookingsError::NotFound);
        }
        Ok(booking)
    }

    /// `visitor`'s bookings, latest start first.
    ///
    /// # Errors
    /// [`BookingsError::Unavailable`].
    pub async fn of_visitor(&self, visitor: UserId) -> Result<Vec<Booking>, BookingsError> {
        Ok(self.bookings.for_visitor(visitor, MAX_LISTED).await?)
    }

    /// Requested bookings not over yet, soonest first: what workers can claim.
    ///
    /// # Errors
    /// [`BookingsError::Unavailable`].
    pub async fn open(&self) -> Result<Vec<Booking>, BookingsError> {
        Ok(self.bookings.open(self.clock.now(), MAX_LISTED).await?)
    }

    /// The bookings `worker` holds, soonest first.
    ///
    /// # Errors
    /// [`BookingsError::Unavailable`].
    pub async fn held_by(&self, worker: UserId) -> Result<Vec<Booking>, BookingsError> {
        Ok(self.bookings.held_by(Some(worker), MAX_LISTED).await?)
    }

    /// Every booking a worker holds (claimed or checked in), soonest first: what an admin may
    /// hand to another worker.
    ///
    /// # Errors
    /// [`BookingsError::Unavailable`].
    pub async fn in_progress(&self) -> Result<Vec<Booking>, BookingsError> {
        Ok(self.bookings.held_by(None, MAX_LISTED).await?)
    }

    /// Places left in the slot of `service` at `site` starting at `start`.
    ///
    /// # Errors
    /// [`BookingsError::UnknownService`], [`BookingsError::Unavailable`].
    pub async fn places_left(
        &self,
        site: SiteId,
        service: ServiceTypeId,
        start: Timestamp,
    ) -> Result<u32, BookingsError> {
        let capacity = self
            .services
            .get(service)
            .await
            .map_err(|e| match e {
                RepoError::NotFound => BookingsError::UnknownService,
                other => other.into(),
            })?
            .capacity();
        let taken = self.bookings.places_taken(site, service, start).await?;
        Ok(capacity.saturating_sub(taken))
    }

    /// The visit token of `visitor`'s booking, while it awaits check-in (`None` afterwards).
    ///
    /// # Errors
    /// [`BookingsError::NotFound`] for a missing booking or someone else's;
    /// [`BookingsError::Unavailable`] when the token cannot be decrypted.
    pub async fn visit_token(
        &self,
        visitor: UserId,
        id: BookingId,
    ) -> Result<Option<VisitToken>, BookingsError> {
        let booking = self.bookings.get(id).await?;
        if booking.visitor() != visitor {
            return Err(BookingsError::NotFound);
        }
        self.token_of(id).await
    }

    async fn token_of(&self, id: BookingId) -> Result<Option<VisitToken>, BookingsError> {
        let Some(sealed) = self.bookings.sealed_token(id).await? else {
            return Ok(None);
        };
        let unreadable = || BookingsError::Unavailable("a visit token cannot be decrypted".into());
        let plain = self.cipher.decrypt(&sealed).map_err(|_| unreadable())?;
        let text = std::str::from_utf8(plain.expose()).map_err(|_| unreadable())?;
        VisitToken::parse(text).map(Some).map_err(|_| unreadable())
    }

    /// The worker holding a booking checks its visitor in with the visit token the visitor
    /// shows (typed or scanned), while the visit is open for check-in. The token is compared
    /// in constant time and is spent by the check-in.
    ///
    /// # Errors
    /// [`BookingsError::InvalidToken`] for text that is no token, [`BookingsError::WrongToken`]
    /// for another visit's token; otherwise as [`Bookings::step`].
    pub async fn check_in(
        &self,
        actor: Actor,
        id: BookingId,
        presented: &str,
        request: Option<RequestId>,
    ) -> Result<Booking, BookingsError> {
        let presented = VisitToken::parse(presented).map_err(|_| BookingsError::InvalidToken)?;
        let now = self.clock.now();
        let booking = self.get(actor, id).await?;
        let transition = booking.check_in(actor, now)?;
        let expected = self.token_of(id).await?.ok_or(BookingsError::WrongToken)?;
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(BookingsError::WrongToken);
        }
        // Who was there, for exposure notifications: the visitor only as ciphertext, the
        // token only as a keyed digest; there from the check-in to the visit's planned end.
        let slot = booking.slot();
        let mapping = VisitMapping {
            token_digest: self
                .digest
                .digest(TOKEN_DIGEST_PURPOSE, expected.as_bytes()),
            sealed_visitor: self
                .cipher
                .encrypt(booking.visitor().to_string().as_bytes())
                .map_err(|e| BookingsError::Unavailable(e.to_string()))?,
            site: booking.record().site,
            visit_start: now,
            visit_end: slot.end().max(now),
            created_at: now,
        };
        self.store(
            actor,
            id,
            request,
            audit::Action::VisitorCheckedIn,
            transition,
            Some(&mapping),
        )
        .await
    }

    /// Moves a booking one step of its life: a worker claims it, the worker holding it
    /// completes the visit, the visitor (or an admin) cancels it before it starts (its place
    /// is given back).
    ///
    /// # Errors
    /// [`BookingsError`] naming what is wrong.
    pub async fn step(
        &self,
        actor: Actor,
        id: BookingId,
        step: Step,
        request: Option<RequestId>,
    ) -> Result<Booking, BookingsError> {
        let now = self.clock.now();
        let action = match step {
            Step::Claim => audit::Action::BookingClaimed,
            Step::Complete => audit::Action::BookingCompleted,
            Step::Cancel => audit::Action::BookingCancelled,
        };
        let decide = |b: &Booking| match step {
            Step::Claim => b.claim(actor, now),
            Step::Complete => b.complete(actor, now),
            Step::Cancel => b.cancel(actor, now),
        };
        self.change(actor, id, request, action, decide).await
    }

    /// An admin hands a booking to another worker.
    ///
    /// # Errors
    /// [`BookingsError::UnknownAssignee`] when `assignee` is not an active account; otherwise
    /// as the other changes.
    pub async fn reassign(
        &self,
        actor: Actor,
        id: BookingId,
        assignee: UserId,
        request: Option<RequestId>,
    ) -> Result<Booking, BookingsError> {
        let user = match self.users.get(assignee).await {
            Ok(user) if user.active => user,
            Ok(_) | Err(RepoError::NotFound) => return Err(BookingsError::UnknownAssignee),
            Err(other) => return Err(other.into()),
        };
        let to = Actor {
            id: user.id,
            role: user.role,
        };
        self.change(actor, id, request, audit::Action::BookingReassigned, |b| {
            b.reassign(actor, to)
        })
        .await
    }

    async fn change(
        &self,
        actor: Actor,
        id: BookingId,
        request: Option<RequestId>,
        action: audit::Action,
        decide: impl FnOnce(&Booking) -> Result<Transition, BookingError>,
    ) -> Result<Booking, BookingsError> {
        let booking = self.get(actor, id).await?;
        let transition = decide(&booking)?;
        self.store(actor, id, request, action, transition, None)
            .await
    }

    async fn store(
        &self,
        actor: Actor,
        id: BookingId,
        request: Option<RequestId>,
        action: audit::Action,
        transition: Transition,
        mapping: Option<&VisitMapping>,
    ) -> Result<Booking, BookingsError> {
        match mapping {
            Some(mapping) => self.bookings.check_in(&transition, mapping).await?,
            None => self.bookings.apply(&transition).await?,
        }
        let mut details = AuditDetails::new().with("from", transition.from.as_str());
        if let Some(worker) = transition.to.worker() {
            details = details.with("worker", worker.to_string());
        }
        self.record(actor.id, action, id, details, request).await;
        Ok(transition.to)
    }

    async fn record(
        &self,
        actor: UserId,
        action: audit::Action,
        id: BookingId,
        details: AuditDetails,
        request: Option<RequestId>,
    ) {
        let mut record = AuditRecord::new(self.clock.now(), audit::Actor::User(actor), action);
        record.target = Some(id.to_string());
        record.details = details;
        record.request_id = request;
        self.audit.record_or_log(record).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::builtin::OsRandom;
    use crate::builtin::{FernetKeyRing, HmacDigest};
    use crate::repo::{
        MockAuditLog, MockBookingRepository, MockServiceTypeRepository, MockSiteRepository,
        MockUserRepository,
    };
    use crate::services::fixtures::{FixedClock, t0};
    use std::sync::Mutex;
    use wildid_domain::audit::AuditEntry;
    use wildid_domain::secret::{SecretBytes, SecretString};
    use wildid_domain::sighting::Area;
    use wildid_domain::visits::{ServiceType, Site};

    fn site() -> Site {
        Site::new(SiteId::from_random([1; 16]), "Marsh", "", Area::WORLD, true).unwrap()
    }

    fn walk() -> ServiceType {
        ServiceType::new(ServiceTypeId::from_random([2; 16]), "Walk", 60, 4).unwrap()
    }

    fn input() -> BookingInput {
        BookingInput {
            site: site().id(),
            service: walk().id(),
            start: t0() + chrono::TimeDelta::hours(2),
            description: "<b>Two</b> of us".into(),
        }
    }

    fn visitor(n: u8) -> Actor {
        Actor {
            id: UserId::from_random([n; 16]),
            role: Role::Visitor,
        }
    }

    /// The use case over `bookings`, with one site and one service; the audit actions written
    /// are collected in the returned list.
    fn world(bookings: MockBookingRepository) -> (Bookings, Arc<Mutex<Vec<String>>>) {
        world_with(bookings, key_ring())
    }

    fn key_ring() -> Arc<FernetKeyRing> {
        Arc::new(FernetKeyRing::new(&[SecretString::new(fernet::Fernet::generate_key())]).unwrap())
    }

    fn world_with(
        bookings: MockBookingRepository,
        cipher: Arc<FernetKeyRing>,
    ) -> (Bookings, Arc<Mutex<Vec<String>>>) {
        let mut sites = MockSiteRepository::new();
        sites.expect_get().returning(|id| {
            if id == site().id() {
                Ok(site())
            } else {
                Err(RepoError::NotFound)
            }
        });
        let mut services = MockServiceTypeRepository::new();
        services.expect_get().returning(|_| Ok(walk()));
        let actions = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&actions);
        let mut log = MockAuditLog::new();
        log.expect_append().returning(move |record| {
            seen.lock().unwrap().push(record.action.as_str().to_owned());
            Ok(AuditEntry::append_to(None, record))
        });
        let use_case = Bookings::new(BookingPorts {
            bookings: Arc::new(bookings),
            sites: Arc::new(sites),
            services: Arc::new(services),
            users: Arc::new(MockUserRepository::new()),
            audit: AuditTrail::new(Arc::new(log)),
            clock: Arc::new(FixedClock(t0())),
            random: Arc::new(OsRandom),
            cipher,
            digest: Arc::new(HmacDigest::new(SecretBytes::new(vec![4; 32]))),
        });
        (use_case, actions)
    }

    #[tokio::test]
    async fn a_booking_is_cleaned_stored_with_the_capacity_and_audited() {
        let mut repo = MockBookingRepository::new();
        repo.expect_book()
            .withf(|b, capacity, _| {
                *capacity == 4
                    && b.record().description.as_ref().map(|d| d.as_str()) == Some("Two of us")
            })
            .times(1)
            .returning(|_, _, _| Ok(Booked::Stored));
        let (bookings, actions) = world(repo);
        let booked = bookings.book(visitor(1).id, &input(), None).await.unwrap();
        assert_eq!(
            booked.status(),
            wildid_domain::visits::BookingStatus::Requested
        );
        assert_eq!(*actions.lock().unwrap(), ["visits.booking.made"]);
    }

    #[tokio::test]
    async fn a_full_slot_a_second_place_or_an_unknown_site_is_refused_and_not_audited() {
        let mut repo = MockBookingRepository::new();
        let answers = Mutex::new(vec![
            Err(RepoError::Duplicate),
            Ok(Booked::AlreadyBooked),
            Ok(Booked::Full),
        ]);
        repo.expect_book()
            .returning(move |_, _, _| answers.lock().unwrap().pop().unwrap());
        let (bookings, actions) = world(repo);
        let me = visitor(1).id;
        assert_eq!(
            bookings.book(me, &input(), None).await,
            Err(BookingsError::Full)
        );
        assert_eq!(
            bookings.book(me, &input(), None).await,
            Err(BookingsError::AlreadyBooked)
        );
        assert_eq!(
            bookings.book(me, &input(), None).await,
            Err(BookingsError::AlreadyBooked)
        );
        let mut elsewhere = input();
        elsewhere.site = SiteId::from_random([9; 16]);
        assert_eq!(
            bookings.book(me, &elsewhere, None).await,
            Err(BookingsError::UnknownSite)
        );
        let mut past = input();
        past.start = t0() - chrono::TimeDelta::hours(1);
        assert_eq!(
            bookings.book(me, &past, None).await,
            Err(BookingsError::Request(RequestError::Slot(
                wildid_domain::visits::SlotError::InPast
            )))
        );
        assert!(actions.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_visitor_cannot_see_or_touch_someone_else_s_booking_and_a_lost_race_changes_nothing()
    {
        let theirs = Booking::request(
            BookingId::from_random([5; 16]),
            visitor(2).id,
            &site(),
            &walk(),
            input().start,
            "",
            t0(),
        )
        .unwrap();
        let mut repo = MockBookingRepository::new();
        let stored = theirs.clone();
        repo.expect_get().returning(move |_| Ok(stored.clone()));
        repo.expect_apply()
            .times(1)
            .returning(|_| Err(RepoError::Conflict));
        let (bookings, actions) = world(repo);
        assert_eq!(
            bookings.get(visitor(1), theirs.id()).await,
            Err(BookingsError::NotFound)
        );
        assert_eq!(
            bookings
                .step(visitor(1), theirs.id(), Step::Cancel, None)
                .await,
            Err(BookingsError::NotFound)
        );
        let ranger = Actor {
            id: UserId::from_random([7; 16]),
            role: Role::Worker,
        };
        assert_eq!(
            bookings
                .step(visitor(2), theirs.id(), Step::Claim, None)
                .await,
            Err(BookingsError::Refused(BookingError::NotAWorker))
        );
        assert_eq!(
            bookings.step(ranger, theirs.id(), Step::Claim, None).await,
            Err(BookingsError::Changed)
        );
        assert!(actions.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn check_in_needs_this_visit_s_token_compared_whole() {
        let cipher = key_ring();
        let ranger = Actor {
            id: UserId::from_random([7; 16]),
            role: Role::Worker,
        };
        let requested = Booking::request(
            BookingId::from_random([5; 16]),
            visitor(2).id,
            &site(),
            &walk(),
            t0() + chrono::TimeDelta::minutes(15),
            "",
            t0(),
        )
        .unwrap();
        let claimed = requested.claim(ranger, t0()).unwrap().to;
        let token = VisitToken::from_random([0x5a; 16]);
        let sealed = cipher.encrypt(token.to_string().as_bytes()).unwrap();
        let mut repo = MockBookingRepository::new();
        repo.expect_get().returning(move |_| Ok(claimed.clone()));
        repo.expect_sealed_token()
            .returning(move |_| Ok(Some(sealed.clone())));
        let visitor_id = visitor(2).id;
        let ring = Arc::clone(&cipher);
        repo.expect_check_in()
            .withf(move |t, m| {
                let sealed = ring.decrypt(&m.sealed_visitor).unwrap();
                t.to.status() == wildid_domain::visits::BookingStatus::CheckedIn
                    && sealed.expose() == visitor_id.to_string().as_bytes()
                    && m.token_digest != [0; 32]
                    && m.visit_start == t0()
                    && m.visit_end == t0() + chrono::TimeDelta::minutes(75)
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let (bookings, actions) = world_with(repo, cipher);
        let id = BookingId::from_random([5; 16]);
        assert_eq!(
            bookings.check_in(ranger, id, "not a token", None).await,
            Err(BookingsError::InvalidToken)
        );
        let mut other = *token.as_bytes();
        other[15] ^= 1;
        assert_eq!(
            bookings
                .check_in(
                    ranger,
                    id,
                    &VisitToken::from_random(other).to_string(),
                    None
                )
                .await,
            Err(BookingsError::WrongToken),
            "one bit off is another token"
        );
        assert!(actions.lock().unwrap().is_empty());
        let typed = token.grouped().to_uppercase();
        let done = bookings.check_in(ranger, id, &typed, None).await.unwrap();
        assert_eq!(
            done.status(),
            wildid_domain::visits::BookingStatus::CheckedIn
        );
        assert_eq!(*actions.lock().unwrap(), ["visits.booking.checked_in"]);
    }
}
