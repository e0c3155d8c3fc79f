//! Role and group memberships of users: resolving keys or ids (with one 400
//! listing every unknown entry) and adding, removing or replacing links.

use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::changes::{Change, Op};
use super::counters::Counted;
use super::entities::{groups, roles, user_groups, user_roles, users};
use crate::domain::Actor;
use crate::error::{ApiError, ErrorDetail};
use crate::tenancy::TenantScope;

/// Rows per `IN (...)` list, well below every backend's parameter limit.
const CHUNK: usize = 500;

/// Which membership a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Roles,
    Groups,
}

impl Membership {
    /// `role` / `group`, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Membership::Roles => "role",
            Membership::Groups => "group",
        }
    }

    /// The JSON property (`roles` / `groups`).
    pub fn property(self) -> &'static str {
        match self {
            Membership::Roles => "roles",
            Membership::Groups => "groups",
        }
    }

    /// The entity set whose records the user is linked to.
    pub fn counted(self) -> Counted {
        match self {
            Membership::Roles => Counted::Roles,
            Membership::Groups => Counted::Groups,
        }
    }

    /// The change-log entries of the records whose member list changed
    /// (`ids`): a role's or group's `$filter` over `users` reads it, so
    /// each counts as changed for delta links.
    pub fn changed(self, ids: &[Uuid]) -> impl Iterator<Item = Change> + '_ {
        ids.iter().map(move |&id| (self.counted(), id, Op::Changed))
    }
}

/// How the entries of a membership body name their targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    Keys,
    Ids,
}

/// Resolves role/group keys (case-insensitively) or ids within the tenant.
/// Any unknown entry fails the whole call with a 400 whose `details` name
/// each one. Duplicates collapse; the order of first appearance is kept.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    kind: Membership,
    by: Reference,
    entries: &[String],
) -> Result<Vec<Uuid>, ApiError> {
    let mut unknown: Vec<ErrorDetail> = Vec::new();
    let mut resolved: Vec<Uuid> = Vec::new();
    match by {
        Reference::Keys => {
            let norms: Vec<String> = entries.iter().map(|e| e.to_lowercase()).collect();
            let unique: BTreeSet<&String> = norms.iter().collect();
            let mut found: HashMap<String, Uuid> = HashMap::new();
            let unique: Vec<String> = unique.into_iter().cloned().collect();
            for chunk in unique.chunks(CHUNK) {
                let rows: Vec<(Uuid, String)> = match kind {
                    Membership::Roles => {
                        roles::Entity::find()
                            .select_only()
                            .column(roles::Column::Id)
                            .column(roles::Column::RoleKeyNorm)
                            .filter(roles::Column::TenantId.eq(scope.tenant_id))
                            .filter(roles::Column::RoleKeyNorm.is_in(chunk.iter().cloned()))
                            .into_tuple()
                            .all(conn)
                            .await?
                    }
                    Membership::Groups => {
                        groups::Entity::find()
                            .select_only()
                            .column(groups::Column::Id)
                            .column(groups::Column::GroupKeyNorm)
                            .filter(groups::Column::TenantId.eq(scope.tenant_id))
                            .filter(groups::Column::GroupKeyNorm.is_in(chunk.iter().cloned()))
                            .into_tuple()
                            .all(conn)
                            .await?
                    }
                };
                found.extend(rows.into_iter().map(|(id, norm)| (norm, id)));
            }
            for (entry, norm) in entries.iter().zip(&norms) {
                match found.get(norm) {
                    Some(id) => push_unique(&mut resolved, *id),
                    None => unknown.push(unknown_detail(kind, "key", entry)),
                }
            }
        }
        Reference::Ids => {
            let mut parsed: Vec<(usize, Uuid)> = Vec::new();
            for (i, entry) in entries.iter().enumerate() {
                match Uuid::try_parse(entry.trim()) {
                    Ok(id) => parsed.push((i, id)),
                    Err(_) => unknown.push(ErrorDetail::new(
                        "InvalidId",
                        format!("'{}' is not a GUID", crate::error::echo(entry)),
                        Some(entry.clone()),
                    )),
                }
            }
            let ids: Vec<Uuid> = parsed.iter().map(|(_, id)| *id).collect();
            let mut existing: BTreeSet<Uuid> = BTreeSet::new();
            for chunk in ids.chunks(CHUNK) {
                let rows: Vec<Uuid> = match kind {
                    Membership::Roles => {
                        roles::Entity::find()
                            .select_only()
                            .column(roles::Column::Id)
                            .filter(roles::Column::TenantId.eq(scope.tenant_id))
                            .filter(roles::Column::Id.is_in(chunk.iter().copied()))
                            .into_tuple()
                            .all(conn)
                            .await?
                    }
                    Membership::Groups => {
                        groups::Entity::find()
                            .select_only()
                            .column(groups::Column::Id)
                            .filter(groups::Column::TenantId.eq(scope.tenant_id))
                            .filter(groups::Column::Id.is_in(chunk.iter().copied()))
                            .into_tuple()
                            .all(conn)
                            .await?
                    }
                };
                existing.extend(rows);
            }
            for (i, id) in parsed {
                if existing.contains(&id) {
                    push_unique(&mut resolved, id);
                } else {
                    unknown.push(unknown_detail(kind, "id", &entries[i]));
                }
            }
        }
    }
    if unknown.is_empty() {
        Ok(resolved)
    } else {
        Err(unknown_entries(kind, unknown))
    }
}

fn push_unique(list: &mut Vec<Uuid>, id: Uuid) {
    if !list.contains(&id) {
        list.push(id);
    }
}

fn unknown_detail(kind: Membership, what: &str, entry: &str) -> ErrorDetail {
    let code = match kind {
        Membership::Roles => "UnknownRole",
        Membership::Groups => "UnknownGroup",
    };
    ErrorDetail::new(
        code,
        format!(
            "no {} with {what} '{}'",
            kind.noun(),
            crate::error::echo(entry)
        ),
        Some(entry.to_owned()),
    )
}

/// The 400 for unknown role/group entries.
pub fn unknown_entries(kind: Membership, details: Vec<ErrorDetail>) -> ApiError {
    ApiError::BadRequest {
        message: format!(
            "{} unknown {}{}: nothing was changed",
            details.len(),
            kind.noun(),
            if details.len() == 1 { "" } else { "s" }
        ),
        target: Some(kind.property().to_owned()),
        details,
    }
}

/// The ids a user is linked to.
pub async fn current<C: ConnectionTrait>(
    conn: &C,
    kind: Membership,
    user_id: Uuid,
) -> Result<BTreeSet<Uuid>, ApiError> {
    let ids: Vec<Uuid> = match kind {
        Membership::Roles => {
            user_roles::Entity::find()
                .select_only()
                .column(user_roles::Column::RoleId)
                .filter(user_roles::Column::UserId.eq(user_id))
                .into_tuple()
                .all(conn)
                .await?
        }
        Membership::Groups => {
            user_groups::Entity::find()
                .select_only()
                .column(user_groups::Column::GroupId)
                .filter(user_groups::Column::UserId.eq(user_id))
                .into_tuple()
                .all(conn)
                .await?
        }
    };
    Ok(ids.into_iter().collect())
}

async fn insert_links<C: ConnectionTrait>(
    conn: &C,
    kind: Membership,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<(), ApiError> {
    for chunk in ids.chunks(CHUNK) {
        match kind {
            Membership::Roles => {
                user_roles::Entity::insert_many(chunk.iter().map(|id| user_roles::ActiveModel {
                    user_id: sea_orm::ActiveValue::Set(user_id),
                    role_id: sea_orm::ActiveValue::Set(*id),
                }))
                // A concurrent call may have linked the same pair since we
                // looked: that is the state we want, not an error.
                .on_conflict_do_nothing()
                .exec_without_returning(conn)
                .await?;
            }
            Membership::Groups => {
                user_groups::Entity::insert_many(chunk.iter().map(|id| user_groups::ActiveModel {
                    user_id: sea_orm::ActiveValue::Set(user_id),
                    group_id: sea_orm::ActiveValue::Set(*id),
                }))
                // A concurrent call may have linked the same pair since we
                // looked: that is the state we want, not an error.
                .on_conflict_do_nothing()
                .exec_without_returning(conn)
                .await?;
            }
        }
    }
    Ok(())
}

async fn delete_links<C: ConnectionTrait>(
    conn: &C,
    kind: Membership,
    user_id: Uuid,
    ids: Option<&[Uuid]>,
) -> Result<u64, ApiError> {
    let mut removed = 0;
    match ids {
        None => {
            removed += match kind {
                Membership::Roles => {
                    user_roles::Entity::delete_many()
                        .filter(user_roles::Column::UserId.eq(user_id))
                        .exec(conn)
                        .await?
                        .rows_affected
                }
                Membership::Groups => {
                    user_groups::Entity::delete_many()
                        .filter(user_groups::Column::UserId.eq(user_id))
                        .exec(conn)
                        .await?
                        .rows_affected
                }
            }
        }
        Some(ids) => {
            for chunk in ids.chunks(CHUNK) {
                removed += match kind {
                    Membership::Roles => {
                        user_roles::Entity::delete_many()
                            .filter(user_roles::Column::UserId.eq(user_id))
                            .filter(user_roles::Column::RoleId.is_in(chunk.iter().copied()))
                            .exec(conn)
                            .await?
                            .rows_affected
                    }
                    Membership::Groups => {
                        user_groups::Entity::delete_many()
                            .filter(user_groups::Column::UserId.eq(user_id))
                            .filter(user_groups::Column::GroupId.is_in(chunk.iter().copied()))
                            .exec(conn)
                            .await?
                            .rows_affected
                    }
                }
            }
        }
    }
    Ok(removed)
}

/// Links the user to `ids` it is not yet linked to. Returns the ids it
/// linked (empty when nothing changed).
pub async fn add<C: ConnectionTrait>(
    conn: &C,
    kind: Membership,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, ApiError> {
    let have = current(conn, kind, user_id).await?;
    let missing: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| !have.contains(id))
        .collect();
    insert_links(conn, kind, user_id, &missing).await?;
    Ok(missing)
}

/// Unlinks the user from `ids`. Returns the ids it unlinked (empty when
/// nothing changed).
pub async fn remove<C: ConnectionTrait>(
    conn: &C,
    kind: Membership,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, ApiError> {
    let have = current(conn, kind, user_id).await?;
    let linked: Vec<Uuid> = ids.iter().copied().filter(|id| have.contains(id)).collect();
    if delete_links(conn, kind, user_id, Some(&linked)).await? == 0 {
        return Ok(Vec::new());
    }
    Ok(linked)
}

/// Makes `ids` the user's whole set. Returns the ids it unlinked and
/// linked (empty when nothing changed).
pub async fn replace<C: ConnectionTrait>(
    conn: &C,
    kind: Membership,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, ApiError> {
    let have = current(conn, kind, user_id).await?;
    let want: BTreeSet<Uuid> = ids.iter().copied().collect();
    if have == want {
        return Ok(Vec::new());
    }
    let gone: Vec<Uuid> = have.difference(&want).copied().collect();
    let new: Vec<Uuid> = want.difference(&have).copied().collect();
    delete_links(conn, kind, user_id, Some(&gone)).await?;
    insert_links(conn, kind, user_id, &new).await?;
    Ok(gone.into_iter().chain(new).collect())
}

/// Bumps `version` and `modified_on` of a user (in the tenant), with
/// `actor` as its `modifiedBy`.
pub async fn touch_user<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    actor: &Actor,
    user_id: Uuid,
) -> Result<(), ApiError> {
    users::Entity::update_many()
        .col_expr(
            users::Column::Version,
            Expr::col(users::Column::Version).add(1),
        )
        .col_expr(users::Column::ModifiedOn, Expr::value(crate::domain::now()))
        .col_expr(users::Column::ModifiedBy, Expr::value(actor.as_str()))
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::TenantId.eq(scope.tenant_id))
        .exec(conn)
        .await?;
    Ok(())
}
