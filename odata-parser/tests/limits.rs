//! Limits: hostile input returns an error quickly and never overflows the stack.

use std::time::{Duration, Instant};

use odata_parser::{
    ErrorKind, Limit, ParserOptions, parse_expand, parse_filter, parse_query, parse_search,
};

/// Big enough input, default depth.
fn roomy() -> ParserOptions {
    ParserOptions {
        max_input_len: 10 << 20,
        ..ParserOptions::default()
    }
}

fn assert_depth_error(r: Result<impl std::fmt::Debug, odata_parser::ParseError>) {
    let e = r.expect_err("must fail");
    assert_eq!(e.kind, ErrorKind::LimitExceeded(Limit::Depth), "{e}");
}

const LEVELS: usize = 100_000;

#[test]
fn deep_parentheses() {
    let s = "(".repeat(LEVELS) + "a" + &")".repeat(LEVELS);
    let t = Instant::now();
    assert_depth_error(parse_filter(&s, &roomy()));
    assert!(t.elapsed() < Duration::from_secs(1));
    // With the default length limit the same input is simply too long.
    let e = parse_filter(&s, &ParserOptions::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded(Limit::InputLength));
}

#[test]
fn deep_not_negation_and_lambdas() {
    assert_depth_error(parse_filter(&("not ".repeat(LEVELS) + "a"), &roomy()));
    assert_depth_error(parse_filter(
        &("-(".repeat(LEVELS) + "a" + &")".repeat(LEVELS)),
        &roomy(),
    ));
    assert_depth_error(parse_filter(&("-".repeat(LEVELS) + "a"), &roomy()));
    assert_depth_error(parse_filter(
        &("a/any(x:x".repeat(LEVELS / 10) + &")".repeat(LEVELS / 10)),
        &roomy(),
    ));
    assert_depth_error(parse_filter(&("contains(".repeat(LEVELS) + "a"), &roomy()));
    assert_depth_error(parse_filter(&("[".repeat(LEVELS) + "1"), &roomy()));
    assert_depth_error(parse_search(&("NOT ".repeat(LEVELS) + "a"), &roomy()));
    assert_depth_error(parse_search(&("(".repeat(LEVELS) + "a"), &roomy()));
}

#[test]
fn deep_expand() {
    let s = "a($expand=".repeat(LEVELS / 10) + "b" + &")".repeat(LEVELS / 10);
    let e = parse_expand(&s, &roomy()).unwrap_err();
    assert!(
        matches!(
            e.kind,
            ErrorKind::LimitExceeded(Limit::Depth | Limit::ExpandDepth)
        ),
        "{e}"
    );
    let q = format!("$expand={s}");
    assert!(parse_query(&q, &roomy()).is_err());
}

#[test]
fn printing_deep_trees_is_linear() {
    // Found by fuzzing: printing nested negations must not re-print subtrees.
    let roomy_depth = ParserOptions {
        max_depth: 1000,
        ..ParserOptions::default()
    };
    let e = parse_filter(&("-".repeat(900) + "a"), &roomy_depth).unwrap();
    let t = Instant::now();
    assert_eq!(e.to_string().len(), 901);
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn within_limits_is_fine() {
    let s = "(".repeat(50) + "a" + &")".repeat(50);
    assert!(parse_filter(&s, &ParserOptions::default()).is_ok());
    let s = "not ".repeat(50) + "a";
    assert!(parse_filter(&s, &ParserOptions::default()).is_ok());
}

#[test]
fn node_limit() {
    let s = (0..5000)
        .map(|i| format!("a eq {i}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let e = parse_filter(&s, &roomy()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded(Limit::Nodes));
    let small = ParserOptions {
        max_nodes: 3,
        ..ParserOptions::default()
    };
    assert!(parse_filter("a eq 1", &small).is_ok());
    assert!(parse_filter("a eq 1 or b eq 2", &small).is_err());
}

#[test]
fn input_length_limit() {
    let o = ParserOptions {
        max_input_len: 10,
        ..ParserOptions::default()
    };
    assert!(parse_filter("a eq 12345", &o).is_ok());
    let e = parse_filter("a eq 123456", &o).unwrap_err();
    assert_eq!(e.kind, ErrorKind::LimitExceeded(Limit::InputLength));
}

#[test]
fn long_inputs_parse() {
    let or_chain = (0..300)
        .map(|i| format!("name eq 'user{i}'"))
        .collect::<Vec<_>>()
        .join(" or ");
    assert!(or_chain.len() > 4000);
    assert!(parse_filter(&or_chain, &ParserOptions::default()).is_ok());
    let in_list = format!(
        "id in ({})",
        (0..800)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(parse_filter(&in_list, &ParserOptions::default()).is_ok());
}
