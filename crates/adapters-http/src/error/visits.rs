//! Field visits (catalogue, bookings, exposures, retention): their refusals as HTTP.

use axum::http::StatusCode;
use wildid_domain::sighting::AreaError;
use wildid_domain::visits::{BookingError, ExposureError, RequestError, SiteError};
use wildid_ports::services::visits::{BookingsError, CatalogueError, ExposuresError, PurgeFailed};

use super::{AppError, capitalised};

impl From<CatalogueError> for AppError {
    fn from(e: CatalogueError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            CatalogueError::Invalid(SiteError::Name(why)) => {
                AppError::refused(unprocessable, "invalid_name", format!("Name: {why}."))
            }
            CatalogueError::Invalid(SiteError::Description(why)) => AppError::refused(
                unprocessable,
                "invalid_description",
                format!("Description: {why}."),
            ),
            CatalogueError::Invalid(why @ SiteError::Duration) => {
                AppError::refused(unprocessable, "invalid_duration", format!("The {why}."))
            }
            CatalogueError::Invalid(why @ SiteError::Capacity) => {
                AppError::refused(unprocessable, "invalid_capacity", format!("The {why}."))
            }
            CatalogueError::NameTaken => AppError::refused(
                StatusCode::CONFLICT,
                "name_taken",
                "Another one already has this name; choose another.",
            ),
            CatalogueError::NotFound => AppError::NotFound,
            CatalogueError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<BookingsError> for AppError {
    fn from(e: BookingsError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        let conflict = StatusCode::CONFLICT;
        match e {
            BookingsError::UnknownSite => AppError::unknown_site(),
            BookingsError::UnknownService => AppError::unknown_service(),
            BookingsError::Request(RequestError::SiteClosed) => AppError::refused(
                conflict,
                "site_closed",
                "This site is closed and takes no bookings.",
            ),
            BookingsError::Request(RequestError::Slot(why)) => AppError::refused(
                unprocessable,
                "invalid_time",
                format!("{}.", capitalised(&why.to_string())),
            ),
            BookingsError::Request(RequestError::Description(why)) => AppError::refused(
                unprocessable,
                "invalid_description",
                format!("Description: {why}."),
            ),
            BookingsError::Full => AppError::refused(
                conflict,
                "fully_booked",
                "This visit is fully booked; choose another time.",
            ),
            BookingsError::AlreadyBooked => AppError::refused(
                conflict,
                "already_booked",
                "You have already booked this visit.",
            ),
            BookingsError::NotFound => AppError::NotFound,
            BookingsError::Refused(why) => {
                let status = match why {
                    BookingError::NotAWorker
                    | BookingError::NotAnAdmin
                    | BookingError::NotTheOwner
                    | BookingError::ClaimedByOther => StatusCode::FORBIDDEN,
                    BookingError::AssigneeNotAWorker => unprocessable,
                    BookingError::WrongState { .. }
                    | BookingError::Started
                    | BookingError::Over
                    | BookingError::TooEarly => conflict,
                };
                AppError::refused(
                    status,
                    booking_refusal_code(why),
                    format!("{}.", capitalised(&why.to_string())),
                )
            }
            BookingsError::Changed => AppError::refused(
                conflict,
                "booking_changed",
                "This booking was changed meanwhile; reload it and try again.",
            ),
            BookingsError::InvalidToken => AppError::refused(
                unprocessable,
                "invalid_token",
                "A visit token is 32 letters and digits (0-9 and a-f); spaces may separate them.",
            ),
            BookingsError::WrongToken => AppError::refused(
                unprocessable,
                "wrong_token",
                "This is not the token of this visit. Ask the visitor for the token shown with \
                 their booking.",
            ),
            BookingsError::UnknownAssignee => AppError::unknown_worker(),
            BookingsError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<ExposuresError> for AppError {
    fn from(e: ExposuresError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            ExposuresError::UnknownSite => AppError::unknown_site(),
            ExposuresError::Invalid(ExposureError::Note(why)) => {
                AppError::refused(unprocessable, "invalid_note", format!("Note: {why}."))
            }
            ExposuresError::Invalid(why) => AppError::refused(
                unprocessable,
                "invalid_window",
                format!("{}.", capitalised(&why.to_string())),
            ),
            ExposuresError::NotFound => AppError::NotFound,
            ExposuresError::Unavailable(cause) => AppError::Unavailable(cause),
        }
    }
}

impl From<PurgeFailed> for AppError {
    fn from(e: PurgeFailed) -> Self {
        AppError::Unavailable(e.to_string())
    }
}

impl AppError {
    /// 422 `unknown_site`: no such site (a booking's or an exposure's, or a malformed id in
    /// a body).
    pub(crate) fn unknown_site() -> Self {
        unprocessable_entity("unknown_site", "There is no such site.")
    }

    /// 422 `unknown_service`: no such kind of visit.
    pub(crate) fn unknown_service() -> Self {
        unprocessable_entity("unknown_service", "There is no such kind of visit.")
    }

    /// 422 `unknown_worker`: no such account to hand a booking to.
    pub(crate) fn unknown_worker() -> Self {
        unprocessable_entity("unknown_worker", "There is no such worker.")
    }

    /// 422 `invalid_time`: a visit's start, or an exposure window's start or end, that is not a
    /// date and time.
    pub(crate) fn visit_time_unreadable() -> Self {
        unprocessable_entity(
            "invalid_time",
            "Times must be a date and time such as 2027-05-01T09:00:00Z.",
        )
    }

    /// 422 `invalid_area`: a site's area out of range or inverted.
    pub(crate) fn site_area_refused(why: AreaError) -> Self {
        unprocessable_entity("invalid_area", format!("The site's area: {why}."))
    }

    /// 422 `invalid_area`: a site form's `edge` (`southern`...) that is not a number.
    pub(crate) fn site_edge_unreadable(edge: &str) -> Self {
        unprocessable_entity(
            "invalid_area",
            format!("The site's {edge} edge must be a number of degrees."),
        )
    }

    /// 422 `invalid_duration`: a service form's length that is not a whole number.
    pub(crate) fn duration_not_whole() -> Self {
        unprocessable_entity("invalid_duration", "The length must be a whole number.")
    }

    /// 422 `invalid_capacity`: a service form's number of places that is not a whole number.
    pub(crate) fn capacity_not_whole() -> Self {
        unprocessable_entity(
            "invalid_capacity",
            "The number of places must be a whole number.",
        )
    }
}

fn unprocessable_entity(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::refused(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// A purge asked for while another server process purges.
pub(crate) fn purge_running() -> AppError {
    AppError::refused(
        StatusCode::CONFLICT,
        "purge_running",
        "Another server is purging old visit data right now. Try again in a few minutes.",
    )
}

/// The stable code of a refused booking change.
fn booking_refusal_code(why: BookingError) -> &'static str {
    match why {
        BookingError::WrongState { .. } => "wrong_booking_state",
        BookingError::NotAWorker => "not_a_worker",
        BookingError::NotAnAdmin => "not_an_admin",
        BookingError::AssigneeNotAWorker => "assignee_not_a_worker",
        BookingError::ClaimedByOther => "claimed_by_another",
        BookingError::NotTheOwner => "not_your_booking",
        BookingError::Started => "visit_started",
        BookingError::Over => "visit_over",
        BookingError::TooEarly => "check_in_not_open",
    }
}
