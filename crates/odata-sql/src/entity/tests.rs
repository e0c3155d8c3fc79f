//! Entity sets from test entities: every type mapping, nullability, keys,
//! renamed, hidden, replaced and added properties, and every kind of
//! navigation. (`tests/api/entity_schema.rs` at the workspace root runs the
//! derived schemas on SQLite, PostgreSQL and MariaDB.)

use super::*;
use crate::schema::PropertySource;

mod kind {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "kinds")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub tiny: i8,
        pub small: i16,
        pub int: i32,
        pub tiny_u: u8,
        pub small_u: u16,
        pub unsigned: u32,
        pub float: f32,
        pub double: f64,
        #[sea_orm(column_type = "Decimal(Some((10, 2)))")]
        pub decimal: f64,
        #[sea_orm(column_type = "Money(None)")]
        pub money: f64,
        pub flag: bool,
        pub plain: String,
        #[sea_orm(column_type = "String(StringLen::N(40))")]
        pub short: String,
        #[sea_orm(column_type = "Char(Some(2))")]
        pub code: String,
        #[sea_orm(column_type = "Text")]
        pub long_text: String,
        pub guid: Uuid,
        pub day: Date,
        pub local: DateTime,
        #[sea_orm(column_type = "Timestamp")]
        pub stamp: DateTime,
        pub at: DateTimeUtc,
        pub maybe_int: Option<i32>,
        pub maybe_text: Option<String>,
        pub maybe_at: Option<DateTimeUtc>,
        pub data: Json,
        pub big_u: u64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn kinds() -> EntitySetBuilder<kind::Entity> {
    EntitySetBuilder::<kind::Entity>::new("Kinds", "Kind")
}

#[test]
fn every_column_type_maps_to_its_edm_type_with_nullability_and_length() {
    let set = kinds()
        .hide("data")
        .hide("bigU")
        .build()
        .expect("no untyped column left");
    assert_eq!(set.name, "Kinds");
    let t = &set.entity_type;
    assert_eq!((t.name.as_str(), t.table.as_str()), ("Kind", "kinds"));
    assert_eq!(t.key, ["id"]);
    assert_eq!(t.tenant_column, "tenant_id");
    assert!(
        t.property("tenantId").is_none(),
        "the tenant is not a property"
    );
    let expected: &[(&str, &str, EdmType, bool, Option<u32>)] = &[
        ("id", "id", EdmType::Int64, false, None),
        ("tiny", "tiny", EdmType::Int32, false, None),
        ("small", "small", EdmType::Int32, false, None),
        ("int", "int", EdmType::Int32, false, None),
        ("tinyU", "tiny_u", EdmType::Int32, false, None),
        ("smallU", "small_u", EdmType::Int32, false, None),
        ("unsigned", "unsigned", EdmType::Int64, false, None),
        ("float", "float", EdmType::Double, false, None),
        ("double", "double", EdmType::Double, false, None),
        ("decimal", "decimal", EdmType::Decimal, false, None),
        ("money", "money", EdmType::Decimal, false, None),
        ("flag", "flag", EdmType::Boolean, false, None),
        ("plain", "plain", EdmType::String, false, None),
        ("short", "short", EdmType::String, false, Some(40)),
        ("code", "code", EdmType::String, false, Some(2)),
        ("longText", "long_text", EdmType::String, false, None),
        ("guid", "guid", EdmType::Guid, false, None),
        ("day", "day", EdmType::Date, false, None),
        ("local", "local", EdmType::DateTimeOffset, false, None),
        ("stamp", "stamp", EdmType::DateTimeOffset, false, None),
        ("at", "at", EdmType::DateTimeOffset, false, None),
        ("maybeInt", "maybe_int", EdmType::Int32, true, None),
        ("maybeText", "maybe_text", EdmType::String, true, None),
        ("maybeAt", "maybe_at", EdmType::DateTimeOffset, true, None),
    ];
    let got: Vec<(&str, &str, EdmType, bool, Option<u32>)> = t
        .properties
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.column_name().expect("column-backed"),
                p.edm_type,
                p.nullable,
                p.max_length,
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(t.navigations.is_empty());
}

#[test]
fn a_column_without_an_edm_type_must_be_hidden_or_replaced() {
    let err = kinds().hide("bigU").build().unwrap_err();
    assert!(
        matches!(&err, SchemaError::UnsupportedType { table, column, .. } if table == "kinds" && column == "data"),
        "{err:?}"
    );
    let err = kinds().hide("data").build().unwrap_err();
    assert!(
        matches!(&err, SchemaError::UnsupportedType { column, .. } if column == "big_u"),
        "{err:?}"
    );
    let set = kinds()
        .replace(
            "data",
            Property::column("data", "data", EdmType::String, false),
        )
        .replace(
            "bigU",
            Property::column("bigU", "big_u", EdmType::Decimal, false),
        )
        .build()
        .expect("replaced");
    assert_eq!(
        set.entity_type.property("bigU").map(|p| p.edm_type),
        Some(EdmType::Decimal)
    );
    assert_eq!(edm_type(&ColumnType::Json), None);
    assert_eq!(edm_type(&ColumnType::Time), None);
}

#[test]
fn renamed_hidden_and_added_properties() {
    let set = EntitySetBuilder::<kind::Entity>::new("Kinds", "Kind")
        .tenant_column("tiny")
        .hide("data")
        .hide("bigU")
        .rename("id", "kindId")
        .rename("plain", "label")
        .max_length("label", 12)
        .description("flag", "Whether it is flagged.")
        .add_property_after(
            "label",
            Property {
                name: "isNew".to_owned(),
                edm_type: EdmType::Boolean,
                nullable: false,
                max_length: None,
                source: PropertySource::Constant(sea_query::Value::Bool(Some(true))),
                description: None,
            },
        )
        .add_property(Property {
            name: "summary".to_owned(),
            edm_type: EdmType::String,
            nullable: true,
            max_length: None,
            source: PropertySource::Computed {
                columns: vec!["plain".to_owned(), "code".to_owned()],
                non_null_when: None,
            },
            description: None,
        })
        .alternate_key("code")
        .searchable(&["label", "code"])
        .concurrency("int")
        .build()
        .expect("valid");
    let t = &set.entity_type;
    assert_eq!(t.key, ["kindId"]);
    assert_eq!(
        t.property("kindId").and_then(Property::column_name),
        Some("id")
    );
    assert!(t.property("id").is_none());
    assert_eq!(t.tenant_column, "tiny");
    assert!(t.property("tiny").is_none(), "the tenant is not a property");
    assert!(t.property("tenantId").is_some(), "an ordinary column now");
    assert!(t.property("data").is_none());
    let label = t.property("label").expect("renamed");
    assert_eq!(
        (label.column_name(), label.max_length),
        (Some("plain"), Some(12))
    );
    let names: Vec<&str> = t.properties.iter().map(|p| p.name.as_str()).collect();
    let at = names.iter().position(|n| *n == "label").expect("label");
    assert_eq!(names[at + 1], "isNew");
    assert_eq!(names.last(), Some(&"summary"));
    assert_eq!(
        t.property("flag").and_then(|p| p.description.as_deref()),
        Some("Whether it is flagged.")
    );
    assert_eq!(t.alternate_key.as_deref(), Some("code"));
    assert_eq!(t.searchable, ["label", "code"]);
    assert_eq!(t.concurrency.as_deref(), Some("int"));
}

#[test]
fn mistakes_are_errors() {
    let unknown = kinds().hide("data").hide("bigU").hide("nope").build();
    assert!(matches!(unknown, Err(SchemaError::UnknownProperty { name, .. }) if name == "nope"));
    let twice = kinds()
        .hide("data")
        .hide("bigU")
        .rename("int", "small")
        .build();
    assert!(matches!(twice, Err(SchemaError::DuplicateName { name, .. }) if name == "small"));
    let bad_key = kinds()
        .hide("data")
        .hide("bigU")
        .searchable(&["missing"])
        .build();
    assert!(matches!(bad_key, Err(SchemaError::UnknownProperty { name, .. }) if name == "missing"));
    assert_eq!(camel_case("user_key_norm"), "userKeyNorm");
    assert_eq!(camel_case("_id"), "id");
    assert_eq!(camel_case("name"), "name");
}

// Authors have many books (books.author_id), one profile
// (profiles.author_id); a book belongs to its author (non-null) and maybe
// to an editor (nullable); books and tags are many-to-many through
// book_tags.

mod author {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "authors")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::book::Entity")]
        Book,
        #[sea_orm(has_one = "super::profile::Entity")]
        Profile,
    }

    impl Related<super::book::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Book.def()
        }
    }

    impl Related<super::profile::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Profile.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod profile {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "profiles")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub author_id: i64,
        pub bio: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::author::Entity",
            from = "Column::AuthorId",
            to = "super::author::Column::Id"
        )]
        Author,
    }

    impl Related<super::author::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Author.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod book {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "books")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub title: String,
        pub author_id: i64,
        pub editor_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::author::Entity",
            from = "Column::AuthorId",
            to = "super::author::Column::Id"
        )]
        Author,
        #[sea_orm(
            belongs_to = "super::author::Entity",
            from = "Column::EditorId",
            to = "super::author::Column::Id"
        )]
        Editor,
    }

    impl Related<super::author::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Author.def()
        }
    }

    impl Related<super::tag::Entity> for Entity {
        fn to() -> RelationDef {
            super::book_tag::Relation::Tag.def()
        }
        fn via() -> Option<RelationDef> {
            Some(super::book_tag::Relation::Book.def().rev())
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

mod tag {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tags")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tenant_id: i64,
        pub label: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mod book_tag {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "book_tags")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub book_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub tag_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::book::Entity",
            from = "Column::BookId",
            to = "super::book::Column::Id"
        )]
        Book,
        #[sea_orm(
            belongs_to = "super::tag::Entity",
            from = "Column::TagId",
            to = "super::tag::Column::Id"
        )]
        Tag,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

fn link(table: &str, from: &str, to: &str) -> LinkTable {
    LinkTable {
        table: table.to_owned(),
        from_column: from.to_owned(),
        to_column: to.to_owned(),
    }
}

#[test]
fn navigations_from_relations_to_many_to_one_and_many_to_many() {
    use sea_orm::RelationTrait;

    let authors = EntitySetBuilder::<author::Entity>::new("Authors", "Author")
        .navigation::<book::Entity>(
            NavigationSpec::new("books", "Books")
                .partner("author")
                .listed_by_default(true),
        )
        .navigation::<profile::Entity>(NavigationSpec::new("profile", "Profiles"))
        .build()
        .expect("authors");
    let books = EntitySetBuilder::<book::Entity>::new("Books", "Book")
        .navigation::<author::Entity>(NavigationSpec::new("author", "Authors").partner("books"))
        .navigation_from::<author::Entity>(
            NavigationSpec::new("editor", "Authors"),
            book::Relation::Editor.def(),
            None,
        )
        .navigation::<tag::Entity>(NavigationSpec::new("tags", "Tags"))
        .build()
        .expect("books");
    let profiles = EntitySetBuilder::<profile::Entity>::new("Profiles", "Profile")
        .navigation::<author::Entity>(NavigationSpec::new("author", "Authors"))
        .build()
        .expect("profiles");

    let nav = |set: &EntitySet, name: &str| set.entity_type.navigation(name).cloned().unwrap();
    // To-many: the target's foreign key, the target's table as the link.
    let books_of = nav(&authors, "books");
    assert_eq!(books_of.link, link("books", "author_id", "id"));
    assert_eq!(books_of.multiplicity, Multiplicity::Many);
    assert_eq!(books_of.target_set, "Books");
    assert_eq!(books_of.partner.as_deref(), Some("author"));
    assert!(books_of.listed_by_default);
    // has_one: the same shape, at most one.
    let profile = nav(&authors, "profile");
    assert_eq!(profile.link, link("profiles", "author_id", "id"));
    assert_eq!(profile.multiplicity, Multiplicity::ZeroOrOne);
    // belongs_to: the source's foreign key, the source's table as the link;
    // exactly one when the foreign key is not null.
    let author = nav(&books, "author");
    assert_eq!(author.link, link("books", "id", "author_id"));
    assert_eq!(author.multiplicity, Multiplicity::One);
    let editor = nav(&books, "editor");
    assert_eq!(editor.link, link("books", "id", "editor_id"));
    assert_eq!(editor.multiplicity, Multiplicity::ZeroOrOne);
    assert_eq!(
        nav(&profiles, "author").link,
        link("profiles", "id", "author_id")
    );
    // Many-to-many through the link table.
    let tags = nav(&books, "tags");
    assert_eq!(tags.link, link("book_tags", "book_id", "tag_id"));
    assert_eq!(tags.multiplicity, Multiplicity::Many);

    // A relation that does not start at the entity is refused.
    let wrong = EntitySetBuilder::<author::Entity>::new("Authors", "Author")
        .navigation_from::<book::Entity>(
            NavigationSpec::new("x", "Books"),
            profile::Relation::Author.def(),
            None,
        )
        .build();
    assert!(
        matches!(&wrong, Err(SchemaError::UnsupportedRelation { name, .. }) if name == "x"),
        "{wrong:?}"
    );
    // A navigation named like a property is a duplicate.
    let clash = EntitySetBuilder::<author::Entity>::new("Authors", "Author")
        .navigation::<book::Entity>(NavigationSpec::new("name", "Books"))
        .build();
    assert!(matches!(clash, Err(SchemaError::DuplicateName { .. })));
}
