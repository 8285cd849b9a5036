//! What pages and JSON handlers share, so that neither imports the other: who is asking, where
//! a person may be sent back to, what follows a credential change, ids read from paths and
//! forms, how a finished sign-in is answered, reading an upload with the sighting sent with it, what visit requests share, and the purge an admin asks for.

mod credentials;
mod ids;
mod qr;
mod redirect;
mod requester;
mod retention;
mod sighting;
mod sign_in;
mod size;
mod upload;
mod visits;

pub(crate) use credentials::{after_credential_change, end_other_sessions};
pub(crate) use ids::entry_id;
pub(crate) use ids::{session_key, target};
pub(crate) use qr::qr_data_url;
pub(crate) use redirect::{percent_encoded, safe_next};
pub(crate) use requester::requester;
pub(crate) use retention::purge_now;
pub(crate) use sighting::{SightingFields, visibility};
pub(crate) use sign_in::{place, welcome_body, welcome_page};
pub(crate) use size::megabytes;
pub(crate) use upload::{IMAGE_FIELD, UploadSlot, photo_of};
pub(crate) use visits::{
    actor, area, assignee, booking_id, chosen_service, chosen_site, notification_id, service_id,
    site_id, visit_start, window_time,
};
