//! Identifying the animal in a photo.
//!
//! The order is what protects the provider's quota and the person's allowance:
//!
//! 1. a session the adaptive limit already holds is refused before anything is decoded;
//! 2. when a malware scanner is configured ([`Identifications::with_malware_scan`]), the
//!    upload is scanned exactly as received; an infected file is refused and audited, and no
//!    verdict (the scanner down or slow) refuses it too: fail closed;
//! 3. the photo is checked by its content and re-encoded from its pixels
//!    ([`ImageChecker`]); a file that is no photo costs no identification;
//! 4. the identification is counted by the [`TrustGate`] (per session and per network,
//!    atomically), which may still refuse it;
//! 5. only then are the providers asked, with the re-encoded image: the first of the chain,
//!    and when it fails the next, until one answers (`WILDID_AI_FALLBACK`); the result names
//!    the provider that answered.
//!
//! When the use case keeps held photos ([`Identifications::with_held_photos`]) and the page
//! asks for it ([`Identifications::identify_or_keep`]), a photo refused at step 1 or 4 only
//! because the session must pass the check is still scanned and checked (steps 2 and 3), then
//! kept for [`HELD_PHOTO_MINUTES`] bound to that session; [`Identifications::identify_kept`]
//! identifies it (steps 4 and 5) once the check is passed. Nothing is counted for keeping.
//!
//! When the use case keeps journals ([`Identifications::with_journal`]) and the session is
//! signed in, the photo must fit the person's journal before step 4 (a full journal costs no
//! identification), and the answer is kept in it after step 5 with the sighting the person
//! gave ([`Identifications::identify_sighting`]); the answer names the entry
//! ([`Identified::kept`]). Anonymous identifications are not kept.
//!
//! A provider failure after step 4 stays counted (once, however many providers were asked):
//! the providers were asked, and a client that makes them fail on purpose must not get free
//! calls.
//!
//! Its files, by what they hold:
//!
//! - `outcome`: what an identification gives or why it failed ([`Identified`],
//!   [`IdentifyFailure`]);
//! - `steps`: the entry points and steps 1 to 4 in order;
//! - `scan`: step 2, the malware scan;
//! - `answer`: step 5, the providers asked in order and the answer kept in the journal;
//! - `held`: photos kept for a session held for the check, and identified after it.

mod answer;
#[cfg(test)]
mod fixture;
mod held;
mod outcome;
mod scan;
mod steps;

use std::sync::Arc;

use crate::clock::Clock;
use crate::identify::{ImageChecker, SpeciesIdentifier};
use crate::repo::HeldPhotoRepository;
use crate::scan::MalwareScanner;
use crate::services::audit::AuditTrail;
use crate::services::journal::Journal;
use crate::services::trust::TrustGate;

pub use outcome::{Identified, IdentifyFailure};

/// How long a held photo is kept for its session: time to pass the check, not more.
pub const HELD_PHOTO_MINUTES: i64 = 10;

/// The identification use case.
#[derive(Clone)]
pub struct Identifications {
    gate: TrustGate,
    images: Arc<dyn ImageChecker>,
    providers: Vec<Arc<dyn SpeciesIdentifier>>,
    clock: Arc<dyn Clock>,
    scan: Option<MalwareScan>,
    held: Option<Arc<dyn HeldPhotoRepository>>,
    journal: Option<Journal>,
}

/// The malware scan step and where its findings are written.
#[derive(Clone)]
struct MalwareScan {
    scanner: Arc<dyn MalwareScanner>,
    audit: AuditTrail,
}

impl Identifications {
    /// The use case; `providers` is the fallback chain, asked in order. An empty chain means
    /// the server has no provider (every identification is then answered
    /// [`IdentifyFailure::NotConfigured`], counting nothing).
    pub fn new(
        gate: TrustGate,
        images: Arc<dyn ImageChecker>,
        providers: Vec<Arc<dyn SpeciesIdentifier>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            gate,
            images,
            providers,
            clock,
            scan: None,
            held: None,
            journal: None,
        }
    }

    /// The same use case, keeping the identifications of signed-in sessions in `journal`.
    #[must_use]
    pub fn with_journal(mut self, journal: Journal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The same use case, scanning every upload with `scanner` before anything decodes it and
    /// writing what it finds to `audit` (`upload.infected`).
    #[must_use]
    pub fn with_malware_scan(
        mut self,
        scanner: Arc<dyn MalwareScanner>,
        audit: AuditTrail,
    ) -> Self {
        self.scan = Some(MalwareScan { scanner, audit });
        self
    }

    /// The same use case, keeping in `photos` the photo of a session held for the check
    /// ([`Identifications::identify_or_keep`]).
    #[must_use]
    pub fn with_held_photos(mut self, photos: Arc<dyn HeldPhotoRepository>) -> Self {
        self.held = Some(photos);
        self
    }

    /// Whether a photo held for the check is kept for its session.
    pub fn keeps_held_photos(&self) -> bool {
        self.held.is_some() && !self.providers.is_empty()
    }

    /// Whether a provider is configured.
    pub fn is_configured(&self) -> bool {
        !self.providers.is_empty()
    }
}
