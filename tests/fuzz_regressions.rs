//! Every input the fuzzers (fuzz/, FUZZING.md) ever crashed on, replayed through the same code:
//! none may panic again. The fuzz builds check integer overflow; release builds wrap instead, so
//! these replays also check what the result must look like.

use std::path::{Path, PathBuf};
use std::time::Duration;

use roomcast::rtp::{Output, Receiver, ReceiverConfig};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

/// The rtp_receiver target's input: records of [u16 length][u16 ms since the last][datagram].
#[test]
fn datagrams_that_once_crashed_the_receiver_are_handled() {
    for (path, data) in inputs("rtp_receiver") {
        let mut receiver = Receiver::new(ReceiverConfig::default(), 1);
        let (mut rest, mut now) = (&data[..], Duration::ZERO);
        let mut outputs = Vec::new();
        while rest.len() >= 4 {
            let len = u16::from_le_bytes([rest[0], rest[1]]) as usize % 1500;
            now += Duration::from_millis(u16::from_le_bytes([rest[2], rest[3]]) as u64 % 2000);
            rest = &rest[4..];
            let datagram = &rest[..len.min(rest.len())];
            rest = &rest[datagram.len()..];
            receiver.handle_datagram(datagram, now);
            receiver.handle_timeout(now);
            outputs.extend(std::iter::from_fn(|| receiver.poll_output()));
        }
        let end = now + Duration::from_secs(120);
        receiver.finish(end);
        outputs.extend(std::iter::from_fn(|| receiver.poll_output()));
        // Talking and quiet events stay on the room clock as it ran.
        let limit = (end.as_secs_f64() * 48_000.0) as u64 + 48_000 * 3600;
        for o in &outputs {
            if let Output::Talking { at, .. } | Output::StoppedTalking { at, .. } = o {
                assert!(*at < limit, "{}: {o:?}", path.display());
            }
        }
    }
}

#[test]
fn tracks_that_once_crashed_the_reader_are_read() {
    for (_, data) in inputs("track") {
        if let Ok(mut reader) = roomcast::track::TrackReader::new(&data[..]) {
            while let Ok(Some(_)) = reader.next_packet() {}
        }
        let fallback = roomcast::track::OpusHead::new(2, 312);
        if let Ok((mut reader, _)) = roomcast::track::TrackReader::new_salvaging(&data[..], &fallback) {
            while let Ok(Some(_)) = reader.next_packet() {}
        }
    }
}

#[test]
fn transcripts_that_once_crashed_the_import_are_parsed_or_refused() {
    let mut room = roomcast::session::Room::new("r".into(), "r".into(), "import:".into(), chrono::Utc::now());
    room.duration = 600.0;
    room.speakers.push(roomcast::session::Speaker {
        id: "maya".into(),
        name: "Maya".into(),
        track: "tracks/maya.opus".into(),
        intervals: vec![],
        origin: None,
    });
    for (path, data) in inputs("transcript_import") {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let Ok(segments) = roomcast::transcript::import::parse(text) else { continue };
        if let Ok(attached) = roomcast::transcript::import::attach(&room, segments, true) {
            for s in &attached.doc.segments {
                assert!(s.start >= 0.0 && s.end <= 600.0, "{}: {} - {}", path.display(), s.start, s.end);
            }
        }
    }
}

/// The pg_connection target's checks: settings, or an error on one line, whatever was typed.
#[test]
fn connection_strings_that_once_crashed_the_parser_give_one_line_errors() {
    use roomcast::library::postgres::{ConnInfo, conninfo};
    let inputs = inputs("pg_connection");
    assert!(!inputs.is_empty(), "the fuzzer's finds are kept in fuzz/regressions/pg_connection");
    for (path, data) in inputs {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let shown = conninfo::redact(text);
        match ConnInfo::parse(text) {
            Err(e) => assert!(!e.to_string().contains('\n'), "{}: {e}", path.display()),
            Ok(info) => {
                let again = ConnInfo::parse(&shown).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                for (keyword, value) in info.settings() {
                    match again.get(keyword) {
                        Some("***" | "") | None if keyword == "password" => {}
                        found => assert_eq!(found, Some(value), "{}: {keyword} shown as {shown:?}", path.display()),
                    }
                }
            }
        }
    }
}

/// The show_json target's checks: an accepted show.json has one-line fields, whatever was in it.
#[test]
fn show_files_that_once_crashed_the_feed_give_one_line_fields() {
    let inputs = inputs("show_json");
    assert!(!inputs.is_empty(), "the fuzzer's finds are kept in fuzz/regressions/show_json");
    for (path, data) in inputs {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let Ok(show) = roomcast::feed::Show::from_json(text) else { continue };
        for field in [&show.title, &show.author, &show.category, &show.language] {
            assert!(!field.chars().any(char::is_control), "{}: {field:?}", path.display());
        }
    }
}
