//! `odata-users import --tenant T --org O DIR`: loads the five CSV files that
//! `odata-users generate` ([`crate::sample_data`]) and the peer comparison's
//! `gen_users.py` write (docs/api1.md, "CSV files", has the format and the
//! mapping rules) into one tenant+organization, creating it when absent.
//!
//! Every file is read and checked completely before anything is written, so a
//! bad row stops the import with the file, line and column, and nothing of
//! that file (nor of the files after it) is written. Each file is then written
//! in its own transaction with multi-row INSERTs (see `import::bulk`).

mod bulk;
mod existing;

use existing::{Existing, check_ids_elsewhere};
pub(crate) mod fields;
mod rows;

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use crate::domain::{Actor, TenantKey};
use crate::storage::counters::Counted;
use crate::storage::tenants;

pub use bulk::LinkTable;
pub use rows::{Parsed, parse_groups, parse_links, parse_roles, parse_users};

/// A user as imported (or generated for the demo), already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: Uuid,
    pub user_key: String,
    pub name: String,
    pub culture: Option<String>,
    pub is_technician: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub email: Option<String>,
    /// An external `http(s)` picture URL, kept as given.
    pub picture_url: Option<String>,
    /// 1 Active, 2 Inactive, 3 InvitationSent, 4 InvitationExpired.
    pub status: i32,
    pub is_active: bool,
}

/// A role; its flags are always imported as false.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleRow {
    pub id: Uuid,
    pub role_key: String,
    pub description: Option<String>,
}

/// A group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub id: Uuid,
    pub group_key: String,
    pub name: Option<String>,
}

/// A membership: a user and a role or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkRow {
    pub user_id: Uuid,
    pub other_id: Uuid,
}

/// Everything one import (or the demo seed) writes into a tenant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub roles: Vec<RoleRow>,
    pub groups: Vec<GroupRow>,
    pub users: Vec<UserRow>,
    pub user_roles: Vec<LinkRow>,
    pub user_groups: Vec<LinkRow>,
}

/// Why a file cannot be imported; always names the file, and the line and
/// column when the problem is in a row.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {message}")]
    Header { file: String, message: String },
    #[error("{file}: line {line}: {message}")]
    Syntax {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: line {line}, column {column} ({header}): {message}")]
    Field {
        file: String,
        line: u64,
        column: usize,
        header: String,
        message: String,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

/// The five files, in the order they are imported.
pub const USERS_FILE: &str = "peer.users-Users.csv";
pub const ROLES_FILE: &str = "peer.users-Roles.csv";
pub const GROUPS_FILE: &str = "peer.users-Groups.csv";
pub const USER_ROLES_FILE: &str = "peer.users-UserRoles.csv";
pub const USER_GROUPS_FILE: &str = "peer.users-UserGroups.csv";

/// What one file contributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub file: &'static str,
    /// `None` when the file was not in the directory (skipped).
    pub rows: Option<u64>,
    /// Time spent writing the rows (transaction included).
    pub write_time: Duration,
}

/// The outcome of an import, printed by the CLI.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub tenant_key: String,
    pub org_key: String,
    pub tenant_id: Uuid,
    pub tenant_created: bool,
    pub files: Vec<FileReport>,
    /// Anything the operator should know (e.g. values that were defaulted).
    pub notes: Vec<String>,
    /// Time spent reading and checking every file.
    pub check_time: Duration,
    pub elapsed: Duration,
}

impl ImportReport {
    /// Rows imported from `file` (0 when skipped).
    pub fn rows(&self, file: &str) -> u64 {
        self.files
            .iter()
            .find(|f| f.file == file)
            .and_then(|f| f.rows)
            .unwrap_or(0)
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "imported into tenant {}/{}{}:",
            self.tenant_key,
            self.org_key,
            if self.tenant_created {
                " (created)"
            } else {
                ""
            }
        )?;
        for file in &self.files {
            match file.rows {
                Some(n) => writeln!(
                    f,
                    "  {:<28} {n:>9} rows  {:>7.2} s",
                    file.file,
                    file.write_time.as_secs_f64()
                )?,
                None => writeln!(f, "  {:<28} {:>9}", file.file, "absent, skipped")?,
            }
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        write!(
            f,
            "in {:.2} s ({:.2} s reading and checking)",
            self.elapsed.as_secs_f64(),
            self.check_time.as_secs_f64()
        )
    }
}

/// Imports the CSV files in `dir` into `tenant`/`org` (created when absent).
pub async fn run(
    db: &DatabaseConnection,
    tenant: &str,
    org: &str,
    dir: &Path,
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    if !dir.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    let path = |name: &str| -> Option<PathBuf> {
        let p = dir.join(name);
        p.is_file().then_some(p)
    };
    let all = [
        ROLES_FILE,
        GROUPS_FILE,
        USERS_FILE,
        USER_ROLES_FILE,
        USER_GROUPS_FILE,
    ];
    if all.iter().all(|f| path(f).is_none()) {
        anyhow::bail!(
            "{} holds none of the files {}",
            dir.display(),
            all.join(", ")
        );
    }

    let tenant_key = TenantKey::parse(tenant, "tenant")?;
    let org_key = TenantKey::parse(org, "org")?;
    let found = tenants::find(db, tenant_key.as_str(), org_key.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("looking up tenant {tenant}/{org}: {e}"))?;
    let existing = match &found {
        Some(scope) => Existing::load(db, scope.tenant_id).await?,
        None => Existing::default(),
    };

    // Read and check every file before writing anything.
    let show = std::io::stderr().is_terminal();
    let spinner = checking_spinner(show);
    let roles = match path(ROLES_FILE) {
        Some(p) => Some(parse_roles(ROLES_FILE, open(&p, ROLES_FILE)?)?),
        None => None,
    };
    let groups = match path(GROUPS_FILE) {
        Some(p) => Some(parse_groups(GROUPS_FILE, open(&p, GROUPS_FILE)?)?),
        None => None,
    };
    let users = match path(USERS_FILE) {
        Some(p) => Some(parse_users(USERS_FILE, open(&p, USERS_FILE)?)?),
        None => None,
    };
    if let Some(r) = &roles {
        existing.check_roles(r)?;
    }
    if let Some(g) = &groups {
        existing.check_groups(g)?;
    }
    if let Some(u) = &users {
        existing.check_users(u)?;
    }
    // Ids are kept, and ids are unique across tenants: the same files cannot
    // go into two tenants of one database. Say so with the line, before
    // writing anything.
    if let Some(r) = &roles {
        check_ids_elsewhere(db, "roles", ROLES_FILE, r, |row| row.id).await?;
    }
    if let Some(g) = &groups {
        check_ids_elsewhere(db, "groups", GROUPS_FILE, g, |row| row.id).await?;
    }
    if let Some(u) = &users {
        check_ids_elsewhere(db, "users", USERS_FILE, u, |row| row.id).await?;
    }
    let ids = |parsed: Option<&Vec<Uuid>>, old: &HashSet<Uuid>| -> HashSet<Uuid> {
        let mut all = old.clone();
        all.extend(parsed.into_iter().flatten().copied());
        all
    };
    let user_ids = ids(
        users
            .as_ref()
            .map(|u| u.rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .as_ref(),
        &existing.user_ids,
    );
    let role_ids = ids(
        roles
            .as_ref()
            .map(|r| r.rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .as_ref(),
        &existing.role_ids,
    );
    let group_ids = ids(
        groups
            .as_ref()
            .map(|g| g.rows.iter().map(|r| r.id).collect::<Vec<_>>())
            .as_ref(),
        &existing.group_ids,
    );
    let is_user = |id: &Uuid| user_ids.contains(id);
    let user_roles = match path(USER_ROLES_FILE) {
        Some(p) => {
            let is_role = |id: &Uuid| role_ids.contains(id);
            let input = open(&p, USER_ROLES_FILE)?;
            let parsed = parse_links(USER_ROLES_FILE, input, "role_ID", &is_user, &is_role)?;
            existing.check_links(USER_ROLES_FILE, &parsed, &existing.user_roles)?;
            Some(parsed)
        }
        None => None,
    };
    let user_groups = match path(USER_GROUPS_FILE) {
        Some(p) => {
            let is_group = |id: &Uuid| group_ids.contains(id);
            let input = open(&p, USER_GROUPS_FILE)?;
            let parsed = parse_links(USER_GROUPS_FILE, input, "group_ID", &is_user, &is_group)?;
            existing.check_links(USER_GROUPS_FILE, &parsed, &existing.user_groups)?;
            Some(parsed)
        }
        None => None,
    };

    // Inserting in primary-key order keeps the B-tree writes sequential;
    // line numbers are not needed any more once every check passed.
    let mut users = users;
    let mut user_roles = user_roles;
    let mut user_groups = user_groups;
    if let Some(u) = users.as_mut() {
        u.rows.sort_unstable_by_key(|r| r.id);
    }
    for links in [user_roles.as_mut(), user_groups.as_mut()]
        .into_iter()
        .flatten()
    {
        links.rows.sort_unstable_by_key(|l| (l.user_id, l.other_id));
    }
    // Users that existed before this import and gain memberships from it
    // change: their versions (ETags) are bumped in the transaction of the
    // membership file. Users this import creates start at version 1 with
    // their imported memberships.
    let touched = |links: &Option<Parsed<LinkRow>>| -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = links
            .iter()
            .flat_map(|p| p.rows.iter().map(|l| l.user_id))
            .filter(|id| existing.user_ids.contains(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let touched_by_roles = touched(&user_roles);
    let touched_by_groups = touched(&user_groups);
    let check_time = started.elapsed();
    // Everything is valid: only now is the tenant created, when absent.
    let (tenant_id, tenant_created) = match found {
        Some(scope) => (scope.tenant_id, false),
        None => ensure_tenant(db, tenant, org).await?,
    };
    let notes = Vec::new();
    let stamp = bulk::Stamp {
        tenant_id,
        now: crate::domain::now(),
        by: Actor::IMPORT,
    };
    spinner.finish_and_clear();
    let mut files = Vec::new();
    macro_rules! write_file {
        ($file:expr, $parsed:expr, |$txn:ident, $rows:ident, $bar:ident| $insert:expr) => {{
            let begun = Instant::now();
            let rows = match $parsed {
                Some(parsed) => {
                    let $rows = &parsed.rows;
                    let $bar = progress_bar(show, $file, $rows.len());
                    let $txn = db.begin().await?;
                    bulk::tune_for_bulk(&$txn).await?;
                    let n = $insert
                        .await
                        .with_context(|| format!("{}: writing the rows failed", $file))?;
                    $txn.commit()
                        .await
                        .with_context(|| format!("{}: commit failed", $file))?;
                    $bar.finish();
                    Some(n)
                }
                None => None,
            };
            files.push(FileReport {
                file: $file,
                rows,
                write_time: begun.elapsed(),
            });
        }};
    }
    write_file!(ROLES_FILE, &roles, |txn, rows, bar| bulk::insert_roles(
        &txn, &stamp, rows, &bar
    ));
    write_file!(GROUPS_FILE, &groups, |txn, rows, bar| bulk::insert_groups(
        &txn, &stamp, rows, &bar
    ));
    write_file!(USERS_FILE, &users, |txn, rows, bar| bulk::insert_users(
        &txn, &stamp, rows, &bar
    ));
    write_file!(USER_ROLES_FILE, &user_roles, |txn, rows, bar| async {
        let n = bulk::insert_links(&txn, LinkTable::UserRoles, rows, &bar).await?;
        bulk::touch_users(&txn, &stamp, &touched_by_roles).await?;
        // New memberships change users: a bulk entry for delta links.
        bulk::record_bulk(&txn, stamp.tenant_id, Counted::Users, n).await?;
        Ok::<u64, sea_orm::DbErr>(n)
    });
    write_file!(USER_GROUPS_FILE, &user_groups, |txn, rows, bar| async {
        let n = bulk::insert_links(&txn, LinkTable::UserGroups, rows, &bar).await?;
        bulk::touch_users(&txn, &stamp, &touched_by_groups).await?;
        // New memberships change users: a bulk entry for delta links.
        bulk::record_bulk(&txn, stamp.tenant_id, Counted::Users, n).await?;
        Ok::<u64, sea_orm::DbErr>(n)
    });

    crate::storage::db::analyze(db).await;
    Ok(ImportReport {
        tenant_key: tenant.to_owned(),
        org_key: org.to_owned(),
        tenant_id,
        tenant_created,
        files,
        notes,
        check_time,
        elapsed: started.elapsed(),
    })
}

/// Writes a whole generated [`Dataset`] (the demo) into a tenant, one
/// transaction, the same batched INSERTs as the import.
pub(crate) async fn write_dataset<C: ConnectionTrait>(
    db: &C,
    tenant_id: Uuid,
    data: &Dataset,
    by: &Actor,
) -> Result<(), sea_orm::DbErr> {
    let stamp = bulk::Stamp {
        tenant_id,
        now: crate::domain::now(),
        by: by.clone(),
    };
    let quiet = ProgressBar::hidden();
    bulk::insert_roles(db, &stamp, &data.roles, &quiet).await?;
    bulk::insert_groups(db, &stamp, &data.groups, &quiet).await?;
    bulk::insert_users(db, &stamp, &data.users, &quiet).await?;
    let r = bulk::insert_links(db, LinkTable::UserRoles, &data.user_roles, &quiet).await?;
    let g = bulk::insert_links(db, LinkTable::UserGroups, &data.user_groups, &quiet).await?;
    bulk::record_bulk(db, tenant_id, Counted::Users, r + g).await?;
    Ok(())
}

fn open(path: &Path, file: &str) -> Result<BufReader<File>, ImportError> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|source| ImportError::Io {
            file: file.to_owned(),
            source,
        })
}

/// A spinner while the files are read and checked (terminal only).
fn checking_spinner(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    // Cleared when dropped too, so that an error message starts on a clean line.
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        .with_finish(indicatif::ProgressFinish::AndClear);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.set_message("reading and checking the CSV files");
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}

fn progress_bar(show: bool, file: &str, len: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:<28} [{bar:30}] {human_pos:>8}/{human_len:<8} {elapsed:>4}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(file.to_owned());
    bar
}

/// Finds the tenant+org (case-insensitively) or creates it, through the
/// service's tenant storage; returns its id and whether it was created.
pub(crate) async fn ensure_tenant(
    db: &DatabaseConnection,
    tenant: &str,
    org: &str,
) -> anyhow::Result<(Uuid, bool)> {
    let tenant = TenantKey::parse(tenant, "tenant")?;
    let org = TenantKey::parse(org, "org")?;
    let (scope, created) = tenants::create(db, &tenant, &org).await.map_err(|e| {
        anyhow::anyhow!("creating tenant {}/{}: {e}", tenant.as_str(), org.as_str())
    })?;
    Ok((scope.tenant_id, created == tenants::Created::New))
}
