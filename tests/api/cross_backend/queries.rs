//! A deterministic generator of OData queries over the users (and a few over
//! roles and groups) whose literals come from the loaded data, so that
//! filters both hit and miss. It knows nothing of the answers: the backends
//! are compared with each other. It only knows how to order rows by plain
//! `$orderby` keys, to check that every answer is totally ordered (the key
//! as the last sort item).

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::Value;

use super::data::Sample;

/// xorshift64*: small, seedable, the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

/// Where a query is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET identity/users/odata` (pages of 100, `nextPageLink`, `count`).
    Api1Users,
    /// `GET odata/{set}` of the v4 feed (small pages through
    /// `Prefer: odata.maxpagesize`, `@odata.nextLink`, `@odata.count`).
    Feed(&'static str),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Api1Users => f.write_str("identity/users/odata"),
            Endpoint::Feed(set) => write!(f, "odata/{set}"),
        }
    }
}

/// One query to run on every backend.
#[derive(Debug, Clone)]
pub struct Case {
    pub endpoint: Endpoint,
    /// The query as a person writes it (what failure messages show).
    pub shown: String,
    /// The query string as sent (percent-encoded where needed).
    pub raw: String,
    /// The `$orderby` keys when each one can be computed from a returned
    /// row, for the total-order check.
    pub order: Option<Vec<(SortKey, bool)>>,
}

impl Case {
    /// A handwritten query, as sent (its `$orderby` is checked when every
    /// item is a [`CHECKABLE`] key).
    pub fn handwritten(endpoint: Endpoint, raw: &str) -> Case {
        let orderby = raw
            .split('&')
            .find_map(|option| option.strip_prefix("$orderby="));
        let order = match orderby {
            None => Some(Vec::new()),
            Some(items) => items
                .split(',')
                .map(|item| {
                    let (expr, desc) = match item.rsplit_once(' ') {
                        Some((e, "desc")) => (e, true),
                        Some((e, "asc")) => (e, false),
                        _ => (item, false),
                    };
                    CHECKABLE
                        .iter()
                        .find(|k| k.odata() == expr)
                        .map(|k| (*k, desc))
                })
                .collect(),
        };
        Case {
            endpoint,
            shown: raw.to_owned(),
            raw: raw.to_owned(),
            order,
        }
    }

    fn from_options(
        endpoint: Endpoint,
        options: &[(&str, String)],
        order: Option<Vec<(SortKey, bool)>>,
    ) -> Case {
        let join = |f: &dyn Fn(&str) -> String| {
            options
                .iter()
                .map(|(k, v)| format!("{k}={}", f(v)))
                .collect::<Vec<_>>()
                .join("&")
        };
        Case {
            endpoint,
            shown: join(&|v| v.to_owned()),
            raw: join(&crate::common::encode),
            order,
        }
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

// ---------------------------------------------------------------------------
// Sort keys that can be checked on the returned rows
// ---------------------------------------------------------------------------

/// An `$orderby` item computable from a returned user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// A string property (nullable or not).
    Text(&'static str),
    /// `tolower(...)` of a string property (Rust's mapping: the reference
    /// backend's).
    Lower(&'static str),
    /// `toupper(...)` of a string property.
    Upper(&'static str),
    /// `length(...)` of a string property.
    Length(&'static str),
    /// An integer or boolean property.
    Scalar(&'static str),
    /// `lastLogin` (nullable timestamp).
    LastLogin,
    /// `year(lastLogin)`.
    YearOfLastLogin,
    /// `roles/$count` (needs `roles` in the row).
    RoleCount,
}

/// `$orderby` items the order check can compute (some twice: more often
/// generated).
const CHECKABLE: [SortKey; 17] = [
    SortKey::Text("name"),
    SortKey::Text("name"),
    SortKey::Text("userKey"),
    SortKey::Text("email"),
    SortKey::Text("culture"),
    SortKey::Lower("name"),
    SortKey::Lower("email"),
    SortKey::Upper("name"),
    SortKey::Length("name"),
    SortKey::Scalar("status"),
    SortKey::Scalar("status"),
    SortKey::Scalar("isTechnician"),
    SortKey::Scalar("isActive"),
    SortKey::LastLogin,
    SortKey::LastLogin,
    SortKey::YearOfLastLogin,
    SortKey::RoleCount,
];

/// A sortable value; `None` (null) sorts first.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Sortable {
    Text(String),
    Int(i64),
}

impl SortKey {
    pub fn odata(self) -> String {
        match self {
            SortKey::Text(p) | SortKey::Scalar(p) => p.to_owned(),
            SortKey::Lower(p) => format!("tolower({p})"),
            SortKey::Upper(p) => format!("toupper({p})"),
            SortKey::Length(p) => format!("length({p})"),
            SortKey::LastLogin => "lastLogin".to_owned(),
            SortKey::YearOfLastLogin => "year(lastLogin)".to_owned(),
            SortKey::RoleCount => "roles/$count".to_owned(),
        }
    }

    /// The key's value in `row`: `Err` when the row lacks what it needs.
    fn value(self, row: &Value) -> Result<Option<Sortable>, ()> {
        let text = |p: &str| -> Result<Option<String>, ()> {
            match row.get(p) {
                None => Err(()),
                Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(()),
            }
        };
        Ok(match self {
            SortKey::Text(p) => text(p)?.map(Sortable::Text),
            SortKey::Lower(p) => text(p)?.map(|s| Sortable::Text(odata_sql::case::lower(&s))),
            SortKey::Upper(p) => text(p)?.map(|s| Sortable::Text(odata_sql::case::upper(&s))),
            SortKey::Length(p) => text(p)?.map(|s| Sortable::Int(s.chars().count() as i64)),
            SortKey::Scalar(p) => match row.get(p) {
                Some(Value::Bool(b)) => Some(Sortable::Int(i64::from(*b))),
                Some(Value::Number(n)) => Some(Sortable::Int(n.as_i64().ok_or(())?)),
                Some(Value::Null) => None,
                _ => return Err(()),
            },
            SortKey::LastLogin => text("lastLogin")?.map(|t| Sortable::Text(normalize_time(&t))),
            SortKey::YearOfLastLogin => text("lastLogin")?
                .map(|t| t.get(..4).and_then(|y| y.parse().ok()).ok_or(()))
                .transpose()?
                .map(Sortable::Int),
            SortKey::RoleCount => match row.get("roles") {
                Some(Value::Array(a)) => Some(Sortable::Int(a.len() as i64)),
                _ => return Err(()),
            },
        })
    }
}

/// `2024-01-02T03:04:05Z` and `...05.678Z` in one comparable form.
fn normalize_time(t: &str) -> String {
    let t = t.trim_end_matches('Z');
    let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
    format!("{secs}.{frac:0<9}")
}

/// Checks that `rows` are sorted by `order` and then by `id` ascending (the
/// service's tie-breaker), i.e. totally ordered. `Ok(false)` when a row
/// lacks a field the check needs (nothing checked).
pub fn check_total_order(rows: &[Value], order: &[(SortKey, bool)]) -> Result<bool, String> {
    let mut previous: Option<(Vec<Option<Sortable>>, &str)> = None;
    for (i, row) in rows.iter().enumerate() {
        let mut values = Vec::with_capacity(order.len());
        for (key, _) in order {
            match key.value(row) {
                Ok(v) => values.push(v),
                Err(()) => return Ok(false),
            }
        }
        let Some(id) = row.get("id").and_then(Value::as_str) else {
            return Ok(false);
        };
        if let Some((prev_values, prev_id)) = &previous {
            let mut ordering = Ordering::Equal;
            for ((a, b), (_, desc)) in prev_values.iter().zip(&values).zip(order) {
                let o = if *desc { b.cmp(a) } else { a.cmp(b) };
                if o != Ordering::Equal {
                    ordering = o;
                    break;
                }
            }
            let ordering = ordering.then_with(|| (*prev_id).cmp(id));
            if ordering != Ordering::Less {
                return Err(format!(
                    "rows {} and {i} are not in order (by the keys, then by id ascending):\n{}\n{row}",
                    i - 1,
                    rows[i - 1]
                ));
            }
        }
        previous = Some((values, id));
    }
    Ok(true)
}

// ---------------------------------------------------------------------------
// Literals drawn from the data
// ---------------------------------------------------------------------------

const STRING_PROPS: [&str; 4] = ["userKey", "name", "email", "culture"];
const OPS: [&str; 6] = ["eq", "ne", "lt", "le", "gt", "ge"];
/// Short strings around the interesting code points (accents, ß, ø, Greek,
/// the ASCII case boundary).
const SPECIAL_TEXT: [&str; 14] = [
    "Á", "á", "ß", "SS", "Ø", "ø", "Σ", "σ", "ς", "M", "a", "Z", "%", "'",
];

struct Gen<'a> {
    rng: Rng,
    data: &'a Sample,
}

impl<'a> Gen<'a> {
    fn values(&self, prop: &str) -> &'a [String] {
        let data: &'a Sample = self.data;
        match prop {
            "userKey" => &data.user_keys,
            "name" => &data.names,
            "email" => &data.emails,
            _ => &data.cultures,
        }
    }

    fn string_prop(&mut self) -> &'static str {
        // Names carry most of the non-ASCII text: weigh them up.
        if self.rng.chance(40) {
            "name"
        } else {
            self.rng.pick_str(&STRING_PROPS)
        }
    }

    fn op(&mut self) -> &'static str {
        self.rng.pick_str(&OPS)
    }

    /// A value of `prop`, sometimes with its case or accents changed.
    fn whole(&mut self, prop: &str) -> String {
        let v = self.rng.pick(self.values(prop)).clone();
        self.vary(v)
    }

    fn vary(&mut self, v: String) -> String {
        match self.rng.below(10) {
            0 | 1 => v.to_uppercase(),
            2 => v.to_lowercase(),
            3 => fold_accents(&v),
            _ => v,
        }
    }

    /// A piece (1–4 characters) of a value of `prop`, or a special string.
    fn piece(&mut self, prop: &str) -> String {
        if self.rng.chance(15) {
            return (*self.rng.pick(&SPECIAL_TEXT)).to_owned();
        }
        let v: Vec<char> = self.rng.pick(self.values(prop)).chars().collect();
        let start = self.rng.below(v.len());
        let len = 1 + self.rng.below(4);
        let piece: String = v.iter().skip(start).take(len).collect();
        self.vary(piece)
    }

    fn timestamp(&mut self) -> String {
        match self.rng.below(6) {
            0 => format!(
                "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                2024 + self.rng.below(3),
                1 + self.rng.below(12),
                1 + self.rng.below(28),
                self.rng.below(24),
                self.rng.below(60),
                self.rng.below(60)
            ),
            // The same instant with an offset (`+` must be sent as %2B).
            1 => {
                let t = self.rng.pick(&self.data.last_logins).clone();
                let hour: u32 = t[11..13].parse().unwrap_or(0);
                if hour == 23 {
                    t
                } else {
                    format!("{}{:02}{}+01:00", &t[..11], hour + 1, &t[13..t.len() - 1])
                }
            }
            // Whole seconds of an existing value.
            2 => format!("{}Z", &self.rng.pick(&self.data.last_logins)[..19]),
            _ => self.rng.pick(&self.data.last_logins).clone(),
        }
    }

    fn date(&mut self) -> String {
        self.rng.pick(&self.data.last_logins)[..10].to_owned()
    }

    // -----------------------------------------------------------------------
    // $filter
    // -----------------------------------------------------------------------

    fn string_atom(&mut self) -> String {
        let p = self.string_prop();
        let op = self.op();
        match self.rng.below(14) {
            0..=2 => {
                let lit = match self.rng.below(10) {
                    0 => "null".to_owned(),
                    1 => quote(self.rng.pick_str(&SPECIAL_TEXT)),
                    _ => quote(&self.whole(p)),
                };
                format!("{p} {op} {lit}")
            }
            3 => {
                let lit = self.whole(p).to_lowercase();
                format!("tolower({p}) {op} {}", quote(&lit))
            }
            4 => {
                let lit = self.whole(p).to_uppercase();
                format!("toupper({p}) eq {}", quote(&lit))
            }
            5 | 6 => {
                let f = *self.rng.pick(&["contains", "startswith", "endswith"]);
                let piece = self.piece(p);
                match self.rng.below(4) {
                    0 => format!("{f}(tolower({p}),{})", quote(&piece.to_lowercase())),
                    1 => format!("not {f}({p},{})", quote(&piece)),
                    _ => format!("{f}({p},{})", quote(&piece)),
                }
            }
            7 => format!("length({p}) {op} {}", 2 + self.rng.below(25)),
            8 => {
                let piece = self.piece(p);
                format!(
                    "indexof({p},{}) {op} {}",
                    quote(&piece),
                    self.rng.below(7) as i64 - 1
                )
            }
            9 => {
                let start = self.rng.below(6);
                let v = self.rng.pick(self.values(p)).clone();
                let rest = v.chars().skip(start);
                if self.rng.chance(50) {
                    let n = self.rng.below(6);
                    let lit: String = rest.take(n).collect();
                    format!("substring({p},{start},{n}) eq {}", quote(&lit))
                } else {
                    let lit: String = rest.collect();
                    format!("substring({p},{start}) {op} {}", quote(&lit))
                }
            }
            10 => {
                let suffix = *self.rng.pick(&["", "-x", "ç", " Ø"]);
                let v = self.rng.pick(self.values(p)).clone();
                let q = self.rng.pick(self.values("userKey")).clone();
                if self.rng.chance(50) {
                    format!(
                        "concat({p},{}) eq {}",
                        quote(suffix),
                        quote(&format!("{v}{suffix}"))
                    )
                } else {
                    format!(
                        "concat(concat({p},' '),userKey) {op} {}",
                        quote(&format!("{v} {q}"))
                    )
                }
            }
            11 => match self.rng.below(3) {
                0 => format!("trim(concat(concat('  ',{p}),' ')) eq {p}"),
                1 => format!("trim({p}) ne {p}"),
                _ => {
                    let v = self.rng.pick(self.values(p)).clone();
                    format!("trim(concat(' ',{p})) eq {}", quote(&v))
                }
            },
            12 => {
                let n = 1 + self.rng.below(4);
                let lits: Vec<String> = (0..n)
                    .map(|_| {
                        if self.rng.chance(10) {
                            "null".to_owned()
                        } else {
                            quote(&self.whole(p))
                        }
                    })
                    .collect();
                format!("{p} in ({})", lits.join(","))
            }
            _ => match self.rng.below(6) {
                0 => "tolower(name) eq name".to_owned(),
                1 => "toupper(name) eq name".to_owned(),
                2 => format!("{p} {op} {}", self.string_prop()),
                3 => format!("tolower({p}) {op} toupper({p})"),
                4 => format!("{p} ne null and length({p}) {op} 10"),
                _ => format!("{p} eq null"),
            },
        }
    }

    fn number_atom(&mut self) -> String {
        let op = self.op();
        let n = 1 + self.rng.below(4);
        match self.rng.below(12) {
            0 | 1 => format!("status {op} {n}"),
            2 => {
                let a = *self.rng.pick(&["add", "sub", "mul"]);
                format!(
                    "status {a} {} {op} {}",
                    self.rng.below(4),
                    self.rng.below(9) as i64 - 2
                )
            }
            // Integer operands: integer division and remainder; a decimal
            // operand makes them decimal.
            3 => match self.rng.below(3) {
                0 => format!(
                    "status div 2.5 {op} {}",
                    *self.rng.pick(&["0.4", "1", "1.2"])
                ),
                _ => format!(
                    "status div {} {op} {}",
                    1 + self.rng.below(3),
                    self.rng.below(3)
                ),
            },
            4 => match self.rng.below(4) {
                0 => format!(
                    "status mod 2.5 {op} {}",
                    *self.rng.pick(&["1", "1.5", "0.5"])
                ),
                _ => format!(
                    "status mod {} {op} {}",
                    1 + self.rng.below(3),
                    self.rng.below(3)
                ),
            },
            5 => {
                let lim = *self.rng.pick(&["0.5", "1", "1.25", "1.5", "2.0", "0.75"]);
                format!("status divby {} {op} {lim}", 1 + self.rng.below(3))
            }
            6 => {
                let m = *self.rng.pick(&["1.5", "0.5", "2.25", "-1.5"]);
                let lim = *self.rng.pick(&["1.5", "3", "4.5", "-2.25", "0"]);
                format!("status mul {m} {op} {lim}")
            }
            7 => {
                // Negative operands: truncation toward zero and the sign of
                // the dividend.
                match self.rng.below(3) {
                    0 => format!("(status sub 3) div 2 {op} {}", self.rng.below(3) as i64 - 1),
                    1 => format!("(status sub 3) mod 2 {op} {}", self.rng.below(3) as i64 - 1),
                    _ => format!("status sub 5 {op} -{}", 1 + self.rng.below(4)),
                }
            }
            8 => {
                // Division by zero is null.
                let f = *self.rng.pick(&["div", "mod", "divby"]);
                let rhs = *self.rng.pick(&["0", "1", "2", "null"]);
                format!("status {f} (status sub {n}) {op} {rhs}")
            }
            9 => {
                let f = *self.rng.pick(&["round", "floor", "ceiling"]);
                let e = *self
                    .rng
                    .pick(&["status divby 3", "status mul 0.5", "status divby 4"]);
                format!("{f}({e}) {op} {}", self.rng.below(3))
            }
            10 => {
                let k = 1 + self.rng.below(3);
                let set: Vec<String> = (0..k)
                    .map(|_| (1 + self.rng.below(4)).to_string())
                    .collect();
                format!("status in ({})", set.join(","))
            }
            _ => {
                let p = self.string_prop();
                format!("length({p}) add status {op} {}", 8 + self.rng.below(20))
            }
        }
    }

    fn bool_atom(&mut self) -> String {
        match self.rng.below(7) {
            0 => format!("isTechnician eq {}", self.rng.chance(50)),
            1 => "isActive".to_owned(),
            2 => "not isActive".to_owned(),
            3 => "isTechnician ne isActive".to_owned(),
            4 => format!("isActive eq {}", self.rng.chance(50)),
            5 => "isTechnician eq null".to_owned(),
            _ => format!("isTechnician {} false", self.op()),
        }
    }

    fn time_atom(&mut self) -> String {
        let op = self.op();
        match self.rng.below(8) {
            0 | 1 => {
                let t = if self.rng.chance(12) {
                    "null".to_owned()
                } else {
                    self.timestamp()
                };
                format!("lastLogin {op} {t}")
            }
            2 | 3 => {
                let t = self.rng.pick(&self.data.last_logins).clone();
                let (f, value) = *self.rng.pick(&[
                    ("year", &t[0..4]),
                    ("month", &t[5..7]),
                    ("day", &t[8..10]),
                    ("hour", &t[11..13]),
                    ("minute", &t[14..16]),
                    ("second", &t[17..19]),
                ]);
                let value: i64 = value.parse().unwrap_or(0);
                format!("{f}(lastLogin) {op} {value}")
            }
            4 | 5 => format!("date(lastLogin) {op} {}", self.date()),
            6 => "lastLogin eq null".to_owned(),
            _ => format!(
                "year(lastLogin) eq {} and month(lastLogin) {op} {}",
                2024 + self.rng.below(3),
                1 + self.rng.below(12)
            ),
        }
    }

    fn lambda_atom(&mut self) -> String {
        let role = self.rng.pick(&self.data.role_keys).clone();
        let role = if self.rng.chance(15) {
            role.to_uppercase()
        } else {
            role
        };
        match self.rng.below(11) {
            0 | 1 => format!("roles/any(r: r/roleKey eq {})", quote(&role)),
            2 => {
                let d = self.rng.pick(&self.data.role_descriptions).clone();
                let piece: String = d.chars().skip(self.rng.below(4)).take(3).collect();
                format!("roles/any(r: contains(r/description,{}))", quote(&piece))
            }
            3 => format!("roles/all(r: r/roleKey ne {})", quote(&role)),
            4 => "roles/any()".to_owned(),
            5 => "not groups/any()".to_owned(),
            6 => {
                let g = self.rng.pick(&self.data.group_keys).clone();
                let piece: String = g.chars().take(1 + self.rng.below(5)).collect();
                format!("groups/any(g: startswith(g/groupKey,{}))", quote(&piece))
            }
            7 => {
                let n = self.rng.pick(&self.data.group_names).clone();
                let word = n.split(' ').next_back().unwrap_or("Sales").to_owned();
                format!("groups/all(g: contains(g/name,{}))", quote(&word))
            }
            8 => format!("roles/$count {} {}", self.op(), self.rng.below(5)),
            9 => format!(
                "roles/any(r: tolower(r/roleKey) eq {} or r/description eq null)",
                quote(&role.to_lowercase())
            ),
            _ => {
                let n = self.rng.pick(&self.data.group_names).clone();
                format!(
                    "groups/any(g: g/name eq {} and roles/any(r: r/roleKey eq {}))",
                    quote(&n),
                    quote(&role)
                )
            }
        }
    }

    fn atom(&mut self) -> String {
        match self.rng.below(20) {
            0..=6 => self.string_atom(),
            7..=9 => self.number_atom(),
            10 | 11 => self.bool_atom(),
            12..=14 => self.time_atom(),
            15..=17 => self.lambda_atom(),
            18 => format!("id eq {}", self.rng.pick(&self.data.user_ids)),
            _ => {
                let keys: Vec<String> = (0..1 + self.rng.below(3))
                    .map(|_| quote(&self.rng.pick(&self.data.user_keys).clone()))
                    .collect();
                format!("userKey in ({})", keys.join(","))
            }
        }
    }

    fn filter(&mut self, depth: usize) -> String {
        if depth == 0 || self.rng.chance(45) {
            return self.atom();
        }
        match self.rng.below(5) {
            0 => format!("not ({})", self.filter(depth - 1)),
            1 | 2 => format!(
                "({}) or ({})",
                self.filter(depth - 1),
                self.filter(depth - 1)
            ),
            _ => format!("{} and {}", self.filter(depth - 1), self.filter(depth - 1)),
        }
    }

    // -----------------------------------------------------------------------
    // Other options
    // -----------------------------------------------------------------------

    /// 1–3 `$orderby` items; the sort keys when all can be checked.
    fn orderby(&mut self) -> (String, Option<Vec<(SortKey, bool)>>) {
        const EXPRESSIONS: [&str; 7] = [
            "status mod 2",
            "concat(culture,name)",
            "substring(name,1,3)",
            "status divby 3",
            "day(lastLogin)",
            "indexof(name,'a')",
            "date(lastLogin)",
        ];
        let n = 1 + self.rng.below(3);
        let mut items = Vec::new();
        let mut keys = Some(Vec::new());
        for _ in 0..n {
            let desc = self.rng.chance(40);
            let text = if self.rng.chance(15) {
                keys = None;
                (*self.rng.pick(&EXPRESSIONS)).to_owned()
            } else {
                let key = *self.rng.pick(&CHECKABLE);
                if let Some(k) = &mut keys {
                    k.push((key, desc));
                }
                key.odata()
            };
            items.push(if desc {
                format!("{text} desc")
            } else if self.rng.chance(20) {
                format!("{text} asc")
            } else {
                text
            });
        }
        (items.join(","), keys)
    }

    fn select(&mut self) -> String {
        const SELECTABLE: [&str; 12] = [
            "userKey",
            "name",
            "email",
            "culture",
            "status",
            "isTechnician",
            "isActive",
            "lastLogin",
            "picture",
            "roles",
            "groups",
            "id",
        ];
        let mut s: Vec<&str> = (0..1 + self.rng.below(4))
            .map(|_| *self.rng.pick(&SELECTABLE))
            .collect();
        s.sort();
        s.dedup();
        s.join(",")
    }

    fn expand(&mut self) -> String {
        let nav = *self.rng.pick(&["roles", "groups"]);
        let (key, text) = if nav == "roles" {
            ("roleKey", "description")
        } else {
            ("groupKey", "name")
        };
        let one = match self.rng.below(5) {
            0 => format!("{nav}($select={key})"),
            1 => format!("{nav}($orderby={text} desc;$top=2)"),
            2 => format!("{nav}($filter=startswith({key},'s') or contains({text},'ã'))"),
            _ => nav.to_owned(),
        };
        if self.rng.chance(25) {
            format!("{one},{}", if nav == "roles" { "groups" } else { "roles" })
        } else {
            one
        }
    }

    fn search_word(&mut self) -> String {
        let name = self.rng.pick(&self.data.names).clone();
        let words: Vec<&str> = name.split(' ').collect();
        let word: String = self
            .rng
            .pick(&words)
            .chars()
            .take(2 + self.rng.below(4))
            .collect();
        let word = self.vary(word);
        if self.rng.chance(20) {
            let tail: String = name.chars().skip(2).take(6).collect();
            format!("\"{}\"", tail.replace('"', ""))
        } else if word.chars().all(char::is_alphabetic) {
            word
        } else {
            format!("\"{}\"", word.replace('"', ""))
        }
    }

    fn search(&mut self) -> String {
        let a = self.search_word();
        let b = self.search_word();
        match self.rng.below(5) {
            0 | 1 => a,
            2 => format!("{a} AND {b}"),
            3 => format!("{a} OR {b}"),
            _ => format!("{a} NOT {b}"),
        }
    }

    fn top(&mut self) -> Option<String> {
        match self.rng.below(6) {
            0 => Some(self.rng.below(5).to_string()),
            1 => Some((5 + self.rng.below(120)).to_string()),
            2 => Some((100 + self.rng.below(160)).to_string()),
            _ => None,
        }
    }

    fn skip(&mut self) -> Option<String> {
        match self.rng.below(8) {
            0 | 1 => Some(self.rng.below(60).to_string()),
            2 => Some((150 + self.rng.below(80)).to_string()),
            _ => None,
        }
    }

    /// A user query with random options.
    fn user_case(&mut self) -> Case {
        let endpoint = if self.rng.chance(30) {
            Endpoint::Feed("Users")
        } else {
            Endpoint::Api1Users
        };
        let mut options: Vec<(&str, String)> = Vec::new();
        if self.rng.chance(85) {
            let depth = 1 + self.rng.below(3);
            options.push(("$filter", self.filter(depth)));
        }
        let order = if self.rng.chance(70) {
            let (text, keys) = self.orderby();
            options.push(("$orderby", text));
            keys
        } else {
            // The default order: the key alone.
            Some(Vec::new())
        };
        if let Some(top) = self.top() {
            options.push(("$top", top));
        }
        if let Some(skip) = self.skip() {
            options.push(("$skip", skip));
        }
        if self.rng.chance(30) {
            options.push(("$select", self.select()));
        }
        let mut order = order;
        if self.rng.chance(20) {
            let expand = self.expand();
            // Expanded roles with nested options no longer show how many
            // roles a user has.
            if expand.contains("roles(") {
                order = order.filter(|keys| keys.iter().all(|(k, _)| *k != SortKey::RoleCount));
            }
            options.push(("$expand", expand));
        }
        if self.rng.chance(15) {
            options.push(("$search", self.search()));
        }
        if self.rng.chance(35) {
            let inline = endpoint == Endpoint::Api1Users && self.rng.chance(30);
            if inline {
                options.push(("$inlinecount", "allpages".to_owned()));
            } else {
                options.push(("$count", "true".to_owned()));
            }
        }
        Case::from_options(endpoint, &options, order)
    }

    /// `$apply` with `groupby`/`aggregate` over the users.
    fn apply_case(&mut self) -> Case {
        const KEYS: [&str; 4] = ["status", "culture", "isTechnician", "isActive"];
        const AGGREGATES: [&str; 11] = [
            "$count as n",
            "status with sum as total",
            "status with min as lowest",
            "status with max as highest",
            "status with average as mean",
            "lastLogin with max as latest",
            "lastLogin with min as earliest",
            "name with min as firstName",
            "name with max as lastName",
            "email with countdistinct as emails",
            "culture with countdistinct as cultures",
        ];
        let endpoint = if self.rng.chance(60) {
            Endpoint::Feed("Users")
        } else {
            Endpoint::Api1Users
        };
        let mut aggregates: Vec<&str> = (0..1 + self.rng.below(3))
            .map(|_| *self.rng.pick(&AGGREGATES))
            .collect();
        aggregates.sort();
        aggregates.dedup();
        let aggregate = format!("aggregate({})", aggregates.join(","));
        let mut steps = Vec::new();
        if self.rng.chance(40) {
            steps.push(format!("filter({})", self.filter(1)));
        }
        if self.rng.chance(15) {
            steps.push(aggregate);
        } else {
            let mut keys: Vec<&str> = (0..1 + self.rng.below(2))
                .map(|_| *self.rng.pick(&KEYS))
                .collect();
            keys.dedup();
            steps.push(format!("groupby(({}),{aggregate})", keys.join(",")));
        }
        let mut options = vec![("$apply", steps.join("/"))];
        if self.rng.chance(50) {
            // An aggregate alias first: groups with equal values must still
            // come in one order.
            let alias = aggregates[0].rsplit(' ').next().unwrap_or("n").to_owned();
            let dir = if self.rng.chance(50) { " desc" } else { "" };
            options.push(("$orderby", format!("{alias}{dir}")));
        }
        if self.rng.chance(30) {
            options.push(("$top", (1 + self.rng.below(5)).to_string()));
        }
        if self.rng.chance(30) {
            options.push(("$count", "true".to_owned()));
        }
        Case::from_options(endpoint, &options, None)
    }

    /// A query over roles or groups of the feed.
    fn role_group_case(&mut self) -> Case {
        let roles = self.rng.chance(50);
        let (set, key, text) = if roles {
            ("Roles", "roleKey", "description")
        } else {
            ("Groups", "groupKey", "name")
        };
        let data: &'a Sample = self.data;
        let values = if roles {
            (&data.role_keys, &data.role_descriptions)
        } else {
            (&data.group_keys, &data.group_names)
        };
        let k = self.rng.pick(values.0).clone();
        let t = self.rng.pick(values.1).clone();
        let user = self.rng.pick(&self.data.names).clone();
        let piece: String = user.chars().take(1 + self.rng.below(3)).collect();
        let filter = match self.rng.below(6) {
            0 => format!("{key} {} {}", self.op(), quote(&self.vary(k))),
            1 => {
                let piece: String = t.to_lowercase().chars().take(2).collect();
                format!("contains(tolower({text}),{})", quote(&piece))
            }
            2 => format!("users/any(u: startswith(u/name,{}))", quote(&piece)),
            3 => "users/all(u: u/status eq 1)".to_owned(),
            4 => format!("users/$count {} {}", self.op(), self.rng.below(30)),
            _ => format!("{text} {} {}", self.op(), quote(&t)),
        };
        let mut options = vec![("$filter", filter)];
        if self.rng.chance(60) {
            let dir = if self.rng.chance(50) { " desc" } else { "" };
            options.push(("$orderby", format!("{text}{dir}")));
        }
        if self.rng.chance(50) {
            let order = *self.rng.pick(&[
                "name",
                "name desc",
                "lastLogin",
                "tolower(name),status desc",
            ]);
            options.push((
                "$expand",
                format!("users($select=userKey,name;$orderby={order};$top=5)"),
            ));
        }
        if self.rng.chance(30) {
            options.push(("$count", "true".to_owned()));
        }
        Case::from_options(Endpoint::Feed(set), &options, None)
    }
}

/// `count` distinct generated queries from `seed`.
pub fn generate(seed: u64, data: &Sample, count: usize) -> Vec<Case> {
    let mut g = Gen {
        rng: Rng::new(seed),
        data,
    };
    let mut seen = HashSet::new();
    let mut cases = Vec::with_capacity(count);
    let mut attempts = 0;
    while cases.len() < count {
        attempts += 1;
        assert!(attempts < count * 4, "the generator repeats itself");
        let case = match g.rng.below(20) {
            0 | 1 => g.apply_case(),
            2 => g.role_group_case(),
            _ => g.user_case(),
        };
        if seen.insert((case.endpoint, case.shown.clone())) {
            cases.push(case);
        }
    }
    cases
}

/// A crude accent fold (`á` -> `a`, `ß` -> `ss`, `ø` -> `o`), to make
/// literals that must not match accented values.
fn fold_accents(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'ã' | 'â' | 'ä' => "a".to_owned(),
            'Á' | 'À' | 'Ã' | 'Â' | 'Ä' => "A".to_owned(),
            'é' | 'è' | 'ê' | 'ë' => "e".to_owned(),
            'É' | 'È' | 'Ê' => "E".to_owned(),
            'í' | 'ï' => "i".to_owned(),
            'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o".to_owned(),
            'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "O".to_owned(),
            'ú' | 'ü' => "u".to_owned(),
            'ç' => "c".to_owned(),
            'ñ' => "n".to_owned(),
            'Ñ' => "N".to_owned(),
            'ß' => "ss".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
