//! Wildlife sites and the kinds of visit offered there.

use crate::ids::{ServiceTypeId, SiteId};
use crate::sighting::Area;
use crate::text::{PlainText, TextError};

/// The longest site or service name, in characters.
pub const NAME_MAX_CHARS: usize = 80;
/// The longest site description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 2_000;
/// Visits last a whole number of these minutes, and slots start on them.
pub const SLOT_MINUTES: u32 = 15;
/// The longest visit, in minutes (a survey day).
pub const MAX_DURATION_MINUTES: u32 = 12 * 60;
/// The most places one slot of a service may offer.
pub const MAX_CAPACITY: u32 = 500;

/// Why a site or a service type was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    /// The name is empty or too long.
    #[error("name: {0}")]
    Name(TextError),
    /// The description is too long.
    #[error("description: {0}")]
    Description(TextError),
    /// The duration is zero, too long or not whole slots.
    #[error(
        "duration must be a multiple of {SLOT_MINUTES} minutes between {SLOT_MINUTES} and {MAX_DURATION_MINUTES}"
    )]
    Duration,
    /// The capacity is zero or too large.
    #[error("capacity must be between 1 and {MAX_CAPACITY}")]
    Capacity,
}

/// A place where visits happen: a reserve, a wetland, a nesting beach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    id: SiteId,
    name: PlainText,
    description: Option<PlainText>,
    area: Area,
    active: bool,
}

impl Site {
    /// A site; `description` may be empty (no description).
    ///
    /// # Errors
    /// [`SiteError`] naming the field that is wrong.
    pub fn new(
        id: SiteId,
        name: &str,
        description: &str,
        area: Area,
        active: bool,
    ) -> Result<Self, SiteError> {
        Ok(Self {
            id,
            name: PlainText::new(name, NAME_MAX_CHARS).map_err(SiteError::Name)?,
            description: optional(description, DESCRIPTION_MAX_CHARS)
                .map_err(SiteError::Description)?,
            area,
            active,
        })
    }

    /// The site's random id, fixed when it is added.
    pub fn id(&self) -> SiteId {
        self.id
    }

    /// Name shown to visitors.
    pub fn name(&self) -> &PlainText {
        &self.name
    }

    /// What visitors should know (access, what to bring).
    pub fn description(&self) -> Option<&PlainText> {
        self.description.as_ref()
    }

    /// The rectangle the site's map shows, and where its exposures apply.
    pub fn area(&self) -> Area {
        self.area
    }

    /// Whether the site takes new bookings. Closing a site keeps its bookings.
    pub fn is_active(&self) -> bool {
        self.active
    }
}

/// A kind of visit offered at every site: a guided walk, a nesting watch, a survey day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceType {
    id: ServiceTypeId,
    name: PlainText,
    duration_minutes: u32,
    capacity: u32,
}

impl ServiceType {
    /// A service lasting `duration_minutes` (whole slots of [`SLOT_MINUTES`], at most
    /// [`MAX_DURATION_MINUTES`]) with `capacity` places per slot (1 to [`MAX_CAPACITY`]).
    ///
    /// # Errors
    /// [`SiteError`] naming the field that is wrong.
    pub fn new(
        id: ServiceTypeId,
        name: &str,
        duration_minutes: u32,
        capacity: u32,
    ) -> Result<Self, SiteError> {
        let name = PlainText::new(name, NAME_MAX_CHARS).map_err(SiteError::Name)?;
        if duration_minutes == 0
            || duration_minutes > MAX_DURATION_MINUTES
            || !duration_minutes.is_multiple_of(SLOT_MINUTES)
        {
            return Err(SiteError::Duration);
        }
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(SiteError::Capacity);
        }
        Ok(Self {
            id,
            name,
            duration_minutes,
            capacity,
        })
    }

    /// The kind of visit's random id, fixed when it is added.
    pub fn id(&self) -> ServiceTypeId {
        self.id
    }

    /// Name shown to visitors (1 to [`NAME_MAX_CHARS`] characters, cleaned).
    pub fn name(&self) -> &PlainText {
        &self.name
    }

    /// How long a visit lasts, in minutes.
    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }

    /// How many visitors one slot takes.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }
}

/// `raw` as optional text: blank is `None`.
pub(crate) fn optional(raw: &str, max: usize) -> Result<Option<PlainText>, TextError> {
    match PlainText::new(raw, max) {
        Ok(text) => Ok(Some(text)),
        Err(TextError::Empty) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_and_services_cannot_be_built_invalid() {
        let id = SiteId::from_random([1; 16]);
        assert!(matches!(
            Site::new(id, "  ", "", Area::WORLD, true),
            Err(SiteError::Name(TextError::Empty))
        ));
        let long = "x".repeat(NAME_MAX_CHARS + 1);
        assert!(matches!(
            Site::new(id, &long, "", Area::WORLD, true),
            Err(SiteError::Name(TextError::TooLong { .. }))
        ));
        let site = Site::new(id, "Marsh", " \n", Area::WORLD, true).unwrap();
        assert_eq!(site.description(), None);

        let id = ServiceTypeId::from_random([2; 16]);
        for minutes in [0, 10, MAX_DURATION_MINUTES + SLOT_MINUTES] {
            assert_eq!(
                ServiceType::new(id, "Walk", minutes, 10),
                Err(SiteError::Duration)
            );
        }
        for capacity in [0, MAX_CAPACITY + 1] {
            assert_eq!(
                ServiceType::new(id, "Walk", 90, capacity),
                Err(SiteError::Capacity)
            );
        }
        let walk = ServiceType::new(id, "Walk", 90, 12).unwrap();
        assert_eq!((walk.duration_minutes(), walk.capacity()), (90, 12));
    }
}
