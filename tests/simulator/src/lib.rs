//! A local HTTP server that stands in for AI providers in tests.
//!
//! It speaks the real wire formats of OpenAI, Mistral, Anthropic, Google
//! Gemini and Cohere — paths,
//! auth headers, JSON shapes, SSE framing, error bodies, rate-limit headers — so the
//! providers' own SDKs can be pointed at it, and it answers deterministically
//! so tests can assert exact text and token counts. Faults (error statuses,
//! malformed JSON, slow or stalled or cut streams) can be queued or requested
//! per request.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use indoxrouter_simulator::{Fault, Simulator};
//!
//! let sim = Simulator::start().await?;
//! let base = sim.openai_base(); // OPENAI_BASE_URL, e.g. http://127.0.0.1:PORT/openai/v1
//! sim.push_fault("openai", Fault::rate_limited(2)); // the next OpenAI request gets a 429
//! # Ok(()) }
//! ```
//!
//! # Routes
//!
//! | Provider | Base | Endpoints |
//! |---|---|---|
//! | OpenAI | `{root}/openai/v1` (also bare `{root}/v1`) | `POST /chat/completions`, `POST /completions`, `POST /embeddings`, `POST /images/generations`, `GET /models`, `GET /models/{id}` |
//! | Mistral | `{root}/mistral` + `/v1/...` | `POST /v1/chat/completions`, `POST /v1/embeddings`, `GET /v1/models`, `GET /v1/models/{id}` |
//! | Anthropic | `{root}/anthropic` + `/v1/...` | `POST /v1/messages`, `GET /v1/models` |
//! | Gemini | `{root}/google` + `/v1beta/...` | `POST /v1beta/models/{m}:generateContent`, `:streamGenerateContent` (`?alt=sse` for SSE, else a JSON array), `:embedContent`, `:batchEmbedContents`, `:predict` (Imagen), `GET /v1beta/models` |
//! | Cohere | `{root}/cohere` + `/v2/...` | `POST /v2/chat`, `POST /v2/embed` |
//!
//! Control routes (not counted as provider requests): `POST /__sim/faults`
//! with `{"provider": "openai", "fault": {...}, "times": 1}`, `GET /__sim/faults`
//! (pending count), `GET /__sim/requests` (the log as JSON), `GET /__sim/count`
//! (`{"count": n}`), `GET /__sim/streams` (`{"open": n}`, see
//! [`Simulator::open_streams`]), `POST /__sim/reset`, and `GET /__sim/images/{id}.png`,
//! which serves the 1×1 PNG that image URLs point at.
//!
//! # Auth
//!
//! Anthropic takes `x-api-key: <key>` (or, as its newer SDKs send it,
//! `Authorization: Bearer <key>`) and requires an `anthropic-version` header
//! (any value; without one: 400). A missing key is a 401
//! `authentication_error` "x-api-key header is required", a wrong one
//! "invalid x-api-key".
//!
//! Gemini takes `x-goog-api-key: <key>` (or `?key=`); without one it answers
//! Google's 403 `PERMISSION_DENIED` ("Method doesn't allow unregistered
//! callers…"), with a wrong one its 400 `INVALID_ARGUMENT` "API key not
//! valid. Please pass a valid API key." with an `ErrorInfo` reason
//! `API_KEY_INVALID`.
//!
//! OpenAI, Mistral and Cohere take `Authorization: Bearer <key>` (Cohere's
//! 401 bodies: "no api key supplied", "invalid api token"). A request without one
//! gets a 401 (OpenAI's "You didn't provide an API key…" body; Mistral's
//! `{"detail":"Unauthorized"}`). If [`SimConfig::api_key`] is set, any other
//! key also gets a 401 (OpenAI: `code: "invalid_api_key"`, with the key masked
//! as `sk-abcde****wxyz`); otherwise any key is accepted. Recorded requests
//! mask credential headers the same way.
//!
//! # Tokens
//!
//! `tokens(text)` is the number of whitespace-separated words, or 1 for
//! non-empty text that is all whitespace ([`tokens::count_tokens`]).
//!
//! **Chat prompt tokens**:
//!
//! ```text
//! 3
//! + per message:   4 + tokens(each text part of content) + 85 per image part
//!                    + 100,000 per file, audio, video or document part
//!                    (Gemini `fileData` included)
//!                    + tokens(name) if present
//!                    + per tool call: tokens(function.name) + tokens(function.arguments)
//! + per tool:      8 + tokens(function.description) + number of keys in parameters.properties
//! ```
//!
//! Example: `[{system: "You are terse."}, {user: "Say hello to the world"}]`
//! → `3 + (4+3) + (4+5) = 19`.
//!
//! **Completion tokens** = `tokens(content)` of each choice, summed over the
//! `n` choices; for a tool call, `tokens(name) + tokens(arguments)` (usually
//! `1 + 1`). Legacy completions: prompt tokens = sum of `tokens(prompt)` over
//! the prompts (no overhead); a token-id prompt counts one per id.
//! Embeddings: sum of `tokens(input)`.
//!
//! **OpenAI reasoning models** (ids starting `o1`, `o3`, `o4`, `gpt-5`):
//! `reasoning_tokens = 2 × visible completion tokens`, and `completion_tokens`
//! includes them. **Cached tokens** (OpenAI): the largest multiple of 128 not
//! above `prompt_tokens − 128`, if that is at least 1024, else 0 (so 1152
//! prompt tokens → 1024 cached; 1151 → 0).
//!
//! # Replies
//!
//! Normal reply: `"Hello from the simulator. You said: <text>"`, where
//! `<text>` is the text parts of the **last user message** with whitespace
//! collapsed to single spaces. If that message has `k ≥ 1` image parts,
//! `" I see k image."` / `" I see k images."` is appended.
//! Example: `"Say hello to the world"` → 11 completion tokens.
//!
//! If the **last message has role `tool`**: `"Tool result received: <its content>"`.
//!
//! **Tool calls**: if `tools` has a function, `tool_choice` isn't `"none"`,
//! and the last message has role `user`, the reply is one tool call to the
//! function named by `tool_choice` (`{"type":"function","function":{"name":…}}`),
//! else the first tool. Its arguments are a JSON object with a placeholder for
//! each `required` property, keys sorted: the first `enum` value if any, else by
//! type `"sample"` / `1` (integer, number) / `true` / `[]` / `{}` / `null`.
//! `finish_reason` is `"tool_calls"`. OpenAI ids are `call_` + 24 alphanumerics;
//! Mistral ids are 9 alphanumerics. OpenAI sends `content: null`, Mistral `""`.
//!
//! **JSON mode** (`response_format` `json_object` or `json_schema`): the
//! content is `{"reply":"<normal reply>"}` (same token count).
//!
//! **Limits**, applied in this order: `stop` (string or array) cuts the
//! content at the earliest match, `finish_reason "stop"`; then
//! `max_completion_tokens` (else `max_tokens`) keeps that many words joined by
//! single spaces, `finish_reason "length"`. Legacy completions default to
//! `max_tokens: 16`, as OpenAI does. **`n`** repeats the same choice with
//! indexes `0..n`.
//!
//! **Anthropic** requests are counted and answered as their OpenAI
//! equivalent: the `system` prompt (string, or text blocks joined by spaces)
//! is one system message, each `tool_result` block one tool message (its
//! text content), `tool_use` blocks are tool calls whose arguments are the
//! `input` serialized compactly, image blocks are image parts, and
//! `tools[].input_schema` are the parameters. `tool_choice` `auto`/`any`
//! call the first tool, `tool` the named one, `none` none. `max_tokens`
//! (required) and `stop_sequences` apply as above; `stop_reason` is
//! `end_turn`, `max_tokens`, `tool_use`, or `stop_sequence` with
//! `stop_sequence` naming the earliest match. With `thinking: {type:
//! "enabled"}` a `thinking` block `"Let me think about that."` (5 tokens,
//! with a deterministic `signature`) comes first and counts in
//! `output_tokens`. **Cache**: if `cache_control` appears anywhere in the
//! request, `cache_read_input_tokens` = ⌊P/2⌋, `cache_creation_input_tokens`
//! = ⌊P/4⌋ and `input_tokens` = P − both, for P prompt tokens; otherwise both
//! cache counts are 0. Ids are `msg_01…` and `toolu_01…`.
//!
//! **Gemini** requests are counted the same way: `systemInstruction` is one
//! system message, `model` turns are assistant messages, `inlineData` and
//! `fileData` parts are images, `functionCall` parts tool calls (arguments
//! = `args` serialized compactly), each `functionResponse` a tool message
//! whose text is the response's single string field if it has exactly one,
//! else its compact JSON; `functionDeclarations` are the tools.
//! `toolConfig.functionCallingConfig.mode` `NONE` calls nothing, `ANY` with
//! `allowedFunctionNames` calls the first name, otherwise the first tool.
//! `generationConfig`: `maxOutputTokens`, `stopSequences`, `candidateCount`
//! (1–8, all candidates identical) and `responseMimeType:
//! "application/json"` (JSON mode) apply; `finishReason` is `STOP` or
//! `MAX_TOKENS`. Function calls carry no `id`. A `thinkingConfig` with a
//! non-zero `thinkingBudget` (or a `thinkingLevel`) adds
//! `thoughtsTokenCount: 5`, outside `candidatesTokenCount` and inside
//! `totalTokenCount`; with `includeThoughts` the candidate starts with the
//! part `{"text": "Let me think about that.", "thought": true}` (either
//! spelling, camelCase or snake_case, is read, as protobuf JSON allows). A
//! request naming `cachedContent` reports `cachedContentTokenCount` =
//! ⌊P/2⌋ (inside `promptTokenCount`). Embeddings: 3072 dimensions for
//! `gemini-embedding-*`, else 768, truncated by `outputDimensionality`;
//! `batchEmbedContents` reports `usageMetadata.promptTokenCount` = the sum
//! of `tokens(text)`. Imagen `:predict` returns `sampleCount` (default 4,
//! at most 4) copies of the 1×1 PNG; `aspectRatio` must be one of 1:1, 3:4,
//! 4:3, 9:16, 16:9.
//!
//! **Cohere** v2 messages are read as they are (OpenAI's shape; tool-message
//! content may also be `document` blocks, whose `data` is the text).
//! `tool_choice` `REQUIRED` calls the first tool, `NONE` none;
//! `response_format` `json_object` is JSON mode; `max_tokens` and
//! `stop_sequences` apply (`finish_reason` `COMPLETE`, `STOP_SEQUENCE`,
//! `MAX_TOKENS`, `TOOL_CALL`). A tool call comes with the `tool_plan`
//! "I will use the <name> tool." (6 tokens, counted as output). Usage:
//! `billed_units` are the counts above; `tokens` adds 10 input tokens
//! (Cohere's preamble) and 1 output token, which are not billed. Tool-call
//! ids are `<name>_` + 12 characters. Embed: `input_type` is required
//! (`search_document`, `search_query`, `classification`, `clustering`,
//! `image`), as is `embedding_types`; dimensions 1024 (`*-light-*`: 384,
//! `embed-v4*`: 1536, `embed-v5*`: 2048), `output_dimension` 256–1536 for
//! v4; `meta.billed_units.input_tokens` = the sum of `tokens(text)`.
//!
//! # Streaming
//!
//! Events are `data: <json>\n\n`, each flushed as its own write, ending with
//! `data: [DONE]`. Content is streamed one word per chunk (words after the
//! first carry their leading space, so the pieces concatenate to the exact
//! content). Each choice's chunks are sent in turn.
//!
//! - OpenAI chat: a first chunk with `delta {role: "assistant", content: ""}`,
//!   one chunk per word, a final chunk with `delta {}` and the finish reason.
//!   Tool calls: a first chunk with `role`, `content: null` and the tool call's
//!   `index`, `id`, `type`, `function.name` and empty `arguments`, then
//!   8-character argument fragments. With `stream_options.include_usage` every
//!   chunk carries `"usage": null` and a last chunk with `choices: []` carries
//!   usage; without it there is no `usage` field and no usage chunk.
//! - OpenAI legacy completions: one `text_completion` chunk per word, a final
//!   chunk per choice with the finish reason, and the same usage rule.
//! - Anthropic: named events (`event: <type>` then `data:`), as in its
//!   streaming reference: `message_start` (usage with the input counts and
//!   `output_tokens: 1`), per block `content_block_start` / one
//!   `content_block_delta` per word (`thinking_delta` then a `signature_delta`
//!   for thinking, `text_delta` for text; a tool-use block starts with
//!   `input: {}` and sends an empty `input_json_delta` then 8-character
//!   fragments) / `content_block_stop`, a `ping` after the first block
//!   starts, `message_delta` with `stop_reason`, `stop_sequence` and the
//!   cumulative `output_tokens`, and `message_stop`. No `[DONE]`.
//! - Gemini (`alt=sse`): `data: <GenerateContentResponse>` ended by
//!   `\r\n\r\n`, one event per word with all candidates advancing
//!   together, each candidate's `finishReason` on its last piece, cumulative
//!   `usageMetadata` on every event, and no `[DONE]`. A function call comes
//!   whole in one event.
//! - Cohere: named events (`event: <type>`): `message-start`, then for text
//!   `content-start`, one `content-delta` per word, `content-end`; for a tool
//!   call one `tool-plan-delta` per word of the plan, `tool-call-start`
//!   (empty arguments), 8-character `tool-call-delta`s, `tool-call-end`; and
//!   `message-end` with `finish_reason` and usage. No `[DONE]`.
//! - Mistral: a first chunk with `delta {role: "assistant", content: ""}`, one
//!   chunk per word, a final `delta {content: ""}` chunk with the finish
//!   reason, which on the last choice also carries `usage`. A tool call comes
//!   whole in one chunk that also carries the finish reason (and usage).
//!
//! # Other endpoints
//!
//! - **Embeddings**: unit vectors derived from a hash of each input; equal
//!   text gives equal vectors. Dimensions: `text-embedding-3-large` 3072,
//!   `mistral-embed` 1024, everything else 1536; OpenAI `dimensions` (only
//!   text-embedding-3) and Mistral `output_dimension` truncate and renormalise.
//!   `encoding_format: "base64"` gives little-endian `f32`s in base64.
//! - **Images** (OpenAI): `dall-e-2` (256/512/1024 square, `n` ≤ 10),
//!   `dall-e-3` (1024x1024, 1792x1024, 1024x1792; `standard`/`hd`; `n` = 1;
//!   adds `revised_prompt`), GPT Image models (`gpt-image-*`: 1024x1024,
//!   1536x1024, 1024x1536, `auto`; `low`/`medium`/`high`/`auto`; always
//!   `b64_json`, no `response_format`). GPT Image usage: input tokens =
//!   `tokens(prompt)`, output tokens per image from OpenAI's table — 1024x1024
//!   272/1056/4160, 1024x1536 408/1584/6240, 1536x1024 400/1568/6208 for
//!   low/medium/high; `auto` means medium 1024x1024. URLs point at
//!   `{root}/__sim/images/{id}.png`.
//! - **Models**: OpenAI's list shape with a fixed set of ids; Mistral's adds
//!   model cards (`capabilities`, `type: "base"`, …).
//!
//! # Models and errors
//!
//! OpenAI accepts ids starting `gpt-`, `o1`, `o3`, `o4`, `chatgpt-`,
//! `text-embedding-`, `dall-e-`, `gpt-image-`, containing `-instruct`, and
//! `davinci-002`/`babbage-002` (also inside `ft:` ids); others get OpenAI's 404
//! ``The model `x` does not exist or you do not have access to it.``. Legacy
//! completions with a chat model get OpenAI's 404 "This is a chat model and not
//! supported in the v1/completions endpoint…", and chat with a completion model
//! the converse. Mistral accepts ids starting `mistral`, `ministral`,
//! `codestral`, `magistral`, `pixtral`, `open-`, `devstral`, `voxtral`; others
//! get Mistral's real `400 invalid_model` ("Invalid model: x"). The id
//! [`MISSING_MODEL`] (`sim-missing`) always gets a 404 (on Mistral with the
//! `invalid_model` body).
//!
//! Anthropic accepts ids starting `claude-`; others (and `sim-missing`) get
//! its 404 `not_found_error` "model: x". Its errors are
//! `{"type":"error","error":{"type","message"}}`: 400 `invalid_request_error`
//! for unknown top-level fields (OpenAI's `n`, `stream_options`,
//! `response_format`…: "x: Extra inputs are not permitted"), a missing
//! `max_tokens`, a `system` role in `messages`, empty text blocks, image
//! `media_type`s other than jpeg/png/gif/webp, OpenAI-style `image_url`
//! parts, `temperature` outside 0–1, and `tool_result` blocks whose
//! `tool_use_id` has no `tool_use` in the previous message; status faults
//! answer with the documented type for the status (`rate_limit_error`,
//! `overloaded_error` for 529, `api_error` for other 5xx…).
//!
//! Gemini serves ids starting `gemini-`, `gemma-`, `imagen-` (`:predict`
//! only), `text-embedding-`/`embedding-`/`gemini-embedding-` (embeddings
//! only), `learnlm-`; others get its 404 `NOT_FOUND` "models/x is not found
//! for API version v1beta…". Its errors are `{"error":{"code","message",
//! "status"}}`; unknown fields anywhere in the request, including JSON
//! Schema keywords outside Gemini's Schema object (`additionalProperties`,
//! `$ref`, `const`…) and `type` arrays, are 400 `INVALID_ARGUMENT`
//! ("Invalid JSON payload received. Unknown name…"), as are roles other
//! than `user`/`model`, empty `parts`, and a `batchEmbedContents` request
//! naming another model than the URL.
//!
//! Cohere serves `command*` and `c4ai-aya*` for chat and `embed-*` for
//! embed; others get its 404 "model 'x' not found, make sure the correct
//! model ID was used and that you have access to the model.". Its errors
//! are `{"id", "message"}`; unknown top-level fields (OpenAI's `top_p`,
//! `n`, `stream_options`…), message fields it doesn't have (`name`,
//! `refusal`…), roles other than system/user/assistant/tool, and a
//! lower-case `tool_choice` are 400s.
//!
//! Validation errors use the providers' own wording: OpenAI's
//! `{"error":{"message","type","param","code"}}` 400s (missing/invalid
//! parameters, `max_tokens` on reasoning models, tool messages not answering a
//! preceding `tool_calls`, `stream_options` without `stream`, …); Mistral's
//! pydantic-style 422 `{"object":"error","message":{"detail":[…]},…}` (missing
//! fields, wrong types, and OpenAI-only fields such as `stream_options`,
//! `max_completion_tokens`, `user`, or a message `name`), and its 400s for
//! tool-call ids that aren't 9 alphanumerics and for a last message that
//! isn't `user`/`tool`/prefix `assistant`. Mistral accepts `random_seed` (and
//! `seed`); both are just recorded. `n` is capped at 128 on both providers.
//!
//! # Faults
//!
//! Queue one with [`Simulator::push_fault`] (consumed FIFO by the next request
//! to that provider, or any provider for `"*"`), or send the header
//! `x-simulator-fault` on one request (it takes precedence and leaves the
//! queue alone). Header syntax, items separated by `;`:
//!
//! - `status=429` — with optional `retry_after=2` (seconds, sent as
//!   `Retry-After`), `quota` (OpenAI's `insufficient_quota` body) and
//!   `body=<raw text to the end of the header>`
//! - `malformed` — [`Fault::MalformedJson`]
//! - `slow=500ms`, `slow=2s`, `slow=250` (milliseconds) — [`Fault::SlowFirstByte`]
//! - `stall=2` — [`Fault::Stall`]
//! - `cut=3` — [`Fault::CutStream`]
//! - `drip=50ms` — [`Fault::Drip`]: a stream's events 50 ms apart
//! - `overreport=1000` — [`Fault::OverReport`]: the usage the answer
//!   reports (prompt and completion) is multiplied by 1000
//! - `cut_before_end` — [`Fault::CutBeforeEnd`]: a stream's last event (its
//!   end marker) is dropped and the connection cut
//! - `max_usage` — [`Fault::MaxUsage`]: the answer reports the most output
//!   the request permits (its whole `max_tokens` × `n`)
//! - `error=3` — [`Fault::StreamError`]: after 3 events, the provider's
//!   in-stream error (Anthropic: an `error` event with `overloaded_error`;
//!   Gemini: a `data:` line with a 503 `UNAVAILABLE` error object; Cohere: a
//!   `message-end` with `finish_reason: "ERROR"` and `error`; OpenAI and
//!   Mistral: a `data:` line with OpenAI's `server_error` object)
//!
//! A status fault answers before auth and validation run; the other kinds
//! alter the response the request would otherwise get (including an error).
//! A header that doesn't parse gets a 400 in the provider's error shape.
//! For `/__sim/faults`, `fault` is either a header-syntax string or an object:
//! `{"type":"status","status":429,"retry_after":2,"body":null}`,
//! `{"type":"malformed"}`, `{"type":"slow","ms":500}`,
//! `{"type":"stall","after_chunks":2}`, `{"type":"cut","after_chunks":3}`,
//! `{"type":"stream_error","after_chunks":3}`.
//! `after_chunks` counts SSE events including the first role chunk.

mod anthropic;
mod auth;
mod chat;
mod cohere;
mod control;
mod embeddings;
mod faults;
mod google;
mod ids;
mod mistral;
mod openai;
mod png;
mod reply;
mod server;
mod sse;
mod state;
pub mod tokens;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;

pub use faults::{FAULT_HEADER, Fault};
pub use state::RecordedRequest;

/// A model id that every provider answers with a 404.
pub const MISSING_MODEL: &str = "sim-missing";

/// How to start a [`Simulator`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimConfig {
    /// If set, provider requests must carry `Authorization: Bearer <api_key>`
    /// or get a 401.
    pub api_key: Option<String>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

/// A running simulator. Dropping it shuts the server down, closing every
/// connection, stalled streams included.
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<state::State>,
    task: JoinHandle<()>,
}

impl Simulator {
    /// Starts a simulator on a free port of 127.0.0.1, accepting any key.
    pub async fn start() -> io::Result<Simulator> {
        Simulator::start_with(SimConfig::default()).await
    }

    /// Starts a simulator with `config`.
    pub async fn start_with(config: SimConfig) -> io::Result<Simulator> {
        let (addr, state, task) = server::spawn(config).await?;
        Ok(Simulator { addr, state, task })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn root_url(&self) -> String {
        self.state.root.clone()
    }

    /// OpenAI's base URL, `{root}/openai/v1` (what `OPENAI_BASE_URL` expects).
    pub fn openai_base(&self) -> String {
        format!("{}/openai/v1", self.state.root)
    }

    /// Mistral's server URL, `{root}/mistral`; its paths start with `/v1/`.
    pub fn mistral_base(&self) -> String {
        format!("{}/mistral", self.state.root)
    }

    /// Anthropic's base URL, `{root}/anthropic` (what `ANTHROPIC_BASE_URL`
    /// expects); its paths start with `/v1/`.
    pub fn anthropic_base(&self) -> String {
        format!("{}/anthropic", self.state.root)
    }

    /// Gemini's base URL, `{root}/google` (what `GEMINI_BASE_URL` and the
    /// google-genai SDK's `base_url` expect); its paths start with `/v1beta/`.
    pub fn google_base(&self) -> String {
        format!("{}/google", self.state.root)
    }

    /// Cohere's base URL, `{root}/cohere` (what `COHERE_BASE_URL` and the
    /// cohere SDK's `base_url` expect); its paths start with `/v2/`.
    pub fn cohere_base(&self) -> String {
        format!("{}/cohere", self.state.root)
    }

    /// Queues `fault` for the next request to `provider` (`"openai"`,
    /// `"mistral"`, `"anthropic"`, `"google"`, `"cohere"`, or `"*"` for whichever comes first). Faults are consumed
    /// one per request, oldest first.
    pub fn push_fault(&self, provider: &str, fault: Fault) {
        self.state.push_fault(provider, fault);
    }

    /// Queued faults not yet consumed.
    pub fn pending_faults(&self) -> usize {
        self.state.pending_faults()
    }

    /// Provider requests received since start or the last [`reset`](Self::reset);
    /// control routes don't count.
    pub fn request_count(&self) -> usize {
        self.state.request_count()
    }

    /// The provider requests received, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// Provider responses whose bodies are still being sent (or held open by
    /// a stall). Falls to zero once every client has read to the end or hung up.
    pub fn open_streams(&self) -> usize {
        self.state
            .open_bodies()
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Clears queued faults and the request log.
    pub fn reset(&self) {
        self.state.reset();
    }
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
