//! Expressions (`$filter`, `$orderby` items) over one JSON row.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use odata_parser::ast::{
    AliasDef, Binary, BinaryOp, Expr, ExprKind, In, JsonValue, Lambda, LambdaKind, Literal,
    MemberPath, PathCount, PathRoot, PathSegment, Span, Unary, UnaryOp,
};
use serde_json::{Map, Value as Json};

use crate::error::TranslateError;
use crate::expr::{member_segment, parse_datetime, percent_decode};
use crate::memory::value::{Val, equal, order, parse_date};
use crate::schema::{EntityType, Schema};

mod function;

/// How deep parameter aliases may refer to each other.
const MAX_ALIAS_DEPTH: usize = 8;

/// What an expression is evaluated against.
pub(crate) struct Ctx<'a> {
    pub(crate) schema: Option<&'a dyn Schema>,
    pub(crate) aliases: &'a [AliasDef],
    /// The query option, for errors (`$filter`, `$orderby`).
    pub(crate) target: &'static str,
    /// The value of `now()`.
    pub(crate) now: DateTime<Utc>,
    /// Property names of the top-level rows (without a schema): a name no
    /// row has is unknown.
    pub(crate) known: Option<&'a std::collections::HashSet<String>>,
}

/// One row being evaluated and the range variables in scope.
pub(crate) struct Row<'a> {
    pub(crate) it: &'a Map<String, Json>,
    pub(crate) entity: Option<&'a EntityType>,
    pub(crate) vars: Vec<(String, Val<'a>)>,
    alias_depth: usize,
}

impl<'a> Row<'a> {
    pub(crate) fn new(it: &'a Map<String, Json>, entity: Option<&'a EntityType>) -> Self {
        Row {
            it,
            entity,
            vars: Vec::new(),
            alias_depth: 0,
        }
    }
}

impl<'a> Ctx<'a> {
    fn invalid(&self, span: Span, message: impl Into<String>) -> TranslateError {
        TranslateError::invalid(self.target, span, message)
    }

    fn unsupported(&self, span: Span, message: impl Into<String>) -> TranslateError {
        TranslateError::unsupported(self.target, span, message)
    }

    /// A Boolean expression: `Some(true)`, `Some(false)` or null (`None`).
    pub(crate) fn condition(
        &self,
        e: &'a Expr,
        row: &mut Row<'a>,
    ) -> Result<Option<bool>, TranslateError> {
        match self.eval(e, row)? {
            Val::Bool(b) => Ok(Some(b)),
            Val::Null => Ok(None),
            other => Err(self.invalid(
                e.span,
                format!("a condition must be Boolean, found {}", other.type_name()),
            )),
        }
    }

    pub(crate) fn eval(&self, e: &'a Expr, row: &mut Row<'a>) -> Result<Val<'a>, TranslateError> {
        match &e.kind {
            ExprKind::Literal(lit) => self.literal(lit, e.span),
            ExprKind::Path(path) => self.path(path, row),
            ExprKind::Lambda(lambda) => self.lambda(lambda, row),
            ExprKind::PathCount(count) => self.path_count(count, e.span, row),
            ExprKind::Alias(name) => {
                let Some(def) = self.aliases.iter().find(|a| a.name.name == name.name) else {
                    return Err(self.invalid(
                        name.span,
                        format!("parameter alias @{} is not defined", name.name),
                    ));
                };
                if row.alias_depth >= MAX_ALIAS_DEPTH {
                    return Err(self.invalid(name.span, "parameter aliases nest too deeply"));
                }
                row.alias_depth += 1;
                let v = self.eval(&def.value, row);
                row.alias_depth -= 1;
                v
            }
            ExprKind::Call(call) => self.call(call, e.span, row),
            ExprKind::Binary(binary) => self.binary(binary, row),
            ExprKind::Unary(unary) => self.unary(unary, e.span, row),
            ExprKind::In(within) => self.in_list(within, row),
            ExprKind::List(_) | ExprKind::Json(_) => Err(self.unsupported(
                e.span,
                "a list or JSON value is only supported on the right of `in`",
            )),
        }
    }

    fn literal(&self, lit: &Literal, span: Span) -> Result<Val<'a>, TranslateError> {
        let decode = |raw: &str| percent_decode(raw).map_err(|m| self.invalid(span, m));
        Ok(match lit {
            Literal::Null => Val::Null,
            Literal::Boolean(b) => Val::Bool(*b),
            Literal::Integer(i) => Val::Int(*i),
            Literal::Decimal(text) | Literal::Double(text) => {
                let value: f64 = text
                    .parse()
                    .map_err(|_| self.invalid(span, format!("`{text}` is not a number")))?;
                if !value.is_finite() {
                    return Err(self.unsupported(span, "NaN and INF are not supported"));
                }
                Val::Num(value)
            }
            Literal::String(raw) => Val::Str(Cow::Owned(decode(raw)?)),
            Literal::Date(raw) => {
                let text = decode(raw)?;
                Val::Date(
                    parse_date(&text).ok_or_else(|| {
                        self.invalid(span, format!("`{text}` is not a valid date"))
                    })?,
                )
            }
            Literal::DateTimeOffset(raw) => {
                let text = decode(raw)?;
                Val::Time(parse_datetime(&text).ok_or_else(|| {
                    self.invalid(span, format!("`{text}` is not a valid DateTimeOffset"))
                })?)
            }
            Literal::Guid(text) => Val::Guid(
                uuid::Uuid::parse_str(text)
                    .map_err(|_| self.invalid(span, format!("`{text}` is not a valid GUID")))?,
            ),
            Literal::TimeOfDay(_) => {
                return Err(self.unsupported(span, "TimeOfDay values are not supported"));
            }
            Literal::Duration(_) => {
                return Err(self.unsupported(span, "Duration values are not supported"));
            }
            Literal::Binary(_) => {
                return Err(self.unsupported(span, "binary values are not supported"));
            }
            Literal::Enum { type_name, .. } => {
                return Err(self.unsupported(
                    span,
                    format!("enumeration values are not supported (type {type_name})"),
                ));
            }
            Literal::Geo { .. } => {
                return Err(self.unsupported(span, "geographic values are not supported"));
            }
        })
    }

    /// The member `name` of an object of entity type `entity` (if known).
    fn member(
        &self,
        map: &'a Map<String, Json>,
        entity: Option<&'a EntityType>,
        name: &str,
        top_level: bool,
        span: Span,
    ) -> Result<Val<'a>, TranslateError> {
        let lookup = |wanted: &str| -> Option<&'a Json> {
            map.get(wanted).or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(wanted))
                    .map(|(_, v)| v)
            })
        };
        if let Some(entity) = entity {
            if let Some(p) = entity.property(name) {
                return Ok(lookup(&p.name)
                    .map_or(Val::Null, |v| Val::from_json(v, Some(p.edm_type), None)));
            }
            if let Some(nav) = entity.navigation(name) {
                let target = self
                    .schema
                    .and_then(|s| s.entity_set(&nav.target_set))
                    .map(|set| &*set.entity_type);
                return Ok(match lookup(&nav.name) {
                    Some(v) => Val::from_json(v, None, target),
                    None if nav.is_collection() => Val::Coll(&[], target),
                    None => Val::Null,
                });
            }
            return Err(self.invalid(
                span,
                format!("unknown property `{name}` of {}", entity.name),
            ));
        }
        match lookup(name) {
            Some(v) => Ok(Val::from_json(v, None, None)),
            None if top_level
                && self
                    .known
                    .is_some_and(|k| !k.iter().any(|n| n.eq_ignore_ascii_case(name))) =>
            {
                Err(self.invalid(span, format!("unknown property `{name}`")))
            }
            None => Ok(Val::Null),
        }
    }

    fn path(&self, path: &'a MemberPath, row: &Row<'a>) -> Result<Val<'a>, TranslateError> {
        let MemberPath {
            root,
            segments,
            span,
        } = path;
        let (mut current, rest, mut top_level) = match root {
            PathRoot::It => (Val::Entity(row.it, row.entity), &segments[..], true),
            PathRoot::This => return Err(self.unsupported(*span, "`$this` is not supported")),
            PathRoot::Root => {
                return Err(self.unsupported(*span, "`$root` paths are not supported"));
            }
            PathRoot::Implicit => match segments.first() {
                Some(PathSegment::Member { name, key: None }) => {
                    match row.vars.iter().rev().find(|(var, _)| *var == name.name) {
                        Some((_, v)) => (v.clone(), &segments[1..], false),
                        None => (Val::Entity(row.it, row.entity), &segments[..], true),
                    }
                }
                None
                | Some(
                    PathSegment::Member { key: Some(_), .. }
                    | PathSegment::TypeCast(_)
                    | PathSegment::Function { .. }
                    | PathSegment::Filter { .. }
                    | PathSegment::Aggregate(_),
                ) => (Val::Entity(row.it, row.entity), &segments[..], true),
            },
        };
        if rest.is_empty() && matches!(current, Val::Entity(..)) {
            return Err(self.unsupported(
                *span,
                "an entity (range variable or `$it`) cannot be used as a value",
            ));
        }
        for segment in rest {
            let name = match member_segment(segment, self.target, *span)? {
                (name, None) => name,
                (name, Some(_)) => {
                    return Err(self.unsupported(
                        name.span,
                        format!("key predicates are not supported (`{}`)", name.name),
                    ));
                }
            };
            current = match current {
                Val::Entity(map, entity) => {
                    self.member(map, entity, &name.name, top_level, name.span)?
                }
                // A member of a missing object is missing.
                Val::Null => Val::Null,
                Val::Coll(..) => {
                    return Err(self.invalid(
                        name.span,
                        "a collection has no members: use `any(...)`, `all(...)` or `$count`",
                    ));
                }
                other => {
                    return Err(self.invalid(
                        name.span,
                        format!(
                            "`{}`: a primitive value ({}) has no members",
                            name.name,
                            other.type_name()
                        ),
                    ));
                }
            };
            top_level = false;
        }
        Ok(current)
    }

    /// The collection a lambda or `$count` ranges over (null: empty).
    fn collection(
        &self,
        path: &'a MemberPath,
        row: &Row<'a>,
    ) -> Result<(&'a [Json], Option<&'a EntityType>), TranslateError> {
        match self.path(path, row)? {
            Val::Coll(items, entity) => Ok((items, entity)),
            Val::Null => Ok((&[], None)),
            other => Err(self.invalid(
                path.span,
                format!("needs a collection, found {}", other.type_name()),
            )),
        }
    }

    fn lambda(&self, lambda: &'a Lambda, row: &mut Row<'a>) -> Result<Val<'a>, TranslateError> {
        let Lambda {
            collection,
            kind,
            variable,
            predicate,
        } = lambda;
        let (items, entity) = self.collection(collection, row)?;
        let (Some(var), Some(pred)) = (variable, predicate) else {
            return Ok(Val::Bool(match kind {
                LambdaKind::Any => !items.is_empty(),
                LambdaKind::All => true,
            }));
        };
        if row.vars.iter().any(|(v, _)| *v == var.name) {
            return Err(self.invalid(
                var.span,
                format!("range variable `{}` is already in use", var.name),
            ));
        }
        let mut result = matches!(kind, LambdaKind::All);
        for item in items {
            row.vars
                .push((var.name.clone(), Val::from_json(item, None, entity)));
            let hit = self.condition(pred, row);
            row.vars.pop();
            // `any`: some member satisfies it; `all`: every member does (a
            // member whose predicate is null does not).
            let hit = hit? == Some(true);
            match (kind, hit) {
                (LambdaKind::Any, true) => {
                    result = true;
                    break;
                }
                (LambdaKind::All, false) => {
                    result = false;
                    break;
                }
                (LambdaKind::Any, false) | (LambdaKind::All, true) => {}
            }
        }
        Ok(Val::Bool(result))
    }

    fn path_count(
        &self,
        count: &'a PathCount,
        span: Span,
        row: &Row<'a>,
    ) -> Result<Val<'a>, TranslateError> {
        if count.filter.is_some() || count.search.is_some() {
            return Err(self.unsupported(
                span,
                "`$count` with nested `$filter` or `$search` is not supported",
            ));
        }
        let (items, _) = self.collection(&count.collection, row)?;
        Ok(Val::Int(items.len() as i64))
    }

    fn unary(
        &self,
        unary: &'a Unary,
        span: Span,
        row: &mut Row<'a>,
    ) -> Result<Val<'a>, TranslateError> {
        match unary.op {
            UnaryOp::Not => Ok(match self.condition(&unary.operand, row)? {
                Some(b) => Val::Bool(!b),
                None => Val::Null,
            }),
            UnaryOp::Neg => match self.eval(&unary.operand, row)? {
                Val::Int(i) => i
                    .checked_neg()
                    .map(Val::Int)
                    .ok_or_else(|| self.invalid(span, "the negation overflows Edm.Int64")),
                Val::Num(f) => Ok(Val::Num(-f)),
                Val::Null => Ok(Val::Null),
                other => Err(self.invalid(
                    span,
                    format!("`-` needs a number, found {}", other.type_name()),
                )),
            },
        }
    }

    fn binary(&self, binary: &'a Binary, row: &mut Row<'a>) -> Result<Val<'a>, TranslateError> {
        let Binary {
            op,
            op_span,
            left,
            right,
        } = binary;
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.condition(left, row)?;
                let r = self.condition(right, row)?;
                let and = *op == BinaryOp::And;
                Ok(match (l, r) {
                    (Some(a), _) | (_, Some(a)) if a != and => Val::Bool(!and),
                    (Some(_), Some(_)) => Val::Bool(and),
                    _ => Val::Null,
                })
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Lt
            | BinaryOp::Le => {
                let l = self.eval(left, row)?;
                let r = self.eval(right, row)?;
                self.compare(*op, &l, &r, *op_span).map(Val::Bool)
            }
            BinaryOp::Has => Err(self.unsupported(
                *op_span,
                "`has` is not supported (there are no enumeration types)",
            )),
            BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::DivBy
            | BinaryOp::Mod => {
                let l = self.eval(left, row)?;
                let r = self.eval(right, row)?;
                self.arithmetic(*op, l, r, *op_span)
            }
        }
    }

    /// A comparison: two-valued (`null eq null` is true, an order with a
    /// null is false).
    fn compare(
        &self,
        op: BinaryOp,
        l: &Val<'a>,
        r: &Val<'a>,
        span: Span,
    ) -> Result<bool, TranslateError> {
        let err = |m: String| self.invalid(span, format!("{m} using `{}`", op.keyword()));
        Ok(match op {
            BinaryOp::Eq => equal(l, r).map_err(err)?,
            BinaryOp::Ne => !equal(l, r).map_err(err)?,
            _ => match order(l, r).map_err(err)? {
                None => false,
                Some(o) => match op {
                    BinaryOp::Lt => o == Ordering::Less,
                    BinaryOp::Le => o != Ordering::Greater,
                    BinaryOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                },
            },
        })
    }

    fn arithmetic(
        &self,
        op: BinaryOp,
        l: Val<'a>,
        r: Val<'a>,
        span: Span,
    ) -> Result<Val<'a>, TranslateError> {
        let overflow = || self.invalid(span, format!("`{}` overflows Edm.Int64", op.keyword()));
        match (&l, &r) {
            (Val::Null, Val::Null | Val::Int(_) | Val::Num(_))
            | (Val::Int(_) | Val::Num(_), Val::Null) => Ok(Val::Null),
            (Val::Int(a), Val::Int(b)) => {
                let (a, b) = (*a, *b);
                Ok(match op {
                    BinaryOp::Add => Val::Int(a.checked_add(b).ok_or_else(overflow)?),
                    BinaryOp::Sub => Val::Int(a.checked_sub(b).ok_or_else(overflow)?),
                    BinaryOp::Mul => Val::Int(a.checked_mul(b).ok_or_else(overflow)?),
                    // Division by zero yields null.
                    _ if b == 0 => Val::Null,
                    BinaryOp::Div => Val::Int(a.checked_div(b).ok_or_else(overflow)?),
                    BinaryOp::Mod => Val::Int(a.checked_rem(b).ok_or_else(overflow)?),
                    _ => Val::Num(a as f64 / b as f64),
                })
            }
            (Val::Int(_) | Val::Num(_), Val::Int(_) | Val::Num(_)) => {
                let a = match l {
                    Val::Int(i) => i as f64,
                    Val::Num(f) => f,
                    _ => 0.0,
                };
                let b = match r {
                    Val::Int(i) => i as f64,
                    Val::Num(f) => f,
                    _ => 0.0,
                };
                Ok(match op {
                    BinaryOp::Add => Val::Num(a + b),
                    BinaryOp::Sub => Val::Num(a - b),
                    BinaryOp::Mul => Val::Num(a * b),
                    _ if b == 0.0 => Val::Null,
                    BinaryOp::Mod => Val::Num(a % b),
                    _ => Val::Num(a / b),
                })
            }
            (Val::Time(_) | Val::Date(_), _) if matches!(op, BinaryOp::Add | BinaryOp::Sub) => {
                Err(self.unsupported(span, "date arithmetic is not supported"))
            }
            _ => Err(self.invalid(
                span,
                format!(
                    "`{}` needs numbers, found {} and {}",
                    op.keyword(),
                    l.type_name(),
                    r.type_name()
                ),
            )),
        }
    }

    /// `x in (a, b)` is `x eq a or x eq b`.
    fn in_list(&self, within: &'a In, row: &mut Row<'a>) -> Result<Val<'a>, TranslateError> {
        let value = self.eval(&within.expr, row)?;
        let mut list = &*within.list;
        let mut depth = 0;
        while let ExprKind::Alias(name) = &list.kind {
            let Some(def) = self.aliases.iter().find(|a| a.name.name == name.name) else {
                return Err(self.invalid(
                    name.span,
                    format!("parameter alias @{} is not defined", name.name),
                ));
            };
            depth += 1;
            if depth > MAX_ALIAS_DEPTH {
                return Err(self.invalid(name.span, "parameter aliases nest too deeply"));
            }
            list = &def.value;
        }
        let items: Vec<Val<'a>> = match &list.kind {
            ExprKind::List(items) => items
                .iter()
                .map(|i| self.eval(i, row))
                .collect::<Result<_, _>>()?,
            ExprKind::Json(JsonValue::Array(items)) => items
                .iter()
                .map(|v| self.json_literal(v, list.span))
                .collect::<Result<_, _>>()?,
            ExprKind::Json(
                JsonValue::Null
                | JsonValue::Bool(_)
                | JsonValue::Number(_)
                | JsonValue::String(_)
                | JsonValue::Object(_)
                | JsonValue::Expr(_),
            )
            | ExprKind::Literal(_)
            | ExprKind::Path(_)
            | ExprKind::Lambda(_)
            | ExprKind::PathCount(_)
            | ExprKind::Alias(_)
            | ExprKind::Call(_)
            | ExprKind::Binary(_)
            | ExprKind::Unary(_)
            | ExprKind::In(_) => {
                return Err(self.unsupported(
                    list.span,
                    "`in` needs a list of values: `(a, b)` or `[a, b]`",
                ));
            }
        };
        for item in &items {
            if self.compare(BinaryOp::Eq, &value, item, list.span)? {
                return Ok(Val::Bool(true));
            }
        }
        Ok(Val::Bool(false))
    }

    fn json_literal(&self, v: &'a JsonValue, span: Span) -> Result<Val<'a>, TranslateError> {
        Ok(match v {
            JsonValue::Null => Val::Null,
            JsonValue::Bool(b) => Val::Bool(*b),
            JsonValue::Number(n) => match n.parse::<i64>() {
                Ok(i) => Val::Int(i),
                Err(_) => Val::Num(
                    n.parse()
                        .map_err(|_| self.invalid(span, format!("`{n}` is not a number")))?,
                ),
            },
            // JSON strings are already decoded.
            JsonValue::String(s) => Val::Str(Cow::Borrowed(s)),
            JsonValue::Expr(e) => match &e.kind {
                ExprKind::Literal(lit) => self.literal(lit, e.span)?,
                ExprKind::Path(_)
                | ExprKind::Lambda(_)
                | ExprKind::PathCount(_)
                | ExprKind::Alias(_)
                | ExprKind::Call(_)
                | ExprKind::Binary(_)
                | ExprKind::Unary(_)
                | ExprKind::In(_)
                | ExprKind::List(_)
                | ExprKind::Json(_) => {
                    return Err(self
                        .unsupported(span, "only arrays of primitive JSON values are supported"));
                }
            },
            JsonValue::Array(_) | JsonValue::Object(_) => {
                return Err(
                    self.unsupported(span, "only arrays of primitive JSON values are supported")
                );
            }
        })
    }
}
