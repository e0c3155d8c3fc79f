//! Errors (OData error bodies with the version header), `Accept`
//! negotiation (406) and `IEEE754Compatible`.

use super::*;

#[tokio::test]
async fn errors_are_odata_errors_with_the_version_header() {
    let app = spawn_app().await;
    seed(&app).await;

    // Parse errors name the option, the offset and what was expected.
    let error = get(&app, "Users?$filter=name eq")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$filter");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("offset"), "{message}");
    assert!(message.contains("expected"), "{message}");
    // Unknown properties are 400 naming the option.
    let error = get(&app, "Users?$select=nope")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$select");
    // Keys are unquoted GUIDs.
    for key in ["'ann'", "1", "true", "id=1"] {
        let error = get(&app, &format!("Users({key})"))
            .await
            .error(StatusCode::BAD_REQUEST, "BadRequest");
        assert_eq!(error["target"], "key", "{key}");
    }
    // Not even a literal: the resource path does not parse.
    let error = get(&app, "Users(ann)")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "resource path");
    // Unknown resources are 404.
    get(&app, "Nobody")
        .await
        .error(StatusCode::NOT_FOUND, "NotFound");
    get(&app, "Users(00000000-0000-0000-0000-000000000001)/nothing")
        .await
        .error(StatusCode::NOT_FOUND, "NotFound");
    // What is not supported is 501 naming it, never ignored.
    // `$batch` is POST only (tests/api/feed_batch.rs).
    get(&app, "$batch")
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
    for (url, target) in [
        ("Users/$ref", "$ref"),
        ("Users?$format=atom", "$format"),
        ("Users()", "resource path"),
    ] {
        let error = get(&app, url)
            .await
            .error(StatusCode::NOT_IMPLEMENTED, "NotImplemented");
        assert_eq!(error["target"], target, "{url}");
    }
    // A delta token not issued by the feed is 400 (tests/api/feed_delta.rs).
    let error = get(&app, "Users?$deltatoken=x")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$deltatoken");
    // A tampered skiptoken is 400.
    let error = get(&app, "Users?$skiptoken=abc.def")
        .await
        .error(StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(error["target"], "$skiptoken");
    // Another (here unknown) tenant: 403 with the version header too.
    let answer = get(
        &app,
        &format!("{}/api/nobody/main/odata/Users", app.address),
    )
    .await;
    answer.error(StatusCode::FORBIDDEN, "Forbidden");
    // A method the resource does not take (writes: tests/api/feed_writes.rs).
    let response = app
        .client
        .patch(format!("{}/Users", root(&app)))
        .json(&json!({}))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response
            .headers()
            .get_all("odata-version")
            .iter()
            .collect::<Vec<_>>(),
        ["4.0"]
    );
}

/// 406 for an `Accept` that allows nothing the feed writes (never for
/// `$metadata`, never when `$format` says what to write); JSON with any
/// parameters, wildcards and no `Accept` stay fine.
#[tokio::test]
async fn accept_without_anything_the_feed_writes_is_406() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    let entity = format!("Users({})", seed.ann);
    let related = format!("Users({})/roles", seed.ann);
    for accept in [
        "application/xml",
        "text/csv",
        "application/atom+xml, text/html",
        "application/json;q=0",
    ] {
        for url in [
            "",
            "Users",
            entity.as_str(),
            related.as_str(),
            "Users?$top=1",
        ] {
            let error = get_with(&app, url, &[("Accept", accept)])
                .await
                .error(StatusCode::NOT_ACCEPTABLE, "NotAcceptable");
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("application/json"),
                "{url} {accept}: {message}"
            );
        }
        // $metadata is XML whatever Accept says.
        let answer = get_with(&app, "$metadata", &[("Accept", accept)]).await;
        answer.expect(StatusCode::OK, "application/xml");
        // $format wins over Accept.
        get_with(&app, "Users?$format=json", &[("Accept", accept)])
            .await
            .expect(StatusCode::OK, MINIMAL);
    }
    // $count and $value are plain text: text/plain is fine there, and so
    // is JSON (clients that send one Accept for everything), XML is not.
    for url in ["Users/$count", &format!("{entity}/name/$value")] {
        for accept in ["text/plain", "text/*", "application/json", "*/*"] {
            let answer = get_with(&app, url, &[("Accept", accept)]).await;
            answer.expect(StatusCode::OK, "text/plain;charset=utf-8");
        }
        get_with(&app, url, &[("Accept", "application/xml")])
            .await
            .error(StatusCode::NOT_ACCEPTABLE, "NotAcceptable");
    }
    get_with(&app, "Users", &[("Accept", "text/plain")])
        .await
        .error(StatusCode::NOT_ACCEPTABLE, "NotAcceptable");
    for accept in [
        "*/*",
        "application/*",
        "application/json",
        "application/json;charset=utf-8",
        "application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8",
        "application/json;IEEE754Compatible=false",
        "application/xml;q=0.9, application/json;q=0.1",
        POWER_QUERY_ACCEPT,
    ] {
        let answer = get_with(&app, "Users", &[("Accept", accept)]).await;
        answer.expect(StatusCode::OK, MINIMAL);
        assert_eq!(ids(&answer.json()).len(), 3, "{accept}");
    }
    get(&app, "Users").await.expect(StatusCode::OK, MINIMAL);
}

/// `IEEE754Compatible=true` (in `Accept` or `$format`): Int64 and Decimal
/// values, `@odata.count` included, are JSON strings and the content type
/// says so; Int32 and Double stay numbers.
#[tokio::test]
async fn ieee754_compatible_writes_int64_as_strings() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    const IEEE: &str = "application/json;odata.metadata=minimal;IEEE754Compatible=true";
    let apply = "Users?$apply=groupby((isTechnician),aggregate($count as n,\
                 status with sum as s,status with max as hi,status with average as avg))\
                 /orderby(isTechnician)";

    // Reference: the same reads without the flag.
    let plain_page = get(&app, "Users?$count=true&$orderby=userKey").await;
    plain_page.expect(StatusCode::OK, MINIMAL);
    let plain_page = plain_page.json();
    assert_eq!(plain_page["@odata.count"], json!(3));
    let plain_apply = get(&app, apply).await;
    plain_apply.expect(StatusCode::OK, MINIMAL);
    let plain_apply = plain_apply.json();
    assert!(plain_apply["value"][0]["n"].is_u64(), "{plain_apply}");

    let stringified = |mut page: Value, int64: &[&str]| {
        for r in page["value"].as_array_mut().expect("value") {
            for name in int64 {
                let n = r[*name].as_i64().expect("an Int64 number");
                r[*name] = json!(n.to_string());
            }
        }
        page
    };
    let accept = [("Accept", "application/json;IEEE754Compatible=true")];
    let formats = [
        "$format=application/json;IEEE754Compatible=true",
        "$format=application%2Fjson%3Bieee754compatible%3Dtrue",
    ];
    // Collections with their count: every way to ask.
    let mut answers = vec![get_with(&app, "Users?$count=true&$orderby=userKey", &accept).await];
    for format in formats {
        answers.push(
            get(
                &app,
                &format!("Users?$count=true&$orderby=userKey&{format}"),
            )
            .await,
        );
    }
    for answer in &answers {
        answer.expect(StatusCode::OK, IEEE);
        let mut body = answer.json();
        assert_eq!(body["@odata.count"], json!("3"), "{body}");
        body["@odata.count"] = json!(3);
        // Entities have no Int64 or Decimal property: `status` and
        // `version` (Int32) stay numbers, the records are the same.
        assert_eq!(body, plain_page);
        assert!(body["value"][0]["status"].is_u64());
        assert!(body["value"][0]["version"].is_u64());
    }
    // $apply: the count and the sum are Int64, max of an Int32 is Int32,
    // the average a Double.
    let mut answers = vec![get_with(&app, apply, &accept).await];
    for format in formats {
        answers.push(get(&app, &format!("{apply}&{format}")).await);
    }
    let expected = stringified(plain_apply.clone(), &["n", "s"]);
    for answer in &answers {
        answer.expect(StatusCode::OK, IEEE);
        let body = answer.json();
        assert_eq!(body, expected);
        assert!(body["value"][0]["hi"].is_u64(), "{body}");
        assert!(body["value"][0]["avg"].is_number(), "{body}");
    }
    // Other levels keep the flag in their content type.
    let answer = get_with(
        &app,
        &format!("Users({})", seed.ann),
        &[(
            "Accept",
            "application/json;odata.metadata=full;IEEE754Compatible=true",
        )],
    )
    .await;
    answer.expect(
        StatusCode::OK,
        "application/json;odata.metadata=full;IEEE754Compatible=true",
    );
    assert!(answer.json()["version"].is_u64());
    let answer = get(
        &app,
        "Users?$count=true&$format=application/json;odata.metadata=none;IEEE754Compatible=true",
    )
    .await;
    answer.expect(
        StatusCode::OK,
        "application/json;odata.metadata=none;IEEE754Compatible=true",
    );
    assert_eq!(answer.json()["@odata.count"], json!("3"));
    // $format wins: no flag there, none from Accept.
    let answer = get_with(&app, "Users?$count=true&$format=json", &accept).await;
    answer.expect(StatusCode::OK, MINIMAL);
    assert_eq!(answer.json()["@odata.count"], json!(3));
    // `/$count` stays plain text.
    let answer = get_with(&app, "Users/$count", &accept).await;
    answer.expect(StatusCode::OK, "text/plain;charset=utf-8");
    assert_eq!(answer.body, "3");
}
