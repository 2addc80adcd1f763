//! The library's job queue: work on rooms (publishing them) that any worker sharing the library may
//! do, each job done once even when workers die.
//!
//! A job is claimed with a lease: the worker holding it renews the lease while it works. A worker
//! that dies stops renewing; when the lease runs out, the next worker to look claims the job again
//! and redoes it from the start. The work is idempotent (files are written under a temporary name
//! and renamed, indexing replaces a room's rows), so a job done one and a half times leaves what a
//! job done once leaves. Every claim counts an attempt, and the attempt number is the job's fencing
//! token: a worker that lost its lease can no longer renew or finish the job, its late report is
//! ignored. A failed attempt keeps its error; the job waits a little and is retried until it has
//! had `max_attempts`, then stays failed.
//!
//! Both catalogs keep the queue beside the rooms: PostgreSQL claims with `FOR UPDATE SKIP LOCKED`
//! (many machines), SQLite with one write transaction per claim (one machine's workers). Times are
//! the database's on PostgreSQL, so machines with drifting clocks agree on when a lease ran out.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// The job formats this roomcast can run. A job records the format it needs; a worker leaves jobs
/// of a newer format for a newer worker instead of misreading them.
pub const JOB_FORMAT: i64 = 1;

/// How many times a job is tried before it stays failed.
pub const MAX_ATTEMPTS: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker (or for its retry time).
    Queued,
    /// Claimed by a worker, whose lease runs until `lease_until`.
    Running,
    Done,
    /// Tried `max_attempts` times; `error` says why the last attempt failed.
    Failed,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<JobState> {
        [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed].into_iter().find(|s| s.name() == name)
    }
}

/// What to put in the queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to do: `publish`.
    pub kind: String,
    pub room: String,
    /// The session folder, as every worker mounts it.
    pub session: PathBuf,
    /// The job's options, as its kind reads them (JSON).
    pub spec: serde_json::Value,
    /// The job format a worker must know (`JOB_FORMAT` of the roomcast that made it).
    pub format: i64,
    pub max_attempts: i64,
}

/// A job as the queue holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub room: String,
    pub session: PathBuf,
    pub spec: serde_json::Value,
    pub format: i64,
    pub state: JobState,
    /// The step a running job is at (as its worker last said).
    pub step: Option<String>,
    /// Claims so far; the current one's number is the fencing token.
    pub attempts: i64,
    pub max_attempts: i64,
    /// The worker that holds (or last held) it.
    pub worker: Option<String>,
    /// The last failed attempt's error.
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// When a running job's lease runs out.
    pub lease_until: Option<String>,
}

/// A claimed job and the lease its worker must keep renewing.
#[derive(Debug, Clone)]
pub struct Claim {
    pub job: Job,
    pub lease: Duration,
}

impl Claim {
    /// The fencing token: renewals and the final report carry it.
    pub fn attempt(&self) -> i64 {
        self.job.attempts
    }
}

/// How the queue stands, for a worker deciding whether to wait.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueueCounts {
    /// Queued jobs this roomcast can run (including those waiting to be retried).
    pub queued: i64,
    pub running: i64,
    /// Queued jobs that need a newer roomcast.
    pub too_new: i64,
}

/// How long a failed attempt waits before its retry: 5 s, 20 s, 80 s, ... at most 10 minutes.
pub fn retry_delay(attempts: i64) -> Duration {
    let exp = attempts.clamp(1, 6) as u32 - 1;
    Duration::from_secs((5u64 * 4u64.pow(exp)).min(600))
}

/// Seconds since the epoch as the queue stores them, as RFC 3339 (UTC, to the millisecond).
pub(crate) fn epoch_text(secs: f64) -> String {
    let ms = (secs * 1000.0).round() as i64;
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// This machine's clock, in the queue's unit (the SQLite queue; PostgreSQL uses its own clock).
pub(crate) fn now_epoch() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// An error as one line, short enough for a column: the queue keeps it for `roomcast jobs`.
pub fn error_line(text: &str) -> String {
    let line = text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ");
    match line.char_indices().nth(2000) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}
