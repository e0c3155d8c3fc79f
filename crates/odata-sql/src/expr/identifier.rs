//! Member paths, navigation, lambdas and `/$count`.

use odata_parser::ast::{
    Ident, KeyPredicate, Lambda, LambdaKind, MemberPath, PathCount, PathRoot, PathSegment, Span,
};
use sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement};

use super::{Collation, ExprTranslator, Scope, Ty, Typed};
use crate::error::TranslateError;
use crate::schema::{EdmType, Navigation, Property, PropertySource};

impl<'a> ExprTranslator<'_, 'a> {
    /// Resolves the start of a path: the scope it is relative to and the
    /// segments left after a range variable or `$it`.
    pub(super) fn path_scope<'p>(
        &self,
        path: &'p MemberPath,
    ) -> Result<(Scope<'a>, &'p [PathSegment]), TranslateError> {
        let MemberPath {
            root,
            segments,
            span,
        } = path;
        match root {
            PathRoot::It => Ok((self.root.clone(), segments)),
            PathRoot::This => Err(self.unsupported(*span, "`$this` is not supported")),
            PathRoot::Root => Err(self.unsupported(*span, "`$root` paths are not supported")),
            PathRoot::Implicit => {
                if let Some(PathSegment::Member { name, key: None }) = segments.first()
                    && let Some((_, scope)) =
                        self.lambdas.iter().rev().find(|(var, _)| *var == name.name)
                {
                    return Ok((scope.clone(), &segments[1..]));
                }
                Ok((self.root.clone(), segments))
            }
        }
    }

    pub(super) fn path(&mut self, path: &MemberPath) -> Result<Typed, TranslateError> {
        let (scope, segments) = self.path_scope(path)?;
        let Some(first) = segments.first() else {
            return Err(self.unsupported(
                path.span,
                "an entity (range variable or `$it`) cannot be used as a value",
            ));
        };
        let name = match member_segment(first, self.target, path.span)? {
            (name, None) => name,
            (name, Some(_)) => {
                return Err(self.invalid(
                    name.span,
                    format!("`{}` does not take a key predicate here", name.name),
                ));
            }
        };
        if let Some(nav) = scope.entity.navigation(&name.name) {
            if !nav.is_collection() {
                return self.single_valued_path(&scope, nav, &segments[1..], path.span);
            }
            return Err(self.invalid(
                name.span,
                format!(
                    "`{}` is a collection of {}: use `{}/any(...)`, `{}/all(...)` or `{}/$count`",
                    nav.name, nav.target_set, nav.name, nav.name, nav.name
                ),
            ));
        }
        // `$compute` aliases are properties of the top-level (unaliased) entity.
        if scope.alias == scope.entity.table
            && let Some((_, computed)) = self
                .ctx
                .computed
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(&name.name))
        {
            if let Some(extra) = segments.get(1) {
                let span = segment_span(extra).unwrap_or(path.span);
                return Err(self.invalid(
                    span,
                    format!("`{}` is a primitive value and has no members", name.name),
                ));
            }
            return Ok(computed.clone());
        }
        let prop = self.property(&scope, name)?;
        if let Some(extra) = segments.get(1) {
            let span = segment_span(extra).unwrap_or(path.span);
            return Err(self.invalid(
                span,
                format!("`{}` is a primitive property and has no members", prop.name),
            ));
        }
        self.property_value(&scope, prop, name.span)
    }

    /// `category/name`: a property of the entity a to-one navigation leads
    /// to, as a scalar subquery (null when there is no such entity).
    pub(super) fn single_valued_path(
        &self,
        outer: &Scope<'a>,
        nav: &'a Navigation,
        rest: &[PathSegment],
        span: Span,
    ) -> Result<Typed, TranslateError> {
        let [PathSegment::Member { name, key: None }] = rest else {
            return Err(self.unsupported(
                span,
                format!(
                    "a path through the to-one navigation `{}` must end in one property of {}",
                    nav.name, nav.target_set
                ),
            ));
        };
        let Some(target) = self.ctx.schema.entity_set(&nav.target_set) else {
            return Err(self.invalid(
                name.span,
                format!("the target set {} is not in the schema", nav.target_set),
            ));
        };
        if target.entity_type.navigation(&name.name).is_some() {
            return Err(self.unsupported(
                name.span,
                "paths through more than one navigation are not supported",
            ));
        }
        let n = self.ctx.next_alias.get() + 1;
        self.ctx.next_alias.set(n);
        let inner = Scope {
            entity: &target.entity_type,
            alias: format!("t{n}"),
        };
        let prop = self.property(&inner, name)?;
        let value = self.property_value(&inner, prop, name.span)?;
        let mut q = self.related_rows(outer, nav, &inner, span)?;
        q.clear_selects();
        q.expr(value.expr);
        Ok(Typed {
            expr: Expr::SubQuery(
                None,
                Box::new(sea_query::SubQueryStatement::SelectStatement(q)),
            ),
            ty: value.ty,
            nullable: true,
            collation: Collation::Unknown,
        })
    }

    pub(super) fn property(
        &self,
        scope: &Scope<'a>,
        name: &Ident,
    ) -> Result<&'a Property, TranslateError> {
        scope.entity.property(&name.name).ok_or_else(|| {
            self.invalid(
                name.span,
                format!(
                    "unknown property `{}` of {}{}",
                    name.name,
                    scope.entity.name,
                    member_hint(&name.name, scope.entity)
                ),
            )
        })
    }

    pub(super) fn property_value(
        &self,
        scope: &Scope<'a>,
        prop: &Property,
        span: Span,
    ) -> Result<Typed, TranslateError> {
        match &prop.source {
            PropertySource::Column(column) => Ok(Typed {
                expr: scope.column(column),
                ty: Ty::Edm(prop.edm_type),
                nullable: prop.nullable,
                collation: if prop.edm_type == EdmType::String
                    && self
                        .ctx
                        .schema
                        .code_point_collation(self.ctx.backend, scope.entity, prop)
                {
                    Collation::CodePoint
                } else {
                    Collation::Unknown
                },
            }),
            PropertySource::Constant(value) => Ok(Typed {
                expr: Expr::val(value.clone()),
                ty: Ty::Edm(prop.edm_type),
                nullable: prop.nullable,
                collation: Collation::Unknown,
            }),
            PropertySource::Computed { non_null_when, .. } => Err(self.unsupported(
                span,
                format!(
                    "`{}` is computed by the service (its value depends on the service's \
                     public URL) and cannot be used in {}{}",
                    prop.name,
                    self.target,
                    if non_null_when.is_some() {
                        format!(
                            "; only `{0} eq null` and `{0} ne null` are supported in $filter",
                            prop.name
                        )
                    } else {
                        String::new()
                    }
                ),
            )),
        }
    }

    /// The navigation a lambda or `$count` ranges over.
    pub(super) fn navigation(
        &self,
        path: &MemberPath,
    ) -> Result<(Scope<'a>, &'a Navigation, Scope<'a>), TranslateError> {
        let (scope, segments) = self.path_scope(path)?;
        let name = match segments {
            [PathSegment::Member { name, key: None }] => name,
            _ => {
                return Err(self.unsupported(
                    path.span,
                    "only a single navigation property can be the collection of a lambda or $count",
                ));
            }
        };
        let Some(nav) = scope.entity.navigation(&name.name) else {
            if scope.entity.property(&name.name).is_some() {
                return Err(self.invalid(name.span, format!("`{}` is not a collection", name.name)));
            }
            return Err(self.invalid(
                name.span,
                format!(
                    "unknown navigation property `{}` of {}{}",
                    name.name,
                    scope.entity.name,
                    crate::suggest::hint(
                        &name.name,
                        scope.entity.navigations.iter().map(|n| n.name.as_str())
                    )
                ),
            ));
        };
        if !nav.is_collection() {
            return Err(self.invalid(
                name.span,
                format!(
                    "`{}` is a single entity, not a collection: lambdas and $count range over collections",
                    nav.name
                ),
            ));
        }
        let Some(target) = self.ctx.schema.entity_set(&nav.target_set) else {
            return Err(self.invalid(
                name.span,
                format!("the target set {} is not in the schema", nav.target_set),
            ));
        };
        let n = self.ctx.next_alias.get() + 1;
        self.ctx.next_alias.set(n);
        let inner = Scope {
            entity: &target.entity_type,
            alias: format!("t{n}"),
        };
        Ok((scope, nav, inner))
    }

    /// `SELECT 1 FROM link JOIN target WHERE link.from = outer.key AND tenant`.
    pub(super) fn related_rows(
        &self,
        outer: &Scope<'a>,
        nav: &Navigation,
        inner: &Scope<'a>,
        span: Span,
    ) -> Result<SelectStatement, TranslateError> {
        let (Some(outer_key), Some(inner_key)) = (outer.key_column(), inner.key_column()) else {
            return Err(self.unsupported(span, "navigation over entities without a key column"));
        };
        let link_alias = format!("l{}", &inner.alias[1..]);
        let link = |c: &str| Expr::col((Alias::new(link_alias.clone()), Alias::new(c.to_owned())));
        let mut q = Query::select();
        q.expr(Expr::val(1))
            .from_as(
                Alias::new(nav.link.table.clone()),
                Alias::new(link_alias.clone()),
            )
            .join_as(
                JoinType::InnerJoin,
                Alias::new(inner.entity.table.clone()),
                Alias::new(inner.alias.clone()),
                link(&nav.link.to_column).eq(inner.column(inner_key)),
            )
            .and_where(link(&nav.link.from_column).eq(outer.column(outer_key)))
            .and_where(
                inner
                    .column(&inner.entity.tenant_column)
                    .eq(self.ctx.tenant.clone()),
            );
        Ok(q)
    }

    pub(super) fn lambda(&mut self, lambda: &Lambda, span: Span) -> Result<Typed, TranslateError> {
        let Lambda {
            collection,
            kind,
            variable,
            predicate,
        } = lambda;
        let (outer, nav, inner) = self.navigation(collection)?;
        let mut q = self.related_rows(&outer, nav, &inner, span)?;
        let predicate = match (variable, predicate) {
            (Some(var), Some(pred)) => {
                if self.lambdas.iter().any(|(v, _)| *v == var.name) {
                    return Err(self.invalid(
                        var.span,
                        format!("range variable `{}` is already in use", var.name),
                    ));
                }
                self.lambdas.push((var.name.clone(), inner.clone()));
                let result = self.condition(pred);
                self.lambdas.pop();
                Some(result?)
            }
            _ => None,
        };
        let expr = match (kind, predicate) {
            (LambdaKind::Any, None) => Expr::exists(q),
            (LambdaKind::Any, Some(p)) => {
                q.and_where(p);
                Expr::exists(q)
            }
            (LambdaKind::All, None) => Expr::val(true),
            (LambdaKind::All, Some(p)) => {
                // A member whose predicate is null does not satisfy `all`.
                q.and_where(Expr::from(Func::coalesce([p, Expr::val(false)])).not());
                Expr::not_exists(q)
            }
        };
        Ok(Typed {
            expr,
            ty: Ty::Edm(EdmType::Boolean),
            nullable: false,
            collation: Collation::Unknown,
        })
    }

    pub(super) fn path_count(
        &mut self,
        count: &PathCount,
        span: Span,
    ) -> Result<Typed, TranslateError> {
        let PathCount {
            collection,
            filter,
            search,
        } = count;
        if filter.is_some() || search.is_some() {
            return Err(self.unsupported(
                span,
                "`$count` with nested `$filter` or `$search` is not supported",
            ));
        }
        let (outer, nav, inner) = self.navigation(collection)?;
        let mut q = self.related_rows(&outer, nav, &inner, span)?;
        q.clear_selects();
        q.expr(Expr::cust("COUNT(*)"));
        Ok(Typed {
            expr: Expr::SubQuery(
                None,
                Box::new(sea_query::SubQueryStatement::SelectStatement(q)),
            ),
            ty: Ty::Edm(EdmType::Int64),
            nullable: false,
            collation: Collation::Unknown,
        })
    }
}

/// The span of a path segment, when it has a name.
fn segment_span(seg: &PathSegment) -> Option<Span> {
    match seg {
        PathSegment::Member { name, .. } => Some(name.span),
        PathSegment::TypeCast(ident) => Some(ident.span),
        PathSegment::Function { name, .. } => Some(name.span),
        PathSegment::Filter { .. } | PathSegment::Aggregate(_) => None,
    }
}

/// A member segment of a path in an expression: its name and key
/// predicate. Type casts, bound functions, `$filter(...)` and
/// `aggregate(...)` segments are not supported (the last two are reported
/// at `path_span`, the whole path).
pub(crate) fn member_segment<'p>(
    segment: &'p PathSegment,
    target: &'static str,
    path_span: Span,
) -> Result<(&'p Ident, Option<&'p KeyPredicate>), TranslateError> {
    match segment {
        PathSegment::Member { name, key } => Ok((name, key.as_ref())),
        PathSegment::TypeCast(ident) => Err(TranslateError::unsupported(
            target,
            ident.span,
            format!("type casts are not supported (`{}`)", ident.name),
        )),
        PathSegment::Function { name, .. } => Err(TranslateError::unsupported(
            target,
            name.span,
            format!("bound functions are not supported (`{}`)", name.name),
        )),
        PathSegment::Filter { .. } | PathSegment::Aggregate(_) => Err(TranslateError::unsupported(
            target,
            path_span,
            "this kind of path segment is not supported",
        )),
    }
}

/// "Did you mean" among the properties and navigation properties of `entity`.
pub(crate) fn member_hint(name: &str, entity: &crate::schema::EntityType) -> String {
    crate::suggest::hint(
        name,
        entity
            .properties
            .iter()
            .map(|p| p.name.as_str())
            .chain(entity.navigations.iter().map(|n| n.name.as_str())),
    )
}
