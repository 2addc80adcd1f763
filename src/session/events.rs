//! events.jsonl: one JSON object per line, appended as the room goes on, times on the room clock.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Result, SessionError, io_err};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds on the room clock.
    pub t: f64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EventKind {
    Joined {
        speaker: String,
    },
    Left {
        speaker: String,
    },
    Talking {
        speaker: String,
    },
    StoppedTalking {
        speaker: String,
    },
    Muted {
        speaker: String,
    },
    Unmuted {
        speaker: String,
    },
    /// A chapter start or bookmark (recorded live, imported, or added later by `roomcast chapter`).
    Marker {
        title: String,
    },
    /// A soundbite (`roomcast clip`): from `t` to `end`, at most a minute, published as
    /// `podcast:soundbite` and shown on the room's page.
    Soundbite {
        end: f64,
        title: String,
    },
    /// An audit line: words and audio taken out of everything the room published, from `t` to
    /// `end`, for one speaker (by id) or all. `at`: when, on the wall clock (RFC 3339).
    Redacted {
        end: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        speaker: Option<String>,
        at: String,
    },
    /// An audit line: a speaker's display name changed (`roomcast speakers --rename/--merge`).
    Renamed {
        speaker: String,
        from: String,
        to: String,
        at: String,
    },
    /// An audit line: a speaker withdrew consent; their track, words and audio were removed.
    Withdrawn {
        speaker: String,
        at: String,
    },
}

pub fn append(path: &Path, event: &Event) -> Result<()> {
    let mut line = serde_json::to_string(event).expect("event serializes");
    line.push('\n');
    // One write per line in append mode: concurrent appenders and crashes never interleave halves.
    let mut f = OpenOptions::new().create(true).append(true).open(path).map_err(io_err(path))?;
    f.write_all(line.as_bytes()).map_err(io_err(path))
}

/// An events.jsonl kept open while a room is recorded: lines are gathered and written together on
/// `flush` (the recorder flushes with its tracks, at least once a second), one write each time, so a
/// crash cuts at most a line that the reader then ignores.
pub struct EventLog {
    file: File,
    path: std::path::PathBuf,
    pending: String,
}

impl EventLog {
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io_err(path))?;
        Ok(EventLog { file, path: path.to_path_buf(), pending: String::new() })
    }

    pub fn push(&mut self, event: &Event) {
        self.pending.push_str(&serde_json::to_string(event).expect("event serializes"));
        self.pending.push('\n');
    }

    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self.file.write_all(self.pending.as_bytes()).map_err(io_err(&self.path));
        self.pending.clear();
        result
    }
}

/// Reads every event. A last line cut off by a crash is ignored; a bad line elsewhere is an error.
pub fn read(path: &Path) -> Result<Vec<Event>> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut bytes = Vec::new();
    BufReader::new(f).read_to_end(&mut bytes).map_err(io_err(path))?;
    parse(path, &bytes)
}

/// events.jsonl's content (read from `path`, named in errors): a last line torn by a crash is
/// dropped, any other bad line is an error.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Event>> {
    // Split raw bytes: a line torn by a crash may end inside a multi-byte character.
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let mut events = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        match serde_json::from_slice::<Event>(line) {
            Ok(e) => events.push(e),
            Err(_) if i + 1 == lines.len() => break,
            Err(e) => {
                return Err(SessionError::Invalid { path: path.to_path_buf(), reason: format!("line {}: {e}", i + 1) });
            }
        }
    }
    Ok(events)
}

/// Chapter markers in room order.
pub fn markers(events: &[Event]) -> Vec<(f64, String)> {
    let mut m: Vec<(f64, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Marker { title } => Some((e.t, title.clone())),
            _ => None,
        })
        .collect();
    m.sort_by(|a, b| a.0.total_cmp(&b.0));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_append_and_a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        append(&path, &Event { t: 1.5, kind: EventKind::Joined { speaker: "ana".into() } }).unwrap();
        append(&path, &Event { t: 0.0, kind: EventKind::Marker { title: "Intro".into() } }).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"t\":1.5,\"type\":\"joined\",\"speaker\":\"ana\"}\n"));
        let mut torn = format!("{text}{{\"t\":2,\"type\":\"joined\",\"speaker\":\"Ana Mar").into_bytes();
        torn.push(0xC3); // the first byte of "í", cut off
        std::fs::write(&path, torn).unwrap();
        let events = read(&path).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(markers(&events), vec![(0.0, "Intro".to_string())]);
    }
}
