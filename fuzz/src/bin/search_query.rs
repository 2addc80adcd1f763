//! Search queries as users type them, against a library with one indexed room: hits or a
//! one-line error, never a panic or a database error.
use roomcast::library::{self, Access, LibraryError, SearchQuery};

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut library = library::open(dir.path(), Access::Write).expect("library");
    let session_dir = std::env::var("FUZZ_SESSION").expect("FUZZ_SESSION: a transcribed session folder");
    let session = roomcast::session::Session::open(std::path::Path::new(&session_dir)).expect("session");
    let doc = session.transcript().expect("transcript.json").expect("a transcript");
    library.index_room(&session, Some(&doc), &[]).expect("index");
    // A panic ends the run (AFL records it); the library is not reused after one.
    let library = std::panic::AssertUnwindSafe(library);
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else { return };
        let query = SearchQuery {
            text: text.to_string(),
            speaker: None,
            room: None,
            since: None,
            until: None,
            limit: 20,
            include_private: true,
        };
        match library.search(&query) {
            Ok(_) | Err(LibraryError::BadQuery { .. }) | Err(LibraryError::EmptyQuery) => {}
            Err(e) => panic!("{text:?}: {e}"),
        }
    });
}
