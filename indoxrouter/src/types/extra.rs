//! Deserializing structs that keep unknown fields, without `#[serde(flatten)]`.
//!
//! `flatten` makes serde buffer the whole object into an intermediate tree
//! before assigning fields, which doubles the cost of parsing a response. The
//! macro below writes the visitor by hand: known keys go straight into their
//! fields, anything else into the `extra` map. `null` counts as absent for
//! every field, so `"usage": null` from a lax provider is not an error.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

/// A map key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Finishes one field: required, defaulted, or defaulted by a function.
macro_rules! finish_field {
    (required, $v:ident, $name:literal, $E:ty) => {
        match $v {
            Some(v) => v,
            None => return Err(<$E as serde::de::Error>::missing_field($name)),
        }
    };
    (default, $v:ident, $name:literal, $E:ty) => {
        $v.unwrap_or_default()
    };
    ((with $f:path), $v:ident, $name:literal, $E:ty) => {
        $v.unwrap_or_else($f)
    };
}

/// Implements `Deserialize` for a struct whose unknown fields go to `$extra`.
macro_rules! deserialize_with_extra {
    (
        $ty:ident, $expecting:literal, $extra:ident,
        { $( $field:ident : $fty:ty = $name:literal => $how:tt ),* $(,)? }
    ) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$ty, A::Error> {
                        $( let mut $field: Option<$fty> = None; )*
                        let mut $extra = serde_json::Map::new();
                        while let Some(key) = map.next_key::<$crate::types::extra::Key<'de>>()? {
                            match key.0.as_ref() {
                                $( $name => {
                                    $field = map.next_value::<Option<$fty>>()?;
                                } )*
                                _ => {
                                    let value: serde_json::Value = map.next_value()?;
                                    $extra.insert(key.0.into_owned(), value);
                                }
                            }
                        }
                        Ok($ty {
                            $( $field: $crate::types::extra::finish_field!($how, $field, $name, A::Error), )*
                            $extra,
                        })
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

pub(crate) use {deserialize_with_extra, finish_field};

#[cfg(test)]
mod tests {
    use crate::types::{ChatRequest, ChatResponse, Message, Role};

    #[test]
    fn unknown_fields_kept_and_null_is_absent() {
        let r: ChatResponse = serde_json::from_str(
            r#"{"id":"x","usage":null,"object":null,"choices":[],"x_groq":{"id":"req_1"},"esc\"aped":1}"#,
        )
        .unwrap();
        assert_eq!(r.usage, Default::default());
        assert_eq!(r.object, "chat.completion");
        assert_eq!(r.extra["x_groq"]["id"], "req_1");
        assert_eq!(r.extra["esc\"aped"], 1);
    }

    #[test]
    fn required_fields_are_required() {
        let e = serde_json::from_str::<ChatRequest>(r#"{"messages":[]}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `model`"), "{e}");
        let e = serde_json::from_str::<Message>(r#"{"content":"hi"}"#).unwrap_err();
        assert!(e.to_string().contains("`role`"), "{e}");
        let e =
            serde_json::from_str::<ChatRequest>(r#"{"model":"m","messages":"no"}"#).unwrap_err();
        assert!(e.is_data());
    }

    #[test]
    fn request_round_trips_with_extras() {
        let json = r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi","cache_control":{"type":"ephemeral"}}],"temperature":0.5,"logit_bias":{"1":2},"stream":true}"#;
        let r: ChatRequest = serde_json::from_str(json).unwrap();
        assert_eq!(r.messages[0].role, Role::User);
        assert_eq!(r.messages[0].extra["cache_control"]["type"], "ephemeral");
        assert_eq!(r.extra["stream"], true);
        let back: serde_json::Value = serde_json::to_value(&r).unwrap();
        let orig: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, orig);
    }
}
