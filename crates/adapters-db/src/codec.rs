//! Conversions between stored column values and domain values.

use chrono::NaiveDateTime;
use wildid_domain::Timestamp;
use wildid_ports::RepoError;

use crate::error::corrupt;

/// Timestamps are stored as UTC without zone, at microsecond precision (what both backends
/// keep), so a value reads back exactly as it was written.
pub(crate) fn to_db_time(t: Timestamp) -> NaiveDateTime {
    let micros = t.timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).map_or(t.naive_utc(), |t| t.naive_utc())
}

pub(crate) fn from_db_time(t: NaiveDateTime) -> Timestamp {
    t.and_utc()
}

pub(crate) fn opt_to_db_time(t: Option<Timestamp>) -> Option<NaiveDateTime> {
    t.map(to_db_time)
}

pub(crate) fn opt_from_db_time(t: Option<NaiveDateTime>) -> Option<Timestamp> {
    t.map(from_db_time)
}

/// A fixed-size digest column.
pub(crate) fn array<const N: usize>(bytes: Vec<u8>, what: &str) -> Result<[u8; N], RepoError> {
    bytes.try_into().map_err(|_| corrupt(what))
}
