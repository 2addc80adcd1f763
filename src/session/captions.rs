//! captions.jsonl: the live captions of a room, one JSON object per line, appended as they are
//! decided while the room is recorded. A partial caption is provisional (a later line of the same
//! utterance replaces it); a final one is never changed or taken back. The file is the contract
//! between whoever captions (the recorder) and whoever shows them (the web server, the library),
//! which may be different processes or machines sharing the sessions' storage.
//!
//! Each line carries `seq`, its number in the file from 0: what a Server-Sent Events client
//! resumes from. A recorder killed mid-write leaves at worst a torn last line, which readers skip
//! (and count) like any line that is not a caption.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::transcript::{Segment, Word, ms};
use super::{Result, io_err};

/// One line of captions.jsonl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaptionLine {
    /// What a speaker is saying so far: replaced by the next line of the same utterance.
    Partial(Caption),
    /// What a speaker said: never changed. An empty text takes back the utterance's partials
    /// (it turned out to be no speech).
    Final(Caption),
    /// Something about the captions themselves, for whoever watches (they fell behind, partials
    /// were skipped, captions are off).
    Note { seq: u64, at: f64, text: String },
    /// The recording stopped: no more lines come.
    End { seq: u64, at: f64 },
}

/// A caption of one utterance of one speaker, on the room clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Caption {
    pub seq: u64,
    /// The utterance it belongs to (numbered per room): a final replaces the partials with its
    /// number.
    pub utterance: u64,
    /// The speaker's id in the session, and their name as the room showed it.
    pub speaker: String,
    pub name: String,
    #[serde(serialize_with = "serialize_ms")]
    pub start: f64,
    #[serde(serialize_with = "serialize_ms")]
    pub end: f64,
    pub text: String,
    /// Word times, on final captions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// When it was decided, on the room clock.
    #[serde(serialize_with = "serialize_ms")]
    pub at: f64,
}

fn serialize_ms<S: serde::Serializer>(seconds: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(ms(*seconds))
}

impl CaptionLine {
    pub fn seq(&self) -> u64 {
        match self {
            CaptionLine::Partial(c) | CaptionLine::Final(c) => c.seq,
            CaptionLine::Note { seq, .. } | CaptionLine::End { seq, .. } => *seq,
        }
    }

    /// The name of the line's kind, as Server-Sent Events name their events.
    pub fn kind(&self) -> &'static str {
        match self {
            CaptionLine::Partial(_) => "partial",
            CaptionLine::Final(_) => "final",
            CaptionLine::Note { .. } => "note",
            CaptionLine::End { .. } => "end",
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a caption serializes")
    }
}

/// captions.jsonl opened for appending while a room is recorded.
pub struct CaptionLog {
    file: File,
    path: PathBuf,
    next: u64,
}

impl CaptionLog {
    /// Creates the file (or continues one a recorder left: numbering goes on after its last
    /// whole line).
    pub fn open(path: &Path) -> Result<Self> {
        let next = read_from(path, 0).map(|r| r.lines.last().map_or(0, |l| l.seq() + 1)).unwrap_or(0);
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io_err(path))?;
        Ok(CaptionLog { file, path: path.to_path_buf(), next })
    }

    /// The number the next line gets.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Appends a line, numbering it; one write each, so a crash tears at most the line being
    /// written. Returns the line as written.
    pub fn append(&mut self, mut line: CaptionLine) -> Result<CaptionLine> {
        let seq = self.next;
        match &mut line {
            CaptionLine::Partial(c) | CaptionLine::Final(c) => c.seq = seq,
            CaptionLine::Note { seq: s, .. } | CaptionLine::End { seq: s, .. } => *s = seq,
        }
        let mut text = line.to_json();
        text.push('\n');
        self.file.write_all(text.as_bytes()).map_err(io_err(&self.path))?;
        self.next += 1;
        Ok(line)
    }
}

/// What a read of captions.jsonl found from some byte offset on.
#[derive(Debug, Default)]
pub struct CaptionRead {
    pub lines: Vec<CaptionLine>,
    /// Lines that are not captions (garbage, a line torn by a crash followed by others), skipped.
    pub bad: usize,
    /// Where the next read starts: after the last whole line (a last line without its newline may
    /// still be being written, and is read next time).
    pub offset: u64,
}

/// Reads the whole lines of captions.jsonl from byte `offset` on. A missing file reads as empty.
pub fn read_from(path: &Path, offset: u64) -> Result<CaptionRead> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(CaptionRead { offset, ..Default::default() }),
        Err(e) => return Err(io_err(path)(e)),
    };
    file.seek(SeekFrom::Start(offset)).map_err(io_err(path))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io_err(path))?;
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut read = CaptionRead { offset: offset + whole as u64, ..Default::default() };
    for raw in bytes[..whole].split(|&b| b == b'\n') {
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<CaptionLine>(raw) {
            Ok(line) => read.lines.push(line),
            Err(_) => read.bad += 1,
        }
    }
    Ok(read)
}

/// The final captions as transcript segments, in the order they were said (empty ones, which
/// took back partials, left out).
pub fn final_segments(lines: &[CaptionLine]) -> Vec<Segment> {
    let mut segments: Vec<Segment> = lines
        .iter()
        .filter_map(|l| match l {
            CaptionLine::Final(c) if !c.text.trim().is_empty() => Some(Segment {
                speaker: c.speaker.clone(),
                name: c.name.clone(),
                start: c.start,
                end: c.end,
                text: c.text.clone(),
                words: c.words.clone(),
                overlap: false,
            }),
            _ => None,
        })
        .collect();
    segments.sort_by(|a, b| a.start.total_cmp(&b.start));
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caption(utterance: u64, text: &str) -> Caption {
        Caption {
            seq: 0,
            utterance,
            speaker: "maya".into(),
            name: "Maya".into(),
            start: 1.0,
            end: 2.5,
            text: text.into(),
            words: Vec::new(),
            language: Some("en".into()),
            at: 3.1,
        }
    }

    #[test]
    fn lines_are_numbered_appended_and_read_back_from_where_a_reader_left_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("captions.jsonl");
        let mut log = CaptionLog::open(&path).unwrap();
        log.append(CaptionLine::Partial(caption(0, "hello"))).unwrap();
        log.append(CaptionLine::Final(caption(0, "hello there"))).unwrap();
        let first = read_from(&path, 0).unwrap();
        assert_eq!(first.lines.iter().map(CaptionLine::seq).collect::<Vec<_>>(), [0, 1]);
        log.append(CaptionLine::End { seq: 0, at: 9.0 }).unwrap();
        let next = read_from(&path, first.offset).unwrap();
        assert_eq!(next.lines, [CaptionLine::End { seq: 2, at: 9.0 }]);
        // A recorder that starts again on the same file goes on numbering.
        let mut again = CaptionLog::open(&path).unwrap();
        assert_eq!(again.append(CaptionLine::Note { seq: 0, at: 1.0, text: "x".into() }).unwrap().seq(), 3);
    }

    #[test]
    fn a_torn_or_garbage_line_is_skipped_and_counted_and_a_half_written_one_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("captions.jsonl");
        let good = CaptionLine::Final(caption(0, "kept")).to_json();
        std::fs::write(
            &path,
            format!("{good}\n{{\"kind\":\"final\",\"seq\":1,\"utt\nnot json\n{good}\n{{\"kind\":\"par"),
        )
        .unwrap();
        let read = read_from(&path, 0).unwrap();
        assert_eq!(read.lines.len(), 2);
        assert_eq!(read.bad, 2);
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(read.offset < len, "the unfinished last line is read next time");
        assert_eq!(final_segments(&read.lines).len(), 2);
    }
}
