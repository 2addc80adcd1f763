//! The job queue in the PostgreSQL catalog, for workers on many machines: a claim locks the oldest
//! due job with `FOR UPDATE SKIP LOCKED` (workers claiming at once each get a different job, none
//! waits for another), and every time is the server's clock (`clock_timestamp()`), so machines
//! whose clocks drift still agree on when a lease ran out.

use std::time::Duration;

use postgres::Row;

use super::{PostgresCatalog, classify};
use crate::library::Result;
use crate::library::jobs::{Claim, JOB_FORMAT, Job, JobState, NewJob, QueueCounts, epoch_text, retry_delay};

const COLUMNS: &str = "id, kind, room_id, session, spec, format, state, step, attempts, max_attempts, worker, \
                       error, created_at, updated_at, lease_until";

/// The server's time, in the queue's unit.
const NOW: &str = "extract(epoch from clock_timestamp())::float8";

fn job(r: &Row) -> Job {
    let spec: String = r.get(4);
    let state: String = r.get(6);
    Job {
        id: r.get(0),
        kind: r.get(1),
        room: r.get(2),
        session: r.get::<_, String>(3).into(),
        spec: serde_json::from_str(&spec).unwrap_or(serde_json::Value::Null),
        format: r.get(5),
        state: JobState::from_name(&state).unwrap_or(JobState::Failed),
        step: r.get(7),
        attempts: r.get(8),
        max_attempts: r.get(9),
        worker: r.get(10),
        error: r.get(11),
        created_at: epoch_text(r.get(12)),
        updated_at: epoch_text(r.get(13)),
        lease_until: r.get::<_, Option<f64>>(14).map(epoch_text),
    }
}

impl PostgresCatalog {
    pub(super) fn enqueue(&mut self, new: &NewJob) -> Result<(Job, bool)> {
        let name = self.name.clone();
        let db = |e| classify(&name, e);
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(db)?;
        let created = tx
            .execute(
                &format!(
                    "INSERT INTO jobs (kind, room_id, session, spec, format, state, max_attempts, not_before,
                                       created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 'queued', $6, {NOW}, {NOW}, {NOW})
                     ON CONFLICT (room_id, kind) WHERE state IN ('queued', 'running') DO NOTHING"
                ),
                &[
                    &new.kind,
                    &new.room,
                    &new.session.to_string_lossy().as_ref(),
                    &new.spec.to_string(),
                    &new.format,
                    &new.max_attempts,
                ],
            )
            .map_err(db)?
            == 1;
        let row = tx
            .query_one(
                &format!(
                    "SELECT {COLUMNS} FROM jobs WHERE room_id = $1 AND kind = $2 AND state IN ('queued', 'running')"
                ),
                &[&new.room, &new.kind],
            )
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok((job(&row), created))
    }

    pub(super) fn claim(&mut self, worker: &str, lease: Duration) -> Result<Option<Claim>> {
        let name = self.name.clone();
        let db = |e| classify(&name, e);
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction().map_err(db)?;
        // A lease that ran out on the last attempt: the job has had its tries.
        tx.execute(
            &format!(
                "UPDATE jobs SET state = 'failed', updated_at = {NOW}, lease_until = NULL,
                        error = coalesce(error || '; ', '') || 'worker ' || coalesce(worker, '?')
                                || ' stopped renewing its lease'
                 WHERE state = 'running' AND lease_until < {NOW} AND attempts >= max_attempts"
            ),
            &[],
        )
        .map_err(db)?;
        let row = tx
            .query_opt(
                &format!(
                    "WITH next AS (
                         SELECT id FROM jobs
                         WHERE format <= $1
                           AND ((state = 'queued' AND not_before <= {NOW})
                                OR (state = 'running' AND lease_until < {NOW}))
                         ORDER BY id LIMIT 1
                         FOR UPDATE SKIP LOCKED)
                     UPDATE jobs j SET state = 'running', worker = $2, attempts = j.attempts + 1, step = NULL,
                            lease_until = {NOW} + $3, updated_at = {NOW}
                     FROM next WHERE j.id = next.id
                     RETURNING {}",
                    COLUMNS.split(", ").map(|c| format!("j.{c}")).collect::<Vec<_>>().join(", ")
                ),
                &[&JOB_FORMAT, &worker, &lease.as_secs_f64()],
            )
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(row.map(|r| Claim { job: job(&r), lease }))
    }

    pub(super) fn renew(&mut self, claim: &Claim, step: Option<&str>) -> Result<bool> {
        let n = self
            .client
            .get_mut()
            .execute(
                &format!(
                    "UPDATE jobs SET lease_until = {NOW} + $3, step = coalesce($4, step), updated_at = {NOW}
                     WHERE id = $1 AND attempts = $2 AND state = 'running'"
                ),
                &[&claim.job.id, &claim.attempt(), &claim.lease.as_secs_f64(), &step],
            )
            .map_err(|e| classify(&self.name, e))?;
        Ok(n == 1)
    }

    pub(super) fn finish(&mut self, claim: &Claim, error: Option<&str>) -> Result<Option<JobState>> {
        let retry = retry_delay(claim.attempt()).as_secs_f64();
        let row = self
            .client
            .get_mut()
            .query_opt(
                &format!(
                    "UPDATE jobs SET
                        state = CASE WHEN $3::text IS NULL THEN 'done'
                                     WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                        error = $3::text, step = CASE WHEN $3::text IS NULL THEN NULL ELSE step END,
                        lease_until = NULL, not_before = {NOW} + $4, updated_at = {NOW}
                     WHERE id = $1 AND attempts = $2 AND state = 'running'
                     RETURNING state"
                ),
                &[&claim.job.id, &claim.attempt(), &error, &retry],
            )
            .map_err(|e| classify(&self.name, e))?;
        Ok(row.and_then(|r| JobState::from_name(r.get(0))))
    }

    pub(super) fn jobs(&self, limit: usize) -> Result<Vec<Job>> {
        let rows = self
            .client
            .borrow_mut()
            .query(&format!("SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1"), &[&(limit as i64)])
            .map_err(|e| classify(&self.name, e))?;
        Ok(rows.iter().map(job).collect())
    }

    pub(super) fn queue_counts(&self) -> Result<QueueCounts> {
        let r = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT count(*) FILTER (WHERE state = 'queued' AND format <= $1),
                        count(*) FILTER (WHERE state = 'running'),
                        count(*) FILTER (WHERE state = 'queued' AND format > $1)
                 FROM jobs WHERE state IN ('queued', 'running')",
                &[&JOB_FORMAT],
            )
            .map_err(|e| classify(&self.name, e))?;
        Ok(QueueCounts { queued: r.get(0), running: r.get(1), too_new: r.get(2) })
    }
}
