//! The podcast feed: which rooms are episodes and what the feed says about each (`episodes`), the
//! RSS and chapters files (`rss`), the cover art drawn for a show without one (`cover`), and the
//! feed as a static site for any web host (`site`). The web server serves the same episodes live.

pub mod cover;
pub mod episodes;
pub mod live;
pub mod rss;
pub mod site;

pub use cover::{COVER_FILE, COVER_SIZE, CoverError, cover_png};
pub use episodes::{CHAPTERS_FILE, episodes, master_of, mime_of, session_chapters, session_soundbites};
pub use live::{LiveItem, LiveStatus, ScheduledRoom, live_items};
pub use rss::{
    Chapter, Episode, FeedUrls, Show, ShowOverrides, Soundbite, Transcript, chapters_json, chapters_of, escape_xml,
    podcast_guid, rss, rss_with_live, soundbites_of,
};
