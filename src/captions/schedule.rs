//! What whisper runs next when several speakers talk and the CPU cannot keep up with all of them:
//! final captions first, oldest first, never dropped while memory allows; partials only when no
//! final waits, one per speaker at most (a newer request replaces the older one, which counts as
//! skipped). Sans I/O: jobs in, jobs out.

use std::collections::VecDeque;

/// A final caption to make: the utterance's audio is copied when it ends, as the speaker's
/// buffer moves on while the job waits.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalJob {
    pub speaker: String,
    pub utterance: u64,
    pub start: f64,
    pub end: f64,
    /// 16 kHz mono, from `start` to `end`.
    pub audio: Vec<f32>,
}

/// A partial caption wanted for the utterance going on; its audio is taken when it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialJob {
    pub speaker: String,
    pub utterance: u64,
    pub start: f64,
    /// When it was asked for, on the room clock.
    pub asked: f64,
}

/// What to run next.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    Final(FinalJob),
    Partial(PartialJob),
}

/// The most finals that wait: past this, the oldest is dropped (and said), so a machine that
/// cannot keep up at all holds bounded memory (each holds up to 20 s of audio, 1.3 MB).
pub const MAX_WAITING_FINALS: usize = 64;

#[derive(Debug, Default)]
pub struct Scheduler {
    finals: VecDeque<FinalJob>,
    partials: Vec<PartialJob>,
    pub skipped_partials: u64,
    pub dropped_finals: u64,
}

impl Scheduler {
    /// An utterance ended. Its pending partial is no longer wanted. Returns a final dropped to
    /// make room, if one was.
    pub fn final_due(&mut self, job: FinalJob) -> Option<FinalJob> {
        self.partials.retain(|p| p.utterance != job.utterance);
        self.finals.push_back(job);
        if self.finals.len() > MAX_WAITING_FINALS {
            self.dropped_finals += 1;
            return self.finals.pop_front();
        }
        None
    }

    /// A partial is due for an utterance going on; replaces the speaker's older request.
    pub fn partial_due(&mut self, job: PartialJob) {
        if let Some(old) = self.partials.iter_mut().find(|p| p.speaker == job.speaker) {
            self.skipped_partials += 1;
            // The older request's place in line is kept: a speaker is not pushed back for talking on.
            let asked = old.asked;
            *old = PartialJob { asked, ..job };
        } else {
            self.partials.push(job);
        }
    }

    /// The next job: the oldest final, else the partial asked for longest ago.
    pub fn next_job(&mut self) -> Option<Job> {
        if let Some(f) = self.finals.pop_front() {
            return Some(Job::Final(f));
        }
        let oldest = self.partials.iter().enumerate().min_by(|a, b| a.1.asked.total_cmp(&b.1.asked))?.0;
        Some(Job::Partial(self.partials.remove(oldest)))
    }

    /// How far behind captions are at room time `now`: since the end of the oldest utterance that
    /// waits for its final caption (0 when none waits).
    pub fn behind(&self, now: f64) -> f64 {
        self.finals.front().map_or(0.0, |f| (now - f.end).max(0.0))
    }

    pub fn waiting_finals(&self) -> usize {
        self.finals.len()
    }

    pub fn is_idle(&self) -> bool {
        self.finals.is_empty() && self.partials.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fin(speaker: &str, utterance: u64, end: f64) -> FinalJob {
        FinalJob { speaker: speaker.into(), utterance, start: end - 2.0, end, audio: Vec::new() }
    }

    fn partial(speaker: &str, utterance: u64, asked: f64) -> PartialJob {
        PartialJob { speaker: speaker.into(), utterance, start: asked - 1.0, asked }
    }

    #[test]
    fn finals_come_first_oldest_first_and_a_final_retires_its_partial() {
        let mut s = Scheduler::default();
        s.partial_due(partial("maya", 1, 5.0));
        s.partial_due(partial("theo", 2, 4.0));
        s.final_due(fin("theo", 2, 6.0));
        s.final_due(fin("priya", 3, 6.5));
        assert!(matches!(s.next_job(), Some(Job::Final(f)) if f.utterance == 2));
        assert!(matches!(s.next_job(), Some(Job::Final(f)) if f.utterance == 3));
        assert!(matches!(s.next_job(), Some(Job::Partial(p)) if p.speaker == "maya"));
        assert_eq!(s.next_job(), None);
    }

    #[test]
    fn a_speaker_has_one_partial_waiting_and_replaced_ones_count_as_skipped() {
        let mut s = Scheduler::default();
        s.partial_due(partial("maya", 1, 2.0));
        s.partial_due(partial("theo", 2, 3.0));
        s.partial_due(partial("maya", 1, 4.0));
        assert_eq!(s.skipped_partials, 1);
        let Some(Job::Partial(p)) = s.next_job() else { panic!("a partial") };
        assert_eq!((p.speaker.as_str(), p.asked), ("maya", 2.0), "keeps its place in line");
    }

    #[test]
    fn how_far_behind_is_the_oldest_waiting_final_and_memory_stays_bounded() {
        let mut s = Scheduler::default();
        assert_eq!(s.behind(10.0), 0.0);
        for i in 0..(MAX_WAITING_FINALS as u64 + 3) {
            s.final_due(fin("maya", i, i as f64));
        }
        assert_eq!(s.waiting_finals(), MAX_WAITING_FINALS);
        assert_eq!(s.dropped_finals, 3);
        assert_eq!(s.behind(100.0), 97.0);
    }
}
