//! A [`Schema`](crate::Schema)'s entity sets derived from SeaORM entities
//! (cargo feature `sea-orm`).
//!
//! [`EntitySetBuilder::new`] reads an [`EntityTrait`]: its table, its
//! columns (each a property named in camelCase, `user_key` → `userKey`,
//! with the EDM type of its column type, its nullability and, for strings
//! of a declared length, its maximum length; see [`edm_type`]) and its
//! primary key. [`EntitySetBuilder::navigation`] adds a navigation property
//! from a [`Related`] implementation: a to-many relation (`has_many`), a
//! to-one relation (`belongs_to`, `has_one`) or a many-to-many relation
//! through a link table (`Related::via`). The rest is said to the builder:
//! the tenant column, properties to rename, hide or add (computed or
//! constant), lengths and descriptions, the alternate key, the searchable
//! properties and the concurrency property.
//!
//! ```
//! use odata_sql::entity::{EntitySetBuilder, NavigationSpec};
//! use odata_sql::schema::{EdmType, Multiplicity};
//!
//! mod category {
//!     use sea_orm::entity::prelude::*;
//!     #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "categories")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         pub tenant_id: i64,
//!         #[sea_orm(column_type = "String(StringLen::N(80))")]
//!         pub name: String,
//!     }
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {
//!         #[sea_orm(has_many = "super::product::Entity")]
//!         Product,
//!     }
//!     impl Related<super::product::Entity> for Entity {
//!         fn to() -> RelationDef { Relation::Product.def() }
//!     }
//!     impl ActiveModelBehavior for ActiveModel {}
//! }
//! mod product {
//!     use sea_orm::entity::prelude::*;
//!     #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "products")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         pub tenant_id: i64,
//!         pub name: String,
//!         pub unit_price: Option<f64>,
//!         pub category_id: i64,
//!     }
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {
//!         #[sea_orm(belongs_to = "super::category::Entity", from = "Column::CategoryId", to = "super::category::Column::Id")]
//!         Category,
//!     }
//!     impl Related<super::category::Entity> for Entity {
//!         fn to() -> RelationDef { Relation::Category.def() }
//!     }
//!     impl ActiveModelBehavior for ActiveModel {}
//! }
//!
//! # fn main() {
//! // `tenant_id` is the default tenant column: every statement filters on it.
//! let categories = EntitySetBuilder::<category::Entity>::new("Categories", "Category")
//!     .navigation::<product::Entity>(NavigationSpec::new("products", "Products").partner("category"))
//!     .build()
//!     .unwrap();
//! let products = EntitySetBuilder::<product::Entity>::new("Products", "Product")
//!     .rename("unitPrice", "price")
//!     .navigation::<category::Entity>(NavigationSpec::new("category", "Categories"))
//!     .build()
//!     .unwrap();
//!
//! let t = &categories.entity_type;
//! assert_eq!(t.table, "categories");
//! assert_eq!(t.key, ["id"]);
//! assert_eq!(t.property("name").unwrap().max_length, Some(80));
//! assert_eq!(t.navigation("products").unwrap().multiplicity, Multiplicity::Many);
//! let t = &products.entity_type;
//! assert!(t.property("tenantId").is_none()); // the tenant column is not a property
//! let price = t.property("price").unwrap();
//! assert_eq!((price.edm_type, price.nullable), (EdmType::Double, true));
//! assert_eq!(t.navigation("category").unwrap().multiplicity, Multiplicity::One);
//! # }
//! ```

use std::marker::PhantomData;

use sea_orm::sea_query::{ColumnType, StringLen, TableRef};
use sea_orm::{
    ColumnTrait, EntityTrait, IdenStatic, Identity, Iterable, PrimaryKeyToColumn, Related,
    RelationDef, RelationType,
};

use crate::schema::{
    EdmType, EntitySet, EntityType, LinkTable, Multiplicity, Navigation, Property,
};

/// Why an entity set could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// A column's type has no EDM type here; hide the column or replace the
    /// property ([`EntitySetBuilder::replace`]).
    #[error("column `{column}` of `{table}`: no EDM type for {column_type}")]
    UnsupportedType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The SeaORM column type, as debug text.
        column_type: String,
    },
    /// A name given to the builder is not a property of the entity.
    #[error("`{name}` is not a property of {entity}")]
    UnknownProperty {
        /// The entity type.
        entity: String,
        /// The name.
        name: String,
    },
    /// Two properties or navigations have the same name.
    #[error("{entity} has two members named `{name}`")]
    DuplicateName {
        /// The entity type.
        entity: String,
        /// The name.
        name: String,
    },
    /// A relation the translator cannot follow: composite keys or foreign
    /// keys, or a foreign key that does not reference a primary key.
    #[error("navigation `{name}`: {reason}")]
    UnsupportedRelation {
        /// The navigation property.
        name: String,
        /// Why.
        reason: String,
    },
}

/// The EDM type of a SeaORM column type, with the maximum length of a
/// string; `None` when there is none here.
///
/// | column type | EDM type |
/// |---|---|
/// | `Char`, `String`, `Text`, `Enum` | `Edm.String` (`Char(n)`, `String(N(n))`: max length `n`) |
/// | `TinyInteger`, `SmallInteger`, `Integer`, `TinyUnsigned`, `SmallUnsigned` | `Edm.Int32` |
/// | `BigInteger`, `Unsigned` | `Edm.Int64` |
/// | `Float`, `Double` | `Edm.Double` |
/// | `Decimal`, `Money` | `Edm.Decimal` |
/// | `Boolean` | `Edm.Boolean` |
/// | `Uuid` | `Edm.Guid` |
/// | `Date` | `Edm.Date` |
/// | `DateTime`, `Timestamp`, `TimestampWithTimeZone` | `Edm.DateTimeOffset` (stored in UTC) |
///
/// `BigUnsigned` (beyond `Edm.Int64`), `Time`, `Interval`, binary, JSON,
/// array, network and custom types have none.
pub fn edm_type(column_type: &ColumnType) -> Option<(EdmType, Option<u32>)> {
    use ColumnType as C;
    Some(match column_type {
        C::Char(len) => (EdmType::String, *len),
        C::String(StringLen::N(n)) => (EdmType::String, Some(*n)),
        C::String(_) | C::Text | C::Enum { .. } => (EdmType::String, None),
        C::TinyInteger | C::SmallInteger | C::Integer | C::TinyUnsigned | C::SmallUnsigned => {
            (EdmType::Int32, None)
        }
        C::BigInteger | C::Unsigned => (EdmType::Int64, None),
        C::Float | C::Double => (EdmType::Double, None),
        C::Decimal(_) | C::Money(_) => (EdmType::Decimal, None),
        C::Boolean => (EdmType::Boolean, None),
        C::Uuid => (EdmType::Guid, None),
        C::Date => (EdmType::Date, None),
        C::DateTime | C::Timestamp | C::TimestampWithTimeZone => (EdmType::DateTimeOffset, None),
        _ => return None,
    })
}

/// `user_key` → `userKey`: the default property name of a column.
pub fn camel_case(column: &str) -> String {
    let mut out = String::with_capacity(column.len());
    let mut upper = false;
    for c in column.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A navigation property to add: its name, target set and options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavigationSpec {
    name: String,
    target_set: String,
    partner: Option<String>,
    listed_by_default: bool,
}

impl NavigationSpec {
    /// The navigation `name` to the entity set `target_set`.
    pub fn new(name: &str, target_set: &str) -> Self {
        NavigationSpec {
            name: name.to_owned(),
            target_set: target_set.to_owned(),
            partner: None,
            listed_by_default: false,
        }
    }

    /// The navigation property going back.
    pub fn partner(mut self, partner: &str) -> Self {
        self.partner = Some(partner.to_owned());
        self
    }

    /// See [`Navigation::listed_by_default`].
    pub fn listed_by_default(mut self, listed: bool) -> Self {
        self.listed_by_default = listed;
        self
    }
}

/// Builds an [`EntitySet`] from the SeaORM entity `E`; see the
/// [module docs](self).
#[derive(Debug)]
pub struct EntitySetBuilder<E: EntityTrait> {
    set: String,
    entity: EntityType,
    /// Properties derived from columns whose type has no EDM type: an error
    /// at [`EntitySetBuilder::build`] unless hidden or replaced.
    untyped: Vec<(String, String)>,
    /// The tenant column's property (removed) and where it was.
    tenant_property: Option<(usize, Property)>,
    errors: Vec<SchemaError>,
    _entity: PhantomData<E>,
}

fn single(identity: &Identity) -> Option<String> {
    match identity {
        Identity::Unary(c) => Some(c.to_string()),
        _ => None,
    }
}

fn table_name(table: &TableRef) -> Option<String> {
    match table {
        TableRef::Table(name, _) => Some(name.1.to_string()),
        _ => None,
    }
}

/// The single primary key column of `E`, if it has exactly one.
fn key_column<E: EntityTrait>() -> Option<String> {
    let mut keys = E::PrimaryKey::iter().map(|k| k.into_column().as_str().to_owned());
    match (keys.next(), keys.next()) {
        (Some(k), None) => Some(k),
        _ => None,
    }
}

impl<E: EntityTrait> EntitySetBuilder<E> {
    /// The entity set `set_name` of entity type `type_name`, with a property
    /// for every column of `E` and `E`'s primary key as its key. The tenant
    /// column is `tenant_id` (without a property) until
    /// [`EntitySetBuilder::tenant_column`] says otherwise.
    pub fn new(set_name: &str, type_name: &str) -> Self {
        let table = E::default().table_name().to_owned();
        let mut properties = Vec::new();
        let mut untyped = Vec::new();
        for column in E::Column::iter() {
            let name = column.as_str();
            let def = column.def();
            let property_name = camel_case(name);
            let (edm, max_length) = match edm_type(def.get_column_type()) {
                Some(t) => t,
                None => {
                    untyped.push((
                        property_name.clone(),
                        format!("{:?}", def.get_column_type()),
                    ));
                    (EdmType::String, None)
                }
            };
            properties.push(Property {
                max_length,
                ..Property::column(&property_name, name, edm, def.is_null())
            });
        }
        let key = E::PrimaryKey::iter()
            .map(|k| camel_case(k.into_column().as_str()))
            .collect();
        EntitySetBuilder {
            set: set_name.to_owned(),
            entity: EntityType {
                name: type_name.to_owned(),
                table,
                tenant_column: "tenant_id".to_owned(),
                key,
                alternate_key: None,
                properties,
                navigations: Vec::new(),
                searchable: Vec::new(),
                concurrency: None,
            },
            untyped,
            tenant_property: None,
            errors: Vec::new(),
            _entity: PhantomData,
        }
        .tenant_column("tenant_id")
    }

    fn position(&mut self, name: &str) -> Option<usize> {
        let found = self
            .entity
            .properties
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name));
        if found.is_none() {
            self.errors.push(SchemaError::UnknownProperty {
                entity: self.entity.name.clone(),
                name: name.to_owned(),
            });
        }
        found
    }

    fn with_property(mut self, name: &str, f: impl FnOnce(&mut Property)) -> Self {
        if let Some(i) = self.position(name) {
            f(&mut self.entity.properties[i]);
        }
        self
    }

    /// The column holding the tenant id (every statement filters on it). Its
    /// property is removed: the tenant is not part of the OData model. (Call
    /// it before renaming or hiding other properties.)
    pub fn tenant_column(mut self, column: &str) -> Self {
        if let Some((i, p)) = self.tenant_property.take() {
            let i = i.min(self.entity.properties.len());
            self.entity.properties.insert(i, p);
        }
        self.entity.tenant_column = column.to_owned();
        if let Some(i) = self
            .entity
            .properties
            .iter()
            .position(|p| p.column_name() == Some(column))
        {
            let p = self.entity.properties.remove(i);
            self.tenant_property = Some((i, p));
        }
        self
    }

    /// Renames the property `name` (the key follows; give the alternate
    /// key, searchable and concurrency properties by their new names).
    pub fn rename(mut self, name: &str, new_name: &str) -> Self {
        if let Some(i) = self.position(name) {
            let old = std::mem::replace(&mut self.entity.properties[i].name, new_name.to_owned());
            for k in &mut self.entity.key {
                if *k == old {
                    *k = new_name.to_owned();
                }
            }
            for (n, _) in &mut self.untyped {
                if *n == old {
                    *n = new_name.to_owned();
                }
            }
        }
        self
    }

    /// Removes the property `name` (its column is still there, e.g. for a
    /// computed property).
    pub fn hide(mut self, name: &str) -> Self {
        if let Some(i) = self.position(name) {
            let p = self.entity.properties.remove(i);
            self.untyped.retain(|(n, _)| *n != p.name);
        }
        self
    }

    /// Replaces the property `name` by `property` (e.g. another EDM type
    /// for a column whose type has none).
    pub fn replace(mut self, name: &str, property: Property) -> Self {
        if let Some(i) = self.position(name) {
            let old = std::mem::replace(&mut self.entity.properties[i], property);
            self.untyped.retain(|(n, _)| *n != old.name);
        }
        self
    }

    /// Adds `property` (computed, constant or another column) at the end.
    pub fn add_property(mut self, property: Property) -> Self {
        self.entity.properties.push(property);
        self
    }

    /// Adds `property` right after the property `after` (the order of the
    /// properties is the order of the JSON records and of `$metadata`).
    pub fn add_property_after(mut self, after: &str, property: Property) -> Self {
        if let Some(i) = self.position(after) {
            self.entity.properties.insert(i + 1, property);
        }
        self
    }

    /// Sets the maximum length of the string property `name`.
    pub fn max_length(self, name: &str, max_length: u32) -> Self {
        self.with_property(name, |p| p.max_length = Some(max_length))
    }

    /// Sets the description of the property `name`.
    pub fn description(self, name: &str, description: &str) -> Self {
        self.with_property(name, |p| p.description = Some(description.to_owned()))
    }

    /// See [`EntityType::alternate_key`].
    pub fn alternate_key(mut self, name: &str) -> Self {
        self.entity.alternate_key = Some(name.to_owned());
        self
    }

    /// See [`EntityType::searchable`].
    pub fn searchable(mut self, names: &[&str]) -> Self {
        self.entity.searchable = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    /// See [`EntityType::concurrency`].
    pub fn concurrency(mut self, name: &str) -> Self {
        self.entity.concurrency = Some(name.to_owned());
        self
    }

    /// Adds the navigation property `spec` from `E`'s [`Related`]
    /// implementation for `R`.
    pub fn navigation<R>(self, spec: NavigationSpec) -> Self
    where
        R: EntityTrait,
        E: Related<R>,
    {
        let to = <E as Related<R>>::to();
        let via = <E as Related<R>>::via();
        self.navigation_from::<R>(spec, to, via)
    }

    /// Adds the navigation property `spec` from relation definitions, as
    /// [`Related::to`] and [`Related::via`] give them: `to` from `E` to `R`
    /// (or, with `via`, from the link table to `R`), `via` from `E` to the
    /// link table.
    pub fn navigation_from<R: EntityTrait>(
        mut self,
        spec: NavigationSpec,
        to: RelationDef,
        via: Option<RelationDef>,
    ) -> Self {
        match self.link::<R>(&spec.name, &to, via.as_ref()) {
            Ok((link, multiplicity)) => self.entity.navigations.push(Navigation {
                name: spec.name,
                target_set: spec.target_set,
                link,
                partner: spec.partner,
                listed_by_default: spec.listed_by_default,
                multiplicity,
            }),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// The link table of a relation: the table and columns joining `E`'s
    /// key to `R`'s key.
    fn link<R: EntityTrait>(
        &self,
        name: &str,
        to: &RelationDef,
        via: Option<&RelationDef>,
    ) -> Result<(LinkTable, Multiplicity), SchemaError> {
        let fail = |reason: &str| SchemaError::UnsupportedRelation {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        let composite = || fail("composite keys are not supported");
        let (Some(source_key), Some(target_key)) = (key_column::<E>(), key_column::<R>()) else {
            return Err(composite());
        };
        let from_table = table_name(&to.from_tbl).ok_or_else(|| fail("not a table"))?;
        let from_col = single(&to.from_col).ok_or_else(composite)?;
        let to_col = single(&to.to_col).ok_or_else(composite)?;
        let source_table = E::default().table_name();
        if let Some(via) = via {
            // E.key = link.a (via), link.b = R.key (to).
            let via_from = single(&via.from_col).ok_or_else(composite)?;
            let via_to = single(&via.to_col).ok_or_else(composite)?;
            if via_from != source_key || to_col != target_key {
                return Err(fail("the link table must reference both primary keys"));
            }
            return Ok((
                LinkTable {
                    table: from_table,
                    from_column: via_to,
                    to_column: from_col,
                },
                Multiplicity::Many,
            ));
        }
        if from_table != source_table {
            return Err(fail("the relation does not start at this entity"));
        }
        let target_table = R::default().table_name().to_owned();
        match to.rel_type {
            // E.key = R.fk: the target's table links to itself.
            RelationType::HasMany | RelationType::HasOne if from_col == source_key => Ok((
                LinkTable {
                    table: target_table,
                    from_column: to_col,
                    to_column: target_key,
                },
                if to.rel_type == RelationType::HasMany {
                    Multiplicity::Many
                } else {
                    Multiplicity::ZeroOrOne
                },
            )),
            // E.fk = R.key: the source's table links to itself.
            RelationType::HasOne if to_col == target_key => {
                let nullable = E::Column::iter()
                    .find(|c| c.as_str() == from_col)
                    .is_none_or(|c| c.def().is_null());
                Ok((
                    LinkTable {
                        table: source_table.to_owned(),
                        from_column: source_key,
                        to_column: from_col,
                    },
                    if nullable {
                        Multiplicity::ZeroOrOne
                    } else {
                        Multiplicity::One
                    },
                ))
            }
            _ => Err(fail("the foreign key must reference a primary key")),
        }
    }

    /// The entity set, or the first problem: an unknown name given to the
    /// builder, a column without an EDM type, a relation the translator
    /// cannot follow, two members of the same name.
    pub fn build(self) -> Result<EntitySet, SchemaError> {
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let untyped = self
            .untyped
            .into_iter()
            .find(|(n, _)| self.entity.property(n).is_some());
        if let Some((name, column_type)) = untyped {
            let column = self
                .entity
                .property(&name)
                .and_then(Property::column_name)
                .unwrap_or(&name)
                .to_owned();
            return Err(SchemaError::UnsupportedType {
                table: self.entity.table.clone(),
                column,
                column_type,
            });
        }
        let mut seen: Vec<String> = Vec::new();
        let names = self
            .entity
            .properties
            .iter()
            .map(|p| &p.name)
            .chain(self.entity.navigations.iter().map(|n| &n.name));
        for name in names {
            let lower = name.to_lowercase();
            if seen.contains(&lower) {
                return Err(SchemaError::DuplicateName {
                    entity: self.entity.name.clone(),
                    name: name.clone(),
                });
            }
            seen.push(lower);
        }
        for name in self
            .entity
            .key
            .iter()
            .chain(&self.entity.alternate_key)
            .chain(&self.entity.searchable)
            .chain(&self.entity.concurrency)
        {
            if self.entity.property(name).is_none() {
                return Err(SchemaError::UnknownProperty {
                    entity: self.entity.name.clone(),
                    name: name.clone(),
                });
            }
        }
        Ok(EntitySet {
            name: self.set,
            entity_type: self.entity.into(),
        })
    }
}

#[cfg(test)]
mod tests;
