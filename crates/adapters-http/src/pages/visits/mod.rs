//! The field-visit pages: the sites and the booking form (`/visits`), a visitor's bookings
//! (`/visits/mine`), the workers' dashboard (`/worker`) and the admins' catalogue
//! (`/admin/visits`). Every form answers with a redirect and a message, or shows the form
//! again with the refusal beside it; what may be done is the JSON API's (`visits_api`) and the
//! route table's.

mod booking;
mod catalogue;
mod worker;

use std::collections::HashMap;

use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::SignedCookieJar;
use wildid_domain::Timestamp;
use wildid_domain::ids::{ServiceTypeId, SiteId};
use wildid_domain::sighting::MICRODEGREES;
use wildid_domain::visits::{Booking, BookingStatus, ServiceType, Site};

use crate::error::AppError;
use crate::flash::{self, FlashKind};
use crate::pages::answer::refusal;
use crate::state::AppState;

const VISITS: &str = "/visits";
const MINE: &str = "/visits/mine";
const WORKER: &str = "/worker";
const CATALOGUE: &str = "/admin/visits";

/// `5 May 2027, 09:00 UTC`.
fn when(t: Timestamp) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// `1 h 30 min`.
fn duration(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn degrees(micro: i32) -> String {
    format!("{:.4}", f64::from(micro) / f64::from(MICRODEGREES))
}

/// A site as the pages show it.
pub(crate) struct SiteCard {
    pub id: String,
    pub name: String,
    pub description: String,
    pub south: String,
    pub west: String,
    pub north: String,
    pub east: String,
    pub active: bool,
}

impl From<&Site> for SiteCard {
    fn from(site: &Site) -> Self {
        let a = site.area();
        Self {
            id: site.id().to_string(),
            name: site.name().as_str().to_owned(),
            description: site
                .description()
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            south: degrees(a.south()),
            west: degrees(a.west()),
            north: degrees(a.north()),
            east: degrees(a.east()),
            active: site.is_active(),
        }
    }
}

/// A kind of visit as the pages show it.
pub(crate) struct ServiceCard {
    pub id: String,
    pub name: String,
    pub minutes: u32,
    /// `1 h 30 min`.
    pub length: String,
    pub capacity: u32,
}

impl From<&ServiceType> for ServiceCard {
    fn from(s: &ServiceType) -> Self {
        Self {
            id: s.id().to_string(),
            name: s.name().as_str().to_owned(),
            minutes: s.duration_minutes(),
            length: duration(s.duration_minutes()),
            capacity: s.capacity(),
        }
    }
}

/// A booking as the pages show it, with its site's and service's names.
pub(crate) struct BookingCard {
    pub id: String,
    pub site: String,
    pub service: String,
    /// `5 May 2027, 09:00 UTC`.
    pub starts: String,
    pub starts_iso: String,
    pub length: String,
    pub description: Option<String>,
    pub status: BookingStatus,
    /// The visitor may still cancel it.
    pub cancellable: bool,
    /// Its worker may check the visitor in now.
    pub check_in_open: bool,
    /// The visit token in groups of four, shown to its visitor until check-in.
    pub token: Option<String>,
    /// The token as a QR code (`data:` URL).
    pub token_qr: Option<String>,
}

/// Names of sites and services by id, for the booking cards.
struct Names {
    sites: HashMap<SiteId, String>,
    services: HashMap<ServiceTypeId, String>,
}

impl Names {
    async fn load(state: &AppState) -> Result<Self, AppError> {
        let catalogue = &state.services.catalogue;
        Ok(Self::of(
            &catalogue.sites(false).await?,
            &catalogue.services().await?,
        ))
    }

    /// The names of `sites` and `services` already read (a page that shows them too).
    fn of(sites: &[Site], services: &[ServiceType]) -> Self {
        Self {
            sites: sites
                .iter()
                .map(|s| (s.id(), s.name().as_str().to_owned()))
                .collect(),
            services: services
                .iter()
                .map(|s| (s.id(), s.name().as_str().to_owned()))
                .collect(),
        }
    }

    fn card(&self, booking: &Booking, now: Timestamp) -> BookingCard {
        let r = booking.record();
        let status = r.status;
        let unknown = || "(removed)".to_owned();
        BookingCard {
            id: r.id.to_string(),
            site: self.sites.get(&r.site).cloned().unwrap_or_else(unknown),
            service: self
                .services
                .get(&r.service)
                .cloned()
                .unwrap_or_else(unknown),
            starts: when(r.slot.start()),
            starts_iso: r.slot.start().to_rfc3339(),
            length: duration(r.slot.minutes()),
            description: r.description.as_ref().map(|d| d.as_str().to_owned()),
            cancellable: matches!(status, BookingStatus::Requested | BookingStatus::Claimed)
                && now < r.slot.start(),
            check_in_open: r.slot.open_for_check_in(now),
            status,
            token: None,
            token_qr: None,
        }
    }
}

fn flash_back(
    state: &AppState,
    jar: SignedCookieJar,
    to: &str,
    outcome: Result<String, AppError>,
) -> Result<Response, AppError> {
    let (kind, message) = match outcome {
        Ok(message) => (FlashKind::Success, message),
        Err(e) => (FlashKind::Error, refusal(e)?.1),
    };
    let jar = flash::push(jar, &state.settings, kind, &message);
    Ok((jar, Redirect::to(to)).into_response())
}

pub(crate) use booking::{book, cancel, list, mine};
pub(crate) use catalogue::{
    add_service, add_site, catalogue, change_service, change_site, cleanup, reassign,
};
pub(crate) use worker::{act, dashboard, report_exposure};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_as_people_say_them() {
        assert_eq!(duration(45), "45 min");
        assert_eq!(duration(120), "2 h");
        assert_eq!(duration(90), "1 h 30 min");
    }
}
