//! Per-speaker tracks: Ogg Opus files (RFC 7845) whose granule positions run on the room clock.
//!
//! Positions here are *stream samples*: 48 kHz samples counted from the first decoded sample, the unit
//! of Ogg Opus granule positions. Room time is stream samples minus the track's pre-skip, so every
//! track starts at room time 0 and a player or DAW lines the tracks up without any metadata of ours.

pub mod ogg;
pub mod opus;

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use thiserror::Error;

use self::ogg::{FLAG_BOS, FLAG_EOS, MAX_SEGMENTS, PacketReader, ReadDamage, encode_page, segments_for};
pub use self::opus::{FRAME_20MS, OpusHead, OpusTags, SAMPLE_RATE, is_silence_frame, packet_samples};

#[derive(Debug, Error)]
pub enum TrackError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Header(#[from] opus::HeaderError),
    #[error("bad Opus packet: {0}")]
    Packet(#[from] opus::PacketError),
    #[error("file holds no Ogg pages")]
    Empty,
    #[error("Opus packet of {0} bytes is too large for one Ogg page")]
    TooLarge(usize),
}

/// Room-clock flushing: a page is closed once it holds this much audio, so a crash loses at most
/// about a second.
pub const PAGE_SAMPLES: u64 = SAMPLE_RATE as u64;

/// Writes one speaker's Opus packets, bit for bit, into an Ogg Opus stream.
pub struct TrackWriter<W: Write> {
    out: W,
    serial: u32,
    sequence: u32,
    channels: u8,
    pre_skip: u64,
    /// Stream samples appended so far (end of the last packet).
    granule: u64,
    /// Packets not yet on a page, with the stream position at which each ends. The last one is always
    /// held back so that `finish` can mark it end-of-stream.
    pending: Vec<(Vec<u8>, u64)>,
    pending_segments: usize,
    /// Stream position at which the current page started collecting.
    page_start: u64,
    pub stats: WriterStats,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriterStats {
    pub packets: u64,
    pub silence_frames: u64,
    pub pages: u64,
}

impl<W: Write> TrackWriter<W> {
    /// Writes the two header pages and flushes them, so even an empty recording is a valid file.
    pub fn new(mut out: W, head: &OpusHead, tags: &OpusTags, serial: u32) -> io::Result<Self> {
        out.write_all(&encode_page(FLAG_BOS, 0, serial, 0, &[&head.to_bytes()]))?;
        // The comment header has a page of its own, so it must fit one: 255 lacing values.
        let tags = tags.fitted(MAX_SEGMENTS * 255 - 1).to_bytes();
        out.write_all(&encode_page(0, 0, serial, 1, &[&tags]))?;
        out.flush()?;
        Ok(TrackWriter {
            out,
            serial,
            sequence: 2,
            channels: head.channels,
            pre_skip: head.pre_skip as u64,
            granule: 0,
            pending: Vec::new(),
            pending_segments: 0,
            page_start: 0,
            stats: WriterStats { pages: 2, ..Default::default() },
        })
    }

    /// Stream position (granule) where the next packet will start.
    pub fn position(&self) -> u64 {
        self.granule
    }

    /// Room-clock position where the next packet will start, in 48 kHz samples.
    pub fn room_position(&self) -> u64 {
        self.granule.saturating_sub(self.pre_skip)
    }

    pub fn pre_skip(&self) -> u64 {
        self.pre_skip
    }

    /// Appends a packet exactly as given, right after the previous one.
    pub fn append(&mut self, packet: &[u8]) -> Result<(), TrackError> {
        let samples = packet_samples(packet)? as u64;
        if segments_for(packet.len()) > MAX_SEGMENTS {
            return Err(TrackError::TooLarge(packet.len()));
        }
        if self.pending_segments + segments_for(packet.len()) > MAX_SEGMENTS
            || self.granule - self.page_start >= PAGE_SAMPLES
        {
            self.emit_page(false)?;
        }
        self.granule += samples;
        self.pending_segments += segments_for(packet.len());
        self.pending.push((packet.to_vec(), self.granule));
        self.stats.packets += 1;
        Ok(())
    }

    /// Fills with 20 ms silence frames up to `stream_pos` (to the nearest frame), so that the next
    /// packet starts there.
    pub fn fill_silence_to(&mut self, stream_pos: u64) -> Result<(), TrackError> {
        let silence = opus::silence_frame(self.channels);
        while self.granule + FRAME_20MS / 2 < stream_pos {
            self.append(silence)?;
            self.stats.silence_frames += 1;
        }
        Ok(())
    }

    /// Places a packet at `stream_pos`, filling any gap before it with silence. A packet that would
    /// start before the end of the previous one is appended right after it instead.
    pub fn write_at(&mut self, stream_pos: u64, packet: &[u8]) -> Result<(), TrackError> {
        self.fill_silence_to(stream_pos)?;
        self.append(packet)
    }

    /// Puts everything but the last packet on a page and hands it to the OS: at most the last 20 ms
    /// of audio stay in memory. Live recording calls this at least once a second.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.pending.len() > 1 {
            self.emit_page(false)?;
        }
        self.out.flush()
    }

    /// Writes the last page with the end-of-stream flag. With `room_end`, the track is filled with
    /// silence to that room time and trimmed to it exactly (RFC 7845 end trimming).
    pub fn finish(mut self, room_end: Option<u64>) -> Result<W, TrackError> {
        let mut end_granule = self.granule;
        if let Some(room_end) = room_end {
            let target = room_end + self.pre_skip;
            let silence = opus::silence_frame(self.channels);
            while self.granule < target {
                self.append(silence)?;
                self.stats.silence_frames += 1;
            }
            end_granule = target;
        }
        if self.pending.is_empty() {
            // A track with no audio at all still needs one packet to carry the end of stream.
            self.append(opus::silence_frame(self.channels))?;
            self.stats.silence_frames += 1;
        }
        // End trimming may only cut into the last page's own audio.
        let last_page_start = self.pending.first().map(|(p, end)| end - packet_samples(p).unwrap_or(0) as u64);
        let floor = last_page_start.unwrap_or(0).max(self.pre_skip).min(self.granule);
        self.granule = end_granule.max(floor).min(self.granule);
        self.emit_page(true)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn emit_page(&mut self, last: bool) -> io::Result<()> {
        let keep = if last { 0 } else { 1.min(self.pending.len()) };
        let take = self.pending.len() - keep;
        if take == 0 {
            return Ok(());
        }
        let granule = if last { self.granule } else { self.pending[take - 1].1 };
        let packets: Vec<&[u8]> = self.pending[..take].iter().map(|(p, _)| p.as_slice()).collect();
        let page = encode_page(if last { FLAG_EOS } else { 0 }, granule, self.serial, self.sequence, &packets);
        self.out.write_all(&page)?;
        self.sequence += 1;
        self.stats.pages += 1;
        self.pending.drain(..take);
        self.pending_segments = self.pending.iter().map(|(p, _)| segments_for(p.len())).sum();
        self.page_start = granule;
        Ok(())
    }
}

/// One packet read back from a track, with where it sits in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackPacket {
    pub data: Vec<u8>,
    /// Stream position (granule) of its first sample.
    pub start: u64,
    pub samples: u32,
}

/// Reads a track packet by packet; tolerant of damage: a truncated last page or a corrupt page
/// loses only what it held, and positions stay right from the granules of the pages that remain.
pub struct TrackReader<R> {
    packets: PacketReader<R>,
    pub head: OpusHead,
    pub tags: OpusTags,
    position: u64,
    /// Packets of the current page, with positions resolved.
    ready: std::collections::VecDeque<TrackPacket>,
    /// Stream position where the track ends (the last granule seen, end trimming included).
    end: u64,
    done: bool,
    unmeasurable: u64,
    bad_granules: u64,
    /// An audio packet read while looking for headers that were lost, read again first.
    pushback: Option<ogg::RawPacket>,
    /// Damage counters when the last page group ended: what was lost since bounds a granule jump.
    damage_seen: (u64, u64),
    pub saw_eos: bool,
}

/// The most audio one Ogg page can hold: 255 packets of 120 ms.
const MAX_PAGE_SAMPLES: u64 = 255 * MAX_PACKET_SAMPLES;
/// The longest Opus packet (120 ms), and the fewest bytes it takes on a page (a lacing value and
/// a TOC byte): lost bytes bound the audio they can have held.
const MAX_PACKET_SAMPLES: u64 = 5760;
const MIN_PACKET_BYTES: u64 = 2;

impl TrackReader<BufReader<File>> {
    pub fn open(path: &Path) -> Result<Self, TrackError> {
        Self::new(BufReader::with_capacity(64 * 1024, File::open(path)?))
    }
}

impl<R: Read> TrackReader<R> {
    pub fn new(inner: R) -> Result<Self, TrackError> {
        let mut packets = PacketReader::new(inner);
        let first = packets.next_packet()?.ok_or(TrackError::Empty)?;
        let head = OpusHead::parse(&first.data)?;
        let second = packets.next_packet()?.ok_or(opus::HeaderError::NoTags)?;
        let tags = OpusTags::parse(&second.data)?;
        Ok(Self::after_headers(packets, head, tags, None))
    }

    /// A reader positioned after the header packets, damage counted from here on.
    fn after_headers(
        packets: PacketReader<R>,
        head: OpusHead,
        tags: OpusTags,
        pushback: Option<ogg::RawPacket>,
    ) -> Self {
        let damage_seen = (packets.damage().lost_pages, packets.damage().skipped_bytes);
        TrackReader {
            packets,
            head,
            tags,
            position: 0,
            ready: Default::default(),
            end: 0,
            done: false,
            unmeasurable: 0,
            bad_granules: 0,
            pushback,
            damage_seen,
            saw_eos: false,
        }
    }

    /// Like [`TrackReader::new`], but damaged or missing headers do not stop the read: what cannot
    /// be parsed is replaced by `fallback` (pre-skip kept from a damaged OpusHead where its bytes
    /// are there) or by default tags, and the audio is read as usual. Returns which headers were
    /// rebuilt. The caller decides the channel count from the audio where the head was rebuilt.
    pub fn new_salvaging(inner: R, fallback: &OpusHead) -> Result<(Self, Vec<&'static str>), TrackError> {
        let mut packets = PacketReader::new(inner);
        let first = packets.next_packet()?.ok_or(TrackError::Empty)?;
        let mut rebuilt = Vec::new();
        let mut pushback = None;
        let (head, tags_packet) = match OpusHead::parse(&first.data) {
            Ok(head) => (head, packets.next_packet()?),
            Err(_) => {
                rebuilt.push("OpusHead");
                let mut head = fallback.clone();
                if first.data.starts_with(b"OpusHead") && first.data.len() >= 12 {
                    head.pre_skip = u16::from_le_bytes([first.data[10], first.data[11]]);
                    (head, packets.next_packet()?)
                } else {
                    // The identification page is gone: this packet is the tags, or already audio.
                    (head, Some(first))
                }
            }
        };
        let default_tags = || OpusTags::new(format!("roomcast {}", env!("CARGO_PKG_VERSION")));
        let tags = match tags_packet.map(|p| (OpusTags::parse(&p.data), p)) {
            Some((Ok(tags), _)) => tags,
            Some((Err(_), p)) => {
                rebuilt.push("OpusTags");
                if !p.data.starts_with(b"OpusTags") {
                    pushback = Some(p);
                }
                default_tags()
            }
            None => {
                rebuilt.push("OpusTags");
                default_tags()
            }
        };
        let reader = Self::after_headers(packets, head, tags, pushback);
        Ok((reader, rebuilt))
    }

    /// What the reader met that a clean file would not have: the page layer's findings plus
    /// granule positions it did not trust.
    pub fn damage(&self) -> ReadDamage {
        ReadDamage { bad_granules: self.bad_granules, ..self.packets.damage().clone() }
    }

    /// Packets lost to damage: continued across a lost page, or unmeasurable.
    pub fn lost_packets(&self) -> u64 {
        self.packets.lost_continuations + self.unmeasurable
    }

    /// Stream position where the packets read so far end, after end trimming.
    pub fn end(&self) -> u64 {
        self.end
    }

    pub fn next_packet(&mut self) -> Result<Option<TrackPacket>, TrackError> {
        while self.ready.is_empty() && !self.done {
            self.read_page_group()?;
        }
        Ok(self.ready.pop_front())
    }

    /// Reads packets up to the next one that carries a granule (the end of a page) and places them.
    fn read_page_group(&mut self) -> Result<(), TrackError> {
        let mut group = Vec::new();
        let mut granule = None;
        let mut eos = false;
        loop {
            let raw = match self.pushback.take() {
                Some(raw) => Some(raw),
                None => self.packets.next_packet()?,
            };
            let Some(raw) = raw else {
                self.done = true;
                break;
            };
            // A packet we cannot measure is damage: skip it rather than misplace the rest.
            match packet_samples(&raw.data) {
                Ok(samples) => group.push((raw.data, samples)),
                Err(_) => self.unmeasurable += 1,
            }
            if raw.granule.is_some() || raw.eos {
                granule = raw.granule;
                eos = raw.eos;
                break;
            }
        }
        let total: u64 = group.iter().map(|(_, s)| *s as u64).sum();
        let damage = self.packets.damage();
        let lost = (damage.lost_pages - self.damage_seen.0, damage.skipped_bytes - self.damage_seen.1);
        self.damage_seen = (damage.lost_pages, damage.skipped_bytes);
        if let Some(g) = granule {
            let ends = self.position + total;
            if g > ends {
                // A granule ahead of the audio means pages were lost in between, and only as much
                // audio as those pages can have held: the pages missing by sequence number, and
                // the bytes skipped over. Anything further is a damaged granule (a jump of 2^40 or
                // a negative one), not hours of silence.
                let could_hold = (lost.0 * MAX_PAGE_SAMPLES).min(lost.1 / MIN_PACKET_BYTES * MAX_PACKET_SAMPLES);
                if g - ends <= could_hold {
                    self.position = g - total;
                } else {
                    self.bad_granules += 1;
                }
            } else if g <= self.position && total > 0 && !eos {
                // The whole page lies before where the track already is: a copy of audio already
                // read (a duplicated or replayed page), not more of it.
                self.bad_granules += 1;
                return Ok(());
            }
        }
        for (data, samples) in group {
            self.ready.push_back(TrackPacket { data, start: self.position, samples });
            self.position += samples as u64;
        }
        self.end = match granule {
            // End trimming (RFC 7845) cuts into the last page's own audio, never further back.
            Some(g) if eos || self.done => {
                let floor = self.position - total;
                if g < floor {
                    self.bad_granules += 1;
                }
                g.clamp(floor, self.position)
            }
            _ => self.position,
        };
        if eos {
            self.saw_eos = true;
            self.done = true;
        }
        Ok(())
    }
}

/// Everything about a track short of its audio.
#[derive(Debug, Clone)]
pub struct TrackInfo {
    pub head: OpusHead,
    pub tags: OpusTags,
    pub packets: u64,
    pub silence_frames: u64,
    /// Room-clock length in 48 kHz samples (final granule minus pre-skip).
    pub room_samples: u64,
    pub complete: bool,
    pub damage: ReadDamage,
}

impl TrackInfo {
    pub fn duration_secs(&self) -> f64 {
        self.room_samples as f64 / SAMPLE_RATE as f64
    }
}

/// Reads a whole track to learn its length and health.
pub fn probe(path: &Path) -> Result<TrackInfo, TrackError> {
    let mut reader = TrackReader::open(path)?;
    let (mut packets, mut silence) = (0, 0);
    while let Some(p) = reader.next_packet()? {
        packets += 1;
        silence += is_silence_frame(&p.data) as u64;
    }
    Ok(TrackInfo {
        room_samples: reader.end().saturating_sub(reader.head.pre_skip as u64),
        head: reader.head.clone(),
        tags: reader.tags.clone(),
        packets,
        silence_frames: silence,
        complete: reader.saw_eos && !reader.damage().truncated,
        damage: reader.damage(),
    })
}

/// Copies a track packet for packet, except that every packet overlapping one of `spans` (room
/// time, in 48 kHz samples) becomes silence frames: what `roomcast redact` publishes in place of a
/// speaker's own track, which it keeps as recorded. Positions stay the original's, so the copy
/// lines up with the room like every track. Returns how many packets were silenced.
pub fn redacted_copy<W: Write>(path: &Path, out: W, spans: &[(u64, u64)]) -> Result<(W, u64), TrackError> {
    let mut reader = TrackReader::open(path)?;
    let pre_skip = reader.head.pre_skip as u64;
    let mut writer = TrackWriter::new(out, &reader.head, &reader.tags, 1)?;
    let mut silenced = 0;
    while let Some(p) = reader.next_packet()? {
        let start = p.start.saturating_sub(pre_skip);
        let end = start + p.samples as u64;
        if spans.iter().any(|&(a, b)| start < b && end > a) {
            // Skipped: the silence before the next kept packet (and at the end) fills its time.
            silenced += 1;
            continue;
        }
        writer.write_at(p.start, &p.data)?;
    }
    let room_end = reader.end().saturating_sub(pre_skip);
    Ok((writer.finish(Some(room_end))?, silenced))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn celt_20ms(fill: u8, len: usize) -> Vec<u8> {
        let mut p = vec![fill; len];
        p[0] = 0xF8;
        p
    }

    fn read_all(bytes: &[u8]) -> (TrackReader<&[u8]>, Vec<TrackPacket>) {
        let mut r = TrackReader::new(bytes).unwrap();
        let mut v = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            v.push(p);
        }
        (r, v)
    }

    #[test]
    fn packets_come_back_bit_exact_at_their_room_positions() {
        let head = OpusHead::new(1, 312);
        let mut w = TrackWriter::new(Vec::new(), &head, &OpusTags::new("t"), 7).unwrap();
        let a = celt_20ms(1, 80);
        let b = celt_20ms(2, 300);
        w.write_at(312 + 960 * 3, &a).unwrap(); // speaker starts 60 ms into the room
        w.append(&b).unwrap();
        w.write_at(312 + 960 * 100, &a).unwrap(); // a 1.9 s pause (DTX or loss)
        let bytes = w.finish(Some(960 * 150)).unwrap();
        let (r, packets) = read_all(&bytes);
        let audio: Vec<_> = packets.iter().filter(|p| !is_silence_frame(&p.data)).collect();
        assert_eq!(audio.len(), 3);
        // Silence fills whole 20 ms frames, so a packet lands on the frame nearest to where it was
        // asked for (stream positions; room time is these minus the pre-skip).
        assert_eq!((audio[0].data.clone(), audio[0].start), (a.clone(), 2880));
        assert!(audio[0].start.abs_diff(312 + 2880) <= 480);
        assert_eq!((audio[1].data.clone(), audio[1].start), (b, 3840));
        assert_eq!(audio[2].start, 96_000);
        assert_eq!(r.end() - 312, 960 * 150, "track is trimmed to the room's end exactly");
        assert!(r.saw_eos);
    }

    #[test]
    fn pages_close_every_second_so_a_crash_loses_little() {
        let mut w = TrackWriter::new(Vec::new(), &OpusHead::new(1, 0), &OpusTags::new("t"), 1).unwrap();
        for _ in 0..250 {
            w.append(&celt_20ms(3, 40)).unwrap(); // 5 s
        }
        w.flush().unwrap();
        let bytes = w.out.clone();
        // Cut the file in the middle of the last page, as a crash or kill -9 would.
        let cut = &bytes[..bytes.len() - 7];
        let (r, packets) = read_all(cut);
        let kept = packets.len() as u64 * 960;
        assert!(kept >= 4 * 48_000, "lost more than about a second: kept {kept} samples");
        assert!(r.damage().truncated && !r.saw_eos);
    }

    #[test]
    fn silence_fill_rounds_to_whole_frames_and_never_moves_backwards() {
        let mut w = TrackWriter::new(Vec::new(), &OpusHead::new(2, 0), &OpusTags::new("t"), 1).unwrap();
        w.write_at(1000, &celt_20ms(4, 10)).unwrap(); // 1000 is 1.04 frames: one silence frame first
        assert_eq!(w.position(), 1920);
        w.write_at(0, &celt_20ms(4, 10)).unwrap(); // late packet: appended, not overlapped
        assert_eq!(w.position(), 2880);
        assert_eq!(w.stats.silence_frames, 1);
        let bytes = w.finish(None).unwrap();
        let (_, packets) = read_all(&bytes);
        assert_eq!(packets[0].data, opus::SILENCE_STEREO);
    }
}
