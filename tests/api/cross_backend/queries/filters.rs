//! The generator's `$filter`s: literals drawn from the data (strings,
//! numbers, booleans, times), lambdas, and their combinations.

use super::*;

// Literals drawn from the data
// ---------------------------------------------------------------------------

const STRING_PROPS: [&str; 4] = ["userKey", "name", "email", "culture"];
const OPS: [&str; 6] = ["eq", "ne", "lt", "le", "gt", "ge"];
/// Short strings around the interesting code points (accents, ß, ø, Greek,
/// the ASCII case boundary).
const SPECIAL_TEXT: [&str; 14] = [
    "Á", "á", "ß", "SS", "Ø", "ø", "Σ", "σ", "ς", "M", "a", "Z", "%", "'",
];

impl<'a> Gen<'a> {
    pub(super) fn values(&self, prop: &str) -> &'a [String] {
        let data: &'a Sample = self.data;
        match prop {
            "userKey" => &data.user_keys,
            "name" => &data.names,
            "email" => &data.emails,
            _ => &data.cultures,
        }
    }

    pub(super) fn string_prop(&mut self) -> &'static str {
        // Names carry most of the non-ASCII text: weigh them up.
        if self.rng.chance(40) {
            "name"
        } else {
            self.rng.pick_str(&STRING_PROPS)
        }
    }

    pub(super) fn op(&mut self) -> &'static str {
        self.rng.pick_str(&OPS)
    }

    /// A value of `prop`, sometimes with its case or accents changed.
    pub(super) fn whole(&mut self, prop: &str) -> String {
        let v = self.rng.pick(self.values(prop)).clone();
        self.vary(v)
    }

    pub(super) fn vary(&mut self, v: String) -> String {
        match self.rng.below(10) {
            0 | 1 => v.to_uppercase(),
            2 => v.to_lowercase(),
            3 => fold_accents(&v),
            _ => v,
        }
    }

    /// A piece (1–4 characters) of a value of `prop`, or a special string.
    pub(super) fn piece(&mut self, prop: &str) -> String {
        if self.rng.chance(15) {
            return (*self.rng.pick(&SPECIAL_TEXT)).to_owned();
        }
        let v: Vec<char> = self.rng.pick(self.values(prop)).chars().collect();
        let start = self.rng.below(v.len());
        let len = 1 + self.rng.below(4);
        let piece: String = v.iter().skip(start).take(len).collect();
        self.vary(piece)
    }

    pub(super) fn timestamp(&mut self) -> String {
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

    pub(super) fn date(&mut self) -> String {
        self.rng.pick(&self.data.last_logins)[..10].to_owned()
    }

    // -----------------------------------------------------------------------
    // $filter
    // -----------------------------------------------------------------------

    pub(super) fn string_atom(&mut self) -> String {
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

    pub(super) fn number_atom(&mut self) -> String {
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

    pub(super) fn bool_atom(&mut self) -> String {
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

    pub(super) fn time_atom(&mut self) -> String {
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

    pub(super) fn lambda_atom(&mut self) -> String {
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

    pub(super) fn atom(&mut self) -> String {
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

    pub(super) fn filter(&mut self, depth: usize) -> String {
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
}
