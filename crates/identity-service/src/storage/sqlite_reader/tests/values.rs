//! Binding and the SQL functions on the readers, against sqlx-sqlite's.

use super::*;

#[test]
fn values_bind_as_sqlx_encodes_them() {
    use sea_query::Value as V;
    let id = Uuid::new_v4();
    let t = Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap() + ChronoDuration::microseconds(5);
    let cases = [
        (V::Uuid(Some(id)), Value::Blob(id.as_bytes().to_vec())),
        (
            V::ChronoDateTimeUtc(Some(t)),
            Value::Text("2024-03-01T12:00:00.000005+00:00".to_owned()),
        ),
        (
            V::ChronoDateTimeUtc(Some(t - ChronoDuration::microseconds(5))),
            Value::Text("2024-03-01T12:00:00+00:00".to_owned()),
        ),
        (
            V::ChronoDate(NaiveDate::from_ymd_opt(2024, 2, 29)),
            Value::Text("2024-02-29".to_owned()),
        ),
        (V::Bool(Some(true)), Value::Integer(1)),
        (V::Bool(Some(false)), Value::Integer(0)),
        (V::Int(Some(-3)), Value::Integer(-3)),
        (V::BigInt(Some(i64::MAX)), Value::Integer(i64::MAX)),
        (V::Double(Some(0.5)), Value::Real(0.5)),
        (V::String(Some("ß".to_owned())), Value::Text("ß".to_owned())),
        (V::String(None), Value::Null),
        (V::Uuid(None), Value::Null),
        (V::ChronoDateTimeUtc(None), Value::Null),
        (
            V::Json(Some(Box::new(serde_json::json!({"a": [1, "x"]})))),
            Value::Text(r#"{"a":[1,"x"]}"#.to_owned()),
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(to_sqlite(value.clone()).unwrap(), expected, "{value:?}");
    }
    assert!(matches!(
        to_sqlite(V::BigUnsigned(Some(u64::MAX))),
        Err(ReaderError::Decode(_))
    ));
}

#[test]
fn decoders_refuse_what_sqlx_refuses() {
    let conn = Connection::open_in_memory().unwrap();
    register_functions(&conn).unwrap();
    conn.query_row(
        "SELECT 'x' AS t, 1.5 AS r, x'0102' AS b, 7 AS i, NULL AS n, '2024-03-01 12:00:00' AS ts, 1700000000 AS unix",
        [],
        |row| {
            assert!(matches!(int64(row, "t"), Err(ReaderError::Decode(_))));
            assert!(matches!(int64(row, "r"), Err(ReaderError::Decode(_))));
            assert!(matches!(boolean(row, "r"), Err(ReaderError::Decode(_))));
            assert!(matches!(text(row, "i"), Err(ReaderError::Decode(_))));
            assert!(matches!(uuid(row, "b"), Err(ReaderError::Decode(_))));
            assert!(matches!(uuid(row, "i"), Err(ReaderError::Decode(_))));
            assert!(matches!(timestamp(row, "t"), Err(ReaderError::Decode(_))));
            assert!(matches!(date(row, "t"), Err(ReaderError::Decode(_))));
            assert_eq!(double(row, "i").unwrap(), Some(7.0));
            assert_eq!(boolean(row, "i").unwrap(), Some(true));
            assert_eq!(text(row, "n").unwrap(), None);
            assert_eq!(uuid(row, "n").unwrap(), None);
            assert_eq!(
                timestamp(row, "ts").unwrap(),
                Some(Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap())
            );
            assert_eq!(
                timestamp(row, "unix").unwrap(),
                Utc.timestamp_opt(1_700_000_000, 0).single()
            );
            assert!(matches!(
                text(row, "no_such_column"),
                Err(ReaderError::Sqlite(_))
            ));
            assert!(matches!(text(row, 99), Err(ReaderError::Sqlite(_))));
            Ok(())
        },
    )
    .unwrap();
}

/// `odata_lower`/`odata_upper` on the readers answer what the sqlx
/// connections' C functions answer, also for NULL and non-text arguments.
#[tokio::test]
async fn case_functions_match_the_sqlx_ones() {
    let f = fixture(1).await;
    let sql = "SELECT odata_lower('ÄÖÜ Straße ΣΑΣ') AS a, odata_upper('straße ǆ') AS b, \
               odata_lower(NULL) AS c, odata_lower(42) AS d, odata_upper(x'61C3A4') AS e, \
               odata_lower(1.5) AS f, odata_lower(1e20) AS g, odata_lower(0.1) AS h, \
               odata_lower(-2.5e-7) AS i, odata_lower(1.0/3) AS j, odata_lower(100.0) AS k, \
               odata_lower(123456789012345.0) AS l, odata_lower(1e15) AS m, odata_lower(0.0001) AS n, \
               odata_upper(-0.0) AS o, odata_lower(x'FF41') AS p, odata_lower(9e999) AS q";
    let columns = "abcdefghijklmnopq";
    let row =
        f.db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    let sqlx: Vec<Option<String>> = columns
        .chars()
        .map(|c| row.try_get::<Option<String>>("", &c.to_string()).unwrap())
        .collect();
    let readers: Vec<Option<String>> = f
        .readers
        .run(move |conn| {
            Ok(conn.query_row(sql, [], |row| {
                (0..columns.len())
                    .map(|i| row.get::<_, Option<String>>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })?)
        })
        .await
        .unwrap();
    assert_eq!(readers, sqlx);
    assert_eq!(sqlx[0].as_deref(), Some("äöü straße σασ"));
    assert_eq!(sqlx[2], None);
}

/// `odata_add`/`odata_sub`/`odata_mul` on the readers answer what the
/// sqlx connections' C functions answer (types and values), and both
/// refuse an Int64 overflow with the error the read path answers as 400.
#[tokio::test]
async fn checked_arithmetic_matches_the_sqlx_ones() {
    let f = fixture(1).await;
    let cases = [
        "odata_add(2, 3)",
        "odata_sub(2, 3)",
        "odata_mul(-4, 3)",
        "odata_add(9223372036854775806, 1)",
        "odata_sub(-9223372036854775807, 1)",
        "odata_sub(0, 9223372036854775807)",
        "odata_mul(3037000499, 3037000499)",
        "odata_add(NULL, 1)",
        "odata_mul(9223372036854775807, NULL)",
        "odata_add(1.5, 2)",
        "odata_sub(9223372036854775807, -1.0)",
        "odata_mul(1e308, 10.0)",
        "odata_sub(9e999, 9e999)",
        "odata_add(odata_mul(2, 3), odata_sub(0, 4))",
    ];
    let sql = format!(
        "SELECT {}",
        cases
            .iter()
            .enumerate()
            .map(|(i, c)| format!("typeof({c}) || ' ' || quote({c}) AS c{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let row =
        f.db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            sql.clone(),
        ))
        .await
        .unwrap()
        .unwrap();
    let sqlx: Vec<String> = (0..cases.len())
        .map(|i| row.try_get::<String>("", &format!("c{i}")).unwrap())
        .collect();
    let readers: Vec<String> = f
        .readers
        .run(move |conn| {
            Ok(conn.query_row(&sql, [], |row| {
                (0..cases.len())
                    .map(|i| row.get::<_, String>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })?)
        })
        .await
        .unwrap();
    assert_eq!(readers, sqlx);
    assert_eq!(
        sqlx[..8],
        [
            "integer 5",
            "integer -1",
            "integer -12",
            "integer 9223372036854775807",
            "integer -9223372036854775808",
            "integer -9223372036854775807",
            "integer 9223372030926249001",
            "null NULL",
        ]
    );
    assert_eq!(sqlx[9], "real 3.5");
    assert_eq!(sqlx[12], "null NULL");
    assert_eq!(sqlx[13], "integer 2");

    for (call, name) in [
        ("odata_add(9223372036854775807, 1)", "odata_add"),
        ("odata_sub(-9223372036854775807, 2)", "odata_sub"),
        ("odata_sub(0, -9223372036854775807 - 1)", "odata_sub"),
        ("odata_mul(4611686018427387904, 2)", "odata_mul"),
        ("odata_mul(-9223372036854775807 - 1, -1)", "odata_mul"),
    ] {
        let sql = format!("SELECT {call} AS x FROM users");
        let sqlx =
            f.db.query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                sql.clone(),
            ))
            .await
            .unwrap_err();
        let readers = f
            .readers
            .run(move |conn| {
                let mut stmt = conn.prepare(&sql)?;
                let mut rows = stmt.query([])?;
                while rows.next()?.is_some() {}
                Ok(())
            })
            .await
            .unwrap_err();
        let readers = sea_orm::DbErr::from(readers);
        for err in [&sqlx, &readers] {
            let message = err.to_string();
            assert!(
                message.contains(&format!("Int64 overflow in {name}")),
                "{call}: {message}"
            );
            assert!(crate::odata::value_out_of_range(err), "{call}: {err:?}");
        }
    }

    // Not numbers: an error, but not the client's overflow.
    let err =
        f.db.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT odata_add('a', 1) AS x",
        ))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("odata_add expects numbers"),
        "{err}"
    );
    assert!(!crate::odata::value_out_of_range(&err));
}
