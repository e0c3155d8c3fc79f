//! Int64 arithmetic that refuses to overflow, for SQLite.
//!
//! PostgreSQL and MariaDB refuse a `bigint` overflow of `+`, `-` and `*`
//! with an "out of range" error; SQLite silently computes such a result as
//! a REAL. So on SQLite the translator writes `add`, `sub` and `mul` of two
//! integers as the functions `odata_add(a, b)`, `odata_sub(a, b)` and
//! `odata_mul(a, b)`, and `-x` of an integer as `odata_sub(0, x)`. The
//! service registers them on every SQLite connection (both drivers), and
//! [`apply`] decides their result: what SQLite's operator answers, except
//! that an Int64 overflow is an error whose message contains [`OVERFLOW`]
//! (the service answers it as 400, like the other backends' error).

use std::fmt;

/// The part of every overflow message (see [`is_overflow`]).
pub const OVERFLOW: &str = "Int64 overflow in odata_";

/// Whether a database error message is the overflow error of one of the
/// functions.
pub fn is_overflow(message: &str) -> bool {
    message.contains(OVERFLOW)
}

/// The operation of one of the functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `odata_add(a, b)`: `a + b`.
    Add,
    /// `odata_sub(a, b)`: `a - b` (and `-x` as `odata_sub(0, x)`).
    Sub,
    /// `odata_mul(a, b)`: `a * b`.
    Mul,
}

impl Op {
    /// All three, to register them.
    pub const ALL: [Op; 3] = [Op::Add, Op::Sub, Op::Mul];

    /// The SQL function's name.
    pub fn name(self) -> &'static str {
        match self {
            Op::Add => "odata_add",
            Op::Sub => "odata_sub",
            Op::Mul => "odata_mul",
        }
    }

    /// The fixed error message of an overflow (contains [`OVERFLOW`]).
    pub fn overflow_message(self) -> &'static str {
        match self {
            Op::Add => "Int64 overflow in odata_add",
            Op::Sub => "Int64 overflow in odata_sub",
            Op::Mul => "Int64 overflow in odata_mul",
        }
    }
}

/// A numeric SQLite value (an argument or a result).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// NULL.
    Null,
    /// INTEGER.
    Integer(i64),
    /// REAL.
    Real(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::Null => f64::NAN,
            Number::Integer(i) => i as f64,
            Number::Real(r) => r,
        }
    }
}

/// An argument the functions do not compute with: TEXT or BLOB (the
/// translator passes integer operands only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotANumber(pub Op);

impl fmt::Display for NotANumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} expects numbers", self.0.name())
    }
}

impl std::error::Error for NotANumber {}

/// The result of two integers is out of the range of Int64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow(pub Op);

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.overflow_message())
    }
}

impl std::error::Error for Overflow {}

/// `op` of `a` and `b` as the SQL function answers it: NULL when either is
/// NULL; for two integers the exact Int64 result, or [`Overflow`]; else
/// (a REAL involved) the double result as SQLite's operator computes it
/// (NULL for NaN, as SQLite answers `inf - inf`).
pub fn apply(op: Op, a: Number, b: Number) -> Result<Number, Overflow> {
    Ok(match (a, b) {
        (Number::Null, _) | (_, Number::Null) => Number::Null,
        (Number::Integer(x), Number::Integer(y)) => {
            let exact = match op {
                Op::Add => x.checked_add(y),
                Op::Sub => x.checked_sub(y),
                Op::Mul => x.checked_mul(y),
            };
            Number::Integer(exact.ok_or(Overflow(op))?)
        }
        (a, b) => {
            let (x, y) = (a.as_f64(), b.as_f64());
            let r = match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
            };
            if r.is_nan() {
                Number::Null
            } else {
                Number::Real(r)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Number::{Integer, Null, Real};

    #[test]
    fn integers_are_exact_or_overflow() {
        assert_eq!(apply(Op::Add, Integer(2), Integer(3)), Ok(Integer(5)));
        assert_eq!(apply(Op::Sub, Integer(2), Integer(3)), Ok(Integer(-1)));
        assert_eq!(apply(Op::Mul, Integer(-4), Integer(3)), Ok(Integer(-12)));
        assert_eq!(
            apply(Op::Add, Integer(i64::MAX - 1), Integer(1)),
            Ok(Integer(i64::MAX))
        );
        assert_eq!(
            apply(Op::Sub, Integer(-1), Integer(i64::MAX)),
            Ok(Integer(i64::MIN))
        );
        assert_eq!(
            apply(Op::Add, Integer(i64::MAX), Integer(1)),
            Err(Overflow(Op::Add))
        );
        assert_eq!(
            apply(Op::Sub, Integer(i64::MIN), Integer(1)),
            Err(Overflow(Op::Sub))
        );
        // -x of the smallest Int64.
        assert_eq!(
            apply(Op::Sub, Integer(0), Integer(i64::MIN)),
            Err(Overflow(Op::Sub))
        );
        assert_eq!(
            apply(Op::Mul, Integer(i64::MAX / 2 + 1), Integer(2)),
            Err(Overflow(Op::Mul))
        );
        assert_eq!(
            apply(Op::Mul, Integer(i64::MIN), Integer(-1)),
            Err(Overflow(Op::Mul))
        );
    }

    #[test]
    fn null_wins_and_reals_compute_as_sqlite_does() {
        for op in Op::ALL {
            assert_eq!(apply(op, Null, Integer(1)), Ok(Null));
            assert_eq!(apply(op, Integer(i64::MAX), Null), Ok(Null));
            assert_eq!(apply(op, Null, Real(1.5)), Ok(Null));
        }
        assert_eq!(apply(Op::Add, Real(1.5), Integer(2)), Ok(Real(3.5)));
        assert_eq!(apply(Op::Sub, Integer(2), Real(0.5)), Ok(Real(1.5)));
        assert_eq!(
            apply(Op::Mul, Real(1e308), Real(10.0)),
            Ok(Real(f64::INFINITY))
        );
        // A REAL operand makes it a double operation, never an overflow.
        assert_eq!(
            apply(Op::Add, Integer(i64::MAX), Real(1.0)),
            Ok(Real(9.223_372_036_854_776e18))
        );
        assert_eq!(
            apply(Op::Sub, Real(f64::INFINITY), Real(f64::INFINITY)),
            Ok(Null)
        );
    }

    #[test]
    fn overflow_messages_are_recognised() {
        for op in Op::ALL {
            let message = Overflow(op).to_string();
            assert!(message.contains(op.name()), "{message}");
            assert!(is_overflow(&message));
            assert!(is_overflow(&format!("SQLite: {message}")));
        }
        assert!(!is_overflow("integer overflow"));
        assert!(!is_overflow(&NotANumber(Op::Add).to_string()));
    }
}
