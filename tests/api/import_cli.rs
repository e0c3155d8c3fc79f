//! `odata-users generate`, `odata-users import` and `odata-users demo`
//! through the real binary, the last two run against the test application's database (SQLite, or the server backend
//! of `ODATA_TEST_BACKEND`), then the data read back over HTTP.

use crate::common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{TestApp, json_of, spawn_app, spawn_app_with, temp_dir};
use reqwest::StatusCode;
use serde_json::{Value, json};

const USERS: &str = "peer.users-Users.csv";
const ROLES: &str = "peer.users-Roles.csv";
const USER_ROLES: &str = "peer.users-UserRoles.csv";

/// `odata-users generate n` with a seed of its own per call: on a server backend
/// the tests of this file share one database, where imported ids must be
/// unique.
fn generate(n: usize) -> PathBuf {
    static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);
    generate_seeded(n, SEED.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// `odata-users generate n DIR --seed seed` (the library call).
fn generate_seeded(n: usize, seed: u64) -> PathBuf {
    common::generate_users(n, seed)
}

/// A fresh SQLite database URL in its own directory (for an empty database
/// whatever the backend under test).
fn fresh_db() -> String {
    format!("sqlite://{}?mode=rwc", temp_dir().join("cli.db").display())
}

/// Runs the binary with `DATABASE_URL` set, from an empty directory (so no
/// `odata-users.toml` is picked up).
fn cli(db_url: &str, args: &[&str]) -> Output {
    let cwd = temp_dir();
    Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("APP_DEMO", "false")
        .env("RUST_LOG", "warn")
        .current_dir(cwd)
        .output()
        .expect("run odata-users")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The data rows of a generated CSV file as header -> value maps (the
/// generator never quotes: its values hold no commas or quotes).
fn rows(dir: &Path, file: &str) -> Vec<HashMap<String, String>> {
    let content = std::fs::read_to_string(dir.join(file)).expect("read csv");
    let mut lines = content.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|line| {
            assert!(!line.contains('"'), "unexpected quoting in {line}");
            header
                .iter()
                .cloned()
                .zip(line.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

/// Replaces one field of a CSV file (`line` is 1-based, the header is line 1).
fn corrupt(dir: &Path, file: &str, line: usize, column: usize, value: &str) {
    let path = dir.join(file);
    let content = std::fs::read_to_string(&path).expect("read csv");
    let mut lines: Vec<String> = content.lines().map(str::to_owned).collect();
    let mut fields: Vec<&str> = lines[line - 1].split(',').collect();
    fields[column - 1] = value;
    lines[line - 1] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write csv");
}

async fn get(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client.get(url).send().await.expect("GET")
}

async fn count(client: &reqwest::Client, url: &str) -> u64 {
    let body = json_of(get(client, url).await, StatusCode::OK).await;
    body["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no count in {body}"))
}

async fn tenant_exists(app: &TestApp, tenant: &str, org: &str) -> bool {
    identity_service::storage::tenants::find(&app.pool, tenant, org)
        .await
        .expect("look the tenant up")
        .is_some()
}

fn null_if_empty(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { json!(s) }
}

#[tokio::test]
async fn import_loads_the_generated_files_and_refuses_a_second_run() {
    // Seed 42 (the default): its 50 users include one without culture.
    let data = generate_seeded(50, 42);
    let app = spawn_app().await;
    let db = app.db_url.clone();
    let out = cli(
        &db,
        &[
            "import",
            "--tenant",
            "Imp",
            "--org",
            "Main",
            data.to_str().expect("utf-8 path"),
        ],
    );
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "import failed: {}\n{stdout}",
        text(&out.stderr)
    );
    assert!(stdout.contains(USERS) && stdout.contains("50"), "{stdout}");

    // A client of the imported tenant reads it back.
    let imp = app.tenant_client("imp", "main").await;
    let base = format!("{}/api/imp/main/identity", app.address);
    assert_eq!(
        count(&imp, &format!("{base}/users/odata?$count=true&$top=1")).await,
        50
    );
    assert_eq!(
        count(&imp, &format!("{base}/roles/odata?$count=true&$top=1")).await,
        20
    );
    assert_eq!(
        count(&imp, &format!("{base}/groups/odata?$count=true&$top=1")).await,
        50
    );
    // The tenant key is matched case-insensitively and kept as given.
    assert_eq!(
        count(
            &imp,
            &format!(
                "{}/api/IMP/MAIN/identity/users/odata?$count=true",
                app.address
            )
        )
        .await,
        50
    );

    let role_keys: HashMap<String, String> = rows(&data, ROLES)
        .into_iter()
        .map(|r| (r["ID"].clone(), r["roleKey"].clone()))
        .collect();
    let links = rows(&data, USER_ROLES);
    let users = rows(&data, USERS);
    for row in users.iter().take(8) {
        let user = json_of(
            get(&imp, &format!("{base}/users/{}", row["ID"])).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(user["id"], json!(row["ID"]));
        assert_eq!(user["userKey"], json!(row["userKey"]));
        assert_eq!(user["name"], json!(row["name"]));
        assert_eq!(user["email"], null_if_empty(&row["email"]));
        assert_eq!(
            user["picture"],
            null_if_empty(&row["picture"]),
            "external pictures are kept"
        );
        assert_eq!(user["lastLogin"], null_if_empty(&row["lastLogin"]));
        assert_eq!(
            user["status"],
            json!(row["status"].parse::<i64>().expect("status"))
        );
        assert_eq!(user["isActive"], json!(row["isActive"] == "true"));
        assert_eq!(user["isTechnician"], json!(row["isTechnician"] == "true"));
        if !row["culture"].is_empty() {
            assert_eq!(user["culture"], json!(row["culture"]));
        }
        let mut expected: Vec<String> = links
            .iter()
            .filter(|l| l["user_ID"] == row["ID"])
            .map(|l| role_keys[&l["role_ID"]].clone())
            .collect();
        expected.sort_by_key(|k| k.to_lowercase());
        assert_eq!(
            user["roles"],
            json!(expected),
            "roles of {}",
            row["userKey"]
        );
    }
    // An empty culture stays null (the data README).
    let blank = users
        .iter()
        .find(|u| u["culture"].is_empty())
        .expect("the generated data has a user without culture");
    let user = json_of(
        get(&imp, &format!("{base}/users/{}", blank["ID"])).await,
        StatusCode::OK,
    )
    .await;
    assert!(user["culture"].is_null(), "culture {}", user["culture"]);

    let admin = json_of(
        get(&imp, &format!("{base}/roles/admin")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(admin["description"], "Administrator");
    // No client wrote the rows: the import's marker is their author.
    assert_eq!(
        (&admin["createdBy"], &admin["modifiedBy"]),
        (&json!("import"), &json!("import"))
    );
    for set in ["users", "roles", "groups"] {
        assert_eq!(
            count(
                &imp,
                &format!(
                    "{base}/{set}/odata?$count=true&$top=1\
                     &$filter=createdBy%20eq%20'import'%20and%20modifiedBy%20eq%20'import'"
                )
            )
            .await,
            if set == "roles" { 20 } else { 50 },
            "{set}"
        );
    }
    assert_eq!(
        (
            &admin["isAdministration"],
            &admin["isDefault"],
            &admin["isInternal"]
        ),
        (&json!(false), &json!(false), &json!(false))
    );

    // Invited users are imported as they are, without an invitation.
    let invited = users
        .iter()
        .find(|u| u["status"] == "3")
        .expect("an invited user");
    let user = json_of(
        get(&imp, &format!("{base}/users/{}", invited["ID"])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(user["status"], 3);

    let again = cli(
        &db,
        &[
            "import",
            "--tenant",
            "imp",
            "--org",
            "main",
            data.to_str().expect("utf-8 path"),
        ],
    );
    let stderr = text(&again.stderr);
    assert!(
        !again.status.success(),
        "a second import of the same ids must fail"
    );
    assert!(
        stderr.contains("already exists") && stderr.contains("line 2"),
        "{stderr}"
    );
    assert_eq!(
        count(&imp, &format!("{base}/users/odata?$count=true&$top=1")).await,
        50
    );

    // Ids are kept and unique in the database: the same files cannot go
    // into a second tenant; refused before anything (the tenant included)
    // is written.
    let elsewhere = cli(
        &db,
        &[
            "import",
            "--tenant",
            "imp2",
            "--org",
            "main",
            data.to_str().expect("utf-8 path"),
        ],
    );
    let stderr = text(&elsewhere.stderr);
    assert!(!elsewhere.status.success());
    for needle in [ROLES, "line 2", "column 1", "another tenant"] {
        assert!(stderr.contains(needle), "{needle:?} missing from: {stderr}");
    }
    assert!(!tenant_exists(&app, "imp2", "main").await);
}

#[tokio::test]
async fn a_bad_row_names_file_line_and_column_and_nothing_is_imported() {
    let data = generate(20);
    corrupt(&data, USERS, 4, 7, "not-an-email");
    let app = spawn_app().await;
    let db = app.db_url.clone();
    let dir = data.to_str().expect("utf-8 path");
    let out = cli(&db, &["import", "--tenant", "bad", "--org", "main", dir]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    for needle in [USERS, "line 4", "column 7", "email", "not-an-email"] {
        assert!(stderr.contains(needle), "{needle:?} missing from: {stderr}");
    }

    // A membership that points at no role: the error names that file.
    let data2 = generate(20);
    corrupt(
        &data2,
        USER_ROLES,
        2,
        2,
        "0f8fad5b-d9cb-469f-a165-70867728950e",
    );
    let out = cli(
        &db,
        &[
            "import",
            "--tenant",
            "bad",
            "--org",
            "main",
            data2.to_str().expect("path"),
        ],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    for needle in [USER_ROLES, "line 2", "column 2", "role_ID"] {
        assert!(stderr.contains(needle), "{needle:?} missing from: {stderr}");
    }

    // Nothing was written, not even the tenant.
    assert!(!tenant_exists(&app, "bad", "main").await);

    // A directory without the files is an error too.
    let empty = temp_dir();
    let out = cli(
        &db,
        &[
            "import",
            "--tenant",
            "bad",
            "--org",
            "main",
            empty.to_str().expect("path"),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains(USERS), "{}", text(&out.stderr));
}

#[tokio::test]
async fn demo_seeds_the_demo_tenant_from_the_cli_and_on_an_empty_database() {
    // The demo tenant is one per database.
    let app = common::spawn_app_alone().await;
    let db = app.db_url.clone();
    let out = cli(&db, &["demo", "--users", "40"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "demo failed: {}", text(&out.stderr));
    assert!(
        stdout.contains("40 users") && stdout.contains("curl"),
        "{stdout}"
    );
    // The demo client printed once works: a token, then the API.
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {prefix:?} line in {stdout}"))
    };
    let (id, secret) = (line("client id:"), line("client secret:"));
    let token = common::fetch_token(&app.anonymous, &app.address, &id, &secret).await;
    let demo = common::bearer_client(&token);
    let again = cli(&db, &["demo", "--users", "40"]);
    assert!(!again.status.success(), "the demo tenant already has users");

    let base = format!("{}/api/demo/main/identity", app.address);
    assert_eq!(
        count(&demo, &format!("{base}/users/odata?$count=true&$top=1")).await,
        40
    );
    // The demo data's author is the demo's marker.
    for set in ["users", "roles", "groups"] {
        assert_eq!(
            count(
                &demo,
                &format!(
                    "{base}/{set}/odata?$count=true&$top=1\
                     &$filter=createdBy%20ne%20'demo'%20or%20modifiedBy%20ne%20'demo'"
                )
            )
            .await,
            0,
            "{set}"
        );
    }
    let first = json_of(
        get(&demo, &format!("{base}/users/odata?$top=1")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["items"][0]["createdBy"], "demo", "{first}");
    assert_eq!(
        count(&demo, &format!("{base}/roles/odata?$count=true&$top=1")).await,
        20
    );

    // serve on an empty database with demo data on: seeded before the
    // harness adds its own tenant.
    let seeded = spawn_app_with(|s| {
        s.database_url = fresh_db();
        s.demo = true;
        s.demo_users = 25;
    })
    .await;
    let demo = seeded.tenant_client("demo", "main").await;
    let base = format!("{}/api/demo/main/identity", seeded.address);
    assert_eq!(
        count(&demo, &format!("{base}/users/odata?$count=true&$top=1")).await,
        25
    );
    assert_eq!(
        count(&demo, &format!("{base}/groups/odata?$count=true&$top=1")).await,
        50
    );
}

/// The five files, in the order `sample_data::CsvFiles` lists them.
const FILES: [&str; 5] = [
    USERS,
    ROLES,
    "peer.users-Groups.csv",
    USER_ROLES,
    "peer.users-UserGroups.csv",
];

#[test]
fn generate_writes_the_five_files_without_a_database() {
    // From an empty directory with no DATABASE_URL: nothing but DIR is written.
    let cwd = temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args(["generate", "50", "out/data", "--seed", "42"])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .current_dir(&cwd)
        .output()
        .expect("run odata-users");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    assert_eq!(
        stdout.trim_end(),
        "wrote 50 users, 20 roles, 50 groups, 112 user-role links, 71 user-group links (seed 42) to out/data"
    );
    let mut entries: Vec<String> = std::fs::read_dir(&cwd)
        .expect("list cwd")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["out"], "no database or other file is created");

    // The same bytes as the library writes (whose SHA-256 the unit tests
    // compare with the Python generator's).
    let mut expected = identity_service::sample_data::CsvFiles {
        users: Vec::new(),
        roles: Vec::new(),
        groups: Vec::new(),
        user_roles: Vec::new(),
        user_groups: Vec::new(),
    };
    identity_service::sample_data::write_csv(50, 42, &mut expected).expect("write");
    let expected = [
        expected.users,
        expected.roles,
        expected.groups,
        expected.user_roles,
        expected.user_groups,
    ];
    for (file, bytes) in FILES.iter().zip(&expected) {
        let written = std::fs::read(cwd.join("out/data").join(file)).expect("read back");
        assert!(
            written == *bytes,
            "{file} differs from the library's output"
        );
    }
    assert_eq!(rows(&cwd.join("out/data"), USERS).len(), 50);

    // The seed changes the data; the default seed is 42.
    let other = Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args(["generate", "50", "seed7"])
        .args(["--seed", "7"])
        .current_dir(&cwd)
        .output()
        .expect("run odata-users");
    assert!(other.status.success());
    assert_ne!(
        std::fs::read(cwd.join("seed7").join(USERS)).expect("read"),
        expected[0]
    );
    let default = Command::new(env!("CARGO_BIN_EXE_odata-users"))
        .args(["generate", "50", "default"])
        .current_dir(&cwd)
        .output()
        .expect("run odata-users");
    assert!(default.status.success());
    assert_eq!(
        std::fs::read(cwd.join("default").join(USERS)).expect("read"),
        expected[0]
    );
}

#[test]
fn generate_refuses_bad_arguments_with_a_message() {
    let cwd = temp_dir();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_odata-users"))
            .args(args)
            .current_dir(&cwd)
            .output()
            .expect("run odata-users")
    };
    // Not a number: clap's usage error (exit code 2).
    let out = run(&["generate", "many", "dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'many'"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["generate", "5", "dir", "--seed", "-1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // DIR is a file: one error line naming it (exit code 1).
    std::fs::write(cwd.join("taken"), "x").expect("write");
    let out = run(&["generate", "5", "taken"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("taken"),
        "{stderr}"
    );
    // Every flag has help text.
    let out = run(&["generate", "--help"]);
    let help = text(&out.stdout);
    assert!(out.status.success());
    for line in [
        "Number of users to generate",
        "Directory to write the files into",
        "--seed <SEED>",
        "Seed of the random generator",
        "[default: 42]",
    ] {
        assert!(help.contains(line), "{line} missing from:\n{help}");
    }
}

#[tokio::test]
async fn an_import_of_links_marks_the_existing_users_it_changes() {
    let app = spawn_app().await;
    let user = app
        .create_user(json!({"userKey": "kim", "name": "Kim", "isTechnician": false}))
        .await;
    let role = app.create_role(json!({"roleKey": "crew"})).await;
    let dir = temp_dir();
    std::fs::write(
        dir.join(USER_ROLES),
        format!("user_ID,role_ID\n{user},{role}\n"),
    )
    .expect("write the links file");
    let out = cli(
        &app.db_url,
        &[
            "import",
            "--tenant",
            &app.tenant,
            "--org",
            "main",
            dir.to_str().expect("utf-8 path"),
        ],
    );
    assert!(
        out.status.success(),
        "import failed: {}\n{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    let kim = app.get_user("kim").await;
    assert_eq!(kim["roles"], json!(["crew"]));
    assert_eq!(
        (&kim["createdBy"], &kim["modifiedBy"], &kim["version"]),
        (&json!(app.client_id), &json!("import"), &json!(2))
    );
    // The role itself did not change.
    let crew = json_of(app.get("roles/crew").await, StatusCode::OK).await;
    assert_eq!(crew["modifiedBy"], json!(app.client_id));
}
