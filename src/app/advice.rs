//! What to do next, said in the command line's terms (its commands and flags) after an error
//! whose message, from the library, says only what is wrong.

use crate::app::publish::AttachError;
use crate::import::ImportError;
use crate::library::LibraryError;
use crate::record::RecordError;
use crate::transcript::import::TranscriptImportError;
use crate::web::ServeError;

/// Text to append to the error's one line: empty when there is no advice for it.
pub fn advice(error: &anyhow::Error) -> &'static str {
    for e in error.chain() {
        let advice = match (
            e.downcast_ref::<ImportError>(),
            e.downcast_ref::<RecordError>(),
            e.downcast_ref::<TranscriptImportError>(),
            e.downcast_ref::<AttachError>(),
        ) {
            (Some(ImportError::OutHoldsSession(_) | ImportError::OutNotEmpty(_)), ..) => "; choose another --out",
            (Some(ImportError::NoSpeakers), ..) => {
                ": give --speaker NAME=FILE (repeatable) or a multichannel FILE with --channels"
            }
            (_, Some(RecordError::Exists(_)), ..) => "; choose another --out",
            (_, _, Some(TranscriptImportError::UnknownSpeakers { .. }), _) => "; use --add-speakers to add them",
            (.., Some(AttachError::HasTranscript(_))) => "; add --replace to replace it",
            _ => "",
        };
        if !advice.is_empty() {
            return advice;
        }
    }
    let library = error.chain().find_map(|e| {
        e.downcast_ref::<LibraryError>().or_else(|| match e.downcast_ref::<ServeError>() {
            // `ServeError::Library` is transparent: the library's error is not in the chain by itself.
            Some(ServeError::Library(l)) => Some(l),
            _ => None,
        })
    });
    match library {
        Some(LibraryError::BadConnectionString { .. }) => {
            "; --library takes what psql does: postgres://USER@HOST/DB, postgresql:///DB?host=SOCKET_DIR or 'host=SOCKET_DIR dbname=DB'"
        }
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
        let e = anyhow::Error::new(RecordError::Exists("room1".into()));
        assert_eq!(format!("{e:#}{}", advice(&e)), "room1 already exists; choose another --out");
        let e = anyhow::Error::new(ImportError::NoSpeakers);
        assert!(advice(&e).contains("--speaker NAME=FILE"));
    }
}
