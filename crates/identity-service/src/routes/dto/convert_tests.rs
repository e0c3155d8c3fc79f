//! The conversions of [`super`]: the domain tests of the former
//! `NewUser::from_json` and friends, through the DTOs.

use serde_json::{Value, json};

use super::*;
use crate::domain::{NewGroup, NewRole, NewUser};

fn en() -> Culture {
    Culture::from_accept_language(None)
}

fn user(body: Value, culture: Culture) -> Result<NewUser, BodyError> {
    NewUser::try_from((parse_body::<bodies::NewUser>(body)?, culture))
}

fn role(body: Value) -> Result<NewRole, BodyError> {
    NewRole::try_from(parse_body::<bodies::NewRole>(body)?)
}

fn group(body: Value) -> Result<NewGroup, BodyError> {
    NewGroup::try_from(parse_body::<bodies::NewGroup>(body)?)
}

fn invite(body: Value) -> Result<Invite, BodyError> {
    Invite::try_from((parse_body::<bodies::InvitedUser>(body)?, en()))
}

fn details(err: BodyError) -> Vec<(String, String)> {
    match err {
        BodyError::Fields(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn minimal_user_gets_defaults() {
    let u = user(
        json!({"userKey":"jane","name":"Jane","isTechnician":false}),
        en(),
    )
    .unwrap();
    assert_eq!(u.user_key.as_str(), "jane");
    assert_eq!(u.culture.as_str(), "en-US");
    assert_eq!(u.status, UserStatus::Active);
    assert!(u.is_active);
    assert!(u.roles.is_empty() && u.email.is_none() && u.picture.is_none());
}

#[test]
fn full_user() {
    let u = user(
        json!({"userKey":"jane","name":" Jane ","isTechnician":true,"culture":"pt-pt",
            "email":"j@x.com","roles":["A"],"groups":["g"],"status":2,
            "lastLogin":"2024-05-01T10:00:00+02:00","picture":"aGk="}),
        en(),
    )
    .unwrap();
    assert_eq!(u.name.as_str(), "Jane");
    assert_eq!(u.culture.as_str(), "pt-PT");
    assert_eq!(u.status, UserStatus::Inactive);
    assert_eq!(
        u.last_login.unwrap().to_rfc3339(),
        "2024-05-01T08:00:00+00:00"
    );
    assert_eq!(u.picture, Some(PictureInput::Value("aGk=".into())));
    assert_eq!((u.roles, u.groups), (vec!["A".into()], vec!["g".into()]));
}

#[test]
fn every_invalid_property_is_reported() {
    let err = user(
        json!({"userKey":"a b","name":"","isTechnician":"yes","status":3,"extra":1}),
        en(),
    )
    .unwrap_err();
    let targets: Vec<_> = details(err).into_iter().map(|(field, _)| field).collect();
    for t in ["userKey", "name", "isTechnician", "status", "extra"] {
        assert!(
            targets.contains(&t.to_owned()),
            "{t} missing in {targets:?}"
        );
    }
}

#[test]
fn two_wrong_types_and_one_unknown_property_are_three_details() {
    let err = user(
        json!({"userKey":"jane","name":5,"isTechnician":true,"roles":"a","nickname":"J"}),
        en(),
    )
    .unwrap_err();
    let expected = format!(
        "unknown property; expected one of: {}",
        USER_PROPERTIES.join(", ")
    );
    assert_eq!(
        details(err),
        [
            ("nickname".to_owned(), expected),
            ("name".to_owned(), "must be a string".to_owned()),
            (
                "roles".to_owned(),
                "must be a JSON array of strings".to_owned()
            ),
        ]
    );
    // The same through ApiError: one 400 with three details.
    let api: crate::error::ApiError = role(json!({"roleKey":1,"isDefault":"no","x":null}))
        .unwrap_err()
        .into();
    match api {
        crate::error::ApiError::BadRequest {
            message, details, ..
        } => {
            assert_eq!(message, "the request body has 3 invalid properties");
            let targets: Vec<_> = details.iter().map(|d| d.target.as_deref()).collect();
            assert_eq!(targets, [Some("x"), Some("roleKey"), Some("isDefault")]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn messages_of_each_shape() {
    let d = details(
        user(
            json!({"isTechnician":null,"isActive":1,"culture":2,
        "email":false,"status":"1","lastLogin":7,"picture":[],"groups":[1]}),
            en(),
        )
        .unwrap_err(),
    );
    let field = |name: &str| {
        d.iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
            .unwrap_or_else(|| panic!("no {name} in {d:?}"))
    };
    assert_eq!(field("userKey"), "is required");
    assert_eq!(field("name"), "is required");
    assert_eq!(field("isTechnician"), "is required (true or false)");
    assert_eq!(field("isActive"), "must be true or false");
    assert_eq!(field("culture"), "must be a string or null");
    assert_eq!(field("email"), "must be a string or null");
    assert_eq!(
        field("status"),
        "must be an integer: 1 (Active) or 2 (Inactive)"
    );
    assert_eq!(
        field("lastLogin"),
        "must be an RFC 3339 date-time string or null"
    );
    assert_eq!(
        field("picture"),
        "must be a data URL or base64 string, or null"
    );
    assert_eq!(field("groups"), "must be a JSON array of strings");
    let order: Vec<_> = d.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        order,
        [
            "userKey",
            "name",
            "culture",
            "email",
            "isTechnician",
            "isActive",
            "status",
            "lastLogin",
            "groups",
            "picture"
        ]
    );
    let u = user(
        json!({"userKey":"k","name":"n","isTechnician":true,"culture":null,
            "lastLogin":null,"status":null,"picture":null,"roles":null}),
        Culture::parse("pt-PT").unwrap(),
    )
    .unwrap();
    assert_eq!(u.culture.as_str(), "pt-PT");
    assert_eq!((u.last_login, u.status), (None, UserStatus::Active));
}

#[test]
fn required_and_non_object() {
    assert!(user(json!({"name":"x","isTechnician":true}), en()).is_err());
    assert_eq!(
        user(json!(["x"]), en()).unwrap_err(),
        BodyError::NotAnObject
    );
    assert!(user(json!({"userKey":"k","name":"n"}), en()).is_err());
}

#[test]
fn roles_and_groups() {
    let r = role(json!({"roleKey":"ADMIN","isAdministration":true})).unwrap();
    assert!(r.is_administration && r.is_active && !r.is_default);
    assert!(role(json!({"roleKey":"odata"})).is_err());
    assert!(role(json!({"roleKey":"x","isDefault":1})).is_err());
    let g = group(json!({"groupKey":"g1","email":"g@x.com"})).unwrap();
    assert_eq!(g.email.unwrap().as_str(), "g@x.com");
    assert!(group(json!({"groupKey":"g1","email":"bad"})).is_err());
    let long = "x".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(
        details(group(json!({"groupKey":"g1","notes":long,"name":"n".repeat(256)})).unwrap_err()),
        [
            (
                "name".to_owned(),
                "must be at most 255 characters, got 256".to_owned()
            ),
            (
                "notes".to_owned(),
                format!(
                    "must be at most {MAX_TEXT_CHARS} characters, got {}",
                    MAX_TEXT_CHARS + 1
                )
            ),
        ]
    );
}

#[test]
fn invitation_types_come_before_values() {
    let d = details(invite(json!({"email":"nope","name":3,"roles":"a","x":1})).unwrap_err());
    let order: Vec<_> = d.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(order, ["x", "name", "email", "roles"]);
    assert_eq!(d[1].1, "must be a string");
    let i = invite(json!({"email":"a@b.co","roles":null,"groups":["g"]})).unwrap();
    assert_eq!((i.roles, i.groups), (None, Some(vec!["g".to_owned()])));
}
