//! Work through the library's job queue: `publish --queue` and `record --publish` put a room's
//! publishing there, and any number of workers, on any machine that mounts the session folders and
//! reaches the library, take jobs one at a time. See `library::jobs` for the queue's guarantees.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use super::publish::{PublishOptions, PublishStep, publish};
use crate::library::jobs::{JOB_FORMAT, MAX_ATTEMPTS, error_line};
use crate::library::{self, Access, Catalog, Claim, Job, JobState, NewJob, QueueCounts};
use crate::progress::Progress;
use crate::session::Session;

/// The kind of job that publishes a room: master, transcribe, export, index.
pub const PUBLISH: &str = "publish";

/// A room's publishing, put in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct Queued {
    pub job: Job,
    /// `false`: the room already had a publish job waiting or running, and that one stands.
    pub created: bool,
}

/// Puts the publishing of the session in `session_dir` into the library's queue, for a worker.
/// The session is checked now (a folder that is not one fails here, not in a worker); its path is
/// kept absolute, as every worker must mount it.
pub fn enqueue_publish(session_dir: &Path, options: &PublishOptions, library_location: &Path) -> Result<Queued> {
    let session = Session::open(session_dir)?;
    let dir = std::fs::canonicalize(&session.dir).with_context(|| session.dir.display().to_string())?;
    let mut lib = library::open(library_location, Access::Write)?;
    let (job, created) = lib.enqueue(&NewJob {
        kind: PUBLISH.into(),
        room: session.room.id.clone(),
        session: dir,
        spec: serde_json::to_value(options)?,
        format: JOB_FORMAT,
        max_attempts: MAX_ATTEMPTS,
    })?;
    Ok(Queued { job, created })
}

/// When a worker stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// When asked to (`stop`).
    Stopped,
    /// After one job, or at once when none waits.
    OneJob,
    /// When no job waits or runs anywhere (a running job may still come back to the queue).
    Idle,
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How the worker is named in the queue: `host:pid` unless given.
    pub name: String,
    /// How long a claim holds without renewal; renewed every third of it.
    pub lease: Duration,
    /// How often an idle worker looks for work.
    pub poll: Duration,
    pub until: Until,
}

impl WorkerOptions {
    pub fn default_name() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}:{}", std::process::id())
    }
}

/// What a worker is doing, as it happens.
#[derive(Debug, Clone)]
pub enum WorkerEvent<'a> {
    Claimed(&'a Job),
    Step(&'a Job, &'a str),
    /// A job's end. `state` is `None` when its lease had run out and another worker has it.
    Finished {
        job: &'a Job,
        state: Option<JobState>,
        error: Option<&'a str>,
    },
    /// Nothing to claim; the queue as it stands.
    Idle(QueueCounts),
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerReport {
    pub worker: String,
    pub done: usize,
    /// Failed attempts (retried later, or failed for good).
    pub failed: usize,
    /// Jobs whose lease ran out while this worker held them: another worker redoes them.
    pub lost: usize,
    /// Jobs waiting that need a newer roomcast than this worker (when it stopped).
    pub too_new: i64,
}

/// Runs jobs until `options.until` says to stop, or `stop` turns true (the job in hand is
/// finished first). A job that fails is reported to the queue (which retries it) and the worker
/// goes on; only the library failing stops it.
pub fn run(
    library_location: &Path,
    options: &WorkerOptions,
    stop: &AtomicBool,
    progress: &dyn Progress,
    on_event: &mut dyn FnMut(WorkerEvent),
) -> Result<WorkerReport> {
    let mut lib = library::open(library_location, Access::Write)?;
    // The lease is renewed over a connection of its own, opened once (about 13 ms a job otherwise).
    let mut heart = library::open(library_location, Access::Write)?;
    let mut report = WorkerReport { worker: options.name.clone(), ..Default::default() };
    let mut told_idle = false;
    while !stop.load(Ordering::SeqCst) {
        let Some(claim) = lib.claim(&options.name, options.lease)? else {
            if options.until == Until::OneJob {
                report.too_new = lib.queue_counts()?.too_new;
                break;
            }
            let counts = lib.queue_counts()?;
            report.too_new = counts.too_new;
            if options.until == Until::Idle && counts.queued == 0 && counts.running == 0 {
                break;
            }
            if !told_idle {
                on_event(WorkerEvent::Idle(counts));
                told_idle = true;
            }
            sleep_unless(stop, options.poll);
            continue;
        };
        told_idle = false;
        on_event(WorkerEvent::Claimed(&claim.job));
        let outcome = run_claim(library_location, &mut *heart, &claim, progress, on_event);
        let error = outcome.err();
        let state = lib.finish(&claim, error.as_deref())?;
        match (state, &error) {
            (None, _) => report.lost += 1,
            (Some(_), Some(_)) => report.failed += 1,
            (Some(_), None) => report.done += 1,
        }
        on_event(WorkerEvent::Finished { job: &claim.job, state, error: error.as_deref() });
        if options.until == Until::OneJob {
            break;
        }
    }
    Ok(report)
}

fn sleep_unless(stop: &AtomicBool, time: Duration) {
    let end = Instant::now() + time;
    while !stop.load(Ordering::SeqCst) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50).min(end.saturating_duration_since(Instant::now())));
    }
}

/// Does one claimed job while a second connection keeps its lease (and says which step it is at).
/// `Err` is the error as the queue keeps it: one line.
fn run_claim(
    library_location: &Path,
    heart: &mut dyn Catalog,
    claim: &Claim,
    progress: &dyn Progress,
    on_event: &mut dyn FnMut(WorkerEvent),
) -> std::result::Result<(), String> {
    let (steps, heard) = mpsc::channel::<String>();
    std::thread::scope(|scope| {
        scope.spawn(move || keep_lease(heart, claim, heard));
        let mut step = |name: &str| {
            on_event(WorkerEvent::Step(&claim.job, name));
            let _ = steps.send(name.to_string());
        };
        let result = match claim.job.kind.as_str() {
            PUBLISH => run_publish(library_location, &claim.job, progress, &mut step),
            other => Err(format!("job kind '{other}' is not one this roomcast knows")),
        };
        // Dropping the sender ends the heartbeat.
        drop(steps);
        result
    })
}

/// Renews the lease every third of it, and at once when the step changes, until the job's end.
fn keep_lease(lib: &mut dyn Catalog, claim: &Claim, steps: mpsc::Receiver<String>) {
    let every = claim.lease / 3;
    loop {
        let step = match steps.recv_timeout(every) {
            Ok(step) => Some(step),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        match lib.renew(claim, step.as_deref()) {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("job {}: the lease ran out and another worker has it", claim.job.id);
                return;
            }
            // The lease may still hold; the next beat tries again.
            Err(e) => tracing::warn!("job {}: could not renew the lease: {e}", claim.job.id),
        }
    }
}

fn run_publish(
    library_location: &Path,
    job: &Job,
    progress: &dyn Progress,
    step: &mut dyn FnMut(&str),
) -> std::result::Result<(), String> {
    let mut options: PublishOptions = serde_json::from_value(job.spec.clone())
        .map_err(|e| format!("job {}: unreadable publish options ({e})", job.id))?;
    options.room = Some(job.room.clone());
    step("master");
    let session: PathBuf = job.session.clone();
    publish(&session, &options, library_location, progress, &mut |s| match s {
        PublishStep::Mastered(_) => step("transcribe"),
        PublishStep::Transcribed { .. } | PublishStep::NotTranscribed { .. } => step("index"),
    })
    .map(|_| ())
    .map_err(|e| error_line(&super::message(&e)))
}
