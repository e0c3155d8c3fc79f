//! The case mapping of `tolower`, `toupper` and `$search`: Unicode *simple*
//! case mapping, one character to one character, with no context.
//!
//! PostgreSQL's `lower`/`upper` (with a UTF-8 `LC_CTYPE`) and MariaDB's map
//! character by character; Rust's `str::to_lowercase`/`to_uppercase` apply
//! the *full* mapping (`ß` → `SS`, a word-final `Σ` → `ς`, `İ` → `i̇`). To give
//! the same answers on every backend, the SQLite functions and the lowered
//! `$search` terms use this mapping instead: a character whose full mapping
//! is one character maps to it; one whose full mapping is several characters
//! keeps its simple mapping, which for these is the character itself except
//! for `İ` (U+0130), whose simple lower case is `i`.

/// `s` in lower case, character by character.
pub fn lower(s: &str) -> String {
    s.chars().map(lower_char).collect()
}

/// `s` in upper case, character by character.
pub fn upper(s: &str) -> String {
    s.chars().map(upper_char).collect()
}

fn lower_char(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    single(c.to_lowercase()).unwrap_or(c)
}

fn upper_char(c: char) -> char {
    single(c.to_uppercase()).unwrap_or(c)
}

fn single(mut mapped: impl Iterator<Item = char>) -> Option<char> {
    match (mapped.next(), mapped.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_one_character_to_one() {
        assert_eq!(lower("ÁNGELA Øyvind"), "ángela øyvind");
        assert_eq!(upper("straße groß"), "STRAßE GROß");
        // No final-sigma rule: every capital sigma becomes σ.
        assert_eq!(lower("ΠΑΠΑΔΌΠΟΥΛΟΣ"), "παπαδόπουλοσ");
        assert_eq!(lower("İSTANBUL"), "istanbul");
        assert_eq!(upper("ǆ"), "Ǆ");
        assert_eq!(lower(""), "");
    }
}
