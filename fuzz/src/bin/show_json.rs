//! show.json as anyone could write it: parsed and checked, or refused, never a panic; a show that
//! is accepted writes a feed with one-line fields and no character XML 1.0 forbids.
use roomcast::feed::{FeedUrls, Show, rss};

fn main() {
    let urls = FeedUrls { link: "https://h/".into(), feed: "https://h/feed.xml".into(), cover: "https://h/c.png".into() };
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let Ok(show) = Show::from_json(text) else { return };
        for field in [&show.title, &show.author, &show.category, &show.language] {
            assert!(!field.chars().any(char::is_control), "{field:?}");
        }
        let xml = rss(&show, &urls, &[]);
        assert!(!xml.contains('\u{FFFE}') && !xml.contains('\u{FFFF}'));
    });
}
