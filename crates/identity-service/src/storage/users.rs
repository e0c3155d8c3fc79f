//! Writes of users (create, change one attribute, memberships, picture,
//! delete) and the lookups the routes need. Every function takes the
//! tenant scope; every statement filters on it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::changes::{Change, Op};
use super::counters::Counted;
use super::entities::{invitations, pictures, user_groups, user_roles, users};
use super::memberships::{self, Membership, Reference};
use super::{Writer, begin_write, conflict_or, finish_write, lock_version};
use crate::domain::{Actor, Culture, Email, EntityKey, NewUser, UserName, UserStatus};
use crate::error::{ApiError, ErrorDetail};
use crate::etag::Precondition;
use crate::pictures::Picture;
use crate::tenancy::TenantScope;

/// One attribute change of `PUT users/{userKey}/{attr}`.
#[derive(Debug, Clone)]
pub enum UserChange {
    Email(Option<Email>),
    IsActive(bool),
    IsTechnician(bool),
    LastLogin(Option<DateTime<Utc>>),
    Name(UserName),
    Status(UserStatus),
    UserKey(EntityKey),
    Culture(Culture),
    /// `None` removes the picture.
    Picture(Option<Picture>),
    /// Role keys replacing the whole set.
    Roles(Vec<String>),
    /// Group keys replacing the whole set.
    Groups(Vec<String>),
}

/// The changes that make an existing user what `user` describes: every
/// attribute a client may set (a replacing `PUT` of the feed). Memberships
/// and the picture are not attributes here and stay as they are.
pub fn replacement(user: NewUser) -> Vec<UserChange> {
    vec![
        UserChange::UserKey(user.user_key),
        UserChange::Name(user.name),
        UserChange::Culture(user.culture),
        UserChange::Email(user.email),
        UserChange::IsTechnician(user.is_technician),
        UserChange::IsActive(user.is_active),
        UserChange::Status(user.status),
        UserChange::LastLogin(user.last_login),
    ]
}

/// A user's picture as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredPicture {
    Image { content_type: String, data: Vec<u8> },
    External(String),
}

/// The id of the user addressed by a route segment: a GUID is an id, anything
/// else a key (matched case-insensitively). `None` when absent in the tenant.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key_or_id: &str,
) -> Result<Option<Uuid>, ApiError> {
    let mut query = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::TenantId.eq(scope.tenant_id));
    query = match Uuid::try_parse(key_or_id) {
        Ok(id) => query.filter(users::Column::Id.eq(id)),
        Err(_) => query.filter(users::Column::UserKeyNorm.eq(key_or_id.to_lowercase())),
    };
    Ok(query.into_tuple::<Uuid>().one(conn).await?)
}

/// Like [`resolve`], but 404 when absent.
pub async fn require<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key_or_id: &str,
) -> Result<Uuid, ApiError> {
    resolve(conn, scope, key_or_id)
        .await?
        .ok_or_else(|| not_found(key_or_id))
}

/// Like [`require`], for a write under `precondition`: absent is 412 when
/// it has `If-Match` ([`Precondition::absent`]).
pub async fn require_for<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key_or_id: &str,
    precondition: &Precondition,
) -> Result<Uuid, ApiError> {
    resolve(conn, scope, key_or_id)
        .await?
        .ok_or_else(|| precondition.absent(not_found(key_or_id)))
}

/// The 404 of an unknown user.
pub fn not_found(key_or_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no user with id or key '{}'",
        crate::error::echo(key_or_id)
    ))
}

async fn key_taken<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key: &EntityKey,
    except: Option<Uuid>,
) -> Result<bool, ApiError> {
    let mut query = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::TenantId.eq(scope.tenant_id))
        .filter(users::Column::UserKeyNorm.eq(key.normalized()));
    if let Some(id) = except {
        query = query.filter(users::Column::Id.ne(id));
    }
    Ok(query.into_tuple::<Uuid>().one(conn).await?.is_some())
}

async fn email_taken<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    email: &Email,
    except: Option<Uuid>,
) -> Result<bool, ApiError> {
    let mut query = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::TenantId.eq(scope.tenant_id))
        .filter(users::Column::EmailNorm.eq(email.normalized()));
    if let Some(id) = except {
        query = query.filter(users::Column::Id.ne(id));
    }
    Ok(query.into_tuple::<Uuid>().one(conn).await?.is_some())
}

fn key_conflict(key: &EntityKey) -> ApiError {
    ApiError::conflict(
        format!("a user with key '{key}' already exists (keys are case-insensitive)"),
        Some("userKey"),
    )
}

fn email_conflict(email: &Email) -> ApiError {
    ApiError::conflict(
        format!("a user with e-mail '{email}' already exists (e-mails are case-insensitive)"),
        Some("email"),
    )
}

/// Creates a user with its memberships and picture in one transaction.
/// `members` says how `user.roles` and `user.groups` name them (keys for
/// API 1, ids for the feed's `@odata.bind`); `actor` is its `createdBy`
/// and `modifiedBy`. 409 for a taken key or e-mail; 400 naming every
/// unknown role and group.
pub async fn create(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    user: NewUser,
    members: Reference,
    picture: Option<Picture>,
) -> Result<Uuid, ApiError> {
    let txn = begin_write(db).await?;
    if key_taken(&txn, scope, &user.user_key, None).await? {
        return Err(key_conflict(&user.user_key));
    }
    if let Some(email) = &user.email
        && email_taken(&txn, scope, email, None).await?
    {
        return Err(email_conflict(email));
    }
    let roles = memberships::resolve(&txn, scope, Membership::Roles, members, &user.roles).await;
    let groups = memberships::resolve(&txn, scope, Membership::Groups, members, &user.groups).await;
    let (role_ids, group_ids) = match (roles, groups) {
        (Ok(r), Ok(g)) => (r, g),
        (Err(a), Err(b)) => return Err(merge_unknown(a, b)),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let id = Uuid::new_v4();
    let now = crate::domain::now();
    let (has_picture, picture_url) = match &picture {
        Some(Picture::Image { .. }) => (true, None),
        Some(Picture::External(url)) => (false, Some(url.clone())),
        None => (false, None),
    };
    let model = users::ActiveModel {
        id: Set(id),
        tenant_id: Set(scope.tenant_id),
        user_key: Set(user.user_key.as_str().to_owned()),
        user_key_norm: Set(user.user_key.normalized()),
        name: Set(user.name.into_inner()),
        culture: Set(Some(user.culture.into_inner())),
        email_norm: Set(user.email.as_ref().map(Email::normalized)),
        email: Set(user.email.map(Email::into_inner)),
        is_technician: Set(user.is_technician),
        last_login: Set(user.last_login),
        status: Set(user.status.as_i32()),
        picture_url: Set(picture_url),
        has_picture: Set(has_picture),
        is_active: Set(user.is_active),
        is_system: Set(false),
        created_by: Set(Some(actor.as_str().to_owned())),
        created_on: Set(now),
        modified_by: Set(Some(actor.as_str().to_owned())),
        modified_on: Set(now),
        version: Set(1),
    };
    users::Entity::insert(model)
        .exec_without_returning(&txn)
        .await
        .map_err(|e| {
            conflict_or(
                e,
                "a user with this key or e-mail already exists",
                "userKey",
            )
        })?;
    let roles = memberships::add(&txn, Membership::Roles, id, &role_ids).await?;
    let groups = memberships::add(&txn, Membership::Groups, id, &group_ids).await?;
    if let Some(Picture::Image { content_type, data }) = picture {
        store_image(&txn, id, content_type, data).await?;
    }
    let log: Vec<Change> = std::iter::once((Counted::Users, id, Op::Created))
        .chain(Membership::Roles.changed(&roles))
        .chain(Membership::Groups.changed(&groups))
        .collect();
    finish_write(db, txn, scope.tenant_id, &[(Counted::Users, 1)], &log).await?;
    Ok(id)
}

/// One 400 listing the unknown roles and the unknown groups.
fn merge_unknown(roles: ApiError, groups: ApiError) -> ApiError {
    let mut details: Vec<ErrorDetail> = Vec::new();
    for err in [roles, groups] {
        match err {
            ApiError::BadRequest { details: d, .. } => details.extend(d),
            other => return other,
        }
    }
    ApiError::BadRequest {
        message: format!(
            "{} unknown roles or groups: nothing was changed",
            details.len()
        ),
        target: None,
        details,
    }
}

async fn store_image<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    content_type: &str,
    data: Vec<u8>,
) -> Result<(), ApiError> {
    pictures::Entity::delete_by_id(user_id).exec(conn).await?;
    pictures::Entity::insert(pictures::ActiveModel {
        user_id: Set(user_id),
        content_type: Set(content_type.to_owned()),
        data: Set(data),
        updated_on: Set(crate::domain::now()),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Locks the user's row in `txn` and checks `precondition` against its
/// version, which it returns; 404 when the user is gone (412 with
/// `If-Match`, see [`Precondition::absent`]). `picture`: the write
/// replaces the picture, so the stored picture's ETag matches too.
async fn lock_user(
    txn: &sea_orm::DatabaseTransaction,
    scope: &TenantScope,
    user_id: Uuid,
    precondition: &Precondition,
    picture: bool,
) -> Result<i64, ApiError> {
    let version = lock_user_version(txn, scope, user_id)
        .await?
        .ok_or_else(|| precondition.absent(not_found(&user_id.to_string())))?;
    let tag = if picture && !precondition.is_unconditional() {
        // The row is locked: the picture cannot change until `txn` ends.
        pictures::Entity::find_by_id(user_id)
            .one(txn)
            .await?
            .map(|image| crate::etag::picture_tag(&image.data))
    } else {
        None
    };
    precondition.check_write_tags(version, tag.as_deref())?;
    Ok(version)
}

/// Applies attribute changes to an existing user in one transaction (all
/// or nothing), bumping `version` and `modified_on` once and recording
/// `actor` as `modifiedBy`; `precondition`
/// (If-Match) is checked with the user's row locked. Returns the new
/// version (the current one when `changes` is empty: nothing is written).
pub async fn update(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    user_id: Uuid,
    changes: Vec<UserChange>,
    precondition: &Precondition,
) -> Result<i64, ApiError> {
    // Only set replacements insert rows that concurrent calls may race on;
    // they are cheap to clone, so they are the ones retried.
    if changes
        .iter()
        .any(|c| matches!(c, UserChange::Roles(_) | UserChange::Groups(_)))
    {
        return super::retrying_on(db, || {
            try_update(db, scope, actor, user_id, changes.clone(), precondition)
        })
        .await;
    }
    try_update(db, scope, actor, user_id, changes, precondition).await
}

async fn try_update(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    user_id: Uuid,
    changes: Vec<UserChange>,
    precondition: &Precondition,
) -> Result<i64, ApiError> {
    let txn = begin_write(db).await?;
    let picture = changes.iter().any(|c| matches!(c, UserChange::Picture(_)));
    let version = lock_user(&txn, scope, user_id, precondition, picture).await?;
    if changes.is_empty() {
        return Ok(version);
    }
    let mut update = users::Entity::update_many()
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::TenantId.eq(scope.tenant_id));
    let mut log: Vec<Change> = vec![(Counted::Users, user_id, Op::Changed)];
    for change in changes {
        update = apply_change(&txn, scope, user_id, change, update, &mut log).await?;
    }
    let result = update
        .col_expr(
            users::Column::Version,
            Expr::col(users::Column::Version).add(1),
        )
        .col_expr(users::Column::ModifiedOn, Expr::value(crate::domain::now()))
        .col_expr(users::Column::ModifiedBy, Expr::value(actor.as_str()))
        .exec(&txn)
        .await
        .map_err(|e| conflict_or(e, "the key or e-mail is taken by another user", "userKey"))?;
    if result.rows_affected == 0 {
        return Err(ApiError::not_found(format!("no user with id '{user_id}'")));
    }
    finish_write(db, txn, scope.tenant_id, &[], &log).await?;
    Ok(version + 1)
}

/// Adds one change to the user's `update` (writing the rows it needs
/// besides the user's own: picture, memberships) inside `txn`; the roles
/// and groups whose members it changed go to `log`.
async fn apply_change(
    txn: &sea_orm::DatabaseTransaction,
    scope: &TenantScope,
    user_id: Uuid,
    change: UserChange,
    update: sea_orm::UpdateMany<users::Entity>,
    log: &mut Vec<Change>,
) -> Result<sea_orm::UpdateMany<users::Entity>, ApiError> {
    Ok(match change {
        UserChange::Email(email) => {
            if let Some(email) = &email
                && email_taken(txn, scope, email, Some(user_id)).await?
            {
                return Err(email_conflict(email));
            }
            update
                .col_expr(
                    users::Column::EmailNorm,
                    Expr::value(email.as_ref().map(Email::normalized)),
                )
                .col_expr(
                    users::Column::Email,
                    Expr::value(email.map(Email::into_inner)),
                )
        }
        UserChange::IsActive(v) => update.col_expr(users::Column::IsActive, Expr::value(v)),
        UserChange::IsTechnician(v) => update.col_expr(users::Column::IsTechnician, Expr::value(v)),
        UserChange::LastLogin(v) => update.col_expr(users::Column::LastLogin, Expr::value(v)),
        UserChange::Name(v) => update.col_expr(users::Column::Name, Expr::value(v.into_inner())),
        UserChange::Status(v) => update.col_expr(users::Column::Status, Expr::value(v.as_i32())),
        UserChange::Culture(v) => {
            update.col_expr(users::Column::Culture, Expr::value(v.into_inner()))
        }
        UserChange::UserKey(key) => {
            if key_taken(txn, scope, &key, Some(user_id)).await? {
                return Err(key_conflict(&key));
            }
            update
                .col_expr(users::Column::UserKeyNorm, Expr::value(key.normalized()))
                .col_expr(users::Column::UserKey, Expr::value(key.into_inner()))
        }
        UserChange::Picture(picture) => {
            let (has_picture, url) = match picture {
                Some(Picture::Image { content_type, data }) => {
                    store_image(txn, user_id, content_type, data).await?;
                    (true, None)
                }
                Some(Picture::External(url)) => {
                    pictures::Entity::delete_by_id(user_id).exec(txn).await?;
                    (false, Some(url))
                }
                None => {
                    pictures::Entity::delete_by_id(user_id).exec(txn).await?;
                    (false, None)
                }
            };
            update
                .col_expr(users::Column::HasPicture, Expr::value(has_picture))
                .col_expr(users::Column::PictureUrl, Expr::value(url))
        }
        UserChange::Roles(keys) => {
            let ids =
                memberships::resolve(txn, scope, Membership::Roles, Reference::Keys, &keys).await?;
            let changed = memberships::replace(txn, Membership::Roles, user_id, &ids).await?;
            log.extend(Membership::Roles.changed(&changed));
            update
        }
        UserChange::Groups(keys) => {
            let ids = memberships::resolve(txn, scope, Membership::Groups, Reference::Keys, &keys)
                .await?;
            let changed = memberships::replace(txn, Membership::Groups, user_id, &ids).await?;
            log.extend(Membership::Groups.changed(&changed));
            update
        }
    })
}

/// Operation of a membership call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipOp {
    Add,
    Remove,
}

/// `POST users/{userKey}/{roles|groups}/{add|addById|remove|removeById}`:
/// all-or-nothing and idempotent. Bumps the user's version when a link
/// changed (recording `actor` as its `modifiedBy`); `precondition`
/// (If-Match) is checked with the user's row locked. Returns the user's
/// version after the call.
#[allow(clippy::too_many_arguments)]
pub async fn change_memberships(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    user_key_or_id: &str,
    kind: Membership,
    op: MembershipOp,
    by: Reference,
    entries: &[String],
    precondition: &Precondition,
) -> Result<i64, ApiError> {
    super::retrying_on(db, || {
        try_change_memberships(
            db,
            scope,
            actor,
            user_key_or_id,
            kind,
            op,
            by,
            entries,
            precondition,
        )
    })
    .await
}

#[allow(clippy::too_many_arguments)]
async fn try_change_memberships(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    user_key_or_id: &str,
    kind: Membership,
    op: MembershipOp,
    by: Reference,
    entries: &[String],
    precondition: &Precondition,
) -> Result<i64, ApiError> {
    let txn = begin_write(db).await?;
    let user_id = require_for(&txn, scope, user_key_or_id, precondition).await?;
    let version = lock_user(&txn, scope, user_id, precondition, false).await?;
    let ids = memberships::resolve(&txn, scope, kind, by, entries).await?;
    let linked = match op {
        MembershipOp::Add => memberships::add(&txn, kind, user_id, &ids).await?,
        MembershipOp::Remove => memberships::remove(&txn, kind, user_id, &ids).await?,
    };
    let changed = !linked.is_empty();
    let mut log: Vec<Change> = Vec::new();
    if changed {
        memberships::touch_user(&txn, scope, actor, user_id).await?;
        log.push((Counted::Users, user_id, Op::Changed));
        log.extend(kind.changed(&linked));
    }
    finish_write(db, txn, scope.tenant_id, &[], &log).await?;
    Ok(if changed { version + 1 } else { version })
}

/// Deletes a user with its memberships, picture and invitations in one
/// transaction. `false` when the user does not exist in the tenant (412
/// with `If-Match`, see [`Precondition::absent`]); `precondition`
/// (If-Match) is checked with the user's row locked.
pub async fn delete(
    db: &impl Writer,
    scope: &TenantScope,
    user_id: Uuid,
    precondition: &Precondition,
) -> Result<bool, ApiError> {
    let txn = begin_write(db).await?;
    let Some(version) = lock_user_version(&txn, scope, user_id).await? else {
        if precondition.has_if_match() {
            return Err(precondition.absent(not_found(&user_id.to_string())));
        }
        return Ok(false);
    };
    precondition.check_write(version)?;
    // The roles and groups that lose a member change with it.
    let roles = memberships::current(&txn, Membership::Roles, user_id).await?;
    let groups = memberships::current(&txn, Membership::Groups, user_id).await?;
    user_roles::Entity::delete_many()
        .filter(user_roles::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    user_groups::Entity::delete_many()
        .filter(user_groups::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    pictures::Entity::delete_by_id(user_id).exec(&txn).await?;
    invitations::Entity::delete_many()
        .filter(invitations::Column::UserId.eq(user_id))
        .filter(invitations::Column::TenantId.eq(scope.tenant_id))
        .exec(&txn)
        .await?;
    let deleted = users::Entity::delete_many()
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::TenantId.eq(scope.tenant_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted == 0 {
        // A concurrent delete won; dropping the transaction rolls it back.
        return Ok(false);
    }
    let roles: Vec<Uuid> = roles.into_iter().collect();
    let groups: Vec<Uuid> = groups.into_iter().collect();
    let log: Vec<Change> = std::iter::once((Counted::Users, user_id, Op::Deleted))
        .chain(Membership::Roles.changed(&roles))
        .chain(Membership::Groups.changed(&groups))
        .collect();
    finish_write(
        db,
        txn,
        scope.tenant_id,
        &[(Counted::Users, -(deleted as i64))],
        &log,
    )
    .await?;
    Ok(true)
}

/// The picture of a user: the stored image, the external URL, or `None`.
/// Outer `None` when the user does not exist.
pub async fn picture(
    db: &DatabaseConnection,
    scope: &TenantScope,
    user_id: Uuid,
) -> Result<Option<Option<StoredPicture>>, ApiError> {
    let row: Option<(bool, Option<String>)> = users::Entity::find()
        .select_only()
        .column(users::Column::HasPicture)
        .column(users::Column::PictureUrl)
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::TenantId.eq(scope.tenant_id))
        .into_tuple()
        .one(db)
        .await?;
    let Some((has_picture, url)) = row else {
        return Ok(None);
    };
    if has_picture && let Some(image) = pictures::Entity::find_by_id(user_id).one(db).await? {
        return Ok(Some(Some(StoredPicture::Image {
            content_type: image.content_type,
            data: image.data,
        })));
    }
    Ok(Some(url.map(StoredPicture::External)))
}

/// The user's version, its row locked until `txn` ends (see
/// [`lock_version`]); `None` when the tenant has no such user.
async fn lock_user_version(
    txn: &sea_orm::DatabaseTransaction,
    scope: &TenantScope,
    user_id: Uuid,
) -> Result<Option<i64>, ApiError> {
    lock_version::<users::Entity>(
        txn,
        users::Column::Id,
        users::Column::TenantId,
        users::Column::Version,
        user_id,
        scope.tenant_id,
    )
    .await
}
