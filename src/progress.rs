//! How long-running stages report progress. The library only calls this trait; the terminal bar
//! lives in the CLI, so library users and tests stay quiet.

/// What a stage counts, so a display can show its rate in the right terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Items,
    Bytes,
    /// Milliseconds of audio: shown as seconds of audio done per second.
    AudioMs,
}

pub trait Progress: Send + Sync {
    /// A new stage of `total` units (whatever the stage counts: milliseconds of audio, bytes).
    fn begin(&self, stage: &str, total: u64);
    /// `begin`, saying what the units are.
    fn begin_in(&self, stage: &str, total: u64, _unit: Unit) {
        self.begin(stage, total)
    }
    fn advance(&self, units: u64);
    fn end(&self);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn end(&self) {}
}
