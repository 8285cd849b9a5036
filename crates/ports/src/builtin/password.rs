//! Passwords: argon2id hashing in PHC format on a small pool of low-priority threads
//! ([`Argon2Hasher`], the [`PasswordHasher`] port), and strength estimation with zxcvbn
//! ([`ZxcvbnEstimator`], the [`StrengthEstimator`] port).

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
#[cfg(any(target_os = "linux", target_os = "android"))]
use thread_priority::{
    NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
    thread_native_id,
};
use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
use wildid_domain::secret::SecretString;
use wildid_domain::user::PasswordHash;

use crate::password::{HashError, PasswordCheck, PasswordHasher, StrengthEstimator};

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
pub const MIN_MEMORY_KIB: u32 = 19_456;
/// See [`MIN_MEMORY_KIB`].
pub const MIN_ITERATIONS: u32 = 2;

/// The fallback scheduling priority of the hashing threads where `SCHED_IDLE` is not available,
/// on `thread-priority`'s 0 (lowest) to 99 (highest) scale; on Unix 22 is nice 10. A nice-10
/// thread still gets about a tenth of a core that a normal thread also wants.
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

    /// Lowers the calling thread's priority as far as the system allows. On Linux the thread
    /// moves to `SCHED_IDLE`: it runs only when no normal thread wants the core, and a waking
    /// request handler preempts it at once. Measured with nice 10 instead, a 2-core machine under a
    /// sign-in flood kept `/healthz` p99 at 2.7-4.4x its idle value, because a nice-10 thread
    /// still holds a core for a scheduler slice after a handler wakes. Elsewhere (or when the
    /// policy is refused) the thread falls back to nice 10.
    fn lower_own_priority() -> Result<(), String> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let idle = set_thread_priority_and_policy(
                thread_native_id(),
                ThreadPriority::Min,
                ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
            );
            if idle.is_ok() {
                return Ok(());
            }
        }
        ThreadPriorityValue::try_from(HASHING_PRIORITY)
            .map_err(|e| format!("{e:?}"))
            .and_then(|p| {
                set_current_thread_priority(ThreadPriority::Crossplatform(p))
                    .map_err(|e| format!("{e:?}"))
            })
    }

    /// A worker: lowers its own priority, then runs jobs until the pool is dropped.
    fn work(queue: &Mutex<Receiver<Job>>) {
        if let Err(error) = Self::lower_own_priority() {
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

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        self.pool.run(work).await
    }
}

thread_local! {
    /// The argon2 working memory of this hashing thread, kept from one hash to the next.
    ///
    /// Allocating 19 MiB per hash means the kernel maps and zeroes 4,864 fresh pages each time
    /// and unmaps them after (with a TLB shootdown that interrupts every core running this
    /// process): at 80 sign-ins a second that is 1.5 GB/s of page faults, work done at kernel
    /// level that delays the request handlers on the other core. Reusing one buffer per thread
    /// does none of it. Every block is written before it is read (argon2's first pass
    /// overwrites), so the previous hash's contents do not matter.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `blocks` argon2 blocks of this thread's reusable memory. A larger request (an
/// old hash with stronger parameters) grows it once, and it shrinks back to `usual` after.
fn with_memory<T>(blocks: usize, usual: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        let result = f(&mut memory[..blocks]);
        if memory.len() > usual {
            memory.truncate(usual);
            memory.shrink_to_fit();
        }
        result
    })
}

/// Computes the argon2 output of `password` and `salt` into `out` with `params`.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    usual_blocks: usize,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), HashError> {
    let argon2 = Argon2::new(algorithm, version, params.clone());
    with_memory(params.block_count(), usual_blocks, |memory| {
        argon2.hash_password_into_with_memory(password, salt, out, memory)
    })
    .map_err(|e| HashError(e.to_string()))
}

/// A new argon2id hash of `password` with a random salt, as a PHC string.
fn hash_with(params: &Params, password: &[u8]) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    compute(
        algorithm,
        version,
        params,
        params.block_count(),
        password,
        &salt,
        &mut out,
    )?;
    let phc = Phc {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(params).map_err(|e| HashError(e.to_string()))?,
        salt: Some(Salt::new(&salt).map_err(|e| HashError(e.to_string()))?),
        hash: Some(Output::new(&out).map_err(|e| HashError(e.to_string()))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` produces the output stored in `phc` (an argon2 PHC string of any
/// variant, version and parameters). The outputs are compared in constant time.
fn matches(phc: &Phc, password: &[u8], usual_blocks: usize) -> bool {
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = phc
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(phc) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if compute(
        algorithm,
        version,
        &params,
        usual_blocks,
        password,
        salt,
        &mut out,
    )
    .is_err()
    {
        return false;
    }
    Output::new(&out).is_ok_and(|computed| computed == *expected)
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
            let verified = matches(&parsed, password.expose().as_bytes(), params.block_count());
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

    /// The reused-memory path reads and writes the same PHC strings as the argon2 crate's own
    /// hasher and verifier, for the current parameters and for others (argon2i, a stronger
    /// memory cost, version 0x10), and a block left over from the previous hash changes nothing.
    #[tokio::test]
    async fn reused_memory_agrees_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = Argon2Hasher::new(MIN_MEMORY_KIB, 2, 1, 1).unwrap();
        let ours = hasher.hash(&pw("otter gravel lantern")).await.unwrap();
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(MIN_MEMORY_KIB, 2, 1, None).unwrap(),
        );
        let parsed = Phc::new(ours.as_str()).unwrap();
        assert!(
            reference
                .verify_password(b"otter gravel lantern", &parsed)
                .is_ok()
        );
        assert!(reference.verify_password(b"otter gravel", &parsed).is_err());
        for (algorithm, version, memory) in [
            (Algorithm::Argon2id, Version::V0x13, MIN_MEMORY_KIB),
            (Algorithm::Argon2i, Version::V0x13, MIN_MEMORY_KIB),
            (Algorithm::Argon2id, Version::V0x13, 2 * MIN_MEMORY_KIB),
            (Algorithm::Argon2id, Version::V0x10, MIN_MEMORY_KIB),
        ] {
            let theirs = Argon2::new(algorithm, version, Params::new(memory, 2, 1, None).unwrap())
                .hash_password_with_salt(b"heron at dusk", b"sixteen byte salt")
                .unwrap()
                .to_string();
            for _ in 0..2 {
                let check = hasher
                    .verify(
                        &pw("heron at dusk"),
                        Some(PasswordHash::new(theirs.clone())),
                    )
                    .await
                    .unwrap();
                assert!(
                    matches!(check, PasswordCheck::Match { .. }),
                    "{theirs}: {check:?}"
                );
                let wrong = hasher
                    .verify(
                        &pw("heron at dawn"),
                        Some(PasswordHash::new(theirs.clone())),
                    )
                    .await
                    .unwrap();
                assert_eq!(wrong, PasswordCheck::Mismatch, "{theirs}");
            }
        }
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

    /// The calling thread's scheduling policy, from `/proc/thread-self/stat` (field 41; the
    /// fields after the command name start at field 3).
    fn own_policy() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after_name = stat.rsplit_once(')').unwrap().1;
        after_name
            .split_whitespace()
            .nth(41 - 3)
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Linux's `SCHED_IDLE` policy number (`SCHED_OTHER` is 0).
    const SCHED_IDLE: i64 = 5;

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashes_run_on_the_low_priority_pool_which_survives_a_panic() {
        let pool = HashPool::start(2).unwrap();
        assert_ne!(own_policy(), SCHED_IDLE, "the test thread is a normal one");
        let (name, policy) = pool
            .run(|| {
                Ok((
                    std::thread::current().name().map(str::to_owned),
                    own_policy(),
                ))
            })
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("wildid-argon2-"));
        assert_eq!(
            policy, SCHED_IDLE,
            "hashes run only on otherwise idle cores"
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
