//! The in-memory evaluator: OData query options applied to JSON rows.
//!
//! For data that is not in a database (a configuration file, the answer of
//! another service, a test's expected result), [`Evaluator`] applies
//! `$filter`, `$search`, `$orderby`, `$skip`, `$top`, `$count` and `$select`
//! to a slice of [`serde_json::Value`] objects, with the semantics the
//! [translator](crate::Translator) gives them on every database:
//!
//! - comparisons are two-valued: `null eq null` is true, `null lt 1` is
//!   false; functions of a null argument are null, and `and`/`or`/`not`
//!   follow three-valued logic (a row is kept only when the filter is true);
//! - strings compare case-sensitively, by Unicode code point; `tolower`,
//!   `toupper` and `$search` use [`crate::case`]'s one-to-one mapping;
//! - `$orderby` sorts nulls first ascending and last descending; with a
//!   schema every order ends with the key (as the translator's do), without
//!   one ties keep the order of the input;
//! - `any`/`all` range over arrays (of objects, or of primitive values: a
//!   range variable then stands for the value), `path/$count` counts them;
//!   a member whose predicate is null does not satisfy `all`;
//! - integer division truncates, and division by zero is null.
//!
//! The functions are the translator's: `contains`, `startswith`,
//! `endswith`, `length`, `indexof`, `substring`, `tolower`, `toupper`,
//! `trim`, `concat`, `year`, `month`, `day`, `hour`, `minute`, `second`,
//! `date`, `now`, `round`, `floor`, `ceiling`; and `in`, parameter aliases
//! and arithmetic. Everything else the parser recognises (`$expand`,
//! `$apply`, `$compute`, `has`, `cast`, type casts, ...) is a
//! [`TranslateError::Unsupported`], never ignored and never a panic.
//!
//! Without a schema ([`Evaluator::new`]) types come from the JSON values:
//! numbers, Booleans and strings; a string compared with a DateTimeOffset,
//! Date or GUID literal is read as one. A property that no row has is an
//! error (`Invalid`), one that some rows lack is null there. With a schema
//! ([`Evaluator::for_entity_set`], the same [`Schema`] the translator uses)
//! names are checked against the entity type, string values of
//! DateTimeOffset, Date and Guid properties are read as such (so
//! `2024-01-02T03:04:05Z` and `2024-01-02T03:04:05.5Z` sort as times),
//! navigation properties are arrays of objects of their target entity type,
//! and `$search` looks at the entity type's searchable properties (without
//! a schema: at every string property of the row).
//!
//! ```
//! use odata_sql::memory::Evaluator;
//! use serde_json::json;
//!
//! let rows = vec![
//!     json!({"name": "Ann", "age": 31, "tags": ["admin"]}),
//!     json!({"name": "bob", "age": null, "tags": []}),
//!     json!({"name": "Cid", "age": 25, "tags": ["dev", "admin"]}),
//! ];
//! let out = Evaluator::new()
//!     .apply_query(&rows, "$filter=tags/any(t: t eq 'admin')&$orderby=age desc&$select=name&$count=true")
//!     .unwrap();
//! assert_eq!(out.rows, vec![json!({"name": "Ann"}), json!({"name": "Cid"})]);
//! assert_eq!(out.count, Some(2));
//! ```

mod eval;
#[cfg(test)]
mod tests;
mod value;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use odata_parser::ast::{
    OrderBy, PathSegment, QueryOptions, Search, SearchExpr, Select, SelectItem, SortDirection, Span,
};
use odata_parser::{ParseError, ParserOptions, parse_query};
use serde_json::{Map, Value as Json};

use crate::case;
use crate::error::TranslateError;
use crate::expr::percent_decode;
use crate::schema::{EntityType, Schema};
use eval::{Ctx, Row};
use value::{Val, sort_order};

/// Why options could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// The query string does not parse (only from [`Evaluator::apply_query`]).
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The query is wrong for the rows (`Invalid`, HTTP 400) or asks for
    /// something the evaluator does not implement (`Unsupported`, 501).
    #[error("{0}")]
    Query(#[from] TranslateError),
    /// A row is not a JSON object.
    #[error("row {index} is not a JSON object")]
    NotAnObject {
        /// Its position in the input.
        index: usize,
    },
}

/// The result of [`Evaluator::apply`].
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The rows of the page: filtered, sorted, skipped, limited and
    /// projected (copies of the input rows).
    pub rows: Vec<Json>,
    /// With `$count=true`: how many rows matched `$filter` and `$search`,
    /// before `$skip` and `$top`.
    pub count: Option<u64>,
}

/// Applies query options to JSON rows; see the [module docs](self).
#[derive(Clone, Copy)]
pub struct Evaluator<'s> {
    schema: Option<&'s dyn Schema>,
    entity: Option<&'s EntityType>,
    now: DateTime<Utc>,
}

impl std::fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("entity", &self.entity.map(|e| &e.name))
            .field("now", &self.now)
            .finish()
    }
}

impl Default for Evaluator<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'s> Evaluator<'s> {
    /// An evaluator that takes types from the JSON values.
    pub fn new() -> Self {
        Evaluator {
            schema: None,
            entity: None,
            now: Utc::now(),
        }
    }

    /// An evaluator for rows of the entity set `set` of `schema` (the JSON
    /// records use the OData property names). `None` when there is no
    /// such set.
    pub fn for_entity_set(schema: &'s dyn Schema, set: &str) -> Option<Self> {
        let entity = &*schema.entity_set(set)?.entity_type;
        Some(Evaluator {
            schema: Some(schema),
            entity: Some(entity),
            now: Utc::now(),
        })
    }

    /// The same evaluator with `now()` fixed to `now` (default: the time
    /// it was made).
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Parses `query` (a raw query string, as in a URL, without `?`) and
    /// applies it to `rows`.
    pub fn apply_query(&self, rows: &[Json], query: &str) -> Result<Outcome, EvalError> {
        let options = parse_query(query, &ParserOptions::default())?;
        self.apply(rows, &options)
    }

    /// Applies `options` to `rows`: `$filter` and `$search`, `$count`,
    /// `$orderby`, `$skip`, `$top`, then `$select`.
    pub fn apply(&self, rows: &[Json], options: &QueryOptions) -> Result<Outcome, EvalError> {
        refuse_unsupported(options)?;
        let objects: Vec<&Map<String, Json>> = rows
            .iter()
            .enumerate()
            .map(|(index, r)| r.as_object().ok_or(EvalError::NotAnObject { index }))
            .collect::<Result<_, _>>()?;
        let known: Option<HashSet<String>> = self.entity.is_none().then(|| {
            objects
                .iter()
                .flat_map(|o| o.keys().cloned())
                .collect::<HashSet<String>>()
        });
        let ctx = |target| Ctx {
            schema: self.schema,
            aliases: &options.aliases,
            target,
            now: self.now,
            known: known.as_ref(),
        };

        // $filter and $search.
        let filter_ctx = ctx("$filter");
        let mut kept: Vec<&Map<String, Json>> = Vec::new();
        for object in objects {
            if let Some(filter) = &options.filter {
                let mut row = Row::new(object, self.entity);
                if filter_ctx.condition(filter, &mut row)? != Some(true) {
                    continue;
                }
            }
            if let Some(search) = &options.search
                && !self.search(object, search)?
            {
                continue;
            }
            kept.push(object);
        }
        let count = options
            .count
            .is_some_and(|c| c.value)
            .then_some(kept.len() as u64);

        // $orderby.
        if let Some(orderby) = &options.orderby {
            kept = self.sort(kept, orderby, &ctx("$orderby"))?;
        } else if let Some(entity) = self.entity {
            kept = self.sort_by_key(kept, entity);
        }

        // $skip, $top.
        let skip = options
            .skip
            .map_or(0, |s| usize::try_from(s.value).unwrap_or(usize::MAX));
        let top = options.top.map_or(usize::MAX, |t| {
            usize::try_from(t.value).unwrap_or(usize::MAX)
        });
        let page = kept.into_iter().skip(skip).take(top);

        // $select.
        let rows = match &options.select {
            None => page.map(|o| Json::Object(o.clone())).collect(),
            Some(select) => {
                let names = self.selected(select, known.as_ref())?;
                page.map(|o| match &names {
                    None => Json::Object(o.clone()),
                    Some(names) => Json::Object(
                        o.iter()
                            .filter(|(k, _)| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ),
                })
                .collect()
            }
        };
        Ok(Outcome { rows, count })
    }

    fn sort<'a>(
        &'a self,
        rows: Vec<&'a Map<String, Json>>,
        orderby: &'a OrderBy,
        ctx: &Ctx<'a>,
    ) -> Result<Vec<&'a Map<String, Json>>, EvalError> {
        let mut keyed: Vec<(Vec<Val<'a>>, &'a Map<String, Json>)> = Vec::new();
        for object in rows {
            let mut row = Row::new(object, self.entity);
            let mut keys = Vec::new();
            for item in &orderby.items {
                keys.push(ctx.eval(&item.expr, &mut row)?);
            }
            keyed.push((keys, object));
        }
        let desc: Vec<bool> = orderby
            .items
            .iter()
            .map(|i| i.direction == Some(SortDirection::Desc))
            .collect();
        keyed.sort_by(|(a, ra), (b, rb)| {
            for ((x, y), desc) in a.iter().zip(b).zip(&desc) {
                let o = sort_order(x, y);
                let o = if *desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            self.key_order(ra, rb)
        });
        Ok(keyed.into_iter().map(|(_, o)| o).collect())
    }

    fn sort_by_key<'a>(
        &self,
        mut rows: Vec<&'a Map<String, Json>>,
        entity: &EntityType,
    ) -> Vec<&'a Map<String, Json>> {
        if !entity.key.is_empty() {
            rows.sort_by(|a, b| self.key_order(a, b));
        }
        rows
    }

    /// The order of the key properties (equal without a schema).
    fn key_order(&self, a: &Map<String, Json>, b: &Map<String, Json>) -> std::cmp::Ordering {
        let Some(entity) = self.entity else {
            return std::cmp::Ordering::Equal;
        };
        for p in entity.key_properties() {
            let read = |o: &Map<String, Json>| o.get(&p.name).cloned().unwrap_or(Json::Null);
            let (x, y) = (read(a), read(b));
            let o = sort_order(
                &Val::from_json(&x, Some(p.edm_type), None),
                &Val::from_json(&y, Some(p.edm_type), None),
            );
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    }

    /// The selected names; `None` for `*`.
    fn selected(
        &self,
        select: &Select,
        known: Option<&HashSet<String>>,
    ) -> Result<Option<Vec<String>>, EvalError> {
        let mut names = Vec::new();
        for item in &select.items {
            match item {
                SelectItem::Star(_) => return Ok(None),
                SelectItem::Path {
                    segments,
                    options: None,
                    span,
                } => {
                    let [PathSegment::Member { name, key: None }] = segments.as_slice() else {
                        return Err(unsupported(
                            "$select",
                            *span,
                            "only properties of the rows can be selected",
                        ));
                    };
                    let exists = match self.entity {
                        Some(e) => {
                            e.property(&name.name).is_some() || e.navigation(&name.name).is_some()
                        }
                        None => known
                            .is_some_and(|k| k.iter().any(|n| n.eq_ignore_ascii_case(&name.name))),
                    };
                    if !exists {
                        return Err(TranslateError::invalid(
                            "$select",
                            name.span,
                            format!("unknown property `{}`", name.name),
                        )
                        .into());
                    }
                    names.push(name.name.clone());
                }
                SelectItem::Path { span, .. } | SelectItem::Operation { span, .. } => {
                    return Err(unsupported(
                        "$select",
                        *span,
                        "nested options and operations in $select are not supported",
                    ));
                }
                SelectItem::AllOperations(ident) => {
                    return Err(unsupported(
                        "$select",
                        ident.span,
                        "operations in $select are not supported",
                    ));
                }
            }
        }
        Ok(Some(names))
    }

    /// `$search`: every term occurs, case-insensitively, as a substring of
    /// a searchable property.
    fn search(&self, row: &Map<String, Json>, search: &Search) -> Result<bool, EvalError> {
        let texts: Vec<&str> = match self.entity {
            Some(entity) => {
                if entity.searchable.is_empty() {
                    return Err(unsupported(
                        "$search",
                        search.span,
                        format!("{} has no searchable properties", entity.name),
                    ));
                }
                entity
                    .searchable
                    .iter()
                    .map(|n| row.get(n).and_then(Json::as_str).unwrap_or(""))
                    .collect()
            }
            None => row.values().filter_map(Json::as_str).collect(),
        };
        let lowered: Vec<String> = texts.iter().map(|t| case::lower(t)).collect();
        search_matches(&lowered, &search.expr)
    }
}

fn search_matches(lowered: &[String], expr: &SearchExpr) -> Result<bool, EvalError> {
    Ok(match expr {
        SearchExpr::Term(text, span) | SearchExpr::Phrase(text, span) => {
            let term = case::lower(
                &percent_decode(text).map_err(|m| TranslateError::invalid("$search", *span, m))?,
            );
            lowered.iter().any(|t| t.contains(&term))
        }
        SearchExpr::Not(inner, _) => !search_matches(lowered, inner)?,
        SearchExpr::And(l, r, _) => search_matches(lowered, l)? && search_matches(lowered, r)?,
        SearchExpr::Or(l, r, _) => search_matches(lowered, l)? || search_matches(lowered, r)?,
    })
}

fn unsupported(target: &str, span: Span, message: impl Into<String>) -> EvalError {
    TranslateError::unsupported(target, span, message).into()
}

/// The options the evaluator does not implement.
fn refuse_unsupported(options: &QueryOptions) -> Result<(), EvalError> {
    let spans = [
        ("$expand", options.expand.as_ref().map(|e| e.span)),
        ("$compute", options.compute.as_ref().map(|c| c.span)),
        ("$apply", options.apply.as_ref().map(|a| a.span)),
        ("$skiptoken", options.skiptoken.as_ref().map(|t| t.span)),
        ("$deltatoken", options.deltatoken.as_ref().map(|t| t.span)),
        ("$index", options.index.as_ref().map(|i| i.span)),
        ("$levels", options.levels.as_ref().map(|_| Span::default())),
    ];
    for (option, span) in spans {
        if let Some(span) = span {
            return Err(unsupported(
                option,
                span,
                format!("{option} is not supported by the in-memory evaluator"),
            ));
        }
    }
    Ok(())
}
