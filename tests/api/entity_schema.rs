//! The service's OData schema derived from its SeaORM entities
//! (`odata_sql::entity`) is exactly the hand-written one
//! (`identity_service::odata::schema`): every property (name, EDM type,
//! nullability, maximum length, source, description), key, navigation
//! (link tables from the entities' `Related` implementations), alternate
//! key, searchable and concurrency property of `Users`, `Roles` and
//! `Groups`. Then entity sets derived from a small shop's entities (to-many,
//! to-one and many-to-many relations; renamed, hidden and computed
//! properties) are translated and run on the backend under test
//! (`ODATA_TEST_BACKEND`), and compared with the in-memory evaluator.

use crate::common;

use identity_service::odata::schema::{GROUPS, ROLES, USERS, VERSION, identity_schema};
use identity_service::storage::entities::{groups, roles, users};
use odata_parser::{ParserOptions, parse_query};
use odata_sql::entity::{EntitySetBuilder, NavigationSpec};
use odata_sql::memory::Evaluator;
use odata_sql::schema::{EdmType, EntitySet, Presence, Property, PropertySource};
use odata_sql::{Backend, Schema, TenantFilter, TranslateError, Translator};
use sea_orm::EntityTrait;
use serde_json::{Value as Json, json};

const KEY_LEN: u32 = 100;
const TEXT_LEN: u32 = 255;

/// What every entity has in common: the tenant column, the hidden
/// normalised copies, the constant `isDeleted`, lengths and the version.
fn common<E: EntityTrait>(
    builder: EntitySetBuilder<E>,
    key: &str,
    norm_columns: &[&str],
) -> EntitySetBuilder<E> {
    let mut b = builder
        .max_length(key, KEY_LEN)
        .max_length("createdBy", TEXT_LEN)
        .max_length("modifiedBy", TEXT_LEN)
        .add_property_after(
            "isSystem",
            Property {
                name: "isDeleted".to_owned(),
                edm_type: EdmType::Boolean,
                nullable: false,
                max_length: None,
                source: PropertySource::Constant(sea_query::Value::Bool(Some(false))),
                description: Some("Always false: deletion is hard.".to_owned()),
            },
        )
        .alternate_key(key)
        .concurrency(VERSION);
    for n in norm_columns {
        b = b.hide(n);
    }
    b
}

fn derived_users() -> EntitySet {
    common(
        EntitySetBuilder::<users::Entity>::new(USERS, "User"),
        "userKey",
        &["userKeyNorm", "emailNorm", "pictureUrl", "hasPicture"],
    )
    .max_length("name", TEXT_LEN)
    .max_length("culture", 64)
    .max_length("email", TEXT_LEN)
    .description(
        "status",
        "1 Active, 2 Inactive, 3 InvitationSent, 4 InvitationExpired",
    )
    .add_property_after(
        "status",
        Property {
            name: "picture".to_owned(),
            edm_type: EdmType::String,
            nullable: true,
            max_length: None,
            source: PropertySource::Computed {
                columns: vec!["has_picture".to_owned(), "picture_url".to_owned()],
                non_null_when: Some(vec![
                    Presence::IsTrue("has_picture".to_owned()),
                    Presence::IsNotNull("picture_url".to_owned()),
                ]),
            },
            description: Some(
                "Absolute URL of the stored picture, or the external picture URL, or null."
                    .to_owned(),
            ),
        },
    )
    .navigation::<roles::Entity>(
        NavigationSpec::new("roles", ROLES)
            .partner("users")
            .listed_by_default(true),
    )
    .navigation::<groups::Entity>(
        NavigationSpec::new("groups", GROUPS)
            .partner("users")
            .listed_by_default(true),
    )
    .searchable(&["userKey", "name", "email"])
    .build()
    .expect("the Users entity set")
}

fn derived_roles() -> EntitySet {
    common(
        EntitySetBuilder::<roles::Entity>::new(ROLES, "Role"),
        "roleKey",
        &["roleKeyNorm"],
    )
    .navigation::<users::Entity>(NavigationSpec::new("users", USERS).partner("roles"))
    .searchable(&["roleKey", "description"])
    .build()
    .expect("the Roles entity set")
}

fn derived_groups() -> EntitySet {
    common(
        EntitySetBuilder::<groups::Entity>::new(GROUPS, "Group"),
        "groupKey",
        &["groupKeyNorm"],
    )
    .max_length("name", TEXT_LEN)
    .max_length("email", TEXT_LEN)
    .navigation::<users::Entity>(NavigationSpec::new("users", USERS).partner("groups"))
    .searchable(&["groupKey", "name", "email"])
    .build()
    .expect("the Groups entity set")
}

#[test]
fn the_identity_schema_derived_from_the_entities_is_the_hand_written_one() {
    let written = identity_schema();
    let derived = [derived_users(), derived_roles(), derived_groups()];
    assert_eq!(written.entity_sets().len(), derived.len());
    for set in &derived {
        let hand = written
            .entity_set(&set.name)
            .unwrap_or_else(|| panic!("{} is in the hand-written schema", set.name));
        // Property by property first, for a readable difference.
        let (d, h) = (&set.entity_type, &hand.entity_type);
        let names = |t: &odata_sql::schema::EntityType| -> Vec<String> {
            t.properties.iter().map(|p| p.name.clone()).collect()
        };
        assert_eq!(names(d), names(h), "{}: property names and order", set.name);
        for (dp, hp) in d.properties.iter().zip(&h.properties) {
            assert_eq!(dp, hp, "{}.{}", set.name, hp.name);
        }
        assert_eq!(d.navigations, h.navigations, "{}: navigations", set.name);
        assert_eq!(set, hand, "{}", set.name);
    }
}

// ---------------------------------------------------------------------------
// Derived schemas at work: statements on the backend under test
// (`ODATA_TEST_BACKEND`: SQLite, PostgreSQL or MariaDB), compared with the
// in-memory evaluator over the same rows.
// ---------------------------------------------------------------------------

mod category {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "es_categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub tenant_id: i64,
        #[sea_orm(column_type = "String(StringLen::N(40))")]
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::product::Entity")]
        Product,
    }

    impl Related<super::product::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Product.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod product {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "es_products")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub tenant_id: i64,
        pub name: String,
        pub unit_price: Option<f64>,
        pub secret: String,
        pub category_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::category::Entity",
            from = "Column::CategoryId",
            to = "super::category::Column::Id"
        )]
        Category,
    }

    impl Related<super::category::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Category.def()
        }
    }

    impl Related<super::tag::Entity> for Entity {
        fn to() -> RelationDef {
            super::product_tag::Relation::Tag.def()
        }
        fn via() -> Option<RelationDef> {
            Some(super::product_tag::Relation::Product.def().rev())
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod tag {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "es_tags")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub tenant_id: i64,
        pub label: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod product_tag {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "es_product_tags")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub tag_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::product::Entity",
            from = "Column::ProductId",
            to = "super::product::Column::Id"
        )]
        Product,
        #[sea_orm(
            belongs_to = "super::tag::Entity",
            from = "Column::TagId",
            to = "super::tag::Column::Id"
        )]
        Tag,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The shop's schema, derived: `Categories` (`name` renamed `title`, to-many
/// `products`), `Products` (`unitPrice` renamed `price`, `secret` hidden, a
/// computed `priceLabel`, to-one `category`, many-to-many `tags`), `Tags`.
struct Shop(Vec<EntitySet>);

impl Schema for Shop {
    fn namespace(&self) -> &str {
        "Shop"
    }
    fn entity_sets(&self) -> &[EntitySet] {
        &self.0
    }
}

fn shop() -> Shop {
    let categories = EntitySetBuilder::<category::Entity>::new("Categories", "Category")
        .rename("name", "title")
        .navigation::<product::Entity>(
            NavigationSpec::new("products", "Products").partner("category"),
        )
        .build()
        .expect("Categories");
    let products = EntitySetBuilder::<product::Entity>::new("Products", "Product")
        .rename("unitPrice", "price")
        .hide("secret")
        .add_property_after(
            "price",
            Property {
                name: "priceLabel".to_owned(),
                edm_type: EdmType::String,
                nullable: true,
                max_length: None,
                source: PropertySource::Computed {
                    columns: vec!["unit_price".to_owned()],
                    non_null_when: Some(vec![Presence::IsNotNull("unit_price".to_owned())]),
                },
                description: None,
            },
        )
        .navigation::<category::Entity>(
            NavigationSpec::new("category", "Categories").partner("products"),
        )
        .navigation::<tag::Entity>(NavigationSpec::new("tags", "Tags"))
        .searchable(&["name"])
        .build()
        .expect("Products");
    let tags = EntitySetBuilder::<tag::Entity>::new("Tags", "Tag")
        .build()
        .expect("Tags");
    Shop(vec![categories, products, tags])
}

/// (id, tenant, name)
const CATEGORIES: [(i64, i64, &str); 4] = [
    (1, 1, "coffee"),
    (2, 1, "tea"),
    (3, 1, "empty"),
    (4, 2, "coffee"),
];
/// (id, tenant, name, price, category)
const PRODUCTS: [(i64, i64, &str, Option<f64>, i64); 5] = [
    (10, 1, "Espresso", Some(2.5), 1),
    (11, 1, "Doppio", Some(3.75), 1),
    (12, 1, "Green tea", Some(2.25), 2),
    (13, 1, "Chai", None, 2),
    (20, 2, "Other", Some(9.0), 4),
];
/// (id, tenant, label)
const TAGS: [(i64, i64, &str); 3] = [(1, 1, "hot"), (2, 1, "sweet"), (3, 2, "hot")];
/// (product, tag)
const PRODUCT_TAGS: [(i64, i64); 5] = [(10, 1), (11, 1), (13, 1), (13, 2), (20, 3)];

/// Tenant 1's records as the service would write them, with their
/// navigations nested (what the in-memory evaluator ranges over).
fn records(set: &str) -> Vec<Json> {
    let tags_of = |p: i64| -> Vec<Json> {
        PRODUCT_TAGS
            .iter()
            .filter(|(pid, _)| *pid == p)
            .map(|(_, t)| {
                let (id, _, label) = TAGS.iter().find(|x| x.0 == *t).expect("a tag");
                json!({"id": id, "label": label})
            })
            .collect()
    };
    let product = |&(id, _, name, price, category): &(i64, i64, &str, Option<f64>, i64)| {
        let (_, _, title) = CATEGORIES
            .iter()
            .find(|c| c.0 == category)
            .expect("a category");
        json!({"id": id, "name": name, "price": price, "categoryId": category,
               "priceLabel": price.map(|p| format!("{p:.2} EUR")), "tags": tags_of(id),
               "category": {"id": category, "title": title}})
    };
    match set {
        "Categories" => CATEGORIES
            .iter()
            .filter(|c| c.1 == 1)
            .map(|&(id, _, name)| {
                let products: Vec<Json> =
                    PRODUCTS.iter().filter(|p| p.4 == id).map(product).collect();
                json!({"id": id, "title": name, "products": products})
            })
            .collect(),
        _ => PRODUCTS.iter().filter(|p| p.1 == 1).map(product).collect(),
    }
}

async fn load(pool: &sea_orm::DatabaseConnection) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let backend = pool.get_database_backend();
    // One transaction, so one connection: behind pgbouncer's transaction
    // pooling a statement outside a transaction is committed only when its
    // pooled connection is given back, and the next table's foreign key
    // would not find the one created just before on another connection.
    let txn = pool.begin().await.expect("begin");
    let db = &txn;
    for table in ["es_product_tags", "es_products", "es_tags", "es_categories"] {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {table}"))
            .await
            .expect("drop");
    }
    let schema = sea_orm::Schema::new(backend);
    for create in [
        schema.create_table_from_entity(category::Entity),
        schema.create_table_from_entity(product::Entity),
        schema.create_table_from_entity(tag::Entity),
        schema.create_table_from_entity(product_tag::Entity),
    ] {
        db.execute_raw(backend.build(&create))
            .await
            .expect("create table");
    }
    let text = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let inserts = [
        format!(
            "INSERT INTO es_categories (id, tenant_id, name) VALUES {}",
            CATEGORIES
                .map(|(i, t, n)| format!("({i}, {t}, {})", text(n)))
                .join(", ")
        ),
        format!(
            "INSERT INTO es_products (id, tenant_id, name, unit_price, secret, category_id) VALUES {}",
            PRODUCTS
                .map(|(i, t, n, p, c)| format!(
                    "({i}, {t}, {}, {}, 'x', {c})",
                    text(n),
                    p.map_or("NULL".to_owned(), |p| p.to_string())
                ))
                .join(", ")
        ),
        format!(
            "INSERT INTO es_tags (id, tenant_id, label) VALUES {}",
            TAGS.map(|(i, t, l)| format!("({i}, {t}, {})", text(l)))
                .join(", ")
        ),
        format!(
            "INSERT INTO es_product_tags (product_id, tag_id) VALUES {}",
            PRODUCT_TAGS.map(|(p, t)| format!("({p}, {t})")).join(", ")
        ),
    ];
    for sql in inserts {
        db.execute_unprepared(&sql).await.expect("insert");
    }
    txn.commit().await.expect("commit");
}

/// The ids a query selects from `set` for tenant 1 on the database, in order.
async fn ids_on(
    db: &sea_orm::DatabaseConnection,
    backend: Backend,
    model: &Shop,
    set: &str,
    query: &str,
) -> Result<Vec<i64>, TranslateError> {
    use sea_orm::{ConnectionTrait, Statement};
    let options = parse_query(query, &ParserOptions::default()).expect("parses");
    let plan =
        Translator::new(model, backend).plan(set, &options, TenantFilter { value: 1i64.into() })?;
    let (sql, values) = backend.build(&plan.page_statement(None, 1000, 0)?);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql.clone(),
            values,
        ))
        .await
        .unwrap_or_else(|e| panic!("{query}: {sql}: {e}"));
    Ok(rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id").expect("an id"))
        .collect())
}

/// The ids of every page of `page` rows, following the keyset cursor (the
/// order keys `__k0`, `__k1`, ... of each page's last row).
async fn ids_paged(
    db: &sea_orm::DatabaseConnection,
    backend: Backend,
    model: &Shop,
    set: &str,
    query: &str,
    page: u64,
) -> Vec<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    use sea_query::Value;
    let options = parse_query(query, &ParserOptions::default()).expect("parses");
    let plan = Translator::new(model, backend)
        .plan(set, &options, TenantFilter { value: 1i64.into() })
        .expect("plans");
    let mut ids = Vec::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let statement = plan
            .page_statement(after.as_deref(), page, 0)
            .expect("a page");
        let (sql, values) = backend.build(&statement);
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                sql,
                values,
            ))
            .await
            .expect("a page runs");
        for r in &rows {
            ids.push(r.try_get::<i64>("", "id").expect("an id"));
        }
        let Some(last) = rows.last().filter(|_| rows.len() as u64 == page) else {
            return ids;
        };
        let keys = plan
            .order_keys()
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let alias = odata_sql::order_key_alias(i);
                match key.edm_type {
                    EdmType::String => {
                        Value::String(last.try_get::<Option<String>>("", &alias).expect("a key"))
                    }
                    EdmType::Double => {
                        Value::Double(last.try_get::<Option<f64>>("", &alias).expect("a key"))
                    }
                    _ => Value::BigInt(last.try_get::<Option<i64>>("", &alias).expect("a key")),
                }
            })
            .collect();
        after = Some(keys);
        assert!(ids.len() < 100, "{query}: paging does not end");
    }
}

#[tokio::test]
async fn derived_schemas_translate_and_run_on_the_backend_like_the_evaluator() {
    let url = common::backend_database_url().await;
    // The service's pool: on SQLite it registers the functions the
    // translator's SQL uses (`odata_lower`, ...).
    let db = identity_service::storage::db::connect(&common::db_settings(&url))
        .await
        .expect("connect");
    let backend = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => Backend::Postgres,
        sea_orm::DatabaseBackend::MySql => Backend::MySql,
        _ => Backend::Sqlite,
    };
    load(&db).await;
    let model = shop();

    // (set, query, the ids it must select, in order)
    let cases: &[(&str, &str, &[i64])] = &[
        // To-many through the target's foreign key.
        ("Categories", "$filter=products/any(p: p/price gt 3)", &[1]),
        ("Categories", "$filter=products/all(p: p/price lt 3)", &[3]),
        ("Categories", "$filter=not products/any()", &[3]),
        ("Categories", "$filter=products/$count ge 2", &[1, 2]),
        (
            "Categories",
            "$orderby=products/$count desc,title",
            &[1, 2, 3],
        ),
        // A renamed property, by its new name.
        ("Categories", "$filter=startswith(title,'t')", &[2]),
        ("Categories", "$orderby=title desc", &[2, 3, 1]),
        // Many-to-many through the link table.
        (
            "Products",
            "$filter=tags/any(t: t/label eq 'hot')&$orderby=name",
            &[13, 11, 10],
        ),
        ("Products", "$filter=tags/$count eq 0", &[12]),
        (
            "Products",
            "$filter=tags/all(t: t/label ne 'sweet')&$orderby=price desc",
            &[11, 10, 12],
        ),
        // Renamed, nullable, computed.
        ("Products", "$filter=price eq null", &[13]),
        ("Products", "$filter=price ge 2.5&$orderby=price", &[10, 11]),
        (
            "Products",
            "$filter=priceLabel ne null and contains(name,'e')",
            &[10, 12],
        ),
        ("Products", "$search=TEA", &[12]),
        ("Products", "$orderby=price,id", &[13, 12, 10, 11]),
        // To-one (belongs_to): a property of the target.
        ("Products", "$filter=category/title eq 'tea'", &[12, 13]),
        (
            "Products",
            "$filter=startswith(category/title,'c') and price lt 3",
            &[10],
        ),
        (
            "Products",
            "$orderby=category/title desc,price desc",
            &[12, 13, 11, 10],
        ),
        (
            "Products",
            "$filter=category/id ne null&$orderby=category/id,name desc",
            &[10, 11, 12, 13],
        ),
    ];
    for (set, query, want) in cases {
        let got = ids_on(&db, backend, &model, set, query)
            .await
            .unwrap_or_else(|e| panic!("{set}?{query}: {e}"));
        assert_eq!(got, *want, "{set}?{query} on {backend:?}");
        let rows = records(set);
        let evaluated: Vec<i64> = Evaluator::for_entity_set(&model, set)
            .expect("the set")
            .apply_query(&rows, query)
            .unwrap_or_else(|e| panic!("{set}?{query}: the evaluator: {e}"))
            .rows
            .iter()
            .map(|r| r["id"].as_i64().expect("an id"))
            .collect();
        assert_eq!(evaluated, *want, "{set}?{query} in memory");
    }

    // `$select` of a to-one navigation, `nav eq null` and paths through two
    // navigations are not implemented (501); using a to-one navigation as
    // a collection, or a nested `$top` on its `$expand`, is the client's
    // mistake (400), and so are hidden properties and old names.
    for (set, query, unsupported) in [
        ("Products", "$expand=category($top=1)", false),
        ("Products", "$filter=category/products/any()", true),
        ("Products", "$filter=category eq null", true),
        ("Products", "$filter=category/name eq 'tea'", false),
        ("Products", "$select=category", true),
        (
            "Products",
            "$filter=category/any(c: c/title eq 'tea')",
            false,
        ),
        ("Products", "$filter=secret eq 'x'", false),
        ("Categories", "$filter=name eq 'tea'", false),
    ] {
        let err = ids_on(&db, backend, &model, set, query)
            .await
            .expect_err(query);
        assert_eq!(err.is_unsupported(), unsupported, "{set}?{query}: {err:?}");
    }
    // Keyset paging through a to-one sort key (a subquery) and a nullable one.
    for (set, query, want) in [
        (
            "Products",
            "$orderby=category/title desc,price desc",
            [12, 13, 11, 10],
        ),
        (
            "Products",
            "$orderby=price,category/title",
            [13, 12, 10, 11],
        ),
    ] {
        for page in [1, 2, 3] {
            let got = ids_paged(&db, backend, &model, set, query, page).await;
            assert_eq!(got, want, "{set}?{query} in pages of {page} on {backend:?}");
        }
    }

    // The expansion of a derived to-many navigation plans.
    let options =
        parse_query("$expand=products($orderby=name)", &ParserOptions::default()).expect("parses");
    let plan = Translator::new(&model, backend)
        .plan("Categories", &options, TenantFilter { value: 1i64.into() })
        .expect("expand plans");
    assert_eq!(plan.expand.len(), 1);
}
