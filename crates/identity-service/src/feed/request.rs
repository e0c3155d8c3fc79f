//! What a feed handler knows about its request ([`Feed`]: the request,
//! the state, the tenant, the parsed options, the metadata level and the
//! page size), how it answers JSON, and the body of an answer sent as the
//! buffers it was written in ([`Pieces`]).

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use odata_parser::ast::QueryOptions;
use odata_sql::schema::EntitySet;

use super::prefer::{self, MetadataLevel};
use crate::error::ApiError;
use crate::etag::Precondition;
use crate::odata::{self, EntityKind, QueryError, ReadContext, ReadRequest, Shape};
use crate::routes::read_context;
use crate::state::AppState;
use crate::tenancy::TenantScope;

/// Everything a feed handler needs about the request.
pub(super) struct Feed<'a> {
    pub(super) req: &'a HttpRequest,
    pub(super) state: &'a AppState,
    pub(super) scope: &'a TenantScope,
    pub(super) options: QueryOptions,
    pub(super) level: MetadataLevel,
    /// `IEEE754Compatible=true`: Int64/Decimal values (and `@odata.count`)
    /// are JSON strings, and the content type says so.
    pub(super) ieee754: bool,
    /// `{base}/api/t/o/odata` (no trailing slash).
    pub(super) root: String,
    /// The page size the client preferred (clamped), if it said.
    pub(super) preferred: Option<u64>,
    pub(super) ctx: ReadContext,
    /// The caller's `$batch` change set: writes run in it.
    pub(super) change_set: Option<&'a crate::storage::ChangeSet>,
    /// Its transaction: the reads of the writes' answers run in it.
    pub(super) txn: Option<&'a sea_orm::DatabaseTransaction>,
}

impl Feed<'_> {
    /// Where single records are read: the change set's transaction, else
    /// the state's record reader.
    pub(super) fn record_reader(&self) -> odata::Reader<'_> {
        match self.txn {
            Some(tx) => odata::Reader::Txn(tx),
            None => self.state.record_reader(),
        }
    }

    /// Where lists are read: the change set's transaction, else the
    /// state's list reader.
    pub(super) fn list_reader(&self) -> odata::Reader<'_> {
        match self.txn {
            Some(tx) => odata::Reader::Txn(tx),
            None => self.state.list_reader(),
        }
    }

    /// The API error of a read that failed on the request's query, with
    /// the caret rendering ([`QueryError::teach`]).
    pub(super) fn taught(&self, e: QueryError) -> ApiError {
        e.teach(self.req.query_string())
    }

    /// A read of `kind` with the client's options.
    pub(super) fn read(&self, kind: EntityKind) -> ReadRequest<'_> {
        ReadRequest::new(kind, &self.options)
    }

    pub(super) fn context(&self, fragment: &str) -> String {
        [self.root.as_str(), "/$metadata#", fragment].concat()
    }

    /// `{"@odata.context":"…"` (or just `{` without context), ready for
    /// the next member after a comma-free start.
    pub(super) fn open_body(&self, fragment: &str, out: &mut Vec<u8>) -> bool {
        out.push(b'{');
        if self.level.has_context() {
            push_member(out, "@odata.context", &self.context(fragment));
            true
        } else {
            false
        }
    }

    /// A JSON answer with the content type of the metadata level (and
    /// `IEEE754Compatible=true` when asked for).
    pub(super) fn json(&self, body: impl MessageBody + 'static) -> HttpResponse {
        let negotiated = prefer::Negotiated {
            level: self.level,
            ieee754: self.ieee754,
        };
        HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static(negotiated.content_type()),
            ))
            .body(body)
    }

    /// The answer about one entity read at `version` (its own, or its
    /// property's): 304 when `If-None-Match` matches, 412 when `If-Match`
    /// does not, else `answer()` with the entity's `ETag`.
    pub(super) fn conditional(
        &self,
        version: Option<i64>,
        answer: impl FnOnce() -> Result<HttpResponse, ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        let precondition = Precondition::from_request(self.req)?;
        let Some(version) = version else {
            return answer();
        };
        let expanded = self.options.expand.is_some();
        if let Some(not_modified) = precondition.check_read(version, expanded)? {
            return Ok(not_modified);
        }
        let mut response = answer()?;
        if response.status().is_success() {
            let (name, value) = crate::etag::header(version);
            response.headers_mut().insert(name, value);
        }
        Ok(response)
    }
}

/// `"name":"value"` (JSON-escaped).
pub(super) fn push_member(out: &mut Vec<u8>, name: &str, value: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, name);
    out.push(b':');
    let _ = serde_json::to_writer(&mut *out, value);
}

/// API 1's read context with the feed's page size and shape.
pub(super) fn feed_context(req: &HttpRequest, state: &AppState) -> ReadContext {
    let mut ctx = read_context(req, state);
    ctx.page_size = state.settings.feed_page_size;
    ctx.shape = Shape::Feed {
        full: false,
        etag: true,
        ieee754: false,
    };
    ctx
}

impl<'a> Feed<'a> {
    /// The feed of a request whose query string parsed into `options`:
    /// the negotiated metadata level and page size, and the service root
    /// (`prefix` is its path).
    pub(super) fn new(
        req: &'a HttpRequest,
        state: &'a AppState,
        scope: &'a TenantScope,
        options: QueryOptions,
        mut ctx: ReadContext,
        prefix: &str,
        change_set: Option<&'a crate::storage::ChangeSet>,
    ) -> Result<Feed<'a>, ApiError> {
        let root = [ctx.base_url.as_str(), prefix].concat();
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        let prefer::Negotiated { level, ieee754 } =
            prefer::negotiate(options.format.as_ref().map(|f| f.value.as_str()), accept)?;
        let preferred = prefer::max_page_size(
            req.headers()
                .get_all("prefer")
                .filter_map(|v| v.to_str().ok()),
        );
        ctx.shape = Shape::Feed {
            full: level == MetadataLevel::Full,
            etag: level != MetadataLevel::None,
            ieee754,
        };
        if let Some(n) = preferred {
            ctx.page_size = n;
        }
        Ok(Feed {
            req,
            state,
            scope,
            options,
            level,
            ieee754,
            root,
            preferred,
            ctx,
            change_set,
            txn: change_set.map(crate::storage::ChangeSet::transaction),
        })
    }
}

/// A response body sent as the buffers it was written in, without joining
/// them (its length is known, so no chunked encoding).
pub(super) struct Pieces {
    parts: std::collections::VecDeque<Bytes>,
    size: u64,
}

impl Pieces {
    pub(super) fn new<const N: usize>(parts: [Vec<u8>; N]) -> Self {
        let parts: std::collections::VecDeque<Bytes> = parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(Bytes::from)
            .collect();
        let size = parts.iter().map(|p| p.len() as u64).sum();
        Pieces { parts, size }
    }
}

impl MessageBody for Pieces {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, Self::Error>>> {
        std::task::Poll::Ready(self.get_mut().parts.pop_front().map(Ok))
    }
}

pub(super) fn kind_of(set: &EntitySet) -> Option<EntityKind> {
    [EntityKind::User, EntityKind::Role, EntityKind::Group]
        .into_iter()
        .find(|k| k.entity_set() == set.name)
}

/// 400 for each system query option outside `allowed` that does not apply
/// to `what` (`$format` and custom options always pass).
pub(super) fn reject_options(
    options: &QueryOptions,
    allowed: &[&str],
    what: &str,
) -> Result<(), ApiError> {
    for (name, is_present) in present_options(options) {
        if is_present && !allowed.contains(&name) {
            return Err(ApiError::bad_request(
                format!("{name} does not apply to {what}"),
                Some(name),
            ));
        }
    }
    Ok(())
}

/// Each system query option a route may refuse, and whether `options`
/// has it.
pub(super) fn present_options(options: &QueryOptions) -> [(&'static str, bool); 16] {
    [
        ("$filter", options.filter.is_some()),
        ("$select", options.select.is_some()),
        ("$orderby", options.orderby.is_some()),
        ("$top", options.top.is_some()),
        ("$skip", options.skip.is_some()),
        ("$count", options.count.is_some()),
        ("$expand", options.expand.is_some()),
        ("$search", options.search.is_some()),
        ("$compute", options.compute.is_some()),
        ("$apply", options.apply.is_some()),
        ("$levels", options.levels.is_some()),
        ("$skiptoken", options.skiptoken.is_some()),
        ("$deltatoken", options.deltatoken.is_some()),
        ("$schemaversion", options.schemaversion.is_some()),
        ("$index", options.index.is_some()),
        ("$id", options.id.is_some()),
    ]
}
