//! `roomcast serve` and `roomcast feed`: the library on the web and as a podcast feed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use roomcast::feed::{self, Show};
use roomcast::library::{self, Access, RoomSummary};
use roomcast::web::{self, ServeOptions, pages};

use super::print_json;

/// What the feed says about the show: a JSON file, then flags over it.
#[derive(Args, Clone)]
pub struct ShowArgs {
    /// The show's metadata as JSON: {"title", "description", "author", "image", "language",
    /// "category", "explicit", "owner_email"} [default: LIBRARY/show.json if present].
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
    /// URL of the cover art (square, 1400-3000 px).
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
}

impl ShowArgs {
    fn show(&self, library: &Path) -> Result<Show> {
        let file = self.show.clone().or_else(|| Some(library.join("show.json")).filter(|p| p.is_file()));
        let mut show = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
                serde_json::from_str(&text).with_context(|| format!("{}: not a show description", path.display()))?
            }
            None => Show::default(),
        };
        let set = |field: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                *field = v.clone();
            }
        };
        set(&mut show.title, &self.title);
        set(&mut show.author, &self.author);
        set(&mut show.description, &self.description);
        set(&mut show.category, &self.category);
        set(&mut show.language, &self.language);
        if self.image.is_some() {
            show.image = self.image.clone();
        }
        show.explicit |= self.explicit;
        Ok(show)
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
    #[arg(long, env = "ROOMCAST_TOKEN", conflicts_with = "token_file")]
    token: Option<String>,
    /// Read the token from a file (its first line).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    #[command(flatten)]
    show: ShowArgs,
}

pub fn serve(a: ServeArgs, library: &Path, json: bool) -> Result<()> {
    let token = match (&a.token, &a.token_file) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f).with_context(|| f.display().to_string())?;
            Some(text.lines().next().unwrap_or("").trim().to_string())
        }
        (None, None) => None,
    };
    if token.as_deref().is_some_and(|t| t.len() < 16) {
        bail!("the token is too short (at least 16 characters; e.g. openssl rand -hex 16)");
    }
    let options = ServeOptions {
        addr: a.addr,
        library: library.to_path_buf(),
        base_url: a.base_url,
        token,
        show: a.show.show(library)?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the event loop")?;
    runtime.block_on(async move {
        let ready = |addr: SocketAddr| {
            if json {
                // One line, so a script can read it and go on while the server runs.
                println!("{}", serde_json::json!({"listening": format!("http://{addr}")}));
            } else {
                println!("Serving {} at http://{addr}/ (Ctrl-C to stop)", options.library.display());
                println!("  podcast feed: http://{addr}/feed.xml");
            }
        };
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let shutdown = async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = shutdown => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        };
        web::serve(options.clone(), ready, shutdown).await
    })?;
    Ok(())
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

/// Copies `from` to `to` through a temporary name (a hard link when on the same file system).
fn place(from: &Path, to: &Path) -> Result<u64> {
    let tmp = to.with_extension(format!("{}.tmp", to.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(from, &tmp).is_err() {
        std::fs::copy(from, &tmp).with_context(|| format!("{} -> {}", from.display(), tmp.display()))?;
    }
    std::fs::rename(&tmp, to).with_context(|| to.display().to_string())?;
    Ok(std::fs::metadata(to)?.len())
}

pub fn feed(a: FeedArgs, library: &Path, json: bool) -> Result<()> {
    let lib = library::open(library, Access::Read)?;
    let show = a.show.show(library)?;
    // The static feed is public: private rooms stay out.
    let rooms = lib.rooms(false)?;
    let base = a.base_url.trim_end_matches('/').to_string();
    std::fs::create_dir_all(&a.out).with_context(|| a.out.display().to_string())?;
    let mut written = Vec::new();
    let mut published: Vec<RoomSummary> = Vec::new();
    for r in &rooms {
        let Some(master) = web::master_of(r) else { continue };
        if !master.is_file() {
            eprintln!("roomcast: warning: {}: master missing; room '{}' left out of the feed", master.display(), r.id);
            continue;
        }
        let dir = a.out.join("rooms").join(&r.id);
        std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
        let name = master.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        place(&master, &dir.join(&name))?;
        written.push(dir.join(&name));
        for file in ["transcript.vtt", "transcript.srt", "transcript.podcast.json", "transcript.json"] {
            let from = r.session.join(file);
            if from.is_file() {
                place(&from, &dir.join(file))?;
                written.push(dir.join(file));
            }
        }
        let chapters = dir.join("chapters.json");
        roomcast::session::write_atomic(
            &chapters,
            feed::chapters_json(&r.title, &web::session_chapters(r)).as_bytes(),
        )?;
        written.push(chapters);
        published.push(r.clone());
    }
    let url_of = |r: &RoomSummary, name: &str| format!("{base}/rooms/{}/{name}", pages::url_value(&r.id));
    let episodes = web::episodes(&published, &base, &url_of);
    let xml = feed::rss(&show, &format!("{base}/"), &format!("{base}/feed.xml"), &episodes);
    let feed_path = a.out.join("feed.xml");
    roomcast::session::write_atomic(&feed_path, xml.as_bytes())?;
    if json {
        return print_json(&serde_json::json!({"feed": feed_path, "episodes": episodes.len(), "files": written}));
    }
    println!(
        "Wrote {} with {} episode(s) and their files under {}",
        feed_path.display(),
        episodes.len(),
        a.out.display()
    );
    println!("  publish {} at {base}/", a.out.display());
    Ok(())
}

pub fn private(room: &str, off: bool, library: &Path, json: bool) -> Result<()> {
    let mut lib = library::open(library, Access::Write)?;
    let r = lib.find_room(room, true)?;
    lib.set_private(&r.id, !off)?;
    if json {
        return print_json(&serde_json::json!({"room": r.id, "private": !off}));
    }
    if off {
        println!("'{}' ({}) is public: listed, searchable and in the feed.", r.title, r.id);
    } else {
        println!("'{}' ({}) is private: only requests with the token see it; never in a static feed.", r.title, r.id);
    }
    Ok(())
}
