//! Read scale-out: a local PostgreSQL primary and a streaming replica made
//! with the installed PostgreSQL tools (initdb, pg_basebackup -R, pg_ctl on
//! temporary directories and free ports, run as the `postgres` user when
//! the test runs as root), the server configured with `DATABASE_URL` (the
//! primary) and `DATABASE_READ_URL` (the replica).
//!
//! With WAL replay paused on the replica, a new user and a renamed user are
//! visible at once through single-record reads (primary) but not in the
//! lists, the feed collection or `$count` (replica); after replay resumes
//! the lists catch up. PostgreSQL only (`ODATA_TEST_BACKEND=postgres`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::TestBackend;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

/// The two clusters under a temp directory; stopped and removed on drop
/// (also when the test fails).
struct Clusters {
    bin: PathBuf,
    root: PathBuf,
    primary_port: u16,
    replica_port: u16,
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for dir in ["replica", "primary"] {
            let data = self.root.join(dir);
            if data.join("postmaster.pid").exists() {
                let _ = as_postgres(&self.bin.join("pg_ctl"))
                    .args(["-D", &path(&data), "-m", "immediate", "-w", "stop"])
                    .output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program` as the `postgres` user when running as root (the tools refuse
/// to run as root), else as the current user.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The newest installed PostgreSQL's bin directory.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_basebackup").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

impl Clusters {
    /// initdb + start the primary, pg_basebackup -R + start the replica.
    fn start(bin: PathBuf) -> Clusters {
        let root = std::env::temp_dir().join(format!("odata-replica-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&root).expect("temp dir");
        let clusters = Clusters {
            bin,
            root,
            primary_port: free_port(),
            replica_port: free_port(),
        };
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres", &path(&clusters.root)]);
                    c
                },
                "chown the temp dir",
            );
        }
        let primary = clusters.root.join("primary");
        let replica = clusters.root.join("replica");
        let mut initdb = as_postgres(&clusters.bin.join("initdb"));
        initdb.args([
            "-D",
            &path(&primary),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(initdb, "initdb");
        clusters.pg_ctl_start(&primary, clusters.primary_port, "primary");
        let mut basebackup = as_postgres(&clusters.bin.join("pg_basebackup"));
        basebackup.args([
            "-h",
            "127.0.0.1",
            "-p",
            &clusters.primary_port.to_string(),
            "-U",
            "postgres",
            "-D",
            &path(&replica),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        ]);
        run(basebackup, "pg_basebackup");
        clusters.pg_ctl_start(&replica, clusters.replica_port, "replica");
        clusters
    }

    fn pg_ctl_start(&self, data: &Path, port: u16, name: &str) {
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c full_page_writes=off -c max_connections=40 -c shared_buffers=16MB",
            path(&self.root)
        );
        let mut pg_ctl = as_postgres(&self.bin.join("pg_ctl"));
        pg_ctl.args([
            "-D",
            &path(data),
            "-l",
            &path(&self.root.join(format!("{name}.log"))),
            "-o",
            &options,
            "-w",
            "-t",
            "60",
            "start",
        ]);
        run(pg_ctl, &format!("pg_ctl start {name}"));
    }

    fn url(&self, port: u16, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{database}")
    }
}

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("one row");
    row.try_get::<String>("", "v")
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Waits until the replica has replayed everything the primary wrote so far.
async fn caught_up(primary: &DatabaseConnection, replica: &DatabaseConnection) {
    let target = scalar(primary, "SELECT pg_current_wal_insert_lsn()::text AS v").await;
    for _ in 0..400 {
        let behind = scalar(
            replica,
            &format!(
                "SELECT (coalesce(pg_last_wal_replay_lsn(), '0/0') < '{target}'::pg_lsn)::text AS v"
            ),
        )
        .await;
        if behind == "false" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the replica did not catch up with the primary (LSN {target})");
}

fn user_keys(list: &Value) -> Vec<String> {
    let mut keys: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|u| u["userKey"].as_str().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn lists_read_from_the_replica_and_single_reads_and_writes_from_the_primary() {
    if common::test_backend() != TestBackend::Postgres {
        println!("replica: SKIPPED (PostgreSQL only; run with ODATA_TEST_BACKEND=postgres)");
        return;
    }
    let Some(bin) = postgres_bin() else {
        assert!(
            std::env::var("CI").is_err(),
            "replica: the PostgreSQL server tools (initdb, pg_basebackup, pg_ctl) are required in CI"
        );
        println!(
            "replica: SKIPPED (PostgreSQL server tools not installed under /usr/lib/postgresql)"
        );
        return;
    };
    let clusters = Clusters::start(bin);
    let admin = Database::connect(clusters.url(clusters.primary_port, "postgres"))
        .await
        .expect("connect to the primary");
    exec(&admin, "CREATE DATABASE identity").await;
    let primary_url = clusters.url(clusters.primary_port, "identity");
    let replica_url = clusters.url(clusters.replica_port, "identity");
    let primary = Database::connect(&primary_url).await.expect("primary");
    // The replica has the database once it has replayed its creation.
    let replica_admin = Database::connect(clusters.url(clusters.replica_port, "postgres"))
        .await
        .expect("connect to the replica");
    caught_up(&admin, &replica_admin).await;
    assert_eq!(
        scalar(&replica_admin, "SELECT pg_is_in_recovery()::text AS v").await,
        "true",
        "the second cluster is a standby"
    );
    let replica = Database::connect(&replica_url).await.expect("replica");

    let app = common::spawn_app_with(|s| {
        s.database_url = primary_url.clone();
        s.database_read_url = Some(replica_url.clone());
        s.db_max_connections = 4;
    })
    .await;
    let ann = app
        .create_user(json!({"userKey": "ann", "name": "Ann", "isTechnician": false}))
        .await;
    caught_up(&primary, &replica).await;
    assert_eq!(user_keys(&app.get_users("").await), ["ann"]);

    // Freeze the replica: what is written now reaches it only after resume.
    exec(&replica, "SELECT pg_wal_replay_pause()").await;
    for _ in 0..400 {
        if scalar(&replica, "SELECT pg_get_wal_replay_pause_state() AS v").await == "paused" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        scalar(&replica, "SELECT pg_get_wal_replay_pause_state() AS v").await,
        "paused"
    );

    let bob = app
        .create_user(json!({"userKey": "bob", "name": "Bob", "isTechnician": true}))
        .await;
    let response = app
        .put_json(&format!("users/{ann}/name"), &json!("Annie"))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "write on the primary");

    // Single-record reads: the primary, current at once.
    assert_eq!(app.get_user(&bob).await["userKey"], "bob");
    assert_eq!(app.get_user("bob").await["id"], bob.as_str());
    assert_eq!(app.get_user(&ann).await["name"], "Annie");
    let feed = format!("{}/api/{}/main/odata", app.address, app.tenant);
    let single = app.get(&format!("{feed}/Users({bob})")).await;
    assert_eq!(
        single.status(),
        StatusCode::OK,
        "feed single entity from the primary"
    );

    // Lists: the replica, which has not seen the writes yet.
    let list = app.get_users("$count=true").await;
    assert_eq!(user_keys(&list), ["ann"], "{list}");
    assert_eq!(list["count"], 1);
    assert_eq!(
        list["items"][0]["name"], "Ann",
        "the replica still has the old name"
    );
    let filtered = app.get_users("$filter=name eq 'Annie'").await;
    assert_eq!(user_keys(&filtered), Vec::<String>::new());
    let users = common::json_of(app.get(&format!("{feed}/Users")).await, StatusCode::OK).await;
    assert_eq!(users["value"].as_array().map(Vec::len), Some(1), "{users}");
    let count = app.get(&format!("{feed}/Users/$count")).await;
    assert_eq!(count.text().await.expect("count"), "1");

    // Replay resumes: the lists catch up.
    exec(&replica, "SELECT pg_wal_replay_resume()").await;
    caught_up(&primary, &replica).await;
    let list = app.get_users("$count=true&$orderby=userKey").await;
    assert_eq!(user_keys(&list), ["ann", "bob"], "{list}");
    assert_eq!(list["count"], 2);
    assert_eq!(list["items"][0]["name"], "Annie");
    let count = app.get(&format!("{feed}/Users/$count")).await;
    assert_eq!(count.text().await.expect("count"), "2");

    // The replica is read-only: had any write gone to it, it would have failed.
    let written = scalar(&replica, "SELECT count(*)::text AS v FROM users").await;
    assert_eq!(written, "2");
    drop(app);
    drop(clusters);
}
