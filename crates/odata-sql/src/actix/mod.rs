//! OData for actix-web handlers over SeaORM entities (feature `actix`).
//!
//! [`OData`] holds a SeaORM [`DatabaseConnection`] (SQLite, PostgreSQL or
//! MySQL/MariaDB) and the entity sets (usually derived with
//! [`EntitySetBuilder`](crate::entity::EntitySetBuilder)), each registered
//! for its SeaORM entity. Put it in the app's data; then the extractor
//! [`ODataQuery<E>`] parses and checks a request's query options against the
//! entity set of `E`, and [`ODataQuery::page`] runs them and answers an
//! OData JSON page:
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use odata_sql::actix::{OData, ODataError, ODataQuery, Page};
//! use odata_sql::entity::EntitySetBuilder;
//!
//! mod product {
//!     use sea_orm::entity::prelude::*;
//!     #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "products")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         pub tenant_id: i64,
//!         pub name: String,
//!     }
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!     impl ActiveModelBehavior for ActiveModel {}
//! }
//!
//! async fn products(query: ODataQuery<product::Entity>) -> Result<Page, ODataError> {
//!     query.page().await // parsed and checked by the extractor; run here
//! }
//!
//! async fn serve(db: sea_orm::DatabaseConnection) -> Result<(), Box<dyn std::error::Error>> {
//!     let set = EntitySetBuilder::<product::Entity>::new("Products", "Product").build()?;
//!     let odata = OData::new(db, "Shop")
//!         .entity_set::<product::Entity>(set)
//!         .tenant(1i64) // the value of `tenant_id` every statement filters on
//!         .page_size(50)
//!         .signing_key(*b"a secret shared by every instance");
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(odata.clone())
//!             .route("/Products", web::get().to(products))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! (`examples/products_service.rs` in the repository is a complete service.)
//!
//! What a page holds: `@odata.context`, `@odata.count` with `$count=true`,
//! `value`, and `@odata.nextLink` when there are more rows than the page
//! size ([`OData::page_size`], default 100) or than `$top` allows on one
//! page. Pages follow the keyset of the order (the translator's order always
//! ends with the key, so paging is stable); the position is a signed
//! `$skiptoken` bound to the query's other options: a token that was altered
//! or sent with other options is a 400. `$filter`, `$orderby`, `$select`,
//! `$top`, `$skip`, `$count`, `$search`, `$compute` and `$expand` are
//! answered: a collection-valued navigation as an array (with nested
//! `$filter`, `$orderby`, `$select`, `$top`, `$skip`, `$count`), a to-one navigation as
//! an object or `null` (with nested `$select`; a nested `$filter`, `$orderby`,
//! `$top`, `$skip` or `$count` there is a 400). One statement per expanded
//! navigation for the whole page; an `$expand` inside an `$expand`
//! answers 501.
//!
//! Errors are OData error bodies
//! (`{"error":{"code","message","target","details"}}`): 400 for a query that
//! does not parse (the message gives the byte offset in the query string and
//! what was expected) or does not fit the model, 501 for what is recognised
//! but not done here: `$apply`, nested `$expand`, and
//! computed properties ([`PropertySource::Computed`](crate::schema::PropertySource),
//! whose values only the application can compute). On SQLite, `tolower`,
//! `toupper` and integer arithmetic use SQL functions (`odata_lower`,
//! `odata_add`, ...) the connection must have; without them such a query is
//! a 501 that says so.

mod page;
mod rows;
mod token;

use std::any::TypeId;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use odata_parser::ast::QueryOptions;
use odata_parser::{ParseError, ParserOptions, parse_query};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, EntityTrait};
use sea_query::Value;

use crate::dialect::Backend;
use crate::error::TranslateError;
use crate::plan::{ReadPlan, TenantFilter, Translator};
use crate::schema::{EntitySet, PropertySource, Schema};

pub use page::Page;

/// The tenant of a request.
type TenantFn = dyn Fn(&HttpRequest) -> Result<Value, ODataError> + Send + Sync;

/// The OData configuration of an app: the database, the entity sets (each
/// bound to its SeaORM entity), the tenant, the page size and the key that
/// signs skiptokens. Cheap to clone; register it with `App::app_data` (or
/// as `web::Data<OData>`).
#[derive(Clone)]
pub struct OData {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    db: DatabaseConnection,
    backend: Backend,
    model: Model,
    sets: HashMap<TypeId, String>,
    tenant: Option<Arc<TenantFn>>,
    page_size: u64,
    key: Vec<u8>,
    service_root: String,
    parser: ParserOptions,
}

/// The entity sets, as a [`Schema`].
#[derive(Clone)]
struct Model {
    namespace: String,
    sets: Vec<EntitySet>,
}

impl Schema for Model {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn entity_sets(&self) -> &[EntitySet] {
        &self.sets
    }
}

impl OData {
    /// No entity sets yet; CSDL namespace `namespace`. Pages of 100 rows,
    /// service root `/`, and a random skiptoken key (tokens do not survive
    /// a restart: set [`OData::signing_key`] to keep them valid).
    pub fn new(db: DatabaseConnection, namespace: &str) -> Self {
        let backend = match db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            DbBackend::MySql => Backend::MySql,
            _ => Backend::Sqlite,
        };
        let mut key = uuid::Uuid::new_v4().as_bytes().to_vec();
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        OData {
            inner: Arc::new(Inner {
                db,
                backend,
                model: Model {
                    namespace: namespace.to_owned(),
                    sets: Vec::new(),
                },
                sets: HashMap::new(),
                tenant: None,
                page_size: 100,
                key,
                service_root: "/".to_owned(),
                parser: ParserOptions::default(),
            }),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        f(Arc::make_mut(&mut self.inner));
        self
    }

    /// Adds `set`, answered for [`ODataQuery<E>`] (navigation targets must
    /// be added too).
    pub fn entity_set<E: EntityTrait>(self, set: EntitySet) -> Self {
        self.with(|i| {
            i.sets.insert(TypeId::of::<E>(), set.name.clone());
            i.model.sets.retain(|s| s.name != set.name);
            i.model.sets.push(set);
        })
    }

    /// Every request reads the rows of this tenant (the value of each
    /// entity type's tenant column).
    pub fn tenant(self, value: impl Into<Value>) -> Self {
        let value = value.into();
        self.with(|i| i.tenant = Some(Arc::new(move |_| Ok(value.clone()))))
    }

    /// The tenant of each request, from the request (e.g. from what an
    /// authentication middleware put in its extensions).
    pub fn tenant_from(
        self,
        f: impl Fn(&HttpRequest) -> Result<Value, ODataError> + Send + Sync + 'static,
    ) -> Self {
        self.with(|i| i.tenant = Some(Arc::new(f)))
    }

    /// The most rows a page holds (at least 1).
    pub fn page_size(self, rows: u64) -> Self {
        self.with(|i| i.page_size = rows.max(1))
    }

    /// The HMAC-SHA256 key that signs skiptokens (any length; keep it
    /// secret and the same on every instance behind one address).
    pub fn signing_key(self, key: impl Into<Vec<u8>>) -> Self {
        let key = key.into();
        self.with(|i| i.key = key)
    }

    /// The service root path for context URLs (`/odata/` gives
    /// `/odata/$metadata#Products`).
    pub fn service_root(self, root: &str) -> Self {
        let mut root = root.to_owned();
        if !root.ends_with('/') {
            root.push('/');
        }
        self.with(|i| i.service_root = root)
    }

    /// The parser's limits.
    pub fn parser_options(self, options: ParserOptions) -> Self {
        self.with(|i| i.parser = options)
    }

    /// The entity sets, as the [`Schema`] the translator and the in-memory
    /// evaluator take.
    pub fn schema(&self) -> &dyn Schema {
        &self.inner.model
    }

    /// The database connection.
    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }
}

/// An OData error, answered as the OData error body.
#[derive(Debug, thiserror::Error)]
pub enum ODataError {
    /// The query string does not parse (400).
    #[error("{}", .0.message())]
    Parse(ParseError),
    /// The query does not fit the model (400) or asks for something not
    /// implemented (501).
    #[error("{0}")]
    Translate(TranslateError),
    /// A `$skiptoken` that was not issued for this query (400).
    #[error("the $skiptoken is invalid or does not belong to this query")]
    SkipToken,
    /// A request the app cannot serve (500): `OData` not registered, an
    /// entity without an entity set, no tenant.
    #[error("{0}")]
    Configuration(String),
    /// The database failed (500, or 501 for a missing SQLite function).
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

impl ODataError {
    fn missing_function(&self) -> bool {
        matches!(self, ODataError::Database(e) if e.to_string().contains("no such function: odata_"))
    }

    /// The OData error code, message and target.
    fn parts(&self) -> (&'static str, String, Option<String>) {
        match self {
            ODataError::Parse(p) => ("BadRequest", p.message(), p.option.clone()),
            ODataError::Translate(t) => {
                let code = if t.is_unsupported() {
                    "NotImplemented"
                } else {
                    "BadRequest"
                };
                let span = t.span();
                let message = if span.end > 0 {
                    format!("{t} at offset {}", span.start)
                } else {
                    t.to_string()
                };
                (code, message, Some(t.target().to_owned()))
            }
            ODataError::SkipToken => (
                "BadRequest",
                self.to_string(),
                Some("$skiptoken".to_owned()),
            ),
            e if e.missing_function() => (
                "NotImplemented",
                "this SQLite connection lacks the odata_* SQL functions that tolower, toupper \
                 and integer arithmetic need"
                    .to_owned(),
                Some("$filter".to_owned()),
            ),
            ODataError::Configuration(_) | ODataError::Database(_) => {
                ("InternalServerError", "internal error".to_owned(), None)
            }
        }
    }
}

impl ResponseError for ODataError {
    fn status_code(&self) -> StatusCode {
        match self {
            ODataError::Parse(_) | ODataError::SkipToken => StatusCode::BAD_REQUEST,
            ODataError::Translate(t) if t.is_unsupported() => StatusCode::NOT_IMPLEMENTED,
            ODataError::Translate(_) => StatusCode::BAD_REQUEST,
            e if e.missing_function() => StatusCode::NOT_IMPLEMENTED,
            ODataError::Configuration(_) | ODataError::Database(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (code, message, target) = self.parts();
        let body = serde_json::json!({"error": {
            "code": code, "message": message, "target": target, "details": [],
        }});
        HttpResponse::build(self.status_code())
            .insert_header(ContentType::json())
            .insert_header(("OData-Version", "4.0"))
            .body(body.to_string())
    }
}

impl From<TranslateError> for ODataError {
    fn from(e: TranslateError) -> Self {
        ODataError::Translate(e)
    }
}

/// A request's query options, parsed and checked against the entity set of
/// the SeaORM entity `E`, with its paging position. Extracted from the
/// request (see the [module](self)); [`ODataQuery::page`] answers it.
pub struct ODataQuery<E> {
    odata: OData,
    options: QueryOptions,
    plan: ReadPlan,
    /// The order keys of the last row of the previous page.
    after: Option<Vec<Value>>,
    /// Rows still wanted (`$top` minus what earlier pages held).
    remaining: Option<u64>,
    first: bool,
    /// `scheme://host/path` of the request.
    link_base: String,
    /// The query string without paging options.
    kept: String,
    _entity: PhantomData<fn() -> E>,
}

impl<E> ODataQuery<E> {
    /// The parsed options.
    pub fn options(&self) -> &QueryOptions {
        &self.options
    }

    /// The translated, checked read.
    pub fn plan(&self) -> &ReadPlan {
        &self.plan
    }
}

impl<E: EntityTrait> ODataQuery<E> {
    fn extract(req: &HttpRequest) -> Result<Self, ODataError> {
        let odata = req
            .app_data::<OData>()
            .cloned()
            .or_else(|| {
                req.app_data::<web::Data<OData>>()
                    .map(|d| d.get_ref().clone())
            })
            .ok_or_else(|| ODataError::Configuration("no OData in the app data".to_owned()))?;
        let inner = &odata.inner;
        let set = inner.sets.get(&TypeId::of::<E>()).ok_or_else(|| {
            ODataError::Configuration(format!("no entity set for {}", std::any::type_name::<E>()))
        })?;
        let tenant = inner
            .tenant
            .as_ref()
            .ok_or_else(|| ODataError::Configuration("no tenant configured".to_owned()))?(
            req
        )?;
        let raw = req.query_string();
        let options = parse_query(raw, &inner.parser).map_err(ODataError::Parse)?;
        let plan = Translator::new(&inner.model, inner.backend).plan(
            set,
            &options,
            TenantFilter { value: tenant },
        )?;
        page::supported(&plan)?;
        let kept = token::without_paging(raw);
        let (after, remaining, first) = match &options.skiptoken {
            None => (None, plan.top, true),
            Some(t) => {
                let position = token::decode(&inner.key, &t.value)
                    .filter(|p| p.query == token::fingerprint(&kept))
                    .filter(|p| p.keys.len() == plan.order_keys().len())
                    .ok_or(ODataError::SkipToken)?;
                let after = position
                    .keys
                    .iter()
                    .zip(plan.order_keys())
                    .map(|(v, k)| token::to_sql_value(v, k.edm_type))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(ODataError::SkipToken)?;
                (Some(after), position.remaining, false)
            }
        };
        let info = req.connection_info();
        let link_base = format!("{}://{}{}", info.scheme(), info.host(), req.path());
        Ok(ODataQuery {
            odata: odata.clone(),
            options,
            plan,
            after,
            remaining,
            first,
            link_base,
            kept,
            _entity: PhantomData,
        })
    }
}

impl<E: EntityTrait> FromRequest for ODataQuery<E> {
    type Error = ODataError;
    type Future = std::future::Ready<Result<Self, ODataError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::extract(req))
    }
}

/// Whether a property is answered here (not one the application computes).
fn readable(source: &PropertySource) -> bool {
    !matches!(source, PropertySource::Computed { .. })
}
