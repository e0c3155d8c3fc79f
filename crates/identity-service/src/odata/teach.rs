//! Errors that teach: a failed query's error with the query text and a
//! caret under the failing character (in `error.details`), and "did you
//! mean …" for a misspelt system query option. Property, navigation and
//! function names are suggested by the translator ([`odata_sql::suggest`]).
//! Everything here runs only when an error is built.

use crate::error::{ApiError, ErrorDetail};

use super::QueryError;
use super::query_string;

impl ApiError {
    /// The error of a failed query without the query's text: no caret
    /// rendering (see [`QueryError::teach`], which adds it). Here, not in
    /// `error.rs`: the error layer knows no query.
    pub(crate) fn from_query(err: QueryError) -> Self {
        match err {
            QueryError::Parse(parse, hint) => ApiError::BadRequest {
                message: match hint {
                    Some(hint) => format!("{}; {hint}", parse.message()),
                    None => parse.message(),
                },
                target: parse.option.clone(),
                details: Vec::new(),
            },
            QueryError::Invalid {
                message, target, ..
            } => ApiError::BadRequest {
                message,
                target,
                details: Vec::new(),
            },
            QueryError::NotSupported {
                message, target, ..
            } => ApiError::NotImplemented {
                message,
                target,
                details: Vec::new(),
            },
            QueryError::TooExpensive(e) => ApiError::QueryTooExpensive {
                message: e.to_string(),
                target: Some(e.target().to_owned()),
            },
            e @ QueryError::TimedOut(_) => ApiError::QueryTimeout {
                message: e.to_string(),
            },
            e @ QueryError::TenantBusy { .. } => ApiError::TooManyRequests {
                message: e.to_string(),
                retry_after: crate::error::BUSY_RETRY_AFTER_SECONDS,
            },
            QueryError::Database(db) => db.into(),
        }
    }
}

/// The code of the `error.details` entry that shows the query with a caret.
pub const CARET_DETAIL: &str = "QueryPosition";

/// The system query options a misspelt `$`-option is compared with.
const SYSTEM_OPTIONS: &[&str] = &[
    "$filter",
    "$select",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$expand",
    "$search",
    "$compute",
    "$apply",
    "$skiptoken",
    "$format",
    "$inlinecount",
    "$levels",
    "$deltatoken",
    "$schemaversion",
    "$index",
    "$id",
];

impl QueryError {
    /// The API error of a query that failed on `raw_query` (the query
    /// string as the client sent it): the message as before (offsets
    /// unchanged), an unknown `$`-option followed by "did you mean …", and
    /// for errors with a position a detail [`CARET_DETAIL`] whose message
    /// is the query text with a caret under that position (the rendering of
    /// [`odata_parser::render_caret`]).
    pub fn teach(self, raw_query: &str) -> ApiError {
        let located = match &self {
            QueryError::Parse(e, _) => Some((e.offset, e.option.clone())),
            QueryError::Invalid { offset, target, .. }
            | QueryError::NotSupported { offset, target, .. } => {
                offset.map(|at| (at, target.clone()))
            }
            _ => None,
        };
        let suggestion = match &self {
            QueryError::Parse(e, _) if e.kind == odata_parser::ErrorKind::UnknownOption => e
                .option
                .as_deref()
                .map(|name| odata_sql::suggest::hint(name, SYSTEM_OPTIONS.iter().copied()))
                .filter(|hint| !hint.is_empty()),
            QueryError::Parse(e, _) if e.kind == odata_parser::ErrorKind::Syntax => {
                function_hint(&query_string::parsed_text(raw_query), e.offset)
            }
            _ => None,
        };
        let mut error = ApiError::from_query(self);
        let (message, details) = match &mut error {
            ApiError::BadRequest {
                message, details, ..
            }
            | ApiError::NotImplemented {
                message, details, ..
            } => (message, details),
            _ => return error,
        };
        if let Some(hint) = suggestion {
            message.push_str(&hint);
        }
        if let Some((offset, target)) = located {
            let text = query_string::parsed_text(raw_query);
            details.push(ErrorDetail {
                code: CARET_DETAIL.to_owned(),
                message: odata_parser::render_caret(message, &text, offset),
                target,
            });
        }
        error
    }
}

/// "Did you mean …" for a syntax error inside the parentheses of a name
/// that is not a function (`tolowr(name) eq 'a'`: the parser reads an
/// unknown name with parentheses as a key or a call it cannot parse).
fn function_hint(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset.min(text.len()))?;
    let open = before.rfind('(')?;
    if before[open..].contains(')') {
        return None;
    }
    let head = &before[..open];
    let start = head
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let name = &head[start..];
    // A lambda (`roles/any(`) or a known function is not misspelt.
    if name.is_empty()
        || head[..start].ends_with('/')
        || odata_sql::suggest::FUNCTIONS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name))
    {
        return None;
    }
    odata_sql::suggest::closest(name, odata_sql::suggest::FUNCTIONS.iter().copied())
        .map(|f| format!("; `{name}` is not a function: did you mean `{f}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caret(err: &ApiError) -> &str {
        match err {
            ApiError::BadRequest { details, .. } | ApiError::NotImplemented { details, .. } => {
                &details
                    .iter()
                    .find(|d| d.code == CARET_DETAIL)
                    .expect("a caret detail")
                    .message
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parse_errors_show_the_caret_and_suggest_options() {
        let raw = "$fliter=status eq 1";
        let err = query_string::parse(raw).unwrap_err().teach(raw);
        assert!(
            err.to_string().ends_with("; did you mean `$filter`?"),
            "{err}"
        );
        assert!(
            caret(&err).ends_with("  | $fliter=status eq 1\n  | ^\n"),
            "{}",
            caret(&err)
        );

        let raw = "$filter=status eq";
        let err = query_string::parse(raw).unwrap_err().teach(raw);
        assert!(!err.to_string().contains("did you mean"), "{err}");
        assert!(caret(&err).ends_with("  | $filter=status eq\n  |                  ^\n"));
    }

    #[test]
    fn misspelt_functions_are_suggested() {
        let hint = |t: &str, at| function_hint(t, at);
        assert_eq!(
            hint("$filter=tolowr(name) eq 'a'", 15).as_deref(),
            Some("; `tolowr` is not a function: did you mean `tolower`?")
        );
        assert_eq!(
            hint("$filter=contians(name,'a')", 21).as_deref(),
            Some("; `contians` is not a function: did you mean `contains`?")
        );
        assert_eq!(hint("$filter=roles/any(r:r/x eq 1", 27), None);
        assert_eq!(hint("$filter=contains(name,", 22), None);
        assert_eq!(hint("$filter=(name eq", 16), None);
        assert_eq!(hint("$filter=tolower(name) eq", 24), None);
    }

    #[test]
    fn positions_refer_to_the_text_parsed() {
        // `+` is a space; `%2F` and `%24` are decoded before parsing.
        let raw = "$filter=roles%2Fany(r:r%2Fxyz+eq+1)";
        let text = query_string::parsed_text(raw);
        assert_eq!(text, "$filter=roles/any(r:r/xyz eq 1)");
        let raw = "%24top=x";
        assert_eq!(query_string::parsed_text(raw), "$top=x");
    }
}
