//! SeaORM entities, one file per table of docs/architecture.md.

pub mod clients;
pub mod groups;
pub mod invitations;
pub mod pictures;
pub mod roles;
pub mod settings;
pub mod tenants;
pub mod user_groups;
pub mod user_roles;
pub mod users;
