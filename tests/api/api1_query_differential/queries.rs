//! The generator's whole queries: `$orderby` keys, `$search`, `$select`,
//! `$top`/`$skip`/`$count`, and the records they range over.

use super::*;

#[derive(Debug, Clone, Copy)]
pub(super) enum SortKey {
    Str(StrField),
    Lower(StrField),
    Status,
    Technician,
    LastLogin,
    RoleCount,
}

impl SortKey {
    pub(super) fn odata(self) -> String {
        match self {
            SortKey::Str(f) => f.odata().to_owned(),
            SortKey::Lower(f) => format!("tolower({})", f.odata()),
            SortKey::Status => "status".to_owned(),
            SortKey::Technician => "isTechnician".to_owned(),
            SortKey::LastLogin => "lastLogin".to_owned(),
            SortKey::RoleCount => "roles/$count".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Query {
    pub(super) filter: Option<Filter>,
    pub(super) orderby: Vec<(SortKey, bool)>,
    pub(super) top: Option<usize>,
    pub(super) skip: Option<usize>,
    pub(super) select: Option<Vec<&'static str>>,
    pub(super) count: bool,
    pub(super) search: Option<Search>,
    pub(super) expand_roles: bool,
}

/// A `$search` expression: terms match userKey, name or email
/// case-insensitively as substrings.
#[derive(Debug, Clone)]
pub(super) enum Search {
    Term(String),
    Phrase(String),
    Not(Box<Search>),
    And(Box<Search>, Box<Search>),
    Or(Box<Search>, Box<Search>),
}

impl Search {
    pub(super) fn odata(&self) -> String {
        match self {
            Search::Term(t) => t.clone(),
            Search::Phrase(p) => format!("\"{p}\""),
            Search::Not(x) => format!("NOT {}", x.odata()),
            Search::And(l, r) => format!("{} AND {}", l.odata(), r.odata()),
            Search::Or(l, r) => format!("{} OR {}", l.odata(), r.odata()),
        }
    }
}

pub(super) fn gen_search_word(rng: &mut Rng, data: &Data) -> Search {
    let u = rng.pick(&data.users);
    let words: Vec<&str> = u.name.split(' ').collect();
    let w: String = rng.pick(&words).chars().take(2 + rng.below(4)).collect();
    let w = if rng.chance(30) { w.to_uppercase() } else { w };
    if rng.chance(25) {
        // A phrase across a space.
        let tail: String = u.name.chars().skip(2).take(6).collect();
        Search::Phrase(tail)
    } else if w.chars().all(|c| c.is_ascii_alphabetic()) {
        Search::Term(w)
    } else {
        Search::Phrase(w)
    }
}

pub(super) fn gen_search(rng: &mut Rng, data: &Data) -> Search {
    let a = gen_search_word(rng, data);
    let b = gen_search_word(rng, data);
    match rng.below(5) {
        0 => a,
        1 => Search::And(Box::new(a), Box::new(b)),
        2 => Search::Or(Box::new(a), Box::new(b)),
        3 => Search::Not(Box::new(a)),
        _ => Search::And(Box::new(a), Box::new(Search::Not(Box::new(b)))),
    }
}

impl Query {
    pub(super) fn raw(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.filter {
            parts.push(format!("$filter={}", common::encode(&f.odata())));
        }
        if !self.orderby.is_empty() {
            let items: Vec<String> = self
                .orderby
                .iter()
                .map(|(k, desc)| {
                    if *desc {
                        format!("{} desc", k.odata())
                    } else {
                        k.odata()
                    }
                })
                .collect();
            parts.push(format!("$orderby={}", common::encode(&items.join(","))));
        }
        if let Some(t) = self.top {
            parts.push(format!("$top={t}"));
        }
        if let Some(s) = self.skip {
            parts.push(format!("$skip={s}"));
        }
        if let Some(sel) = &self.select {
            parts.push(format!("$select={}", sel.join(",")));
        }
        if let Some(search) = &self.search {
            parts.push(format!("$search={}", common::encode(&search.odata())));
        }
        if self.expand_roles {
            parts.push("$expand=roles".to_owned());
        }
        if self.count {
            parts.push(if self.top.is_some() {
                "$inlinecount=allpages".to_owned()
            } else {
                "$count=true".to_owned()
            });
        }
        parts.join("&")
    }
}

impl Query {
    /// The expected users, in order, and the count of the filtered set:
    /// `odata-sql`'s in-memory evaluator ([`odata_sql::memory`]) over the
    /// same records, with the service's schema. `$select` and `$expand` are
    /// left to the checks of shapes and values below.
    pub(super) fn expected<'d>(&self, data: &'d Data, rows: &[Json]) -> (Vec<&'d User>, usize) {
        let raw = self.raw();
        let mut options =
            parse_query(&raw, &ParserOptions::default()).unwrap_or_else(|e| panic!("`{raw}`: {e}"));
        options.select = None;
        options.expand = None;
        options.count = Some(CountOption {
            value: true,
            span: Span::default(),
        });
        let out = Evaluator::for_entity_set(identity_schema(), schema::USERS)
            .expect("the Users entity set")
            .apply(rows, &options)
            .unwrap_or_else(|e| panic!("`{raw}`: the evaluator: {e}"));
        let users = out
            .rows
            .iter()
            .map(|r| {
                let id = r["id"].as_str().expect("an id");
                data.users.iter().find(|u| u.id == id).expect("a known id")
            })
            .collect();
        (users, out.count.expect("the count") as usize)
    }
}

/// The users as records of the `Users` entity set, each with its roles as
/// role records (what `roles/any(...)` and `roles/$count` range over).
pub(super) fn records(data: &Data) -> Vec<Json> {
    data.users
        .iter()
        .map(|u| {
            let roles: Vec<Json> = u
                .roles
                .iter()
                .map(|r| json!({"roleKey": data.roles[*r].key, "description": data.roles[*r].description}))
                .collect();
            json!({
                "id": u.id, "userKey": u.user_key, "name": u.name, "culture": u.culture,
                "email": u.email, "isTechnician": u.is_technician, "lastLogin": u.last_login,
                "status": u.status, "isActive": u.is_active, "isDeleted": false,
                "picture": u.picture, "roles": roles,
            })
        })
        .collect()
}

pub(super) const SELECTABLE: [&str; 11] = [
    "picture",
    "isActive",
    "isDeleted",
    "userKey",
    "name",
    "email",
    "status",
    "lastLogin",
    "roles",
    "isTechnician",
    "culture",
];

pub(super) fn gen_query(rng: &mut Rng, data: &Data) -> Query {
    let filter = rng.chance(85).then(|| gen_filter(rng, data, 3));
    let keys = [
        SortKey::Str(StrField::Name),
        SortKey::Str(StrField::UserKey),
        SortKey::Str(StrField::Email),
        SortKey::Str(StrField::Culture),
        SortKey::Lower(StrField::Name),
        SortKey::Lower(StrField::Email),
        SortKey::Status,
        SortKey::Technician,
        SortKey::LastLogin,
        SortKey::RoleCount,
    ];
    let orderby = (0..rng.below(3))
        .map(|_| (*rng.pick(&keys), rng.chance(40)))
        .collect();
    let top = match rng.below(5) {
        0 => Some(rng.below(5)),
        1 => Some(rng.below(260)),
        2 => Some(100 + rng.below(150)),
        _ => None,
    };
    let skip = rng.chance(30).then(|| rng.below(60));
    let select = rng.chance(30).then(|| {
        let mut s: Vec<&'static str> = (0..1 + rng.below(3))
            .map(|_| *rng.pick(&SELECTABLE))
            .collect();
        s.sort();
        s.dedup();
        s
    });
    Query {
        filter,
        orderby,
        top,
        skip,
        select,
        count: rng.chance(25),
        search: rng.chance(15).then(|| gen_search(rng, data)),
        expand_roles: rng.chance(10),
    }
}
