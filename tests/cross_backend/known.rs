//! Answers known to differ between backends, found by this test and left
//! for the translator's owners to fix. Each entry names the backend, the
//! query exactly as failure messages print it, and the cause.

/// Answers known to differ from SQLite's on one backend: (backend, query
/// as failure messages print it, reason). They still run and their
/// differences are printed, but they do not fail the test; an entry that no
/// longer differs (or whose query is gone) fails it, so the list stays true.
/// The translator (or the SQLite functions) is to be fixed, then the entries
/// removed.
pub const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    // Timestamp literals below a microsecond
    (
        "postgres",
        "odata/Users?$filter=lastLogin lt 2025-03-01T10:00:00.0000001Z&$orderby=userKey&$select=userKey",
        SUB_MICROSECOND,
    ),
    (
        "mariadb",
        "odata/Users?$filter=lastLogin lt 2025-03-01T10:00:00.0000001Z&$orderby=userKey&$select=userKey",
        SUB_MICROSECOND,
    ),
    // mod with a decimal operand
    (
        "postgres",
        "odata/Users?$filter=status mod 2.5 eq 1.5&$select=status",
        DECIMAL_MOD,
    ),
    (
        "mariadb",
        "odata/Users?$filter=status mod 2.5 eq 1.5&$select=status",
        DECIMAL_MOD,
    ),
    (
        "postgres",
        "identity/users/odata?$filter=status mod 2.5 ge 1.5&$orderby=isTechnician,year(lastLogin) asc,status",
        DECIMAL_MOD,
    ),
    (
        "mariadb",
        "identity/users/odata?$filter=status mod 2.5 ge 1.5&$orderby=isTechnician,year(lastLogin) asc,status",
        DECIMAL_MOD,
    ),
    (
        "postgres",
        "identity/users/odata?$filter=status mod 2.5 ge 1.5&$orderby=toupper(name) asc,culture,status desc&$top=4&$skip=167&$expand=groups&$search=\"colas \"",
        DECIMAL_MOD,
    ),
    (
        "postgres",
        "odata/Users?$filter=(tolower(userKey) ne toupper(userKey)) or (userKey in ('nicolas.robert.64') and status mod 2.5 gt 0.5)&$orderby=tolower(email),status mod 2,culture desc&$search=rui AND Alon",
        DECIMAL_MOD,
    ),
    // MariaDB: decimal division and average
    (
        "mariadb",
        "odata/Users?$filter=status divby 3 gt 0.33333333333&$count=true&$select=status",
        MARIADB_DECIMALS,
    ),
    (
        "mariadb",
        "odata/Users?$apply=groupby((culture),aggregate(status with average as mean))",
        MARIADB_DECIMALS,
    ),
    (
        "mariadb",
        "odata/Users?$apply=groupby((isTechnician,culture),aggregate(name with min as firstName,status with average as mean))&$orderby=firstName",
        MARIADB_DECIMALS,
    ),
    // MariaDB: the next page of a decimal $orderby
    (
        "mariadb",
        "odata/Users?$orderby=status divby 3,name&$select=status,name",
        MARIADB_DECIMAL_KEYSET,
    ),
    (
        "mariadb",
        "odata/Users?$orderby=status desc,status divby 3 asc&$top=159&$skip=45&$count=true",
        MARIADB_DECIMAL_KEYSET,
    ),
    // MariaDB: `div` and a compound left operand
    (
        "mariadb",
        "identity/users/odata?$filter=(status sub 3) div 2 ne 0&$orderby=status asc&$skip=18&$count=true",
        MARIADB_DIV_PRECEDENCE,
    ),
];

/// OData allows up to 12 fractional digits; PostgreSQL and MariaDB keep
/// microseconds, so `lastLogin lt ...10:00:00.0000001Z` misses the rows at
/// exactly `10:00:00` there (SQLite's answer is the exact one).
const SUB_MICROSECOND: &str = "a timestamp literal with 7 fractional digits: PostgreSQL and MariaDB cut it to microseconds, SQLite compares it exactly";

/// `status mod 2.5`: the exact answer for status 4 is 1.5 (MariaDB's).
const DECIMAL_MOD: &str = "mod with a decimal operand: SQLite's % truncates both to integers (4 mod 2.5 = 0), PostgreSQL has no integer % double precision operator (500), MariaDB answers 1.5";

/// MariaDB's `/` and a groupby `AVG` give DECIMAL results with 9
/// fractional digits here: `status divby 3 gt 0.33333333333` is false for
/// status 1 there, and a groupby average is 1.714285714 instead of
/// 1.7142857142857142 (the whole-set `aggregate` agrees).
const MARIADB_DECIMALS: &str = "MariaDB computes divby and groupby averages as DECIMAL cut to 9 fractional digits (1/3 = 0.333333333), not as doubles";

/// The first page works; the next one (keyset `$skiptoken`) fails with
/// "error occurred while decoding column __k0: mismatched types; Rust type
/// Option<i64> (BIGINT) is not compatible with SQL type DECIMAL".
const MARIADB_DECIMAL_KEYSET: &str = "MariaDB: the next page of an $orderby on a decimal expression is a 500 (the keyset column __k0 is DECIMAL, decoded as i64)";

/// `Backend::int_div` on MySQL is the template `(? DIV ?)`, which does not
/// parenthesize a compound operand: `(status sub 3) div 2` becomes
/// `status - ? DIV ?`, i.e. `status - (3 DIV 2)`.
const MARIADB_DIV_PRECEDENCE: &str = "MariaDB: `(status sub 3) div 2` is sent as `status - ? DIV ?` (the template `(? DIV ?)` does not parenthesize its operands), i.e. status - (3 DIV 2)";
