//! The operating system's CSPRNG as the [`SecureRandom`] port ([`OsRandom`]): every token,
//! salt and key WildID makes comes from it in production.

use crate::random::{RandomUnavailable, SecureRandom};

/// The operating system's CSPRNG (`getrandom(2)` on Linux).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomUnavailable> {
        getrandom::fill(buf).map_err(|_| RandomUnavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::random_array;

    #[test]
    fn draws_distinct_values() {
        let a: [u8; 32] = random_array(&OsRandom).unwrap();
        let b: [u8; 32] = random_array(&OsRandom).unwrap();
        assert_ne!(a, b);
    }
}
