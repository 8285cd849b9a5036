use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use async_trait::async_trait;
use tokio::sync::Semaphore;
use wildid_domain::secret::SecretString;
use wildid_domain::user::PasswordHash;

use crate::password::{HashError, PasswordCheck, PasswordHasher, StrengthEstimator};

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
pub const MIN_MEMORY_KIB: u32 = 19_456;
/// See [`MIN_MEMORY_KIB`].
pub const MIN_ITERATIONS: u32 = 2;

/// The parameters are below OWASP's minimum or not valid argon2 parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("argon2id needs at least m=19456 KiB, t=2, p=1: {0}")]
pub struct WeakParams(pub String);

/// argon2id in PHC format. Hashing and verification run on tokio's blocking pool, at most
/// `max_concurrent` at a time (each takes `memory_kib` of memory), so a flood of sign-ins
/// queues instead of starving the async workers or exhausting memory.
pub struct Argon2Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Argon2Hasher(m={}, t={}, p={})",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost()
        )
    }
}

impl Argon2Hasher {
    /// A hasher with these parameters.
    ///
    /// # Errors
    /// [`WeakParams`] below the OWASP minimum.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        max_concurrent: usize,
    ) -> Result<Self, WeakParams> {
        if memory_kib < MIN_MEMORY_KIB || iterations < MIN_ITERATIONS || parallelism < 1 {
            return Err(WeakParams(format!(
                "got m={memory_kib}, t={iterations}, p={parallelism}"
            )));
        }
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| WeakParams(e.to_string()))?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy: Arc::new(OnceLock::new()),
        })
    }

    fn argon2(params: &Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashError(e.to_string()))?
    }
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
    Argon2Hasher::argon2(params)
        .hash_password_with_salt(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &SecretString) -> Result<PasswordHash, HashError> {
        let params = self.params.clone();
        let password = password.clone();
        self.blocking(move || {
            hash_with(&params, password.expose().as_bytes()).map(PasswordHash::new)
        })
        .await
    }

    async fn verify(
        &self,
        password: &SecretString,
        stored: Option<PasswordHash>,
    ) -> Result<PasswordCheck, HashError> {
        let params = self.params.clone();
        let password = password.clone();
        let stored = stored.map(|h| h.as_str().to_owned());
        let dummy = Arc::clone(&self.dummy);
        self.blocking(move || {
            let (phc, real) = match &stored {
                Some(s) => (s.clone(), true),
                None => (
                    dummy
                        .get_or_init(|| {
                            hash_with(&params, b"wildid-dummy-password").unwrap_or_default()
                        })
                        .clone(),
                    false,
                ),
            };
            let Ok(parsed) = Phc::new(&phc) else {
                tracing::error!("a stored password hash does not parse");
                return Ok(PasswordCheck::Mismatch);
            };
            let verified = Argon2Hasher::argon2(&params)
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            if !(verified && real) {
                return Ok(PasswordCheck::Mismatch);
            }
            let current = parsed.algorithm.as_str() == "argon2id"
                && Params::try_from(&parsed).is_ok_and(|p| {
                    p.m_cost() == params.m_cost()
                        && p.t_cost() == params.t_cost()
                        && p.p_cost() == params.p_cost()
                });
            Ok(PasswordCheck::Match {
                needs_rehash: !current,
            })
        })
        .await
    }
}

/// zxcvbn's estimate.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZxcvbnEstimator;

impl StrengthEstimator for ZxcvbnEstimator {
    fn score(&self, password: &SecretString, related: &[String]) -> u8 {
        let related: Vec<&str> = related.iter().map(String::as_str).collect();
        zxcvbn::zxcvbn(password.expose(), &related).score() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> SecretString {
        SecretString::new(s.to_owned())
    }

    #[tokio::test]
    async fn hashes_verify_and_flag_outdated_parameters() {
        let hasher = Argon2Hasher::new(MIN_MEMORY_KIB, 2, 1, 2).unwrap();
        let hash = hasher.hash(&pw("otter gravel lantern")).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            hasher
                .verify(&pw("otter gravel lantern"), Some(hash.clone()))
                .await
                .unwrap(),
            PasswordCheck::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher
                .verify(&pw("otter gravel lanterN"), Some(hash.clone()))
                .await
                .unwrap(),
            PasswordCheck::Mismatch
        );
        assert_eq!(
            hasher.verify(&pw("anything"), None).await.unwrap(),
            PasswordCheck::Mismatch
        );
        assert_eq!(
            hasher
                .verify(&pw("x"), Some(PasswordHash::new("garbage".into())))
                .await
                .unwrap(),
            PasswordCheck::Mismatch
        );
        let stronger = Argon2Hasher::new(MIN_MEMORY_KIB, 3, 1, 2).unwrap();
        assert_eq!(
            stronger
                .verify(&pw("otter gravel lantern"), Some(hash.clone()))
                .await
                .unwrap(),
            PasswordCheck::Match { needs_rehash: true }
        );
        assert!(Argon2Hasher::new(4096, 2, 1, 1).is_err());
        assert!(Argon2Hasher::new(MIN_MEMORY_KIB, 1, 1, 1).is_err());
    }

    #[test]
    fn zxcvbn_scores() {
        assert!(ZxcvbnEstimator.score(&pw("password123"), &[]) < 3);
        assert!(ZxcvbnEstimator.score(&pw("ranger.ann2026"), &["ranger.ann".into()]) < 3);
        assert!(ZxcvbnEstimator.score(&pw("otter gravel lantern quietly"), &[]) >= 3);
    }
}
