//! Statement templates: the first page of a query shape, translated once per
//! thread and bound with each request's values.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use odata_sql::template::{Instance, Shape as QueryShape, Template};
use odata_sql::{Backend, ReadPlan, TenantFilter, Translator};
use uuid::Uuid;

use crate::odata::rows::Source;
use crate::odata::schema::identity_schema;
use crate::odata::{EntityKind, QueryError, ReadContext, ReadRequest};
use crate::tenancy::TenantScope;

use super::sinks::LayoutCell;
use super::*;

/// A plan and the template of its first page's statement.
pub(super) struct Templated {
    pub(super) plan: ReadPlan,
    pub(super) template: Template,
    pub(super) layout: LayoutCell,
}

/// Shapes with their templates (`None`: the shape has none), per thread:
/// the HTTP workers and the SQLite reader threads each keep their own, so
/// no lock is taken. At most [`TEMPLATES_PER_THREAD`]; a full map is
/// emptied.
type Templates = HashMap<TemplateKey, Option<Rc<Templated>>>;

/// What a template is kept under: the backend, the entity set, the page
/// size (the template binds the first page's limit) and the query's shape.
#[derive(PartialEq, Eq, Hash)]
pub(super) struct TemplateKey {
    pub(super) backend: Backend,
    pub(super) kind: EntityKind,
    pub(super) page_size: u64,
    pub(super) shape: String,
}

const TEMPLATES_PER_THREAD: usize = 512;

thread_local! {
    static TEMPLATES: RefCell<Templates> = RefCell::new(HashMap::new());
}

/// The first page of `req` from a statement template (see
/// [`odata_sql::template`]): the template and the values to bind, when
/// the request's shape has one. Made on the first request of a shape.
#[allow(clippy::type_complexity)]
pub(super) fn templated<S: Source>(
    src: &S,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
) -> Result<Option<(Rc<Templated>, Vec<sea_query::Value>)>, QueryError> {
    if !req.conditions.is_empty() {
        return Ok(None);
    }
    let Some(mut shape) = QueryShape::of(req.options) else {
        return Ok(None);
    };
    let key = TemplateKey {
        backend: src.backend(),
        kind: req.kind,
        page_size: ctx.page_size,
        shape: std::mem::take(&mut shape.key),
    };
    let cached = TEMPLATES.with(|t| t.borrow().get(&key).cloned());
    let templated = match cached {
        Some(found) => found,
        None => {
            let made = derive(src, scope, req, ctx, &shape, &key.shape)?.map(Rc::new);
            TEMPLATES.with(|t| {
                let mut t = t.borrow_mut();
                if t.len() >= TEMPLATES_PER_THREAD {
                    t.clear();
                }
                t.insert(key, made.clone());
            });
            made
        }
    };
    let Some(templated) = templated else {
        return Ok(None);
    };
    // An invalid parameter: the translation reports it.
    let Some(params) = shape.values() else {
        return Ok(None);
    };
    let tenant: sea_query::Value = scope.tenant_id.into();
    Ok(templated
        .template
        .bind(&params, &tenant)
        .map(|values| (templated, values)))
}

/// Translates `req` and a perturbed copy (other parameter values, another
/// tenant) and keeps the template the two agree on.
fn derive<S: Source>(
    src: &S,
    scope: &TenantScope,
    req: &ReadRequest<'_>,
    ctx: &ReadContext,
    shape: &QueryShape,
    shape_key: &str,
) -> Result<Option<Templated>, QueryError> {
    let plan_a = plan(src, scope, req, ctx)?;
    let (_, limit, offset) = first_page(&plan_a, ctx);
    if limit == 0 || plan_a.apply.is_some() || plan_a.count {
        return Ok(None);
    }
    let statement = |plan: &ReadPlan| {
        plan.page_statement(None, limit + 1, offset)
            .map(|stmt| src.backend().build(&stmt))
    };
    let (sql_a, values_a) = statement(&plan_a)?;
    let perturbed = QueryShape::perturbed(req.options);
    let tenant_b = Uuid::from_u128(scope.tenant_id.as_u128() ^ 1);
    let Some(shape_b) = QueryShape::of(&perturbed).filter(|b| b.key == shape_key) else {
        return Ok(None);
    };
    let plan_b = Translator::new(identity_schema(), src.backend()).plan_with_conditions(
        req.kind.entity_set(),
        &perturbed,
        TenantFilter {
            value: tenant_b.into(),
        },
        &[],
    );
    let Ok(Ok((sql_b, values_b))) = plan_b.map(|p| statement(&p)) else {
        return Ok(None);
    };
    let (Some(params_a), Some(params_b)) = (shape.values(), shape_b.values()) else {
        return Ok(None);
    };
    let (tenant_a, tenant_b) = (scope.tenant_id.into(), tenant_b.into());
    let template = Template::derive(
        Instance {
            sql: &sql_a,
            values: &values_a.0,
            params: &params_a,
            tenant: &tenant_a,
        },
        Instance {
            sql: &sql_b,
            values: &values_b.0,
            params: &params_b,
            tenant: &tenant_b,
        },
    );
    Ok(template.map(|template| Templated {
        plan: plan_a,
        template,
        layout: OnceCell::new(),
    }))
}
