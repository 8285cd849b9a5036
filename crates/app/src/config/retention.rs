//! The retention settings (`WILDID_RETENTION_*`): how long visit data and read notifications
//! are kept before the daily purge deletes them.

use wildid_domain::Duration;
use wildid_domain::retention::RetentionPolicy;

use super::{ConfigError, bounded_int};

/// The `WILDID_RETENTION_*` values as read.
pub(super) struct RawRetention {
    pub visit_days: Option<u64>,
    pub read_notification_days: Option<u64>,
}

/// The retention policy: visit mappings and bookings `WILDID_RETENTION_VISIT_DAYS` (1 to 365,
/// default 14, seed 004 item 6), read notifications `WILDID_RETENTION_READ_NOTIFICATION_DAYS`
/// (1 to 3650, default 90).
///
/// # Errors
/// [`ConfigError::Invalid`] naming the variable that is out of range.
pub(super) fn retention(raw: &RawRetention) -> Result<RetentionPolicy, ConfigError> {
    let defaults = RetentionPolicy::default();
    let visit_days = bounded_int(
        "WILDID_RETENTION_VISIT_DAYS",
        raw.visit_days,
        defaults.visit_mappings().num_days(),
        1,
        365,
    )?;
    let read_days = bounded_int(
        "WILDID_RETENTION_READ_NOTIFICATION_DAYS",
        raw.read_notification_days,
        defaults.read_notifications().num_days(),
        1,
        3650,
    )?;
    RetentionPolicy::new(
        Duration::days(visit_days),
        defaults.spent_tokens(),
        Duration::days(read_days),
    )
    .map_err(|e| ConfigError::Invalid {
        var: "WILDID_RETENTION_VISIT_DAYS",
        why: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_ranges_and_the_variable_named() {
        let none = RawRetention {
            visit_days: None,
            read_notification_days: None,
        };
        assert_eq!(retention(&none).unwrap(), RetentionPolicy::default());
        let set = retention(&RawRetention {
            visit_days: Some(30),
            read_notification_days: Some(7),
        })
        .unwrap();
        assert_eq!(set.visit_mappings(), Duration::days(30));
        assert_eq!(set.read_notifications(), Duration::days(7));
        for (visit, read, var) in [
            (Some(0), None, "WILDID_RETENTION_VISIT_DAYS"),
            (Some(366), None, "WILDID_RETENTION_VISIT_DAYS"),
            (None, Some(0), "WILDID_RETENTION_READ_NOTIFICATION_DAYS"),
        ] {
            match retention(&RawRetention {
                visit_days: visit,
                read_notification_days: read,
            }) {
                Err(ConfigError::Invalid { var: named, .. }) => assert_eq!(named, var),
                other => panic!("{other:?}"),
            }
        }
    }
}
