//! The terminal progress bar: shown on a terminal, hidden when stderr is a pipe or with --json.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use roomcast::progress::{Progress, Unit};

pub struct TermProgress {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl TermProgress {
    pub fn new(json: bool) -> Self {
        TermProgress { enabled: !json && std::io::stderr().is_terminal(), bar: Mutex::new(None) }
    }
}

impl Progress for TermProgress {
    fn begin(&self, stage: &str, total: u64) {
        self.begin_in(stage, total, Unit::Items)
    }

    fn begin_in(&self, stage: &str, total: u64, unit: Unit) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(total.max(1));
        let template = match unit {
            Unit::Items => "{msg:>20} [{bar:32}] {percent:>3}%  {elapsed} elapsed, ETA {eta}",
            Unit::Bytes => "{msg:>20} [{bar:32}] {bytes}/{total_bytes}  {bytes_per_sec}, ETA {eta}",
            Unit::AudioMs => "{msg:>20} [{bar:32}] {percent:>3}%  {audio_rate}, {elapsed} elapsed, ETA {eta}",
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .with_key("audio_rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    // The units are milliseconds of audio: seconds of audio per second of work.
                    let _ = write!(w, "{:.1} s of audio/s", state.per_sec() / 1000.0);
                })
                .progress_chars("=> "),
        );
        bar.set_message(stage.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, units: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(units);
        }
    }

    fn end(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
