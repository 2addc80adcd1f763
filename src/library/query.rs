//! roomcast's search language, parsed into a tree every catalog backend compiles its own way, so a
//! query means the same whatever holds the library.
//!
//! ```text
//! podcast            a word (any case; accents and English endings are the backend's to fold)
//! pod*               words starting with pod
//! "quiet guest"      a phrase: these words, next to each other, in this order
//! a + b              also a phrase ("a b")
//! a b, a AND b       both
//! a OR b             either
//! a NOT b            a, without b
//! NEAR(a b, 5)       a and b at most 5 words apart (10 when no distance is given)
//! ( ... )            grouping
//! text:podcast       in the transcript text: the one field there is, so the same as podcast
//! ```
//!
//! Precedence is FTS5's: words side by side bind tightest, then NOT, then AND, then OR; each is
//! left-associative. Operators are upper case; `and` is a word. Punctuation inside a word splits it
//! where SQLite's unicode61 tokenizer does (letters, digits, private-use characters and combining
//! accents make words; everything else separates them), so `don't` is the phrase `"don t"` and
//! `café-society` the phrase `"café society"`. Punctuation that makes no word is ignored.

use std::fmt;

/// Words in order, next to each other. One word is a plain term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    /// Never empty; each word is one token, as the user typed it (case and accents kept).
    pub words: Vec<String>,
    /// The last word matches any word it starts (`pod*`).
    pub prefix: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Phrase(Phrase),
    /// Every one of these (two or more).
    And(Vec<Query>),
    /// Any one of these (two or more).
    Or(Vec<Query>),
    /// The first, where the second does not also match.
    Not(Box<Query>, Box<Query>),
    /// Every phrase (two or more), with at most `distance` words between neighbours.
    Near {
        phrases: Vec<Phrase>,
        distance: u32,
    },
}

/// NEAR's distance when the query gives none (FTS5's default).
pub const DEFAULT_NEAR: u32 = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No word to look for: blank, or only operators and punctuation.
    #[error("the search is empty")]
    Empty,
    #[error("{0}")]
    Invalid(String),
}

impl Query {
    /// One word; `prefix`: words starting with it too.
    pub fn term(word: &str, prefix: bool) -> Query {
        Query::Phrase(Phrase { words: vec![word.to_string()], prefix })
    }

    /// Words in this order.
    pub fn phrase(words: &[&str]) -> Query {
        Query::Phrase(Phrase { words: words.iter().map(|w| w.to_string()).collect(), prefix: false })
    }
}

/// Whether unicode61 (SQLite's default tokenizer, as the library's index uses it) keeps `c` in a
/// word: Unicode letters and numbers, private-use characters, and the combining accents it folds.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_private_use(c) || is_folded_accent(c)
}

fn is_private_use(c: char) -> bool {
    matches!(c as u32, 0xE000..=0xF8FF | 0xF_0000..=0xF_FFFD | 0x10_0000..=0x10_FFFD)
}

/// The combining marks unicode61 counts as diacritics (sqlite3Fts5UnicodeIsdiacritic's table).
fn is_folded_accent(c: char) -> bool {
    let c = c as u32;
    if !(768..=817).contains(&c) {
        return false;
    }
    let (mask, bit) = if c < 800 { (0x0802_9FDFu32, c - 768) } else { (0x0003_61F8u32, c - 800) };
    mask & (1 << bit) != 0
}

/// The words of `text` as unicode61 splits them.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_char(c)).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// Text outside quotes, up to whitespace or one of `()",*+`.
    Bare(String),
    Quoted(String),
    Open,
    Close,
    Comma,
    Star,
    Plus,
}

/// Characters that end a bare word. `:` does not: `text:` is read from the word, and `10:30` stays
/// one word (the phrase "10 30").
fn is_special(c: char) -> bool {
    matches!(c, '(' | ')' | '"' | ',' | '*' | '+')
}

fn tokens(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            '*' => out.push(Token::Star),
            '+' => out.push(Token::Plus),
            '"' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        // "" inside quotes is a quote, as in FTS5 and SQL.
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            s.push('"');
                        }
                        Some('"') => break,
                        Some(c) => s.push(c),
                        None => {
                            // A query without any word is empty, however it is punctuated.
                            return Err(if words(text).is_empty() {
                                QueryError::Empty
                            } else {
                                QueryError::Invalid("unclosed quote".into())
                            });
                        }
                    }
                }
                out.push(Token::Quoted(s));
            }
            c => {
                let mut s = String::from(c);
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || is_special(c) {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                out.push(Token::Bare(s));
            }
        }
    }
    Ok(out)
}

fn is_operator(t: &Token) -> bool {
    matches!(t, Token::Bare(w) if w == "AND" || w == "OR" || w == "NOT")
}

/// Parses the user's search text. `QueryError::Empty` when it holds no word to look for.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let tokens = tokens(text)?;
    if tokens.len() > MAX_TOKENS {
        return Err(invalid(&format!("more than {MAX_TOKENS} words and operators")));
    }
    let has_word = tokens.iter().any(|t| match t {
        Token::Bare(w) => !is_operator(t) && w != "NEAR" && !words(w).is_empty(),
        Token::Quoted(q) => !words(q).is_empty(),
        _ => false,
    });
    if !has_word {
        return Err(QueryError::Empty);
    }
    let mut p = Parser { tokens, at: 0, depth: 0 };
    let query = p.or()?;
    match p.peek() {
        None => query.ok_or(QueryError::Empty),
        // `or` stops only at the end or at a ')'.
        Some(_) => Err(invalid("a ')' without its '('")),
    }
}

fn invalid(reason: &str) -> QueryError {
    QueryError::Invalid(reason.to_string())
}

fn describe(t: &Token) -> String {
    match t {
        Token::Bare(w) | Token::Quoted(w) => format!("'{w}'"),
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Comma => "','".into(),
        Token::Star => "'*'".into(),
        Token::Plus => "'+'".into(),
    }
}

/// Longer than any person types; the limit bounds the tree's depth (a chain of NOTs nests), which
/// backends walk recursively.
const MAX_TOKENS: usize = 1_000;

/// Deeper nesting than any person types; the limit keeps a hostile query from exhausting the stack.
const MAX_DEPTH: usize = 100;

/// Recursive descent, one level per precedence. Each level gives `None` where its part of the query
/// holds no word (only punctuation): an operator with nothing on one side is an error, a group with
/// nothing in it is ignored.
struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

type Parsed = Result<Option<Query>, QueryError>;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Parsed {
        self.binary("OR", Self::and, Query::Or)
    }

    fn and(&mut self) -> Parsed {
        self.binary("AND", Self::not, Query::And)
    }

    fn not(&mut self) -> Parsed {
        self.binary("NOT", Self::sequence, |mut parts| {
            let first = parts.remove(0);
            parts.into_iter().fold(first, |left, right| Query::Not(Box::new(left), Box::new(right)))
        })
    }

    /// `next (op next)*`, every side holding a word.
    fn binary(&mut self, op: &str, next: fn(&mut Self) -> Parsed, make: fn(Vec<Query>) -> Query) -> Parsed {
        let first = next(self)?;
        let mut parts = Vec::new();
        while matches!(self.peek(), Some(Token::Bare(w)) if w == op) {
            self.at += 1;
            // The operator's own complaint comes first: `a OR AND b` lacks words after OR.
            if self.peek().is_none_or(|t| is_operator(t) || *t == Token::Close) {
                return Err(invalid(&format!("{op} needs words after it")));
            }
            if parts.is_empty() {
                parts.push(first.clone().ok_or_else(|| invalid(&format!("{op} needs words before it")))?);
            }
            parts.push(next(self)?.ok_or_else(|| invalid(&format!("{op} needs words after it")))?);
        }
        Ok(if parts.is_empty() { first } else { Some(make(parts)) })
    }

    /// Words side by side: all of them (FTS5's implicit AND, which binds tighter than NOT).
    fn sequence(&mut self) -> Parsed {
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None | Some(Token::Close) => break,
                Some(t) if is_operator(t) => break,
                _ => {}
            }
            if let Some(q) = self.primary()? {
                parts.push(q);
            }
        }
        Ok(match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Query::And(parts)),
        })
    }

    /// One word, phrase, NEAR group or parenthesised query.
    fn primary(&mut self) -> Parsed {
        let Some(token) = self.peek().cloned() else { return Ok(None) };
        match token {
            Token::Bare(w) if w == "NEAR" && self.tokens.get(self.at + 1) == Some(&Token::Open) => {
                self.at += 2;
                self.near().map(Some)
            }
            Token::Open => {
                self.at += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(invalid(&format!("more than {MAX_DEPTH} parentheses inside each other")));
                }
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(invalid("unclosed parenthesis"));
                }
                self.at += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Token::Bare(w) => {
                if let Some((field, rest)) = field_of(&w) {
                    if field != "text" {
                        return Err(invalid(&format!("'{field}:' names no field to search (text: is the only one)")));
                    }
                    if rest.is_empty() {
                        // `text:` applies to what follows: a phrase or a group.
                        self.at += 1;
                        return match self.peek() {
                            Some(t) if !is_operator(t) && *t != Token::Close => self.primary(),
                            _ => Err(invalid("text: needs words after it")),
                        };
                    }
                    self.tokens[self.at] = Token::Bare(rest.to_string());
                    return self.primary();
                }
                Ok(self.phrase().map(Query::Phrase))
            }
            Token::Quoted(_) => Ok(self.phrase().map(Query::Phrase)),
            // Stray punctuation, as unicode61 treats it: no word.
            Token::Comma | Token::Star | Token::Plus => {
                self.at += 1;
                Ok(None)
            }
            Token::Close => Ok(None),
        }
    }

    /// A word or quoted phrase, joined to following ones by `+`, with a `*` after it for a prefix.
    /// `None` when it makes no word (punctuation only).
    fn phrase(&mut self) -> Option<Phrase> {
        let mut phrase = Phrase { words: Vec::new(), prefix: false };
        while let Some(Token::Bare(w) | Token::Quoted(w)) = self.peek() {
            phrase.words.extend(words(w));
            self.at += 1;
            // The tree has a prefix on a phrase's last word only: a star before a `+` is dropped.
            phrase.prefix = false;
            while self.peek() == Some(&Token::Star) {
                phrase.prefix = true;
                self.at += 1;
            }
            let joined = self.peek() == Some(&Token::Plus)
                && matches!(self.tokens.get(self.at + 1), Some(t @ (Token::Bare(_) | Token::Quoted(_)))
                    if !is_operator(t) && !is_near(&self.tokens, self.at + 1));
            if !joined {
                break;
            }
            self.at += 1;
        }
        (!phrase.words.is_empty()).then_some(phrase)
    }

    /// After `NEAR(`: phrases, an optional `, distance`, then `)`.
    fn near(&mut self) -> Result<Query, QueryError> {
        let mut phrases = Vec::new();
        let mut distance = DEFAULT_NEAR;
        loop {
            match self.peek() {
                None => return Err(invalid("NEAR( without its ')'")),
                Some(Token::Close) => {
                    self.at += 1;
                    break;
                }
                Some(Token::Comma) => {
                    self.at += 1;
                    let number = match self.peek() {
                        Some(Token::Bare(n)) => n.clone(),
                        _ => return Err(invalid("NEAR's ',' must be followed by a distance in words")),
                    };
                    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
                        return Err(invalid(&format!("NEAR's distance '{number}' is not a whole number of words")));
                    }
                    // Beyond any transcript's length: as good as no limit.
                    distance = number.parse().unwrap_or(u32::MAX);
                    self.at += 1;
                    match self.peek() {
                        Some(Token::Close) => {
                            self.at += 1;
                            break;
                        }
                        None => return Err(invalid("NEAR( without its ')'")),
                        Some(t) => return Err(invalid(&format!("unexpected {} after NEAR's distance", describe(t)))),
                    }
                }
                Some(t) if is_operator(t) || *t == Token::Open => {
                    return Err(invalid(&format!("NEAR(...) takes words and phrases only, not {}", describe(t))));
                }
                Some(Token::Star | Token::Plus) => self.at += 1,
                Some(_) => phrases.extend(self.phrase()),
            }
        }
        if phrases.len() < 2 {
            return Err(invalid("NEAR needs at least two words or phrases"));
        }
        Ok(Query::Near { phrases, distance })
    }
}

fn is_near(tokens: &[Token], at: usize) -> bool {
    matches!(tokens.get(at), Some(Token::Bare(w)) if w == "NEAR") && tokens.get(at + 1) == Some(&Token::Open)
}

/// `field:rest` when a bare word starts with a field name (ASCII letters) and a colon.
fn field_of(word: &str) -> Option<(&str, &str)> {
    let (field, rest) = word.split_once(':')?;
    (!field.is_empty() && field.chars().all(|c| c.is_ascii_alphabetic())).then_some((field, rest))
}

/// The query in roomcast's syntax, fully parenthesised: what the tree means, for messages and
/// tests.
impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, parts: &[Query], op: &str) -> fmt::Result {
            write!(f, "(")?;
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{p}")?;
            }
            write!(f, ")")
        }
        match self {
            Query::Phrase(p) => write!(f, "{p}"),
            Query::And(parts) => list(f, parts, "AND"),
            Query::Or(parts) => list(f, parts, "OR"),
            Query::Not(a, b) => write!(f, "({a} NOT {b})"),
            Query::Near { phrases, distance } => {
                write!(f, "NEAR(")?;
                for (i, p) in phrases.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{p}")?;
                }
                write!(f, ", {distance})")
            }
        }
    }
}

impl fmt::Display for Phrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"{}", self.words.join(" ").replace('"', "\"\""), if self.prefix { "*" } else { "" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> String {
        parse(text).map(|q| q.to_string()).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn words_prefixes_and_phrases() {
        assert_eq!(parse("podcast"), Ok(Query::term("podcast", false)));
        assert_eq!(parse("pod*"), Ok(Query::term("pod", true)));
        assert_eq!(parse("pod *"), Ok(Query::term("pod", true)), "FTS5 takes the star after a space too");
        assert_eq!(parse("\"quiet guest\""), Ok(Query::phrase(&["quiet", "guest"])));
        assert_eq!(p("\"quiet gue\"*"), "\"quiet gue\"*");
        assert_eq!(p("quiet + guest"), "\"quiet guest\"");
        assert_eq!(p("quiet+guest"), "\"quiet guest\"");
        assert_eq!(p("\"a b\" + c"), "\"a b c\"");
        assert_eq!(p("  Podcast  "), "\"Podcast\"", "case is the backend's to fold");
        assert_eq!(p("\"say \"\"hi\"\"\""), "\"say hi\"", "a doubled quote inside quotes is a quote");
    }

    #[test]
    fn precedence_is_fts5s() {
        // Side by side binds tighter than NOT, NOT than AND, AND than OR.
        assert_eq!(p("a b"), "(\"a\" AND \"b\")");
        assert_eq!(p("a OR b c"), "(\"a\" OR (\"b\" AND \"c\"))");
        assert_eq!(p("a OR b AND c"), "(\"a\" OR (\"b\" AND \"c\"))");
        assert_eq!(p("a AND b OR c"), "((\"a\" AND \"b\") OR \"c\")");
        assert_eq!(p("a NOT b c"), "(\"a\" NOT (\"b\" AND \"c\"))");
        assert_eq!(p("a NOT b AND c"), "((\"a\" NOT \"b\") AND \"c\")");
        assert_eq!(p("a NOT b NOT c"), "((\"a\" NOT \"b\") NOT \"c\")");
        assert_eq!(p("a NOT b OR c"), "((\"a\" NOT \"b\") OR \"c\")");
        assert_eq!(p("(a OR b) c"), "((\"a\" OR \"b\") AND \"c\")");
        assert_eq!(p("a AND (b OR c)"), "(\"a\" AND (\"b\" OR \"c\"))");
        assert_eq!(p("a OR b OR c"), "(\"a\" OR \"b\" OR \"c\")");
        assert_eq!(p("((a))"), "\"a\"");
        // Lower case is a word.
        assert_eq!(p("rock and roll"), "(\"rock\" AND \"and\" AND \"roll\")");
        assert_eq!(p("\"AND\""), "\"AND\"");
    }

    #[test]
    fn near_groups() {
        assert_eq!(
            parse("NEAR(speaker own, 5)"),
            Ok(Query::Near {
                phrases: vec![
                    Phrase { words: vec!["speaker".into()], prefix: false },
                    Phrase { words: vec!["own".into()], prefix: false }
                ],
                distance: 5
            })
        );
        assert_eq!(p("NEAR(a b)"), "NEAR(\"a\" \"b\", 10)");
        assert_eq!(p("NEAR(\"quiet guest\" loud*, 3)"), "NEAR(\"quiet guest\" \"loud\"*, 3)");
        assert_eq!(p("NEAR(a b c,0)"), "NEAR(\"a\" \"b\" \"c\", 0)");
        assert_eq!(p("x NEAR(a b) OR y"), "((\"x\" AND NEAR(\"a\" \"b\", 10)) OR \"y\")");
        // NEAR without a parenthesis is a word.
        assert_eq!(p("NEAR here"), "(\"NEAR\" AND \"here\")");
    }

    #[test]
    fn punctuation_splits_words_as_unicode61_does() {
        assert_eq!(p("don't"), "\"don t\"");
        assert_eq!(p("don’t"), "\"don t\"");
        assert_eq!(p("café-society"), "\"café society\"");
        assert_eq!(p("foo_bar"), "\"foo bar\"");
        assert_eq!(p("3.5"), "\"3 5\"");
        assert_eq!(p("10:30"), "\"10 30\"");
        assert_eq!(p("podcast!"), "\"podcast\"");
        assert_eq!(p("c++ rust"), "(\"c\" AND \"rust\")");
        assert_eq!(p("a & b"), "(\"a\" AND \"b\")");
        assert_eq!(p("rock'n*"), "\"rock n\"*");
        assert_eq!(p("{a}"), "\"a\"");
        assert_eq!(p("^start"), "\"start\"");
        assert_eq!(p("a , b"), "(\"a\" AND \"b\")");
        // Letters of every script, accents kept for the backend to fold, decomposed accents too.
        assert_eq!(p("Naïve Ελληνικά 日本語"), "(\"Naïve\" AND \"Ελληνικά\" AND \"日本語\")");
        assert_eq!(p("cafe\u{301}"), "\"cafe\u{301}\"");
        assert_eq!(p("\u{E000}x"), "\"\u{E000}x\"", "private use is a word character");
        assert_eq!(p("’tis"), "\"tis\"");
    }

    #[test]
    fn sql_and_fts5_syntax_in_words_stay_words() {
        assert_eq!(p("\"'; DROP TABLE rooms; --\""), "\"DROP TABLE rooms\"");
        assert_eq!(p("text:podcast"), "\"podcast\"");
        assert_eq!(p("text:\"quiet guest\""), "\"quiet guest\"");
        assert_eq!(p("text: (a OR b)"), "(\"a\" OR \"b\")");
        assert_eq!(parse("'); SELECT 1"), Err(invalid("a ')' without its '('")));
    }

    #[test]
    fn empty_queries() {
        for q in ["", "   ", "\t\n", "!!!", "\"\"", "\"", "AND", "OR NOT", "()", "NEAR(", "* + ,", "\"!!", "-"] {
            assert_eq!(parse(q), Err(QueryError::Empty), "{q:?}");
        }
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        for (q, reason) in [
            ("\"unterminated", "unclosed quote"),
            ("podcast \"quiet guest", "unclosed quote"),
            ("podcast AND", "AND needs words after it"),
            ("podcast OR", "OR needs words after it"),
            ("guest NOT", "NOT needs words after it"),
            ("NOT host", "NOT needs words before it"),
            ("AND podcast", "AND needs words before it"),
            ("a AND OR b", "AND needs words after it"),
            ("a OR AND b", "OR needs words after it"),
            ("NEAR(a b", "NEAR( without its ')'"),
            ("NEAR(a b, 5", "NEAR( without its ')'"),
            ("NEAR(a)", "NEAR needs at least two words or phrases"),
            ("NEAR(a, 3)", "NEAR needs at least two words or phrases"),
            ("NEAR(a b, x)", "NEAR's distance 'x' is not a whole number of words"),
            ("NEAR(a b, -1)", "NEAR's distance '-1' is not a whole number of words"),
            ("NEAR(a b,)", "NEAR's ',' must be followed by a distance in words"),
            ("NEAR(a b, 5 c)", "unexpected 'c' after NEAR's distance"),
            ("NEAR(a OR b)", "NEAR(...) takes words and phrases only, not 'OR'"),
            ("(a OR b", "unclosed parenthesis"),
            ("a)", "a ')' without its '('"),
            ("speaker:maya", "'speaker:' names no field to search (text: is the only one)"),
            ("text:", "text: needs words after it"),
            ("a (AND b)", "AND needs words before it"),
            ("podcast AND !!!", "AND needs words after it"),
            ("(!!!) OR b", "OR needs words before it"),
        ] {
            assert_eq!(parse(q), Err(QueryError::Invalid(reason.into())), "{q:?}");
        }
        let deep = format!("{}a{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(matches!(parse(&deep), Err(QueryError::Invalid(r)) if r.contains("parentheses")));
        let long = vec!["a"; MAX_TOKENS + 1].join(" NOT ");
        assert!(matches!(parse(&long), Err(QueryError::Invalid(r)) if r.contains("words and operators")));
        let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(p(&ok), "\"a\"");
    }

    #[test]
    fn the_word_splitter_matches_unicode61s_table() {
        assert!(is_word_char('a') && is_word_char('Z') && is_word_char('7') && is_word_char('é'));
        assert!(!is_word_char('_') && !is_word_char('-') && !is_word_char('\'') && !is_word_char('’'));
        assert!(is_word_char('\u{300}') && is_word_char('\u{301}') && !is_word_char('\u{34F}'));
        assert!(!is_word_char('\u{332}'), "beyond unicode61's diacritics");
        assert_eq!(words("it's a café—really"), ["it", "s", "a", "café", "really"]);
    }
}
