//! Each component of the cost model, on a users/roles/groups model.

use odata_parser::{ParserOptions, parse_query};

use super::*;
use crate::schema::{
    EdmType, EntitySet, EntityType, LinkTable, Multiplicity, Navigation, Property,
};

struct Model(Vec<EntitySet>);

impl Schema for Model {
    fn namespace(&self) -> &str {
        "Model"
    }
    fn entity_sets(&self) -> &[EntitySet] {
        &self.0
    }
}

fn nav(name: &str, target: &str, listed: bool) -> Navigation {
    Navigation {
        name: name.to_owned(),
        target_set: target.to_owned(),
        link: LinkTable {
            table: "link".to_owned(),
            from_column: "a".to_owned(),
            to_column: "b".to_owned(),
        },
        partner: None,
        listed_by_default: listed,
        multiplicity: Multiplicity::Many,
    }
}

fn entity(name: &str, navigations: Vec<Navigation>) -> EntityType {
    EntityType {
        name: name.to_owned(),
        table: name.to_lowercase(),
        tenant_column: "tenant_id".to_owned(),
        key: vec!["id".to_owned()],
        alternate_key: Some("key".to_owned()),
        properties: vec![
            Property::column("id", "id", EdmType::Guid, false),
            Property::column("key", "key", EdmType::String, false),
            Property::column("name", "name", EdmType::String, true),
            Property::column("status", "status", EdmType::Int32, false),
        ],
        navigations,
        searchable: vec!["name".to_owned()],
        concurrency: None,
    }
}

fn model() -> Model {
    Model(vec![
        EntitySet {
            name: "Users".to_owned(),
            entity_type: entity(
                "User",
                vec![nav("roles", "Roles", true), nav("groups", "Groups", true)],
            )
            .into(),
        },
        EntitySet {
            name: "Roles".to_owned(),
            entity_type: entity("Role", vec![nav("users", "Users", false)]).into(),
        },
        EntitySet {
            name: "Groups".to_owned(),
            entity_type: entity("Group", vec![nav("users", "Users", false)]).into(),
        },
    ])
}

fn cost_on(set: &str, query: &str) -> Cost {
    let options = parse_query(query, &ParserOptions::default()).unwrap();
    query_cost(&model(), set, &options)
}

fn cost(query: &str) -> u64 {
    cost_on("Users", query).total
}

fn check_users(query: &str, budget: u64) -> Result<Cost, CostError> {
    let options = parse_query(query, &ParserOptions::default()).unwrap();
    check(&model(), "Users", &options, CostBudget(budget))
}

#[test]
fn plain_queries_cost_nothing() {
    for q in [
        "",
        "$top=100",
        "$skip=90000&$top=100",
        "$select=key,name&$orderby=name desc&$top=50&$skip=1000",
        "$filter=key eq 'a' and (status eq 3 or status eq 4) and name ne null",
        "$filter=startswith(name,'a') and tolower(name) eq 'b' and status add 1 gt 2",
        "$filter=status mul 2 sub 1 le length(name)",
    ] {
        assert_eq!(cost(q), 0, "{q}");
    }
}

#[test]
fn text_scans_cost_one_each() {
    assert_eq!(cost("$filter=contains(name,'a')"), TEXT_SCAN);
    assert_eq!(
        cost("$filter=contains(name,'a') or endswith(name,'b') or indexof(name,'c') eq 1"),
        3 * TEXT_SCAN
    );
    assert_eq!(cost("$orderby=indexof(name,'a')"), TEXT_SCAN);
    assert_eq!(cost("$compute=contains(name,'x') as c"), TEXT_SCAN);
}

#[test]
fn a_top_level_lambda_costs_its_base_whatever_the_navigation() {
    assert_eq!(cost("$filter=roles/any(r: r/key eq 'admin')"), LAMBDA);
    assert_eq!(cost("$filter=roles/all(r: r/key ne 'admin')"), LAMBDA);
    assert_eq!(cost("$filter=roles/any()"), LAMBDA);
    assert_eq!(cost("$filter=roles/$count gt 2"), LAMBDA);
    assert_eq!(cost("$orderby=roles/$count desc"), LAMBDA);
    assert_eq!(
        cost("$filter=roles/any(r: contains(r/name,'a'))"),
        LAMBDA + TEXT_SCAN
    );
    // A role's users: unbounded, but read once over the link table.
    assert_eq!(
        cost_on("Roles", "$filter=users/any(u: startswith(u/name,'a'))").total,
        LAMBDA
    );
    assert_eq!(
        cost_on("Roles", "$filter=users/all(u: contains(u/name,'a'))").total,
        LAMBDA + TEXT_SCAN
    );
}

#[test]
fn a_nested_lambda_multiplies_by_the_fan_out_of_its_navigation() {
    // Over the range variable's unbounded navigation: 2 + 2 × 64.
    assert_eq!(
        cost("$filter=roles/any(r: r/users/any(u: u/key eq 'x'))"),
        LAMBDA + LAMBDA * FAN_OUT_UNBOUNDED
    );
    // Over a bounded navigation of $it inside a lambda: 2 + 2 × 4.
    assert_eq!(
        cost("$filter=groups/any(g: g/name eq 'x' and roles/any(r: r/key eq 'y'))"),
        LAMBDA + LAMBDA * FAN_OUT_BOUNDED
    );
    // From roles: users (top, ×1), then their roles (bounded, ×4).
    assert_eq!(
        cost_on(
            "Roles",
            "$filter=users/any(u: u/roles/any(r: r/key eq 'a'))"
        )
        .total,
        LAMBDA + LAMBDA * FAN_OUT_BOUNDED
    );
    // Three levels: 2 + 2×4 + 2×4×64.
    assert_eq!(
        cost_on(
            "Roles",
            "$filter=users/any(u: u/roles/any(r: r/users/any(v: v/key eq 'a')))"
        )
        .total,
        LAMBDA + LAMBDA * FAN_OUT_BOUNDED + LAMBDA * FAN_OUT_BOUNDED * FAN_OUT_UNBOUNDED
    );
    // A nested $count multiplies too.
    assert_eq!(
        cost("$filter=roles/any(r: r/users/$count gt 5)"),
        LAMBDA + LAMBDA * FAN_OUT_UNBOUNDED
    );
}

#[test]
fn the_reproducer_is_over_the_default_budget_and_named() {
    let q = "$filter=roles/any(r: r/users/any(u: contains(u/name,'zz')))";
    let c = cost_on("Users", q);
    assert_eq!(
        c.total,
        LAMBDA + LAMBDA * FAN_OUT_UNBOUNDED + TEXT_SCAN * FAN_OUT_UNBOUNDED
    );
    assert_eq!(c.total, 194);
    let err = check_users(q, DEFAULT_BUDGET).unwrap_err();
    assert_eq!(err.budget, DEFAULT_BUDGET);
    assert_eq!(err.part.cost, 128);
    assert_eq!(err.target(), "$filter");
    // The span of the nested lambda: `r/users/any(...)`.
    assert_eq!(err.span().start, q.find("r/users").unwrap());
    let message = err.to_string();
    assert_eq!(
        message,
        format!(
            "the query is too expensive: the nested any() over `users` inside roles/any costs 128, \
             the whole query 194, the budget is 100 (in $filter at offset {})",
            q.find("r/users").unwrap()
        )
    );
    // Raised budget or none: allowed.
    assert!(check_users(q, 194).is_ok());
    assert!(check_users(q, 0).is_ok());
    assert!(check_users(q, 193).is_err());
}

#[test]
fn in_lists_cost_by_size() {
    assert_eq!(cost("$filter=status in (1,2,3)"), 1);
    let ten: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(cost(&format!("$filter=status in ({})", ten.join(","))), 1);
    let many: Vec<String> = (0..101).map(|i| format!("'k{i}'")).collect();
    assert_eq!(cost(&format!("$filter=key in ({})", many.join(","))), 11);
    assert_eq!(cost("$filter=key in [\"a\",\"b\"]"), 1);
    assert_eq!(cost("$filter=key in @l&@l=[\"a\",\"b\",\"c\"]"), 1);
    // Inside a nested lambda over users: × 64.
    assert_eq!(
        cost("$filter=roles/any(r: r/users/any(u: u/status in (1,2)))"),
        LAMBDA + LAMBDA * FAN_OUT_UNBOUNDED + FAN_OUT_UNBOUNDED
    );
}

#[test]
fn search_terms_cost_each() {
    assert_eq!(cost("$search=ann"), SEARCH_TERM);
    assert_eq!(cost("$search=ann AND NOT bob"), 2 * SEARCH_TERM);
    assert_eq!(cost("$search=\"a b\" OR c d"), 3 * SEARCH_TERM);
}

#[test]
fn expand_costs_by_navigation_and_nested_options() {
    assert_eq!(cost("$expand=roles"), EXPAND_BOUNDED);
    assert_eq!(cost("$expand=roles,groups"), 2 * EXPAND_BOUNDED);
    assert_eq!(cost("$expand=*"), 2 * EXPAND_BOUNDED);
    assert_eq!(cost_on("Roles", "$expand=users").total, EXPAND_UNBOUNDED);
    assert_eq!(
        cost_on(
            "Roles",
            "$expand=users($select=key,name;$orderby=tolower(name);$top=5)"
        )
        .total,
        EXPAND_UNBOUNDED
    );
    assert_eq!(
        cost("$expand=roles($filter=contains(name,'a'))"),
        EXPAND_BOUNDED + TEXT_SCAN
    );
    // A lambda inside an expansion is nested.
    assert_eq!(
        cost("$expand=roles($filter=users/any(u: u/key eq 'a'))"),
        EXPAND_BOUNDED + LAMBDA * FAN_OUT_UNBOUNDED
    );
}

#[test]
fn nested_expands_multiply_by_the_enclosing_fan_out() {
    // Each role of each user gets its users.
    assert_eq!(
        cost("$expand=roles($expand=users)"),
        EXPAND_BOUNDED + EXPAND_UNBOUNDED * FAN_OUT_BOUNDED
    );
    // Options of a nested expansion are evaluated per related row too.
    assert_eq!(
        cost("$expand=roles($expand=users($filter=contains(name,'a')))"),
        EXPAND_BOUNDED + (EXPAND_UNBOUNDED + TEXT_SCAN) * FAN_OUT_BOUNDED
    );
    // Every user of every role, then their roles: over the default budget.
    let total = cost_on("Roles", "$expand=users($expand=roles($expand=users))").total;
    assert_eq!(
        total,
        EXPAND_UNBOUNDED
            + EXPAND_BOUNDED * FAN_OUT_UNBOUNDED
            + EXPAND_UNBOUNDED * FAN_OUT_UNBOUNDED * FAN_OUT_BOUNDED
    );
    assert!(total > DEFAULT_BUDGET);
}

#[test]
fn apply_costs_groupings_and_aggregates() {
    assert_eq!(
        cost("$apply=groupby((status),aggregate($count as n))"),
        GROUPING + AGGREGATE
    );
    assert_eq!(
        cost("$apply=groupby((status,name),aggregate($count as n,status with sum as s))"),
        2 * GROUPING + 2 * AGGREGATE
    );
    assert_eq!(
        cost("$apply=filter(contains(name,'a'))/aggregate($count as n)"),
        TEXT_SCAN + AGGREGATE
    );
    assert_eq!(
        cost("$apply=search(a OR b)/groupby((status))"),
        2 * SEARCH_TERM + GROUPING
    );
}

#[test]
fn count_true_costs_one() {
    assert_eq!(cost("$count=true"), COUNT);
    assert_eq!(cost("$count=false"), 0);
    assert_eq!(cost("$inlinecount=allpages&$filter=status eq 1"), COUNT);
}

#[test]
fn aliases_are_costed_where_used() {
    assert_eq!(cost("$filter=@f&@f=roles/any(r: r/key eq 'a')"), LAMBDA);
    // A self-referencing alias ends.
    let _ = cost("$filter=@a eq 1&@a=@a");
}

#[test]
fn the_most_expensive_part_is_named() {
    let c = cost_on(
        "Users",
        "$filter=contains(name,'a') and roles/any(r: r/users/any(u: u/key eq 'x'))&$expand=roles",
    );
    let part = c.most_expensive().unwrap();
    assert_eq!(part.cost, LAMBDA * FAN_OUT_UNBOUNDED);
    assert!(part.what.contains("nested any() over `users`"), "{part:?}");
}

#[test]
fn test_and_benchmark_patterns_are_under_the_default_budget() {
    // The BI tool and benchmark patterns: well under.
    for q in [
        "$top=100",
        "$filter=contains(tolower(name),'silva')&$top=100",
        "$count=true&$filter=status eq 1&$top=100",
        "$expand=roles($select=id)&$top=100",
        "$filter=roles/any(r:r/key eq 'admin')&$top=100",
        "$skip=90000&$top=100",
        "$select=key,name&$filter=(status eq 1 or status eq 2) and name ge 'a'&$orderby=name&$top=1000&$skip=2000",
    ] {
        assert!(check_users(q, DEFAULT_BUDGET).is_ok(), "{q}");
    }
    // Eight top-level lambdas with a text scan each, two counts in
    // $orderby, a search and an expansion: the largest differential query.
    let atom = "roles/any(x: contains(x/name,'a'))";
    let filter = [atom; 8].join(" and ");
    let q = format!(
        "$filter={filter}&$orderby=roles/$count,roles/$count desc&$search=a AND NOT b&$expand=roles&$count=true"
    );
    let c = cost(&q);
    assert!(c <= DEFAULT_BUDGET / 2, "{c}");
}

#[test]
fn cheap_classification() {
    let cheap = |q: &str| is_cheap(&parse_query(q, &ParserOptions::default()).unwrap());
    for q in [
        "",
        "$top=100",
        "$select=key,name&$top=100&$skip=1000",
        "$filter=key eq 'a' and status ge 2&$orderby=name",
        "$filter=startswith(name,'a') or tolower(name) eq 'b'",
        "$count=true",
        "$filter=status in (1,2)",
    ] {
        assert!(cheap(q), "{q}");
    }
    for q in [
        "$filter=roles/any(r: r/key eq 'a')",
        "$filter=roles/$count gt 1",
        "$orderby=roles/$count",
        "$search=a",
        "$filter=contains(name,'a')",
        "$filter=endswith(name,'a')",
        "$filter=not (indexof(name,'a') eq 1)",
        "$apply=aggregate($count as n)",
        "$count=true&$filter=status eq 1",
        "$expand=roles",
        "$skip=1001",
        "$compute=status add 1 as s",
        "$filter=@a&@a=contains(name,'x')",
    ] {
        assert!(!cheap(q), "{q}");
    }
}
