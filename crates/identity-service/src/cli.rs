//! The `odata-users` command line (clap derive). `serve` is the default.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::configuration::Settings;
use crate::domain::TenantKey;
use crate::startup::Application;
use crate::storage::{db, tenants};

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
    /// Import users, roles, groups and memberships from the CSV files in DIR
    /// (see ../shared/data/README.md); all-or-nothing per file.
    Import {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        org: String,
        /// Directory holding the peer.users-*.csv files.
        dir: PathBuf,
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
    let mut settings = Settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
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
    say(&format!(
        "note: the API has no authentication yet; anyone who can reach {address} can read and change data{}",
        if address.ip().is_loopback() {
            " (bound to the loopback interface only)"
        } else {
            ""
        }
    ));
    say(&format!(
        "API docs: {base}/docs (OpenAPI: {base}/openapi.json)"
    ));
    match app.demo_info() {
        Some(info) => say(&info.notes(&base)),
        None => say(&format!(
            "API 1 base: {base}/api/{{tenantKey}}/{{orgKey}}/identity"
        )),
    }
    app.run_until_stopped().await?;
    tracing::info!("server stopped");
    Ok(())
}
