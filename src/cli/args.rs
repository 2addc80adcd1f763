//! Parsers for the command line's small value languages: NAME=FILE, NAME=SECONDS, TIME=TITLE, 32k.

use std::path::PathBuf;

use roomcast::import::SpeakerFile;

pub fn speaker_file(s: &str) -> Result<SpeakerFile, String> {
    let (name, file) = s.split_once('=').ok_or_else(|| format!("'{s}' is not NAME=FILE"))?;
    if name.trim().is_empty() || file.is_empty() {
        return Err(format!("'{s}' is not NAME=FILE"));
    }
    Ok(SpeakerFile { name: name.to_string(), file: PathBuf::from(file) })
}

/// Seconds as `90`, `90.5`, `1:30` or `1:02:03.250`.
/// A time on the room clock or a length: seconds (90.5) or [h:]mm:ss, from 0 up to a week.
pub fn time(s: &str) -> Result<f64, String> {
    let bad = || format!("'{s}' is not a time (seconds like 90.5, or [h:]mm:ss, from 0 to a week)");
    if s.trim().starts_with('-') {
        return Err(bad());
    }
    let mut total = 0.0;
    let parts: Vec<&str> = s.trim().split(':').collect();
    if parts.len() > 3 {
        return Err(bad());
    }
    for (i, p) in parts.iter().enumerate() {
        let v: f64 = p.parse().map_err(|_| bad())?;
        if !v.is_finite() || (i > 0 && !(0.0..60.0).contains(&v)) {
            return Err(bad());
        }
        total = total * 60.0 + v;
    }
    if !(0.0..=roomcast::session::MAX_ROOM_SECONDS).contains(&total) {
        return Err(bad());
    }
    Ok(total)
}

/// A room's start time: RFC 3339, between the years 1900 and 9999.
pub fn started_at(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let t: chrono::DateTime<chrono::Utc> =
        s.trim().parse().map_err(|e| format!("'{s}' is not an RFC 3339 time like 2026-11-24T18:00:00Z ({e})"))?;
    if !roomcast::session::plausible_start(&t) {
        return Err(format!("'{s}' is not between the years 1900 and 9999"));
    }
    Ok(t)
}

pub fn speaker_offset(s: &str) -> Result<(String, f64), String> {
    let (name, t) = s.rsplit_once('=').ok_or_else(|| format!("'{s}' is not NAME=SECONDS"))?;
    Ok((name.to_string(), time(t)?))
}

pub fn chapter(s: &str) -> Result<(f64, String), String> {
    let (t, title) = s.split_once('=').ok_or_else(|| format!("'{s}' is not TIME=TITLE"))?;
    let t = time(t)?;
    if t < 0.0 || title.trim().is_empty() {
        return Err(format!("'{s}' is not TIME=TITLE with a time of 0 or more"));
    }
    Ok((t, title.to_string()))
}

/// A bitrate in bits per second from `32000`, `32k` or `32kbps`.
pub fn bitrate(s: &str) -> Result<u32, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, scale) = match t.strip_suffix("kbps").or_else(|| t.strip_suffix('k')) {
        Some(n) => (n, 1000.0),
        None => (t.as_str(), 1.0),
    };
    let v: f64 = num.parse().map_err(|_| format!("'{s}' is not a bitrate like 32k"))?;
    let bps = (v * scale).round();
    if !(6000.0..=510_000.0).contains(&bps) {
        return Err(format!("'{s}': Opus bitrates run from 6k to 510k"));
    }
    Ok(bps as u32)
}

/// `OLD=NEW` for `speakers --rename`.
pub fn rename(s: &str) -> anyhow::Result<(String, String)> {
    match s.split_once('=') {
        Some((old, new)) if !old.trim().is_empty() && !new.trim().is_empty() => {
            Ok((old.trim().to_string(), new.trim().to_string()))
        }
        _ => anyhow::bail!("--rename '{s}' is not OLD=NEW"),
    }
}

/// `A,B=NAME` for `speakers --merge`.
pub fn merge(s: &str) -> anyhow::Result<(Vec<String>, String)> {
    let bad = || anyhow::anyhow!("--merge '{s}' is not A,B=NAME (two or more speakers, then the name they share)");
    let (list, name) = s.rsplit_once('=').ok_or_else(bad)?;
    let names: Vec<String> = list.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
    if names.len() < 2 || name.trim().is_empty() {
        return Err(bad());
    }
    Ok((names, name.trim().to_string()))
}

/// Days to keep rooms (`--keep 30`), or `forever`.
pub fn keep_days(s: &str) -> Result<roomcast::app::edit::Keep, String> {
    use roomcast::app::edit::Keep;
    let t = s.trim();
    if t.eq_ignore_ascii_case("forever") {
        return Ok(Keep::Forever);
    }
    match t.parse::<u32>() {
        Ok(d) if (1..=36_500).contains(&d) => Ok(Keep::Days(d)),
        _ => Err(format!("'{s}' is not a number of days (1 to 36500) or 'forever'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_bitrates_parse_the_way_people_write_them() {
        assert_eq!(time("90.5"), Ok(90.5));
        assert_eq!(time("1:30"), Ok(90.0));
        assert_eq!(time("1:02:03.25"), Ok(3723.25));
        assert!(time("1:75").is_err());
        assert!(time("abc").is_err());
        assert_eq!(bitrate("32k"), Ok(32_000));
        assert_eq!(bitrate("24000"), Ok(24_000));
        assert!(bitrate("1k").is_err());
        assert_eq!(speaker_offset("Ana=2.5"), Ok(("Ana".into(), 2.5)));
        assert_eq!(chapter("1:00=Intro = start"), Ok((60.0, "Intro = start".into())));
    }
}
