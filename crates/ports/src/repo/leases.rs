//! Leases on shared background jobs, so that of several server processes on one database
//! only one runs a job at a time.

use async_trait::async_trait;
use wildid_domain::Timestamp;

use crate::RepoError;

/// A background job that several server processes share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    /// The retention purge of visit data.
    Retention,
    /// Re-encryption of every encrypted value under the newest key.
    Reencryption,
}

impl Job {
    /// The job's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retention => "retention",
            Self::Reencryption => "reencryption",
        }
    }
}

/// A job's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// Who holds or last held the lease.
    pub holder: Option<String>,
    /// Until when the lease runs (`None`: released).
    pub leased_until: Option<Timestamp>,
    /// When the job last ran to its end.
    pub finished_at: Option<Timestamp>,
}

/// What [`JobLeases::acquire`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRequest {
    /// The job.
    pub job: Job,
    /// Who asks: an identifier unique to the process.
    pub holder: String,
    /// The present instant.
    pub now: Timestamp,
    /// Until when the lease shall run (a crashed holder's lease ends then).
    pub until: Timestamp,
    /// Only if the job last finished before this instant (or never): `None` takes the lease
    /// whenever the job last ran.
    pub finished_before: Option<Timestamp>,
}

/// Leases on shared jobs. A lease is taken by one conditional write, so of concurrent
/// requests (from any number of processes) at most one succeeds while a lease runs.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait JobLeases: Send + Sync {
    /// Takes the lease on `request.job` for `request.holder` until `request.until`, if no
    /// lease runs at `request.now` (none was taken, it was released, it ran out, or it is the
    /// holder's own) and the job is due (`finished_before`). `Ok(true)` when taken.
    ///
    /// # Errors
    /// Only storage failures.
    async fn acquire(&self, request: LeaseRequest) -> Result<bool, RepoError>;

    /// Ends `holder`'s lease on `job`; with `finished_at`, records that the job ran to its end
    /// then (without it, the job stays due). Does nothing when `holder` no longer holds it.
    ///
    /// # Errors
    /// Only storage failures.
    async fn release(
        &self,
        job: Job,
        holder: &str,
        finished_at: Option<Timestamp>,
    ) -> Result<(), RepoError>;

    /// The job's state; `None` when it never ran.
    ///
    /// # Errors
    /// Only storage failures; [`RepoError::Corrupt`] for an unreadable row.
    async fn state(&self, job: Job) -> Result<Option<JobState>, RepoError>;
}
