//! The unified request and response types, in OpenAI's chat-completions shape.
//!
//! Decoding is lenient: unknown fields land in `extra` maps and unknown enum
//! values in `Other` variants, so a provider adding a field never breaks us.

mod chat;
mod completion;
mod embedding;
pub(crate) mod extra;
mod image;
pub(crate) mod lenient;
mod message;
mod usage;

pub use chat::{
    ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta, FinishReason,
    FunctionCallDelta, FunctionDef, ResponseFormat, Stop, Tool, ToolCallDelta, ToolChoice,
};
pub use completion::{CompletionChoice, CompletionRequest, CompletionResponse, Prompt};
pub use embedding::{Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse};
pub use image::{ImageData, ImageRequest, ImageResponse};
pub use message::{Content, ContentPart, FunctionCall, ImageUrl, Message, Role, ToolCall};
pub use usage::{CompletionTokensDetails, PromptTokensDetails, Usage};
