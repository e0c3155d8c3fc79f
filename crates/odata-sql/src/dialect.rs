//! Per-backend SQL forms of OData semantics.
//!
//! Everything that differs between SQLite, PostgreSQL and MySQL/MariaDB is
//! decided here, so that the rest of the translator builds one plan.

use sea_query::{
    Alias, BinOper, Expr, ExprTrait, Func, MysqlQueryBuilder, PostgresQueryBuilder,
    SelectStatement, SqliteQueryBuilder, Values,
};

use crate::checked::Op;

/// The SQL dialect a statement is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (the service registers `odata_lower`/`odata_upper` on every
    /// connection for Unicode-correct case mapping, and the checked integer
    /// arithmetic of [`crate::checked`]).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB (utf8mb4).
    MySql,
}

impl Backend {
    /// All backends, for tests and examples.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

    /// SQL text with placeholders plus the bound values.
    pub fn build(self, statement: &SelectStatement) -> (String, Values) {
        match self {
            Backend::Sqlite => statement.build(SqliteQueryBuilder),
            Backend::Postgres => statement.build(PostgresQueryBuilder),
            Backend::MySql => statement.build(MysqlQueryBuilder),
        }
    }

    /// A custom SQL fragment; `template` uses `?` for each argument in order
    /// (turned into `$n` for PostgreSQL).
    pub(crate) fn custom(self, template: &str, args: Vec<Expr>) -> Expr {
        // Every argument is parenthesised: `(? DIV ?)` with `status - 3` as
        // its left operand must not read `status - 3 DIV 2`.
        let mut out = String::with_capacity(template.len() + 4 * args.len());
        let mut n = 0;
        for ch in template.chars() {
            if ch == '?' {
                n += 1;
                out.push('(');
                match self {
                    Backend::Postgres => {
                        out.push('$');
                        out.push_str(&n.to_string());
                    }
                    Backend::Sqlite | Backend::MySql => out.push('?'),
                }
                out.push(')');
            } else {
                out.push(ch);
            }
        }
        Expr::cust_with_exprs(out, args)
    }

    /// A string operand in the form that compares and sorts by Unicode code
    /// point (binary), whatever the column's collation.
    pub(crate) fn binary_string(self, e: Expr) -> Expr {
        match self {
            Backend::Sqlite => e,
            Backend::Postgres => self.custom("(? COLLATE \"C\")", vec![e]),
            Backend::MySql => Expr::from(Func::cast_as(e, Alias::new("BINARY"))),
        }
    }

    /// A string in a collation that is case-sensitive for character-based
    /// functions (`INSTR` on MySQL counts characters, not bytes, this way)
    /// and compares by code point without padding (`utf8mb4_bin` is
    /// `PAD SPACE`: `COUNT(DISTINCT ...)` would merge `'a'` and `'a '`).
    fn char_exact(self, e: Expr) -> Expr {
        match self {
            Backend::MySql => self.custom(
                "(CONVERT(? USING utf8mb4) COLLATE utf8mb4_nopad_bin)",
                vec![e],
            ),
            Backend::Sqlite | Backend::Postgres => e,
        }
    }

    /// A string in an exact (binary, code point) collation that stays text
    /// (for `MIN`/`MAX`/`COUNT(DISTINCT ...)`).
    pub(crate) fn exact_text(self, e: Expr) -> Expr {
        match self {
            Backend::MySql => self.char_exact(e),
            Backend::Sqlite | Backend::Postgres => self.binary_string(e),
        }
    }

    /// Case-sensitive equality of strings whose collation is not known to
    /// compare by code point (index-friendly where possible). Strings that
    /// do (a code-point column, with a literal or another such column)
    /// compare with a plain `=`.
    pub(crate) fn string_eq(self, l: Expr, r: Expr) -> Expr {
        match self {
            Backend::Sqlite | Backend::Postgres => l.eq(r),
            // The plain `=` can use an index (case-insensitive collation),
            // the binary one makes it exact.
            Backend::MySql => l
                .clone()
                .eq(r.clone())
                .and(self.binary_string(l).eq(self.binary_string(r))),
        }
    }

    /// Null-safe equality: true when both are null, false when one is.
    /// `exact_strings`: the operands are strings to compare by code point
    /// explicitly.
    pub(crate) fn null_safe_eq(self, l: Expr, r: Expr, exact_strings: bool) -> Expr {
        let (l, r) = if exact_strings {
            (self.binary_string(l), self.binary_string(r))
        } else {
            (l, r)
        };
        match self {
            Backend::Sqlite => l.binary(BinOper::Is, r),
            Backend::Postgres => self.custom("(? IS NOT DISTINCT FROM ?)", vec![l, r]),
            Backend::MySql => self.custom("(? <=> ?)", vec![l, r]),
        }
    }

    /// Unicode-correct lower case.
    pub(crate) fn lower(self, e: Expr) -> Expr {
        match self {
            Backend::Sqlite => Func::cust("odata_lower").arg(e).into(),
            Backend::Postgres | Backend::MySql => Func::lower(e).into(),
        }
    }

    /// Unicode-correct upper case.
    pub(crate) fn upper(self, e: Expr) -> Expr {
        match self {
            Backend::Sqlite => Func::cust("odata_upper").arg(e).into(),
            Backend::Postgres | Backend::MySql => Func::upper(e).into(),
        }
    }

    /// 1-based position of `needle` in `hay` in characters, 0 when absent
    /// (case-sensitive).
    pub(crate) fn position(self, hay: Expr, needle: Expr) -> Expr {
        match self {
            Backend::Sqlite => Func::cust("instr").arg(hay).arg(needle).into(),
            Backend::Postgres => Func::cust("strpos").arg(hay).arg(needle).into(),
            Backend::MySql => Func::cust("INSTR")
                .arg(self.char_exact(hay))
                .arg(self.char_exact(needle))
                .into(),
        }
    }

    /// Case-sensitive `contains`.
    pub(crate) fn contains(self, hay: Expr, needle: Expr) -> Expr {
        self.byte_position(hay, needle).gt(0)
    }

    /// Case-sensitive `startswith`. `column_prefix` is the needle's value
    /// when the needle is a literal and `hay` a column in a code-point
    /// collation ([`crate::Schema::code_point_collation`]): MySQL then
    /// matches `hay LIKE 'prefix%'`, which the column's index serves as a
    /// range (the column's collation makes it exact; `%`, `_` and the
    /// escape character of the prefix are escaped).
    pub(crate) fn starts_with(self, hay: Expr, needle: Expr, column_prefix: Option<&str>) -> Expr {
        match (self, column_prefix) {
            (Backend::MySql, Some(prefix)) => {
                let mut pattern = String::with_capacity(prefix.len() + 2);
                for c in prefix.chars() {
                    if matches!(c, '%' | '_' | LIKE_ESCAPE) {
                        pattern.push(LIKE_ESCAPE);
                    }
                    pattern.push(c);
                }
                pattern.push('%');
                self.custom("? LIKE ? ESCAPE '!'", vec![hay, Expr::val(pattern)])
            }
            _ => self.byte_position(hay, needle).eq(1),
        }
    }

    /// Position where only "found" and "found at the start" matter (bytes
    /// are enough on MySQL, and cheaper).
    fn byte_position(self, hay: Expr, needle: Expr) -> Expr {
        match self {
            Backend::MySql => Func::cust("INSTR")
                .arg(self.binary_string(hay))
                .arg(self.binary_string(needle))
                .into(),
            Backend::Sqlite | Backend::Postgres => self.position(hay, needle),
        }
    }

    /// Case-sensitive `endswith`.
    pub(crate) fn ends_with(self, hay: Expr, needle: Expr) -> Expr {
        match self {
            Backend::Sqlite => {
                let start = self
                    .length(hay.clone())
                    .sub(self.length(needle.clone()))
                    .add(1);
                Expr::from(Func::cust("substr").arg(hay).arg(start)).eq(needle)
            }
            Backend::Postgres => Expr::from(
                Func::cust("right")
                    .arg(hay)
                    .arg(self.length(needle.clone())),
            )
            .eq(needle),
            Backend::MySql => {
                let hay = self.binary_string(hay);
                let needle = self.binary_string(needle);
                Expr::from(
                    Func::cust("RIGHT")
                        .arg(hay)
                        .arg(Func::cust("LENGTH").arg(needle.clone())),
                )
                .eq(needle)
            }
        }
    }

    /// Length in characters.
    pub(crate) fn length(self, e: Expr) -> Expr {
        match self {
            Backend::Sqlite => Func::cust("length").arg(e).into(),
            Backend::Postgres => Func::cust("char_length").arg(e).into(),
            Backend::MySql => Func::cust("CHAR_LENGTH").arg(e).into(),
        }
    }

    /// Substring from a 1-based start, optionally limited in length.
    pub(crate) fn substring(self, e: Expr, start_1: Expr, len: Option<Expr>) -> Expr {
        let name = match self {
            Backend::Sqlite | Backend::Postgres => "substr",
            Backend::MySql => "SUBSTRING",
        };
        // PostgreSQL has `substr(text, integer)` only: integer literals are
        // bound as 64-bit.
        let int = |x: Expr| -> Expr {
            match self {
                Backend::Postgres => Func::cast_as(x, Alias::new("INTEGER")).into(),
                Backend::Sqlite | Backend::MySql => x,
            }
        };
        let mut f = Func::cust(name).arg(e).arg(int(start_1));
        if let Some(len) = len {
            f = f.arg(int(len));
        }
        f.into()
    }

    /// Arithmetic negation. MariaDB computes `0 - x` for the smallest
    /// BIGINT silently wrong (it stays negative) but refuses `-(x)` as out of
    /// range, like PostgreSQL refuses `0 - x`. SQLite negates an integer as
    /// `odata_sub(0, x)` (see [`Backend::arithmetic`]).
    pub(crate) fn neg(self, e: Expr, integer: bool) -> Expr {
        match self {
            Backend::Sqlite => self.arithmetic(Op::Sub, Expr::val(0), e, integer),
            Backend::Postgres => Expr::val(0).sub(e),
            Backend::MySql => self.custom("(-?)", vec![e]),
        }
    }

    /// `l + r`, `l - r` or `l * r`. PostgreSQL and MariaDB refuse an
    /// integer overflow ("out of range"); SQLite would compute a REAL, so
    /// there two integers go through the checked functions
    /// `odata_add`/`odata_sub`/`odata_mul` ([`crate::checked`]), which
    /// refuse it too.
    pub(crate) fn arithmetic(self, op: Op, l: Expr, r: Expr, integers: bool) -> Expr {
        match (self, integers) {
            (Backend::Sqlite, true) => Func::cust(op.name()).arg(l).arg(r).into(),
            _ => match op {
                Op::Add => l.add(r),
                Op::Sub => l.sub(r),
                Op::Mul => l.mul(r),
            },
        }
    }

    /// String concatenation (null if either is null).
    pub(crate) fn concat(self, l: Expr, r: Expr) -> Expr {
        match self {
            Backend::Sqlite | Backend::Postgres => self.custom("(? || ?)", vec![l, r]),
            Backend::MySql => Func::cust("CONCAT").arg(l).arg(r).into(),
        }
    }

    /// Integer division truncating toward zero (null when dividing by zero).
    pub(crate) fn int_div(self, l: Expr, r: Expr) -> Expr {
        let r = nullif_zero(r);
        match self {
            Backend::Sqlite | Backend::Postgres => l.div(r),
            Backend::MySql => self.custom("(? DIV ?)", vec![l, r]),
        }
    }

    /// Decimal division (null when dividing by zero).
    pub(crate) fn decimal_div(self, l: Expr, r: Expr) -> Expr {
        let r = nullif_zero(r);
        match self {
            Backend::Sqlite => Expr::from(Func::cast_as(l, Alias::new("REAL"))).div(r),
            Backend::Postgres => {
                Expr::from(Func::cast_as(l, Alias::new("DOUBLE PRECISION"))).div(r)
            }
            // A double, not MariaDB's DECIMAL quotient cut to
            // `div_precision_increment` digits (1/3 = 0.333333333).
            Backend::MySql => Expr::from(Func::cast_as(l, Alias::new("DOUBLE"))).div(r),
        }
    }

    /// Remainder with the sign of the dividend (null when dividing by zero).
    /// `l mod r` (null when `r` is 0). On integers the operator `%`; on
    /// decimals the remainder with the sign of `l`, `l - r * trunc(l / r)`,
    /// as doubles: SQLite's `%` truncates its operands to integers and
    /// PostgreSQL has no `%` for doubles.
    pub(crate) fn modulo(self, l: Expr, r: Expr, integers: bool) -> Expr {
        let r = nullif_zero(r);
        if integers {
            return l.modulo(r);
        }
        match self {
            Backend::Sqlite => self.custom(
                "(CAST(? AS REAL) - ? * CAST(CAST(? AS REAL) / ? AS INTEGER))",
                vec![l.clone(), r.clone(), l, r],
            ),
            Backend::Postgres => self.custom(
                "(CAST(? AS DOUBLE PRECISION) - ? * TRUNC(CAST(? AS DOUBLE PRECISION) / ?))",
                vec![l.clone(), r.clone(), l, r],
            ),
            Backend::MySql => self.custom("(CAST(? AS DOUBLE) % ?)", vec![l, r]),
        }
    }

    /// A date/time part of a UTC timestamp as an integer.
    pub(crate) fn date_part(self, part: DatePart, e: Expr) -> Expr {
        match self {
            Backend::Sqlite => {
                let fmt = match part {
                    DatePart::Year => "%Y",
                    DatePart::Month => "%m",
                    DatePart::Day => "%d",
                    DatePart::Hour => "%H",
                    DatePart::Minute => "%M",
                    DatePart::Second => "%S",
                };
                Func::cast_as(
                    Func::cust("strftime").arg(Expr::val(fmt)).arg(e),
                    Alias::new("INTEGER"),
                )
                .into()
            }
            Backend::Postgres => {
                let template = match part {
                    DatePart::Year => "CAST(EXTRACT(YEAR FROM (? AT TIME ZONE 'UTC')) AS INTEGER)",
                    DatePart::Month => {
                        "CAST(EXTRACT(MONTH FROM (? AT TIME ZONE 'UTC')) AS INTEGER)"
                    }
                    DatePart::Day => "CAST(EXTRACT(DAY FROM (? AT TIME ZONE 'UTC')) AS INTEGER)",
                    DatePart::Hour => "CAST(EXTRACT(HOUR FROM (? AT TIME ZONE 'UTC')) AS INTEGER)",
                    DatePart::Minute => {
                        "CAST(EXTRACT(MINUTE FROM (? AT TIME ZONE 'UTC')) AS INTEGER)"
                    }
                    DatePart::Second => {
                        "CAST(FLOOR(EXTRACT(SECOND FROM (? AT TIME ZONE 'UTC'))) AS INTEGER)"
                    }
                };
                self.custom(template, vec![e])
            }
            Backend::MySql => {
                let name = match part {
                    DatePart::Year => "YEAR",
                    DatePart::Month => "MONTH",
                    DatePart::Day => "DAY",
                    DatePart::Hour => "HOUR",
                    DatePart::Minute => "MINUTE",
                    DatePart::Second => "SECOND",
                };
                Func::cust(name).arg(e).into()
            }
        }
    }

    /// The UTC date of a timestamp.
    pub(crate) fn date_of(self, e: Expr) -> Expr {
        match self {
            Backend::Sqlite => Func::cust("date").arg(e).into(),
            Backend::Postgres => self.custom("CAST((? AT TIME ZONE 'UTC') AS DATE)", vec![e]),
            Backend::MySql => Func::cust("DATE").arg(e).into(),
        }
    }

    /// `round` (half away from zero), `floor`, `ceiling` of a non-integer.
    pub(crate) fn rounding(self, kind: Rounding, e: Expr) -> Expr {
        match (self, kind) {
            (Backend::Sqlite, Rounding::Round) => Func::cust("round").arg(e).into(),
            // SQLite's floor/ceil need the optional math functions: spell them out.
            (Backend::Sqlite, Rounding::Floor) => self.custom(
                "(CAST(? AS INTEGER) - (? < CAST(? AS INTEGER)))",
                vec![e.clone(), e.clone(), e],
            ),
            (Backend::Sqlite, Rounding::Ceiling) => self.custom(
                "(CAST(? AS INTEGER) + (? > CAST(? AS INTEGER)))",
                vec![e.clone(), e.clone(), e],
            ),
            (Backend::Postgres, Rounding::Round) => {
                self.custom("ROUND(CAST(? AS NUMERIC))", vec![e])
            }
            (Backend::MySql, Rounding::Round) => Func::cust("ROUND").arg(e).into(),
            (Backend::Postgres | Backend::MySql, Rounding::Floor) => {
                Func::cust("FLOOR").arg(e).into()
            }
            (Backend::Postgres | Backend::MySql, Rounding::Ceiling) => {
                Func::cust("CEILING").arg(e).into()
            }
        }
    }

    /// Space trimming on both sides.
    pub(crate) fn trim(self, e: Expr) -> Expr {
        match self {
            Backend::Sqlite => Func::cust("trim").arg(e).into(),
            Backend::Postgres | Backend::MySql => Func::cust("TRIM").arg(e).into(),
        }
    }

    /// Whether `ORDER BY` needs explicit `NULLS FIRST/LAST` (PostgreSQL sorts
    /// nulls last ascending by default; SQLite and MySQL sort them first).
    pub(crate) fn needs_null_ordering(self) -> bool {
        matches!(self, Backend::Postgres)
    }
}

/// The escape character of the `LIKE` patterns built here (not `\`, whose
/// meaning in a string literal depends on MySQL's `NO_BACKSLASH_ESCAPES`).
const LIKE_ESCAPE: char = '!';

fn nullif_zero(e: Expr) -> Expr {
    Func::cust("NULLIF").arg(e).arg(Expr::val(0)).into()
}

/// Date/time parts extracted by `year()` ... `second()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatePart {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

/// `round`, `floor`, `ceiling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rounding {
    Round,
    Floor,
    Ceiling,
}
