//! Where rows come from: a [`Source`] runs a statement and hands each row
//! to a [`RowSink`] as a [`Row`], read by column index. The read path is
//! written once against these traits; SeaORM/sqlx (every backend) and the
//! SQLite reader connections implement them.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use odata_sql::Backend;
use odata_sql::schema::EdmType;
use sea_orm::{DbErr, QueryResult};
use sea_query::SelectStatement;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::storage::sqlite_reader::{self, ReaderError};

/// One result row, read by column index; `None` is SQL `NULL`.
pub(crate) trait Row {
    /// A text column.
    fn text(&self, i: usize) -> Result<Option<Cow<'_, str>>, DbErr>;
    /// An integer column.
    fn int(&self, i: usize) -> Result<Option<i64>, DbErr>;
    /// A floating-point column (an integer value is widened).
    fn float(&self, i: usize) -> Result<Option<f64>, DbErr>;
    /// A boolean column.
    fn boolean(&self, i: usize) -> Result<Option<bool>, DbErr>;
    /// A GUID column.
    fn uuid(&self, i: usize) -> Result<Option<Uuid>, DbErr>;
    /// A timestamp column, in UTC.
    fn timestamp(&self, i: usize) -> Result<Option<DateTime<Utc>>, DbErr>;
    /// A date column.
    fn date(&self, i: usize) -> Result<Option<NaiveDate>, DbErr>;
    /// A timestamp column's stored text, where the database keeps text
    /// (SQLite): lets the writer copy a canonical form instead of parsing
    /// and formatting it. `None` otherwise.
    fn timestamp_text(&self, _i: usize) -> Option<&str> {
        None
    }
}

/// Receives the rows of one statement.
pub(crate) trait RowSink {
    /// The result's column names, once, before the first row (not called
    /// when there is no row).
    fn columns(&mut self, names: &[&str]) -> Result<(), DbErr>;
    /// Whether the sink knows the columns already (a statement template's
    /// kept layout): then [`RowSink::columns`] is called with no names, and
    /// the driver does not read them.
    fn knows_columns(&self) -> bool {
        false
    }
    /// One row.
    fn row(&mut self, row: &dyn Row) -> Result<(), DbErr>;
}

/// Runs statements.
pub(crate) trait Source {
    /// The SQL dialect the statements are built for.
    fn backend(&self) -> Backend;
    /// Runs `stmt`, handing its rows to `sink` in order.
    async fn query(&self, stmt: &SelectStatement, sink: &mut dyn RowSink) -> Result<(), DbErr>;
    /// Runs SQL text built for [`Source::backend`] with these values (a
    /// statement template, see [`odata_sql::template`]).
    async fn query_text(
        &self,
        sql: &str,
        values: Vec<sea_query::Value>,
        sink: &mut dyn RowSink,
    ) -> Result<(), DbErr>;
}

/// The index of column `name` among `names`.
pub(crate) fn index_of(names: &[&str], name: &str) -> Result<usize, DbErr> {
    names
        .iter()
        .position(|n| *n == name)
        .ok_or_else(|| DbErr::Custom(format!("the result has no column `{name}`")))
}

/// Reads column `i` of `row` as JSON according to its EDM type.
pub(crate) fn json_value(row: &dyn Row, i: usize, ty: EdmType) -> Result<Json, DbErr> {
    Ok(match ty {
        EdmType::String => row
            .text(i)?
            .map_or(Json::Null, |s| Json::String(s.into_owned())),
        EdmType::Boolean => row.boolean(i)?.map_or(Json::Null, Json::Bool),
        EdmType::Int32 | EdmType::Int64 => row.int(i)?.map_or(Json::Null, Json::from),
        EdmType::Decimal | EdmType::Double => row.float(i)?.map_or(Json::Null, Json::from),
        EdmType::Guid => row
            .uuid(i)?
            .map_or(Json::Null, |u| Json::String(u.to_string())),
        EdmType::DateTimeOffset => row
            .timestamp(i)?
            .map_or(Json::Null, |t| Json::String(super::json::timestamp(t))),
        EdmType::Date => row.date(i)?.map_or(Json::Null, |d| {
            Json::String(d.format("%Y-%m-%d").to_string())
        }),
    })
}

impl Row for QueryResult {
    fn text(&self, i: usize) -> Result<Option<Cow<'_, str>>, DbErr> {
        Ok(self.try_get_by_index::<Option<String>>(i)?.map(Cow::Owned))
    }

    fn int(&self, i: usize) -> Result<Option<i64>, DbErr> {
        match self.try_get_by_index::<Option<i64>>(i) {
            Ok(v) => Ok(v),
            Err(_) => Ok(self.try_get_by_index::<Option<i32>>(i)?.map(i64::from)),
        }
    }

    fn float(&self, i: usize) -> Result<Option<f64>, DbErr> {
        match self.try_get_by_index::<Option<f64>>(i) {
            Ok(v) => Ok(v),
            Err(_) => Ok(self.try_get_by_index::<Option<i64>>(i)?.map(|v| v as f64)),
        }
    }

    fn boolean(&self, i: usize) -> Result<Option<bool>, DbErr> {
        self.try_get_by_index(i)
    }

    fn uuid(&self, i: usize) -> Result<Option<Uuid>, DbErr> {
        self.try_get_by_index(i)
    }

    fn timestamp(&self, i: usize) -> Result<Option<DateTime<Utc>>, DbErr> {
        self.try_get_by_index(i)
    }

    fn date(&self, i: usize) -> Result<Option<NaiveDate>, DbErr> {
        self.try_get_by_index(i)
    }
}

/// Hands SeaORM (sqlx) rows to `sink`.
pub(crate) fn sqlx_rows(
    rows: &[sea_orm::QueryResult],
    sink: &mut dyn RowSink,
) -> Result<(), DbErr> {
    if let Some(first) = rows.first() {
        if sink.knows_columns() {
            sink.columns(&[])?;
        } else {
            let names = first.column_names();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            sink.columns(&names)?;
        }
        for row in rows {
            sink.row(row)?;
        }
    }
    Ok(())
}

/// A SQLite reader connection (rusqlite), on its reader thread: each
/// statement runs to completion without waiting, so the read path's
/// futures are ready when first polled (see [`complete`]).
pub(crate) struct Rusqlite<'c>(pub(crate) &'c rusqlite::Connection);

impl Source for Rusqlite<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn query(&self, stmt: &SelectStatement, sink: &mut dyn RowSink) -> Result<(), DbErr> {
        let (sql, values) = sqlite_reader::bind(stmt)?;
        self.rows(&sql, values, sink)
    }

    async fn query_text(
        &self,
        sql: &str,
        values: Vec<sea_query::Value>,
        sink: &mut dyn RowSink,
    ) -> Result<(), DbErr> {
        let values = values
            .into_iter()
            .map(sqlite_reader::to_sqlite)
            .collect::<Result<Vec<_>, _>>()?;
        self.rows(sql, values, sink)
    }
}

impl Rusqlite<'_> {
    fn rows(
        &self,
        sql: &str,
        values: Vec<rusqlite::types::Value>,
        sink: &mut dyn RowSink,
    ) -> Result<(), DbErr> {
        let mut prepared = sqlite_reader::prepare_cached(self.0, sql)?;
        let mut rows = prepared
            .query(rusqlite::params_from_iter(values))
            .map_err(ReaderError::from)?;
        let mut first = true;
        while let Some(row) = rows.next().map_err(ReaderError::from)? {
            if first {
                if sink.knows_columns() {
                    sink.columns(&[])?;
                } else {
                    sink.columns(&row.as_ref().column_names())?;
                }
                first = false;
            }
            sink.row(row)?;
        }
        Ok(())
    }
}

impl Row for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<Option<Cow<'_, str>>, DbErr> {
        Ok(sqlite_reader::text(self, i)?.map(Cow::Borrowed))
    }

    fn int(&self, i: usize) -> Result<Option<i64>, DbErr> {
        Ok(sqlite_reader::int64(self, i)?)
    }

    fn float(&self, i: usize) -> Result<Option<f64>, DbErr> {
        Ok(sqlite_reader::double(self, i)?)
    }

    fn boolean(&self, i: usize) -> Result<Option<bool>, DbErr> {
        Ok(sqlite_reader::boolean(self, i)?)
    }

    fn uuid(&self, i: usize) -> Result<Option<Uuid>, DbErr> {
        Ok(sqlite_reader::uuid(self, i)?)
    }

    fn timestamp(&self, i: usize) -> Result<Option<DateTime<Utc>>, DbErr> {
        Ok(sqlite_reader::timestamp(self, i)?)
    }

    fn date(&self, i: usize) -> Result<Option<NaiveDate>, DbErr> {
        Ok(sqlite_reader::date(self, i)?)
    }

    fn timestamp_text(&self, i: usize) -> Option<&str> {
        match self.get_ref(i) {
            Ok(rusqlite::types::ValueRef::Text(bytes)) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }
}

/// The output of a future that never waits (the read path on a
/// [`Rusqlite`] source); an error if it would wait after all.
pub(crate) fn complete<F: std::future::Future>(f: F) -> Result<F::Output, ReaderError> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Ok(v),
        std::task::Poll::Pending => Err(ReaderError::Decode(
            "the read path waited on a SQLite reader connection".to_owned(),
        )),
    }
}
