//! Loading settings: defaults, the file, the environment, the checks.

use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn defaults_without_file_or_env() {
    let s = Settings::from_sources(None, env(&[])).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.bind, "127.0.0.1:8080");
    assert_eq!(s.max_picture_bytes, 1_048_576);
    assert_eq!(s.invitation_ttl_seconds, 604_800);
}

#[test]
fn file_then_env_override() {
    let file = "bind = \"0.0.0.0:9000\"\ndemo = false\nmax_picture_bytes = 10\n";
    let s = Settings::from_sources(
        Some(file),
        env(&[
            ("APP_BIND", "127.0.0.1:1"),
            ("APP_PUBLIC_URL", "https://x.test/"),
        ]),
    )
    .unwrap();
    assert_eq!(s.bind, "127.0.0.1:1");
    assert!(!s.demo);
    assert_eq!(s.max_picture_bytes, 10);
    assert_eq!(s.public_url.as_deref(), Some("https://x.test"));
}

#[test]
fn every_limit_has_its_variable() {
    let s = Settings::from_sources(
        Some("max_json_bytes = 1\nmax_query_length = 2\n"),
        env(&[
            ("APP_DEMO_USERS", "7"),
            ("APP_MAX_QUERY_LENGTH", "100"),
            ("APP_MAX_JSON_BYTES", "2048"),
            ("APP_SHUTDOWN_TIMEOUT_SECONDS", "3"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (
            s.demo_users,
            s.max_query_length,
            s.max_json_bytes,
            s.shutdown_timeout_seconds
        ),
        (7, 100, 2048, 3)
    );
}

#[test]
fn sqlite_readers_from_file_and_env() {
    assert!(Settings::default().sqlite_readers >= 1);
    let s = Settings::from_sources(Some("sqlite_readers = 3\n"), env(&[])).unwrap();
    assert_eq!(s.sqlite_readers, 3);
    let s = Settings::from_sources(
        Some("sqlite_readers = 3\n"),
        env(&[("APP_SQLITE_READERS", "0")]),
    )
    .unwrap();
    assert_eq!(s.sqlite_readers, 0);
    assert!(Settings::from_sources(None, env(&[("APP_SQLITE_READERS", "-1")])).is_err());
    assert!(Settings::from_sources(None, env(&[("APP_SQLITE_READERS", "257")])).is_err());
    assert_eq!(Settings::default().sqlite_inline_ms, 10);
    let s = Settings::from_sources(None, env(&[("APP_SQLITE_INLINE_MS", "0")])).unwrap();
    assert_eq!(s.sqlite_inline_ms, 0);
    assert!(Settings::from_sources(None, env(&[("APP_SQLITE_INLINE_MS", "1001")])).is_err());
}

#[test]
fn compression_and_cors_settings() {
    let s = Settings::from_sources(None, env(&[])).unwrap();
    assert!(s.gzip && s.cors_origins.is_empty());
    assert_eq!(s.gzip_min_bytes, 1024);
    let s = Settings::from_sources(
        None,
        env(&[
            ("APP_GZIP", "false"),
            ("APP_GZIP_MIN_BYTES", "4096"),
            (
                "APP_CORS_ORIGINS",
                " https://bi.example.com , http://localhost:3000,",
            ),
        ]),
    )
    .unwrap();
    assert!(!s.gzip);
    assert_eq!(s.gzip_min_bytes, 4096);
    assert_eq!(
        s.cors_origins,
        ["https://bi.example.com", "http://localhost:3000"]
    );
    let s = Settings::from_sources(Some("cors_origins = [\"*\"]\n"), env(&[])).unwrap();
    assert_eq!(s.cors_origins, ["*"]);
    for bad in [
        "https://bi.example.com/",
        "https://bi.example.com/app",
        "bi.example.com",
        "ftp://x.test",
    ] {
        assert!(
            Settings::from_sources(None, env(&[("APP_CORS_ORIGINS", bad)])).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn bad_values_are_errors() {
    assert!(Settings::from_sources(None, env(&[("APP_DEMO", "maybe")])).is_err());
    assert!(Settings::from_sources(None, env(&[("APP_MAX_PICTURE_BYTES", "-1")])).is_err());
    assert!(Settings::from_sources(None, env(&[("APP_MAX_JSON_BYTES", "lots")])).is_err());
    assert!(Settings::from_sources(Some("nope = 1"), env(&[])).is_err());
    assert!(Settings::from_sources(None, env(&[("APP_PUBLIC_URL", "ftp://x")])).is_err());
    assert!(Settings::from_sources(None, env(&[("APP_TRUSTED_PROXIES", "10/8")])).is_err());
}

#[test]
fn the_signing_key_comes_from_one_place() {
    let s = Settings::from_sources(None, env(&[("APP_SIGNING_KEY_FILE", "/run/key")])).unwrap();
    assert_eq!(s.signing_key_file, Some(PathBuf::from("/run/key")));
    assert!(
        Settings::from_sources(
            None,
            env(&[
                ("APP_SIGNING_KEY_FILE", "/run/key"),
                ("APP_SIGNING_KEY", "a2V5")
            ])
        )
        .is_err()
    );
}

#[test]
fn trusted_proxies_from_file_and_env() {
    assert!(Settings::default().trusted_proxies.is_empty());
    let s = Settings::from_sources(Some("trusted_proxies = [\"10.0.0.0/8\"]\n"), env(&[])).unwrap();
    assert!(s.trusted_proxies.contains("10.9.9.9".parse().unwrap()));
    let s = Settings::from_sources(
        Some("trusted_proxies = \"10.0.0.0/8\"\n"),
        env(&[("APP_TRUSTED_PROXIES", "127.0.0.1, ::1")]),
    )
    .unwrap();
    assert!(s.trusted_proxies.contains("::1".parse().unwrap()));
    assert!(!s.trusted_proxies.contains("10.9.9.9".parse().unwrap()));
}

#[test]
fn database_settings_from_env() {
    let s = Settings::from_sources(
        Some("database_url = \"postgres://p@h/db\"\n"),
        env(&[
            ("DATABASE_READ_URL", "postgres://p@replica/db"),
            ("APP_DB_MAX_CONNECTIONS", "20"),
            ("APP_DB_MIN_CONNECTIONS", "2"),
            ("APP_DB_ACQUIRE_TIMEOUT_SECONDS", "3"),
            ("APP_DB_STATEMENT_CACHE", "false"),
        ]),
    )
    .unwrap();
    assert_eq!(
        s.database_read_url.as_deref(),
        Some("postgres://p@replica/db")
    );
    assert_eq!(
        (
            s.db_max_connections,
            s.db_min_connections,
            s.db_acquire_timeout_seconds
        ),
        (20, 2, 3)
    );
    assert!(!s.db_statement_cache);
    assert!(Settings::default().db_statement_cache);
    assert!(Settings::default().database_read_url.is_none());
    // A read URL of another database kind is refused.
    assert!(
        Settings::from_sources(None, env(&[("DATABASE_READ_URL", "postgres://h/db")])).is_err()
    );
    assert!(Settings::from_sources(None, env(&[("APP_DB_MIN_CONNECTIONS", "99")])).is_err());
}

#[test]
fn auth_settings_come_from_the_environment_and_are_checked() {
    let defaults = Settings::default();
    assert_eq!(
        (
            defaults.token_ttl_seconds,
            defaults.auth_cache_seconds,
            defaults.rate_limit_per_minute
        ),
        (900, 10, 600)
    );
    let s = Settings::from_sources(
        None,
        env(&[
            ("APP_TOKEN_TTL_SECONDS", "60"),
            ("APP_AUTH_CACHE_SECONDS", "0"),
            ("APP_RATE_LIMIT_PER_MINUTE", "0"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (
            s.token_ttl_seconds,
            s.auth_cache_seconds,
            s.rate_limit_per_minute
        ),
        (60, 0, 0)
    );
    for bad in ["0", "86401", "soon"] {
        assert!(
            Settings::from_sources(None, env(&[("APP_TOKEN_TTL_SECONDS", bad)])).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn credential_check_settings() {
    let defaults = Settings::default();
    assert!((1..=2).contains(&defaults.auth_verify_threads));
    assert_eq!(
        (
            defaults.auth_verify_queue,
            defaults.auth_failures_per_minute,
            defaults.auth_source_failures_per_minute
        ),
        (64, 10, 60)
    );
    let s = Settings::from_sources(
        None,
        env(&[
            ("APP_AUTH_VERIFY_THREADS", "4"),
            ("APP_AUTH_VERIFY_QUEUE", "0"),
            ("APP_AUTH_FAILURES_PER_MINUTE", "0"),
            ("APP_AUTH_SOURCE_FAILURES_PER_MINUTE", "5"),
        ]),
    )
    .unwrap();
    assert_eq!(
        (
            s.auth_verify_threads,
            s.auth_verify_queue,
            s.auth_failures_per_minute,
            s.auth_source_failures_per_minute
        ),
        (4, 0, 0, 5)
    );
    for bad in ["0", "65", "many"] {
        assert!(
            Settings::from_sources(None, env(&[("APP_AUTH_VERIFY_THREADS", bad)])).is_err(),
            "{bad}"
        );
    }
    assert!(Settings::from_sources(None, env(&[("APP_AUTH_VERIFY_QUEUE", "100001")])).is_err());
}

#[test]
fn keys_and_environment_variables() {
    let keys = Settings::keys();
    assert_eq!(keys.first(), Some(&"bind"));
    assert!(keys.contains(&"database_url") && keys.contains(&"debug_read_stats"));
    let names = Settings::env_names();
    assert!(names.iter().any(|n| n == "DATABASE_URL"));
    // Every variable sets the key of its name.
    for name in &names {
        let key = name
            .strip_prefix("APP_")
            .unwrap_or(name)
            .to_ascii_lowercase();
        assert!(keys.contains(&key.as_str()), "{name} sets no key {key}");
    }
}

#[test]
fn picture_limit_leaves_room_for_base64() {
    let s = Settings::default();
    assert!(s.picture_json_limit() > s.max_picture_bytes * 4 / 3);
}

#[test]
fn logging_and_telemetry_settings() {
    let s = Settings::from_sources(None, env(&[])).unwrap();
    assert_eq!(
        (
            s.log_format,
            s.otlp_endpoint.as_deref(),
            s.db_slow_statement_ms
        ),
        (LogFormat::Text, None, 1000.0)
    );
    let file = "log_format = \"json\"\ndb_slow_statement_ms = 0.25\notlp_endpoint = \"\"\n";
    let s = Settings::from_sources(Some(file), env(&[])).unwrap();
    assert_eq!(
        (
            s.log_format,
            s.otlp_endpoint.as_deref(),
            s.db_slow_statement_ms
        ),
        (LogFormat::Json, None, 0.25)
    );
    let s = Settings::from_sources(
        Some(file),
        env(&[
            ("APP_LOG_FORMAT", "Text"),
            ("APP_DB_SLOW_STATEMENT_MS", "0"),
            ("APP_OTLP_ENDPOINT", " "),
        ]),
    )
    .unwrap();
    assert_eq!(
        (
            s.log_format,
            s.otlp_endpoint.as_deref(),
            s.db_slow_statement_ms
        ),
        (LogFormat::Text, None, 0.0)
    );
    for bad in [
        ("APP_LOG_FORMAT", "yaml"),
        ("APP_DB_SLOW_STATEMENT_MS", "-1"),
        ("APP_DB_SLOW_STATEMENT_MS", "NaN"),
        (
            "APP_OTLP_ENDPOINT",
            "https://collector.example.com/v1/traces",
        ),
        ("APP_OTLP_ENDPOINT", "collector:4318"),
    ] {
        assert!(
            Settings::from_sources(None, env(&[bad])).is_err(),
            "{bad:?}"
        );
    }
    assert!(Settings::from_sources(Some("log_format = \"yaml\"\n"), env(&[])).is_err());
    // An http:// endpoint: taken with the `otlp` feature, refused without.
    let endpoint = "http://127.0.0.1:4318/v1/traces";
    let loaded = Settings::from_sources(None, env(&[("APP_OTLP_ENDPOINT", endpoint)]));
    if cfg!(feature = "otlp") {
        assert_eq!(loaded.unwrap().otlp_endpoint.as_deref(), Some(endpoint));
    } else {
        let error = loaded.unwrap_err().to_string();
        assert!(error.contains("--features otlp"), "{error}");
    }
}
