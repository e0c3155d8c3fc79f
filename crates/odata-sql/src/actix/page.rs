//! Running a checked read and writing its OData JSON page.

use std::collections::HashMap;

use actix_web::body::BoxBody;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, Responder};
use odata_parser::ast::Span;
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement};
use sea_query::SelectStatement;
use serde_json::Value as Json;

use super::token::{self, Position};
use super::{ODataError, ODataQuery, readable, rows};
use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::plan::{ReadPlan, computed_column_alias, order_key_alias};
use crate::schema::{EdmType, Property, PropertySource};

/// One OData JSON page of an entity set (a [`Responder`]: `200`,
/// `application/json;odata.metadata=minimal`, `OData-Version: 4.0`).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// `@odata.context`.
    pub context: String,
    /// `@odata.count` (with `$count=true`).
    pub count: Option<u64>,
    /// The records, their properties in schema order.
    records: Vec<Record>,
    /// `@odata.nextLink`, when there are more records.
    pub next_link: Option<String>,
}

/// A record: its properties in the order they are written.
#[derive(Debug, Clone, PartialEq, Default)]
struct Record(Vec<(String, Field)>);

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Value(Json),
    Records(Vec<Record>),
    /// A to-one navigation: its entity or `null`.
    Single(Option<Record>),
}

impl Record {
    fn to_json(&self) -> Json {
        Json::Object(
            self.0
                .iter()
                .map(|(k, f)| {
                    let v = match f {
                        Field::Value(v) => v.clone(),
                        Field::Records(rs) => Json::Array(rs.iter().map(Record::to_json).collect()),
                        Field::Single(r) => r.as_ref().map_or(Json::Null, Record::to_json),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    }

    fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (k, f)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&Json::String(k.clone()).to_string());
            out.push(':');
            match f {
                Field::Value(v) => out.push_str(&v.to_string()),
                Field::Records(rs) => write_array(rs, out),
                Field::Single(Some(r)) => r.write(out),
                Field::Single(None) => out.push_str("null"),
            }
        }
        out.push('}');
    }
}

fn write_array(records: &[Record], out: &mut String) {
    out.push('[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        r.write(out);
    }
    out.push(']');
}

impl Page {
    /// The records as JSON objects.
    pub fn value(&self) -> Vec<Json> {
        self.records.iter().map(Record::to_json).collect()
    }

    /// The JSON body (`@odata.context`, `@odata.count`, `value`,
    /// `@odata.nextLink`, in this order; properties in schema order).
    pub fn to_json_string(&self) -> String {
        let mut out = String::from("{\"@odata.context\":");
        out.push_str(&Json::String(self.context.clone()).to_string());
        if let Some(count) = self.count {
            out.push_str(&format!(",\"@odata.count\":{count}"));
        }
        out.push_str(",\"value\":");
        write_array(&self.records, &mut out);
        if let Some(link) = &self.next_link {
            out.push_str(",\"@odata.nextLink\":");
            out.push_str(&Json::String(link.clone()).to_string());
        }
        out.push('}');
        out
    }
}

impl Responder for Page {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header(ContentType(
                "application/json;odata.metadata=minimal"
                    .parse()
                    .unwrap_or(mime_json()),
            ))
            .insert_header(("OData-Version", "4.0"))
            .body(self.to_json_string())
    }
}

fn mime_json() -> actix_web::mime::Mime {
    actix_web::mime::APPLICATION_JSON
}

fn unsupported(target: &str, message: String) -> ODataError {
    ODataError::Translate(TranslateError::unsupported(
        target,
        Span::default(),
        message,
    ))
}

/// Refuses (501) what a page cannot answer: `$apply`, and properties the
/// application computes.
pub(super) fn supported(plan: &ReadPlan) -> Result<(), ODataError> {
    if plan.apply.is_some() {
        return Err(unsupported(
            "$apply",
            "$apply is not supported by the actix integration".to_owned(),
        ));
    }
    let computed = plan
        .selection
        .properties
        .iter()
        .chain(plan.expand.iter().flat_map(|e| e.properties.iter()))
        .find(|p| !readable(&p.source));
    if let Some(p) = computed {
        return Err(unsupported(
            "$select",
            format!(
                "the computed property `{}` is not supported by the actix integration (leave it \
                 out with $select)",
                p.name
            ),
        ));
    }
    // Without a decimal type in the build (sea-orm's `with-rust_decimal`),
    // PostgreSQL's NUMERIC and MySQL's DECIMAL cannot be read.
    let decimal = plan
        .selection
        .properties
        .iter()
        .chain(plan.expand.iter().flat_map(|e| e.properties.iter()))
        .map(|p| (p.name.as_str(), p.edm_type))
        .chain(
            plan.selection
                .computed
                .iter()
                .map(|c| (c.name.as_str(), c.edm_type)),
        )
        .chain(plan.order_keys().iter().map(|k| ("$orderby", k.edm_type)))
        .find(|(_, t)| *t == EdmType::Decimal);
    if plan.backend() != Backend::Sqlite
        && let Some((name, _)) = decimal
    {
        return Err(unsupported(
            "$select",
            format!("`{name}` is an Edm.Decimal, which the actix integration reads on SQLite only"),
        ));
    }
    Ok(())
}

async fn query(
    db: &impl ConnectionTrait,
    plan: &ReadPlan,
    stmt: &SelectStatement,
) -> Result<Vec<QueryResult>, DbErr> {
    let (sql, values) = plan.backend().build(stmt);
    db.query_all_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .await
}

/// The JSON value of property `p` on `row`.
fn property(row: &QueryResult, p: &Property) -> Result<Json, ODataError> {
    match &p.source {
        PropertySource::Column(c) => Ok(rows::read(row, c, p.edm_type)?),
        PropertySource::Constant(v) => rows::constant(v).ok_or_else(|| {
            ODataError::Configuration(format!("constant of property {}: {v:?}", p.name))
        }),
        PropertySource::Computed { .. } => Err(unsupported(
            "$select",
            format!("the computed property `{}`", p.name),
        )),
    }
}

fn record(row: &QueryResult, properties: &[Property]) -> Result<Record, ODataError> {
    let mut obj = Record::default();
    for p in properties {
        obj.0
            .push((p.name.clone(), Field::Value(property(row, p)?)));
    }
    Ok(obj)
}

/// The key of a JSON value for grouping rows by parent (integers of any
/// width are the same key).
fn group_key(v: &Json) -> String {
    v.to_string()
}

impl<E> ODataQuery<E> {
    /// Runs the read on the database and answers its page.
    pub async fn page(self) -> Result<Page, ODataError> {
        let inner = &self.odata.inner;
        let db = &inner.db;
        let plan = &self.plan;
        let count = if plan.count {
            let rows = query(db, plan, &plan.count_statement()).await?;
            let n = match rows.first() {
                Some(r) => r.try_get::<i64>("", "count")?,
                None => 0,
            };
            Some(u64::try_from(n).unwrap_or(0))
        } else {
            None
        };
        let limit = self
            .remaining
            .map_or(inner.page_size, |r| r.min(inner.page_size));
        let mut page = Page {
            context: self.context(),
            count,
            records: Vec::new(),
            next_link: None,
        };
        if limit == 0 {
            return Ok(page);
        }
        let offset = if self.first {
            plan.skip.unwrap_or(0)
        } else {
            0
        };
        let stmt = plan.page_statement(self.after.as_deref(), limit.saturating_add(1), offset)?;
        let mut found = query(db, plan, &stmt).await?;
        let more = found.len() as u64 > limit;
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));

        let mut records = Vec::with_capacity(found.len());
        for row in &found {
            let mut obj = record(row, &plan.selection.properties)?;
            for c in &plan.selection.computed {
                let value = rows::read(row, &computed_column_alias(&c.name), c.edm_type)?;
                obj.0.push((c.name.clone(), Field::Value(value)));
            }
            records.push(obj);
        }
        self.expand(&found, &mut records).await?;
        page.records = records;

        let remaining = self.remaining.map(|r| r - found.len() as u64);
        if more
            && remaining != Some(0)
            && let Some(last) = found.last()
        {
            let keys = plan
                .order_keys()
                .iter()
                .enumerate()
                .map(|(i, k)| rows::read(last, &order_key_alias(i), k.edm_type))
                .collect::<Result<Vec<_>, _>>()?;
            let token = token::encode(
                &inner.key,
                &Position {
                    keys,
                    remaining,
                    query: token::fingerprint(&self.kept),
                },
            );
            let sep = if self.kept.is_empty() { "" } else { "&" };
            page.next_link = Some(format!(
                "{}?{}{sep}$skiptoken={token}",
                self.link_base, self.kept
            ));
        }
        Ok(page)
    }

    /// `$metadata#Set`, with the selected and expanded properties.
    fn context(&self) -> String {
        let inner = &self.odata.inner;
        let plan = &self.plan;
        let mut items: Vec<String> = Vec::new();
        if self.options.select.is_some() {
            items.extend(plan.selection.properties.iter().map(|p| p.name.clone()));
            items.extend(plan.selection.computed.iter().map(|c| c.name.clone()));
            items.extend(
                plan.selection
                    .navigations
                    .iter()
                    .filter(|n| !plan.expand.iter().any(|e| e.navigation.name == n.name))
                    .map(|n| n.name.clone()),
            );
        }
        items.extend(
            plan.expand
                .iter()
                .map(|e| format!("{}()", e.navigation.name)),
        );
        let mut context = format!("{}$metadata#{}", inner.service_root, plan.entity_set);
        if !items.is_empty() {
            context.push('(');
            context.push_str(&items.join(","));
            context.push(')');
        }
        context
    }

    /// Adds the expanded navigations to `records` (one statement each for the
    /// page: an array per record for a collection, an object or `null` for a
    /// to-one navigation).
    async fn expand(
        &self,
        found: &[QueryResult],
        records: &mut [Record],
    ) -> Result<(), ODataError> {
        let plan = &self.plan;
        if plan.expand.is_empty() || found.is_empty() {
            return Ok(());
        }
        let key_type = plan
            .entity
            .key_properties()
            .next()
            .map_or(EdmType::Int64, |p| p.edm_type);
        let keys = found
            .iter()
            .map(|r| rows::read(r, plan.key_column(), key_type))
            .collect::<Result<Vec<_>, _>>()?;
        let parents = keys
            .iter()
            .map(|k| token::to_sql_value(k, key_type))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ODataError::Configuration("a key of an unsupported type".to_owned()))?;
        for expand in &plan.expand {
            let stmt = plan.expand_statement(expand, parents.clone());
            let related = query(&self.odata.inner.db, plan, &stmt).await?;
            let mut groups: HashMap<String, Vec<Record>> = HashMap::new();
            for row in &related {
                let parent = rows::read(row, crate::PARENT_COLUMN, key_type)?;
                groups
                    .entry(group_key(&parent))
                    .or_default()
                    .push(record(row, &expand.properties)?);
            }
            for (obj, key) in records.iter_mut().zip(&keys) {
                let members = groups.remove(&group_key(key)).unwrap_or_default();
                if !expand.is_collection() {
                    let single = members.into_iter().next();
                    obj.0
                        .push((expand.navigation.name.clone(), Field::Single(single)));
                    continue;
                }
                if expand.count {
                    obj.0.push((
                        format!("{}@odata.count", expand.navigation.name),
                        Field::Value(Json::from(members.len())),
                    ));
                }
                let skip = expand
                    .skip
                    .map_or(0, |s| usize::try_from(s).unwrap_or(usize::MAX));
                let top = expand
                    .top
                    .map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX));
                let members = members.into_iter().skip(skip).take(top).collect();
                obj.0
                    .push((expand.navigation.name.clone(), Field::Records(members)));
            }
        }
        Ok(())
    }
}
