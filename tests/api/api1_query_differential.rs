//! Differential test of the read path: hundreds of generated OData queries
//! (deterministic seed) over the generated users must return exactly the
//! rows, in the order, that the reference computes in memory with OData
//! semantics — following every `nextPageLink`. The reference is
//! `odata-sql`'s public in-memory evaluator (`odata_sql::memory`) over the
//! same records, typed by the service's schema.
//!
//! The data comes from `odata-users generate 300` (the project's generator,
//! `identity_service::sample_data`), imported with the
//! service's CSV importer. The evaluator knows nothing of SQL:
//! three-valued logic for functions on null, two-valued comparisons (`null eq
//! null` is true), case-sensitive strings ordered by code point, nulls first
//! ascending and last descending, the key as the last sort item.
//!
//! The test application's database (SQLite, or `ODATA_TEST_BACKEND`) is
//! queried over HTTP (`GET users/odata` on the real application); when
//! `ODATA_TEST_POSTGRES_URL` / `ODATA_TEST_MYSQL_URL` are set, the same
//! queries run through `identity_service::odata::list` on a fresh database
//! of that server (required when `ODATA_TEST_REQUIRE_BACKENDS=1`).

use crate::common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use identity_service::odata::schema::{self, identity_schema};
use identity_service::odata::{EntityKind, ReadContext, Shape, list_query};
use identity_service::tenancy::TenantScope;
use odata_parser::ast::{CountOption, Span};
use odata_parser::{ParserOptions, parse_query};
use odata_sql::memory::Evaluator;
use reqwest::StatusCode;
use serde_json::{Value as Json, json};
use uuid::Uuid;

const USERS: usize = 300;
const QUERIES: usize = 200;

// ---------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct User {
    id: String,
    user_key: String,
    name: String,
    culture: Option<String>,
    is_technician: bool,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` as generated (fixed width: sorts as time).
    last_login: Option<String>,
    email: Option<String>,
    status: i64,
    is_active: bool,
    /// External picture URL, kept as given by the importer.
    picture: Option<String>,
    roles: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Role {
    key: String,
    description: Option<String>,
}

struct Data {
    dir: PathBuf,
    users: Vec<User>,
    roles: Vec<Role>,
}

/// Runs the generator into a fresh directory and reads its CSV files.
fn generate(tenant: &str) -> Data {
    let dir = common::temp_dir();
    identity_service::sample_data::write_dir(
        &dir,
        USERS,
        identity_service::sample_data::DEFAULT_SEED,
    )
    .expect("generate the test data");
    common::remap_ids(&dir, tenant);

    let read = |file: &str| -> Vec<HashMap<String, String>> {
        let text = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        let mut rows = common::parse_csv(&text).into_iter();
        let header = rows.next().expect("header row");
        rows.map(|r| header.iter().cloned().zip(r).collect())
            .collect()
    };
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());

    let mut role_index = HashMap::new();
    let roles: Vec<Role> = read("peer.users-Roles.csv")
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            role_index.insert(r["ID"].to_lowercase(), i);
            Role {
                key: r["roleKey"].clone(),
                description: opt(&r["name"]),
            }
        })
        .collect();
    let mut user_index = HashMap::new();
    let mut users: Vec<User> = read("peer.users-Users.csv")
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let id = r["ID"].to_lowercase();
            user_index.insert(id.clone(), i);
            User {
                id,
                user_key: r["userKey"].clone(),
                name: r["name"].clone(),
                culture: opt(&r["culture"]),
                is_technician: r["isTechnician"] == "true",
                last_login: opt(&r["lastLogin"]),
                email: opt(&r["email"]),
                status: r["status"].parse().expect("status"),
                is_active: r["isActive"] == "true",
                picture: opt(&r["picture"]),
                roles: Vec::new(),
            }
        })
        .collect();
    for link in read("peer.users-UserRoles.csv") {
        let u = user_index[&link["user_ID"].to_lowercase()];
        let r = role_index[&link["role_ID"].to_lowercase()];
        users[u].roles.push(r);
    }
    Data { dir, users, roles }
}

// ---------------------------------------------------------------------------
// A deterministic generator of queries that knows how to evaluate them
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum StrField {
    UserKey,
    Name,
    Email,
    Culture,
}

impl StrField {
    const ALL: [StrField; 4] = [
        StrField::UserKey,
        StrField::Name,
        StrField::Email,
        StrField::Culture,
    ];
    fn odata(self) -> &'static str {
        match self {
            StrField::UserKey => "userKey",
            StrField::Name => "name",
            StrField::Email => "email",
            StrField::Culture => "culture",
        }
    }
    fn get(self, u: &User) -> Option<&str> {
        match self {
            StrField::UserKey => Some(&u.user_key),
            StrField::Name => Some(&u.name),
            StrField::Email => u.email.as_deref(),
            StrField::Culture => u.culture.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    const ALL: [Op; 6] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
    fn odata(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Gt => "gt",
            Op::Ge => "ge",
        }
    }
}

#[derive(Debug, Clone)]
enum StrExpr {
    Field(StrField),
    Lower(StrField),
    Upper(StrField),
    Substring(StrField, usize, Option<usize>),
}

impl StrExpr {
    fn odata(&self) -> String {
        match self {
            StrExpr::Field(f) => f.odata().to_owned(),
            StrExpr::Lower(f) => format!("tolower({})", f.odata()),
            StrExpr::Upper(f) => format!("toupper({})", f.odata()),
            StrExpr::Substring(f, s, None) => format!("substring({},{s})", f.odata()),
            StrExpr::Substring(f, s, Some(n)) => format!("substring({},{s},{n})", f.odata()),
        }
    }
}

#[derive(Debug, Clone)]
enum Atom {
    StrCmp(StrExpr, Op, Option<String>),
    Contains(StrField, String),
    StartsWith(StrField, String),
    EndsWith(StrField, String),
    Length(StrField, Op, i64),
    IndexOf(StrField, String, i64),
    Status(Op, i64),
    StatusArith(&'static str, i64, i64),
    StatusIn(Vec<i64>),
    KeyIn(Vec<String>),
    Technician(bool),
    ActiveBare,
    LastLogin(Op, Option<String>),
    Year(Op, i64),
    Month(Op, i64),
    /// `day`, `hour`, `minute` or `second` of lastLogin.
    TimePart(&'static str, Op, i64),
    DateEq(String),
    ConcatEq(StrField, String, String),
    StatusDivBy(i64, &'static str),
    EmailInWithNull(String),
    AnyRole(String),
    AnyRoleDescContains(String),
    AllRolesNot(String),
    AnyRoleEmpty,
    RoleCount(Op, i64),
    IdEq(String),
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Atom {
    fn odata(&self) -> String {
        match self {
            Atom::StrCmp(e, op, lit) => format!(
                "{} {} {}",
                e.odata(),
                op.odata(),
                lit.as_deref().map_or("null".to_owned(), quote)
            ),
            Atom::Contains(f, s) => format!("contains({},{})", f.odata(), quote(s)),
            Atom::StartsWith(f, s) => format!("startswith({},{})", f.odata(), quote(s)),
            Atom::EndsWith(f, s) => format!("endswith({},{})", f.odata(), quote(s)),
            Atom::Length(f, op, n) => format!("length({}) {} {n}", f.odata(), op.odata()),
            Atom::IndexOf(f, s, n) => format!("indexof({},{}) eq {n}", f.odata(), quote(s)),
            Atom::Status(op, n) => format!("status {} {n}", op.odata()),
            Atom::StatusArith(op, n, r) => format!("status {op} {n} eq {r}"),
            Atom::StatusIn(v) => format!(
                "status in ({})",
                v.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Atom::KeyIn(v) => format!(
                "userKey in ({})",
                v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(",")
            ),
            Atom::Technician(b) => format!("isTechnician eq {b}"),
            Atom::ActiveBare => "isActive".to_owned(),
            Atom::LastLogin(op, t) => format!(
                "lastLogin {} {}",
                op.odata(),
                t.as_deref().unwrap_or("null")
            ),
            Atom::Year(op, n) => format!("year(lastLogin) {} {n}", op.odata()),
            Atom::Month(op, n) => format!("month(lastLogin) {} {n}", op.odata()),
            Atom::TimePart(f, op, n) => format!("{f}(lastLogin) {} {n}", op.odata()),
            Atom::DateEq(d) => format!("date(lastLogin) eq {d}"),
            Atom::ConcatEq(f, suffix, lit) => {
                format!("concat({},{}) eq {}", f.odata(), quote(suffix), quote(lit))
            }
            Atom::StatusDivBy(n, lit) => format!("status divby {n} gt {lit}"),
            Atom::EmailInWithNull(e) => format!("email in ({}, null)", quote(e)),
            Atom::AnyRole(k) => format!("roles/any(r: r/roleKey eq {})", quote(k)),
            Atom::AnyRoleDescContains(s) => {
                format!("roles/any(x: contains(x/description,{}))", quote(s))
            }
            Atom::AllRolesNot(k) => format!("roles/all(r: r/roleKey ne {})", quote(k)),
            Atom::AnyRoleEmpty => "roles/any()".to_owned(),
            Atom::RoleCount(op, n) => format!("roles/$count {} {n}", op.odata()),
            Atom::IdEq(id) => format!("id eq {id}"),
        }
    }
}

/// `2024-01-02T03:04:05Z` and `...05.678Z` to one comparable form.
fn normalize_time(t: &str) -> String {
    let t = t.trim_end_matches('Z');
    let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
    format!("{secs}.{frac:0<9}")
}

#[derive(Debug, Clone)]
enum Filter {
    Atom(Atom),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

impl Filter {
    fn odata(&self) -> String {
        match self {
            Filter::Atom(a) => a.odata(),
            Filter::Not(f) => format!("not ({})", f.odata()),
            Filter::And(l, r) => format!("({}) and ({})", l.odata(), r.odata()),
            Filter::Or(l, r) => format!("({}) or ({})", l.odata(), r.odata()),
        }
    }
}

/// A piece of an existing value, sometimes with its case changed, so that
/// string tests both hit and miss.
fn sample_text(rng: &mut Rng, data: &Data, field: StrField) -> String {
    let u = rng.pick(&data.users);
    let v: Vec<char> = field.get(u).unwrap_or("x@y").chars().collect::<Vec<_>>();
    let start = rng.below(v.len().max(1));
    let len = 1 + rng.below(4);
    let piece: String = v.iter().skip(start).take(len).collect();
    match rng.below(6) {
        0 => piece.to_uppercase(),
        1 => piece.to_lowercase(),
        _ => piece,
    }
}

fn whole_value(rng: &mut Rng, data: &Data, field: StrField) -> Option<String> {
    let u = rng.pick(&data.users);
    let v = field.get(u).map(str::to_owned);
    match rng.below(8) {
        0 => v.map(|s| s.to_uppercase()),
        1 => Some("Zoë Ñandú ünïcode".to_owned()),
        _ => v,
    }
}

fn gen_atom(rng: &mut Rng, data: &Data) -> Atom {
    let sf = *rng.pick(&StrField::ALL);
    let op = *rng.pick(&Op::ALL);
    match rng.below(26) {
        0 | 1 => {
            let lit = if rng.chance(15) {
                None
            } else {
                whole_value(rng, data, sf)
            };
            Atom::StrCmp(StrExpr::Field(sf), op, lit)
        }
        2 => Atom::StrCmp(
            StrExpr::Lower(sf),
            *rng.pick(&[Op::Eq, Op::Ne, Op::Lt, Op::Ge]),
            whole_value(rng, data, sf).map(|s| s.to_lowercase()),
        ),
        3 => Atom::StrCmp(
            StrExpr::Upper(sf),
            Op::Eq,
            whole_value(rng, data, sf).map(|s| s.to_uppercase()),
        ),
        4 => Atom::Contains(sf, sample_text(rng, data, sf)),
        5 => Atom::StartsWith(sf, sample_text(rng, data, sf)),
        6 => Atom::EndsWith(sf, sample_text(rng, data, sf)),
        7 => Atom::Length(sf, op, 5 + rng.below(20) as i64),
        8 => Atom::IndexOf(sf, sample_text(rng, data, sf), rng.below(6) as i64 - 1),
        9 => {
            let s = rng.below(5);
            let n = rng.chance(50).then(|| rng.below(5));
            let u = rng.pick(&data.users);
            let lit = sf.get(u).map(|v| {
                let rest = v.chars().skip(s);
                match n {
                    Some(n) => rest.take(n).collect::<String>(),
                    None => rest.collect(),
                }
            });
            Atom::StrCmp(
                StrExpr::Substring(sf, s, n),
                Op::Eq,
                lit.or(Some("a".into())),
            )
        }
        10 => Atom::Status(op, 1 + rng.below(4) as i64),
        11 => {
            let ops = ["add", "sub", "mul", "div", "mod"];
            let o = *rng.pick(&ops);
            let n = 1 + rng.below(3) as i64;
            Atom::StatusArith(o, n, rng.below(5) as i64)
        }
        12 => Atom::StatusIn(
            (0..1 + rng.below(3))
                .map(|_| 1 + rng.below(4) as i64)
                .collect(),
        ),
        13 => Atom::KeyIn(
            (0..1 + rng.below(4))
                .map(|_| {
                    let k = rng.pick(&data.users).user_key.clone();
                    if rng.chance(20) { k.to_uppercase() } else { k }
                })
                .collect(),
        ),
        14 => {
            if rng.chance(50) {
                Atom::Technician(rng.chance(50))
            } else {
                Atom::ActiveBare
            }
        }
        15 => {
            let t = if rng.chance(15) {
                None
            } else {
                Some(format!(
                    "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    2024 + rng.below(3),
                    1 + rng.below(12),
                    1 + rng.below(28),
                    rng.below(24),
                    rng.below(60),
                    rng.below(60)
                ))
            };
            Atom::LastLogin(op, t)
        }
        16 => {
            if rng.chance(50) {
                Atom::Year(op, 2024 + rng.below(3) as i64)
            } else {
                Atom::Month(op, 1 + rng.below(12) as i64)
            }
        }
        17 => Atom::AnyRole({
            let k = rng.pick(&data.roles).key.clone();
            if rng.chance(20) { k.to_uppercase() } else { k }
        }),
        18 => {
            let r = rng.pick(&data.roles);
            let d = r.description.clone().unwrap_or_else(|| "x".into());
            let chars: Vec<char> = d.chars().collect();
            let s = rng.below(chars.len().max(1));
            Atom::AnyRoleDescContains(chars.iter().skip(s).take(3).collect())
        }
        19 => match rng.below(3) {
            0 => Atom::AllRolesNot(rng.pick(&data.roles).key.clone()),
            1 => Atom::AnyRoleEmpty,
            _ => Atom::RoleCount(op, rng.below(4) as i64),
        },
        20 => {
            let f = *rng.pick(&["day", "hour", "minute", "second"]);
            Atom::TimePart(f, op, rng.below(30) as i64)
        }
        21 => {
            let u = rng.pick(&data.users);
            let d = u
                .last_login
                .as_deref()
                .map_or("2025-01-01".to_owned(), |t| t[..10].to_owned());
            Atom::DateEq(d)
        }
        22 => {
            let u = rng.pick(&data.users);
            let suffix = *rng.pick(&["", "-x", "ç"]);
            let lit = format!("{}{suffix}", sf.get(u).unwrap_or("none"));
            Atom::ConcatEq(sf, suffix.to_owned(), lit)
        }
        23 => {
            let limits = ["0.5", "1", "1.25", "2.0"];
            Atom::StatusDivBy(1 + rng.below(3) as i64, limits[rng.below(limits.len())])
        }
        24 => Atom::EmailInWithNull(
            rng.pick(&data.users)
                .email
                .clone()
                .unwrap_or_else(|| "x@y.z".to_owned()),
        ),
        _ => Atom::IdEq(rng.pick(&data.users).id.clone()),
    }
}

fn gen_filter(rng: &mut Rng, data: &Data, depth: usize) -> Filter {
    if depth == 0 || rng.chance(45) {
        return Filter::Atom(gen_atom(rng, data));
    }
    match rng.below(4) {
        0 => Filter::Not(Box::new(gen_filter(rng, data, depth - 1))),
        1 => Filter::Or(
            Box::new(gen_filter(rng, data, depth - 1)),
            Box::new(gen_filter(rng, data, depth - 1)),
        ),
        _ => Filter::And(
            Box::new(gen_filter(rng, data, depth - 1)),
            Box::new(gen_filter(rng, data, depth - 1)),
        ),
    }
}

#[derive(Debug, Clone, Copy)]
enum SortKey {
    Str(StrField),
    Lower(StrField),
    Status,
    Technician,
    LastLogin,
    RoleCount,
}

impl SortKey {
    fn odata(self) -> String {
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
struct Query {
    filter: Option<Filter>,
    orderby: Vec<(SortKey, bool)>,
    top: Option<usize>,
    skip: Option<usize>,
    select: Option<Vec<&'static str>>,
    count: bool,
    search: Option<Search>,
    expand_roles: bool,
}

/// A `$search` expression: terms match userKey, name or email
/// case-insensitively as substrings.
#[derive(Debug, Clone)]
enum Search {
    Term(String),
    Phrase(String),
    Not(Box<Search>),
    And(Box<Search>, Box<Search>),
    Or(Box<Search>, Box<Search>),
}

impl Search {
    fn odata(&self) -> String {
        match self {
            Search::Term(t) => t.clone(),
            Search::Phrase(p) => format!("\"{p}\""),
            Search::Not(x) => format!("NOT {}", x.odata()),
            Search::And(l, r) => format!("{} AND {}", l.odata(), r.odata()),
            Search::Or(l, r) => format!("{} OR {}", l.odata(), r.odata()),
        }
    }
}

fn gen_search_word(rng: &mut Rng, data: &Data) -> Search {
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

fn gen_search(rng: &mut Rng, data: &Data) -> Search {
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
    fn raw(&self) -> String {
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
    fn expected<'d>(&self, data: &'d Data, rows: &[Json]) -> (Vec<&'d User>, usize) {
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
fn records(data: &Data) -> Vec<Json> {
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

const SELECTABLE: [&str; 11] = [
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

fn gen_query(rng: &mut Rng, data: &Data) -> Query {
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

// ---------------------------------------------------------------------------
// Running queries and comparing
// ---------------------------------------------------------------------------

/// The JSON the API must produce for a user's field.
fn expected_field(u: &User, field: &str, data: &Data) -> Json {
    match field {
        "id" => Json::String(u.id.clone()),
        "userKey" => Json::String(u.user_key.clone()),
        "name" => Json::String(u.name.clone()),
        "email" => u.email.clone().map_or(Json::Null, Json::String),
        "culture" => u.culture.clone().map_or(Json::Null, Json::String),
        "status" => Json::from(u.status),
        "isTechnician" => Json::Bool(u.is_technician),
        "isActive" => Json::Bool(u.is_active),
        "isDeleted" => Json::Bool(false),
        "picture" => u.picture.clone().map_or(Json::Null, Json::String),
        "lastLogin" => u.last_login.as_deref().map_or(Json::Null, |t| {
            let t = t.trim_end_matches('Z');
            let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                Json::String(format!("{secs}Z"))
            } else {
                Json::String(format!("{secs}.{frac:0<3}Z"))
            }
        }),
        "roles" => {
            let mut keys: Vec<String> =
                u.roles.iter().map(|r| data.roles[*r].key.clone()).collect();
            keys.sort_by(|a, b| a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b)));
            Json::Array(keys.into_iter().map(Json::String).collect())
        }
        other => panic!("no reference for {other}"),
    }
}

struct Page {
    items: Vec<Json>,
    next: Option<String>,
    count: Option<u64>,
}

/// Runs every generated query through `fetch` (first page from the raw
/// query, then each next link) and compares with the reference.
async fn check_all<F, Fut>(data: &Data, mut fetch: F)
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Page>,
{
    let rows = records(data);
    let mut rng = Rng(0x5EED_0DA7_A5EE_D001);
    let mut total_rows = 0;
    for n in 0..QUERIES {
        let q = gen_query(&mut rng, data);
        let raw = q.raw();
        let (expected, expected_count) = q.expected(data, &rows);
        let mut got: Vec<Json> = Vec::new();
        let mut page = fetch(raw.clone()).await;
        let first_count = page.count;
        let mut pages = 1;
        loop {
            assert!(page.items.len() <= 100, "query {n} `{raw}`: page over 100");
            if let Some(c) = page.count {
                assert_eq!(c as usize, expected_count, "query {n} `{raw}`: count");
            }
            got.append(&mut page.items);
            let Some(next) = page.next.take() else { break };
            pages += 1;
            assert!(pages <= 10, "query {n} `{raw}`: too many pages");
            page = fetch(next).await;
        }
        assert_eq!(
            first_count.is_some(),
            q.count,
            "query {n} `{raw}`: count presence"
        );
        let got_ids: Vec<&str> = got
            .iter()
            .map(|i| i["id"].as_str().unwrap_or("<no id>"))
            .collect();
        let want_ids: Vec<&str> = expected.iter().map(|u| u.id.as_str()).collect();
        if got_ids != want_ids {
            let pos = got_ids
                .iter()
                .zip(&want_ids)
                .position(|(a, b)| a != b)
                .unwrap_or(got_ids.len().min(want_ids.len()));
            panic!(
                "query {n} `{raw}`\n(filter {})\ngot {} rows, expected {}; first difference at {pos}: got {:?}, expected {:?}",
                q.filter.as_ref().map_or(String::new(), Filter::odata),
                got_ids.len(),
                want_ids.len(),
                got.get(pos),
                expected.get(pos)
            );
        }
        // Shapes and values.
        let fields: Vec<&str> = match &q.select {
            Some(s) => s.clone(),
            None => SELECTABLE.to_vec(),
        };
        for (item, user) in got.iter().zip(&expected) {
            let obj = item.as_object().expect("items are objects");
            if let Some(sel) = &q.select {
                let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
                keys.sort();
                let mut want: Vec<&str> = sel.clone();
                want.push("id");
                if q.expand_roles && !want.contains(&"roles") {
                    want.push("roles");
                }
                want.sort();
                assert_eq!(keys, want, "query {n} `{raw}`: selected fields");
            }
            for f in fields.iter().chain(std::iter::once(&"id")) {
                let got = obj.get(*f).cloned().unwrap_or(Json::Null);
                let got = if *f == "roles" && q.expand_roles {
                    // Expanded: objects in the same order as the key array.
                    let objects = got.as_array().cloned().unwrap_or_default();
                    for o in &objects {
                        for k in ["id", "roleKey", "description", "isDefault", "version"] {
                            assert!(o.get(k).is_some(), "query {n} `{raw}`: role without {k}");
                        }
                    }
                    Json::Array(objects.iter().map(|o| o["roleKey"].clone()).collect())
                } else {
                    got
                };
                assert_eq!(
                    got,
                    expected_field(user, f, data),
                    "query {n} `{raw}`: field {f} of {}",
                    user.user_key
                );
            }
        }
        total_rows += got.len();
    }
    assert!(total_rows > QUERIES, "the queries should return rows");

    // One aggregation with every supported method, against the reference.
    let raw = "$apply=groupby((status),aggregate($count%20as%20n,status%20with%20sum%20as%20s,\
               name%20with%20min%20as%20first,email%20with%20countdistinct%20as%20e,\
               lastLogin%20with%20max%20as%20last,status%20with%20average%20as%20a))\
               &$orderby=status%20desc";
    let page = fetch(raw.to_owned()).await;
    assert!(page.next.is_none());
    let mut statuses: Vec<i64> = data.users.iter().map(|u| u.status).collect();
    statuses.sort_by(|a, b| b.cmp(a));
    statuses.dedup();
    assert_eq!(page.items.len(), statuses.len(), "{raw}");
    for (item, status) in page.items.iter().zip(statuses) {
        let group: Vec<&User> = data.users.iter().filter(|u| u.status == status).collect();
        let mut emails: Vec<&str> = group.iter().filter_map(|u| u.email.as_deref()).collect();
        emails.sort();
        emails.dedup();
        let last = group
            .iter()
            .filter_map(|u| u.last_login.as_deref())
            .max_by_key(|t| normalize_time(t))
            .map(|t| {
                let mut u = group[0].clone();
                u.last_login = Some(t.to_owned());
                expected_field(&u, "lastLogin", data)
            })
            .unwrap_or(Json::Null);
        assert_eq!(item["status"], Json::from(status), "{raw}: {item}");
        assert_eq!(item["n"], Json::from(group.len()), "{raw}: {item}");
        assert_eq!(
            item["s"],
            Json::from(status * group.len() as i64),
            "{raw}: {item}"
        );
        assert_eq!(
            item["first"].as_str(),
            group.iter().map(|u| u.name.as_str()).min(),
            "{raw}: {item}"
        );
        assert_eq!(item["e"], Json::from(emails.len()), "{raw}: {item}");
        assert_eq!(item["last"], last, "{raw}: {item}");
        assert_eq!(item["a"].as_f64(), Some(status as f64), "{raw}: {item}");
    }
}

#[tokio::test]
async fn api1_queries_match_the_reference_on_sqlite_over_http() {
    let app = common::spawn_app().await;
    let data = generate(&app.tenant);
    let settings = common::db_settings(&app.db_url);
    let db = identity_service::storage::db::connect(&settings)
        .await
        .expect("connect");
    identity_service::import::run(&db, &app.tenant, "main", &data.dir)
        .await
        .expect("import");
    let client = &app.client;
    let app = &app;
    check_all(&data, |query: String| async move {
        let url = if query.starts_with("http") {
            query
        } else {
            format!("{}/users/odata?{query}", app.base)
        };
        let resp = client.get(&url).send().await.expect("GET");
        let status = resp.status();
        let body: Json = resp.json().await.expect("JSON body");
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        Page {
            items: body["items"].as_array().cloned().unwrap_or_default(),
            next: body["nextPageLink"].as_str().map(str::to_owned),
            count: body["count"].as_u64(),
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&data.dir);
}

/// A fresh database on the server of `url` (same URL, another database name).
async fn fresh_database(url: &str) -> (String, String) {
    use sea_orm::{ConnectionTrait, Database};
    let (server, _) = url
        .rsplit_once('/')
        .expect("a database URL ends with /name");
    let name = format!("odata_diff_{}", Uuid::new_v4().simple());
    let admin = Database::connect(url)
        .await
        .expect("connect to the test server");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    (format!("{server}/{name}"), name)
}

async fn drop_database(url: &str, name: &str) {
    use sea_orm::{ConnectionTrait, Database};
    if let Ok(admin) = Database::connect(url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await;
    }
}

/// Whether `users.last_login` keeps whole seconds only (MySQL `timestamp`).
async fn mysql_seconds_only(db: &sea_orm::DatabaseConnection) -> bool {
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT DATETIME_PRECISION AS p FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = 'last_login'",
        ))
        .await
        .expect("column precision");
    let row = row.expect("users.last_login exists");
    let precision = match row.try_get::<Option<u64>>("", "p") {
        Ok(p) => p,
        Err(_) => row
            .try_get::<Option<i64>>("", "p")
            .expect("DATETIME_PRECISION")
            .map(|p| p.max(0) as u64),
    };
    precision.unwrap_or(0) == 0
}

/// The same queries through `odata::list` on a server backend.
async fn direct_on(env: &str) {
    // On a server backend the HTTP test above already runs there.
    if std::env::var("ODATA_TEST_BACKEND").is_ok_and(|b| b != "sqlite") {
        eprintln!("ODATA_TEST_BACKEND is a server: the direct run is left to the default suite");
        return;
    }
    let Ok(url) = std::env::var(env) else {
        assert!(
            std::env::var("ODATA_TEST_REQUIRE_BACKENDS").as_deref() != Ok("1"),
            "{env} is required"
        );
        eprintln!("{env} not set: skipped");
        return;
    };
    let (db_url, name) = fresh_database(&url).await;
    run_direct(&db_url, env.contains("MYSQL")).await;
    drop_database(&url, &name).await;
}

/// Migrates and loads the database at `db_url`, then checks every query
/// through `odata::list`.
async fn run_direct(db_url: &str, mysql: bool) {
    let mut data = generate("acme");
    let settings = common::db_settings(db_url);
    let db = identity_service::storage::db::connect(&settings)
        .await
        .expect("connect");
    identity_service::storage::db::migrate(&settings, &db)
        .await
        .expect("migrate");
    identity_service::import::run(&db, "acme", "main", &data.dir)
        .await
        .expect("import");
    // The reference models the storage: a MySQL column without fractional
    // seconds keeps whole seconds.
    let truncate_millis = mysql && mysql_seconds_only(&db).await;
    if truncate_millis {
        for u in &mut data.users {
            if let Some(t) = &mut u.last_login {
                *t = format!("{}Z", &t[..19]);
            }
        }
    }
    let scope: TenantScope = identity_service::storage::tenants::find(&db, "acme", "main")
        .await
        .expect("tenant lookup")
        .expect("tenant acme/main");
    let ctx = ReadContext {
        base_url: "http://test".to_owned(),
        path: "/users/odata".to_owned(),
        signing_key: Arc::new(b"differential".to_vec()),
        page_size: 100,
        shape: Shape::Api1,
        stats: None,
        // The generated queries stay under the default cost budget.
        cost_budget: odata_sql::CostBudget::default(),
        limits: Default::default(),
        expand_max_depth: 3,
    };
    let prefix = "http://test/users/odata?";
    let (db, scope, ctx) = (&db, &scope, &ctx);
    check_all(&data, |query: String| async move {
        let raw = query.strip_prefix(prefix).unwrap_or(&query).to_owned();
        let page = list_query(db, scope, EntityKind::User, &raw, ctx)
            .await
            .unwrap_or_else(|e| panic!("`{raw}`: {e:?}"));
        Page {
            items: page.records(),
            next: page.next_link,
            count: page.count,
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&data.dir);
}

#[tokio::test]
async fn api1_queries_match_the_reference_on_postgres() {
    direct_on("ODATA_TEST_POSTGRES_URL").await;
}

#[tokio::test]
async fn api1_queries_match_the_reference_on_mysql() {
    direct_on("ODATA_TEST_MYSQL_URL").await;
}
