//! Chat messages: roles, text and image parts, tool calls.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::lenient::lenient_enum;

lenient_enum! {
    /// Who wrote a message.
    pub enum Role {
        /// Instructions for the model.
        System => "system",
        /// OpenAI's newer name for system instructions.
        Developer => "developer",
        /// The end user.
        User => "user",
        /// The model.
        Assistant => "assistant",
        /// A tool's result.
        Tool => "tool",
    }
}

/// One message of a conversation, in OpenAI's chat-completions shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Text, or a list of text/image parts. `None` for assistant turns that only call tools.
    #[serde(default)]
    pub content: Option<Content>,
    /// Optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls the assistant made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// For `role: tool`, the call this result answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Reasoning text surfaced by the provider (DeepSeek, Anthropic thinking…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// A refusal message, when the model declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Fields this version does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A message with text content.
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            content: Some(Content::Text(text.into())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            reasoning_content: None,
            refusal: None,
            extra: Map::new(),
        }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::new(Role::System, text)
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, text)
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, text)
    }

    /// A user message made of parts (text and images).
    pub fn user_parts(parts: Vec<ContentPart>) -> Self {
        Message {
            content: Some(Content::Parts(parts)),
            ..Self::new(Role::User, "")
        }
    }

    /// An assistant turn that calls tools.
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Self {
        Message {
            content: None,
            tool_calls: Some(calls),
            ..Self::new(Role::Assistant, "")
        }
    }

    /// A tool result answering `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            tool_call_id: Some(tool_call_id.into()),
            ..Self::new(Role::Tool, text)
        }
    }

    /// The text of this message: the string content, or its text parts joined.
    pub fn text(&self) -> Option<String> {
        match &self.content {
            None => None,
            Some(Content::Text(t)) => Some(t.clone()),
            Some(Content::Parts(parts)) => {
                let mut out = String::new();
                for p in parts {
                    if let ContentPart::Text { text } = p {
                        out.push_str(text);
                    }
                }
                Some(out)
            }
        }
    }
}

/// Message content: a plain string or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Text and image parts (vision).
    Parts(Vec<ContentPart>),
}

impl From<&str> for Content {
    fn from(s: &str) -> Self {
        Content::Text(s.to_owned())
    }
}

impl From<String> for Content {
    fn from(s: String) -> Self {
        Content::Text(s)
    }
}

/// One part of a multi-part message.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentPart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image, by URL or `data:` URL.
    ImageUrl {
        /// Where the image is.
        image_url: ImageUrl,
    },
    /// A part type this version does not model (audio, file…), kept verbatim.
    Other(Value),
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }

    /// An image part from an `https:` or `data:` URL.
    pub fn image_url(url: impl Into<String>) -> Self {
        ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: url.into(),
                detail: None,
            },
        }
    }
}

/// An image reference in a content part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// `https://…` or `data:image/png;base64,…`.
    pub url: String,
    /// `low`, `high` or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ImageUrl {
    /// For a `data:` URL, its media type and base64 payload.
    pub fn as_data(&self) -> Option<(&str, &str)> {
        let rest = self.url.strip_prefix("data:")?;
        let (media, data) = rest.split_once(',')?;
        let media = media.strip_suffix(";base64")?;
        Some((media, data))
    }
}

impl Serialize for ContentPart {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            ContentPart::Text { text } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "text")?;
                m.serialize_entry("text", text)?;
                m.end()
            }
            ContentPart::ImageUrl { image_url } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "image_url")?;
                m.serialize_entry("image_url", image_url)?;
                m.end()
            }
            ContentPart::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Parts are rare on the hot path (responses carry strings), so going
        // through `Value` keeps unknown part types without a custom visitor.
        let v = Value::deserialize(d)?;
        match v.get("type").and_then(Value::as_str) {
            Some("text") => match v.get("text").and_then(Value::as_str) {
                Some(t) => Ok(ContentPart::Text { text: t.to_owned() }),
                None => Err(D::Error::custom("text part without `text`")),
            },
            Some("image_url") => {
                let raw = v
                    .get("image_url")
                    .ok_or_else(|| D::Error::custom("image_url part without `image_url`"))?;
                // OpenAI accepts both `{"url": ...}` and a bare string here.
                let image_url = match raw {
                    Value::String(url) => ImageUrl {
                        url: url.clone(),
                        detail: None,
                    },
                    other => ImageUrl::deserialize(other).map_err(D::Error::custom)?,
                };
                Ok(ContentPart::ImageUrl { image_url })
            }
            _ => Ok(ContentPart::Other(v)),
        }
    }
}

/// A tool call made by the assistant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Call id, echoed back in the tool result.
    #[serde(default)]
    pub id: String,
    /// Always `function` today.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function and its JSON arguments.
    pub function: FunctionCall,
}

/// The `type` of every tool and tool call today.
pub(crate) fn function_type() -> String {
    "function".to_owned()
}

impl ToolCall {
    /// A function call.
    pub fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        ToolCall {
            id: id.into(),
            kind: function_type(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
        }
    }
}

/// A function name and its arguments as a JSON string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments, a JSON-encoded object (as the model produced it; may be invalid JSON).
    #[serde(default)]
    pub arguments: String,
}

super::extra::deserialize_with_extra!(Message, "a chat message", extra, {
    role: Role = "role" => required,
    content: Option<Content> = "content" => default,
    name: Option<String> = "name" => default,
    tool_calls: Option<Vec<ToolCall>> = "tool_calls" => default,
    tool_call_id: Option<String> = "tool_call_id" => default,
    reasoning_content: Option<String> = "reasoning_content" => default,
    refusal: Option<String> = "refusal" => default,
});
