//! Rooms planned ahead: announced in the feed as `pending` (`podcast:liveItem`) under the guid the
//! room keeps once `record --scheduled ID` records it. Kept in the library's settings.

use std::path::Path;

use anyhow::{Result, bail};
use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};

use crate::feed::ScheduledRoom;
use crate::feed::live::{SCHEDULE_SETTING as SETTING, scheduled_in};
use crate::library::{self, Access, Catalog};
use crate::session::{self, names};

pub fn scheduled(library_dir: &Path) -> Result<Vec<ScheduledRoom>> {
    let lib = library::open(library_dir, Access::Read)?;
    Ok(scheduled_in(&*lib))
}

fn store(lib: &mut dyn Catalog, rooms: &[ScheduledRoom]) -> Result<()> {
    let text = serde_json::to_string(rooms)?;
    lib.set_setting(SETTING, (!rooms.is_empty()).then_some(text.as_str()))?;
    Ok(())
}

/// A start time as people write it: RFC 3339 (`2026-12-08T18:00:00Z`, any offset), or
/// `YYYY-MM-DD HH:MM[:SS]` (also with `T`) in this machine's time zone.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, format) {
            return match Local.from_local_datetime(&naive).earliest() {
                Some(at) => Ok(at.with_timezone(&Utc)),
                None => bail!("--at '{text}': that time does not exist here (a clock change skips it)"),
            };
        }
    }
    bail!("--at '{text}': not a time (write 2026-12-08T18:00:00Z, or 2026-12-08 18:00 in local time)")
}

/// Plans a room: it is in the feed as `pending` from now until it is recorded.
pub fn schedule(library_dir: &Path, title: &str, at: &str, now: DateTime<Utc>) -> Result<ScheduledRoom> {
    let title = names::title(title, "the room's title")?;
    let at = parse_time(at)?;
    if at <= now {
        bail!(
            "--at {}: that is in the past (now is {}); a room is planned for later",
            at.to_rfc3339(),
            now.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    let room = ScheduledRoom { id: session::room_id(&at, &title), title, at: at.to_rfc3339() };
    let mut lib = library::open(library_dir, Access::Write)?;
    let mut rooms = scheduled_in(&*lib);
    if rooms.iter().any(|r| r.id == room.id) || lib.room(&room.id).is_ok() {
        bail!("a room '{}' is already planned or recorded at that time with that title", room.id);
    }
    rooms.push(room.clone());
    rooms.sort_by(|a, b| a.at.cmp(&b.at));
    store(&mut *lib, &rooms)?;
    Ok(room)
}

/// Takes a planned room off the list: cancelled, or being recorded now.
pub fn take(library_dir: &Path, id: &str) -> Result<ScheduledRoom> {
    let mut lib = library::open(library_dir, Access::Write)?;
    let mut rooms = scheduled_in(&*lib);
    let Some(i) = rooms.iter().position(|r| r.id == id) else {
        let known: Vec<&str> = rooms.iter().map(|r| r.id.as_str()).collect();
        bail!(
            "no planned room '{id}' (planned: {})",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        );
    };
    let room = rooms.remove(i);
    store(&mut *lib, &rooms)?;
    Ok(room)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_people_write_them_and_nonsense_is_refused() {
        assert_eq!(parse_time("2026-12-08T18:00:00Z").unwrap().to_rfc3339(), "2026-12-08T18:00:00+00:00");
        assert_eq!(parse_time("2026-12-08T19:00:00+01:00").unwrap().to_rfc3339(), "2026-12-08T18:00:00+00:00");
        assert!(parse_time("2026-12-08 18:00").is_ok());
        for bad in ["tomorrow", "2026-13-01 10:00", "", "18:00"] {
            let e = parse_time(bad).unwrap_err().to_string();
            assert!(e.contains("not a time") && !e.contains('\n'), "{bad}: {e}");
        }
    }
}
