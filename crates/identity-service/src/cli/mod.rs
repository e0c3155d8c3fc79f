//! The `odata-users` command line (clap derive). `serve` is the default.
//!
//! Results go to stdout (`--json`: exactly the JSON); notes for people go
//! to stderr: the database a command uses (password redacted), and what a
//! command created on the side (the tenant of `clients create`).

mod database;
mod help;
mod output;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::auth::Scopes;
use crate::configuration::Settings;
use crate::domain::TenantKey;
use crate::startup::Application;
use crate::storage::{clients, db, tenants};
use output::{note, say, table};
use sea_orm::DatabaseConnection;

/// The command line of `odata-users`.
#[derive(Debug, Parser)]
#[command(
    name = "odata-users",
    version,
    about = help::ABOUT,
    long_about = help::LONG_ABOUT,
    after_help = help::AFTER_HELP,
    after_long_help = help::environment(),
)]
pub struct Cli {
    /// Configuration file (TOML; docs/odata-users.example.toml has every
    /// key). It must exist. Default: ./odata-users.toml when present.
    #[arg(long, global = true, value_name = "PATH", env = "APP_CONFIG")]
    pub config: Option<PathBuf>,
    /// The command; `serve` when none is given.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default command).
    #[command(after_long_help = help::environment())]
    Serve(ServeArgs),
    /// Create or update the database schema, then exit (creates the
    /// database file of a SQLite URL).
    Migrate,
    /// Manage tenant+organization pairs.
    Tenants {
        /// What to do with tenants.
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// Manage API clients (OAuth2 client credentials for /connect/token and
    /// HTTP Basic on the OData feed).
    Clients {
        /// What to do with clients.
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Import users, roles, groups and memberships from the five CSV files in
    /// DIR (the files `generate` writes; docs/api1.md lists their columns);
    /// all-or-nothing per file. Creates the tenant+organization when absent.
    Import {
        /// Tenant key to import into (created when absent).
        #[arg(long)]
        tenant: String,
        /// Organization key of the tenant.
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
        /// Organization key of --tenant.
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
    /// Seed the demo tenant (demo/main) with generated users and a demo
    /// client (its secret printed once).
    Demo {
        /// Number of users to generate (default: the demo_users setting, 1000).
        #[arg(long)]
        users: Option<usize>,
    },
    /// Print a shell completion script on stdout, e.g.
    /// `odata-users completions bash > ~/.local/share/bash-completion/completions/odata-users`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// Commands that only make sense on an existing database: they must
    /// not create a fresh default one.
    fn needs_existing_database(&self) -> bool {
        matches!(
            self,
            Command::Clients { .. }
                | Command::Recount { .. }
                | Command::Tenants {
                    command: TenantsCommand::List { .. }
                }
        )
    }
}

/// Options of `serve`.
#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. Default: the bind
    /// setting, 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR", env = "APP_BIND")]
    pub bind: Option<String>,
    /// Do not seed demo data into an empty database (same as APP_DEMO=false).
    #[arg(long)]
    pub no_demo: bool,
}

/// `odata-users tenants ...`.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant+organization pair (idempotent: an existing pair is reported, not an error).
    Create {
        /// Tenant key (letters, digits, `-`, `_`, `.`; matched case-insensitively).
        #[arg(long)]
        tenant: String,
        /// Organization key (the same rules).
        #[arg(long)]
        org: String,
    },
    /// List every tenant+organization pair (a table with a header).
    List {
        /// One JSON array of {"tenantKey","orgKey"} instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `odata-users clients ...`.
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a client of a tenant+organization (created when absent, said
    /// on stderr) and print its id and secret; the secret is shown only this
    /// once.
    Create {
        /// Tenant key of the client (the tenant is created when absent).
        #[arg(long)]
        tenant: String,
        /// Organization key of the client.
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
    /// List every client (never their secrets; a table with a header).
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
    // The log format and the OTLP endpoint are settings (file, then
    // environment). Settings that do not load are the command's own error
    // to report: logging then starts with the defaults.
    let (format, otlp_endpoint) = Settings::load(cli.config.as_deref())
        .map(|s| (s.log_format, s.otlp_endpoint))
        .unwrap_or_default();
    let telemetry = match crate::telemetry::init(
        "info,sea_orm_migration=warn",
        format,
        otlp_endpoint.as_deref(),
    ) {
        Ok(telemetry) => telemetry,
        Err(err) => {
            eprintln!("error: {err:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli)));
    let code = match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            output::fail(&err);
            std::process::ExitCode::FAILURE
        }
    };
    // Flushes the OTLP export, if any, before the exit.
    drop(telemetry);
    code
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    let config = cli.config.as_deref();
    let existing = command.needs_existing_database();
    match command {
        // Generating files needs neither settings nor a database.
        Command::Generate { users, dir, seed } => {
            let written = crate::sample_data::write_dir(&dir, users, seed)?;
            say(&format!("{written} to {}", dir.display()));
            Ok(())
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "odata-users", &mut script);
            say(String::from_utf8_lossy(&script).trim_end());
            Ok(())
        }
        Command::Serve(args) => {
            let (mut settings, _) = settings(config, existing)?;
            if let Some(bind) = args.bind {
                settings.bind = bind;
            }
            if args.no_demo {
                settings.demo = false;
            }
            serve(settings).await
        }
        Command::Migrate => {
            let (settings, chosen) = settings(config, existing)?;
            connect(&settings).await?;
            say(&format!("database migrated: {}", chosen.description));
            Ok(())
        }
        Command::Import { tenant, org, dir } => {
            let (settings, _) = settings(config, existing)?;
            let conn = connect(&settings).await?;
            let report = crate::import::run(&conn, &tenant, &org, &dir).await?;
            say(&report.to_string());
            Ok(())
        }
        Command::Demo { users } => {
            let (settings, _) = settings(config, existing)?;
            let conn = connect(&settings).await?;
            let info = crate::demo::run(&conn, users.unwrap_or(settings.demo_users)).await?;
            let base = settings
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", settings.bind));
            say(&info.notes(&base));
            Ok(())
        }
        Command::Recount { tenant, org } => {
            let (settings, _) = settings(config, existing)?;
            recount(&connect(&settings).await?, tenant.zip(org)).await
        }
        Command::Clients { command } => {
            let (settings, _) = settings(config, existing)?;
            run_clients(&connect(&settings).await?, command).await
        }
        Command::Tenants { command } => {
            let (settings, _) = settings(config, existing)?;
            run_tenants(&connect(&settings).await?, command).await
        }
    }
}

/// Loads the settings of a command that uses the database, refuses a fresh
/// default database when `existing` is asked for, and says on stderr which
/// database the command uses.
fn settings(
    config: Option<&std::path::Path>,
    existing: bool,
) -> anyhow::Result<(Settings, database::Chosen)> {
    let loaded = Settings::load_traced(config)?;
    let chosen = database::Chosen::of(&loaded);
    if existing {
        chosen.require_existing()?;
    }
    note(&chosen.line());
    Ok((loaded.settings, chosen))
}

/// Connects to the database and brings its schema up to date.
async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let conn = db::connect(settings).await?;
    db::migrate(settings, &conn).await?;
    Ok(conn)
}

async fn run_tenants(conn: &DatabaseConnection, command: TenantsCommand) -> anyhow::Result<()> {
    let api = |e: crate::error::ApiError| anyhow::anyhow!("{e}");
    match command {
        TenantsCommand::Create { tenant, org } => {
            let tenant = TenantKey::parse(&tenant, "tenant")?;
            let org = TenantKey::parse(&org, "org")?;
            let (scope, created) = tenants::create(conn, &tenant, &org).await.map_err(api)?;
            let what = match created {
                tenants::Created::New => "created",
                tenants::Created::Existing => "exists",
            };
            say(&format!(
                "{what} tenant {} org {}",
                scope.tenant_key, scope.org_key
            ));
        }
        TenantsCommand::List { json } => {
            let list = tenants::list(conn).await.map_err(api)?;
            if json {
                let items: Vec<serde_json::Value> = list
                    .iter()
                    .map(
                        |s| serde_json::json!({"tenantKey": &*s.tenant_key, "orgKey": &*s.org_key}),
                    )
                    .collect();
                say(&serde_json::Value::Array(items).to_string());
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|s| vec![s.tenant_key.to_string(), s.org_key.to_string()])
                    .collect();
                say(&table(&["TENANT", "ORG"], &rows));
                if rows.is_empty() {
                    note("no tenants yet: odata-users tenants create --tenant T --org O");
                }
            }
        }
    }
    Ok(())
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
            let (scope, created) = tenants::create(conn, &tenant, &org).await.map_err(api)?;
            if created == tenants::Created::New {
                note(&format!(
                    "created tenant {} org {} (it did not exist)",
                    scope.tenant_key, scope.org_key
                ));
            }
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
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|c| {
                        let status = match c.revoked_on {
                            Some(at) => format!(
                                "revoked {}",
                                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                            ),
                            None => "active".to_owned(),
                        };
                        vec![
                            c.client_id.clone(),
                            c.tenant_key.clone(),
                            c.org_key.clone(),
                            c.scopes.to_string(),
                            c.created_on
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            status,
                        ]
                    })
                    .collect();
                say(&table(
                    &["CLIENT ID", "TENANT", "ORG", "SCOPES", "CREATED", "STATUS"],
                    &rows,
                ));
                if rows.is_empty() {
                    note("no clients yet: odata-users clients create --tenant T --org O");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command, nested ones included, with its path.
    fn commands() -> Vec<(String, clap::Command)> {
        fn walk(path: String, command: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
            out.push((path.clone(), command.clone()));
            for sub in command.get_subcommands() {
                walk(format!("{path} {}", sub.get_name()), sub, out);
            }
        }
        let mut out = Vec::new();
        walk("odata-users".to_owned(), &Cli::command(), &mut out);
        out
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_and_argument_has_help_text() {
        for (path, command) in commands() {
            if path != "odata-users" && !path.ends_with(" help") {
                assert!(command.get_about().is_some(), "`{path}` has no description");
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                assert!(
                    arg.get_help()
                        .is_some_and(|h| !h.to_string().trim().is_empty()),
                    "`{path}` argument {id} has no help text"
                );
            }
        }
    }

    #[test]
    fn the_long_help_lists_every_environment_variable() {
        let help = Cli::command().render_long_help().to_string();
        for name in Settings::env_names() {
            assert!(help.contains(&name), "{name} missing from --help:\n{help}");
        }
        // Every key of the file has its variable (none is file-only).
        assert!(!help.contains("configuration file only"), "{help}");
        // The description is for users: it names no internal layers.
        for internal in ["SeaORM", "actix", "storage", "domain"] {
            assert!(!help.contains(internal), "{internal} in --help");
        }
        let serve = Cli::command()
            .find_subcommand_mut("serve")
            .expect("serve")
            .render_long_help()
            .to_string();
        assert!(serve.contains("[env: APP_BIND"), "{serve}");
        assert!(serve.contains("DATABASE_URL"), "{serve}");
    }

    #[test]
    fn the_commands_that_must_not_create_a_database() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("odata-users").chain(args.iter().copied()))
                .expect("parses")
                .command
                .expect("a command")
        };
        for args in [
            &["clients", "list"][..],
            &["clients", "create", "--tenant", "a", "--org", "b"],
            &["clients", "revoke", "x"],
            &["tenants", "list"],
            &["recount"],
        ] {
            assert!(parse(args).needs_existing_database(), "{args:?}");
        }
        for args in [
            &["serve"][..],
            &["migrate"],
            &["demo"],
            &["tenants", "create", "--tenant", "a", "--org", "b"],
            &["import", "--tenant", "a", "--org", "b", "dir"],
            &["generate", "1", "dir"],
            &["completions", "bash"],
        ] {
            assert!(!parse(args).needs_existing_database(), "{args:?}");
        }
    }
}
