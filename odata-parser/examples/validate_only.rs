//! The parser alone, validating user input: is this a well-formed OData
//! query string? If not, say where, with a caret under the position.
//!
//! ```sh
//! cargo run -p odata-parser --example validate_only -- "\$filter=name eq 'Ann' and"
//! ```
//!
//! Without arguments it checks a few built-in inputs, asserting every
//! verdict; `cargo test -p odata-parser --example validate_only` (and
//! `cargo test --workspace`) runs those checks as a test.

use odata_parser::{ParseError, ParserOptions, parse_query};

/// `Ok` with a one-line summary, or the error rendered with a caret.
fn validate(input: &str) -> Result<String, (ParseError, String)> {
    match parse_query(input, &ParserOptions::default()) {
        Ok(q) => {
            let mut parts = Vec::new();
            if let Some(f) = &q.filter {
                parts.push(format!("$filter={f}"));
            }
            if let Some(o) = &q.orderby {
                parts.push(format!("$orderby={o}"));
            }
            if let Some(t) = &q.top {
                parts.push(format!("$top={}", t.value));
            }
            Ok(format!("valid: {}", parts.join("&")))
        }
        Err(e) => {
            let rendered = e.render(input);
            Err((e, rendered))
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        let mut failed = false;
        for input in &args {
            match validate(input) {
                Ok(summary) => println!("{summary}"),
                Err((_, rendered)) => {
                    println!("{rendered}");
                    failed = true;
                }
            }
        }
        std::process::exit(i32::from(failed));
    }
    built_in_checks();
}

/// The built-in inputs and their asserted verdicts.
fn built_in_checks() {
    let ok =
        "$filter=name eq 'Ann' and roles/any(r: r/roleKey eq 'admin')&$orderby=name desc&$top=5";
    let summary = validate(ok).expect("well-formed");
    println!("{ok}\n{summary}\n");
    assert_eq!(
        summary,
        "valid: $filter=name eq 'Ann' and roles/any(r:r/roleKey eq 'admin')&$orderby=name desc&$top=5"
    );

    // A filter that stops too early: the caret points at the end.
    let bad = "$filter=name eq 'Ann' and";
    let (err, rendered) = validate(bad).expect_err("incomplete");
    println!("{rendered}\n");
    assert_eq!(err.offset, bad.len());
    assert_eq!(err.option.as_deref(), Some("$filter"));
    let caret_line = rendered
        .lines()
        .find(|l| l.ends_with('^'))
        .expect("a caret line");
    let source_line = rendered
        .lines()
        .find(|l| l.contains(bad))
        .expect("the input");
    assert_eq!(
        caret_line.find('^'),
        source_line.find(bad).map(|at| at + bad.len()),
        "the caret sits under the end of the input:\n{rendered}"
    );

    // An unknown function name, an option given twice, a bad $top.
    for (input, offset) in [
        ("$filter=lenght(name) gt 3", 15),
        ("$top=5&$top=6", 7),
        ("$top=-1", 5),
    ] {
        let (err, rendered) = validate(input).expect_err(input);
        println!("{rendered}\n");
        assert_eq!(err.offset, offset, "{input}: {}", err.message());
        assert!(rendered.contains('^'));
    }
}

#[test]
fn the_example_runs() {
    built_in_checks();
}
