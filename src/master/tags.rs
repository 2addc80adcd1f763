//! Metadata of the master: ID3v2.4 for MP3 (with CHAP/CTOC chapters), Vorbis comments for Opus.

use chrono::{DateTime, Datelike, Timelike, Utc};
use id3::frame::{Chapter, Comment, TableOfContents};
use id3::{Frame, Tag, TagLike, Timestamp, Version};

use crate::track::OpusTags;

/// What the master says about itself.
#[derive(Debug, Clone)]
pub struct MasterMeta {
    pub title: String,
    pub artist: String,
    pub date: DateTime<Utc>,
    pub comment: String,
    /// (start seconds, title), sorted.
    pub chapters: Vec<(f64, String)>,
    pub duration: f64,
}

impl MasterMeta {
    /// Chapters with their end times: each runs to the next one, the last to the end of the room.
    pub fn chapter_spans(&self) -> Vec<(f64, f64, &str)> {
        let starts: Vec<_> = self.chapters.iter().filter(|(t, _)| *t < self.duration).collect();
        starts
            .iter()
            .enumerate()
            .map(|(i, (t, title))| {
                let end = starts.get(i + 1).map(|(n, _)| *n).unwrap_or(self.duration);
                (*t, end, title.as_str())
            })
            .collect()
    }

    pub fn id3(&self) -> Result<Vec<u8>, id3::Error> {
        let mut tag = Tag::new();
        tag.set_title(&self.title);
        tag.set_artist(&self.artist);
        tag.set_album(&self.title);
        tag.set_genre("Podcast");
        let d = self.date;
        tag.set_date_recorded(Timestamp {
            year: d.year(),
            month: Some(d.month() as u8),
            day: Some(d.day() as u8),
            hour: Some(d.hour() as u8),
            minute: Some(d.minute() as u8),
            second: Some(d.second() as u8),
        });
        tag.add_frame(Comment { lang: "eng".into(), description: String::new(), text: self.comment.clone() });
        tag.add_frame(Frame::text("TSSE", format!("roomcast {}", env!("CARGO_PKG_VERSION"))));
        tag.add_frame(Frame::text("TLEN", format!("{}", (self.duration * 1000.0).round() as u64)));
        let spans = self.chapter_spans();
        if !spans.is_empty() {
            let ids: Vec<String> = (0..spans.len()).map(|i| format!("chp{i}")).collect();
            for ((start, end, title), id) in spans.iter().zip(&ids) {
                tag.add_frame(Chapter {
                    element_id: id.clone(),
                    start_time: (start * 1000.0).round() as u32,
                    end_time: (end * 1000.0).round() as u32,
                    // 0xFFFFFFFF: offsets unknown, times are authoritative (ID3v2 chapter spec).
                    start_offset: u32::MAX,
                    end_offset: u32::MAX,
                    frames: vec![Frame::text("TIT2", *title)],
                });
            }
            tag.add_frame(TableOfContents {
                element_id: "toc".into(),
                top_level: true,
                ordered: true,
                elements: ids,
                frames: vec![Frame::text("TIT2", "Chapters")],
            });
        }
        let mut bytes = Vec::new();
        tag.write_to(&mut bytes, Version::Id3v24)?;
        Ok(bytes)
    }

    /// Vorbis comments, with chapters in the CHAPTERxxx convention players of Ogg files read.
    pub fn opus_tags(&self, vendor: &str) -> OpusTags {
        let mut tags = OpusTags::new(vendor)
            .with("TITLE", self.title.clone())
            .with("ARTIST", self.artist.clone())
            .with("DATE", self.date.format("%Y-%m-%d").to_string())
            .with("COMMENT", self.comment.clone())
            .with("ENCODER", format!("roomcast {}", env!("CARGO_PKG_VERSION")));
        for (i, (start, _, title)) in self.chapter_spans().iter().enumerate() {
            let ms = (start * 1000.0).round() as u64;
            let stamp = format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
            tags = tags.with(&format!("CHAPTER{:03}", i + 1), stamp).with(&format!("CHAPTER{:03}NAME", i + 1), *title);
        }
        tags
    }
}
