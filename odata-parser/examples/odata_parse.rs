//! Parse an OData query string and print its AST as JSON.
//!
//! ```text
//! cargo run -p odata-parser --features serde --example odata_parse -- '$filter=a eq 1&$top=2'
//! printf '%s\n' '$top=1' '$filter=(' | cargo run -p odata-parser --features serde --example odata_parse -- --lines
//! ```
//!
//! Success: the AST as JSON on stdout, exit 0. Failure:
//! `{"error":{"code":…,"message":…,"offset":…,"expected":[…]}}` on stdout,
//! the input with a caret on stderr, exit 1. With `--lines`, one query
//! string per stdin line and one JSON line per input (exit 1 if any failed).

use std::io::BufRead;
use std::process::ExitCode;

use odata_parser::{ParseError, ParserOptions, parse_query};
use serde_json::{Value, json};

fn error_json(e: &ParseError) -> Value {
    json!({
        "error": {
            "code": e.kind.code(),
            "message": e.message(),
            "offset": e.offset,
            "option": e.option,
            "expected": e.expected,
        }
    })
}

/// Parses one query string; prints the JSON line(s); returns success.
fn run(raw: &str, pretty: bool) -> bool {
    let raw = raw.strip_prefix('?').unwrap_or(raw);
    match parse_query(raw, &ParserOptions::default()) {
        Ok(q) => {
            let v = serde_json::to_value(&q).expect("the AST serialises");
            let out = if pretty {
                serde_json::to_string_pretty(&v)
            } else {
                serde_json::to_string(&v)
            };
            println!("{}", out.expect("JSON"));
            true
        }
        Err(e) => {
            println!("{}", error_json(&e));
            eprint!("{}", e.render(raw));
            false
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args.as_slice() {
        [flag] if flag == "--lines" => {
            let mut all = true;
            for line in std::io::stdin().lock().lines() {
                let line = line.expect("stdin is UTF-8 text");
                all &= run(line.trim_end_matches('\r'), false);
            }
            all
        }
        [raw] => run(raw, true),
        _ => {
            eprintln!("usage: odata_parse '<query string>' | odata_parse --lines < queries.txt");
            return ExitCode::from(2);
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
