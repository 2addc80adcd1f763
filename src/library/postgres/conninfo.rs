//! PostgreSQL connection strings, read as libpq reads them (sans I/O: text in, settings out), so a
//! string that works with `psql` names the same database here
//! (<https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING>).
//!
//! Two forms:
//! - the URI, `postgresql://` or `postgres://`, then
//!   `[user[:password]@][host][:port][,host[:port]...][/dbname][?keyword=value&...]`. Every part is
//!   percent-decoded (`%2Frun%2Fpostgresql` is the socket folder `/run/postgresql`; `+` stays a
//!   plus), a host in brackets is an IPv6 address (`[::1]:5433`), and `ssl=true` means
//!   `sslmode=require` (libpq's nod to JDBC);
//! - keyword/value pairs, `host=/run/postgresql port=5432 dbname='my db'`: blanks around `=` are
//!   allowed, a value in single quotes may hold blanks, and a backslash takes the next character
//!   as it is (`'it\'s'`, `a\ b`).
//!
//! As in libpq, a later setting replaces an earlier one, so in a URI a query parameter wins over
//! the part before it (`postgres://localhost/db?host=/run/postgresql` connects over the socket).
//! What the values mean (a host starting with `/` is a socket folder, an empty host the default
//! one) is `connect`'s business: this module only says which keyword has which value, and refuses
//! keywords libpq does not know.
//!
//! Errors never quote a value (it could be a password), and `redact` gives the text with every
//! password, and every value whose meaning is unknown, replaced by `***`.

use std::collections::BTreeMap;
use std::ops::Range;

/// Every keyword libpq knows (PostgreSQL 17), whether or not roomcast acts on it (`connect` says).
pub const KEYWORDS: &[&str] = &[
    "application_name",
    "channel_binding",
    "client_encoding",
    "connect_timeout",
    "dbname",
    "fallback_application_name",
    "gssdelegation",
    "gssencmode",
    "gsslib",
    "host",
    "hostaddr",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "krbsrvname",
    "load_balance_hosts",
    "options",
    "passfile",
    "password",
    "port",
    "replication",
    "require_auth",
    "requirepeer",
    "requiressl",
    "service",
    "ssl_max_protocol_version",
    "ssl_min_protocol_version",
    "sslcert",
    "sslcertmode",
    "sslcompression",
    "sslcrl",
    "sslcrldir",
    "sslkey",
    "sslmode",
    "sslnegotiation",
    "sslpassword",
    "sslrootcert",
    "sslsni",
    "target_session_attrs",
    "tcp_user_timeout",
    "user",
];

/// What stands in for a hidden value.
const HIDDEN: &str = "***";

/// Why a connection string cannot be read. Never holds a value: only keywords and positions,
/// quoted with escapes (`{:?}`) so that a control character typed or pasted into one keeps the
/// error on one line (found by fuzzing: a newline inside a query parameter's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnInfoError {
    #[error("invalid connection option {0:?}")]
    UnknownKeyword(String),
    #[error("invalid URI query parameter: {0:?}")]
    UnknownParameter(String),
    #[error("missing \"=\" after {0:?} in connection info string")]
    MissingEquals(String),
    #[error("a word without \"=\" at character {0} of the connection info string")]
    StrayWord(usize),
    #[error("unterminated quoted string in connection info string")]
    UnterminatedQuote,
    #[error("missing key/value separator \"=\" in URI query parameter {0}")]
    ParameterWithoutEquals(usize),
    #[error("extra key/value separator \"=\" in URI query parameter {0}")]
    ParameterExtraEquals(usize),
    #[error("invalid percent-encoding in the URI's {0} (write % as %25)")]
    BadPercent(Part),
    #[error("forbidden value %00 in the URI's {0}")]
    NulByte(Part),
    #[error("the URI's {0} is not UTF-8 once percent-decoded")]
    NotUtf8(Part),
    #[error("end of string reached when looking for matching \"]\" in IPv6 host address in URI")]
    UnclosedBracket,
    #[error("IPv6 host address may not be empty in URI")]
    EmptyIpv6,
    #[error("unexpected character {0:?} at position {1} in URI (expected \":\" or \"/\")")]
    AfterBracket(char, usize),
}

/// Where in a URI a value came from, for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    User,
    Password,
    Hosts,
    Ports,
    Dbname,
    /// The n-th query parameter (from 1): its keyword or its value.
    Parameter(usize),
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::User => f.write_str("user name"),
            Part::Password => f.write_str("password"),
            Part::Hosts => f.write_str("host"),
            Part::Ports => f.write_str("port"),
            Part::Dbname => f.write_str("database name"),
            Part::Parameter(n) => write!(f, "query parameter {n}"),
        }
    }
}

/// A connection string's settings: each keyword libpq knows, with the last value given for it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConnInfo {
    settings: BTreeMap<&'static str, String>,
}

/// The settings with the password hidden, so that logging them leaks nothing.
impl std::fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.settings().map(|(k, v)| (k, if k == "password" { HIDDEN } else { v }));
        f.debug_map().entries(shown).finish()
    }
}

impl ConnInfo {
    /// Reads a URI (`postgresql://...`, `postgres://...`) or keyword/value pairs.
    pub fn parse(text: &str) -> Result<ConnInfo, ConnInfoError> {
        let reading = read(text);
        if let Some(e) = reading.error {
            return Err(e);
        }
        let mut info = ConnInfo::default();
        for entry in reading.entries {
            let known = KEYWORDS.iter().find(|k| **k == entry.key);
            match (known, entry.value) {
                // libpq's old spelling of sslmode, read as libpq 15 reads it.
                (Some(&"requiressl"), Some(value)) => {
                    let mode = if value.starts_with('1') { "require" } else { "prefer" };
                    info.settings.insert("sslmode", mode.to_string());
                }
                (Some(keyword), Some(value)) => {
                    info.settings.insert(keyword, value);
                }
                // A value that failed to decode has its error above.
                (Some(_), None) => {}
                (None, _) if entry.from_uri => return Err(ConnInfoError::UnknownParameter(entry.key)),
                (None, _) => return Err(ConnInfoError::UnknownKeyword(entry.key)),
            }
        }
        Ok(info)
    }

    /// The value given for `keyword` (possibly empty), if any.
    pub fn get(&self, keyword: &str) -> Option<&str> {
        self.settings.get(keyword).map(String::as_str)
    }

    /// Every keyword given, in alphabetical order, with its value.
    pub fn settings(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.settings.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// Whether `text` is meant as a connection string rather than a folder: it starts with
/// `postgresql://` or `postgres://`, or with a keyword and `=` (`host=...`, `dbname = x`). A folder
/// whose name looks like that is written `./host=x`.
pub fn is_connection_string(text: &str) -> bool {
    if uri_body(text).is_some() {
        return true;
    }
    let t = text.trim_start_matches(is_space);
    let word = t.bytes().take_while(|b| b.is_ascii_lowercase() || *b == b'_').count();
    word > 0 && t[word..].trim_start_matches(is_space).starts_with('=')
}

/// `text` fit to show: every password, and every value of a keyword libpq does not know (a
/// misspelt `password` is still a password), replaced by `***`. Works on strings that do not
/// parse too, reading them as far as libpq would and the rest as best it can. Text that is not a
/// connection string (a folder) comes back as it is.
pub fn redact(text: &str) -> String {
    if !is_connection_string(text) {
        return text.to_string();
    }
    let mut hidden: Vec<(Range<usize>, bool)> = read(text)
        .entries
        .into_iter()
        .filter(|e| (e.key == "password" || !KEYWORDS.contains(&e.key.as_str())) && !e.raw.is_empty())
        .map(|e| (e.raw, e.from_uri))
        .collect();
    hidden.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (span, from_uri) in hidden {
        if span.start < at {
            continue;
        }
        out.push_str(&text[at..span.start]);
        // A quoted value stays quoted, so what follows it reads as it did. In a URI a quote is
        // just a character of the value, and hidden with it (found by fuzzing: "p:'@host" was
        // shown as "p:'***@host", a password's first character in the open).
        let raw = &text[span.clone()];
        match (!from_uri && raw.starts_with('\''), !from_uri && raw.len() > 1 && raw.ends_with('\'')) {
            (true, true) => out.push_str(&format!("'{HIDDEN}'")),
            (true, false) => out.push_str(&format!("'{HIDDEN}")),
            _ => out.push_str(HIDDEN),
        }
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// One keyword and its value as read, before checking the keyword.
#[derive(Debug)]
struct Entry {
    key: String,
    /// `None` when the value could not be decoded (the reading's error says why).
    value: Option<String>,
    /// Where the value lies in the text, as written (quotes and escapes included).
    raw: Range<usize>,
    from_uri: bool,
}

/// Everything read, and the first error met. The reader goes on after an error, so `redact` still
/// finds the passwords after it.
#[derive(Debug, Default)]
struct Reading {
    entries: Vec<Entry>,
    error: Option<ConnInfoError>,
}

impl Reading {
    fn fail(&mut self, e: ConnInfoError) {
        self.error.get_or_insert(e);
    }
}

/// libpq's `isspace` in the C locale.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Where the URI's body starts, when `text` is a URI.
fn uri_body(text: &str) -> Option<usize> {
    ["postgresql://", "postgres://"].iter().find(|p| text.starts_with(**p)).map(|p| p.len())
}

fn read(text: &str) -> Reading {
    match uri_body(text) {
        Some(start) => read_uri(text, start),
        None => read_key_values(text),
    }
}

/// The first position at or after `from` holding one of `stops`, else the end.
fn find_any(text: &str, from: usize, stops: &[u8]) -> usize {
    text.as_bytes()[from..].iter().position(|b| stops.contains(b)).map_or(text.len(), |i| from + i)
}

fn byte_at(text: &str, at: usize) -> Option<u8> {
    text.as_bytes().get(at).copied()
}

/// libpq's `conninfo_uri_parse_options`.
fn read_uri(text: &str, start: usize) -> Reading {
    let mut reading = Reading::default();
    let add = |reading: &mut Reading, key: &str, raw: Range<usize>, decoded: &str, part: Part| {
        let value = decode(decoded, part).map_err(|e| reading.fail(e)).ok();
        reading.entries.push(Entry { key: key.to_string(), value, raw, from_uri: true });
    };
    let mut p = start;
    // Credentials, when an '@' comes before the first '/' (libpq looks no further, not even for '?').
    let ahead = find_any(text, p, b"@/");
    if byte_at(text, ahead) == Some(b'@') {
        let user_end = find_any(text, p, b":@");
        if user_end > p {
            add(&mut reading, "user", p..user_end, &text[p..user_end], Part::User);
        }
        if byte_at(text, user_end) == Some(b':') && ahead > user_end + 1 {
            let password = user_end + 1..ahead;
            add(&mut reading, "password", password.clone(), &text[password], Part::Password);
        }
        p = ahead + 1;
    }
    // host[:port], comma-separated; libpq joins them into one host list and one port list.
    let (mut hosts, mut ports) = (String::new(), String::new());
    let mut stop;
    loop {
        let host;
        if byte_at(text, p) == Some(b'[') {
            let Some(close) = text[p + 1..].find(']').map(|i| p + 1 + i) else {
                reading.fail(ConnInfoError::UnclosedBracket);
                // Read on from the path or query, so a password there is still found.
                p = find_any(text, p, b"/?");
                stop = byte_at(text, p);
                break;
            };
            if close == p + 1 {
                reading.fail(ConnInfoError::EmptyIpv6);
            }
            host = &text[p + 1..close];
            p = close + 1;
            if let Some(c) = byte_at(text, p).filter(|c| !b":/?,".contains(c)) {
                let shown = text[p..].chars().next().unwrap_or(c as char);
                reading.fail(ConnInfoError::AfterBracket(shown, text[..p].chars().count() + 1));
                p = find_any(text, p, b":/?,");
            }
        } else {
            let end = find_any(text, p, b":/?,");
            host = &text[p..end];
            p = end;
        }
        hosts.push_str(host);
        stop = byte_at(text, p);
        if stop == Some(b':') {
            let end = find_any(text, p + 1, b"/?,");
            ports.push_str(&text[p + 1..end]);
            p = end;
            stop = byte_at(text, p);
        }
        if stop != Some(b',') {
            break;
        }
        p += 1;
        hosts.push(',');
        ports.push(',');
    }
    if !hosts.is_empty() {
        add(&mut reading, "host", 0..0, &hosts, Part::Hosts);
    }
    if !ports.is_empty() {
        add(&mut reading, "port", 0..0, &ports, Part::Ports);
    }
    if stop == Some(b'/') {
        let end = find_any(text, p + 1, b"?");
        // An empty name is left unset, so the default (the user's name) applies.
        if end > p + 1 {
            add(&mut reading, "dbname", p + 1..end, &text[p + 1..end], Part::Dbname);
        }
        p = end;
        stop = byte_at(text, p);
    }
    if stop == Some(b'?') {
        read_parameters(text, p + 1, &mut reading);
    }
    reading
}

/// libpq's `conninfo_uri_parse_params`: `keyword=value` pairs joined by `&`.
fn read_parameters(text: &str, start: usize, reading: &mut Reading) {
    let mut p = start;
    let mut n = 0;
    while p < text.len() {
        n += 1;
        let end = find_any(text, p, b"&");
        let pair = &text[p..end];
        let Some(eq) = pair.find('=') else {
            reading.fail(ConnInfoError::ParameterWithoutEquals(n));
            // Unknown, so `redact` hides it: it may be a value typed without its keyword.
            reading.entries.push(Entry { key: String::new(), value: None, raw: p..end, from_uri: true });
            p = end + 1;
            continue;
        };
        if pair[eq + 1..].contains('=') {
            reading.fail(ConnInfoError::ParameterExtraEquals(n));
        }
        let key = decode(&pair[..eq], Part::Parameter(n)).unwrap_or_else(|e| {
            reading.fail(e);
            String::new()
        });
        let value = decode(&pair[eq + 1..], Part::Parameter(n)).map_err(|e| reading.fail(e)).ok();
        let raw = p + eq + 1..end;
        let entry = match (key.as_str(), value.as_deref()) {
            ("ssl", Some("true")) => {
                Entry { key: "sslmode".into(), value: Some("require".into()), raw, from_uri: true }
            }
            _ => Entry { key, value, raw, from_uri: true },
        };
        reading.entries.push(entry);
        p = end + 1;
    }
}

/// libpq's `conninfo_uri_decode`: `%XX` is the byte XX; anything else stands for itself.
fn decode(raw: &str, part: Part) -> Result<String, ConnInfoError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
            return Err(ConnInfoError::BadPercent(part));
        };
        let byte = (hi * 16 + lo) as u8;
        if byte == 0 {
            return Err(ConnInfoError::NulByte(part));
        }
        out.push(byte);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| ConnInfoError::NotUtf8(part))
}

/// libpq's `conninfo_parse`: `keyword = value` pairs separated by blanks.
fn read_key_values(text: &str) -> Reading {
    let mut reading = Reading::default();
    let bytes = text.as_bytes();
    let space = |at: usize| bytes.get(at).is_some_and(|b| is_space(*b as char));
    let mut p = 0;
    while p < bytes.len() {
        if space(p) {
            p += 1;
            continue;
        }
        let name_start = p;
        while p < bytes.len() && bytes[p] != b'=' && !space(p) {
            p += 1;
        }
        let name_end = p;
        while space(p) {
            p += 1;
        }
        if byte_at(text, p) != Some(b'=') {
            let word = &text[name_start..name_end];
            // Only a keyword is quoted back: the word could as well be a password.
            reading.fail(if KEYWORDS.contains(&word) {
                ConnInfoError::MissingEquals(word.to_string())
            } else {
                ConnInfoError::StrayWord(text[..name_start].chars().count() + 1)
            });
            reading.entries.push(Entry { key: String::new(), value: None, raw: name_start..name_end, from_uri: false });
            continue;
        }
        p += 1;
        while space(p) {
            p += 1;
        }
        let value_start = p;
        let mut value = Vec::new();
        if byte_at(text, p) == Some(b'\'') {
            p += 1;
            loop {
                match bytes.get(p) {
                    None => {
                        reading.fail(ConnInfoError::UnterminatedQuote);
                        break;
                    }
                    Some(b'\\') => {
                        if let Some(b) = bytes.get(p + 1) {
                            value.push(*b);
                        }
                        p += 2;
                    }
                    Some(b'\'') => {
                        p += 1;
                        break;
                    }
                    Some(b) => {
                        value.push(*b);
                        p += 1;
                    }
                }
            }
        } else {
            while p < bytes.len() && !space(p) {
                if bytes[p] == b'\\' {
                    if let Some(b) = bytes.get(p + 1) {
                        value.push(*b);
                    }
                    p += 2;
                } else {
                    value.push(bytes[p]);
                    p += 1;
                }
            }
        }
        let raw = value_start..p.min(bytes.len());
        // Only ASCII quotes and backslashes were dropped, so the rest is still UTF-8.
        let value = String::from_utf8(value).ok();
        reading.entries.push(Entry { key: text[name_start..name_end].to_string(), value, raw, from_uri: false });
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Vec<(String, String)> {
        match ConnInfo::parse(text) {
            Ok(info) => info.settings().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        v.sort();
        v
    }

    #[test]
    fn every_form_libpq_reads_gives_the_settings_libpq_gives() {
        let table: &[(&str, &[(&str, &str)])] = &[
            // The URI: each part, and query parameters over the parts before them.
            ("postgresql://", &[]),
            ("postgres://localhost", &[("host", "localhost")]),
            ("postgresql://localhost:5433", &[("host", "localhost"), ("port", "5433")]),
            ("postgresql://localhost/mydb", &[("host", "localhost"), ("dbname", "mydb")]),
            ("postgresql://user@localhost", &[("host", "localhost"), ("user", "user")]),
            ("postgresql://user:secret@localhost", &[("host", "localhost"), ("password", "secret"), ("user", "user")]),
            ("postgresql://:secret@localhost", &[("host", "localhost"), ("password", "secret")]),
            ("postgresql://user:@localhost", &[("host", "localhost"), ("user", "user")]),
            (
                "postgresql://other@localhost/otherdb?connect_timeout=10&application_name=myapp",
                &[
                    ("application_name", "myapp"),
                    ("connect_timeout", "10"),
                    ("dbname", "otherdb"),
                    ("host", "localhost"),
                    ("user", "other"),
                ],
            ),
            (
                "postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp",
                &[
                    ("application_name", "myapp"),
                    ("dbname", "somedb"),
                    ("host", "host1,host2"),
                    ("port", "123,456"),
                    ("target_session_attrs", "any"),
                ],
            ),
            ("postgresql://h1,h2:5433,[::1]", &[("host", "h1,h2,::1"), ("port", ",5433,")]),
            ("postgresql://[::1]:5433/db", &[("dbname", "db"), ("host", "::1"), ("port", "5433")]),
            ("postgresql://[2001:db8::1234]/db", &[("dbname", "db"), ("host", "2001:db8::1234")]),
            (
                "postgresql:///mydb?host=/run/postgresql&port=5433",
                &[("dbname", "mydb"), ("host", "/run/postgresql"), ("port", "5433")],
            ),
            ("postgresql://%2Fvar%2Frun%2Fpostgresql/db", &[("dbname", "db"), ("host", "/var/run/postgresql")]),
            (
                "postgres://postgres@localhost:5432/db?host=/tmp/sock",
                &[("dbname", "db"), ("host", "/tmp/sock"), ("port", "5432"), ("user", "postgres")],
            ),
            (
                "postgresql://localhost/db?dbname=other&port=1&port=2",
                &[("dbname", "other"), ("host", "localhost"), ("port", "2")],
            ),
            (
                "postgresql://u%40x:p%40ss%20w%3A@h/my%20db",
                &[("dbname", "my db"), ("host", "h"), ("password", "p@ss w:"), ("user", "u@x")],
            ),
            ("postgresql://h/db?options=-c%20x%3Dy+z", &[("dbname", "db"), ("host", "h"), ("options", "-c x=y+z")]),
            ("postgresql://h?ssl=true", &[("host", "h"), ("sslmode", "require")]),
            (
                "postgresql://h?sslmode=verify-full&sslrootcert=/ca.pem&",
                &[("host", "h"), ("sslmode", "verify-full"), ("sslrootcert", "/ca.pem")],
            ),
            ("postgresql://h?host=", &[("host", "")]),
            ("postgresql://?host=/tmp&hostaddr=127.0.0.1", &[("host", "/tmp"), ("hostaddr", "127.0.0.1")]),
            ("postgresql:///db#x?user=a", &[("dbname", "db#x"), ("user", "a")]),
            // Keyword/value pairs: blanks, quotes, escapes, the last value wins.
            ("", &[]),
            (
                "host=/tmp port=5432 dbname=x user=y",
                &[("dbname", "x"), ("host", "/tmp"), ("port", "5432"), ("user", "y")],
            ),
            ("  host = /tmp\tdbname= x  ", &[("dbname", "x"), ("host", "/tmp")]),
            ("password='a b' user=''", &[("password", "a b"), ("user", "")]),
            (r"password='it\'s \\ here'", &[("password", r"it's \ here")]),
            (r"host=/path/with\ space dbname=a\b", &[("dbname", "ab"), ("host", "/path/with space")]),
            ("dbname='x'user=y", &[("dbname", "x"), ("user", "y")]),
            ("host=a host=b", &[("host", "b")]),
            ("requiressl=1", &[("sslmode", "require")]),
            ("sslmode=verify-ca requiressl=0", &[("sslmode", "prefer")]),
            // libpq reads a value after blanks, even one that looks like the next pair.
            ("host= port=5", &[("host", "port=5")]),
            ("dbname=postgresql://h/db", &[("dbname", "postgresql://h/db")]),
            (
                "options='-c search_path=x' application_name=café",
                &[("application_name", "café"), ("options", "-c search_path=x")],
            ),
        ];
        for (text, expected) in table {
            assert_eq!(settings(text), pairs(expected), "{text}");
        }
    }

    #[test]
    fn what_libpq_refuses_is_refused_in_one_line_without_quoting_a_value() {
        use ConnInfoError::*;
        let table: &[(&str, ConnInfoError)] = &[
            ("hots=/tmp dbname=x", UnknownKeyword("hots".into())),
            ("postgresql:///x?hots=/tmp", UnknownParameter("hots".into())),
            ("postgresql:///x?ssl=false", UnknownParameter("ssl".into())),
            ("host=/tmp dbname", MissingEquals("dbname".into())),
            ("host=/tmp hunter2", StrayWord(11)),
            ("host='/tmp dbname=x", UnterminatedQuote),
            ("password='hunter2", UnterminatedQuote),
            ("postgresql://h?sslmode", ParameterWithoutEquals(1)),
            ("postgresql://h?a=1&&b=2", ParameterWithoutEquals(2)),
            ("postgresql://h?user=a=b", ParameterExtraEquals(1)),
            ("postgresql://u:hunter%2@h/db", BadPercent(Part::Password)),
            ("postgresql://h/db%zz", BadPercent(Part::Dbname)),
            ("postgresql://h/db?user=%00", NulByte(Part::Parameter(1))),
            ("postgresql://h/db?user=%ff", NotUtf8(Part::Parameter(1))),
            ("postgresql://[::1/db", UnclosedBracket),
            ("postgresql://[]/db", EmptyIpv6),
            ("postgresql://[::1]x/db", AfterBracket('x', 19)),
        ];
        for (text, expected) in table {
            let e = ConnInfo::parse(text).unwrap_err();
            assert_eq!(&e, expected, "{text}");
            let message = e.to_string();
            assert!(!message.contains('\n') && !message.contains("hunter"), "{text}: {message}");
        }
    }

    #[test]
    fn a_redacted_string_shows_everything_but_passwords_and_unknown_values() {
        let table = [
            ("postgresql://u:hunter2@h/db", "postgresql://u:***@h/db"),
            ("postgresql://u@h/db?host=/tmp", "postgresql://u@h/db?host=/tmp"),
            ("postgresql://h/db?password=hunter2&user=u", "postgresql://h/db?password=***&user=u"),
            ("postgresql://h/db?pasword=hunter2", "postgresql://h/db?pasword=***"),
            ("postgresql://u:hunter2@h/db?x=%zz&password=hunter2", "postgresql://u:***@h/db?x=***&password=***"),
            ("postgresql://u:hunter2@[::1/db?password=hunter2", "postgresql://u:***@[::1/db?password=***"),
            ("postgresql://h/db?hunter2", "postgresql://h/db?***"),
            ("host=/tmp password='hunter 2' user=u", "host=/tmp password='***' user=u"),
            ("password='hunter2'user=u", "password='***'user=u"),
            ("host=/tmp password='hunter2", "host=/tmp password='***"),
            (r"password=hunt\ er2 user=u", "password=*** user=u"),
            ("host=/tmp hunter2 user=u", "host=/tmp *** user=u"),
            ("/var/lib/roomcast", "/var/lib/roomcast"),
        ];
        for (text, shown) in table {
            assert_eq!(redact(text), shown, "{text}");
        }
    }

    #[test]
    fn settings_logged_for_debugging_hide_the_password() {
        let info = ConnInfo::parse("postgresql://ana:hunter2@h/db").unwrap();
        assert_eq!(format!("{info:?}"), r#"{"dbname": "db", "host": "h", "password": "***", "user": "ana"}"#);
    }

    #[test]
    fn connection_strings_are_told_from_folders() {
        for text in ["postgresql:///db", "postgres://h", "host=/tmp", " dbname = x", "user=a password=b"] {
            assert!(is_connection_string(text), "{text}");
        }
        for text in ["/var/lib/roomcast", "library", "./host=x", "/srv/a=b", "Host=x", "postgresql:/x", "=x", ""] {
            assert!(!is_connection_string(text), "{text}");
        }
    }
}
