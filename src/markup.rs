//! Escaping user text for the markup roomcast writes: HTML pages and the XML feed differ only in
//! how they spell an apostrophe and in XML 1.0 forbidding control characters.

/// Text for HTML content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    escape(text, "&#39;", false)
}

/// Text for XML element content and attribute values.
pub fn escape_xml(text: &str) -> String {
    escape(text, "&apos;", true)
}

fn escape(text: &str, apostrophe: &str, drop_controls: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apostrophe),
            // Control characters are not allowed in XML 1.0 at all, nor U+FFFE and U+FFFF: one
            // of them makes the whole feed unreadable to every app.
            c if drop_controls && (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Characters left as they are in a URL path segment or query value (RFC 3986 unreserved).
const UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes a path segment or query-string value.
pub fn url_value(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}
