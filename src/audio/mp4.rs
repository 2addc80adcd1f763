//! Just enough ISO BMFF (MP4/M4A) reading to find an AAC track's priming samples.
//!
//! AAC encoders start with 1024-2112 samples of priming that players skip because the track's edit
//! list (`elst`) says so. symphonia 0.5 does not apply edit lists, so an imported M4A would be late by
//! that much (46 ms at 22 kHz): roomcast reads the edit list itself and drops the priming.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Frames at `sample_rate` before the first audio track's presentation starts, per its edit list
/// (whose media time is in the track's `mdhd` timescale); `None` when there is none or no MP4.
pub fn priming_samples(path: &Path, sample_rate: u32) -> Option<u64> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let moov = find_box(&mut f, 0, len, b"moov")?;
    let mut at = moov.0;
    while let Some(trak) = find_box(&mut f, at, moov.1, b"trak") {
        at = trak.1;
        let Some(mdia) = find_box(&mut f, trak.0, trak.1, b"mdia") else { continue };
        let Some(hdlr) = find_box(&mut f, mdia.0, mdia.1, b"hdlr") else { continue };
        let mut handler = [0u8; 12];
        f.seek(SeekFrom::Start(hdlr.0)).ok()?;
        f.read_exact(&mut handler).ok()?;
        if &handler[8..12] != b"soun" {
            continue;
        }
        let mdhd = find_box(&mut f, mdia.0, mdia.1, b"mdhd")?;
        f.seek(SeekFrom::Start(mdhd.0)).ok()?;
        let mut v = [0u8; 1];
        f.read_exact(&mut v).ok()?;
        // version 0: flags(3) created(4) modified(4) timescale(4); version 1: 8-byte times.
        f.seek(SeekFrom::Start(mdhd.0 + if v[0] == 1 { 20 } else { 12 })).ok()?;
        let mut ts = [0u8; 4];
        f.read_exact(&mut ts).ok()?;
        let timescale = u32::from_be_bytes(ts).max(1) as u64;
        let edts = find_box(&mut f, trak.0, trak.1, b"edts")?;
        let elst = find_box(&mut f, edts.0, edts.1, b"elst")?;
        f.seek(SeekFrom::Start(elst.0)).ok()?;
        let mut head = [0u8; 8];
        f.read_exact(&mut head).ok()?;
        let (version, count) = (head[0], u32::from_be_bytes([head[4], head[5], head[6], head[7]]));
        // Skip empty edits (media_time -1); the first real one says where the media starts.
        for _ in 0..count.min(16) {
            let media_time = if version == 1 {
                let mut e = [0u8; 20];
                f.read_exact(&mut e).ok()?;
                i64::from_be_bytes(e[8..16].try_into().ok()?)
            } else {
                let mut e = [0u8; 12];
                f.read_exact(&mut e).ok()?;
                i32::from_be_bytes(e[4..8].try_into().ok()?) as i64
            };
            if media_time >= 0 {
                return Some(media_time as u64 * sample_rate as u64 / timescale);
            }
        }
        return None;
    }
    None
}

/// Finds a child box of type `kind` between `start` and `end`; returns its payload range.
fn find_box(f: &mut File, start: u64, end: u64, kind: &[u8; 4]) -> Option<(u64, u64)> {
    let mut at = start;
    while at + 8 <= end {
        f.seek(SeekFrom::Start(at)).ok()?;
        let mut h = [0u8; 8];
        f.read_exact(&mut h).ok()?;
        let mut size = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let mut header = 8;
        if size == 1 {
            let mut big = [0u8; 8];
            f.read_exact(&mut big).ok()?;
            size = u64::from_be_bytes(big);
            header = 16;
        } else if size == 0 {
            size = end - at;
        }
        if size < header {
            return None;
        }
        if &h[4..8] == kind {
            return Some((at + header, (at + size).min(end)));
        }
        at += size;
    }
    None
}
