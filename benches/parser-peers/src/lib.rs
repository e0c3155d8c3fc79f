//! The benchmark corpus and thin adapters over each Rust parser.

use odata_parser::ParserOptions;

/// Realistic `$filter` values (raw URL text with plain spaces, as most
/// clients send them).
pub fn filters() -> Vec<String> {
    [
        "name eq 'Ann'",
        "age gt 30",
        "age ge 18 and age lt 65",
        "active eq true",
        "email eq null",
        "status ne 'deleted'",
        "name eq 'O''Neil'",
        "contains(email,'@example.com')",
        "startswith(name,'A') or endswith(name,'z')",
        "contains(tolower(displayName),'smith')",
        "toupper(country) eq 'NO'",
        "length(name) gt 3",
        "indexof(name,'x') eq 2",
        "substring(code,1,2) eq 'AB'",
        "trim(name) eq 'x'",
        "concat(firstName,lastName) eq 'AnnLee'",
        "year(created) eq 2024",
        "month(created) le 6 and day(created) gt 10",
        "created ge 2024-01-01T00:00:00Z and created lt 2025-01-01T00:00:00Z",
        "birthday eq 1990-05-17",
        "round(score) eq 4",
        "floor(price) ge 10 and ceiling(price) le 20",
        "price add 5 gt 10",
        "price mul quantity sub discount gt 100",
        "price div 2 eq 10",
        "quantity mod 2 eq 0",
        "not (status eq 'deleted')",
        "not endswith(email,'.org')",
        "(a eq 1 or b eq 2) and c ne 3",
        "((a eq 1) and ((b eq 2) or (c eq 3)))",
        "x eq 1 and y eq 2 and z eq 3 or w eq 4",
        "-price lt -10",
        "score gt 4.5",
        "ratio le 0.25",
        "id eq 42 and tenant eq 'acme'",
        "userName eq 'jdoe' and tenantKey eq 'acme' and active eq true",
        "id in ('a','b','c')",
        "code in (1,2,3,5,8,13)",
        "roles/any(r:r/roleKey eq 'admin')",
        "groups/all(g:g/active eq true)",
        "manager/name eq 'Bob'",
        "address/city eq 'Oslo' and address/zip eq '0150'",
        "roles/$count gt 2",
        "Style has Sales.Color'Yellow'",
        "id eq 01234567-89ab-cdef-0123-456789abcdef",
        "startTime lt 10:30:00",
        "duration gt duration'PT1H'",
        "isof(Model.Manager)",
        "cast(age,Edm.String) eq '30'",
        "geo.distance(location,geography'SRID=4326;Point(10.7 59.9)') lt 1000",
        "name eq @p",
        "tags/any()",
        "now() gt expires",
        "matchesPattern(code,'%5EA.*')",
        "$it/name eq 'x'",
        "contains(description,'red') and not contains(description,'blue') or price lt 5",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// Realistic `$orderby`, `$select`, `$expand` and `$apply` values.
pub fn options() -> Vec<(&'static str, String)> {
    let v: &[(&str, &str)] = &[
        ("orderby", "name"),
        ("orderby", "name desc,created asc"),
        ("orderby", "length(name) desc,id"),
        ("orderby", "address/city,roles/$count desc"),
        ("select", "name,email,created"),
        ("select", "id,address/city,roles"),
        ("select", "*"),
        ("select", "addresses($filter=city eq 'Oslo';$top=2)"),
        ("expand", "roles"),
        (
            "expand",
            "roles($select=roleKey,name;$filter=active eq true;$orderby=name;$top=10)",
        ),
        (
            "expand",
            "manager($expand=manager($select=name)),groups/$count",
        ),
        ("expand", "*"),
        ("apply", "aggregate(amount with sum as total)"),
        (
            "apply",
            "groupby((country,city),aggregate(amount with sum as total,$count as n))",
        ),
        (
            "apply",
            "filter(amount gt 100)/groupby((customer),aggregate(amount with average as avg))/orderby(avg desc)/top(5)",
        ),
        (
            "apply",
            "groupby((rollup(year,month,day)),aggregate(amount with sum as total))",
        ),
        (
            "apply",
            "compute(price mul quantity as revenue)/aggregate(revenue with sum as total)",
        ),
    ];
    v.iter().map(|(k, s)| (*k, s.to_string())).collect()
}

/// `name eq 'userN' or ...` of about `bytes` bytes.
pub fn or_chain(bytes: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < bytes {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push_str(&format!("name eq 'user{i}'"));
        i += 1;
    }
    s
}

/// `id in (1,2,...)` of about `bytes` bytes.
pub fn in_list(bytes: usize) -> String {
    let mut s = String::from("id in (");
    let mut i = 0;
    while s.len() < bytes {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("'k{i}'"));
        i += 1;
    }
    s.push(')');
    s
}

/// `((((...a eq 1...))))`, `levels` deep.
pub fn deep_parens(levels: usize) -> String {
    "(".repeat(levels) + "a eq 1" + &")".repeat(levels)
}

/// One parser under test, on `$filter` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// This project's parser.
    Ours,
    /// `odata-params` 0.4.0 (peg).
    OdataParams,
    /// `cf-modkit-odata` 0.6.2 (its own copy of the odata-params grammar).
    ModkitOdata,
    /// `odatav4-parser` 0.0.3 (hand-written lexer and parser; whole query strings).
    OdataV4Parser,
}

impl Peer {
    pub const ALL: [Peer; 4] = [
        Peer::Ours,
        Peer::OdataParams,
        Peer::ModkitOdata,
        Peer::OdataV4Parser,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Peer::Ours => "odata-parser (ours)",
            Peer::OdataParams => "odata-params 0.4.0",
            Peer::ModkitOdata => "cf-modkit-odata 0.6.2",
            Peer::OdataV4Parser => "odatav4-parser 0.0.3",
        }
    }

    /// Parses a `$filter` value; `true` if accepted. The AST is dropped
    /// inside, as each parser's caller would eventually do.
    #[inline]
    pub fn parse_filter(self, f: &str, opts: &ParserOptions, query_buf: &mut String) -> bool {
        match self {
            Peer::Ours => odata_parser::parse_filter(f, opts).is_ok(),
            Peer::OdataParams => odata_params::filters::parse_str(f).is_ok(),
            Peer::ModkitOdata => modkit_odata::parse_filter_string(f).is_ok(),
            Peer::OdataV4Parser => {
                // Its entry point takes a whole query string.
                query_buf.clear();
                query_buf.push_str("$filter=");
                query_buf.push_str(f);
                odatav4_parser::parse(query_buf)
                    .map(|q| q.filter.is_some())
                    .unwrap_or(false)
            }
        }
    }
}

/// Expressions of `corpus` every peer accepts.
pub fn common(corpus: &[String]) -> Vec<String> {
    let o = ParserOptions::default();
    let mut buf = String::new();
    corpus
        .iter()
        .filter(|f| Peer::ALL.iter().all(|p| p.parse_filter(f, &o, &mut buf)))
        .cloned()
        .collect()
}

/// Per-thread CPU time: the machine is shared with other builds, and CPU
/// time excludes the time this thread spends descheduled.
pub mod cputime {
    use std::time::Duration;

    use criterion::Throughput;
    use criterion::measurement::{Measurement, ValueFormatter};

    /// CPU time consumed by the calling thread so far.
    pub fn now() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    /// A Criterion measurement of thread CPU time.
    pub struct CpuTime;

    impl Measurement for CpuTime {
        type Intermediate = Duration;
        type Value = Duration;
        fn start(&self) -> Duration {
            now()
        }
        fn end(&self, i: Duration) -> Duration {
            now() - i
        }
        fn add(&self, a: &Duration, b: &Duration) -> Duration {
            *a + *b
        }
        fn zero(&self) -> Duration {
            Duration::ZERO
        }
        fn to_f64(&self, v: &Duration) -> f64 {
            v.as_nanos() as f64
        }
        fn formatter(&self) -> &dyn ValueFormatter {
            &Fmt
        }
    }

    struct Fmt;

    impl ValueFormatter for Fmt {
        fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
            let (d, unit) = if typical < 1e3 {
                (1.0, "ns")
            } else if typical < 1e6 {
                (1e3, "µs")
            } else if typical < 1e9 {
                (1e6, "ms")
            } else {
                (1e9, "s")
            };
            values.iter_mut().for_each(|v| *v /= d);
            unit
        }
        fn scale_throughputs(
            &self,
            typical: f64,
            t: &Throughput,
            values: &mut [f64],
        ) -> &'static str {
            let (per, unit, d) = match *t {
                Throughput::Bytes(b) | Throughput::BytesDecimal(b) => {
                    (b as f64, "MiB/s", 1024.0 * 1024.0)
                }
                Throughput::Elements(e) => {
                    let rate = e as f64 * 1e9 / typical;
                    if rate >= 1e6 {
                        (e as f64, "Melem/s", 1e6)
                    } else {
                        (e as f64, "Kelem/s", 1e3)
                    }
                }
                _ => (1.0, "/s", 1.0),
            };
            values.iter_mut().for_each(|v| *v = per * 1e9 / *v / d);
            unit
        }
        fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
            "ns"
        }
    }
}
