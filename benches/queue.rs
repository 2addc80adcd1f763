//! The job queue's own cost per job, without the work: in process, through the library API the
//! worker uses (`enqueue`, `claim`, `renew`, `finish`), on each library given (a folder: SQLite; a
//! postgres:// URL: PostgreSQL). Run by benches/workers.sh, on fresh libraries:
//!
//!   cargo bench --bench queue -- [--jobs N] [--threads 1,2,4] [--repeat R] LIBRARY [LIBRARY...]
//!
//! For each library and thread count T, R rounds (each with jobs of its own; a shared machine's
//! noise shows as the spread between them): T threads (each with its own catalog, as separate
//! workers have) enqueue N jobs between them, then claim them concurrently, each claim followed by
//! one renewal (with a step) and the finish, until the queue is empty. Prints per operation p50/p99/max,
//! per job (enqueue + claim + renew + finish) p50/p99/max, the claim phase's throughput (claimed,
//! renewed and finished jobs per second), and checks that no job was claimed twice and that every
//! job ended done after one attempt. Then, on one thread: opening a catalog (the worker opens one
//! per job for its lease heartbeat, and publishing opens another) and an idle poll (a claim that
//! finds nothing, then the queue counts: what an idle worker does every --poll).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use roomcast::library::{self, Access, JobState, NewJob};

const LEASE: Duration = Duration::from_secs(30);
const IDLE_POLLS: usize = 200;
const OPENS: usize = 50;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn p50_p99(v: &[f64]) -> String {
    let s = sorted(v.to_vec());
    format!("{:.2} / {:.2}", percentile(&s, 0.5), percentile(&s, 0.99))
}

fn p50_p99_max(v: &[f64]) -> String {
    let s = sorted(v.to_vec());
    format!("{} / {:.0}", p50_p99(&s), s.last().copied().unwrap_or(f64::NAN))
}

fn backend(location: &Path) -> &'static str {
    if library::postgres::is_connection_string(location) { "PostgreSQL" } else { "SQLite" }
}

/// One claimed job, as its thread timed it.
struct Done {
    id: i64,
    claim: f64,
    renew: f64,
    finish: f64,
}

struct Round {
    threads: usize,
    enqueue: HashMap<i64, f64>,
    done: Vec<Done>,
    /// The claim phase, from the first claim to the last finish.
    wall: f64,
    claimed_twice: usize,
    not_done: usize,
}

fn round(location: &Path, threads: usize, jobs: usize, tag: &str) -> Round {
    // Enqueue: the threads share the jobs out, each on its own catalog.
    let enqueue: HashMap<i64, f64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut lib = library::open(location, Access::Write).expect("open the library");
                    let mut times = Vec::new();
                    for i in (t..jobs).step_by(threads) {
                        let new = NewJob {
                            kind: "publish".into(),
                            room: format!("{tag}-{i:05}"),
                            session: PathBuf::from(format!("/nonexistent/queue-bench/{tag}-{i:05}")),
                            spec: serde_json::json!({"formats": ["wav"], "skip_transcribe": true,
                                                     "model": "tiny.en", "language": "en"}),
                            format: library::jobs::JOB_FORMAT,
                            max_attempts: library::jobs::MAX_ATTEMPTS,
                        };
                        let t0 = Instant::now();
                        let (job, created) = lib.enqueue(&new).expect("enqueue");
                        times.push((job.id, ms(t0)));
                        assert!(created, "{}: a new job", new.room);
                    }
                    times
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("enqueue thread")).collect()
    });
    assert_eq!(enqueue.len(), jobs, "every enqueue made its own job");

    // Claim, renew, finish, until nothing is left.
    let start = Instant::now();
    let done: Vec<Done> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut lib = library::open(location, Access::Write).expect("open the library");
                    let worker = format!("bench-{tag}-{t}");
                    let mut done = Vec::new();
                    loop {
                        let t0 = Instant::now();
                        let Some(claim) = lib.claim(&worker, LEASE).expect("claim") else {
                            // SKIP LOCKED passes over jobs another claim holds this instant: only
                            // an empty queue ends the thread.
                            if lib.queue_counts().expect("queue counts").queued == 0 {
                                break;
                            }
                            continue;
                        };
                        let claim_ms = ms(t0);
                        let t1 = Instant::now();
                        assert!(lib.renew(&claim, Some("master")).expect("renew"), "job {}: renewed", claim.job.id);
                        let renew_ms = ms(t1);
                        let t2 = Instant::now();
                        let state = lib.finish(&claim, None).expect("finish");
                        let finish_ms = ms(t2);
                        assert_eq!(state, Some(JobState::Done), "job {}: finished", claim.job.id);
                        done.push(Done { id: claim.job.id, claim: claim_ms, renew: renew_ms, finish: finish_ms });
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("claim thread")).collect()
    });
    let wall = start.elapsed().as_secs_f64();

    let mut seen: HashMap<i64, usize> = HashMap::new();
    for d in &done {
        *seen.entry(d.id).or_default() += 1;
    }
    let claimed_twice = seen.values().filter(|&&n| n > 1).count();
    // What the queue itself says: every job of this round done, after one attempt.
    let lib = library::open(location, Access::Read).expect("open the library");
    let listed = lib.jobs(1_000_000).expect("jobs");
    let ours: Vec<_> = listed.iter().filter(|j| j.room.starts_with(&format!("{tag}-"))).collect();
    assert_eq!(ours.len(), jobs, "the queue lists every job of the round");
    let not_done = ours.iter().filter(|j| j.state != JobState::Done || j.attempts != 1).count();
    Round { threads, enqueue, done, wall, claimed_twice, not_done }
}

/// Opening a catalog, and an idle poll, on one thread.
fn singles(location: &Path) -> (Vec<f64>, Vec<f64>) {
    let opens = (0..OPENS)
        .map(|_| {
            let t = Instant::now();
            let lib = library::open(location, Access::Write).expect("open the library");
            let took = ms(t);
            drop(lib);
            took
        })
        .collect();
    let mut lib = library::open(location, Access::Write).expect("open the library");
    let polls = (0..IDLE_POLLS)
        .map(|_| {
            let t = Instant::now();
            assert!(lib.claim("bench-idle", LEASE).expect("claim").is_none(), "the queue is empty");
            lib.queue_counts().expect("queue counts");
            ms(t)
        })
        .collect();
    (opens, polls)
}

fn main() {
    let mut jobs = 500usize;
    let mut threads = vec![1usize, 2, 4];
    let mut repeat = 1usize;
    let mut libraries = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--jobs" => jobs = args.next().and_then(|n| n.parse().ok()).expect("--jobs N"),
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).expect("--repeat R"),
            "--threads" => {
                threads = args
                    .next()
                    .map(|s| s.split(',').map(|n| n.parse().expect("--threads 1,2,4")).collect())
                    .expect("--threads 1,2,4")
            }
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            _ => libraries.push(PathBuf::from(a)),
        }
    }
    if libraries.is_empty() {
        eprintln!("usage: cargo bench --bench queue -- [--jobs N] [--threads 1,2,4] [--repeat R] LIBRARY [LIBRARY...]");
        std::process::exit(2);
    }

    println!(
        "Queue overhead: {jobs} jobs per round; each claim renewed once (with a step) and finished; \
         times in ms, p50 / p99 / max; each thread its own catalog (connection)."
    );
    println!();
    println!(
        "| backend | threads | round | enqueue | claim | renew | finish | per job (all four) | claim phase: jobs/s | \
         claimed twice | not done after 1 attempt |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut extra = Vec::new();
    for location in &libraries {
        for (t, n) in threads.iter().flat_map(|&t| (1..=repeat).map(move |n| (t, n))) {
            let r = round(location, t, jobs, &format!("q{t}r{n}p{}", std::process::id()));
            let enq: Vec<f64> = r.enqueue.values().copied().collect();
            let claim: Vec<f64> = r.done.iter().map(|d| d.claim).collect();
            let renew: Vec<f64> = r.done.iter().map(|d| d.renew).collect();
            let finish: Vec<f64> = r.done.iter().map(|d| d.finish).collect();
            let per_job: Vec<f64> = r
                .done
                .iter()
                .map(|d| r.enqueue.get(&d.id).copied().unwrap_or(0.0) + d.claim + d.renew + d.finish)
                .collect();
            println!(
                "| {} | {} | {n} | {} | {} | {} | {} | {} | {:.0} | {} | {} |",
                backend(location),
                r.threads,
                p50_p99_max(&enq),
                p50_p99_max(&claim),
                p50_p99_max(&renew),
                p50_p99_max(&finish),
                p50_p99_max(&per_job),
                r.done.len() as f64 / r.wall,
                r.claimed_twice,
                r.not_done,
            );
            if r.claimed_twice > 0 || r.not_done > 0 || r.done.len() != jobs {
                eprintln!(
                    "queue bench: {}: {} claims for {jobs} jobs, {} claimed twice, {} not done after one attempt",
                    backend(location),
                    r.done.len(),
                    r.claimed_twice,
                    r.not_done
                );
                std::process::exit(1);
            }
        }
        extra.push((backend(location), singles(location)));
    }
    println!();
    println!(
        "| backend | open a catalog (ms, p50 / p99 of {OPENS}) | idle poll: empty claim + queue counts (ms, p50 / p99 of {IDLE_POLLS}) |"
    );
    println!("|---|---|---|");
    for (name, (opens, polls)) in extra {
        println!("| {name} | {} | {} |", p50_p99(&opens), p50_p99(&polls));
    }
}
