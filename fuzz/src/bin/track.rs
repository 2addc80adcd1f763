//! The Ogg/Opus track reader, strict and salvaging (what `recover` reads with): any bytes, never
//! a panic, and never a track longer than its packets and the lost pages could hold.
use roomcast::track::{OpusHead, TrackReader};

fn read_all<R: std::io::Read>(mut reader: TrackReader<R>, len: usize) {
    let mut audio = 0u64;
    while let Ok(Some(p)) = reader.next_packet() {
        audio += p.samples as u64;
    }
    // A file of `len` bytes holds at most len/2 packets of 120 ms; its end can be no further.
    let bound = (len as u64 / 2 + 1) * 5760 * 256;
    assert!(reader.end() <= audio.max(1) + bound, "end {} for {audio} samples of audio", reader.end());
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(reader) = TrackReader::new(data) {
            read_all(reader, data.len());
        }
        if let Ok((reader, _)) = TrackReader::new_salvaging(data, &OpusHead::new(2, 312)) {
            read_all(reader, data.len());
        }
    });
}
