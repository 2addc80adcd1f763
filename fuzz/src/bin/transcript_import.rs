//! WebVTT, SRT, Podcasting 2.0 JSON and roomcast JSON transcripts from elsewhere: parsed and
//! attached to a room, or refused, never a panic; attached cues lie within the room.
use roomcast::session::{Room, Speaker};
use roomcast::transcript::import;

fn main() {
    let mut room = Room::new("r".into(), "r".into(), "import:".into(), chrono::Utc::now());
    room.duration = 600.0;
    room.speakers.push(Speaker { id: "maya".into(), name: "Maya".into(), track: "tracks/maya.opus".into(), intervals: vec![], origin: None });
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let Ok(segments) = import::parse(text) else { return };
        if let Ok(attached) = import::attach(&room, segments, true) {
            for s in &attached.doc.segments {
                assert!(s.start >= 0.0 && s.end <= 600.0, "{} - {}", s.start, s.end);
            }
        }
    });
}
