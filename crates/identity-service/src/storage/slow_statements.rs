//! Warnings about slow database statements that never carry the
//! statement's text nor its bound values: a summary (the statement's first
//! keyword and the table it names), its length and its duration.
//!
//! sqlx's own slow-statement warning (`sqlx::query`, "slow statement:
//! execution time exceeded alert threshold") prints the whole SQL text; it
//! is turned off on every pool ([`quiet_slow_statements`]), and SeaORM's
//! per-statement callback ([`watch`]) warns instead, from the
//! `db_slow_statement_ms` setting (`APP_DB_SLOW_STATEMENT_MS`, 0: off).
//! Statements are still logged with their text at `DEBUG`
//! (`RUST_LOG=sqlx=debug`), for a developer who asks for them.

use std::time::Duration;

use log::LevelFilter;
use sea_orm::DatabaseConnection;
use sea_orm::sqlx::ConnectOptions;

/// sqlx's connect options with its slow-statement warning off: no
/// statement is ever "slow" to sqlx, so each one is logged at the ordinary
/// statement level (`DEBUG`), never at `WARN` with its text.
pub fn quiet_slow_statements<O: ConnectOptions>(options: O) -> O {
    options.log_slow_statements(LevelFilter::Off, Duration::MAX)
}

/// Warns about every statement of `conn` slower than `threshold_ms`
/// milliseconds (0, or not a duration: no callback at all, so nothing is
/// timed).
pub fn watch(conn: &mut DatabaseConnection, threshold_ms: f64) {
    let threshold = match Duration::try_from_secs_f64(threshold_ms / 1000.0) {
        Ok(threshold) if !threshold.is_zero() => threshold,
        _ => return,
    };
    conn.set_metric_callback(move |info| {
        if info.elapsed >= threshold {
            let sql = &info.statement.sql;
            tracing::warn!(
                statement = %summary(sql),
                sql_bytes = sql.len(),
                // Milliseconds to the microsecond.
                elapsed_ms = info.elapsed.as_micros() as f64 / 1000.0,
                threshold_ms,
                failed = info.failed,
                "slow statement"
            );
        }
    });
}

/// `KEYWORD table` of a statement: its first word in capitals, and the
/// table after the first `FROM` (a `SELECT` or `DELETE`), `INTO` (an
/// `INSERT` or `REPLACE`) or the keyword itself (`UPDATE`), when that is a
/// plain identifier (quotes dropped). Nothing else of the text: no column,
/// no condition, no literal.
pub fn summary(sql: &str) -> String {
    let mut words = sql.split_whitespace();
    let Some(first) = words.next() else {
        return "(empty)".to_owned();
    };
    let keyword: String = first
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .take(16)
        .collect::<String>()
        .to_ascii_uppercase();
    if keyword.is_empty() {
        return "(other)".to_owned();
    }
    let after = match keyword.as_str() {
        "SELECT" | "DELETE" | "WITH" => Some("FROM"),
        "INSERT" | "REPLACE" => Some("INTO"),
        "UPDATE" => None,
        _ => return keyword,
    };
    let table = match after {
        None => words.next(),
        Some(marker) => words
            .by_ref()
            .position(|w| w.eq_ignore_ascii_case(marker))
            .and_then(|_| words.next()),
    };
    match table.and_then(identifier) {
        Some(table) => format!("{keyword} {table}"),
        None => keyword,
    }
}

/// A table name as written (`users`, `"users"`, `` `users` ``,
/// `main.users`), unquoted, if it is one: ASCII letters, digits, `_` and
/// `.` only, at most 64 of them.
fn identifier(word: &str) -> Option<String> {
    let name: String = word
        .chars()
        .filter(|c| !matches!(c, '"' | '`' | '[' | ']'))
        .collect();
    let name = name.trim_end_matches([',', ';', '(', ')']);
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    plain.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn summaries_name_the_kind_and_table_only() {
        for (sql, expected) in [
            (
                r#"SELECT "users"."id", "users"."name" FROM "users" WHERE "users"."email" = $1"#,
                "SELECT users",
            ),
            (
                "select count(*) from `memberships` where tenant = ?",
                "SELECT memberships",
            ),
            (
                r#"INSERT INTO "clients" ("client_id", "secret_hash") VALUES ($1, $2)"#,
                "INSERT clients",
            ),
            (
                "UPDATE users SET display_name = 'Ana' WHERE id = 4",
                "UPDATE users",
            ),
            (
                "DELETE FROM invitations WHERE token = 'abc'",
                "DELETE invitations",
            ),
            ("WITH page AS (SELECT 1) SELECT * FROM page", "WITH page"),
            (
                "SELECT 'secret' || name FROM (SELECT 'x' AS name)",
                "SELECT",
            ),
            ("SELECT 1", "SELECT"),
            ("BEGIN; DEALLOCATE ALL", "BEGIN"),
            ("  \n ", "(empty)"),
            ("'quoted' first", "(other)"),
        ] {
            assert_eq!(summary(sql), expected, "{sql}");
        }
    }
}
