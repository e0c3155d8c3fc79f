//! The command line through the real binary: no fresh default database for
//! commands that need existing data, the database said on stderr (password
//! redacted) while `--json` keeps stdout exactly JSON, `clients create`
//! saying it created its tenant, list headers and `--json`, `--help`, shell
//! completions, the sample configuration file and the README's commands.
//!
//! Commands that use data run against the test application's database
//! (SQLite, or the server backend of `ODATA_TEST_BACKEND`).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TestApp, spawn_app, temp_dir};
use identity_service::configuration::Settings;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_odata-users");

/// `odata-users ARGS` in `dir` with none of the settings' variables of this
/// process (a developer's `DATABASE_URL` must not leak into a test).
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir).env("RUST_LOG", "warn");
    for name in Settings::env_names() {
        command.env_remove(name);
    }
    command.env_remove("APP_CONFIG");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run odata-users")
}

/// `odata-users ARGS` on the test application's database, with the statement
/// cache off when that database is reached through pgbouncer (transaction
/// pooling refuses named prepared statements), as the application has it.
fn run_on(app: &TestApp, args: &[&str]) -> Output {
    let cache = if common::through_pgbouncer() {
        "false"
    } else {
        "true"
    };
    run_in(
        &temp_dir(),
        args,
        &[
            ("DATABASE_URL", &app.db_url),
            ("APP_DEMO", "false"),
            ("APP_DB_STATEMENT_CACHE", cache),
        ],
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        stderr(output),
        stdout(output)
    );
}

/// Where the binary looks for its default database when run in `dir`.
fn default_db(dir: &Path) -> PathBuf {
    dir.canonicalize()
        .expect("the directory exists")
        .join("data")
        .join("odata-users.db")
}

#[test]
fn commands_on_existing_data_do_not_create_a_default_database() {
    let dir = temp_dir();
    for args in [
        &["clients", "list"][..],
        &["clients", "list", "--json"],
        &["clients", "create", "--tenant", "acme", "--org", "main"],
        &["clients", "revoke", "no-such-client"],
        &["tenants", "list"],
        &["recount"],
    ] {
        let output = run_in(&dir, args, &[]);
        assert_eq!(output.status.code(), Some(1), "{args:?} succeeded");
        let err = stderr(&output);
        assert!(err.starts_with("error: no database"), "{args:?}: {err}");
        assert!(
            err.contains(&default_db(&dir).display().to_string()),
            "{args:?} does not name the file it looked for: {err}"
        );
        assert!(err.contains("odata-users.toml"), "{err}");
        assert!(stdout(&output).is_empty(), "{args:?}: {}", stdout(&output));
        assert!(!dir.join("data").exists(), "{args:?} created ./data");
    }

    // A configuration file without database_url does not name one either.
    std::fs::write(dir.join("odata-users.toml"), "demo = false\n").unwrap();
    let output = run_in(&dir, &["tenants", "list"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("odata-users.toml has no database_url"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.join("data").exists());

    // `migrate` creates the default database, and says so; then the same
    // commands work there.
    let migrated = run_in(&dir, &["migrate"], &[]);
    succeeded(&migrated, "migrate");
    let file = default_db(&dir).display().to_string();
    assert_eq!(
        stderr(&migrated).lines().next(),
        Some(format!("database: SQLite {file} (the default, new file)").as_str()),
        "{}",
        stderr(&migrated)
    );
    assert!(default_db(&dir).exists());
    let listed = run_in(&dir, &["tenants", "list"], &[]);
    succeeded(&listed, "tenants list");
    assert_eq!(stdout(&listed), "TENANT  ORG\n");
    assert_eq!(
        stderr(&listed).lines().next(),
        Some(format!("database: SQLite {file} (the default)").as_str())
    );
}

#[test]
fn commands_that_create_data_may_create_the_default_database() {
    for args in [
        &["tenants", "create", "--tenant", "acme", "--org", "main"][..],
        &["demo", "--users", "3"],
    ] {
        let dir = temp_dir();
        let output = run_in(&dir, args, &[]);
        succeeded(&output, &format!("{args:?}"));
        assert!(default_db(&dir).exists(), "{args:?}");
        assert!(
            stderr(&output).contains("(the default, new file)"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    // A database named by a configuration file is created too, and the
    // note says which file named it.
    let dir = temp_dir();
    let named = dir.join("named.db");
    let config = dir.join("settings.toml");
    std::fs::write(
        &config,
        format!("database_url = \"sqlite://{}?mode=rwc\"\n", named.display()),
    )
    .unwrap();
    let output = run_in(
        &dir,
        &["clients", "list", "--config", config.to_str().unwrap()],
        &[],
    );
    succeeded(&output, "clients list --config");
    assert!(named.exists() && !dir.join("data").exists());
    assert_eq!(
        stderr(&output).lines().next(),
        Some(
            format!(
                "database: SQLite {} (database_url in {}, new file)",
                named.display(),
                config.display()
            )
            .as_str()
        )
    );
    assert!(
        stdout(&output).starts_with("CLIENT ID  TENANT  ORG  SCOPES  CREATED  STATUS"),
        "{}",
        stdout(&output)
    );
    // APP_CONFIG is --config.
    let output = run_in(
        &dir,
        &["tenants", "list"],
        &[("APP_CONFIG", config.to_str().unwrap())],
    );
    succeeded(&output, "tenants list with APP_CONFIG");
    assert!(stderr(&output).contains("database_url in"));
}

#[test]
fn the_database_line_redacts_the_password() {
    let dir = temp_dir();
    let output = run_in(
        &dir,
        &["migrate"],
        &[
            (
                "DATABASE_URL",
                "postgres://app:s3cret-pw@127.0.0.1:1/ids?sslmode=disable",
            ),
            ("APP_DB_ACQUIRE_TIMEOUT_SECONDS", "1"),
        ],
    );
    // Nothing listens on port 1: the command fails, after naming the database.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(
        err.lines().next(),
        Some("database: postgres://app:***@127.0.0.1:1/ids?sslmode=disable (DATABASE_URL)"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
}

#[tokio::test]
async fn clients_create_says_on_stderr_what_it_used_and_created_and_json_stays_json() {
    let app = spawn_app().await;
    let tenant = format!("{}-cli", app.tenant);
    let create = |tenant: &str| {
        run_on(
            &app,
            &[
                "clients", "create", "--tenant", tenant, "--org", "main", "--json",
            ],
        )
    };

    let first = create(&tenant);
    succeeded(&first, "clients create");
    let body: Value = serde_json::from_slice(&first.stdout).expect("stdout is exactly JSON");
    let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    assert_eq!(keys, ["clientId", "clientSecret"]);
    let err = stderr(&first);
    assert!(err.starts_with("database: "), "{err}");
    assert!(err.contains("(DATABASE_URL)"), "{err}");
    assert!(
        err.contains(&format!(
            "created tenant {tenant} org main (it did not exist)"
        )),
        "{err}"
    );
    assert!(!err.contains(body["clientSecret"].as_str().unwrap()));

    // The tenant now exists: nothing about creating it.
    let second = create(&tenant.to_uppercase());
    succeeded(&second, "clients create again");
    serde_json::from_slice::<Value>(&second.stdout).expect("stdout is exactly JSON");
    assert!(
        !stderr(&second).contains("created tenant"),
        "{}",
        stderr(&second)
    );

    // The client works with the server on that database.
    let token = common::fetch_token(
        &app.anonymous,
        &app.address,
        body["clientId"].as_str().unwrap(),
        body["clientSecret"].as_str().unwrap(),
    )
    .await;
    let response = common::bearer_client(&token)
        .get(format!(
            "{}/api/{tenant}/main/identity/users/odata",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn lists_have_headers_and_json() {
    let app = spawn_app().await;
    let created = run_on(
        &app,
        &[
            "clients",
            "create",
            "--tenant",
            &app.tenant,
            "--org",
            "main",
            "--json",
        ],
    );
    succeeded(&created, "clients create");
    let client: Value = serde_json::from_slice(&created.stdout).unwrap();
    let client_id = client["clientId"].as_str().unwrap();

    let tenants = run_on(&app, &["tenants", "list"]);
    succeeded(&tenants, "tenants list");
    let text = stdout(&tenants);
    let mut lines = text.lines();
    assert_eq!(
        lines
            .next()
            .map(str::split_whitespace)
            .map(Iterator::collect::<Vec<_>>),
        Some(vec!["TENANT", "ORG"])
    );
    assert!(
        lines.any(|l| l.split_whitespace().collect::<Vec<_>>() == [app.tenant.as_str(), "main"]),
        "{text}"
    );

    let tenants = run_on(&app, &["tenants", "list", "--json"]);
    succeeded(&tenants, "tenants list --json");
    let list: Value = serde_json::from_slice(&tenants.stdout).expect("exactly JSON");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t == &serde_json::json!({"tenantKey": app.tenant, "orgKey": "main"})),
        "{list}"
    );
    assert!(stderr(&tenants).starts_with("database: "));

    let clients = run_on(&app, &["clients", "list"]);
    succeeded(&clients, "clients list");
    let text = stdout(&clients);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("CLIENT ID"), "{text}");
    for column in ["TENANT", "ORG", "SCOPES", "CREATED", "STATUS"] {
        assert!(header.contains(column), "{header}");
    }
    let row = text
        .lines()
        .find(|l| l.starts_with(client_id))
        .unwrap_or_else(|| panic!("{client_id} not listed: {text}"));
    assert!(
        row.contains("identity.read identity.write") && row.ends_with("active"),
        "{row}"
    );
    // The columns line up under the header.
    let tenant_column = header.find("TENANT").unwrap();
    assert_eq!(
        &row[tenant_column..tenant_column + app.tenant.len()],
        app.tenant
    );

    let clients = run_on(&app, &["clients", "list", "--json"]);
    let list: Value = serde_json::from_slice(&clients.stdout).expect("exactly JSON");
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|c| c["clientId"] == client_id)
    );
}

#[test]
fn help_describes_every_flag_and_the_environment() {
    let dir = temp_dir();
    let help = run_in(&dir, &["--help"], &[]);
    succeeded(&help, "--help");
    let text = stdout(&help);
    assert!(text.contains("identity service"), "{text}");
    assert!(text.contains("[env: APP_CONFIG"), "{text}");
    for name in Settings::env_names() {
        assert!(text.contains(&name), "{name} missing:\n{text}");
    }
    let help = run_in(&dir, &["clients", "create", "--help"], &[]);
    let text = stdout(&help);
    for flag in ["--tenant", "--org", "--scope", "--json", "--config"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} missing: {text}"));
        // The help is on the flag's line or the next one (long help).
        let next = text.lines().skip_while(|l| *l != line).nth(1).unwrap_or("");
        assert!(
            line.trim_start().len() > flag.len() + 10 || !next.trim().is_empty(),
            "{flag} has no help: {text}"
        );
    }
    // A database URL in the environment is not echoed by --help.
    let help = run_in(
        &dir,
        &["serve", "--help"],
        &[
            ("DATABASE_URL", "postgres://app:s3cret@db/ids"),
            ("APP_BIND", "127.0.0.1:9"),
        ],
    );
    let text = stdout(&help);
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("[env: APP_BIND=127.0.0.1:9]"), "{text}");
}

#[test]
fn completions_for_every_shell() {
    let dir = temp_dir();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = run_in(&dir, &["completions", shell], &[]);
        succeeded(&output, shell);
        let script = stdout(&output);
        for word in [
            "odata-users",
            "clients",
            "tenants",
            "completions",
            "--tenant",
        ] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
        assert!(stderr(&output).is_empty(), "{shell}: {}", stderr(&output));
    }
    assert!(!dir.join("data").exists(), "completions touched a database");
    let output = run_in(&dir, &["completions", "tcsh"], &[]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );

    // bash loads the script and completes subcommands with it.
    let script = dir.join("odata-users.bash");
    std::fs::write(&script, run_in(&dir, &["completions", "bash"], &[]).stdout).unwrap();
    let output = Command::new("bash")
        .arg("-c")
        .arg(
            r#"source "$1" && complete -p odata-users >/dev/null &&
               COMP_WORDS=(odata-users cli) COMP_CWORD=1 COMP_LINE="odata-users cli" COMP_POINT=15 &&
               "$(complete -p odata-users | sed -E 's/.*-F ([^ ]+).*/\1/')" odata-users cli odata-users &&
               printf '%s\n' "${COMPREPLY[@]}""#,
        )
        .arg("bash")
        .arg(&script)
        .output()
        .expect("run bash");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "clients", "{}", stdout(&output));
}

/// The sample configuration file names every key of `Settings`; its active
/// lines are the defaults and its commented-out `key = value` lines are
/// valid settings.
#[test]
fn the_sample_configuration_file_has_every_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/odata-users.example.toml");
    let text = std::fs::read_to_string(&path).expect("docs/odata-users.example.toml");

    let active: toml::Table = toml::from_str(&text).expect("valid TOML");
    let mut named: Vec<String> = active.keys().cloned().collect();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# ") else {
            continue;
        };
        let Some((key, _)) = rest.split_once(" = ") else {
            continue;
        };
        if !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        assert!(!named.contains(&key.to_owned()), "{key} appears twice");
        toml::from_str::<Settings>(rest)
            .unwrap_or_else(|e| panic!("commented-out line {rest:?} is not a valid setting: {e}"));
        named.push(key.to_owned());
    }
    let keys = Settings::keys();
    let missing: Vec<&&str> = keys
        .iter()
        .filter(|k| !named.iter().any(|n| n == *k))
        .collect();
    let unknown: Vec<&String> = named
        .iter()
        .filter(|n| !keys.contains(&n.as_str()))
        .collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "docs/odata-users.example.toml lacks {missing:?} and names unknown keys {unknown:?}"
    );

    // The active values are the defaults.
    let loaded = Settings::from_sources(Some(&text), |_| None).expect("the sample loads");
    assert_eq!(loaded, Settings::default());

    // And the binary reads it.
    let dir = temp_dir();
    let output = run_in(
        &dir,
        &[
            "--config",
            path.to_str().unwrap(),
            "tenants",
            "create",
            "--tenant",
            "a",
            "--org",
            "b",
        ],
        &[],
    );
    succeeded(&output, "tenants create --config sample");
    assert!(default_db(&dir).exists());
}

/// The README's block marked `<!-- run by tests/api/cli.rs -->`, run by bash
/// with the binary on the PATH, from a scratch home directory.
#[test]
fn the_readme_command_line_example_runs() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let marker = "<!-- run by tests/api/cli.rs -->";
    let after = &readme[readme.find(marker).expect("the marker in README.md") + marker.len()..];
    let block = after
        .trim_start()
        .strip_prefix("```sh\n")
        .expect("a sh block right after the marker");
    let script = &block[..block.find("\n```").expect("the end of the block")];

    let home = temp_dir();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(script)
        .current_dir(&home)
        .env("HOME", &home)
        .env("PATH", path)
        .env("TMPDIR", &home)
        .env("RUST_LOG", "warn");
    for name in Settings::env_names() {
        command.env_remove(name);
    }
    let output = command.env_remove("APP_CONFIG").output().expect("run bash");
    succeeded(&output, &format!("the README example\n{script}\n"));
    let text = stdout(&output);
    assert!(text.contains("created tenant acme org main"), "{text}");
    assert!(text.contains("TENANT  ORG\nacme    main"), "{text}");
    assert!(text.contains("\"clientId\""), "{text}");
    assert!(
        stderr(&output).contains("database: SQLite "),
        "{}",
        stderr(&output)
    );
}
