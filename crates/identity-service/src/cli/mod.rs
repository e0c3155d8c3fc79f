//! The `odata-users` command line (clap derive). `serve` is the default.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::auth::Scopes;
use crate::configuration::Settings;
use crate::domain::TenantKey;
use crate::startup::Application;
use crate::storage::{clients, db, tenants};
use sea_orm::DatabaseConnection;

/// OData-first identity users service.
#[derive(Debug, Parser)]
#[command(name = "odata-users", version, about)]
pub struct Cli {
    /// Configuration file (default: ./odata-users.toml when present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(ServeArgs),
    /// Create or update the database schema, then exit.
    Migrate,
    /// Manage tenant+organization pairs.
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// Manage API clients (OAuth2 client credentials for /connect/token and
    /// HTTP Basic on the OData feed).
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Import users, roles, groups and memberships from the five CSV files in
    /// DIR (the files `generate` writes; docs/api1.md lists their columns);
    /// all-or-nothing per file.
    Import {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        org: String,
        /// Directory holding the peer.users-*.csv files.
        dir: PathBuf,
    },
    /// Set the row counters behind unfiltered $count (users, roles, groups)
    /// to the rows actually stored, for one tenant+organization or all of
    /// them: the repair after rows were written outside the service (SQL).
    Recount {
        /// Only this tenant (with --org); default: every tenant.
        #[arg(long, requires = "org")]
        tenant: Option<String>,
        #[arg(long, requires = "tenant")]
        org: Option<String>,
    },
    /// Write N generated users, roles, groups and memberships as the CSV
    /// files `import` reads (needs no database).
    ///
    /// Writes peer.users-Users.csv, -Roles.csv, -Groups.csv, -UserRoles.csv
    /// and -UserGroups.csv into DIR. The same N and seed always give
    /// byte-identical files (those of the peer comparison's gen_users.py).
    Generate {
        /// Number of users to generate.
        #[arg(value_name = "N")]
        users: usize,
        /// Directory to write the files into (created when absent; existing
        /// files are replaced).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Seed of the random generator.
        #[arg(long, default_value_t = crate::sample_data::DEFAULT_SEED)]
        seed: u64,
    },
    /// Seed the demo tenant (demo/main) with generated users.
    Demo {
        /// Number of users to generate (default: demo_users, 1000).
        #[arg(long)]
        users: Option<usize>,
    },
}

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides APP_BIND); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Do not seed demo data into an empty database (same as APP_DEMO=false).
    #[arg(long)]
    pub no_demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant+organization pair (idempotent: an existing pair is reported, not an error).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        org: String,
    },
    /// List every tenant+organization pair.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a client of a tenant+organization (created when absent) and
    /// print its id and secret; the secret is shown only this once.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        org: String,
        /// Scopes to grant: identity.read, identity.write, identity.admin
        /// (repeat the option or separate with spaces or commas). Default:
        /// identity.read and identity.write; identity.admin (explain) only
        /// when named, and it implies neither of the others.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Print `{"clientId":"...","clientSecret":"..."}` only.
        #[arg(long)]
        json: bool,
    },
    /// List every client (never their secrets).
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a client: no new tokens; its tokens and Basic credentials are
    /// refused within `auth_cache_seconds`.
    Revoke {
        /// The client id.
        client_id: String,
    },
}

/// Entry point of the binary: parses arguments, runs the command, prints
/// a failure as one `error: ...` line on stderr (exit code 1).
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init("info,sea_orm_migration=warn");
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    let mut settings = match command {
        // Generating files needs neither settings nor a database.
        Command::Generate { .. } => Settings::default(),
        _ => Settings::load(cli.config.as_deref())?,
    };
    match command {
        Command::Generate { users, dir, seed } => {
            let written = crate::sample_data::write_dir(&dir, users, seed)?;
            say(&format!("{written} to {}", dir.display()));
            Ok(())
        }
        Command::Serve(args) => {
            if let Some(bind) = args.bind {
                settings.bind = bind;
            }
            if args.no_demo {
                settings.demo = false;
            }
            serve(settings).await
        }
        Command::Migrate => {
            let conn = db::connect(&settings).await?;
            db::migrate(&settings, &conn).await?;
            say(&format!(
                "database migrated: {}",
                describe_db(&settings.database_url)
            ));
            Ok(())
        }
        Command::Import { tenant, org, dir } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&settings, &conn).await?;
            let report = crate::import::run(&conn, &tenant, &org, &dir).await?;
            say(&report.to_string());
            Ok(())
        }
        Command::Demo { users } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&settings, &conn).await?;
            let info = crate::demo::run(&conn, users.unwrap_or(settings.demo_users)).await?;
            let base = settings
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", settings.bind));
            say(&info.notes(&base));
            Ok(())
        }
        Command::Recount { tenant, org } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&settings, &conn).await?;
            recount(&conn, tenant.zip(org)).await
        }
        Command::Clients { command } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&settings, &conn).await?;
            run_clients(&conn, command).await
        }
        Command::Tenants { command } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&settings, &conn).await?;
            match command {
                TenantsCommand::Create { tenant, org } => {
                    let tenant = TenantKey::parse(&tenant, "tenant")?;
                    let org = TenantKey::parse(&org, "org")?;
                    let (scope, created) = tenants::create(&conn, &tenant, &org)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let what = match created {
                        tenants::Created::New => "created",
                        tenants::Created::Existing => "exists",
                    };
                    say(&format!(
                        "{what} tenant {} org {}",
                        scope.tenant_key, scope.org_key
                    ));
                    Ok(())
                }
                TenantsCommand::List => {
                    for scope in tenants::list(&conn)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                    {
                        say(&format!("{} {}", scope.tenant_key, scope.org_key));
                    }
                    Ok(())
                }
            }
        }
    }
}

/// `odata-users recount`: one line per tenant and set whose counter
/// changed, then a summary.
async fn recount(conn: &DatabaseConnection, only: Option<(String, String)>) -> anyhow::Result<()> {
    let api = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    let scopes = match only {
        Some((tenant, org)) => vec![
            tenants::find(conn, &tenant, &org)
                .await
                .map_err(api)?
                .ok_or_else(|| anyhow::anyhow!("no tenant {tenant} org {org}"))?,
        ],
        None => tenants::list(conn).await.map_err(api)?,
    };
    let mut fixed = 0usize;
    for scope in &scopes {
        for (set, before, actual) in crate::storage::counters::recount(conn, scope)
            .await
            .map_err(api)?
        {
            if before != actual {
                fixed += 1;
                say(&format!(
                    "{} {} {}: counter {before} -> {actual}",
                    scope.tenant_key,
                    scope.org_key,
                    set.entity_set()
                ));
            }
        }
    }
    say(&format!(
        "recounted {} tenant(s): {fixed} counter(s) corrected",
        scopes.len()
    ));
    Ok(())
}

async fn run_clients(conn: &DatabaseConnection, command: ClientsCommand) -> anyhow::Result<()> {
    let api = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    match command {
        ClientsCommand::Create {
            tenant,
            org,
            scopes,
            json,
        } => {
            let tenant = TenantKey::parse(&tenant, "tenant")?;
            let org = TenantKey::parse(&org, "org")?;
            let scopes = if scopes.is_empty() {
                Scopes::all()
            } else {
                Scopes::parse(&scopes.join(" ")).map_err(|e| anyhow::anyhow!("--scope: {e}"))?
            };
            let (scope, _) = tenants::create(conn, &tenant, &org).await.map_err(api)?;
            let (client, secret) = clients::create(conn, &scope, scopes).await.map_err(api)?;
            if json {
                say(
                    &serde_json::json!({"clientId": client.client_id, "clientSecret": secret})
                        .to_string(),
                );
            } else {
                say(&format!(
                    "created client for tenant {} org {}\n\
                     client id:     {}\n\
                     client secret: {secret}\n\
                     scopes:        {}\n\
                     the secret is shown only now: it is stored hashed and cannot be recovered",
                    client.tenant_key, client.org_key, client.client_id, client.scopes
                ));
            }
            Ok(())
        }
        ClientsCommand::List { json } => {
            let list = clients::list(conn).await.map_err(api)?;
            if json {
                let items: Vec<serde_json::Value> = list
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "clientId": c.client_id,
                            "tenantKey": c.tenant_key,
                            "orgKey": c.org_key,
                            "scope": c.scopes.to_string(),
                            "createdOn": c.created_on.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            "revokedOn": c.revoked_on.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                        })
                    })
                    .collect();
                say(&serde_json::Value::Array(items).to_string());
            } else {
                for c in list {
                    let status = match c.revoked_on {
                        Some(at) => format!(
                            "revoked {}",
                            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        ),
                        None => "active".to_owned(),
                    };
                    say(&format!(
                        "{} {} {} [{}] created {} {status}",
                        c.client_id,
                        c.tenant_key,
                        c.org_key,
                        c.scopes,
                        c.created_on
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ));
                }
            }
            Ok(())
        }
        ClientsCommand::Revoke { client_id } => {
            match clients::revoke(conn, &client_id).await.map_err(api)? {
                clients::Revoked::Now => say(&format!("revoked client {client_id}")),
                clients::Revoked::Already => {
                    say(&format!("client {client_id} was already revoked"))
                }
                clients::Revoked::Unknown => anyhow::bail!("no client with id {client_id}"),
            }
            Ok(())
        }
    }
}

fn describe_db(url: &str) -> String {
    match db::sqlite_file(url) {
        Some(file) => format!("SQLite {}", file.display()),
        None => url.split("://").next().unwrap_or("database").to_owned(),
    }
}

/// Writes one line to stdout, ignoring a closed pipe: a script may read the
/// listening line and close its end, and the server must keep serving
/// (`println!` would panic on the broken pipe); `odata-users tenants list |
/// head -1` must not panic either.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let public_url = settings.public_url.clone();
    let app = Application::build(settings).await?;
    let address = app.address();
    // The first stdout line is the contract scripts wait for.
    say(&format!("listening on http://{address}"));
    let base = public_url.unwrap_or_else(|| format!("http://{address}"));
    if !address.ip().is_loopback() {
        say(&format!(
            "note: listening on {address} beyond this machine; the API needs client credentials (odata-users clients create), but the transport is plain HTTP: put TLS in front"
        ));
    }
    say(&format!(
        "home page: {base}/ (in a browser)\nAPI docs: {base}/docs (OpenAPI: {base}/openapi.json)"
    ));
    match app.demo_info() {
        Some(info) => say(&info.notes(&base)),
        None => say(&format!(
            "API 1 base: {base}/api/{{tenantKey}}/{{orgKey}}/identity\n\
             access tokens: POST {base}/connect/token (client credentials from `odata-users clients create --tenant T --org O`)"
        )),
    }
    app.run_until_stopped().await?;
    tracing::info!("server stopped");
    Ok(())
}
