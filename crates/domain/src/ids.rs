//! Identifiers of entities: random UUIDs (v4), built from bytes the caller's random source gives.

/// The text is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid identifier")]
pub struct InvalidId;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new random (version 4) identifier from 16 bytes of a CSPRNG.
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
            }

            /// The identifier whose 16 bytes are `bytes` (as [`Self::as_uuid`] gives them back;
            /// for decoding what this server wrote, not for making new identifiers).
            pub fn from_uuid_bytes(bytes: [u8; 16]) -> Self {
                Self(uuid::Uuid::from_bytes(bytes))
            }

            /// Parses the hyphenated form.
            ///
            /// # Errors
            /// [`InvalidId`] when the text is not a UUID.
            pub fn parse(raw: &str) -> Result<Self, InvalidId> {
                uuid::Uuid::try_parse(raw).map(Self).map_err(|_| InvalidId)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

uuid_id!(
    /// Identifies a user account.
    UserId
);
uuid_id!(
    /// Identifies a captcha challenge.
    CaptchaId
);
uuid_id!(
    /// Identifies one species identification.
    IdentificationId
);
uuid_id!(
    /// Identifies a field site.
    SiteId
);
uuid_id!(
    /// Identifies a kind of service offered at sites.
    ServiceTypeId
);
uuid_id!(
    /// Identifies a booking.
    BookingId
);
uuid_id!(
    /// Identifies an exposure report.
    ExposureReportId
);
uuid_id!(
    /// Identifies an in-app notification.
    NotificationId
);
uuid_id!(
    /// Identifies one HTTP request across log lines and audit entries.
    RequestId
);
uuid_id!(
    /// Identifies a message in the mail outbox.
    MailId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_v4_and_round_trip() {
        let id = UserId::from_random([7; 16]);
        assert_eq!(id.as_uuid().get_version_num(), 4);
        assert_eq!(UserId::parse(&id.to_string()), Ok(id));
        assert_eq!(UserId::parse("../etc/passwd"), Err(InvalidId));
    }
}
