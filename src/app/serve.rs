//! Serving the library on the web until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::web::{self, ServeOptions};

/// The token a request must carry: given, or the first line of a file. Short tokens are refused.
pub fn token(given: Option<String>, file: Option<&Path>) -> Result<Option<String>> {
    let token = match (given, file) {
        (Some(t), _) => Some(t),
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f).with_context(|| f.display().to_string())?;
            Some(text.lines().next().unwrap_or("").trim().to_string())
        }
        (None, None) => None,
    };
    if token.as_deref().is_some_and(|t| t.len() < 16) {
        bail!("the token is too short (at least 16 characters; e.g. openssl rand -hex 16)");
    }
    Ok(token)
}

/// Serves until Ctrl-C or SIGTERM; `on_ready` hears the address once it listens.
pub fn serve(mut options: ServeOptions, on_ready: impl FnOnce(SocketAddr)) -> Result<()> {
    // The show's guid as the library keeps it; made from the feed's URL once that is known.
    let feed_url = |base: &str| format!("{}/feed.xml", base.trim_end_matches('/'));
    super::feed::keep_guid(&options.library, &mut options.show, options.base_url.as_deref().map(feed_url).as_deref());
    let unkept = options.show.guid.is_none();
    let library = options.library.clone();
    let on_ready = move |addr: SocketAddr| {
        if unkept {
            // On a thread of its own: this runs inside the event loop, where a PostgreSQL
            // client (which blocks on a runtime of its own) cannot be opened.
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut show = crate::feed::Show::default();
                    super::feed::keep_guid(&library, &mut show, Some(&feed_url(&format!("http://{addr}"))));
                });
            });
        }
        on_ready(addr)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the event loop")?;
    runtime.block_on(async move {
        let mut stop = super::runtime::stop_on_signals();
        let shutdown = async move {
            let _ = stop.changed().await;
        };
        web::serve(options, on_ready, shutdown).await
    })?;
    Ok(())
}
