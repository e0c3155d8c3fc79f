//! Migrations of the identity service.
pub use sea_orm_migration::prelude::*;
