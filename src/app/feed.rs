//! Writing the podcast feed as a static site from the library's public rooms.

use std::path::Path;

use anyhow::Result;

use crate::feed::{Show, site};
use crate::library::{self, Access, Catalog};

/// Writes feed.xml and every public room's files into `out`, with links under `base_url`.
/// Private rooms never go into a static feed.
pub fn write_feed(library_dir: &Path, show: &Show, out: &Path, base_url: &str) -> Result<site::SiteReport> {
    let lib = library::open(library_dir, Access::Read)?;
    let rooms = lib.rooms(false)?;
    Ok(site::write(&rooms, show, out, base_url)?)
}
