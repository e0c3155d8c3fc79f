//! The compile-time options of the linked SQLite that decide how well
//! reader connections run side by side. This repository builds SQLite
//! without them (`.cargo/config.toml`, `LIBSQLITE3_FLAGS`); an application
//! that embeds the crate and builds SQLite its own way is warned at start-up
//! ([`SqliteReaders::open`](super::SqliteReaders::open)).

use rusqlite::Connection;

/// The options of the linked SQLite that cost concurrent readers, each with
/// what it costs; empty for this repository's build.
pub fn costly_options(conn: &Connection) -> rusqlite::Result<Vec<&'static str>> {
    let used = |option: &str| {
        conn.query_row("SELECT sqlite_compileoption_used(?1)", [option], |row| {
            row.get::<_, bool>(0)
        })
    };
    let mut costly = Vec::new();
    if used("ENABLE_MEMORY_MANAGEMENT")? {
        costly.push(
            "SQLITE_ENABLE_MEMORY_MANAGEMENT: every connection of the process shares one page \
             cache, so a long scan on one connection takes the cached pages of the others, which \
             then read every page from the file again on each request",
        );
    }
    if !used("DEFAULT_MEMSTATUS=0")? {
        costly.push(
            "SQLITE_DEFAULT_MEMSTATUS=1: every SQLite allocation takes one global mutex for its \
             memory statistics",
        );
    }
    Ok(costly)
}
