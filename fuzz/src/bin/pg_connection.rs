//! PostgreSQL connection strings as users type them (`--library`, `$ROOMCAST_LIBRARY`), read as
//! libpq reads them: settings or a one-line error, never a panic. The text errors show in place of
//! the string (`redact`) reads back to the same settings, its password hidden.
use roomcast::library::postgres::{ConnInfo, conninfo};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let shown = conninfo::redact(text);
        match ConnInfo::parse(text) {
            Err(e) => assert!(!e.to_string().contains('\n'), "{text:?}: {e}"),
            Ok(info) => {
                let again = ConnInfo::parse(&shown).unwrap_or_else(|e| panic!("{text:?} shown as {shown:?}: {e}"));
                for (keyword, value) in info.settings() {
                    match again.get(keyword) {
                        Some("***" | "") | None if keyword == "password" => {}
                        found => assert_eq!(found, Some(value), "{text:?} shown as {shown:?}: {keyword}"),
                    }
                }
            }
        }
    });
}
