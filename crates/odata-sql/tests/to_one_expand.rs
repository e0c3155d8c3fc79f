//! `$expand` of a to-one navigation: the plan, its one statement for a page's
//! parents, and the nested options it refuses.

use odata_parser::{ParserOptions, parse_query};
use odata_sql::schema::{
    EdmType, EntitySet, EntityType, LinkTable, Multiplicity, Navigation, Property, Schema,
};
use odata_sql::{Backend, ReadPlan, TenantFilter, TranslateError, Translator};
use sea_query::Value;

struct Shop(Vec<EntitySet>);

impl Schema for Shop {
    fn namespace(&self) -> &str {
        "Shop"
    }
    fn entity_sets(&self) -> &[EntitySet] {
        &self.0
    }
}

fn nav(name: &str, target: &str, link: (&str, &str, &str), many: Multiplicity) -> Navigation {
    Navigation {
        name: name.into(),
        target_set: target.into(),
        link: LinkTable {
            table: link.0.into(),
            from_column: link.1.into(),
            to_column: link.2.into(),
        },
        partner: None,
        listed_by_default: false,
        multiplicity: many,
    }
}

/// Products (nullable `category_id`) and Categories.
fn shop() -> Shop {
    let col = Property::column;
    let entity = |name: &str, table: &str, properties, navigations| EntityType {
        name: name.into(),
        table: table.into(),
        tenant_column: "tenant_id".into(),
        key: vec!["id".into()],
        alternate_key: None,
        properties,
        navigations,
        searchable: Vec::new(),
        concurrency: None,
    };
    let products = entity(
        "Product",
        "products",
        vec![
            col("id", "id", EdmType::Int64, false),
            col("name", "name", EdmType::String, false),
            col("categoryId", "category_id", EdmType::Int64, true),
        ],
        vec![nav(
            "category",
            "Categories",
            ("products", "id", "category_id"),
            Multiplicity::ZeroOrOne,
        )],
    );
    let categories = entity(
        "Category",
        "categories",
        vec![
            col("id", "id", EdmType::Int64, false),
            col("name", "name", EdmType::String, false),
            col("code", "code", EdmType::String, true),
        ],
        vec![nav(
            "products",
            "Products",
            ("products", "category_id", "id"),
            Multiplicity::Many,
        )],
    );
    Shop(vec![
        EntitySet {
            name: "Products".into(),
            entity_type: products.into(),
        },
        EntitySet {
            name: "Categories".into(),
            entity_type: categories.into(),
        },
    ])
}

fn plan(query: &str, backend: Backend) -> Result<ReadPlan, TranslateError> {
    let options = parse_query(query, &ParserOptions::default())
        .unwrap_or_else(|e| panic!("{query} does not parse: {e}"));
    Translator::new(&shop(), backend).plan(
        "Products",
        &options,
        TenantFilter {
            value: Value::BigInt(Some(7)),
        },
    )
}

#[test]
fn a_to_one_expand_is_one_statement_for_the_page_without_order() {
    let parents = || vec![Value::BigInt(Some(1)), Value::BigInt(Some(2))];
    for backend in Backend::ALL {
        let plan = plan("$select=name&$expand=category($select=name)", backend)
            .unwrap_or_else(|e| panic!("{backend:?}: {e:?}"));
        let [expand] = plan.expand.as_slice() else {
            panic!("one expansion: {:?}", plan.expand);
        };
        assert!(!expand.is_collection());
        let names: Vec<&str> = expand.properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["name"]);
        let (sql, values) = backend.build(&plan.expand_statement(expand, parents()));
        let q = |s: &str| match backend {
            Backend::MySql => s.replace('"', "`"),
            _ => s.to_owned(),
        };
        for part in [
            r#""l"."id" AS "__parent""#,
            r#"FROM "products" AS "l""#,
            r#"JOIN "categories" AS "t" ON "l"."category_id" = "t"."id""#,
            r#""l"."id" IN ("#,
            r#""t"."tenant_id" = "#,
        ] {
            assert!(sql.contains(&q(part)), "{backend:?}: {part} in {sql}");
        }
        assert!(!sql.contains("ORDER BY"), "{backend:?}: {sql}");
        assert_eq!(
            values.0,
            [
                Value::BigInt(Some(1)),
                Value::BigInt(Some(2)),
                Value::BigInt(Some(7))
            ],
            "{backend:?}"
        );
    }
    // Without a nested $select: every property of the target; `*` too.
    for query in ["$expand=category", "$expand=*"] {
        let plan = plan(query, Backend::Sqlite).expect(query);
        let names: Vec<&str> = plan.expand[0]
            .properties
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["id", "name", "code"], "{query}");
    }
}

#[test]
fn nested_options_of_a_to_one_expand_other_than_select_are_invalid() {
    for (query, at) in [
        ("$expand=category($filter=name eq 'x')", "name eq 'x'"),
        ("$expand=category($orderby=name)", "name"),
        ("$expand=category($top=1)", "1"),
        ("$expand=category($skip=2)", "2"),
        ("$expand=category($select=name;$count=true)", "true"),
    ] {
        let e = plan(query, Backend::Sqlite).expect_err(query);
        assert!(!e.is_unsupported(), "{query}: {e:?}");
        assert_eq!(e.target(), "$expand", "{query}");
        let span = e.span();
        assert_eq!(query.get(span.start..span.end), Some(at), "{query}");
        let message = e.to_string();
        assert!(
            message.contains("to-one") && message.contains("category"),
            "{query}: {message}"
        );
    }
    // Deeper expansion is not done yet (as for collections); a collection
    // keeps its nested options; an unknown property is still the client's.
    let e = plan("$expand=category($expand=products)", Backend::Sqlite).expect_err("nested");
    assert!(e.is_unsupported(), "{e:?}");
    plan("$expand=category/products($top=1)", Backend::Sqlite).expect_err("two segments");
    let e = plan("$expand=category($select=nope)", Backend::Sqlite).expect_err("nope");
    assert!(!e.is_unsupported(), "{e:?}");
    let options = parse_query(
        "$expand=products($top=1;$orderby=name)",
        &ParserOptions::default(),
    )
    .expect("parses");
    Translator::new(&shop(), Backend::Sqlite)
        .plan(
            "Categories",
            &options,
            TenantFilter {
                value: Value::BigInt(Some(7)),
            },
        )
        .expect("a collection takes $top and $orderby");
}
