//! The schema the translator asks about names, types, keys and navigation.
//!
//! In the style of DataFusion's `ContextProvider`: the translator never knows
//! a concrete model. A [`Schema`] lists entity sets; each [`EntityType`]
//! describes its table, its tenant column, its properties (with their EDM
//! types, nullability and maximum length, i.e. everything a CSDL document
//! needs), its key and its navigation properties. The service implements it
//! once; tests use a small mock.

use crate::dialect::Backend;

/// EDM primitive types the translator understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdmType {
    /// `Edm.String`.
    String,
    /// `Edm.Boolean`.
    Boolean,
    /// `Edm.Int32`.
    Int32,
    /// `Edm.Int64`.
    Int64,
    /// `Edm.Decimal`.
    Decimal,
    /// `Edm.Double`.
    Double,
    /// `Edm.Guid`.
    Guid,
    /// `Edm.DateTimeOffset` (stored in UTC).
    DateTimeOffset,
    /// `Edm.Date`.
    Date,
}

impl EdmType {
    /// The qualified CSDL name, e.g. `Edm.String`.
    pub fn csdl_name(self) -> &'static str {
        match self {
            EdmType::String => "Edm.String",
            EdmType::Boolean => "Edm.Boolean",
            EdmType::Int32 => "Edm.Int32",
            EdmType::Int64 => "Edm.Int64",
            EdmType::Decimal => "Edm.Decimal",
            EdmType::Double => "Edm.Double",
            EdmType::Guid => "Edm.Guid",
            EdmType::DateTimeOffset => "Edm.DateTimeOffset",
            EdmType::Date => "Edm.Date",
        }
    }

    /// Whether the type is numeric (takes part in arithmetic).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            EdmType::Int32 | EdmType::Int64 | EdmType::Decimal | EdmType::Double
        )
    }

    /// Whether the type is an integer type.
    pub fn is_integer(self) -> bool {
        matches!(self, EdmType::Int32 | EdmType::Int64)
    }
}

/// Where a property's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertySource {
    /// A column of the entity's table.
    Column(String),
    /// A constant, the same for every row (e.g. `isDeleted`, always false).
    /// Filtering and sorting on it work; it is never read from the table.
    Constant(sea_query::Value),
    /// Computed by the service from the listed columns when it shapes the
    /// record (e.g. `picture` from `has_picture` and `picture_url`). Such a
    /// property can be selected but not sorted on, and filtered on only with
    /// `eq null` / `ne null` when `non_null_when` says when it has a value
    /// (the translator answers `Unsupported` for everything else).
    Computed {
        /// Columns the service needs to compute the value.
        columns: Vec<String>,
        /// The value is non-null exactly when at least one of these holds
        /// on the row; `None` when that cannot be said in SQL.
        non_null_when: Option<Vec<Presence>>,
    },
}

/// A condition on one column of a row, for [`PropertySource::Computed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The (Boolean) column is true.
    IsTrue(String),
    /// The column is not null.
    IsNotNull(String),
}

/// One structural property of an entity type.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    /// The OData name (camelCase, as in the JSON).
    pub name: String,
    /// The EDM type.
    pub edm_type: EdmType,
    /// Whether the value may be null.
    pub nullable: bool,
    /// Maximum length of a string, if limited.
    pub max_length: Option<u32>,
    /// Where the value comes from.
    pub source: PropertySource,
    /// Annotation-style documentation (e.g. the meaning of enum integers).
    pub description: Option<String>,
}

impl Property {
    /// A column-backed property.
    pub fn column(name: &str, column: &str, edm_type: EdmType, nullable: bool) -> Self {
        Property {
            name: name.to_owned(),
            edm_type,
            nullable,
            max_length: None,
            source: PropertySource::Column(column.to_owned()),
            description: None,
        }
    }

    /// The same property with a maximum length.
    pub fn with_max_length(mut self, max_length: u32) -> Self {
        self.max_length = Some(max_length);
        self
    }

    /// The same property with a description.
    pub fn with_description(mut self, description: &str) -> Self {
        self.description = Some(description.to_owned());
        self
    }

    /// The column name when the property is column-backed.
    pub fn column_name(&self) -> Option<&str> {
        match &self.source {
            PropertySource::Column(c) => Some(c),
            _ => None,
        }
    }
}

/// A many-to-many link table joining two entity tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTable {
    /// The link table.
    pub table: String,
    /// Column referencing the source entity's key column.
    pub from_column: String,
    /// Column referencing the target entity's key column.
    pub to_column: String,
}

/// How many entities a navigation property leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Multiplicity {
    /// A collection (to-many, or many-to-many through a link table).
    #[default]
    Many,
    /// At most one entity (a nullable foreign key, or the other side of a
    /// one-to-one relation).
    ZeroOrOne,
    /// Exactly one entity (a non-null foreign key).
    One,
}

/// A navigation property.
///
/// Every kind of relation is described by a [`LinkTable`] joining the
/// source's key to the target's key: a many-to-many relation by its link
/// table; a to-many relation (the target holds a foreign key to the source)
/// by the target's table itself (`from_column` the foreign key, `to_column`
/// the target's key); a to-one relation by the table that holds the foreign
/// key, in the same way. The translator supports collections
/// ([`Multiplicity::Many`]: lambdas, `$count`, `$expand`) and, for a to-one
/// navigation, paths to a property of its target in `$filter` and
/// `$orderby` (`category/name eq 'tea'`: null when there is no target) and
/// `$expand` (at most one row per parent, with a nested `$select`; nested
/// `$filter`, `$orderby`, `$top`, `$skip`, `$count` are
/// [`crate::TranslateError::Invalid`]); `$select` of a to-one navigation,
/// `nav eq null`, and paths through more than one navigation are
/// [`crate::TranslateError::Unsupported`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Navigation {
    /// The OData name (`roles`, `groups`, `users`).
    pub name: String,
    /// The entity set of the targets.
    pub target_set: String,
    /// The link table.
    pub link: LinkTable,
    /// The name of the navigation property going back, if any.
    pub partner: Option<String>,
    /// Whether a record without `$select` lists the related entities'
    /// alternate keys under this name (`roles` of a user: yes; `users` of a
    /// role: no, it can be large). `$select` can always ask for them.
    pub listed_by_default: bool,
    /// A collection or a single entity.
    pub multiplicity: Multiplicity,
}

impl Navigation {
    /// Whether the navigation leads to a collection.
    pub fn is_collection(&self) -> bool {
        self.multiplicity == Multiplicity::Many
    }
}

/// An entity type bound to its entity set and table.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityType {
    /// The entity type name (`User`).
    pub name: String,
    /// The table.
    pub table: String,
    /// The column holding the tenant id; every statement filters on it.
    pub tenant_column: String,
    /// Names of the key properties (in order).
    pub key: Vec<String>,
    /// A property that identifies an entity for people (`userKey`,
    /// `roleKey`): related entities are listed by it.
    pub alternate_key: Option<String>,
    /// Structural properties, in the order of the JSON record.
    pub properties: Vec<Property>,
    /// Navigation properties.
    pub navigations: Vec<Navigation>,
    /// Properties `$search` matches (case-insensitive substring).
    pub searchable: Vec<String>,
    /// The column-backed property whose value changes with every change of
    /// a record (a version number): the entity's ETag is made from it, and
    /// `$metadata` declares it in `Core.OptimisticConcurrency`. The
    /// translator reads its column with every record, selected or not.
    pub concurrency: Option<String>,
}

impl EntityType {
    /// Finds a property, case-insensitively.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Finds a navigation property, case-insensitively.
    pub fn navigation(&self, name: &str) -> Option<&Navigation> {
        self.navigations
            .iter()
            .find(|n| n.name.eq_ignore_ascii_case(name))
    }

    /// The key properties.
    pub fn key_properties(&self) -> impl Iterator<Item = &Property> {
        self.key.iter().filter_map(|k| self.property(k))
    }

    /// The column of the [concurrency](EntityType::concurrency) property.
    pub fn concurrency_column(&self) -> Option<&str> {
        self.concurrency
            .as_deref()
            .and_then(|name| self.property(name))
            .and_then(Property::column_name)
    }
}

/// An entity set.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySet {
    /// The set name (`Users`).
    pub name: String,
    /// Its entity type.
    pub entity_type: std::sync::Arc<EntityType>,
}

/// What the translator needs to know about the model.
pub trait Schema {
    /// The CSDL namespace of the entity types.
    fn namespace(&self) -> &str;

    /// All entity sets.
    fn entity_sets(&self) -> &[EntitySet];

    /// An entity set by name, case-insensitively.
    fn entity_set(&self, name: &str) -> Option<&EntitySet> {
        self.entity_sets()
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// Whether `navigation` of `entity` is a bounded collection (a user's
    /// roles or groups: a few entities) rather than one that can hold every
    /// entity of its set (a role's users). The cost model
    /// ([`crate::cost`]) multiplies by a larger fan-out inside a lambda over
    /// an unbounded one. The default: bounded when the navigation is listed
    /// by default ([`Navigation::listed_by_default`]: listed because small).
    fn navigation_bounded(&self, entity: &EntityType, navigation: &Navigation) -> bool {
        let _ = entity;
        navigation.listed_by_default
    }

    /// Whether the column of the string `property` of `entity` is stored on
    /// `backend` in a code-point collation: one that compares and sorts by
    /// Unicode code point, case- and accent-sensitively and without padding
    /// (`'a'` and `'a '` differ), i.e. exactly as OData compares strings.
    /// On MySQL/MariaDB that collation is `utf8mb4_nopad_bin` (all such
    /// columns in that one collation, so that two of them compare without a
    /// collation conflict).
    ///
    /// When it is, the translator compares and sorts the plain column (and
    /// literals compared with it, which take the column's collation), so the
    /// column's indexes serve `eq`, ranges, `startswith` and `$orderby`.
    /// The default, `false`, is always correct: the translator then makes
    /// such comparisons exact itself (e.g. `CAST(... AS BINARY)` on MySQL),
    /// at the price of those indexes.
    fn code_point_collation(
        &self,
        backend: Backend,
        entity: &EntityType,
        property: &Property,
    ) -> bool {
        let _ = (backend, entity, property);
        false
    }
}
