//! What the rest of roomcast asks of a library's catalog, whatever holds it.

use std::path::{Path, PathBuf};

use super::jobs::{Claim, Job, JobState, NewJob, QueueCounts};
use super::{Hit, IndexReport, Output, Result, RoomSummary, SearchQuery};
use crate::session::Session;
use crate::transcript::TranscriptDoc;

/// A library's catalog: its rooms, their speakers, segments and outputs, and the full-text index
/// over what was said. Object safe: callers hold a `Box<dyn Catalog>` from `library::open`.
///
/// `Send`, so a server can hand it to blocking threads (behind a mutex: one caller at a time).
pub trait Catalog: Send {
    /// The library folder: `rooms/` for the sessions recorded into the library lives there.
    fn dir(&self) -> &Path;

    /// Indexes a session (and its transcript, if any) as one room, replacing whatever the catalog
    /// held for that room, all at once: publishing again never duplicates, and a failure changes
    /// nothing. A room marked private stays private.
    fn index_room(
        &mut self,
        session: &Session,
        transcript: Option<&TranscriptDoc>,
        outputs: &[Output],
    ) -> Result<IndexReport>;

    /// Takes a room out of the catalog, index included. Returns the session folder it knew, for
    /// the caller to delete. `UnknownRoom` when there is no room `id`.
    fn remove_room(&mut self, id: &str) -> Result<PathBuf>;

    /// Marks a room private (not listed, searched or fed without the token) or public.
    fn set_private(&mut self, id: &str, private: bool) -> Result<()>;

    /// Every room, newest first (then by title). `include_private`: also the rooms marked private.
    fn rooms(&self, include_private: bool) -> Result<Vec<RoomSummary>>;

    /// One room by its exact id, private or not. `UnknownRoom` when there is none.
    fn room(&self, id: &str) -> Result<RoomSummary>;

    /// A room by what a user types: its id, its title (any case), or the start of its id.
    /// `AmbiguousRoom` when that names several.
    fn find_room(&self, key: &str, include_private: bool) -> Result<RoomSummary>;

    /// The best hits for `query`, best first, at most `query.limit` (at least one). The text is
    /// roomcast's query language (`library::query`): `EmptyQuery` or `BadQuery` when it is not.
    fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>>;

    /// Puts a job in the queue, unless the room already has one of that kind waiting or running:
    /// then that one is returned, and `false`.
    fn enqueue(&mut self, job: &NewJob) -> Result<(Job, bool)>;

    /// Claims the oldest job this roomcast can run (queued and due, or running with its lease run
    /// out) for `worker`, with a lease of `lease`. A job whose lease ran out on its last attempt
    /// is marked failed instead. `None` when there is nothing to do.
    fn claim(&mut self, worker: &str, lease: std::time::Duration) -> Result<Option<Claim>>;

    /// Renews a claim's lease (and records the step it is at, when given). `false` when the claim
    /// is no longer this worker's: its lease ran out and the job went to another.
    fn renew(&mut self, claim: &Claim, step: Option<&str>) -> Result<bool>;

    /// Reports a claim's end: done, or failed with `error` (queued again for a retry while it has
    /// attempts left). `None` when the claim was no longer this worker's (nothing is changed).
    fn finish(&mut self, claim: &Claim, error: Option<&str>) -> Result<Option<JobState>>;

    /// The newest `limit` jobs, newest first.
    fn jobs(&self, limit: usize) -> Result<Vec<Job>>;

    /// How many jobs wait or run.
    fn queue_counts(&self) -> Result<QueueCounts>;

    /// A library setting (`retention`'s keys), `None` when it was never set.
    fn setting(&self, key: &str) -> Result<Option<String>>;

    /// Sets a library setting, or clears it with `None`.
    fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<()>;

    /// Where sessions recorded into the library go.
    fn rooms_dir(&self) -> PathBuf {
        self.dir().join(super::ROOMS_DIR)
    }
}

/// A boxed catalog is a catalog: `&mut Box<dyn Catalog>` goes where `&mut dyn Catalog` is asked.
impl<C: Catalog + ?Sized> Catalog for Box<C> {
    fn dir(&self) -> &Path {
        (**self).dir()
    }

    fn index_room(
        &mut self,
        session: &Session,
        transcript: Option<&TranscriptDoc>,
        outputs: &[Output],
    ) -> Result<IndexReport> {
        (**self).index_room(session, transcript, outputs)
    }

    fn remove_room(&mut self, id: &str) -> Result<PathBuf> {
        (**self).remove_room(id)
    }

    fn set_private(&mut self, id: &str, private: bool) -> Result<()> {
        (**self).set_private(id, private)
    }

    fn rooms(&self, include_private: bool) -> Result<Vec<RoomSummary>> {
        (**self).rooms(include_private)
    }

    fn room(&self, id: &str) -> Result<RoomSummary> {
        (**self).room(id)
    }

    fn find_room(&self, key: &str, include_private: bool) -> Result<RoomSummary> {
        (**self).find_room(key, include_private)
    }

    fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        (**self).search(query)
    }

    fn enqueue(&mut self, job: &NewJob) -> Result<(Job, bool)> {
        (**self).enqueue(job)
    }

    fn claim(&mut self, worker: &str, lease: std::time::Duration) -> Result<Option<Claim>> {
        (**self).claim(worker, lease)
    }

    fn renew(&mut self, claim: &Claim, step: Option<&str>) -> Result<bool> {
        (**self).renew(claim, step)
    }

    fn finish(&mut self, claim: &Claim, error: Option<&str>) -> Result<Option<JobState>> {
        (**self).finish(claim, error)
    }

    fn jobs(&self, limit: usize) -> Result<Vec<Job>> {
        (**self).jobs(limit)
    }

    fn queue_counts(&self) -> Result<QueueCounts> {
        (**self).queue_counts()
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        (**self).setting(key)
    }

    fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<()> {
        (**self).set_setting(key, value)
    }

    fn rooms_dir(&self) -> PathBuf {
        (**self).rooms_dir()
    }
}
