use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use async_trait::async_trait;
use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
use wildid_domain::secret::SecretString;
use wildid_domain::user::PasswordHash;

use crate::password::{HashError, PasswordCheck, PasswordHasher, StrengthEstimator};

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
pub const MIN_MEMORY_KIB: u32 = 19_456;
/// See [`MIN_MEMORY_KIB`].
pub const MIN_ITERATIONS: u32 = 2;

/// The scheduling priority of the hashing threads, on `thread-priority`'s 0 (lowest) to 99
/// (highest) scale; on Linux 22 is nice 10 (the test checks it). A nice-10 thread gets about a tenth of a core
/// that a normal thread also wants, so requests are served first and hashes take the rest.
const HASHING_PRIORITY: u8 = 22;

/// The hasher cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HasherError {
    /// The parameters are below OWASP's minimum or not valid argon2 parameters.
    #[error("argon2id needs at least m=19456 KiB, t=2, p=1: {0}")]
    WeakParams(String),
    /// The hashing threads could not be started.
    #[error("cannot start the password hashing threads: {0}")]
    Threads(String),
}

type Job = Box<dyn FnOnce() + Send>;

/// A few long-lived threads that do nothing but hash, at a lowered scheduling priority.
///
/// Why not tokio's blocking pool: its threads come and go and are shared with the database, so
/// over a day many different threads each run a 19 MiB hash and the allocator keeps that much
/// per thread (measured: 1 GB of resident memory after a sign-in flood); and hashing at normal
/// priority on every core starves the async workers (p99 of `/healthz` 7x its idle value).
/// Here memory is bounded by `threads x memory_kib` and requests win the CPU.
struct HashPool {
    jobs: Sender<Job>,
}

impl HashPool {
    fn start(threads: usize) -> Result<Self, HasherError> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("wildid-argon2-{i}"))
                .spawn(move || Self::work(&queue))
                .map_err(|e| HasherError::Threads(e.to_string()))?;
        }
        Ok(Self { jobs })
    }

    /// A worker: lowers its own priority, then runs jobs until the pool is dropped.
    fn work(queue: &Mutex<Receiver<Job>>) {
        let lowered = ThreadPriorityValue::try_from(HASHING_PRIORITY)
            .map_err(|e| format!("{e:?}"))
            .and_then(|p| {
                set_current_thread_priority(ThreadPriority::Crossplatform(p))
                    .map_err(|e| format!("{e:?}"))
            });
        if let Err(error) = lowered {
            tracing::warn!(%error, "hashing thread keeps normal priority");
        }
        loop {
            let job = match queue.lock() {
                Ok(receiver) => receiver.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else {
                return; // the hasher was dropped
            };
            // A panicking hash drops its answer channel (the caller gets an error); the
            // thread itself lives on.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        self.jobs
            .send(job)
            .map_err(|_| HashError("the hashing threads have stopped".into()))?;
        answered
            .await
            .map_err(|_| HashError("a hashing thread failed".into()))?
    }
}

/// argon2id in PHC format. Hashing and verification run on a dedicated pool of
/// `max_concurrent` threads at lowered priority (see `HashPool`): a flood of sign-ins queues,
/// uses only idle CPU and bounded memory, and never starves the async workers.
pub struct Argon2Hasher {
    params: Params,
    pool: HashPool,
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
    /// A hasher with these parameters and `max_concurrent` hashing threads.
    ///
    /// # Errors
    /// [`HasherError::WeakParams`] below the OWASP minimum; [`HasherError::Threads`] when the
    /// threads cannot be started.
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        max_concurrent: usize,
    ) -> Result<Self, HasherError> {
        if memory_kib < MIN_MEMORY_KIB || iterations < MIN_ITERATIONS || parallelism < 1 {
            return Err(HasherError::WeakParams(format!(
                "got m={memory_kib}, t={iterations}, p={parallelism}"
            )));
        }
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| HasherError::WeakParams(e.to_string()))?;
        Ok(Self {
            params,
            pool: HashPool::start(max_concurrent)?,
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
        self.pool.run(work).await
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

    /// The calling thread's nice value, from `/proc/thread-self/stat` (field 19).
    fn own_nice() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after_name = stat.rsplit_once(')').unwrap().1;
        after_name
            .split_whitespace()
            .nth(16)
            .unwrap()
            .parse()
            .unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashes_run_on_the_low_priority_pool_which_survives_a_panic() {
        let pool = HashPool::start(2).unwrap();
        let here = own_nice();
        let (name, nice) = pool
            .run(|| Ok((std::thread::current().name().map(str::to_owned), own_nice())))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("wildid-argon2-"));
        assert_eq!(
            nice,
            (here + 10).min(19),
            "nice 10 relative to a normal thread"
        );
        #[allow(clippy::panic)]
        let failed = pool.run::<()>(|| panic!("boom")).await;
        assert_eq!(failed, Err(HashError("a hashing thread failed".into())));
        for _ in 0..4 {
            assert_eq!(pool.run(|| Ok(7)).await, Ok(7), "both threads still work");
        }
    }

    #[test]
    fn zxcvbn_scores() {
        assert!(ZxcvbnEstimator.score(&pw("password123"), &[]) < 3);
        assert!(ZxcvbnEstimator.score(&pw("ranger.ann2026"), &["ranger.ann".into()]) < 3);
        assert!(ZxcvbnEstimator.score(&pw("otter gravel lantern quietly"), &[]) >= 3);
    }
}
