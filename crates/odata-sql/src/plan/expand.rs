//! `$expand`: one [`ExpandPlan`] per expanded navigation, nested levels included.

use odata_parser::ast::{Expand, ExpandItem, ExpandSuffix, ExpandTarget, QueryOptions, Span};

use super::order::{order_keys, sort_form};
use super::select::{selection, single_member};
use super::{ExpandPlan, check_i64};
use crate::error::TranslateError;
use crate::expr::{ExprContext, ExprTranslator, Scope};
use crate::schema::{EntityType, Navigation};

/// The expansions of `entity`, `depth` levels deep (the top `$expand` is
/// level one), at most `max_depth` (`None`: one, nesting unsupported).
pub(super) fn expand_plans(
    ctx: &ExprContext<'_>,
    entity: &EntityType,
    expand: &Expand,
    depth: usize,
    max_depth: Option<usize>,
) -> Result<Vec<ExpandPlan>, TranslateError> {
    let Expand { items, span } = expand;
    let limit = max_depth.unwrap_or(1);
    if depth > limit {
        return Err(if max_depth.is_none() {
            TranslateError::unsupported("$expand", *span, "$expand inside $expand is not supported")
        } else {
            TranslateError::invalid(
                "$expand",
                *span,
                format!(
                    "$expand is nested {depth} levels deep here; at most {limit} level{} {} allowed",
                    if limit == 1 { "" } else { "s" },
                    if limit == 1 { "is" } else { "are" },
                ),
            )
        });
    }
    let mut plans: Vec<ExpandPlan> = Vec::new();
    for item in items {
        let ExpandItem {
            target,
            options,
            span,
        } = item;
        let navs: Vec<&Navigation> = match target {
            ExpandTarget::Star { is_ref: true } => {
                return Err(TranslateError::unsupported(
                    "$expand",
                    *span,
                    "expanding references ($ref) is not supported",
                ));
            }
            ExpandTarget::Star { is_ref: false } => entity.navigations.iter().collect(),
            ExpandTarget::Path { segments, suffix } => {
                match suffix {
                    ExpandSuffix::None => {}
                    ExpandSuffix::Ref => {
                        return Err(TranslateError::unsupported(
                            "$expand",
                            *span,
                            "expanding references ($ref) is not supported",
                        ));
                    }
                    ExpandSuffix::Count => {
                        return Err(TranslateError::unsupported(
                            "$expand",
                            *span,
                            "expanding counts ($count) is not supported",
                        ));
                    }
                }
                let name = single_member("$expand", segments, *span)?;
                let Some(nav) = entity.navigation(&name.name) else {
                    return Err(TranslateError::invalid(
                        "$expand",
                        name.span,
                        format!(
                            "unknown navigation property `{}` of {}{}",
                            name.name,
                            entity.name,
                            crate::suggest::hint(
                                &name.name,
                                entity.navigations.iter().map(|n| n.name.as_str())
                            )
                        ),
                    ));
                };
                vec![nav]
            }
        };
        for nav in navs {
            if plans.iter().any(|p| p.navigation.name == nav.name) {
                return Err(TranslateError::invalid(
                    "$expand",
                    *span,
                    format!("`{}` is expanded twice", nav.name),
                ));
            }
            plans.push(expand_plan(
                ctx,
                entity,
                nav,
                options.as_deref(),
                *span,
                (depth, max_depth),
            )?);
        }
    }
    Ok(plans)
}

pub(super) fn expand_plan(
    ctx: &ExprContext<'_>,
    source: &EntityType,
    nav: &Navigation,
    options: Option<&QueryOptions>,
    span: Span,
    (depth, max_depth): (usize, Option<usize>),
) -> Result<ExpandPlan, TranslateError> {
    let Some(set) = ctx.schema.entity_set(&nav.target_set) else {
        return Err(TranslateError::invalid(
            "$expand",
            span,
            format!("the target set {} is not in the schema", nav.target_set),
        ));
    };
    let target = &set.entity_type;
    let scope = Scope {
        entity: target,
        alias: "t".to_owned(),
    };
    let mut plan = ExpandPlan {
        navigation: nav.clone(),
        target: target.clone(),
        properties: target.properties.clone(),
        condition: None,
        order: Vec::new(),
        tenant: ctx.tenant.clone(),
        top: None,
        skip: None,
        count: false,
        expand: Vec::new(),
    };
    if let Some(options) = options {
        let QueryOptions {
            filter,
            select,
            orderby,
            top,
            skip,
            count,
            expand,
            search,
            compute,
            apply,
            levels,
            skiptoken,
            deltatoken,
            format,
            schemaversion,
            index,
            id,
            aliases: _,
            custom: _,
        } = options;
        if !nav.is_collection() {
            // At most one related entity: only $select (and $expand) mean
            // something there.
            let pointless = [
                ("$filter", filter.as_ref().map(|f| f.span)),
                ("$orderby", orderby.as_ref().map(|o| o.span)),
                ("$top", top.as_ref().map(|t| t.span)),
                ("$skip", skip.as_ref().map(|t| t.span)),
                ("$count", count.as_ref().map(|c| c.span)),
            ];
            if let Some((name, at)) = pointless.iter().find_map(|(n, s)| s.map(|s| (n, s))) {
                return Err(TranslateError::invalid(
                    "$expand",
                    at,
                    format!(
                        "{name} is not allowed inside the $expand of the to-one navigation `{}` \
                         (it leads to at most one entity: only $select applies)",
                        nav.name
                    ),
                ));
            }
        }
        plan.top = top
            .map(|t| check_i64("$top", t.value, t.span))
            .transpose()?;
        plan.skip = skip
            .map(|t| check_i64("$skip", t.value, t.span))
            .transpose()?;
        if levels.is_some() {
            // `$levels` repeats an expansion along a navigation whose target
            // is its own source type.
            let recursive = target.name == source.name;
            let message = format!(
                "$levels needs a recursive navigation (one whose target is the entity it starts from); `{}` of {} leads to {}{}",
                nav.name,
                source.name,
                target.name,
                if recursive {
                    ""
                } else {
                    ": nest $expand instead"
                }
            );
            return Err(if recursive {
                TranslateError::unsupported("$levels", span, message)
            } else {
                TranslateError::invalid("$levels", span, message)
            });
        }
        plan.count = count.is_some_and(|c| c.value);
        if let Some(expand) = expand {
            plan.expand = expand_plans(ctx, target, expand, depth + 1, max_depth)?;
        }
        let unsupported = [
            ("$search", search.is_some()),
            ("$compute", compute.is_some()),
            ("$apply", apply.is_some()),
            ("$skiptoken", skiptoken.is_some()),
            ("$deltatoken", deltatoken.is_some()),
            ("$format", format.is_some()),
            ("$schemaversion", schemaversion.is_some()),
            ("$index", index.is_some()),
            ("$id", id.is_some()),
        ];
        if let Some((name, _)) = unsupported.iter().find(|(_, present)| *present) {
            return Err(TranslateError::unsupported(
                "$expand",
                span,
                format!("{name} inside $expand is not supported"),
            ));
        }
        if let Some(select) = select {
            let sel = selection(&scope, Some(select))?;
            if !sel.navigations.is_empty() && sel.properties.len() != target.properties.len() {
                return Err(TranslateError::unsupported(
                    "$expand",
                    select.span,
                    "selecting navigation properties inside $expand is not supported",
                ));
            }
            plan.properties = sel.properties;
        }
        if let Some(filter) = filter {
            let mut t = ExprTranslator::new(ctx, "$expand", scope.clone());
            plan.condition = Some(t.condition(filter)?);
        }
        if let Some(orderby) = orderby {
            for key in order_keys(ctx, &scope, orderby)? {
                let e = sort_form(ctx.backend, key.value, key.edm_type, key.code_point);
                plan.order.push((e, key.descending, key.nullable));
            }
        }
    }
    if !nav.is_collection() {
        // At most one row per parent: no order needed.
        return Ok(plan);
    }
    // Default order, and the tie-breaker: the alternate key case-insensitively,
    // then exactly, then the key.
    if let Some(alt) = target
        .alternate_key
        .as_deref()
        .and_then(|a| target.property(a))
        && let Some(column) = alt.column_name()
    {
        let col = scope.column(column);
        plan.order.push((
            ctx.backend.binary_string(ctx.backend.lower(col.clone())),
            false,
            false,
        ));
        let code_point = ctx.schema.code_point_collation(ctx.backend, target, alt);
        plan.order.push((
            sort_form(ctx.backend, col, alt.edm_type, code_point),
            false,
            false,
        ));
    }
    if let Some(key) = scope.key_column() {
        plan.order.push((scope.column(key), false, false));
    }
    Ok(plan)
}
