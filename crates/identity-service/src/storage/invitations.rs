//! Invitations: issuing (and re-issuing) single-use tokens for invited users,
//! accepting them, and the periodic sweep that marks expired ones.
//!
//! A token is 256 random bits, base64url without padding (43 characters);
//! only its hex SHA-256 is stored. Every state change is one transaction or
//! one conditional UPDATE, so several server instances can share a database.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::Actor;
use crate::error::{ApiError, ErrorDetail};
use crate::storage::changes::{self, Op};
use crate::storage::counters::{self, Counted};
use crate::storage::entities::{groups, invitations, roles, user_groups, user_roles, users};
use crate::storage::memberships::{self, Membership};
use crate::tenancy::TenantScope;

/// User status: Active.
pub const STATUS_ACTIVE: i32 = 1;
/// User status: InvitationSent.
pub const STATUS_INVITED: i32 = 3;
/// User status: InvitationExpired.
pub const STATUS_EXPIRED: i32 = 4;

/// A fresh token: 32 bytes from the thread-local CSPRNG, base64url.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token: lower-case hex SHA-256 of its text.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.iter() {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    hex
}

/// A validated `sendInvitation` request.
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    pub email: String,
    /// `None`: the part of the email before `@` (new users), unchanged (re-invites).
    pub name: Option<String>,
    /// `None`: the email in lower case (new users), unchanged (re-invites).
    pub user_key: Option<String>,
    /// Given in the body (applied on re-invites too).
    pub culture: Option<String>,
    /// Used for a new user when the body has no culture (from `Accept-Language`).
    pub default_culture: String,
    /// `None`: unchanged; `Some`: the whole set of role keys.
    pub roles: Option<Vec<String>>,
    /// `None`: unchanged; `Some`: the whole set of group keys.
    pub groups: Option<Vec<String>>,
}

/// An issued invitation: what the mail needs.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user_id: Uuid,
    /// The user was created by this call (else re-invited).
    pub created: bool,
    pub email: String,
    pub name: String,
    /// The token in clear: only ever put into the mail.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Creates or re-invites the user with `invite.email` and issues a token
/// valid for `ttl`, revoking any earlier one; all in one transaction.
/// `actor` is the new user's `createdBy`, the user's `modifiedBy` and the
/// invitation's issuer (`invitations.created_by`).
pub async fn invite(
    db: &DatabaseConnection,
    scope: &TenantScope,
    actor: &Actor,
    invite: Invite,
    ttl: Duration,
) -> Result<Issued, ApiError> {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    // Run again when the database aborts it as a deadlock (MariaDB, with
    // concurrent creates and deletes updating the same counters).
    crate::storage::retrying(|| async {
        // A write transaction from the start (`BEGIN IMMEDIATE` on SQLite):
        // it reads before it writes, and a deferred one then fails with
        // "database is locked" when another writer got there first.
        let txn = crate::storage::begin_write(db).await?;
        let issued = invite_in(&txn, scope, actor, invite.clone(), ttl).await?;
        txn.commit().await?;
        Ok(issued)
    })
    .await
}

async fn invite_in<C: ConnectionTrait>(
    txn: &C,
    scope: &TenantScope,
    actor: &Actor,
    invite: Invite,
    ttl: chrono::Duration,
) -> Result<Issued, ApiError> {
    let now = crate::domain::now();
    let email_norm = invite.email.to_lowercase();
    let by_email = users::Entity::find()
        .filter(users::Column::TenantId.eq(scope.tenant_id))
        .filter(users::Column::EmailNorm.eq(email_norm.clone()))
        .one(txn)
        .await?;
    if let Some(existing) = &by_email
        && !matches!(existing.status, STATUS_INVITED | STATUS_EXPIRED)
    {
        return Err(ApiError::conflict(
            format!(
                "the user '{}' with email '{}' is already {}; only invited users can be invited again",
                existing.user_key,
                invite.email,
                if existing.status == STATUS_ACTIVE {
                    "active"
                } else {
                    "inactive"
                }
            ),
            Some("email"),
        ));
    }

    let key_for_new = match (&invite.user_key, &by_email) {
        (Some(key), _) => Some(key.clone()),
        (None, None) => {
            let key = invite.email.to_lowercase();
            crate::domain::EntityKey::parse(&key, "userKey").map_err(|e| {
                ApiError::bad_request(
                    format!(
                        "the email cannot serve as the userKey ({}); give a userKey",
                        e.message
                    ),
                    Some("userKey"),
                )
            })?;
            Some(key)
        }
        (None, Some(_)) => None,
    };
    if let Some(key) = &key_for_new {
        let owner = users::Entity::find()
            .filter(users::Column::TenantId.eq(scope.tenant_id))
            .filter(users::Column::UserKeyNorm.eq(key.to_lowercase()))
            .one(txn)
            .await?;
        if let Some(owner) = owner
            && by_email.as_ref().is_none_or(|u| u.id != owner.id)
        {
            return Err(ApiError::conflict(
                format!("the userKey '{}' belongs to another user", owner.user_key),
                Some("userKey"),
            ));
        }
    }

    let role_ids = match &invite.roles {
        Some(keys) => Some(resolve_keys(txn, scope, Kind::Role, keys).await?),
        None => None,
    };
    let group_ids = match &invite.groups {
        Some(keys) => Some(resolve_keys(txn, scope, Kind::Group, keys).await?),
        None => None,
    };

    let (user_id, name, created) = match by_email {
        Some(user) => {
            let name = invite.name.clone().unwrap_or(user.name.clone());
            let mut update = users::Entity::update_many()
                .col_expr(users::Column::Status, Expr::value(STATUS_INVITED))
                .col_expr(users::Column::Name, Expr::value(name.clone()))
                .col_expr(users::Column::ModifiedOn, Expr::value(now))
                .col_expr(users::Column::ModifiedBy, Expr::value(actor.as_str()))
                .col_expr(
                    users::Column::Version,
                    Expr::col(users::Column::Version).add(1),
                );
            if let Some(key) = &key_for_new {
                update = update
                    .col_expr(users::Column::UserKey, Expr::value(key.clone()))
                    .col_expr(users::Column::UserKeyNorm, Expr::value(key.to_lowercase()));
            }
            if let Some(culture) = &invite.culture {
                update = update.col_expr(users::Column::Culture, Expr::value(culture.clone()));
            }
            update
                .filter(users::Column::Id.eq(user.id))
                .exec(txn)
                .await
                .map_err(unique_to_conflict)?;
            invitations::Entity::update_many()
                .col_expr(invitations::Column::Revoked, Expr::value(true))
                .filter(invitations::Column::UserId.eq(user.id))
                .filter(invitations::Column::UsedAt.is_null())
                .filter(invitations::Column::Revoked.eq(false))
                .exec(txn)
                .await?;
            (user.id, name, false)
        }
        None => {
            let id = Uuid::new_v4();
            let name = invite.name.clone().unwrap_or_else(|| {
                invite
                    .email
                    .rsplit_once('@')
                    .map_or(invite.email.as_str(), |(local, _)| local)
                    .to_owned()
            });
            let key = key_for_new
                .clone()
                .unwrap_or_else(|| invite.email.to_lowercase());
            let user = users::ActiveModel {
                id: Set(id),
                tenant_id: Set(scope.tenant_id),
                user_key_norm: Set(key.to_lowercase()),
                user_key: Set(key),
                name: Set(name.clone()),
                culture: Set(Some(
                    invite
                        .culture
                        .clone()
                        .unwrap_or(invite.default_culture.clone()),
                )),
                email: Set(Some(invite.email.clone())),
                email_norm: Set(Some(email_norm)),
                is_technician: Set(false),
                last_login: Set(None),
                status: Set(STATUS_INVITED),
                picture_url: Set(None),
                has_picture: Set(false),
                is_active: Set(true),
                is_system: Set(false),
                created_by: Set(Some(actor.as_str().to_owned())),
                created_on: Set(now),
                modified_by: Set(Some(actor.as_str().to_owned())),
                modified_on: Set(now),
                version: Set(1),
            };
            users::Entity::insert(user)
                .exec_without_returning(txn)
                .await
                .map_err(unique_to_conflict)?;
            (id, name, true)
        }
    };

    // The roles and groups that lose or gain the user as a member change
    // with it (a `$filter` over their `users` reads the links).
    let mut log: Vec<changes::Change> = Vec::new();
    if let Some(ids) = role_ids {
        let before = memberships::current(txn, Membership::Roles, user_id).await?;
        let touched: Vec<Uuid> = before.into_iter().chain(ids.iter().copied()).collect();
        log.extend(Membership::Roles.changed(&touched));
        user_roles::Entity::delete_many()
            .filter(user_roles::Column::UserId.eq(user_id))
            .exec(txn)
            .await?;
        if !ids.is_empty() {
            user_roles::Entity::insert_many(ids.into_iter().map(|role_id| {
                user_roles::ActiveModel {
                    user_id: Set(user_id),
                    role_id: Set(role_id),
                }
            }))
            .exec_without_returning(txn)
            .await?;
        }
    }
    if let Some(ids) = group_ids {
        let before = memberships::current(txn, Membership::Groups, user_id).await?;
        let touched: Vec<Uuid> = before.into_iter().chain(ids.iter().copied()).collect();
        log.extend(Membership::Groups.changed(&touched));
        user_groups::Entity::delete_many()
            .filter(user_groups::Column::UserId.eq(user_id))
            .exec(txn)
            .await?;
        if !ids.is_empty() {
            user_groups::Entity::insert_many(ids.into_iter().map(|group_id| {
                user_groups::ActiveModel {
                    user_id: Set(user_id),
                    group_id: Set(group_id),
                }
            }))
            .exec_without_returning(txn)
            .await?;
        }
    }

    let token = new_token();
    let expires_at = now
        .checked_add_signed(ttl)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    invitations::Entity::insert(invitations::ActiveModel {
        id: Set(Uuid::new_v4()),
        tenant_id: Set(scope.tenant_id),
        user_id: Set(user_id),
        token_hash: Set(hash_token(&token)),
        expires_at: Set(expires_at),
        used_at: Set(None),
        revoked: Set(false),
        created_on: Set(now),
        created_by: Set(Some(actor.as_str().to_owned())),
    })
    .exec_without_returning(txn)
    .await?;
    if created {
        counters::add(txn, scope.tenant_id, Counted::Users, 1).await?;
    }
    let op = if created { Op::Created } else { Op::Changed };
    log.insert(0, (Counted::Users, user_id, op));
    changes::record(txn, scope.tenant_id, &log).await?;

    Ok(Issued {
        user_id,
        created,
        email: invite.email,
        name,
        token,
        expires_at,
    })
}

/// A concurrent insert of the same key or email (the checks above ran
/// before it committed) is still a 409, not a 500.
fn unique_to_conflict(err: DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "another user with this userKey or email was just created",
            None,
        ),
        _ => err.into(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Role,
    Group,
}

/// Role or group keys (case-insensitive) -> ids, in the order given and
/// without repeats; every unknown key is listed in the 400's details.
async fn resolve_keys<C: ConnectionTrait>(
    db: &C,
    scope: &TenantScope,
    kind: Kind,
    keys: &[String],
) -> Result<Vec<Uuid>, ApiError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let norms: Vec<String> = keys.iter().map(|k| k.to_lowercase()).collect();
    let found: HashMap<String, Uuid> = match kind {
        Kind::Role => roles::Entity::find()
            .filter(roles::Column::TenantId.eq(scope.tenant_id))
            .filter(roles::Column::RoleKeyNorm.is_in(norms.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.role_key_norm, r.id))
            .collect(),
        Kind::Group => groups::Entity::find()
            .filter(groups::Column::TenantId.eq(scope.tenant_id))
            .filter(groups::Column::GroupKeyNorm.is_in(norms.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|g| (g.group_key_norm, g.id))
            .collect(),
    };
    let (what, property) = match kind {
        Kind::Role => ("role", "roles"),
        Kind::Group => ("group", "groups"),
    };
    let mut ids = Vec::with_capacity(keys.len());
    let mut unknown = Vec::new();
    for (key, norm) in keys.iter().zip(&norms) {
        match found.get(norm) {
            Some(id) if !ids.contains(id) => ids.push(*id),
            Some(_) => {}
            None => unknown.push(ErrorDetail::new(
                "UnknownKey",
                format!("there is no {what} '{}'", crate::error::echo(key)),
                Some(key.clone()),
            )),
        }
    }
    if unknown.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::BadRequest {
            message: format!("unknown {property}"),
            target: Some(property.to_owned()),
            details: unknown,
        })
    }
}

/// The result of presenting a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// The user is now Active.
    Accepted { user_id: Uuid },
    /// The token's time is up; the user is (now) InvitationExpired.
    Expired { user_id: Uuid },
    /// No such token in this tenant, or it was used or revoked.
    Unknown,
}

/// Redeems `token` for a user of `scope`: single use, checked against its
/// expiry. A used token is `Unknown`, like one that never existed. The
/// user's status change (Active, or InvitationExpired) is by `actor`.
pub async fn accept(
    db: &DatabaseConnection,
    scope: &TenantScope,
    actor: &Actor,
    token: &str,
) -> Result<Acceptance, DbErr> {
    let hash = hash_token(token);
    let actor = actor.as_str().to_owned();
    let tenant_id = scope.tenant_id;
    db.transaction::<_, Acceptance, DbErr>(|txn| {
        Box::pin(async move {
            let now = crate::domain::now();
            let Some(inv) = invitations::Entity::find()
                .filter(invitations::Column::TokenHash.eq(hash))
                .filter(invitations::Column::TenantId.eq(tenant_id))
                .one(txn)
                .await?
            else {
                return Ok(Acceptance::Unknown);
            };
            if inv.used_at.is_some() || inv.revoked {
                return Ok(Acceptance::Unknown);
            }
            if inv.expires_at <= now {
                let marked = users::Entity::update_many()
                    .col_expr(users::Column::Status, Expr::value(STATUS_EXPIRED))
                    .col_expr(users::Column::ModifiedOn, Expr::value(now))
                    .col_expr(users::Column::ModifiedBy, Expr::value(actor.clone()))
                    .col_expr(
                        users::Column::Version,
                        Expr::col(users::Column::Version).add(1),
                    )
                    .filter(users::Column::Id.eq(inv.user_id))
                    .filter(users::Column::Status.eq(STATUS_INVITED))
                    .exec(txn)
                    .await?;
                if marked.rows_affected > 0 {
                    changes::record(
                        txn,
                        tenant_id,
                        &[(Counted::Users, inv.user_id, Op::Changed)],
                    )
                    .await?;
                }
                return Ok(Acceptance::Expired {
                    user_id: inv.user_id,
                });
            }
            // The conditional UPDATE is what makes the token single-use when
            // two requests (or two instances) race.
            let claimed = invitations::Entity::update_many()
                .col_expr(invitations::Column::UsedAt, Expr::value(now))
                .filter(invitations::Column::Id.eq(inv.id))
                .filter(invitations::Column::UsedAt.is_null())
                .filter(invitations::Column::Revoked.eq(false))
                .exec(txn)
                .await?;
            if claimed.rows_affected != 1 {
                return Ok(Acceptance::Unknown);
            }
            users::Entity::update_many()
                .col_expr(users::Column::Status, Expr::value(STATUS_ACTIVE))
                .col_expr(users::Column::ModifiedOn, Expr::value(now))
                .col_expr(users::Column::ModifiedBy, Expr::value(actor))
                .col_expr(
                    users::Column::Version,
                    Expr::col(users::Column::Version).add(1),
                )
                .filter(users::Column::Id.eq(inv.user_id))
                .exec(txn)
                .await?;
            changes::record(
                txn,
                tenant_id,
                &[(Counted::Users, inv.user_id, Op::Changed)],
            )
            .await?;
            Ok(Acceptance::Accepted {
                user_id: inv.user_id,
            })
        })
    })
    .await
    .map_err(|e| match e {
        sea_orm::TransactionError::Connection(e) | sea_orm::TransactionError::Transaction(e) => e,
    })
}

/// An outstanding invitation as its page shows it, read without using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub user_key: String,
    pub name: String,
    pub email: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The token's time is up (presenting it answers 410).
    pub expired: bool,
    /// Who issued it (the inviting client's id); `None` for an invitation
    /// older than `invitations.created_by`.
    pub invited_by: Option<String>,
}

/// The invitation `token` of `scope` and its user, when it is neither used
/// nor revoked; `None` exactly when [`accept`] would answer `Unknown`.
/// Changes nothing (the expiry is marked by `accept` and the sweep).
pub async fn pending(
    db: &DatabaseConnection,
    scope: &TenantScope,
    token: &str,
) -> Result<Option<Pending>, DbErr> {
    let Some(inv) = invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(hash_token(token)))
        .filter(invitations::Column::TenantId.eq(scope.tenant_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if inv.used_at.is_some() || inv.revoked {
        return Ok(None);
    }
    let Some(user) = users::Entity::find_by_id(inv.user_id)
        .filter(users::Column::TenantId.eq(scope.tenant_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Pending {
        user_key: user.user_key,
        name: user.name,
        email: user.email,
        expires_at: inv.expires_at,
        expired: inv.expires_at <= crate::domain::now(),
        invited_by: inv.created_by,
    }))
}

/// Marks as InvitationExpired (4) every InvitationSent (3) user whose
/// outstanding invitation has expired and who has no live one. One
/// conditional UPDATE: idempotent and safe to run from several instances at
/// once. Users imported with status 3 and no invitation are left alone.
/// The change's `modifiedBy` is [`Actor::INVITATION`]. Returns the number
/// of users changed.
pub async fn sweep_expired(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let now = crate::domain::now();
    let inv = Alias::new("inv");
    let invitation = |live: bool| {
        let mut q = Query::select();
        q.expr(Expr::val(1))
            .from_as(invitations::Entity, inv.clone())
            .and_where(
                Expr::col((inv.clone(), invitations::Column::UserId))
                    .equals((users::Entity, users::Column::Id)),
            )
            .and_where(Expr::col((inv.clone(), invitations::Column::UsedAt)).is_null())
            .and_where(Expr::col((inv.clone(), invitations::Column::Revoked)).eq(false));
        if live {
            q.and_where(Expr::col((inv.clone(), invitations::Column::ExpiresAt)).gt(now));
        } else {
            q.and_where(Expr::col((inv.clone(), invitations::Column::ExpiresAt)).lte(now));
        }
        q.to_owned()
    };
    // The users to mark, with their tenants (for the change log); the
    // UPDATE repeats the conditions, so a user that changed meanwhile is
    // left alone (and merely logged as changed, which is harmless).
    let due = Query::select()
        .column(users::Column::Id)
        .column(users::Column::TenantId)
        .from(users::Entity)
        .and_where(Expr::col(users::Column::Status).eq(STATUS_INVITED))
        .and_where(Expr::exists(invitation(false)))
        .and_where(Expr::exists(invitation(true)).not())
        .to_owned();
    // An explicit transaction, so the change is committed when this returns
    // also behind a transaction pooler (see `storage::db`).
    let txn = crate::storage::begin_write(db)
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    let mut by_tenant: std::collections::BTreeMap<Uuid, Vec<Uuid>> = Default::default();
    for row in txn.query_all(&due).await? {
        let id: Uuid = row.try_get("", "id")?;
        let tenant: Uuid = row.try_get("", "tenant_id")?;
        by_tenant.entry(tenant).or_default().push(id);
    }
    let mut changed = 0;
    for (tenant, ids) in by_tenant {
        for chunk in ids.chunks(1000) {
            let update = Query::update()
                .table(users::Entity)
                .value(users::Column::Status, STATUS_EXPIRED)
                .value(users::Column::ModifiedOn, now)
                .value(users::Column::ModifiedBy, Actor::INVITATION.as_str())
                .value(
                    users::Column::Version,
                    Expr::col(users::Column::Version).add(1),
                )
                .and_where(Expr::col(users::Column::Id).is_in(chunk.iter().copied()))
                .and_where(Expr::col(users::Column::Status).eq(STATUS_INVITED))
                .and_where(Expr::exists(invitation(false)))
                .and_where(Expr::exists(invitation(true)).not())
                .to_owned();
            changed += txn.execute(&update).await?.rows_affected();
        }
        let log: Vec<changes::Change> = ids
            .into_iter()
            .map(|id| (Counted::Users, id, Op::Changed))
            .collect();
        changes::record(&txn, tenant, &log).await?;
    }
    txn.commit().await?;
    Ok(changed)
}

/// Runs [`sweep_expired`] every `invitation_sweep_seconds` until the runtime
/// shuts down (or the handle is aborted); failures are logged and retried at
/// the next tick.
pub fn spawn_sweeper(
    db: DatabaseConnection,
    settings: &crate::configuration::Settings,
) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(settings.invitation_sweep_seconds);
    tokio::spawn(async move {
        // The first sweep runs one period after start-up, not at once, so
        // that starting an instance does not sweep in the middle of others' work.
        let every = every.max(Duration::from_secs(1));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match sweep_expired(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(users = n, "invitation sweep: marked expired"),
                Err(error) => tracing::warn!(%error, "invitation sweep failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in base64url without padding");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hash_token(&new_token()).len(), 64);
    }
}
