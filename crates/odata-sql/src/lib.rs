//! Translate an OData query (the [`odata_parser`] AST) plus a [`Schema`]
//! into `sea_query` statements with bound values, for SQLite, PostgreSQL and
//! MySQL/MariaDB, with OData's semantics on every backend.
//!
//! ```
//! use odata_parser::ast::*;
//! use odata_sql::schema::*;
//! use odata_sql::{Backend, TenantFilter, Translator};
//!
//! struct Model(Vec<EntitySet>);
//! impl Schema for Model {
//!     fn namespace(&self) -> &str { "Model" }
//!     fn entity_sets(&self) -> &[EntitySet] { &self.0 }
//! }
//! let model = Model(vec![EntitySet {
//!     name: "People".into(),
//!     entity_type: EntityType {
//!         name: "Person".into(),
//!         table: "people".into(),
//!         tenant_column: "tenant_id".into(),
//!         key: vec!["id".into()],
//!         alternate_key: None,
//!         properties: vec![
//!             Property::column("id", "id", EdmType::Int64, false),
//!             Property::column("name", "name", EdmType::String, false),
//!         ],
//!         navigations: vec![],
//!         searchable: vec!["name".into()],
//!         concurrency: None,
//!     }.into(),
//! }]);
//!
//! // $filter=Name eq 'Ann' (property names match case-insensitively)
//! let span = Span::default();
//! let filter = Expr {
//!     kind: ExprKind::Binary(Binary {
//!         op: BinaryOp::Eq,
//!         op_span: span,
//!         left: Box::new(Expr {
//!             kind: ExprKind::Path(MemberPath {
//!                 root: PathRoot::Implicit,
//!                 segments: vec![PathSegment::Member {
//!                     name: Ident { name: "Name".into(), span },
//!                     key: None,
//!                 }],
//!                 span,
//!             }),
//!             span,
//!         }),
//!         right: Box::new(Expr { kind: ExprKind::Literal(Literal::String("Ann".into())), span }),
//!     }),
//!     span,
//! };
//! let options = QueryOptions { filter: Some(filter), ..Default::default() };
//! let plan = Translator::new(&model, Backend::Postgres)
//!     .plan("People", &options, TenantFilter { value: 7i64.into() })
//!     .unwrap();
//! let (sql, values) = Backend::Postgres.build(&plan.page_statement(None, 11, 0).unwrap());
//! assert_eq!(
//!     sql,
//!     r#"SELECT "people"."id", "people"."name", "people"."id" AS "__k0" FROM "people" WHERE "people"."tenant_id" = $1 AND "people"."name" = CAST($2 AS TEXT) ORDER BY "people"."id" ASC LIMIT $3"#
//! );
//! assert_eq!(values.0.len(), 3); // the tenant, 'Ann' and the limit are bound
//! ```
//!
//! What the translator guarantees:
//! - the tenant filter ([`TenantFilter`]) is part of every statement and
//!   every subquery it builds;
//! - names are checked against the schema (case-insensitively), operand
//!   types and function arities are checked, and errors carry the span of
//!   the offending text ([`TranslateError::Invalid`], HTTP 400);
//! - recognised features it does not implement are reported as
//!   [`TranslateError::Unsupported`] (HTTP 501), never ignored;
//! - strings compare case-sensitively and sort by code point, nulls sort
//!   first ascending and last descending, and every order ends with the key,
//!   so that keyset paging ([`ReadPlan::page_statement`]) is stable.

#![deny(missing_docs)]

/// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

#[cfg(feature = "actix")]
pub mod actix;
pub mod capabilities;
pub mod case;
pub mod checked;
pub mod cost;
pub mod dialect;
#[cfg(feature = "sea-orm")]
pub mod entity;
pub mod error;
mod expr;
pub mod memory;
pub mod plan;
pub mod schema;
pub mod suggest;
pub mod template;

pub use cost::{Cost, CostBudget, CostError};
pub use dialect::Backend;
pub use error::TranslateError;
pub use plan::apply::{self, ApplyPlan, OutputColumn};
pub use plan::{
    ComputedProperty, ExpandPlan, OrderKey, PARENT_COLUMN, RELATED_KEY_COLUMN, ReadPlan, Selection,
    TenantFilter, Translator, computed_column_alias, order_key_alias,
};
pub use schema::Presence;
pub use schema::Schema;
