//! The generator's `$filter`s: a deterministic random source, string
//! expressions, atoms and boolean combinations, each evaluated by the
//! reference too.

use super::*;

// ---------------------------------------------------------------------------
// A deterministic generator of queries that knows how to evaluate them
// ---------------------------------------------------------------------------

pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum StrField {
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
    pub(super) fn odata(self) -> &'static str {
        match self {
            StrField::UserKey => "userKey",
            StrField::Name => "name",
            StrField::Email => "email",
            StrField::Culture => "culture",
        }
    }
    pub(super) fn get(self, u: &User) -> Option<&str> {
        match self {
            StrField::UserKey => Some(&u.user_key),
            StrField::Name => Some(&u.name),
            StrField::Email => u.email.as_deref(),
            StrField::Culture => u.culture.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    const ALL: [Op; 6] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
    pub(super) fn odata(self) -> &'static str {
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
pub(super) enum StrExpr {
    Field(StrField),
    Lower(StrField),
    Upper(StrField),
    Substring(StrField, usize, Option<usize>),
}

impl StrExpr {
    pub(super) fn odata(&self) -> String {
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
pub(super) enum Atom {
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

pub(super) fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Atom {
    pub(super) fn odata(&self) -> String {
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
pub(super) fn normalize_time(t: &str) -> String {
    let t = t.trim_end_matches('Z');
    let (secs, frac) = t.split_once('.').unwrap_or((t, ""));
    format!("{secs}.{frac:0<9}")
}

#[derive(Debug, Clone)]
pub(super) enum Filter {
    Atom(Atom),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

impl Filter {
    pub(super) fn odata(&self) -> String {
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
pub(super) fn sample_text(rng: &mut Rng, data: &Data, field: StrField) -> String {
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

pub(super) fn whole_value(rng: &mut Rng, data: &Data, field: StrField) -> Option<String> {
    let u = rng.pick(&data.users);
    let v = field.get(u).map(str::to_owned);
    match rng.below(8) {
        0 => v.map(|s| s.to_uppercase()),
        1 => Some("Zoë Ñandú ünïcode".to_owned()),
        _ => v,
    }
}

pub(super) fn gen_atom(rng: &mut Rng, data: &Data) -> Atom {
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

pub(super) fn gen_filter(rng: &mut Rng, data: &Data, depth: usize) -> Filter {
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
