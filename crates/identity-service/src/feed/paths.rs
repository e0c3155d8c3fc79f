//! Resource paths of the feed: the path after the service root parsed
//! with [`odata_parser::parse_resource_path`] (raw URL text) and resolved
//! to what it addresses ([`Target`]), for reads and writes alike.

use actix_web::HttpRequest;
use odata_parser::ast::{ExprKind, KeyPredicate, Literal, ResourcePath, ResourceSegment};
use odata_parser::{ParserOptions, parse_resource_path};
use odata_sql::Schema;
use odata_sql::schema::{EntitySet, Navigation, Property};
use uuid::Uuid;

use crate::error::ApiError;
pub(super) use crate::http::split_path;
use crate::odata::schema::identity_schema;

/// The resource path after the service root of `req` and the service
/// root's own path (`/api/t/o/odata`), both as they arrived.
pub(super) fn resource_path(req: &HttpRequest) -> Result<(&str, ResourcePath), ApiError> {
    let (prefix, tail) = split_path(req.path());
    // `Users/` is `Users` (some clients append a slash to every URL).
    let tail = tail.strip_suffix('/').unwrap_or(tail);
    let path = if tail.is_empty() {
        ResourcePath {
            segments: Vec::new(),
            span: Default::default(),
        }
    } else {
        parse_resource_path(tail, &ParserOptions::default()).map_err(|e| {
            ApiError::bad_request(
                format!("invalid resource path `{tail}`: {}", e.message()),
                Some("resource path"),
            )
        })?
    };
    Ok((prefix, path))
}

/// What a resource path addresses.
pub(super) enum Target {
    ServiceDocument,
    Collection {
        set: &'static EntitySet,
        count: bool,
    },
    Entity {
        set: &'static EntitySet,
        id: Uuid,
    },
    Property {
        set: &'static EntitySet,
        id: Uuid,
        property: &'static Property,
        raw_value: bool,
    },
    Related {
        set: &'static EntitySet,
        id: Uuid,
        navigation: &'static Navigation,
        count: bool,
    },
    RelatedEntity {
        set: &'static EntitySet,
        id: Uuid,
        navigation: &'static Navigation,
        related_id: Uuid,
    },
}

/// A path segment after key-as-segment folding.
enum Seg<'a> {
    Member(&'a str, Option<Key<'a>>),
    Count,
    Value,
    Other(&'a ResourceSegment),
}

#[derive(Clone, Copy)]
enum Key<'a> {
    Predicate(&'a KeyPredicate),
    Segment(&'a odata_parser::ast::Expr),
}

fn segments(path: &ResourcePath) -> Vec<Seg<'_>> {
    let mut out: Vec<Seg<'_>> = Vec::new();
    for s in &path.segments {
        match s {
            ResourceSegment::Member { name, key } => {
                out.push(Seg::Member(&name.name, key.as_ref().map(Key::Predicate)));
            }
            ResourceSegment::KeySegment(e) => match out.last_mut() {
                Some(Seg::Member(_, key @ None)) => *key = Some(Key::Segment(e)),
                _ => out.push(Seg::Other(s)),
            },
            ResourceSegment::Count(_) => out.push(Seg::Count),
            ResourceSegment::Value(_) => out.push(Seg::Value),
            other @ (ResourceSegment::TypeCast(_)
            | ResourceSegment::Function { .. }
            | ResourceSegment::Ref(_)
            | ResourceSegment::Metadata(_)
            | ResourceSegment::Batch(_)
            | ResourceSegment::Entity(_)
            | ResourceSegment::All(_)
            | ResourceSegment::CrossJoin(..)
            | ResourceSegment::Each(_)
            | ResourceSegment::Filter(..)
            | ResourceSegment::Query(_)) => out.push(Seg::Other(other)),
        }
    }
    out
}

/// 501 naming what is not supported; the target is the `$`-segment itself,
/// or `resource path` for other path features.
pub(super) fn not_supported(what: &str) -> ApiError {
    let target = if what.starts_with('$') {
        what
    } else {
        "resource path"
    };
    ApiError::NotImplemented {
        message: format!("{what} is not supported by this feed"),
        target: Some(target.to_owned()),
        details: Vec::new(),
    }
}

fn no_resource(path: &ResourcePath) -> ApiError {
    ApiError::not_found(format!(
        "no resource `{}` in this service (entity sets: Users, Roles, Groups)",
        path.segments
            .iter()
            .map(|s| match s {
                ResourceSegment::Member { name, .. } => name.name.clone(),
                ResourceSegment::KeySegment(_)
                | ResourceSegment::TypeCast(_)
                | ResourceSegment::Function { .. }
                | ResourceSegment::Count(_)
                | ResourceSegment::Value(_)
                | ResourceSegment::Ref(_)
                | ResourceSegment::Metadata(_)
                | ResourceSegment::Batch(_)
                | ResourceSegment::Entity(_)
                | ResourceSegment::All(_)
                | ResourceSegment::CrossJoin(..)
                | ResourceSegment::Each(_)
                | ResourceSegment::Filter(..)
                | ResourceSegment::Query(_) => "…".to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/")
    ))
}

pub(super) fn entity_set(name: &str) -> Result<&'static EntitySet, ApiError> {
    identity_schema().entity_set(name).ok_or_else(|| {
        ApiError::not_found(format!("no entity set `{name}` (Users, Roles, Groups)"))
    })
}

/// The key of `set` written in a key predicate: an unquoted GUID literal.
fn key_id(set: &EntitySet, key: Key<'_>) -> Result<Uuid, ApiError> {
    let key_name = set.entity_type.key.first().map_or("id", String::as_str);
    let expr = match key {
        Key::Predicate(KeyPredicate::Single(e)) => Some(&**e),
        Key::Predicate(KeyPredicate::Named(pairs)) => match pairs.as_slice() {
            [(name, e)] if name.name.eq_ignore_ascii_case(key_name) => Some(e),
            _ => None,
        },
        Key::Segment(e) => Some(e),
    };
    let bad = || {
        ApiError::bad_request(
            format!(
                "the key of {} is a GUID written without quotes, e.g. {}(6f9619ff-8b86-d011-b42d-00c04fc964ff)",
                set.name, set.name
            ),
            Some("key"),
        )
    };
    let text = match expr.map(|e| &e.kind) {
        Some(ExprKind::Literal(literal)) => match literal {
            Literal::Guid(s) => Some(s),
            // Key-as-segment (`Users/6f…`): the parser keeps the raw text.
            Literal::String(s) if matches!(key, Key::Segment(_)) => Some(s),
            Literal::String(_)
            | Literal::Null
            | Literal::Boolean(_)
            | Literal::Integer(_)
            | Literal::Decimal(_)
            | Literal::Double(_)
            | Literal::Date(_)
            | Literal::DateTimeOffset(_)
            | Literal::TimeOfDay(_)
            | Literal::Duration(_)
            | Literal::Binary(_)
            | Literal::Enum { .. }
            | Literal::Geo { .. } => None,
        },
        Some(
            ExprKind::Path(_)
            | ExprKind::Lambda(_)
            | ExprKind::PathCount(_)
            | ExprKind::Alias(_)
            | ExprKind::Call(_)
            | ExprKind::Binary(_)
            | ExprKind::Unary(_)
            | ExprKind::In(_)
            | ExprKind::List(_)
            | ExprKind::Json(_),
        )
        | None => None,
    };
    text.and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(bad)
}

pub(super) fn resolve(path: &ResourcePath) -> Result<Target, ApiError> {
    let segs = segments(path);
    for s in &segs {
        if let Seg::Other(other) = s {
            return Err(match other {
                ResourceSegment::Ref(_) => not_supported("$ref"),
                ResourceSegment::Batch(_) => not_supported("$batch"),
                ResourceSegment::Entity(_) => not_supported("$entity"),
                ResourceSegment::All(_) => not_supported("$all"),
                ResourceSegment::CrossJoin(..) => not_supported("$crossjoin"),
                ResourceSegment::Each(_) => not_supported("$each"),
                ResourceSegment::Query(_) => not_supported("$query"),
                ResourceSegment::Filter(..) => not_supported("a $filter path segment"),
                ResourceSegment::Function { .. } => not_supported("a function call"),
                ResourceSegment::TypeCast(_) => not_supported("a type cast"),
                // A key segment that follows no entity set (`/(…)`).
                ResourceSegment::Metadata(_) | ResourceSegment::KeySegment(_) => no_resource(path),
                // Impossible: `segments` makes these `Seg::Member`,
                // `Seg::Count` and `Seg::Value`, never `Seg::Other`.
                ResourceSegment::Member { .. }
                | ResourceSegment::Count(_)
                | ResourceSegment::Value(_) => ApiError::internal(anyhow::anyhow!(
                    "feed::paths::segments kept a member, $count or $value segment as `Other`"
                )),
            });
        }
    }
    Ok(match segs.as_slice() {
        [] => Target::ServiceDocument,
        [Seg::Member(name, None)] => Target::Collection {
            set: entity_set(name)?,
            count: false,
        },
        [Seg::Member(name, None), Seg::Count] => Target::Collection {
            set: entity_set(name)?,
            count: true,
        },
        [Seg::Member(name, Some(key))] => {
            let set = entity_set(name)?;
            Target::Entity {
                set,
                id: key_id(set, *key)?,
            }
        }
        [
            Seg::Member(name, Some(key)),
            Seg::Member(member, related_key),
            rest @ ..,
        ] => {
            let set = entity_set(name)?;
            let id = key_id(set, *key)?;
            let entity = &set.entity_type;
            if let Some(navigation) = entity.navigation(member) {
                let target = entity_set(&navigation.target_set)?;
                match (related_key, rest) {
                    (None, []) => Target::Related {
                        set,
                        id,
                        navigation,
                        count: false,
                    },
                    (None, [Seg::Count]) => Target::Related {
                        set,
                        id,
                        navigation,
                        count: true,
                    },
                    (Some(k), []) => Target::RelatedEntity {
                        set,
                        id,
                        navigation,
                        related_id: key_id(target, *k)?,
                    },
                    _ => return Err(not_supported("a path deeper than one navigation")),
                }
            } else if let Some(property) = entity.property(member) {
                match (related_key, rest) {
                    (None, []) => Target::Property {
                        set,
                        id,
                        property,
                        raw_value: false,
                    },
                    (None, [Seg::Value]) => Target::Property {
                        set,
                        id,
                        property,
                        raw_value: true,
                    },
                    _ => return Err(no_resource(path)),
                }
            } else {
                return Err(ApiError::not_found(format!(
                    "{} has no property or navigation property `{member}`",
                    entity.name
                )));
            }
        }
        _ => return Err(no_resource(path)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_after_the_service_root() {
        assert_eq!(split_path("/api/t/o/odata"), ("/api/t/o/odata", ""));
        assert_eq!(split_path("/api/t/o/odata/"), ("/api/t/o/odata", ""));
        assert_eq!(
            split_path("/api/t/o/odata/Users(1)/roles"),
            ("/api/t/o/odata", "Users(1)/roles")
        );
    }
}
