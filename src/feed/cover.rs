//! Cover art for a show that names none: Apple Podcasts lists no show without `itunes:image`, so
//! roomcast draws a square PNG from the show's title. Plain data in, PNG bytes out, the same bytes
//! for the same title: a background colour derived from the title, the title in large letters,
//! wrapped and centred, and an accent bar under it.
//!
//! The letters are the 8x8 bitmap font of the `font8x8` crate, scaled up: no font file is read from
//! the system, so a server without fonts draws the same cover. The image is indexed (three flat
//! colours, two bits a pixel), which keeps a 3000x3000 cover to a few tens of kilobytes.

use font8x8::UnicodeFonts;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// The cover's side in pixels: the largest Apple accepts (1400 to 3000), so it stays sharp on any
/// screen.
pub const COVER_SIZE: u32 = 3000;

/// The file the cover is served and published as, beside feed.xml.
pub const COVER_FILE: &str = "cover.png";

/// Space kept clear around the title, in pixels (Apple crops nothing, but apps round the corners).
const MARGIN: u32 = 300;
/// Scales tried for the letters, in pixels per font pixel: the largest the title fits at wins.
const MAX_SCALE: u32 = 48;
const MIN_SCALE: u32 = 6;
/// A glyph is 8 font pixels wide and high; lines are 3 font pixels apart.
const GLYPH: u32 = 8;
const LINE: u32 = 11;

/// Drawn for a character the font has no glyph for (most CJK, emoji): an empty box, so the title
/// keeps its length and nothing panics.
const MISSING: [u8; 8] = [0x7E, 0x42, 0x42, 0x42, 0x42, 0x42, 0x7E, 0x00];

/// Palette indices.
const BACKGROUND: u8 = 0;
const TEXT: u8 = 1;
const ACCENT: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum CoverError {
    #[error("cover art: cannot encode the PNG: {0}")]
    Encode(#[from] png::EncodingError),
}

/// The cover for `title` as PNG bytes, `COVER_SIZE` pixels square.
pub fn cover_png(title: &str) -> Result<Vec<u8>, CoverError> {
    let (background, accent) = colours(title);
    let text = [0xF7, 0xF4, 0xEC];
    let pixels = draw(title, COVER_SIZE);
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, COVER_SIZE, COVER_SIZE);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Two);
        encoder.set_palette([background, text, accent].concat());
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pack(&pixels, COVER_SIZE))?;
        writer.finish()?;
    }
    Ok(out)
}

/// The background and accent colours: a hue from the title's hash, dark enough that light letters
/// read on it at any hue.
fn colours(title: &str) -> ([u8; 3], [u8; 3]) {
    let hash = Sha256::digest(title.as_bytes());
    let hue = f64::from(u16::from_be_bytes([hash[0], hash[1]]) % 360);
    (hsl(hue, 0.55, 0.30), hsl((hue + 35.0) % 360.0, 0.75, 0.62))
}

fn hsl(h: f64, s: f64, l: f64) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [byte(r), byte(g), byte(b)]
}

/// The title as lines of words, each word as the characters drawn for it.
fn words(title: &str) -> Vec<Vec<char>> {
    let title: String = title.nfc().filter(|c| !c.is_control() || c.is_whitespace()).collect();
    let title = if title.trim().is_empty() { "roomcast".to_string() } else { title };
    title.split_whitespace().map(|w| w.chars().collect()).collect()
}

/// Greedy wrapping into lines of at most `cols` characters. `None` when a word is longer than a
/// line and `break_words` is false.
fn wrap(words: &[Vec<char>], cols: usize, break_words: bool) -> Option<Vec<Vec<char>>> {
    let mut lines: Vec<Vec<char>> = Vec::new();
    let mut line: Vec<char> = Vec::new();
    for word in words {
        if word.len() > cols && !break_words {
            return None;
        }
        for piece in word.chunks(cols.max(1)) {
            if !line.is_empty() && line.len() + 1 + piece.len() > cols {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.extend_from_slice(piece);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    Some(lines)
}

/// The largest scale the title fits at inside the margins, and its lines. A title too long even at
/// the smallest scale is cut, and ends in "...".
fn layout(title: &str, size: u32) -> (u32, Vec<Vec<char>>) {
    let words = words(title);
    let room = size.saturating_sub(2 * MARGIN);
    let fits = |scale: u32, break_words: bool| {
        let cols = (room / (GLYPH * scale)) as usize;
        let max_lines = ((room + (LINE - GLYPH) * scale) / (LINE * scale)) as usize;
        wrap(&words, cols, break_words).filter(|lines| lines.len() <= max_lines)
    };
    // Whole words first: "Conversations" cut in two reads worse than smaller letters.
    for break_words in [false, true] {
        if let Some((scale, lines)) = (MIN_SCALE..=MAX_SCALE).rev().find_map(|s| fits(s, break_words).map(|l| (s, l))) {
            return (scale, lines);
        }
    }
    let cols = (room / (GLYPH * MIN_SCALE)) as usize;
    let max_lines = ((room + (LINE - GLYPH) * MIN_SCALE) / (LINE * MIN_SCALE)) as usize;
    let mut lines = wrap(&words, cols, true).unwrap_or_default();
    lines.truncate(max_lines);
    if let Some(last) = lines.last_mut() {
        last.truncate(cols.saturating_sub(3));
        last.extend_from_slice(&['.', '.', '.']);
    }
    (MIN_SCALE, lines)
}

fn glyph(c: char) -> [u8; 8] {
    let fonts: [&dyn UnicodeFonts; 5] = [
        &font8x8::BASIC_FONTS,
        &font8x8::LATIN_FONTS,
        &font8x8::GREEK_FONTS,
        &font8x8::HIRAGANA_FONTS,
        &font8x8::BOX_FONTS,
    ];
    fonts.iter().find_map(|f| f.get(c)).unwrap_or(MISSING)
}

/// The cover as one palette index per pixel, row by row.
fn draw(title: &str, size: u32) -> Vec<u8> {
    let mut pixels = vec![BACKGROUND; (size * size) as usize];
    let (scale, lines) = layout(title, size);
    let mut fill = |x: u32, y: u32, w: u32, h: u32, index: u8| {
        for row in y..(y + h).min(size) {
            let start = (row * size + x.min(size)) as usize;
            let end = (row * size + (x + w).min(size)) as usize;
            pixels[start..end].fill(index);
        }
    };
    let bar_height = 2 * scale;
    let gap = 3 * scale;
    let text_height = lines.len() as u32 * LINE * scale - (LINE - GLYPH) * scale;
    let top = size.saturating_sub(text_height + gap + bar_height) / 2;
    for (i, line) in lines.iter().enumerate() {
        let width = line.len() as u32 * GLYPH * scale;
        let left = size.saturating_sub(width) / 2;
        let y = top + i as u32 * LINE * scale;
        for (j, &c) in line.iter().enumerate() {
            if c == ' ' {
                continue;
            }
            let x = left + j as u32 * GLYPH * scale;
            // font8x8: one byte a row, the lowest bit the leftmost pixel.
            for (r, bits) in glyph(c).iter().enumerate() {
                for col in 0..GLYPH {
                    if bits >> col & 1 == 1 {
                        fill(x + col * scale, y + r as u32 * scale, scale, scale, TEXT);
                    }
                }
            }
        }
    }
    let bar_width = size / 4;
    fill((size - bar_width) / 2, top + text_height + gap, bar_width, bar_height, ACCENT);
    pixels
}

/// Palette indices packed two bits a pixel, each row starting on a byte (PNG's layout).
fn pack(pixels: &[u8], size: u32) -> Vec<u8> {
    let row_bytes = (size as usize).div_ceil(4);
    let mut out = vec![0u8; row_bytes * size as usize];
    for (y, row) in pixels.chunks(size as usize).enumerate() {
        for (x, &p) in row.iter().enumerate() {
            out[y * row_bytes + x / 4] |= p << (6 - 2 * (x % 4));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png_bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info, buf)
    }

    #[test]
    fn the_cover_is_a_square_png_of_apples_largest_size_and_small() {
        let bytes = cover_png("Room Notes").unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (info, _) = decode(&bytes);
        assert_eq!((info.width, info.height), (3000, 3000));
        assert!(bytes.len() < 200_000, "flat colours keep it small: {} bytes", bytes.len());
    }

    #[test]
    fn the_same_title_draws_the_same_cover_and_another_title_another() {
        let a = cover_png("Room Notes").unwrap();
        assert_eq!(a, cover_png("Room Notes").unwrap());
        assert_ne!(a, cover_png("Room Notes 2").unwrap());
        assert_ne!(colours("Room Notes"), colours("Another Show"));
    }

    #[test]
    fn the_title_is_drawn_large_and_centred() {
        let pixels = draw("Room Notes", COVER_SIZE);
        let text: Vec<(u32, u32)> = pixels
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == TEXT)
            .map(|(i, _)| (i as u32 % COVER_SIZE, i as u32 / COVER_SIZE))
            .collect();
        let (min_x, max_x) = (text.iter().map(|p| p.0).min().unwrap(), text.iter().map(|p| p.0).max().unwrap());
        let (min_y, max_y) = (text.iter().map(|p| p.1).min().unwrap(), text.iter().map(|p| p.1).max().unwrap());
        assert!(min_x >= MARGIN && max_x < COVER_SIZE - MARGIN, "inside the margins: {min_x}..{max_x}");
        assert!(max_x - min_x > COVER_SIZE / 2, "large: {min_x}..{max_x}");
        assert!(max_y - min_y > COVER_SIZE / 5, "two big lines: {min_y}..{max_y}");
        let centre = (min_x + max_x) / 2;
        assert!(centre.abs_diff(COVER_SIZE / 2) < 3 * MAX_SCALE, "centred: {centre}");
    }

    #[test]
    fn long_and_non_ascii_titles_are_drawn_without_panicking() {
        for title in [
            "Café Ñandú — naïve Ünïcödé",
            "東京の会議 🎙️ room",
            "e\u{301}\u{301}\u{301}",
            "",
            "   \t\n ",
            &"Antidisestablishmentarianism".repeat(3),
            &"a very long title ".repeat(200),
        ] {
            let (scale, lines) = layout(title, COVER_SIZE);
            assert!((MIN_SCALE..=MAX_SCALE).contains(&scale));
            let cols = ((COVER_SIZE - 2 * MARGIN) / (GLYPH * scale)) as usize;
            assert!(lines.iter().all(|l| l.len() <= cols), "{title:?}: lines fit");
            let (info, _) = decode(&cover_png(title).unwrap());
            assert_eq!(info.width, COVER_SIZE);
        }
        let (_, lines) = layout(&"a very long title ".repeat(200), COVER_SIZE);
        assert!(lines.last().unwrap().ends_with(&['.', '.', '.']), "a cut title says so");
    }
}
