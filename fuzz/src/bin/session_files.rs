//! room.json and events.jsonl as anyone could edit them: parsed or refused, never a panic.
use std::path::Path;

use roomcast::session::{Room, events};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let path = Path::new("room.json");
        if let Ok(text) = std::str::from_utf8(data) {
            if let Ok(room) = Room::from_json(path, text) {
                // A room that parses has times date arithmetic can use.
                let _ = room.started_at + chrono::Duration::milliseconds((room.duration * 1000.0) as i64);
            }
        }
        if let Ok(list) = events::parse(Path::new("events.jsonl"), data) {
            let _ = events::markers(&list);
        }
    });
}
