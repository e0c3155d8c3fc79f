//! `clients`: API clients (OAuth2 client credentials) of one tenant+org.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The public client id (random, unique).
    pub client_id: String,
    /// The argon2id hash of the secret, as a PHC string.
    pub secret_hash: String,
    pub tenant_id: Uuid,
    /// Granted scopes, space-separated (`identity.read identity.write`).
    pub scopes: String,
    pub created_on: DateTimeUtc,
    /// Set when the client was revoked: it gets no new tokens.
    pub revoked_on: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
