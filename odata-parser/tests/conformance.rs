//! The OASIS OData ABNF test cases, run against the parser.
//!
//! Reads `odata-abnf-cases.json` and `odata-aggregation-cases.json` from
//! `$ODATA_CONFORMANCE_DIR` or `tests/conformance-data` (the OASIS cases
//! copied into the repository, with their attribution and licence note;
//! missing files fail the test). Prints one table per suite and area.
//! Every case of a required rule must pass: valid inputs accepted, invalid
//! inputs with `model_dependent: false` rejected. Skipped cases are listed
//! by name and never counted as passed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use odata_parser::conformance::{Support, parse_rule, support};
use serde_json::Value;

/// Invalid cases whose rejection by the reference parser is an artefact of
/// its ordered-choice (PEG-like) matching, not of the grammar: with every
/// name rule matching any identifier, `Product/Price/Quantity` is a valid
/// `groupingProperty` (complex/complex/primitive), but the reference parser
/// commits to `[ aggrCastPath "/" ]` and `primitiveProperty` too early and
/// stops at the second `/`. A model-free parser cannot (and should not)
/// reproduce that; these are reported as divergences, not as passes.
const DOCUMENTED_DIVERGENCES: &[(&str, &str)] = &[
    ("aggregation", "$apply=groupby((Product/Price/Quantity))"),
    ("aggregation", "$apply=groupby((Sales/Product/Name))"),
];

fn dir() -> PathBuf {
    if let Ok(d) = std::env::var("ODATA_CONFORMANCE_DIR") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-data")
}

#[derive(Default)]
struct Row {
    accepted: usize,
    rejected: usize,
    skipped: usize,
    divergent: usize,
    failed: usize,
    offset_match: usize,
    offset_total: usize,
}

fn load(file: &str) -> Vec<Value> {
    let path = dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "conformance file {} is missing ({e}); the published crate leaves \
             tests/conformance-data out: set ODATA_CONFORMANCE_DIR to the directory holding \
             odata-abnf-cases.json and odata-aggregation-cases.json",
            path.display()
        )
    });
    let v: Value = serde_json::from_str(&text).expect("conformance file is JSON");
    v.as_array()
        .expect("conformance file is a JSON array")
        .clone()
}

#[test]
fn abnf_conformance() {
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut divergent = Vec::new();
    let mut table: BTreeMap<(String, String), Row> = BTreeMap::new();
    let mut total = 0;
    for file in ["odata-abnf-cases.json", "odata-aggregation-cases.json"] {
        let cases = load(file);
        assert!(!cases.is_empty(), "{file} has no cases");
        for c in cases {
            total += 1;
            let suite = c["suite"].as_str().unwrap().to_string();
            let rule = c["rule_canonical"].as_str().unwrap();
            let input = c["input"].as_str().unwrap();
            let valid = c["valid"].as_bool().unwrap();
            let name = c["name"].as_str().unwrap();
            let area = c["area"].as_str().unwrap().to_string();
            let row = table.entry((suite.clone(), area)).or_default();
            let label = format!("[{suite} #{}] {rule}: {name}: {input:?}", c["id"]);
            if let Support::OutOfScope(why) = support(rule) {
                row.skipped += 1;
                skipped.push(format!("{label} (out of scope: {why})"));
                continue;
            }
            if rule == "odataRelativeUri" && input.contains("$metadata#") {
                row.skipped += 1;
                skipped.push(format!("{label} (out of scope: context URL fragment)"));
                continue;
            }
            if !valid && c["model_dependent"].as_bool() == Some(true) {
                row.skipped += 1;
                skipped.push(format!(
                    "{label} (invalid only against the suite's data model)"
                ));
                continue;
            }
            let result = parse_rule(rule, input);
            match (valid, result) {
                (true, Ok(())) => row.accepted += 1,
                (false, Err(e)) => {
                    row.rejected += 1;
                    row.offset_total += 1;
                    if c["fail_at"].as_u64() == Some(e.offset as u64) {
                        row.offset_match += 1;
                    }
                }
                (true, Err(e)) => {
                    row.failed += 1;
                    failures.push(format!("{label}\n    rejected: {e}"));
                }
                (false, Ok(())) => {
                    if DOCUMENTED_DIVERGENCES.contains(&(suite.as_str(), input)) {
                        row.divergent += 1;
                        divergent.push(label);
                    } else {
                        row.failed += 1;
                        failures.push(format!(
                            "{label}\n    accepted, expected a failure at {}",
                            c["fail_at"]
                        ));
                    }
                }
            }
        }
    }

    println!(
        "\n| suite | area | valid accepted | invalid rejected | error offset = fail_at | skipped | divergent | failed |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut sum = Row::default();
    for ((suite, area), r) in &table {
        println!(
            "| {suite} | {area} | {} | {} | {}/{} | {} | {} | {} |",
            r.accepted,
            r.rejected,
            r.offset_match,
            r.offset_total,
            r.skipped,
            r.divergent,
            r.failed
        );
        sum.accepted += r.accepted;
        sum.rejected += r.rejected;
        sum.offset_match += r.offset_match;
        sum.offset_total += r.offset_total;
        sum.skipped += r.skipped;
        sum.divergent += r.divergent;
        sum.failed += r.failed;
    }
    println!(
        "| **all** | | **{}** | **{}** | **{}/{}** | **{}** | **{}** | **{}** |",
        sum.accepted,
        sum.rejected,
        sum.offset_match,
        sum.offset_total,
        sum.skipped,
        sum.divergent,
        sum.failed
    );
    println!("\ncases: {total}");
    println!("\nskipped ({}):", skipped.len());
    for s in &skipped {
        println!("  {s}");
    }
    println!("\ndocumented divergences ({}):", divergent.len());
    for s in &divergent {
        println!("  {s}");
    }
    println!("\nfailures ({}):", failures.len());
    for f in &failures {
        println!("  {f}");
    }
    assert_eq!(
        sum.accepted + sum.rejected + sum.skipped + sum.divergent + sum.failed,
        total
    );
    assert!(
        failures.is_empty(),
        "{} conformance failures among required rules (see the list above)",
        failures.len()
    );
}
