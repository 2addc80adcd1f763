//! What to do next, said in the command line's terms (its commands and flags) after an error
//! whose message, from the library, says only what is wrong.

use roomcast::library::LibraryError;
use roomcast::web::ServeError;

/// Text to append to the error's one line: empty when there is no advice for it.
pub fn advice(error: &anyhow::Error) -> &'static str {
    let library = error.chain().find_map(|e| {
        e.downcast_ref::<LibraryError>().or_else(|| match e.downcast_ref::<ServeError>() {
            // `ServeError::Library` is transparent: the library's error is not in the chain by itself.
            Some(ServeError::Library(l)) => Some(l),
            _ => None,
        })
    });
    match library {
        Some(LibraryError::NotALibrary { .. }) => "; choose a new or empty folder with --library",
        Some(LibraryError::UnknownRoom(_)) => " (see `roomcast rooms`)",
        Some(LibraryError::EmptyQuery) => ", e.g. roomcast search \"podcast\"",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_follows_the_library_error_through_context_and_the_server() {
        let e = anyhow::Error::new(LibraryError::UnknownRoom("x".into())).context("publish step 4 of 4 failed");
        assert_eq!(
            format!("{e:#}{}", advice(&e)),
            "publish step 4 of 4 failed: no room 'x' in the library (see `roomcast rooms`)"
        );
        let e = anyhow::Error::new(ServeError::Library(LibraryError::EmptyQuery));
        assert_eq!(advice(&e), ", e.g. roomcast search \"podcast\"");
        assert_eq!(advice(&anyhow::anyhow!("other")), "");
    }
}
