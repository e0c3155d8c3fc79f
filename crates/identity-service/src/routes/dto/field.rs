//! [`Field`]: one property of a request body, read leniently so that one
//! wrong type does not fail the whole body (every invalid property is
//! reported at once, by the conversion into the domain).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::domain::DomainError;

/// A body property as sent: absent, `null`, a value of the expected type,
/// or any other JSON value (kept, so that the conversion names it).
///
/// Its `Deserialize` reads any JSON value and never fails; with
/// `#[serde(default)]` an absent property is [`Field::Absent`]. In the
/// OpenAPI document a field is described by `#[schema(value_type = ...)]`
/// as the `Option<T>` (or `T`, with `required`) it stands for.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
    Invalid(Value),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if value.is_null() {
            return Ok(Field::Null);
        }
        Ok(match T::deserialize(&value) {
            Ok(typed) => Field::Value(typed),
            Err(_) => Field::Invalid(value),
        })
    }
}

impl<T> Field<T> {
    /// The value of an optional property: `None` when absent or `null`;
    /// a value of another type records `wrong_type` for `name`.
    pub fn optional(
        self,
        name: &str,
        wrong_type: &str,
        errors: &mut Vec<DomainError>,
    ) -> Option<T> {
        match self {
            Field::Value(value) => Some(value),
            Field::Absent | Field::Null => None,
            Field::Invalid(_) => {
                errors.push(DomainError::new(name, wrong_type));
                None
            }
        }
    }

    /// The value of a required property: absent or `null` records
    /// `missing`, a value of another type `wrong_type`.
    pub fn required(
        self,
        name: &str,
        missing: &str,
        wrong_type: &str,
        errors: &mut Vec<DomainError>,
    ) -> Option<T> {
        match self {
            Field::Value(value) => Some(value),
            Field::Absent | Field::Null => {
                errors.push(DomainError::new(name, missing));
                None
            }
            Field::Invalid(_) => {
                errors.push(DomainError::new(name, wrong_type));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default)]
        flag: Field<bool>,
        #[serde(default)]
        keys: Field<Vec<String>>,
        #[serde(default)]
        count: Field<i64>,
    }

    fn body(value: Value) -> Body {
        serde_json::from_value(value).expect("a lenient body never fails")
    }

    #[test]
    fn absent_null_value_and_invalid() {
        let b = body(json!({"flag": null, "keys": ["a", "b"]}));
        assert_eq!(b.flag, Field::Null);
        assert_eq!(b.keys, Field::Value(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(b.count, Field::Absent);

        let b = body(json!({"flag": "yes", "keys": ["a", 1], "count": 1.5}));
        assert_eq!(b.flag, Field::Invalid(json!("yes")));
        assert_eq!(b.keys, Field::Invalid(json!(["a", 1])));
        assert_eq!(b.count, Field::Invalid(json!(1.5)));

        let b = body(json!({"flag": true, "count": 9_223_372_036_854_775_808u64}));
        assert_eq!(b.flag, Field::Value(true));
        assert_eq!(b.count, Field::Invalid(json!(9_223_372_036_854_775_808u64)));
    }

    #[test]
    fn optional_and_required_record_their_messages() {
        let mut errors = Vec::new();
        assert_eq!(Field::Value(3).optional("n", "bad", &mut errors), Some(3));
        assert_eq!(Field::<i64>::Null.optional("n", "bad", &mut errors), None);
        assert_eq!(Field::<i64>::Absent.optional("n", "bad", &mut errors), None);
        assert!(errors.is_empty());
        assert_eq!(
            Field::<i64>::Invalid(json!("x")).optional("n", "bad", &mut errors),
            None
        );
        assert_eq!(errors, [DomainError::new("n", "bad")]);

        let mut errors = Vec::new();
        assert_eq!(
            Field::Value(true).required("b", "missing", "bad", &mut errors),
            Some(true)
        );
        assert_eq!(
            Field::<bool>::Absent.required("b", "missing", "bad", &mut errors),
            None
        );
        assert_eq!(
            Field::<bool>::Null.required("c", "missing", "bad", &mut errors),
            None
        );
        assert_eq!(
            Field::<bool>::Invalid(json!(1)).required("d", "missing", "bad", &mut errors),
            None
        );
        assert_eq!(
            errors,
            [
                DomainError::new("b", "missing"),
                DomainError::new("c", "missing"),
                DomainError::new("d", "bad"),
            ]
        );
    }
}
