//! "Did you mean …": the closest known name to a misspelt one, for error
//! messages. Computed only when an error is built, never on a successful
//! translation.

/// The canonical functions the translator implements (`$filter`,
/// `$orderby`, `$compute`), the candidates for an unknown function.
pub const FUNCTIONS: &[&str] = &[
    "ceiling",
    "concat",
    "contains",
    "date",
    "day",
    "endswith",
    "floor",
    "hour",
    "indexof",
    "length",
    "minute",
    "month",
    "now",
    "round",
    "second",
    "startswith",
    "substring",
    "tolower",
    "toupper",
    "trim",
    "year",
];

/// The candidate closest to `name` by [`distance`] (compared without
/// regard to ASCII case), if it is close enough to be a likely misspelling:
/// at most one edit for names of up to four characters, two up to eight,
/// three beyond. Ties go to the first candidate.
///
/// ```
/// use odata_sql::suggest::closest;
/// let props = ["status", "userKey", "name"];
/// assert_eq!(closest("stauts", props), Some("status"));
/// assert_eq!(closest("usrkey", props), Some("userKey"));
/// assert_eq!(closest("colour", props), None);
/// ```
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    let limit = match name.chars().count() {
        0 => return None,
        1..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .map(|c| (distance(&name, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `"; did you mean `x`?"` for the [`closest`] candidate, or `""`.
pub fn hint<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// The optimal string alignment distance (Damerau–Levenshtein without
/// repeated edits of a substring): insertions, deletions, substitutions
/// and transpositions of two adjacent characters each cost one.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back (for transpositions), one back, current.
    let mut two_back: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(two_back[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut two_back, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(distance("status", "status"), 0);
        assert_eq!(distance("stauts", "status"), 1);
        assert_eq!(distance("fliter", "filter"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("ca", "abc"), 3);
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("STAUTS", ["name", "status"]), Some("status"));
        assert_eq!(
            closest("tolowr", FUNCTIONS.iter().copied()),
            Some("tolower")
        );
        assert_eq!(
            closest("contians", FUNCTIONS.iter().copied()),
            Some("contains")
        );
        assert_eq!(closest("xyz", FUNCTIONS.iter().copied()), None);
        assert_eq!(closest("", ["a"]), None);
        assert_eq!(hint("nam", ["name"]), "; did you mean `name`?");
        assert_eq!(hint("zzzz", ["name"]), "");
    }
}
