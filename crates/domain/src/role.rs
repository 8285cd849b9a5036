//! Roles: what a signed-in user may do.

use std::fmt;
use std::str::FromStr;

/// A user's role. Roles are ordered: an admin may do everything a worker may, and a worker
/// everything a visitor may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Default for every new account: identifies wildlife and books visits.
    Visitor,
    /// Field staff: claims and completes bookings.
    Worker,
    /// Manages users, sites, retention and exposure reports.
    Admin,
}

/// The text is not one of `visitor`, `worker`, `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role: expected visitor, worker or admin")]
pub struct UnknownRole;

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Visitor, Role::Worker, Role::Admin];

    /// The stable lower-case name used in storage, URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Visitor => "visitor",
            Role::Worker => "worker",
            Role::Admin => "admin",
        }
    }

    /// Whether a holder of `self` may do what `required` may do.
    pub fn includes(self, required: Role) -> bool {
        self >= required
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "visitor" => Ok(Role::Visitor),
            "worker" => Ok(Role::Worker),
            "admin" => Ok(Role::Admin),
            _ => Err(UnknownRole),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_its_own_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("Admin".parse::<Role>(), Err(UnknownRole));
        assert_eq!("root".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn roles_are_nested() {
        assert!(Role::Admin.includes(Role::Worker));
        assert!(Role::Worker.includes(Role::Visitor));
        assert!(!Role::Visitor.includes(Role::Worker));
        assert!(!Role::Worker.includes(Role::Admin));
    }
}
