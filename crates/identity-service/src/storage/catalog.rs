//! Writes and key lookups shared by the tenant catalogs that users are
//! members of (roles and groups): each is a table of records with an id, a
//! tenant, a case-insensitive key and a few attributes, plus a membership
//! table that links it to users.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Value};
use uuid::Uuid;

use super::changes::{self, Op};
use super::counters::Counted;
use super::entities::users;
use super::{Writer, begin_write, conflict_or, finish_write, lock_version};
use crate::domain::{Actor, EntityKey};
use crate::error::ApiError;
use crate::etag::Precondition;
use crate::tenancy::TenantScope;

/// A column of the catalog table of `C`.
pub type Column<C> = <<C as Catalog>::Entity as EntityTrait>::Column;

/// A record of the catalog table of `C`, ready to insert.
pub type Record<C> = <<C as Catalog>::Entity as EntityTrait>::ActiveModel;

/// One catalog: its table, the columns the shared code needs, its wording
/// in error messages, and its membership table.
pub trait Catalog: 'static {
    /// The table of the catalog's records.
    type Entity: EntityTrait;
    /// The table linking users to the catalog's records.
    type Membership: EntityTrait;
    /// A validated record to create.
    type New;
    /// A change of one attribute other than the key.
    type Attribute: Clone;

    /// The singular noun of messages: `role`.
    const NOUN: &'static str;
    /// The key's name in bodies, paths and error targets: `roleKey`.
    const KEY_ATTRIBUTE: &'static str;

    const ID: Column<Self>;
    const TENANT_ID: Column<Self>;
    const KEY: Column<Self>;
    /// The lower-cased key the lookups compare with.
    const KEY_NORM: Column<Self>;
    const VERSION: Column<Self>;
    const MODIFIED_ON: Column<Self>;
    const MODIFIED_BY: Column<Self>;
    /// The membership table's column holding this catalog's record id.
    const MEMBER_ID: <Self::Membership as EntityTrait>::Column;
    /// The membership table's column holding the user's id.
    const MEMBER_USER_ID: <Self::Membership as EntityTrait>::Column;
    /// The row counter of the catalog's entity set.
    const COUNTED: Counted;

    /// The key of a record to create.
    fn key(new: &Self::New) -> &EntityKey;

    /// The first version of a record, created `now` by `actor`.
    fn record(
        id: Uuid,
        tenant_id: Uuid,
        new: Self::New,
        now: DateTime<Utc>,
        actor: &Actor,
    ) -> Record<Self>;

    /// The column an attribute change writes, and its new value.
    fn assignment(attribute: Self::Attribute) -> (Column<Self>, Value);

    /// The key and every attribute of `new`, as changes that make an
    /// existing record what `new` describes (a replacing `PUT`).
    fn replacement(new: Self::New) -> (EntityKey, Vec<Self::Attribute>);
}

/// The changes that make an existing record what `new` describes.
pub fn replacement<C: Catalog>(new: C::New) -> Vec<Change<C::Attribute>> {
    let (key, attributes) = C::replacement(new);
    std::iter::once(Change::Key(key))
        .chain(attributes.into_iter().map(Change::Attribute))
        .collect()
}

/// One attribute change of `PUT {set}/{key}/{attr}`.
#[derive(Debug, Clone)]
pub enum Change<A> {
    Key(EntityKey),
    Attribute(A),
}

/// The id of the record addressed by a route segment (GUID = id, else key,
/// case-insensitively); `None` when absent in the tenant.
pub async fn resolve<C: Catalog>(
    conn: &impl ConnectionTrait,
    scope: &TenantScope,
    key_or_id: &str,
) -> Result<Option<Uuid>, ApiError> {
    let mut query = C::Entity::find()
        .select_only()
        .column(C::ID)
        .filter(C::TENANT_ID.eq(scope.tenant_id));
    query = match Uuid::try_parse(key_or_id) {
        Ok(id) => query.filter(C::ID.eq(id)),
        Err(_) => query.filter(C::KEY_NORM.eq(key_or_id.to_lowercase())),
    };
    Ok(query.into_tuple::<Uuid>().one(conn).await?)
}

/// The 404 of an unknown record.
pub fn not_found<C: Catalog>(key_or_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no {} with id or key '{}'",
        C::NOUN,
        crate::error::echo(key_or_id)
    ))
}

async fn key_taken<C: Catalog>(
    conn: &impl ConnectionTrait,
    scope: &TenantScope,
    key: &EntityKey,
    except: Option<Uuid>,
) -> Result<bool, ApiError> {
    let mut query = C::Entity::find()
        .select_only()
        .column(C::ID)
        .filter(C::TENANT_ID.eq(scope.tenant_id))
        .filter(C::KEY_NORM.eq(key.normalized()));
    if let Some(id) = except {
        query = query.filter(C::ID.ne(id));
    }
    Ok(query.into_tuple::<Uuid>().one(conn).await?.is_some())
}

fn key_conflict<C: Catalog>(key: &EntityKey) -> ApiError {
    ApiError::conflict(
        format!(
            "a {} with key '{key}' already exists (keys are case-insensitive)",
            C::NOUN
        ),
        Some(C::KEY_ATTRIBUTE),
    )
}

/// Creates a record, `actor` its `createdBy` and `modifiedBy`; 409 when
/// the key is taken.
pub async fn create<C: Catalog>(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    new: C::New,
) -> Result<Uuid, ApiError> {
    let txn = begin_write(db).await?;
    if key_taken::<C>(&txn, scope, C::key(&new), None).await? {
        return Err(key_conflict::<C>(C::key(&new)));
    }
    let id = Uuid::new_v4();
    C::Entity::insert(C::record(
        id,
        scope.tenant_id,
        new,
        crate::domain::now(),
        actor,
    ))
    .exec_without_returning(&txn)
    .await
    .map_err(|e| {
        conflict_or(
            e,
            format!("a {} with this key already exists", C::NOUN),
            C::KEY_ATTRIBUTE,
        )
    })?;
    finish_write(
        db,
        txn,
        scope.tenant_id,
        &[(C::COUNTED, 1)],
        &[(C::COUNTED, id, Op::Created)],
    )
    .await?;
    Ok(id)
}

/// Locks the record's row in `txn` and checks `precondition` against its
/// version, which it returns; `None` when the record is gone.
async fn lock<C: Catalog>(
    txn: &sea_orm::DatabaseTransaction,
    scope: &TenantScope,
    id: Uuid,
    precondition: &Precondition,
) -> Result<Option<i64>, ApiError> {
    let version =
        lock_version::<C::Entity>(txn, C::ID, C::TENANT_ID, C::VERSION, id, scope.tenant_id)
            .await?;
    if let Some(version) = version {
        precondition.check_write(version)?;
    }
    Ok(version)
}

/// Applies attribute changes in one transaction (all or nothing), bumping
/// `version` and `modified_on` once and recording `actor` as `modifiedBy`
/// (of the members too, on a new key); `precondition` (If-Match) is
/// checked with the record's row locked. Returns the new version (the current one
/// when `changes` is empty: nothing is written).
pub async fn update<C: Catalog>(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    id: Uuid,
    changes: Vec<Change<C::Attribute>>,
    precondition: &Precondition,
) -> Result<i64, ApiError> {
    // A rename bumps the members too: retried like the other writes that
    // touch many rows.
    super::retrying_on(db, || {
        try_update::<C>(db, scope, actor, id, changes.clone(), precondition)
    })
    .await
}

async fn try_update<C: Catalog>(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    id: Uuid,
    changes: Vec<Change<C::Attribute>>,
    precondition: &Precondition,
) -> Result<i64, ApiError> {
    let txn = begin_write(db).await?;
    let version = lock::<C>(&txn, scope, id, precondition)
        .await?
        .ok_or_else(|| precondition.absent(not_found::<C>(&id.to_string())))?;
    if changes.is_empty() {
        return Ok(version);
    }
    // A user's `$filter` over its roles and groups reads every property
    // of theirs: any change is a change of every member for delta links
    // (the record is locked, so no membership in it is added meanwhile).
    // A user's record lists its roles' and groups' keys: a new key also
    // bumps the members' versions (and their `modifiedBy`).
    let members = if changes.iter().any(|c| matches!(c, Change::Key(_))) {
        touch_members::<C>(&txn, scope, actor, id).await?
    } else {
        members::<C>(&txn, id).await?
    };
    let mut log: Vec<changes::Change> = members
        .into_iter()
        .map(|user| (Counted::Users, user, Op::Changed))
        .collect();
    let mut update = C::Entity::update_many()
        .filter(C::ID.eq(id))
        .filter(C::TENANT_ID.eq(scope.tenant_id));
    for change in changes {
        update = match change {
            Change::Key(key) => {
                if key_taken::<C>(&txn, scope, &key, Some(id)).await? {
                    return Err(key_conflict::<C>(&key));
                }
                update
                    .col_expr(C::KEY_NORM, Expr::value(key.normalized()))
                    .col_expr(C::KEY, Expr::value(key.into_inner()))
            }
            Change::Attribute(attribute) => {
                let (column, value) = C::assignment(attribute);
                update.col_expr(column, Expr::value(value))
            }
        };
    }
    let result = update
        .col_expr(C::VERSION, Expr::col(C::VERSION).add(1))
        .col_expr(C::MODIFIED_ON, Expr::value(crate::domain::now()))
        .col_expr(C::MODIFIED_BY, Expr::value(actor.as_str()))
        .exec(&txn)
        .await
        .map_err(|e| {
            conflict_or(
                e,
                format!("the key is taken by another {}", C::NOUN),
                C::KEY_ATTRIBUTE,
            )
        })?;
    if result.rows_affected == 0 {
        return Err(not_found::<C>(&id.to_string()));
    }
    log.push((C::COUNTED, id, Op::Changed));
    finish_write(db, txn, scope.tenant_id, &[], &log).await?;
    Ok(version + 1)
}

/// The ids of the users in record `id`.
async fn members<C: Catalog>(
    txn: &sea_orm::DatabaseTransaction,
    id: Uuid,
) -> Result<Vec<Uuid>, ApiError> {
    Ok(C::Membership::find()
        .select_only()
        .column(C::MEMBER_USER_ID)
        .filter(C::MEMBER_ID.eq(id))
        .into_tuple()
        .all(txn)
        .await?)
}

/// Users whose version one statement bumps at most (bound values).
const TOUCH_CHUNK: usize = 1000;

/// Bumps `version` and `modified_on` of every user in record `id` (whose
/// row the caller has locked in `txn`), `actor` their `modifiedBy`: their
/// records changed with it. Returns their ids.
async fn touch_members<C: Catalog>(
    txn: &sea_orm::DatabaseTransaction,
    scope: &TenantScope,
    actor: &Actor,
    id: Uuid,
) -> Result<Vec<Uuid>, ApiError> {
    let members = members::<C>(txn, id).await?;
    let now = crate::domain::now();
    for chunk in members.chunks(TOUCH_CHUNK) {
        users::Entity::update_many()
            .col_expr(
                users::Column::Version,
                Expr::col(users::Column::Version).add(1),
            )
            .col_expr(users::Column::ModifiedOn, Expr::value(now))
            .col_expr(users::Column::ModifiedBy, Expr::value(actor.as_str()))
            .filter(users::Column::TenantId.eq(scope.tenant_id))
            .filter(users::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(members)
}

/// Deletes a record and every membership in it, bumping the version of
/// each user that loses it (a membership change of theirs, by `actor`). `false` when
/// absent (412 with `If-Match`, see [`Precondition::absent`]); `precondition` (If-Match) is checked with the record's row
/// locked, which also keeps new memberships in it from being added
/// meanwhile (their foreign key check waits for the lock).
pub async fn delete<C: Catalog>(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    id: Uuid,
    precondition: &Precondition,
) -> Result<bool, ApiError> {
    super::retrying_on(db, || try_delete::<C>(db, scope, actor, id, precondition)).await
}

async fn try_delete<C: Catalog>(
    db: &impl Writer,
    scope: &TenantScope,
    actor: &Actor,
    id: Uuid,
    precondition: &Precondition,
) -> Result<bool, ApiError> {
    let txn = begin_write(db).await?;
    if lock::<C>(&txn, scope, id, precondition).await?.is_none() {
        if precondition.has_if_match() {
            return Err(precondition.absent(not_found::<C>(&id.to_string())));
        }
        return Ok(false);
    }
    let members = touch_members::<C>(&txn, scope, actor, id).await?;
    C::Membership::delete_many()
        .filter(C::MEMBER_ID.eq(id))
        .exec(&txn)
        .await?;
    let deleted = C::Entity::delete_many()
        .filter(C::ID.eq(id))
        .filter(C::TENANT_ID.eq(scope.tenant_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted == 0 {
        // A concurrent delete won; dropping the transaction rolls it back.
        return Ok(false);
    }
    let mut log: Vec<changes::Change> = members
        .into_iter()
        .map(|user| (Counted::Users, user, Op::Changed))
        .collect();
    log.push((C::COUNTED, id, Op::Deleted));
    finish_write(
        db,
        txn,
        scope.tenant_id,
        &[(C::COUNTED, -(deleted as i64))],
        &log,
    )
    .await?;
    Ok(true)
}
