//! The job queue in the SQLite catalog: for the workers of one machine. A claim is one write
//! transaction (`BEGIN IMMEDIATE`): SQLite lets one writer in at a time, which is what `FOR UPDATE
//! SKIP LOCKED` gives PostgreSQL's workers. Times are this machine's clock.

use std::time::Duration;

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::SqliteCatalog;
use crate::library::Result;
use crate::library::jobs::{Claim, JOB_FORMAT, Job, JobState, NewJob, QueueCounts, epoch_text, now_epoch, retry_delay};

const COLUMNS: &str = "id, kind, room_id, session, spec, format, state, step, attempts, max_attempts, worker, \
                       error, created_at, updated_at, lease_until";

fn job(r: &Row) -> rusqlite::Result<Job> {
    let state: String = r.get(6)?;
    let spec: String = r.get(4)?;
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        room: r.get(2)?,
        session: r.get::<_, String>(3)?.into(),
        spec: serde_json::from_str(&spec).unwrap_or(serde_json::Value::Null),
        format: r.get(5)?,
        state: JobState::from_name(&state).unwrap_or(JobState::Failed),
        step: r.get(7)?,
        attempts: r.get(8)?,
        max_attempts: r.get(9)?,
        worker: r.get(10)?,
        error: r.get(11)?,
        created_at: epoch_text(r.get(12)?),
        updated_at: epoch_text(r.get(13)?),
        lease_until: r.get::<_, Option<f64>>(14)?.map(epoch_text),
    })
}

impl SqliteCatalog {
    pub(super) fn enqueue(&mut self, new: &NewJob) -> Result<(Job, bool)> {
        let now = now_epoch();
        let path = self.db_path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| super::classify(&path, e))?;
        let created = tx
            .execute(
                "INSERT INTO jobs (kind, room_id, session, spec, format, state, max_attempts, not_before,
                                   created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?7, ?7)
                 ON CONFLICT (room_id, kind) WHERE state IN ('queued', 'running') DO NOTHING",
                params![
                    new.kind,
                    new.room,
                    new.session.to_string_lossy(),
                    new.spec.to_string(),
                    new.format,
                    new.max_attempts,
                    now
                ],
            )
            .map_err(|e| super::classify(&path, e))?
            == 1;
        let job = tx
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM jobs WHERE room_id = ?1 AND kind = ?2
                     AND state IN ('queued', 'running')"
                ),
                params![new.room, new.kind],
                job,
            )
            .map_err(|e| super::classify(&path, e))?;
        tx.commit().map_err(|e| super::classify(&path, e))?;
        Ok((job, created))
    }

    pub(super) fn claim(&mut self, worker: &str, lease: Duration) -> Result<Option<Claim>> {
        let now = now_epoch();
        let path = self.db_path.clone();
        let db = |e| super::classify(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        // A lease that ran out on the last attempt: the job has had its tries.
        tx.execute(
            "UPDATE jobs SET state = 'failed', updated_at = ?1, lease_until = NULL,
                    error = coalesce(error || '; ', '') || 'worker ' || coalesce(worker, '?') || ' stopped renewing its lease'
             WHERE state = 'running' AND lease_until < ?1 AND attempts >= max_attempts",
            params![now],
        )
        .map_err(db)?;
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM jobs
                 WHERE format <= ?2
                   AND ((state = 'queued' AND not_before <= ?1) OR (state = 'running' AND lease_until < ?1))
                 ORDER BY id LIMIT 1",
                params![now, JOB_FORMAT],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        let Some(id) = id else {
            tx.commit().map_err(db)?;
            return Ok(None);
        };
        let job = tx
            .query_row(
                &format!(
                    "UPDATE jobs SET state = 'running', worker = ?2, attempts = attempts + 1, step = NULL,
                            lease_until = ?3, updated_at = ?4
                     WHERE id = ?1 RETURNING {COLUMNS}"
                ),
                params![id, worker, now + lease.as_secs_f64(), now],
                job,
            )
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Some(Claim { job, lease }))
    }

    pub(super) fn renew(&mut self, claim: &Claim, step: Option<&str>) -> Result<bool> {
        let now = now_epoch();
        let n = self
            .conn
            .execute(
                "UPDATE jobs SET lease_until = ?3, step = coalesce(?4, step), updated_at = ?5
                 WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
                params![claim.job.id, claim.attempt(), now + claim.lease.as_secs_f64(), step, now],
            )
            .map_err(|e| self.db_err(e))?;
        Ok(n == 1)
    }

    pub(super) fn finish(&mut self, claim: &Claim, error: Option<&str>) -> Result<Option<JobState>> {
        let now = now_epoch();
        let retry_at = now + retry_delay(claim.attempt()).as_secs_f64();
        let state: Option<String> = self
            .conn
            .query_row(
                "UPDATE jobs SET
                    state = CASE WHEN ?3 IS NULL THEN 'done'
                                 WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                    error = ?3, step = CASE WHEN ?3 IS NULL THEN NULL ELSE step END,
                    lease_until = NULL, not_before = ?4, updated_at = ?5
                 WHERE id = ?1 AND attempts = ?2 AND state = 'running'
                 RETURNING state",
                params![claim.job.id, claim.attempt(), error, retry_at, now],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.db_err(e))?;
        Ok(state.and_then(|s| JobState::from_name(&s)))
    }

    pub(super) fn jobs(&self, limit: usize) -> Result<Vec<Job>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?1"))
            .map_err(|e| self.db_err(e))?;
        let rows = stmt.query_map([limit as i64], job).map_err(|e| self.db_err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.db_err(e))
    }

    pub(super) fn queue_counts(&self) -> Result<QueueCounts> {
        self.conn
            .query_row(
                "SELECT count(*) FILTER (WHERE state = 'queued' AND format <= ?1),
                        count(*) FILTER (WHERE state = 'running'),
                        count(*) FILTER (WHERE state = 'queued' AND format > ?1)
                 FROM jobs WHERE state IN ('queued', 'running')",
                [JOB_FORMAT],
                |r| Ok(QueueCounts { queued: r.get(0)?, running: r.get(1)?, too_new: r.get(2)? }),
            )
            .map_err(|e| self.db_err(e))
    }
}
