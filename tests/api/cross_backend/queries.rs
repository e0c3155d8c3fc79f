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

#[path = "queries/filters.rs"]
mod filters;
#[path = "queries/options.rs"]
mod options;

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

struct Gen<'a> {
    rng: Rng,
    data: &'a Sample,
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
