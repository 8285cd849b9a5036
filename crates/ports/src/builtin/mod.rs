//! Built-in implementations of the ports that need no external system: the system clock, the
//! operating system's CSPRNG, the Fernet key ring, the HMAC email index, key derivation, argon2id hashing and
//! in-memory rate-limit counters. Adapters for
//! external systems (database, HTTP, mail, AI providers) live in their own crates.

mod clock;
mod email_index;
mod kdf;
mod keyring;
mod memory_rate_limits;
mod password;
mod random;

pub use clock::SystemClock;
pub use email_index::{HmacDigest, HmacEmailIndex, PepperTooShort};
pub use kdf::derive_key;
pub use keyring::{FernetKeyRing, KeyRingError};
pub use memory_rate_limits::MemoryRateLimits;
pub use password::{Argon2Hasher, HasherError, MIN_ITERATIONS, MIN_MEMORY_KIB, ZxcvbnEstimator};
pub use random::OsRandom;
