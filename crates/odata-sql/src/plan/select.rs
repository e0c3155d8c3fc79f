//! `$select` and the selection of `$compute` properties.

use odata_parser::ast::{PathSegment, Select, SelectItem, Span};
use sea_query::Expr;

use super::{ComputedProperty, Selection};
use crate::error::TranslateError;
use crate::expr::{Scope, Ty, Typed};
use crate::schema::EdmType;

/// The selection of the top-level entity, with `$compute` aliases.
pub(super) fn top_selection(
    root: &Scope<'_>,
    select: Option<&Select>,
    computed: &[(String, Typed)],
) -> Result<(Selection, Vec<(String, Expr)>), TranslateError> {
    let mut names: Vec<&odata_parser::ast::Ident> = Vec::new();
    let mut rest: Option<Select> = None;
    if let Some(select) = select {
        let mut kept = select.clone();
        kept.items.retain(|item| {
            if let SelectItem::Path {
                segments,
                options: None,
                ..
            } = item
                && let [PathSegment::Member { name, key: None }] = segments.as_slice()
                && computed
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(&name.name))
            {
                return false;
            }
            true
        });
        for item in &select.items {
            if let SelectItem::Path {
                segments,
                options: None,
                ..
            } = item
                && let [PathSegment::Member { name, key: None }] = segments.as_slice()
                && computed
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(&name.name))
            {
                names.push(name);
            }
        }
        // Only computed properties selected: no structural property.
        if kept.items.is_empty() {
            let mut sel = Selection {
                properties: Vec::new(),
                navigations: Vec::new(),
                computed: Vec::new(),
            };
            let exprs = computed_selection(&mut sel, &names, computed);
            return Ok((sel, exprs));
        }
        rest = Some(kept);
    }
    let mut sel = selection(root, rest.as_ref())?;
    let exprs = computed_selection(&mut sel, &names, computed);
    Ok((sel, exprs))
}

pub(super) fn computed_selection(
    sel: &mut Selection,
    names: &[&odata_parser::ast::Ident],
    computed: &[(String, Typed)],
) -> Vec<(String, Expr)> {
    let mut exprs = Vec::new();
    for (name, typed) in computed {
        if names.iter().any(|n| n.name.eq_ignore_ascii_case(name)) {
            let edm_type = match typed.ty {
                Ty::Edm(t) => t,
                Ty::Null => EdmType::String,
            };
            sel.computed.push(ComputedProperty {
                name: name.clone(),
                edm_type,
            });
            exprs.push((name.clone(), typed.expr.clone()));
        }
    }
    exprs
}

pub(super) fn selection(
    root: &Scope<'_>,
    select: Option<&Select>,
) -> Result<Selection, TranslateError> {
    let entity = root.entity;
    let all = || Selection {
        properties: entity.properties.clone(),
        navigations: entity
            .navigations
            .iter()
            .filter(|n| n.listed_by_default)
            .cloned()
            .collect(),
        computed: Vec::new(),
    };
    let Some(select) = select else {
        return Ok(all());
    };
    let Select { items, span: _ } = select;
    let mut props: Vec<String> = Vec::new();
    let mut navs: Vec<String> = Vec::new();
    for item in items {
        match item {
            SelectItem::Star(_) => return Ok(all()),
            SelectItem::AllOperations(ident) => {
                return Err(TranslateError::unsupported(
                    "$select",
                    ident.span,
                    "selecting operations is not supported",
                ));
            }
            SelectItem::Path {
                segments,
                options,
                span,
            } => {
                if options.is_some() {
                    return Err(TranslateError::unsupported(
                        "$select",
                        *span,
                        "nested options in $select are not supported",
                    ));
                }
                let name = single_member("$select", segments, *span)?;
                if let Some(p) = entity.property(&name.name) {
                    props.push(p.name.clone());
                } else if let Some(n) = entity.navigation(&name.name) {
                    if !n.is_collection() {
                        return Err(TranslateError::unsupported(
                            "$select",
                            name.span,
                            format!(
                                "selecting the to-one navigation `{}` is not supported",
                                n.name
                            ),
                        ));
                    }
                    navs.push(n.name.clone());
                } else {
                    return Err(TranslateError::invalid(
                        "$select",
                        name.span,
                        format!(
                            "unknown property `{}` of {}{}",
                            name.name,
                            entity.name,
                            crate::expr::member_hint(&name.name, entity)
                        ),
                    ));
                }
            }
            SelectItem::Operation { .. } => {
                return Err(TranslateError::unsupported(
                    "$select",
                    select.span,
                    "this kind of $select item is not supported",
                ));
            }
        }
    }
    Ok(Selection {
        properties: entity
            .properties
            .iter()
            .filter(|p| props.contains(&p.name))
            .cloned()
            .collect(),
        navigations: entity
            .navigations
            .iter()
            .filter(|n| navs.contains(&n.name))
            .cloned()
            .collect(),
        computed: Vec::new(),
    })
}

pub(super) fn single_member<'p>(
    option: &str,
    segments: &'p [PathSegment],
    span: Span,
) -> Result<&'p odata_parser::ast::Ident, TranslateError> {
    match segments {
        [PathSegment::Member { name, key: None }] => Ok(name),
        [PathSegment::Member { name, key: Some(_) }] => Err(TranslateError::invalid(
            option,
            name.span,
            format!("`{}` does not take a key predicate here", name.name),
        )),
        _ => Err(TranslateError::unsupported(
            option,
            span,
            "only single property names are supported here",
        )),
    }
}
