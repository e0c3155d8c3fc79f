//! A complete small OData service over two SeaORM entities on SQLite:
//! `Products` and `Categories` with `$filter`, `$orderby`, `$select`,
//! `$count`, `$expand` (`products` of a category: an array; `category` of a
//! product: an object, or `null` for a product without one) and server-side
//! paging (`@odata.nextLink`).
//!
//! ```text
//! cargo run --example products_service
//! curl 'http://127.0.0.1:8080/odata/Products?$filter=price%20gt%202&$orderby=name'
//! curl 'http://127.0.0.1:8080/odata/Categories?$expand=products($orderby=price%20desc)'
//! curl 'http://127.0.0.1:8080/odata/Products?$expand=category($select=name)'
//! ```
//!
//! `tests/api/products_service.rs` starts this app on port 0 and checks its
//! answers against the in-memory evaluator over the same rows.

use actix_web::{App, HttpServer, web};
use odata_sql::actix::{OData, ODataError, ODataQuery, Page};
use odata_sql::entity::{EntitySetBuilder, NavigationSpec};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, EntityTrait, Schema, TransactionTrait,
};

pub mod category {
    use sea_orm::entity::prelude::*;
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub tenant_id: i64,
        pub name: String,
        #[sea_orm(has_many)]
        pub products: HasMany<super::product::Entity>,
    }
    impl ActiveModelBehavior for ActiveModel {}
}

pub mod product {
    use sea_orm::entity::prelude::*;
    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "products")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub tenant_id: i64,
        pub name: String,
        pub price: Option<f64>,
        pub category_id: Option<i64>,
        #[sea_orm(belongs_to, from = "category_id", to = "id")]
        pub category: HasOne<super::category::Entity>,
    }
    impl ActiveModelBehavior for ActiveModel {}
}

/// Creates the tables from the entities on `db`, adds a few rows and
/// describes the OData service. It answers for tenant 1 (never shows
/// `Secret`, a row of tenant 2).
pub async fn service(
    db: DatabaseConnection,
) -> Result<OData, Box<dyn std::error::Error + Send + Sync>> {
    let (txn, schema) = (db.begin().await?, Schema::new(db.get_database_backend()));
    txn.execute(&schema.create_table_from_entity(category::Entity))
        .await?;
    txn.execute(&schema.create_table_from_entity(product::Entity))
        .await?;
    txn.execute_unprepared(
        "INSERT INTO categories (id, tenant_id, name) VALUES (1, 1, 'Fruit'), (2, 1, 'Bakery'), (3, 2, 'Hidden')",
    )
    .await?;
    txn.execute_unprepared(
        "INSERT INTO products (id, tenant_id, name, price, category_id) VALUES (1, 1, 'Apple', 1.25, 1), \
         (2, 1, 'banana', 0.5, 1), (3, 1, 'Cherry', NULL, 1), (4, 1, 'Bread', 3.5, 2), \
         (5, 1, 'Bagel', 2.5, 2), (6, 1, 'Baguette', 2.5, 2), (7, 2, 'Secret', 9.0, 3), \
         (8, 1, 'Salt', 0.75, NULL)",
    )
    .await?;
    txn.commit().await?;

    let categories = EntitySetBuilder::<category::Entity>::new("Categories", "Category")
        .navigation::<product::Entity>(
            NavigationSpec::new("products", "Products").partner("category"),
        )
        .build()?;
    let products = EntitySetBuilder::<product::Entity>::new("Products", "Product")
        .navigation::<category::Entity>(
            NavigationSpec::new("category", "Categories").partner("products"),
        )
        .build()?;
    Ok(OData::new(db, "Shop")
        .entity_set::<category::Entity>(categories)
        .entity_set::<product::Entity>(products)
        .tenant(1i64)
        .service_root("/odata/")
        .page_size(50))
}

/// One handler for every entity set: parse, check, run, answer a page.
async fn list<E: EntityTrait>(query: ODataQuery<E>) -> Result<Page, ODataError> {
    query.page().await
}

/// The routes, for `App::configure`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/odata/Products", web::get().to(list::<product::Entity>))
        .route("/odata/Categories", web::get().to(list::<category::Entity>));
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let odata = service(
        Database::connect("sqlite::memory:")
            .await
            .map_err(std::io::Error::other)?,
    )
    .await
    .map_err(std::io::Error::other)?;
    println!("serving http://127.0.0.1:8080/odata/Products");
    HttpServer::new(move || App::new().app_data(odata.clone()).configure(routes))
        .bind(("127.0.0.1", 8080))?
        .run()
        .await
}
