//! Who an audit entry says acted ([`Actor`]), and its stored text.

use crate::ids::UserId;

/// Who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The server itself (jobs, start-up).
    System,
    /// A client that is not signed in.
    Anonymous,
    /// A signed-in user.
    User(UserId),
}

/// The stored actor text is not one this module writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit actor")]
pub struct InvalidActor;

impl Actor {
    /// Storage form: `system`, `anonymous` or `user:<uuid>`.
    pub fn to_storage(&self) -> String {
        match self {
            Actor::System => "system".to_owned(),
            Actor::Anonymous => "anonymous".to_owned(),
            Actor::User(id) => format!("user:{id}"),
        }
    }

    /// Inverse of [`Actor::to_storage`].
    ///
    /// # Errors
    /// [`InvalidActor`] for any other text.
    pub fn from_storage(raw: &str) -> Result<Self, InvalidActor> {
        match raw {
            "system" => Ok(Actor::System),
            "anonymous" => Ok(Actor::Anonymous),
            _ => raw
                .strip_prefix("user:")
                .and_then(|id| UserId::parse(id).ok())
                .map(Actor::User)
                .ok_or(InvalidActor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_round_trips_through_storage() {
        let a = Actor::User(UserId::from_random([1; 16]));
        assert_eq!(Actor::from_storage(&a.to_storage()), Ok(a));
        assert!(Actor::from_storage("user:nope").is_err());
    }
}
