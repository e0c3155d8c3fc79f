//! What the tenant (and the other tenants) already hold, checked before
//! anything is written, so that a conflict is reported with the line of
//! the offending row instead of as a failed INSERT.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_query::{Alias, Expr, ExprTrait, Query};
use uuid::Uuid;

use super::*;

/// Fails on the first row whose id already exists in `table` (by then only
/// possible in another tenant: the tenant's own ids were checked before).
pub(super) async fn check_ids_elsewhere<T>(
    db: &DatabaseConnection,
    table: &str,
    file: &str,
    parsed: &Parsed<T>,
    id_of: impl Fn(&T) -> Uuid,
) -> anyhow::Result<()> {
    let mut taken = HashSet::new();
    for chunk in parsed.rows.chunks(1000) {
        let ids: Vec<Uuid> = chunk.iter().map(&id_of).collect();
        let q = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("id")).is_in(ids))
            .to_owned();
        for row in db.query_all(&q).await? {
            taken.insert(row.try_get::<Uuid>("", "id")?);
        }
    }
    if taken.is_empty() {
        return Ok(());
    }
    for (row, &line) in parsed.rows.iter().zip(&parsed.lines) {
        let id = id_of(row);
        if taken.contains(&id) {
            let m = format!(
                "the ID {id} is already used in another tenant of this database (imported ids are kept, so the same files cannot be imported into two tenants)"
            );
            return Err(Existing::conflict(file, parsed, line, "ID", m).into());
        }
    }
    Ok(())
}

/// What the tenant already holds, so that conflicts are reported with the
/// line of the offending row instead of as a failed INSERT.
#[derive(Default)]
pub(super) struct Existing {
    pub(super) user_ids: HashSet<Uuid>,
    pub(super) user_keys: HashSet<String>,
    pub(super) user_emails: HashSet<String>,
    pub(super) role_ids: HashSet<Uuid>,
    pub(super) role_keys: HashSet<String>,
    pub(super) group_ids: HashSet<Uuid>,
    pub(super) group_keys: HashSet<String>,
    pub(super) user_roles: HashSet<LinkRow>,
    pub(super) user_groups: HashSet<LinkRow>,
}

impl Existing {
    pub(super) async fn load(db: &DatabaseConnection, tenant_id: Uuid) -> anyhow::Result<Self> {
        let mut me = Self::default();
        let tenant = || Expr::col(Alias::new("tenant_id")).eq(tenant_id);
        let q = Query::select()
            .columns(["id", "user_key_norm", "email_norm"].map(Alias::new))
            .from(Alias::new("users"))
            .and_where(tenant())
            .to_owned();
        for row in db.query_all(&q).await? {
            me.user_ids.insert(row.try_get("", "id")?);
            me.user_keys.insert(row.try_get("", "user_key_norm")?);
            if let Some(e) = row.try_get::<Option<String>>("", "email_norm")? {
                me.user_emails.insert(e);
            }
        }
        for (table, key, ids, keys) in [
            (
                "roles",
                "role_key_norm",
                &mut me.role_ids,
                &mut me.role_keys,
            ),
            (
                "groups",
                "group_key_norm",
                &mut me.group_ids,
                &mut me.group_keys,
            ),
        ] {
            let q = Query::select()
                .columns(["id", key].map(Alias::new))
                .from(Alias::new(table))
                .and_where(tenant())
                .to_owned();
            for row in db.query_all(&q).await? {
                ids.insert(row.try_get("", "id")?);
                keys.insert(row.try_get("", key)?);
            }
        }
        for (table, other, links) in [
            ("user_roles", "role_id", &mut me.user_roles),
            ("user_groups", "group_id", &mut me.user_groups),
        ] {
            if me.user_ids.is_empty() {
                break;
            }
            let q = Query::select()
                .expr_as(
                    Expr::col((Alias::new("l"), Alias::new("user_id"))),
                    Alias::new("user_id"),
                )
                .expr_as(
                    Expr::col((Alias::new("l"), Alias::new(other))),
                    Alias::new("other_id"),
                )
                .from_as(Alias::new(table), Alias::new("l"))
                .inner_join(
                    Alias::new("users"),
                    Expr::col((Alias::new("users"), Alias::new("id")))
                        .equals((Alias::new("l"), Alias::new("user_id"))),
                )
                .and_where(Expr::col((Alias::new("users"), Alias::new("tenant_id"))).eq(tenant_id))
                .to_owned();
            for row in db.query_all(&q).await? {
                links.insert(LinkRow {
                    user_id: row.try_get("", "user_id")?,
                    other_id: row.try_get("", "other_id")?,
                });
            }
        }
        Ok(me)
    }

    pub(super) fn conflict<T>(
        file: &str,
        parsed: &Parsed<T>,
        line: u64,
        column: &str,
        message: String,
    ) -> ImportError {
        let (column, header) = parsed.column(column);
        ImportError::Field {
            file: file.to_owned(),
            line,
            column,
            header,
            message,
        }
    }

    pub(super) fn check_users(&self, parsed: &Parsed<UserRow>) -> Result<(), ImportError> {
        for (row, &line) in parsed.rows.iter().zip(&parsed.lines) {
            if self.user_ids.contains(&row.id) {
                let m = format!("a user with ID {} already exists in the tenant", row.id);
                return Err(Self::conflict(USERS_FILE, parsed, line, "ID", m));
            }
            if self.user_keys.contains(&row.user_key.to_lowercase()) {
                let m = format!("userKey '{}' already exists in the tenant", row.user_key);
                return Err(Self::conflict(USERS_FILE, parsed, line, "userKey", m));
            }
            if let Some(email) = &row.email
                && self.user_emails.contains(&email.to_lowercase())
            {
                let m = format!("email '{email}' already belongs to a user of the tenant");
                return Err(Self::conflict(USERS_FILE, parsed, line, "email", m));
            }
        }
        Ok(())
    }

    pub(super) fn check_roles(&self, parsed: &Parsed<RoleRow>) -> Result<(), ImportError> {
        for (row, &line) in parsed.rows.iter().zip(&parsed.lines) {
            if self.role_ids.contains(&row.id) {
                let m = format!("a role with ID {} already exists in the tenant", row.id);
                return Err(Self::conflict(ROLES_FILE, parsed, line, "ID", m));
            }
            if self.role_keys.contains(&row.role_key.to_lowercase()) {
                let m = format!("roleKey '{}' already exists in the tenant", row.role_key);
                return Err(Self::conflict(ROLES_FILE, parsed, line, "roleKey", m));
            }
        }
        Ok(())
    }

    pub(super) fn check_groups(&self, parsed: &Parsed<GroupRow>) -> Result<(), ImportError> {
        for (row, &line) in parsed.rows.iter().zip(&parsed.lines) {
            if self.group_ids.contains(&row.id) {
                let m = format!("a group with ID {} already exists in the tenant", row.id);
                return Err(Self::conflict(GROUPS_FILE, parsed, line, "ID", m));
            }
            if self.group_keys.contains(&row.group_key.to_lowercase()) {
                let m = format!("groupKey '{}' already exists in the tenant", row.group_key);
                return Err(Self::conflict(GROUPS_FILE, parsed, line, "groupKey", m));
            }
        }
        Ok(())
    }

    pub(super) fn check_links(
        &self,
        file: &str,
        parsed: &Parsed<LinkRow>,
        existing: &HashSet<LinkRow>,
    ) -> Result<(), ImportError> {
        for (row, &line) in parsed.rows.iter().zip(&parsed.lines) {
            if existing.contains(row) {
                let m = "this membership already exists in the tenant".to_owned();
                return Err(Self::conflict(file, parsed, line, "user_ID", m));
            }
        }
        Ok(())
    }
}
