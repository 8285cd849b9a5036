//! A JSON body read as its request type with the anti-forgery field (`csrf_token`) passed
//! over: the CSRF layer reads the token and hands the body on exactly as it came, so the
//! request types, which refuse unknown fields, must not see it. The field is skipped at the
//! top level only, while the body is parsed once; every other field, known or not, reaches
//! the type (and its own checks) unchanged.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::StringDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};

use crate::csrf::FIELD;

/// `T`, read from a body that may carry the anti-forgery field.
pub(crate) struct WithoutToken<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for WithoutToken<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(Skipping(deserializer)).map(WithoutToken)
    }
}

/// A deserializer whose top-level maps and structs pass over the token field.
struct Skipping<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Skipping<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(SkippingVisitor(visitor))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(SkippingVisitor(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_struct(name, fields, SkippingVisitor(visitor))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier
        ignored_any
    }
}

/// Passes every value to the request type's visitor; a map goes through [`SkippingMap`].
struct SkippingVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for SkippingVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(formatter)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(SkippingMap {
            inner: map,
            marker: PhantomData,
        })
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.0.visit_bool(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.0.visit_i64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.0.visit_u64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.0.visit_f64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.0.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.0.visit_string(v)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(deserializer)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(seq)
    }
}

/// The entries of a map but the token field's.
struct SkippingMap<'de, A> {
    inner: A,
    marker: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for SkippingMap<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        // The key is read by the inner map's own key seed, so an error in it (an unknown
        // field) is reported at that key, as it would be without this wrapper.
        let mut seed = Some(seed);
        loop {
            match self.inner.next_key_seed(KeySeed(&mut seed))? {
                None => return Ok(None),
                Some(Key::Field(value)) => return Ok(Some(value)),
                Some(Key::Token) => {
                    self.inner.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A key of the map: the token field (passed over), or another one read by the type's seed.
enum Key<T> {
    Field(T),
    Token,
}

/// Reads a key; the type's seed is spent only on a key that is not the token field.
struct KeySeed<'s, K>(&'s mut Option<K>);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = Key<K::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let key = String::deserialize(deserializer)?;
        if key == FIELD {
            return Ok(Key::Token);
        }
        let seed = self
            .0
            .take()
            .ok_or_else(|| de::Error::custom("a map key was read twice"))?;
        let key: StringDeserializer<D::Error> = key.into_deserializer();
        seed.deserialize(key).map(Key::Field)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::WithoutToken;

    #[derive(Debug, Clone, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct SignIn {
        email: String,
        #[serde(default)]
        remember: bool,
        nested: Option<Nested>,
    }

    #[derive(Debug, Clone, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Nested {
        note: String,
    }

    fn read(json: &str) -> Result<SignIn, String> {
        serde_json::from_str::<WithoutToken<SignIn>>(json)
            .map(|WithoutToken(v)| v)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_token_field_is_passed_over_wherever_it_stands() {
        let expected = SignIn {
            email: "a@b.org".into(),
            remember: true,
            nested: None,
        };
        for json in [
            r#"{"csrf_token":"T","email":"a@b.org","remember":true}"#,
            r#"{"email":"a@b.org","csrf_token":{"any":["shape"]},"remember":true}"#,
            r#"{"email":"a@b.org","remember":true,"csrf_token":null}"#,
            r#"{"email":"a@b.org","remember":true}"#,
        ] {
            assert_eq!(read(json), Ok(expected.clone()), "{json}");
        }
    }

    #[test]
    fn every_other_field_meets_the_type_s_own_checks() {
        let unknown = read(r#"{"email":"a@b.org","csrf_token":"T","role":"admin"}"#).unwrap_err();
        assert!(unknown.starts_with("unknown field `role`"), "{unknown}");
        let missing = read(r#"{"csrf_token":"T"}"#).unwrap_err();
        assert!(missing.starts_with("missing field `email`"), "{missing}");
        let wrong = read(r#"{"email":5}"#).unwrap_err();
        assert!(wrong.starts_with("invalid type: integer `5`"), "{wrong}");
        assert!(read("[1]").is_err());
        assert!(
            read(r#"{"email":"a@b.org""#).is_err(),
            "syntax errors stay errors"
        );
    }

    #[test]
    fn only_the_top_level_field_is_passed_over() {
        let nested =
            read(r#"{"email":"a@b.org","nested":{"note":"n","csrf_token":"T"}}"#).unwrap_err();
        assert!(nested.starts_with("unknown field `csrf_token`"), "{nested}");
    }

    /// Through axum's extractor (which tracks the path of an error), an unknown field is
    /// still reported at its key, as the API's messages say ("Field role: unknown field").
    #[tokio::test]
    async fn an_unknown_field_is_reported_at_its_key_through_the_extractor() {
        use axum::Json;
        use axum::extract::FromRequest;
        let request = axum::http::Request::builder()
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                r#"{"csrf_token":"T","email":"a@b.org","role":"admin"}"#,
            ))
            .unwrap();
        let Err(rejection) = Json::<WithoutToken<SignIn>>::from_request(request, &()).await else {
            panic!("an unknown field was accepted");
        };
        let text = rejection.body_text();
        assert!(text.contains("role: unknown field `role`"), "{text}");
    }
}
