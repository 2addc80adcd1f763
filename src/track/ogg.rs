//! Ogg page framing (RFC 3533), sans I/O: pages are built from packets and parsed from bytes.
//!
//! Only what Ogg Opus tracks need: one logical stream per file, whole packets per page when writing,
//! continued packets and resynchronisation when reading (files from other tools, or cut off by a crash).

use std::io::{self, Read};

pub const CAPTURE_PATTERN: &[u8; 4] = b"OggS";
pub const FLAG_CONTINUED: u8 = 0x01;
pub const FLAG_BOS: u8 = 0x02;
pub const FLAG_EOS: u8 = 0x04;
/// A page whose last packet does not end on it has no granule position of its own.
pub const NO_GRANULE: u64 = u64::MAX;
const HEADER_LEN: usize = 27;
/// Lacing values one page can carry.
pub const MAX_SEGMENTS: usize = 255;

/// Ogg's CRC-32: polynomial 0x04c11db7, no reflection, zero init, no final xor.
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut r = (i as u32) << 24;
            let mut bit = 0;
            while bit < 8 {
                r = if r & 0x8000_0000 != 0 { (r << 1) ^ 0x04c1_1db7 } else { r << 1 };
                bit += 1;
            }
            table[i] = r;
            i += 1;
        }
        table
    };
    data.iter().fold(0u32, |crc, &b| (crc << 8) ^ TABLE[((crc >> 24) as u8 ^ b) as usize])
}

/// Lacing values needed to carry a packet of `len` bytes.
pub fn segments_for(len: usize) -> usize {
    len / 255 + 1
}

/// Builds one page holding `packets` whole. The caller keeps the lacing total within [`MAX_SEGMENTS`].
pub fn encode_page(flags: u8, granule: u64, serial: u32, sequence: u32, packets: &[&[u8]]) -> Vec<u8> {
    let mut lacing = Vec::with_capacity(packets.len() * 2);
    for p in packets {
        lacing.extend(std::iter::repeat_n(255u8, p.len() / 255));
        lacing.push((p.len() % 255) as u8);
    }
    debug_assert!(lacing.len() <= MAX_SEGMENTS, "page over 255 segments");
    let body: usize = packets.iter().map(|p| p.len()).sum();
    let mut page = Vec::with_capacity(HEADER_LEN + lacing.len() + body);
    page.extend_from_slice(CAPTURE_PATTERN);
    page.push(0); // stream structure version
    page.push(flags);
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&serial.to_le_bytes());
    page.extend_from_slice(&sequence.to_le_bytes());
    page.extend_from_slice(&[0; 4]); // CRC, filled below
    page.push(lacing.len() as u8);
    page.extend_from_slice(&lacing);
    for p in packets {
        page.extend_from_slice(p);
    }
    let crc = crc32(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

/// One page as read from a file.
#[derive(Debug, Clone)]
pub struct Page {
    pub flags: u8,
    pub granule: u64,
    pub serial: u32,
    pub sequence: u32,
    pub lacing: Vec<u8>,
    pub body: Vec<u8>,
    /// Byte offset of the page in the file.
    pub offset: u64,
}

impl Page {
    pub fn is_bos(&self) -> bool {
        self.flags & FLAG_BOS != 0
    }
    pub fn is_eos(&self) -> bool {
        self.flags & FLAG_EOS != 0
    }
    pub fn is_continued(&self) -> bool {
        self.flags & FLAG_CONTINUED != 0
    }
}

/// What the reader saw that a clean file would not have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadDamage {
    /// Bytes skipped while hunting for the next page (garbage or pages with a bad CRC).
    pub skipped_bytes: u64,
    /// Pages dropped because their checksum did not match.
    pub bad_crc_pages: u64,
    /// The file ended inside a page (a recording cut off by a crash or a full disk).
    pub truncated: bool,
    /// Pages missing by their sequence numbers (lost to damage between the pages that remain).
    pub lost_pages: u64,
    /// Pages dropped as duplicates of, or out of order with, pages already read.
    pub out_of_order_pages: u64,
    /// Pages whose granule position disagreed with their audio and could not be explained by lost
    /// pages (a jump ahead, a negative granule, end trimming beyond the last page); the audio's
    /// own length was trusted instead.
    pub bad_granules: u64,
}

/// Reads pages one by one, resynchronising on the capture pattern after damage.
pub struct PageReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Offset in the file of `buf[0]`.
    buf_offset: u64,
    eof: bool,
    pub damage: ReadDamage,
}

impl<R: Read> PageReader<R> {
    pub fn new(inner: R) -> Self {
        PageReader { inner, buf: Vec::new(), buf_offset: 0, eof: false, damage: ReadDamage::default() }
    }

    /// Makes sure `n` bytes are buffered; false when the input ends first.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        while self.buf.len() < n && !self.eof {
            let mut chunk = [0u8; 16 * 1024];
            let got = match self.inner.read(&mut chunk) {
                Ok(got) => got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if got == 0 {
                self.eof = true;
            } else {
                self.buf.extend_from_slice(&chunk[..got]);
            }
        }
        Ok(self.buf.len() >= n)
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.buf_offset += n as u64;
    }

    /// The next intact page, or `None` at the end of the input.
    pub fn next_page(&mut self) -> io::Result<Option<Page>> {
        loop {
            if !self.fill(HEADER_LEN)? {
                self.note_tail();
                return Ok(None);
            }
            if &self.buf[..4] != CAPTURE_PATTERN || self.buf[4] != 0 {
                self.skip_to_next_capture();
                continue;
            }
            let nsegs = self.buf[26] as usize;
            if !self.fill(HEADER_LEN + nsegs)? {
                self.note_tail();
                return Ok(None);
            }
            let body_len: usize = self.buf[HEADER_LEN..HEADER_LEN + nsegs].iter().map(|&b| b as usize).sum();
            let total = HEADER_LEN + nsegs + body_len;
            if !self.fill(total)? {
                self.note_tail();
                return Ok(None);
            }
            let stored = u32::from_le_bytes([self.buf[22], self.buf[23], self.buf[24], self.buf[25]]);
            let mut check = self.buf[..total].to_vec();
            check[22..26].fill(0);
            if crc32(&check) != stored {
                self.damage.bad_crc_pages += 1;
                self.skip_to_next_capture();
                continue;
            }
            let b = &self.buf;
            let page = Page {
                flags: b[5],
                granule: u64::from_le_bytes(b[6..14].try_into().expect("8 bytes")),
                serial: u32::from_le_bytes(b[14..18].try_into().expect("4 bytes")),
                sequence: u32::from_le_bytes(b[18..22].try_into().expect("4 bytes")),
                lacing: b[HEADER_LEN..HEADER_LEN + nsegs].to_vec(),
                body: b[HEADER_LEN + nsegs..total].to_vec(),
                offset: self.buf_offset,
            };
            self.consume(total);
            return Ok(Some(page));
        }
    }

    /// Drops bytes up to the next capture pattern after the current position.
    fn skip_to_next_capture(&mut self) {
        let next = self.buf[1..].windows(4).position(|w| w == CAPTURE_PATTERN).map(|p| p + 1);
        let n = next.unwrap_or_else(|| self.buf.len().saturating_sub(3));
        self.damage.skipped_bytes += n as u64;
        self.consume(n.max(1).min(self.buf.len()));
    }

    fn note_tail(&mut self) {
        if !self.buf.is_empty() {
            self.damage.truncated = true;
            self.damage.skipped_bytes += self.buf.len() as u64;
            let n = self.buf.len();
            self.consume(n);
        }
    }
}

/// A packet reassembled from one or more pages.
#[derive(Debug, Clone)]
pub struct RawPacket {
    pub data: Vec<u8>,
    /// Granule position of the page on which this packet ends, if it is the last packet ending there.
    pub granule: Option<u64>,
    /// The page this packet ends on has the end-of-stream flag.
    pub eos: bool,
}

/// Turns pages of one logical stream into packets.
pub struct PacketReader<R> {
    pages: PageReader<R>,
    serial: Option<u32>,
    partial: Vec<u8>,
    /// Packets completed on the current page, waiting to be handed out.
    queue: std::collections::VecDeque<RawPacket>,
    /// The sequence number the next page of our stream should carry.
    next_sequence: Option<u32>,
    /// A continued packet was lost because a page in the middle went missing.
    pub lost_continuations: u64,
}

/// A page whose sequence number is at most this far behind the expected one is a duplicate or a
/// late, swapped page and is dropped; further behind, the sequence number itself is damaged and
/// the page is read.
const REORDER_WINDOW: u32 = 8;

impl<R: Read> PacketReader<R> {
    pub fn new(inner: R) -> Self {
        PacketReader {
            pages: PageReader::new(inner),
            serial: None,
            partial: Vec::new(),
            queue: Default::default(),
            next_sequence: None,
            lost_continuations: 0,
        }
    }

    pub fn damage(&self) -> &ReadDamage {
        &self.pages.damage
    }

    pub fn next_packet(&mut self) -> io::Result<Option<RawPacket>> {
        loop {
            if let Some(p) = self.queue.pop_front() {
                return Ok(Some(p));
            }
            let Some(page) = self.pages.next_page()? else {
                return Ok(None);
            };
            // Only the first logical stream is ours; a chained or multiplexed file's others are ignored.
            match self.serial {
                None => self.serial = Some(page.serial),
                Some(s) if s != page.serial => continue,
                Some(_) => {}
            }
            if let Some(expected) = self.next_sequence {
                let behind = expected.wrapping_sub(page.sequence);
                if behind != 0 && behind <= REORDER_WINDOW {
                    self.pages.damage.out_of_order_pages += 1;
                    continue;
                }
                let ahead = page.sequence.wrapping_sub(expected);
                if ahead < u32::MAX / 2 {
                    self.pages.damage.lost_pages += ahead as u64;
                }
            }
            self.next_sequence = Some(page.sequence.wrapping_add(1));
            if !page.is_continued() && !self.partial.is_empty() {
                self.lost_continuations += 1;
                self.partial.clear();
            }
            // A page that continues a packet whose start we never saw (the page before it was lost,
            // or we resynchronised onto it): its leading fragment is not a packet.
            let mut orphan = page.is_continued() && self.partial.is_empty();
            let mut pos = 0usize;
            let mut ended = Vec::new();
            for &lace in &page.lacing {
                let lace = lace as usize;
                self.partial.extend_from_slice(&page.body[pos..pos + lace]);
                pos += lace;
                if lace < 255 {
                    let packet = std::mem::take(&mut self.partial);
                    if orphan {
                        orphan = false;
                        self.lost_continuations += 1;
                    } else {
                        ended.push(packet);
                    }
                }
            }
            let count = ended.len();
            for (i, data) in ended.into_iter().enumerate() {
                let last = i + 1 == count;
                self.queue.push_back(RawPacket {
                    data,
                    granule: (last && page.granule != NO_GRANULE).then_some(page.granule),
                    eos: last && page.is_eos(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_a_page_written_by_libogg() {
        // The OpusHead page opusenc writes for a mono 48 kHz file (serial 0x0000_1234, pre-skip 312).
        let head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00";
        let page = encode_page(FLAG_BOS, 0, 0x1234, 0, &[head]);
        let mut reader = PageReader::new(&page[..]);
        let back = reader.next_page().unwrap().unwrap();
        assert_eq!(back.body, head);
        assert!(back.is_bos());
        assert_eq!(reader.damage, ReadDamage::default());
        // Known CRC of the empty input and of "123456789" for this polynomial (CRC-32/MPEG-2 without
        // init/xorout, the "CRC-32/BZIP2 unreflected, zero init" variant).
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0x89a1_897f);
    }

    #[test]
    fn packets_of_255_multiples_and_continued_pages_reassemble() {
        let a = vec![7u8; 510];
        let b = vec![9u8; 3];
        let page = encode_page(0, 1000, 1, 0, &[&a, &b]);
        let mut r = PacketReader::new(&page[..]);
        assert_eq!(r.next_packet().unwrap().unwrap().data, a);
        let last = r.next_packet().unwrap().unwrap();
        assert_eq!((last.data, last.granule), (b, Some(1000)));
        assert!(r.next_packet().unwrap().is_none());
    }

    #[test]
    fn a_page_cut_off_or_corrupted_is_skipped_and_reported() {
        let p1 = encode_page(FLAG_BOS, 0, 5, 0, &[b"one"]);
        let mut p2 = encode_page(0, 960, 5, 1, &[b"two"]);
        let p3 = encode_page(0, 1920, 5, 2, &[b"three"]);
        p2[30] ^= 0xff; // flip a body byte: CRC no longer matches
        let mut file = [p1, p2, p3.clone()].concat();
        file.extend_from_slice(&p3[..p3.len() - 2]); // a fourth page cut short
        let mut r = PacketReader::new(&file[..]);
        let got: Vec<Vec<u8>> = std::iter::from_fn(|| r.next_packet().unwrap()).map(|p| p.data).collect();
        assert_eq!(got, vec![b"one".to_vec(), b"three".to_vec()]);
        assert_eq!(r.damage().bad_crc_pages, 1);
        assert!(r.damage().truncated);
    }
}
