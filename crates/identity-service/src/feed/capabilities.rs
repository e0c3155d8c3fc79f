//! What the read path supports, found out by asking it.
//!
//! `$metadata` must say truthfully what the feed can do. Rather than keeping
//! a second list that drifts from the translator, the capability
//! annotations are the result of probing the real read path
//! ([`crate::odata::list`]) once per database backend with small sample
//! queries (`$top=0`, so nothing is read but for `$count` and `$apply`
//! probes): a sample that answers `Ok` is supported, one that answers
//! `NotSupported` (or is refused) is not listed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use odata_sql::Schema as _;
use sea_orm::DatabaseConnection;

use crate::odata::{self, EntityKind, QueryError, ReadContext, schema::identity_schema};
use crate::tenancy::TenantScope;

/// Canonical filter functions and sample uses of each (any sample that
/// works makes the function supported). Samples run against `Users`.
const FILTER_FUNCTIONS: &[(&str, &[&str])] = &[
    ("contains", &["contains(userKey,'a')"]),
    ("startswith", &["startswith(userKey,'a')"]),
    ("endswith", &["endswith(userKey,'a')"]),
    ("length", &["length(name) eq 1"]),
    ("indexof", &["indexof(name,'a') eq 1"]),
    (
        "substring",
        &["substring(name,1) eq 'a'", "substring(name,1,2) eq 'a'"],
    ),
    ("matchesPattern", &["matchesPattern(name,'a')"]),
    ("tolower", &["tolower(name) eq 'a'"]),
    ("toupper", &["toupper(name) eq 'A'"]),
    ("trim", &["trim(name) eq 'a'"]),
    ("concat", &["concat(name,'a') eq 'a'"]),
    ("year", &["year(createdOn) eq 2020"]),
    ("month", &["month(createdOn) eq 1"]),
    ("day", &["day(createdOn) eq 1"]),
    ("hour", &["hour(createdOn) eq 1"]),
    ("minute", &["minute(createdOn) eq 1"]),
    ("second", &["second(createdOn) eq 1"]),
    ("fractionalseconds", &["fractionalseconds(createdOn) eq 0"]),
    ("totalseconds", &["totalseconds(duration'PT1S') eq 1"]),
    ("date", &["date(createdOn) eq 2020-01-01"]),
    ("time", &["time(createdOn) eq 12:00:00"]),
    (
        "totaloffsetminutes",
        &["totaloffsetminutes(createdOn) eq 0"],
    ),
    ("mindatetime", &["createdOn gt mindatetime()"]),
    ("maxdatetime", &["createdOn lt maxdatetime()"]),
    ("now", &["createdOn lt now()"]),
    (
        "round",
        &["round(version) eq 1", "round(version div 2.0) eq 1"],
    ),
    (
        "floor",
        &["floor(version) eq 1", "floor(version div 2.0) eq 1"],
    ),
    (
        "ceiling",
        &["ceiling(version) eq 1", "ceiling(version div 2.0) eq 1"],
    ),
    ("cast", &["cast(status,Edm.String) eq '1'"]),
    ("isof", &["isof(Identity.User)"]),
    ("hassubset", &["hassubset(['a','b'],['a'])"]),
    ("hassubsequence", &["hassubsequence(['a','b'],['a'])"]),
];

/// `$search` expression kinds (`Capabilities.SearchExpressions` members)
/// and a sample of each.
const SEARCH_EXPRESSIONS: &[(&str, &str)] = &[
    ("AND", "a%20AND%20b"),
    ("OR", "a%20OR%20b"),
    ("NOT", "NOT%20a"),
    ("phrase", "%22a%20b%22"),
    ("group", "(a%20OR%20b)%20AND%20c"),
];

/// `$apply` transformations (`Aggregation.ApplySupported/Transformations`)
/// and a sample of each.
const APPLY_TRANSFORMATIONS: &[(&str, &str)] = &[
    ("aggregate", "aggregate($count%20as%20n)"),
    ("groupby", "groupby((status),aggregate($count%20as%20n))"),
    ("filter", "filter(status%20eq%201)"),
    ("orderby", "groupby((status))/orderby(status)"),
    ("top", "groupby((status))/top(1)"),
    ("skip", "groupby((status))/skip(1)"),
    ("search", "search(a)"),
    ("compute", "compute(version%20add%201%20as%20v)"),
    ("concat", "concat(identity,identity)"),
    ("identity", "identity"),
    ("expand", "expand(roles)"),
];

/// What one entity set supports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetCapabilities {
    /// `$count=true` works.
    pub countable: bool,
    /// `$top` works.
    pub top: bool,
    /// `$skip` works.
    pub skip: bool,
    /// `$filter` works at all.
    pub filterable: bool,
    /// Properties `$filter` refuses.
    pub non_filterable: Vec<String>,
    /// `$orderby` works at all.
    pub sortable: bool,
    /// Properties `$orderby` refuses.
    pub non_sortable: Vec<String>,
    /// `$expand` works for at least one navigation.
    pub expandable: bool,
    /// Navigation properties `$expand` refuses.
    pub non_expandable: Vec<String>,
    /// Navigation properties whose `/$count` cannot be used in `$filter`.
    pub non_countable_navigations: Vec<String>,
    /// `$search` works.
    pub searchable: bool,
    /// `$search` expression kinds that do not work.
    pub unsupported_search: Vec<&'static str>,
}

/// What the feed supports, as `$metadata` reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capabilities {
    /// Per entity set name.
    pub sets: Vec<(String, SetCapabilities)>,
    /// Supported canonical filter functions.
    pub filter_functions: Vec<&'static str>,
    /// The deepest `$expand` nesting that works (0: none).
    pub max_expand_levels: u32,
    /// Supported `$apply` transformations (empty: `$apply` is not supported).
    pub apply_transformations: Vec<&'static str>,
    /// `$compute` works.
    pub compute: bool,
    /// Fractional-second digits timestamps can have (`None`: not known,
    /// the `Precision` facet is left out): microseconds on every backend,
    /// as the service truncates every timestamp it writes to them
    /// (`domain::stored`).
    pub timestamp_precision: Option<u32>,
}

impl Capabilities {
    /// The capabilities of one entity set.
    pub fn set(&self, name: &str) -> Option<&SetCapabilities> {
        self.sets.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// Probes the read path with sample queries.
struct Prober<'a> {
    db: &'a DatabaseConnection,
    scope: &'a TenantScope,
    ctx: &'a ReadContext,
    /// The first database error: the probe is incomplete, so its result is
    /// neither served nor cached.
    failure: Option<sea_orm::DbErr>,
}

impl Prober<'_> {
    async fn supports(&mut self, kind: EntityKind, query: &str) -> bool {
        match odata::list_query(self.db, self.scope, kind, query, self.ctx).await {
            Ok(_) => true,
            Err(QueryError::Database(e)) => {
                tracing::warn!(error = %e, query, "capability probe failed on the database");
                self.failure.get_or_insert(e);
                false
            }
            Err(e) => {
                tracing::debug!(error = %e, query, "capability probe: not supported");
                false
            }
        }
    }

    async fn any(&mut self, kind: EntityKind, queries: &[String]) -> bool {
        for q in queries {
            if self.supports(kind, q).await {
                return true;
            }
        }
        false
    }
}

fn kind_of(set: &str) -> Option<EntityKind> {
    [EntityKind::User, EntityKind::Role, EntityKind::Group]
        .into_iter()
        .find(|k| k.entity_set() == set)
}

async fn probe_set(p: &mut Prober<'_>, kind: EntityKind) -> SetCapabilities {
    let schema = identity_schema();
    let mut caps = SetCapabilities {
        countable: p.supports(kind, "$top=0&$count=true").await,
        top: p.supports(kind, "$top=1").await && p.supports(kind, "$top=0").await,
        skip: p.supports(kind, "$top=0&$skip=1").await,
        ..SetCapabilities::default()
    };
    let Some(set) = schema.entity_set(kind.entity_set()) else {
        return caps;
    };
    let entity = &set.entity_type;
    for prop in &entity.properties {
        if p.supports(kind, &format!("$top=0&$filter={}%20eq%20null", prop.name))
            .await
        {
            caps.filterable = true;
        } else {
            caps.non_filterable.push(prop.name.clone());
        }
        if p.supports(kind, &format!("$top=0&$orderby={}", prop.name))
            .await
        {
            caps.sortable = true;
        } else {
            caps.non_sortable.push(prop.name.clone());
        }
    }
    for nav in &entity.navigations {
        if p.supports(kind, &format!("$top=0&$expand={}", nav.name))
            .await
        {
            caps.expandable = true;
        } else {
            caps.non_expandable.push(nav.name.clone());
        }
        if !p
            .supports(
                kind,
                &format!("$top=0&$filter={}/$count%20ge%200", nav.name),
            )
            .await
        {
            caps.non_countable_navigations.push(nav.name.clone());
        }
    }
    caps.searchable = p.supports(kind, "$top=0&$search=a").await;
    if caps.searchable {
        for (name, sample) in SEARCH_EXPRESSIONS {
            if !p.supports(kind, &format!("$top=0&$search={sample}")).await {
                caps.unsupported_search.push(name);
            }
        }
    }
    caps
}

async fn probe(p: &mut Prober<'_>) -> Capabilities {
    let mut caps = Capabilities::default();
    for set in identity_schema().entity_sets() {
        if let Some(kind) = kind_of(&set.name) {
            let set_caps = probe_set(p, kind).await;
            caps.sets.push((set.name.clone(), set_caps));
        }
    }
    for (name, samples) in FILTER_FUNCTIONS {
        let queries: Vec<String> = samples
            .iter()
            .map(|s| format!("$top=0&$filter={}", s.replace(' ', "%20")))
            .collect();
        if p.any(EntityKind::User, &queries).await {
            caps.filter_functions.push(name);
        }
    }
    // Users -> roles -> users -> groups ...: the deepest nesting that works.
    let chain = ["roles", "users", "groups", "users"];
    for depth in 1..=chain.len() {
        let mut expand = String::new();
        for (i, nav) in chain[..depth].iter().enumerate().rev() {
            expand = if i + 1 == depth {
                (*nav).to_owned()
            } else {
                format!("{nav}($expand={expand})")
            };
        }
        if p.supports(EntityKind::User, &format!("$top=0&$expand={expand}"))
            .await
        {
            caps.max_expand_levels = depth as u32;
        } else {
            break;
        }
    }
    for (name, sample) in APPLY_TRANSFORMATIONS {
        if p.supports(EntityKind::User, &format!("$apply={sample}"))
            .await
        {
            caps.apply_transformations.push(name);
        }
    }
    caps.compute = p
        .supports(
            EntityKind::User,
            "$top=0&$compute=version%20add%201%20as%20v",
        )
        .await;
    caps
}

type Cache = Mutex<HashMap<String, Arc<Capabilities>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The capabilities of the read path on this database's backend (probed
/// once per backend and process). A probe that hits a database error fails
/// with that error (so `$metadata` answers 503 rather than understate what
/// works) and is tried again on the next call.
pub async fn capabilities(
    db: &DatabaseConnection,
    scope: &TenantScope,
    ctx: &ReadContext,
) -> Result<Arc<Capabilities>, QueryError> {
    let key = format!("{:?}", db.get_database_backend());
    if let Some(c) = cache().lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(c);
    }
    // The probes are the service's own small queries: no time limit or
    // tenant share, so a busy tenant cannot make them look unsupported.
    let ctx = &ReadContext {
        limits: crate::fair::ReadLimits::default(),
        ..ctx.clone()
    };
    let mut prober = Prober {
        db,
        scope,
        ctx,
        failure: None,
    };
    let mut caps = probe(&mut prober).await;
    caps.timestamp_precision = Some(u32::from(crate::domain::TIME_PRECISION));
    if let Some(e) = prober.failure {
        return Err(QueryError::Database(e));
    }
    let caps = Arc::new(caps);
    if let Ok(mut m) = cache().lock() {
        m.insert(key, caps.clone());
    }
    Ok(caps)
}
