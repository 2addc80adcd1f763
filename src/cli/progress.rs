//! The terminal progress bar: shown on a terminal, hidden when stderr is a pipe or with --json.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use roomcast::progress::Progress;

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
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(total.max(1));
        bar.set_style(
            ProgressStyle::with_template("{msg:>20} [{bar:32}] {percent:>3}%  {elapsed} elapsed, ETA {eta}")
                .expect("valid template")
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
