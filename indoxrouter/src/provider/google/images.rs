//! Imagen through `:predict`.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{ImageData, ImageRequest, ImageResponse};

/// Imagen's aspect ratios, as (ratio, width / height).
const RATIOS: &[(&str, f64)] = &[
    ("1:1", 1.0),
    ("3:4", 0.75),
    ("4:3", 4.0 / 3.0),
    ("9:16", 9.0 / 16.0),
    ("16:9", 16.0 / 9.0),
];

/// An OpenAI size (`1792x1024`) as the nearest Imagen aspect ratio; a ratio
/// (`16:9`) is taken as is.
fn aspect_ratio(size: &str) -> Option<String> {
    if size.contains(':') {
        return Some(size.to_owned());
    }
    let (w, h) = size.split_once(['x', 'X'])?;
    let (w, h): (f64, f64) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    if w <= 0.0 || h <= 0.0 {
        return None;
    }
    let target = (w / h).ln();
    RATIOS
        .iter()
        .min_by(|a, b| {
            let da = (a.1.ln() - target).abs();
            let db = (b.1.ln() - target).abs();
            da.total_cmp(&db)
        })
        .map(|(r, _)| (*r).to_owned())
}

pub(super) fn body(req: &ImageRequest) -> Result<Vec<u8>> {
    if req.response_format.as_deref() == Some("url") {
        return Err(Error::InvalidRequest {
            provider: None,
            message: "Imagen returns images as base64 only; use response_format b64_json".into(),
            param: Some("response_format".into()),
        });
    }
    let mut parameters = Map::new();
    // Imagen makes four images unless told otherwise; OpenAI's default is one.
    parameters.insert("sampleCount".into(), Value::from(req.n.unwrap_or(1)));
    if let Some(size) = &req.size {
        let Some(ratio) = aspect_ratio(size) else {
            return Err(Error::InvalidRequest {
                provider: None,
                message: format!("size `{size}` is neither WIDTHxHEIGHT nor an aspect ratio"),
                param: Some("size".into()),
            });
        };
        parameters.insert("aspectRatio".into(), Value::from(ratio));
    }
    for (k, v) in &req.extra {
        parameters.insert(k.clone(), v.clone());
    }
    serde_json::to_vec(&json!({"instances": [{"prompt": req.prompt}], "parameters": parameters}))
        .map_err(|e| Error::invalid(format!("request not serializable: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePrediction {
    #[serde(default)]
    bytes_base64_encoded: Option<String>,
}

#[derive(Deserialize)]
struct WirePredict {
    #[serde(default)]
    predictions: Vec<WirePrediction>,
}

pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<ImageResponse> {
    let wire: WirePredict = crate::provider::decode_json(&cfg.id, body)?;
    let data = wire
        .predictions
        .into_iter()
        // Filtered-out images come back without bytes.
        .filter_map(|p| p.bytes_base64_encoded)
        .map(|b64| ImageData {
            url: None,
            b64_json: Some(b64),
            revised_prompt: None,
        })
        .collect();
    Ok(ImageResponse {
        created: super::chat::now(),
        data,
        usage: None,
        model: String::new(),
        provider: cfg.id.clone(),
        cost: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predict_body() {
        let mut req =
            ImageRequest::new("google/imagen-3.0-generate-001", "a cat").size("1792x1024");
        req.n = Some(2);
        req.extra
            .insert("personGeneration".into(), json!("dont_allow"));
        let v: Value = serde_json::from_slice(&body(&req).unwrap()).unwrap();
        assert_eq!(
            v,
            json!({"instances": [{"prompt": "a cat"}], "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "personGeneration": "dont_allow"}})
        );
        assert_eq!(aspect_ratio("1024x1024").as_deref(), Some("1:1"));
        assert_eq!(aspect_ratio("1024x1536").as_deref(), Some("3:4"));
        assert_eq!(aspect_ratio("9:16").as_deref(), Some("9:16"));
        assert!(body(&ImageRequest::new("m", "x").size("big")).is_err());
        assert!(body(&ImageRequest::new("m", "x").response_format("url")).is_err());
    }

    #[test]
    fn parses_predictions() {
        let cfg = ProviderConfig {
            id: "google".into(),
            kind: crate::provider::AdapterKind::Google,
            base_url: String::new(),
            api_key: None,
        };
        let r = parse(&cfg, br#"{"predictions":[{"bytesBase64Encoded":"iVBORw0KGgo=","mimeType":"image/png"},{"raiFilteredReason":"blocked"}]}"#).unwrap();
        assert_eq!(r.data.len(), 1);
        assert_eq!(r.data[0].b64_json.as_deref(), Some("iVBORw0KGgo="));
    }
}
