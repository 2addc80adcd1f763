//! The job queue commands: worker, jobs.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use roomcast::app::runtime::{runtime, stop_flag_on_signals};
use roomcast::app::worker::{self, Until, WorkerEvent, WorkerOptions};
use roomcast::library::{self, Access, JobState};

use super::print_json;
use super::progress::TermProgress;

#[derive(Args)]
pub struct WorkerArgs {
    /// Run one job and stop (at once when none waits).
    #[arg(long, conflicts_with = "until_idle")]
    once: bool,
    /// Stop when no job waits or runs.
    #[arg(long)]
    until_idle: bool,
    /// How long a job stays this worker's without a renewal (renewed every third of it): SECONDS.
    #[arg(long, default_value = "30", value_name = "SECONDS", value_parser = super::args::time)]
    lease: f64,
    /// How often to look for work when the queue is empty: SECONDS.
    #[arg(long, default_value = "2", value_name = "SECONDS", value_parser = super::args::time)]
    poll: f64,
    /// This worker's name in `roomcast jobs` [default: HOST:PID].
    #[arg(long)]
    name: Option<String>,
}

pub fn worker(a: WorkerArgs, lib: &Path, json: bool, progress: &TermProgress) -> Result<()> {
    let options = WorkerOptions {
        name: a.name.unwrap_or_else(WorkerOptions::default_name),
        lease: Duration::from_secs_f64(a.lease.max(1.0)),
        poll: Duration::from_secs_f64(a.poll.max(0.05)),
        until: if a.once {
            Until::OneJob
        } else if a.until_idle {
            Until::Idle
        } else {
            Until::Stopped
        },
    };
    // Ctrl-C or SIGTERM: finish the job in hand, then stop. A second one stops at once; the job's
    // lease runs out and another worker redoes it.
    let rt = runtime()?;
    let stop = stop_flag_on_signals(&rt, || {
        eprintln!("roomcast: stopping after the job in hand (again to stop now; the job is then retried)")
    });
    let report = worker::run(lib, &options, &stop, progress, &mut |event| match event {
        _ if json => {}
        WorkerEvent::Claimed(j) => println!("job {} ({} '{}', attempt {}): started", j.id, j.kind, j.room, j.attempts),
        WorkerEvent::Step(j, step) => println!("job {}: {step}", j.id),
        WorkerEvent::Finished { job, state: None, .. } => {
            println!("job {}: its lease ran out while it ran; another worker has it", job.id)
        }
        WorkerEvent::Finished { job, state: Some(state), error } => match error {
            None => println!("job {}: done", job.id),
            Some(e) if state == JobState::Failed => println!("job {}: failed for good: {e}", job.id),
            Some(e) => println!("job {}: failed, will be retried: {e}", job.id),
        },
        WorkerEvent::Idle(c) if c.too_new > 0 => {
            println!("waiting for jobs ({} need a newer roomcast than this one)", c.too_new)
        }
        WorkerEvent::Idle(_) => println!("waiting for jobs"),
    })?;
    if report.too_new > 0 {
        eprintln!("roomcast: {} queued job(s) need a newer roomcast than this worker: upgrade it", report.too_new);
    }
    if json {
        return print_json(&report);
    }
    println!("worker {}: {} done, {} failed, {} lost", report.worker, report.done, report.failed, report.lost);
    Ok(())
}

pub fn jobs(limit: usize, lib: &Path, json: bool) -> Result<()> {
    let lib = library::open(lib, Access::Read)?;
    let jobs = lib.jobs(limit)?;
    if json {
        return print_json(&jobs);
    }
    if jobs.is_empty() {
        println!("No jobs. Queue a room with: roomcast publish SESSION --queue");
        return Ok(());
    }
    println!("{:>6}  {:<8} {:<10} {:<7} {:<24} {:<20} room", "job", "state", "step", "tries", "updated", "worker");
    for j in &jobs {
        println!(
            "{:>6}  {:<8} {:<10} {:<7} {:<24} {:<20} {}",
            j.id,
            j.state.name(),
            j.step.as_deref().unwrap_or("-"),
            format!("{}/{}", j.attempts, j.max_attempts),
            j.updated_at,
            j.worker.as_deref().unwrap_or("-"),
            j.room
        );
        if let Some(e) = &j.error {
            println!("        error: {e}");
        }
    }
    Ok(())
}
