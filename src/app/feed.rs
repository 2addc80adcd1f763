//! Writing the podcast feed as a static site from the library's public rooms, and remembering
//! where, so a later change to a room can say which sites still show the old version.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::feed::{Show, site};
use crate::library::{self, Access, Catalog};

/// The library setting that lists the static sites `feed --out` wrote.
const SITES_SETTING: &str = "static_sites";
/// The library setting that keeps the show's `podcast:guid` once it was made.
const GUID_SETTING: &str = "show_guid";

/// A static site written from the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaticSite {
    pub dir: PathBuf,
    pub base_url: String,
}

/// Writes feed.xml and every public room's files into `out`, with links under `base_url`, and
/// deletes what earlier runs wrote for rooms no longer in the feed. Private rooms never go into
/// a static feed.
pub fn write_feed(library_dir: &Path, show: &Show, out: &Path, base_url: &str) -> Result<site::SiteReport> {
    let lib = library::open(library_dir, Access::Read)?;
    let rooms = lib.rooms(false)?;
    let scheduled = crate::feed::live::scheduled_in(&*lib);
    drop(lib);
    let mut show = show.clone();
    let feed_url = format!("{}/{}", base_url.trim_end_matches('/'), site::FEED_FILE);
    keep_guid(library_dir, &mut show, Some(&feed_url));
    let base = base_url.trim_end_matches('/');
    let url = |id: &str, name: &str| format!("{base}/rooms/{}/{name}", crate::markup::url_value(id));
    let live = crate::feed::live_items(&rooms, &scheduled, base, &url);
    let report = site::write_with_live(&rooms, &show, out, base_url, &live)?;
    remember(library_dir, out, base_url);
    Ok(report)
}

/// The show's `podcast:guid`, which must never change once apps know it: show.json's own, else
/// the one the library keeps, else the one made from the feed's URL (`feed_url`; `None` when it
/// is not known yet), which the library keeps from then on, so moving the feed (a new host, the
/// server on another port) keeps the show's identity.
pub fn keep_guid(library_dir: &Path, show: &mut Show, feed_url: Option<&str>) {
    if show.guid.is_some() {
        return;
    }
    let kept = library::open(library_dir, Access::Read).ok().and_then(|lib| lib.setting(GUID_SETTING).ok().flatten());
    if let Some(guid) = kept {
        show.guid = Some(guid);
        return;
    }
    let Some(url) = feed_url else { return };
    let guid = crate::feed::podcast_guid(url);
    let stored =
        library::open(library_dir, Access::Write).and_then(|mut lib| lib.set_setting(GUID_SETTING, Some(&guid)));
    if let Err(e) = stored {
        tracing::debug!("the library does not keep the show's guid: {e:#}");
    }
    show.guid = Some(guid);
}

/// Notes the site in the library, so edits can point at it. A library that cannot be written
/// (read-only) just does not remember it.
fn remember(library_dir: &Path, out: &Path, base_url: &str) {
    let noted = (|| -> Result<()> {
        let mut lib = library::open(library_dir, Access::Write)?;
        let dir = out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
        let mut sites = sites(&*lib);
        sites.retain(|s| s.dir != dir);
        sites.push(StaticSite { dir, base_url: base_url.trim_end_matches('/').to_string() });
        lib.set_setting(SITES_SETTING, Some(&serde_json::to_string(&sites)?))?;
        Ok(())
    })();
    if let Err(e) = noted {
        tracing::debug!("the library does not remember the site: {e:#}");
    }
}

/// Every static site written from the library.
pub fn sites(lib: &dyn Catalog) -> Vec<StaticSite> {
    lib.setting(SITES_SETTING).ok().flatten().and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default()
}

/// The static sites that still carry files of any of `rooms`: after a change to those rooms they
/// show the old version until `feed --out` runs again.
pub fn stale_sites(lib: &dyn Catalog, rooms: &[&str]) -> Vec<StaticSite> {
    sites(lib).into_iter().filter(|s| rooms.iter().any(|id| site::carries_room(&s.dir, id))).collect()
}
