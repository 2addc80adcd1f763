//! Rooms in the feed before they are episodes: Podcasting 2.0's `podcast:liveItem`, `pending` for
//! a room planned ahead (`roomcast schedule`), `live` while it is recorded into the library (its
//! live mix as the enclosure), `ended` once it is over and until it is published, when it becomes
//! an `<item>` under the same guid.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::escape_xml;
use crate::library::RoomSummary;
use crate::session::{self, live};

/// The library setting that lists the planned rooms (JSON, a list of [`ScheduledRoom`]).
pub const SCHEDULE_SETTING: &str = "scheduled";

/// The planned rooms a library keeps (an unreadable setting reads as none, and is said in the log).
pub fn scheduled_in(lib: &dyn crate::library::Catalog) -> Vec<ScheduledRoom> {
    let text = match lib.setting(SCHEDULE_SETTING) {
        Ok(Some(t)) => t,
        Ok(None) => return Vec::new(),
        Err(e) => {
            tracing::warn!("the library's planned rooms cannot be read: {e}");
            return Vec::new();
        }
    };
    serde_json::from_str(&text)
        .inspect_err(|e| tracing::warn!("the library's planned rooms are not readable ({e}); none announced"))
        .unwrap_or_default()
}

/// A room planned ahead: what `roomcast schedule` keeps in the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledRoom {
    /// The id (and feed guid) the room will have: `record --scheduled ID` records under it.
    pub id: String,
    pub title: String,
    /// When it starts (RFC 3339, UTC).
    pub at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LiveStatus {
    Pending,
    Live,
    Ended,
}

impl LiveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LiveStatus::Pending => "pending",
            LiveStatus::Live => "live",
            LiveStatus::Ended => "ended",
        }
    }
}

/// One `podcast:liveItem`.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveItem {
    pub guid: String,
    pub title: String,
    pub status: LiveStatus,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// The room's page (its live captions while it is on).
    pub link: String,
    /// The continuous MP3 stream (the enclosure).
    pub stream_url: String,
    /// The HLS playlist (the alternate enclosure).
    pub hls_url: String,
}

fn parse_time(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc))
}

/// The feed's live items: rooms being recorded or recorded with a live mix but not yet published
/// (`rooms`: those the feed may show), and planned rooms not yet begun. Newest first.
pub fn live_items(
    rooms: &[RoomSummary],
    scheduled: &[ScheduledRoom],
    base: &str,
    url_of: &dyn Fn(&str, &str) -> String,
) -> Vec<LiveItem> {
    let mut items = Vec::new();
    for r in rooms {
        // Published: an episode now, not a live item.
        if super::master_of(r).is_some_and(|m| m.is_file()) {
            continue;
        }
        let Some(info) = live::read_info(&r.session) else { continue };
        let Some(start) = parse_time(&r.started_at) else { continue };
        let live = r.status == "recording" && !info.ended && session::being_recorded(&r.session);
        let end = (!live).then(|| {
            let seconds = if r.duration > 0.0 {
                r.duration
            } else {
                live::segments(&r.session).len() as f64 * info.segment_seconds
            };
            start + chrono::Duration::milliseconds((seconds * 1000.0) as i64)
        });
        items.push(LiveItem {
            guid: r.id.clone(),
            title: r.title.clone(),
            status: if live { LiveStatus::Live } else { LiveStatus::Ended },
            start,
            end,
            link: format!("{base}/rooms/{}", crate::markup::url_value(&r.id)),
            stream_url: url_of(&r.id, "live.mp3"),
            hls_url: url_of(&r.id, "live.m3u8"),
        });
    }
    for s in scheduled {
        if rooms.iter().any(|r| r.id == s.id) {
            continue;
        }
        let Some(start) = parse_time(&s.at) else { continue };
        items.push(LiveItem {
            guid: s.id.clone(),
            title: s.title.clone(),
            status: LiveStatus::Pending,
            start,
            end: None,
            link: format!("{base}/rooms/{}", crate::markup::url_value(&s.id)),
            stream_url: url_of(&s.id, "live.mp3"),
            hls_url: url_of(&s.id, "live.m3u8"),
        });
    }
    items.sort_by_key(|i| std::cmp::Reverse(i.start));
    items
}

/// The `podcast:liveItem` elements, indented for the channel.
pub fn live_items_xml(items: &[LiveItem]) -> String {
    let e = escape_xml;
    let mut out = String::new();
    for item in items {
        let end = item.end.map(|t| format!(" end=\"{}\"", t.to_rfc3339())).unwrap_or_default();
        out.push_str(&format!(
            "  <podcast:liveItem status=\"{}\" start=\"{}\"{end}>\n",
            item.status.as_str(),
            item.start.to_rfc3339()
        ));
        out.push_str(&format!("    <title>{}</title>\n", e(&item.title)));
        out.push_str(&format!("    <description>{} (live room)</description>\n", e(&item.title)));
        out.push_str(&format!("    <link>{}</link>\n", e(&item.link)));
        out.push_str(&format!("    <guid isPermaLink=\"false\">{}</guid>\n", e(&item.guid)));
        out.push_str(&format!("    <pubDate>{}</pubDate>\n", item.start.to_rfc2822()));
        // A stream has no length; 0 is what live feeds use (RSS wants the attribute).
        out.push_str(&format!("    <enclosure url=\"{}\" length=\"0\" type=\"audio/mpeg\"/>\n", e(&item.stream_url)));
        out.push_str(&format!(
            "    <podcast:alternateEnclosure type=\"application/x-mpegURL\" title=\"HLS\">\n      <podcast:source uri=\"{}\"/>\n    </podcast:alternateEnclosure>\n",
            e(&item.hls_url)
        ));
        out.push_str(&format!(
            "    <podcast:contentLink href=\"{}\">The room's page, with live captions</podcast:contentLink>\n",
            e(&item.link)
        ));
        out.push_str("  </podcast:liveItem>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_item_has_what_podcasting_2_asks_for() {
        let item = LiveItem {
            guid: "20261207-180000-show".into(),
            title: "Show & tell".into(),
            status: LiveStatus::Live,
            start: parse_time("2026-12-07T18:00:00Z").unwrap(),
            end: None,
            link: "http://h/rooms/x".into(),
            stream_url: "http://h/rooms/x/live.mp3".into(),
            hls_url: "http://h/rooms/x/live.m3u8".into(),
        };
        let xml = live_items_xml(std::slice::from_ref(&item));
        assert!(xml.contains("<podcast:liveItem status=\"live\" start=\"2026-12-07T18:00:00+00:00\">"), "{xml}");
        assert!(xml.contains("<title>Show &amp; tell</title>"));
        assert!(xml.contains("<enclosure url=\"http://h/rooms/x/live.mp3\" length=\"0\" type=\"audio/mpeg\"/>"));
        assert!(xml.contains("<podcast:source uri=\"http://h/rooms/x/live.m3u8\"/>"));
        assert!(xml.contains("<podcast:contentLink href=\"http://h/rooms/x\">"));
        let ended = LiveItem { status: LiveStatus::Ended, end: parse_time("2026-12-07T19:00:00Z"), ..item };
        assert!(
            live_items_xml(&[ended])
                .contains("status=\"ended\" start=\"2026-12-07T18:00:00+00:00\" end=\"2026-12-07T19:00:00+00:00\"")
        );
    }
}
