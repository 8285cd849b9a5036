//! The retention settings (`WILDID_RETENTION_*`): how long visit data, read notifications,
//! spent sign-in tokens and delivered mail are kept before the purges delete them.

use wildid_domain::Duration;
use wildid_domain::retention::RetentionPolicy;

use super::ConfigError;
use super::helpers::{bounded_int, section};

section! {
    /// The `WILDID_RETENTION_*` values as read.
    struct RawRetention {
        retention_visit_days: Option<u64>,
        retention_read_notification_days: Option<u64>,
        retention_spent_days: Option<u64>,
        retention_unverified_days: Option<u64>,
    }
}

/// The retention policy: visit mappings and bookings `WILDID_RETENTION_VISIT_DAYS` (1 to 365,
/// default 14, seed 004 item 6), read notifications `WILDID_RETENTION_READ_NOTIFICATION_DAYS`
/// (1 to 3650, default 90), spent sign-in tokens and delivered mail
/// `WILDID_RETENTION_SPENT_DAYS` (1 to 30, default 1), visitor accounts registered with a
/// password whose address was never confirmed `WILDID_RETENTION_UNVERIFIED_DAYS` (2 to 365,
/// default 7; at least the verification link's day).
///
/// # Errors
/// [`ConfigError::Invalid`] naming the variable that is out of range.
pub(super) fn retention(raw: &RawRetention) -> Result<RetentionPolicy, ConfigError> {
    let defaults = RetentionPolicy::default();
    let visit_days = bounded_int(
        "WILDID_RETENTION_VISIT_DAYS",
        raw.retention_visit_days,
        defaults.visit_mappings().num_days(),
        1,
        365,
    )?;
    let read_days = bounded_int(
        "WILDID_RETENTION_READ_NOTIFICATION_DAYS",
        raw.retention_read_notification_days,
        defaults.read_notifications().num_days(),
        1,
        3650,
    )?;
    let spent_days = bounded_int(
        "WILDID_RETENTION_SPENT_DAYS",
        raw.retention_spent_days,
        defaults.spent_tokens().num_days(),
        1,
        30,
    )?;
    let unverified_days = bounded_int(
        "WILDID_RETENTION_UNVERIFIED_DAYS",
        raw.retention_unverified_days,
        defaults.unverified_accounts().num_days(),
        2,
        365,
    )?;
    RetentionPolicy::new(
        Duration::days(visit_days),
        Duration::days(spent_days),
        Duration::days(read_days),
    )
    .and_then(|p| p.with_unverified_accounts(Duration::days(unverified_days)))
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
            retention_visit_days: None,
            retention_read_notification_days: None,
            retention_spent_days: None,
            retention_unverified_days: None,
        };
        assert_eq!(retention(&none).unwrap(), RetentionPolicy::default());
        let set = retention(&RawRetention {
            retention_visit_days: Some(30),
            retention_read_notification_days: Some(7),
            retention_spent_days: Some(3),
            retention_unverified_days: Some(30),
        })
        .unwrap();
        assert_eq!(set.visit_mappings(), Duration::days(30));
        assert_eq!(set.read_notifications(), Duration::days(7));
        assert_eq!(set.spent_tokens(), Duration::days(3));
        assert_eq!(set.unverified_accounts(), Duration::days(30));
        for (visit, read, spent, unverified, var) in [
            (Some(0), None, None, None, "WILDID_RETENTION_VISIT_DAYS"),
            (Some(366), None, None, None, "WILDID_RETENTION_VISIT_DAYS"),
            (
                None,
                Some(0),
                None,
                None,
                "WILDID_RETENTION_READ_NOTIFICATION_DAYS",
            ),
            (None, None, Some(31), None, "WILDID_RETENTION_SPENT_DAYS"),
            (
                None,
                None,
                None,
                Some(1),
                "WILDID_RETENTION_UNVERIFIED_DAYS",
            ),
            (
                None,
                None,
                None,
                Some(366),
                "WILDID_RETENTION_UNVERIFIED_DAYS",
            ),
        ] {
            match retention(&RawRetention {
                retention_visit_days: visit,
                retention_read_notification_days: read,
                retention_spent_days: spent,
                retention_unverified_days: unverified,
            }) {
                Err(ConfigError::Invalid { var: named, .. }) => assert_eq!(named, var),
                other => panic!("{other:?}"),
            }
        }
    }
}
