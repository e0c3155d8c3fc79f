//! Demo data: a tenant `demo`/`main` with about a thousand generated users,
//! their roles and groups ([`generator`]: the tables of `sample_data`, its own PRNG), seeded
//! by `serve` on an empty database and by `odata-users demo [--users N]`.

pub mod generator;

use anyhow::Context;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, SqlErr,
    TransactionTrait,
};

use crate::auth::Scopes;
use crate::configuration::Settings;
use crate::import::{Dataset, ensure_tenant, write_dataset};
use crate::storage::entities::{tenants, users};

/// The demo tenant key.
pub const DEMO_TENANT: &str = "demo";
/// The demo organization key.
pub const DEMO_ORG: &str = "main";

/// What was seeded, for the start-up notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoInfo {
    pub tenant_key: String,
    pub org_key: String,
    pub users: usize,
    pub roles: usize,
    pub groups: usize,
    /// A user that exists in the demo data, for the example commands.
    pub sample_user_key: String,
    /// A role that exists in the demo data, for the example commands.
    pub sample_role_key: String,
    /// The demo client created with the data (both scopes).
    pub client: Option<DemoClient>,
}

/// The credentials of the demo client, printed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoClient {
    pub client_id: String,
    pub client_secret: String,
}

impl DemoInfo {
    /// The notes `serve` prints after its listening line: the demo client's
    /// credentials (shown only now), base URLs and ready-to-paste curl
    /// commands against the demo tenant (a token first, then the API).
    pub fn notes(&self, base_url: &str) -> String {
        let base = base_url.trim_end_matches('/');
        let api = format!("{base}/api/{}/{}/identity", self.tenant_key, self.org_key);
        let feed = format!("{base}/api/{}/{}/odata", self.tenant_key, self.org_key);
        let user = &self.sample_user_key;
        let role = &self.sample_role_key;
        let (credentials, id, secret) = match &self.client {
            Some(client) => (
                format!(
                    "demo client (the secret is shown only now; `odata-users clients create --tenant {t} --org {o}` makes more):\n\
                     \x20 client id:     {id}\n\
                     \x20 client secret: {secret}\n",
                    t = self.tenant_key,
                    o = self.org_key,
                    id = client.client_id,
                    secret = client.client_secret,
                ),
                client.client_id.as_str(),
                client.client_secret.as_str(),
            ),
            None => (String::new(), "CLIENT_ID", "CLIENT_SECRET"),
        };
        let auth = "-H \"Authorization: Bearer $TOKEN\"";
        format!(
            "demo data: tenant '{tenant}', organization '{org}': {users} users, {roles} roles, {groups} groups\n\
             {credentials}\
             API 1 base:    {api}\n\
             OData v4 feed: {feed} (Bearer token, or HTTP Basic with the client id and secret)\n\
             try (the first command fetches an access token, valid 15 minutes by default):\n\
             \x20 TOKEN=$(curl -s -u '{id}:{secret}' -d grant_type=client_credentials '{base}/connect/token' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n\
             \x20 curl -sG '{api}/users/odata' {auth} --data-urlencode '$top=5' --data-urlencode '$select=userKey,name,status'\n\
             \x20 curl -sG '{api}/users/odata' {auth} --data-urlencode '$filter=status eq 3 and roles/any(r: r/roleKey eq '\\''{role}'\\'')' --data-urlencode '$count=true'\n\
             \x20 curl -s '{api}/users/{user}' {auth}\n\
             \x20 curl -s -X POST '{api}/users' {auth} -H 'Content-Type: application/json' -d '{{\"userKey\":\"jane.doe\",\"name\":\"Jane Doe\",\"isTechnician\":false,\"roles\":[\"{role}\"]}}'\n\
             \x20 curl -s -X PUT '{api}/users/jane.doe/status' {auth} -H 'Content-Type: application/json' -d '2'\n\
             \x20 curl -s -X POST '{api}/users/sendInvitation' {auth} -H 'Content-Type: application/json' -d '{{\"email\":\"new.person@example.com\"}}'\n\
             \x20 curl -s '{api}/roles/odata' {auth}\n\
             \x20 curl -sG '{feed}/Users' -u '{id}:{secret}' --data-urlencode '$top=3' --data-urlencode '$expand=roles'\n\
             \x20 curl -s '{feed}/$metadata' -u '{id}:{secret}'",
            tenant = self.tenant_key,
            org = self.org_key,
            users = self.users,
            roles = self.roles,
            groups = self.groups,
        )
    }

    /// Prints [`DemoInfo::notes`] on stdout.
    pub fn print_notes(&self, base_url: &str) {
        println!("{}", self.notes(base_url));
    }
}

/// Seeds the demo tenant when demo data is enabled and the database has no
/// tenant at all; returns what to print, or `None` when nothing was seeded
/// (including when another instance seeded it at the same moment).
pub async fn seed_if_empty(
    db: &DatabaseConnection,
    settings: &Settings,
) -> anyhow::Result<Option<DemoInfo>> {
    if !settings.demo {
        return Ok(None);
    }
    if tenants::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    match seed(db, settings.demo_users).await {
        Ok(info) => Ok(Some(info)),
        Err(err) if is_unique_violation(&err) => {
            tracing::info!("demo data was seeded concurrently by another instance");
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

fn is_unique_violation(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<DbErr>()
            .and_then(DbErr::sql_err)
            .is_some_and(|e| matches!(e, SqlErr::UniqueConstraintViolation(_)))
    })
}

/// `odata-users demo [--users N]`: seeds the demo tenant with `users`
/// generated users (created when absent; refused when it already has users).
pub async fn run(db: &DatabaseConnection, users: usize) -> anyhow::Result<DemoInfo> {
    seed(db, users).await
}

async fn seed(db: &DatabaseConnection, user_count: usize) -> anyhow::Result<DemoInfo> {
    let data = generator::generate(user_count, generator::DEFAULT_SEED);
    let (tenant_id, _) = ensure_tenant(db, DEMO_TENANT, DEMO_ORG).await?;
    let txn = db.begin().await?;
    let existing = users::Entity::find()
        .filter(users::Column::TenantId.eq(tenant_id))
        .count(&txn)
        .await?;
    if existing > 0 {
        anyhow::bail!(
            "the tenant {DEMO_TENANT}/{DEMO_ORG} already has {existing} users; demo data is only seeded into an empty tenant"
        );
    }
    write_dataset(&txn, tenant_id, &data, &crate::domain::Actor::DEMO)
        .await
        .context("writing the demo data")?;
    txn.commit().await?;
    crate::storage::db::analyze(db).await;
    let scope = crate::storage::tenants::find(db, DEMO_TENANT, DEMO_ORG)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("the demo tenant vanished")?;
    let (client, secret) = crate::storage::clients::create(db, &scope, Scopes::all())
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo client: {e}"))?;
    Ok(DemoInfo {
        client: Some(DemoClient {
            client_id: client.client_id,
            client_secret: secret,
        }),
        ..info(&data)
    })
}

fn info(data: &Dataset) -> DemoInfo {
    DemoInfo {
        tenant_key: DEMO_TENANT.to_owned(),
        org_key: DEMO_ORG.to_owned(),
        users: data.users.len(),
        roles: data.roles.len(),
        groups: data.groups.len(),
        sample_user_key: data
            .users
            .iter()
            .find(|u| u.status == 1)
            .map_or_else(|| "jane.doe".to_owned(), |u| u.user_key.clone()),
        sample_role_key: data
            .roles
            .iter()
            .find(|r| r.role_key == "technician")
            .or(data.roles.first())
            .map_or_else(|| "admin".to_owned(), |r| r.role_key.clone()),
        client: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_name_the_tenant_and_paste_ready_commands() {
        let data = generator::generate(10, generator::DEFAULT_SEED);
        let notes = info(&data).notes("http://127.0.0.1:8080/");
        assert!(notes.contains("http://127.0.0.1:8080/api/demo/main/identity"));
        assert!(notes.contains("10 users, 20 roles, 50 groups"));
        assert!(notes.contains("users/sendInvitation"));
        assert!(notes.contains(&info(&data).sample_user_key));
        assert!(!notes.contains("//api"), "{notes}");
        assert!(notes.contains("/connect/token"), "{notes}");
        assert!(notes.contains("Authorization: Bearer $TOKEN"), "{notes}");
        let with_client = DemoInfo {
            client: Some(DemoClient {
                client_id: "cid".into(),
                client_secret: "csecret".into(),
            }),
            ..info(&data)
        };
        let notes = with_client.notes("http://127.0.0.1:8080");
        assert!(notes.contains("client id:     cid"), "{notes}");
        assert!(notes.contains("-u 'cid:csecret'"), "{notes}");
    }
}
