//! JSON Schema reduced to the OpenAPI subset Gemini's `parameters` and
//! `responseSchema` accept.
//!
//! Gemini rejects a whole request over one keyword it doesn't know
//! (`additionalProperties`, `$schema`, `$ref`, `const`…), and takes
//! `nullable: true` rather than `"type": ["string", "null"]`. Tool schemas
//! written for OpenAI use all of these, so they are rewritten: references
//! inlined, nullable unions folded, `const` turned into a one-value `enum`,
//! and every other unknown keyword dropped.

use serde_json::{Map, Value};

/// Keywords Gemini's Schema object has.
const KEPT: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// How deep `$ref`s are followed; recursive schemas are cut off there
/// (Gemini has no recursion either).
const MAX_DEPTH: usize = 16;

/// `schema` in Gemini's dialect.
pub(super) fn normalize(schema: &Value) -> Value {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object);
    convert(schema, defs, 0)
}

fn resolve<'a>(reference: &str, defs: Option<&'a Map<String, Value>>) -> Option<&'a Value> {
    let name = reference
        .strip_prefix("#/$defs/")
        .or_else(|| reference.strip_prefix("#/definitions/"))?;
    defs?.get(name)
}

fn convert(schema: &Value, defs: Option<&Map<String, Value>>, depth: usize) -> Value {
    let Value::Object(src) = schema else {
        return schema.clone();
    };
    if depth > MAX_DEPTH {
        return Value::Object(Map::new());
    }
    if let Some(target) = src
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| resolve(r, defs))
    {
        return convert(target, defs, depth + 1);
    }
    let mut out = Map::new();
    for (key, value) in src {
        match key.as_str() {
            "type" => match value {
                // ["string", "null"] → "string" + nullable.
                Value::Array(types) => {
                    let non_null: Vec<&Value> = types
                        .iter()
                        .filter(|t| t.as_str() != Some("null"))
                        .collect();
                    if non_null.len() < types.len() {
                        out.insert("nullable".into(), Value::Bool(true));
                    }
                    if let Some(first) = non_null.first() {
                        out.insert("type".into(), (*first).clone());
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "const" => {
                out.insert("enum".into(), Value::Array(vec![value.clone()]));
            }
            "properties" => {
                let props: Map<String, Value> = value
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(k, v)| (k.clone(), convert(v, defs, depth + 1)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("properties".into(), Value::Object(props));
            }
            "items" => {
                out.insert("items".into(), convert(value, defs, depth + 1));
            }
            "anyOf" | "oneOf" => {
                let variants: Vec<&Value> = value
                    .as_array()
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                let is_null = |v: &&Value| v.get("type").and_then(Value::as_str) == Some("null");
                let rest: Vec<&Value> = variants.iter().copied().filter(|v| !is_null(v)).collect();
                if rest.len() < variants.len() {
                    out.insert("nullable".into(), Value::Bool(true));
                }
                match rest.as_slice() {
                    // `anyOf: [X, null]` is just a nullable X.
                    [one] => {
                        if let Value::Object(inner) = convert(one, defs, depth + 1) {
                            for (k, v) in inner {
                                out.entry(k).or_insert(v);
                            }
                        }
                    }
                    many => {
                        let converted = many.iter().map(|v| convert(v, defs, depth + 1)).collect();
                        out.insert("anyOf".into(), Value::Array(converted));
                    }
                }
            }
            "allOf" => {
                // A single-element allOf (as generated for a `$ref` with a
                // description) merges in; Gemini has no intersection.
                for part in value.as_array().into_iter().flatten() {
                    if let Value::Object(inner) = convert(part, defs, depth + 1) {
                        for (k, v) in inner {
                            out.entry(k).or_insert(v);
                        }
                    }
                }
            }
            k if KEPT.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            // additionalProperties, $schema, $defs, examples, …
            _ => {}
        }
    }
    // Gemini only takes string enums.
    if let Some(Value::Array(values)) = out.get_mut("enum") {
        for v in values.iter_mut() {
            if !v.is_string() {
                let text = v.to_string();
                *v = Value::String(text);
            }
        }
        out.entry("type").or_insert_with(|| Value::from("string"));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn openai_style_schema_is_rewritten() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": ["string", "null"], "enum": ["c", "f"]},
                "kind": {"const": "weather"},
                "when": {"$ref": "#/$defs/When"},
                "tags": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
                "n": {"enum": [1, 2]}
            },
            "required": ["city"],
            "$defs": {"When": {"type": "object", "properties": {"day": {"type": "string"}}, "additionalProperties": false}}
        });
        assert_eq!(
            normalize(&schema),
            json!({
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "nullable": true, "enum": ["c", "f"]},
                    "kind": {"type": "string", "enum": ["weather"]},
                    "when": {"type": "object", "properties": {"day": {"type": "string"}}},
                    "tags": {"type": "array", "items": {"type": "string", "nullable": true}},
                    "n": {"type": "string", "enum": ["1", "2"]}
                },
                "required": ["city"]
            })
        );
    }

    #[test]
    fn recursive_refs_terminate() {
        let schema = json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}});
        let out = normalize(&schema);
        assert_eq!(out["type"], "object");
        assert!(out.to_string().len() < 10_000);
    }
}
