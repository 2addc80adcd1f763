//! `roomcast serve` and `roomcast feed`: the library on the web and as a podcast feed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use roomcast::app;
use roomcast::feed::{Show, ShowOverrides};
use roomcast::library::{self, Access};
use roomcast::web::ServeOptions;

use super::print_json;

/// What the feed says about the show: a JSON file, then flags over it.
#[derive(Args, Clone)]
pub struct ShowArgs {
    /// The show's metadata as JSON: {"title", "description", "author", "image", "language",
    /// "category", "explicit", "owner_email", "copyright", "guid"} [default: LIBRARY/show.json if
    /// present].
    #[arg(long, value_name = "FILE")]
    show: Option<PathBuf>,
    /// Show title.
    #[arg(long)]
    title: Option<String>,
    /// Show author.
    #[arg(long)]
    author: Option<String>,
    /// Show description.
    #[arg(long)]
    description: Option<String>,
    /// URL of the cover art (square JPEG or PNG, 1400-3000 px) [default: cover.png, drawn from the
    /// title].
    #[arg(long, value_name = "URL")]
    image: Option<String>,
    /// Apple Podcasts category, e.g. Technology, Education, "Society & Culture".
    #[arg(long)]
    category: Option<String>,
    /// Language code, e.g. en.
    #[arg(long)]
    language: Option<String>,
    /// Mark the show explicit.
    #[arg(long)]
    explicit: bool,
    /// The owner's email (itunes:owner: where Apple writes about the show).
    #[arg(long, value_name = "EMAIL")]
    owner_email: Option<String>,
    /// The show's copyright line, e.g. "2026 Maya Okafor".
    #[arg(long)]
    copyright: Option<String>,
}

impl ShowArgs {
    fn show(&self, library: &Path) -> Result<Show> {
        let file = self.show.clone().or_else(|| Some(library.join("show.json")).filter(|p| p.is_file()));
        let overrides = ShowOverrides {
            title: self.title.clone(),
            author: self.author.clone(),
            description: self.description.clone(),
            image: self.image.clone(),
            category: self.category.clone(),
            language: self.language.clone(),
            explicit: self.explicit,
            owner_email: self.owner_email.clone(),
            copyright: self.copyright.clone(),
        };
        Ok(Show::load(file.as_deref(), &overrides)?)
    }
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on; anything beyond loopback needs --token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// The site's public address, for the feed's links (default: http://ADDR).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// A token every request must carry (Authorization: Bearer, or ?token= once in a link).
    /// [default: $ROOMCAST_TOKEN]
    #[arg(long, conflicts_with = "token_file")]
    token: Option<String>,
    /// Read the token from a file (its first line).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    #[command(flatten)]
    show: ShowArgs,
}

pub fn serve(a: ServeArgs, library: &Path, json: bool) -> Result<()> {
    let options = ServeOptions {
        addr: a.addr,
        library: library.to_path_buf(),
        base_url: a.base_url,
        token: app::serve::token(
            a.token.or_else(|| a.token_file.is_none().then(|| roomcast::env::var(roomcast::env::TOKEN)).flatten()),
            a.token_file.as_deref(),
        )?,
        show: a.show.show(library)?,
    };
    let shown = options.library.display().to_string();
    app::serve::serve(options, |addr| {
        if json {
            // One line, so a script can read it and go on while the server runs.
            println!("{}", serde_json::json!({"listening": format!("http://{addr}")}));
        } else {
            println!("Serving {shown} at http://{addr}/ (Ctrl-C to stop)");
            println!("  podcast feed: http://{addr}/feed.xml");
        }
    })
}

#[derive(Args)]
pub struct FeedArgs {
    /// Folder to write feed.xml and the episodes' files into (for any static web host).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Where DIR will be published, e.g. https://example.com/podcast.
    #[arg(long, value_name = "URL")]
    base_url: String,
    #[command(flatten)]
    show: ShowArgs,
}

pub fn feed(a: FeedArgs, library: &Path, json: bool) -> Result<()> {
    let show = a.show.show(library)?;
    let site = roomcast::app::feed::write_feed(library, &show, &a.out, &a.base_url)?;
    for warning in &site.left_out {
        eprintln!("roomcast: warning: {warning}");
    }
    if json {
        return print_json(&serde_json::json!({"feed": site.feed, "episodes": site.episodes, "files": site.files,
            "removed": site.removed}));
    }
    println!(
        "Wrote {} with {} episode(s) and their files under {}",
        site.feed.display(),
        site.episodes,
        a.out.display()
    );
    if !site.removed.is_empty() {
        println!("  removed {} file(s) no longer in the feed:", site.removed.len());
        for f in &site.removed {
            println!("    {}", f.display());
        }
    }
    println!("  publish {} at {}/", a.out.display(), a.base_url.trim_end_matches('/'));
    Ok(())
}

pub fn private(room: &str, off: bool, library: &Path, json: bool) -> Result<()> {
    let mut lib = library::open(library, Access::Write)?;
    let r = lib.find_room(room, true)?;
    lib.set_private(&r.id, !off)?;
    // A room made public is missing from every site; one made private is still on those that
    // carry it.
    let stale = if off { app::feed::sites(&*lib) } else { app::feed::stale_sites(&*lib, &[&r.id]) };
    if json {
        return print_json(&serde_json::json!({"room": r.id, "private": !off, "stale_sites": stale}));
    }
    if off {
        println!("'{}' ({}) is public: listed, searchable and in the feed.", r.title, r.id);
    } else {
        println!("'{}' ({}) is private: only requests with the token see it; never in a static feed.", r.title, r.id);
    }
    super::edit::stale_sites(&stale);
    Ok(())
}
