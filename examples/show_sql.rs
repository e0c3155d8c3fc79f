//! Prints the SQL statements and bound values the read path runs for an
//! entity set and a raw OData query string, for SQLite, PostgreSQL and
//! MySQL/MariaDB.
//!
//! ```text
//! cargo run --example show_sql -- Users "\$filter=roles/any(r: r/roleKey eq 'admin')&\$orderby=name desc&\$count=true"
//! ```
//!
//! The query string is raw URL text (as it arrives in a request; spaces may
//! be written as spaces or `%20`). The tenant id is shown as the nil UUID.

use std::process::ExitCode;

use identity_service::odata::schema::identity_schema;
use odata_parser::{ParserOptions, parse_query};
use odata_sql::{Backend, TenantFilter, Translator};
use sea_query::{SelectStatement, Value};

fn show(title: &str, backend: Backend, stmt: &SelectStatement) {
    let (sql, values) = backend.build(stmt);
    println!("  {title}:\n    {sql}");
    if !values.0.is_empty() {
        let values: Vec<String> = values.0.iter().map(|v| format!("{v:?}")).collect();
        println!("    values: [{}]", values.join(", "));
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(set), query) = (args.next(), args.next().unwrap_or_default()) else {
        eprintln!("usage: show_sql ENTITY_SET [QUERY]   (entity sets: Users, Roles, Groups)");
        return ExitCode::from(2);
    };
    let options = match parse_query(&query, &ParserOptions::default()) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{}", e.render(&query));
            return ExitCode::from(1);
        }
    };
    let tenant = TenantFilter {
        value: uuid::Uuid::nil().into(),
    };
    let parents = || {
        vec![
            Value::from(uuid::Uuid::from_u128(1)),
            Value::from(uuid::Uuid::from_u128(2)),
        ]
    };
    for backend in Backend::ALL {
        let plan = match Translator::new(identity_schema(), backend).plan(
            &set,
            &options,
            tenant.clone(),
        ) {
            Ok(plan) => plan,
            Err(e) => {
                let kind = if e.is_unsupported() {
                    "not supported (501)"
                } else {
                    "invalid (400)"
                };
                let span = e.span();
                eprintln!(
                    "{kind}: {e} [{} at bytes {}..{}]",
                    e.target(),
                    span.start,
                    span.end
                );
                return ExitCode::from(1);
            }
        };
        println!("{backend:?}");
        let limit = plan.top.map_or(101, |t| t.min(100) + 1);
        match plan.page_statement(None, limit, plan.skip.unwrap_or(0)) {
            Ok(stmt) => show(
                "first page (one extra row tells whether more follow)",
                backend,
                &stmt,
            ),
            Err(e) => eprintln!("{e}"),
        }
        if plan.count {
            show("count", backend, &plan.count_statement());
        }
        for nav in &plan.selection.navigations {
            if plan.expand.iter().any(|e| e.navigation.name == nav.name) {
                continue;
            }
            if let Some(stmt) = plan.navigation_keys_statement(identity_schema(), nav, parents()) {
                show(
                    &format!("{} keys of the page's rows", nav.name),
                    backend,
                    &stmt,
                );
            }
        }
        for expand in &plan.expand {
            show(
                &format!("$expand={} for the page's rows", expand.navigation.name),
                backend,
                &plan.expand_statement(expand, parents()),
            );
        }
    }
    ExitCode::SUCCESS
}
