"""IndoxRouter: one typed client for OpenAI, Anthropic, Gemini, Cohere,
Mistral and any OpenAI-compatible provider, with exact costs.

    from indoxrouter import Client

    client = Client()  # keys from OPENAI_API_KEY, ANTHROPIC_API_KEY, ...
    resp = client.chat([{"role": "user", "content": "Hello!"}], model="openai/gpt-4o-mini")
    print(resp.text, resp.cost.total)  # cost is an exact decimal.Decimal

The work is done by a Rust core (the ``indoxrouter`` crate); this package
converts types and errors.
"""

from ._client import AsyncChatStream, AsyncClient, ChatStream, Client
from ._errors import (
    AuthenticationError,
    IndoxRouterError,
    InsufficientCreditsError,
    InvalidParametersError,
    ModelNotFoundError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    ProviderNotFoundError,
    RateLimitError,
    ResponseDecodeError,
    StreamInterruptedError,
    TimeoutError,
    UnsupportedError,
)
from ._native import __version__
from ._types import (
    Balance,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Completion,
    CompletionChoice,
    CompletionTokensDetails,
    Cost,
    Delta,
    Embedding,
    EmbeddingResponse,
    FunctionCall,
    FunctionCallDelta,
    ImageData,
    ImageResponse,
    Message,
    ModelInfo,
    PromptTokensDetails,
    Record,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsagePage,
    UsageRecord,
)

__all__ = [
    "__version__",
    "Client",
    "AsyncClient",
    "ChatStream",
    "AsyncChatStream",
    "IndoxRouterError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ModelNotFoundError",
    "InvalidParametersError",
    "UnsupportedError",
    "RateLimitError",
    "InsufficientCreditsError",
    "ProviderError",
    "NetworkError",
    "StreamInterruptedError",
    "ResponseDecodeError",
    "TimeoutError",
    "ProviderNotFoundError",
    "Record",
    "Usage",
    "PromptTokensDetails",
    "CompletionTokensDetails",
    "Cost",
    "Message",
    "ToolCall",
    "FunctionCall",
    "Choice",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChunkChoice",
    "Delta",
    "ToolCallDelta",
    "FunctionCallDelta",
    "Completion",
    "CompletionChoice",
    "Embedding",
    "EmbeddingResponse",
    "ImageData",
    "ImageResponse",
    "ModelInfo",
    "Balance",
    "UsageRecord",
    "UsagePage",
]
