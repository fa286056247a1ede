"""Typed results. Each wraps the plain dict the core produced: fields are
read-only attributes, nested objects are typed too, ``to_dict()`` returns a
copy of the dict, and ``obj["field"]`` reads the raw value (including
provider-specific extra fields). Money is ``decimal.Decimal``, never float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Dict, List, Optional, Tuple, Union

__all__ = [
    "Record",
    "PromptTokensDetails",
    "CompletionTokensDetails",
    "Usage",
    "Cost",
    "FunctionCall",
    "ToolCall",
    "Message",
    "Choice",
    "ChatCompletion",
    "FunctionCallDelta",
    "ToolCallDelta",
    "Delta",
    "ChunkChoice",
    "ChatCompletionChunk",
    "CompletionChoice",
    "Completion",
    "Embedding",
    "EmbeddingResponse",
    "ImageData",
    "ImageResponse",
    "ModelInfo",
    "Balance",
    "UsageRecord",
    "UsagePage",
]

# (class, is_list) for a nested field.
_Nested = Tuple[type, bool]


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _field(name: str, nested: Optional[_Nested]) -> property:
    if nested is None:

        def get(self: Record) -> Any:
            return self._data.get(name)

    else:
        cls, is_list = nested
        if is_list:

            def get(self: Record) -> Any:
                items = self._data.get(name)
                return None if items is None else [cls(item) for item in items]

        else:

            def get(self: Record) -> Any:
                item = self._data.get(name)
                return None if item is None else cls(item)

    return property(get, doc=f"The `{name}` field.")


class Record:
    """Base of every result type."""

    __slots__ = ("_data",)
    _nested: ClassVar[Dict[str, _Nested]] = {}
    _fields: ClassVar[Tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        annotations = cls.__dict__.get("__annotations__")
        if annotations is None:  # Python 3.14+: evaluated lazily
            annotations = getattr(cls, "__annotations__", {})
        own = [n for n in annotations if not n.startswith("_")]
        for name in own:
            setattr(cls, name, _field(name, cls._nested.get(name)))
        cls._fields = tuple(dict.fromkeys(cls._fields + tuple(own)))

    def __init__(self, data: Dict[str, Any]) -> None:
        self._data = data

    def to_dict(self) -> Dict[str, Any]:
        """A copy of the underlying dict (money as ``Decimal``)."""
        return _copy(self._data)  # type: ignore[no-any-return]

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The raw value of ``key``, or ``default``."""
        return self._data.get(key, default)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._data == self._data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={self._data[k]!r}" for k in self._fields if self._data.get(k) is not None)
        return f"{type(self).__name__}({shown})"


class PromptTokensDetails(Record):
    cached_tokens: int
    cache_creation_tokens: Optional[int]
    audio_tokens: Optional[int]
    image_tokens: Optional[int]


class CompletionTokensDetails(Record):
    reasoning_tokens: int
    audio_tokens: Optional[int]
    image_tokens: Optional[int]


class Usage(Record):
    _nested = {
        "prompt_tokens_details": (PromptTokensDetails, False),
        "completion_tokens_details": (CompletionTokensDetails, False),
    }
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: Optional[PromptTokensDetails]
    completion_tokens_details: Optional[CompletionTokensDetails]


class Cost(Record):
    """An exact cost in USD, split by what was billed."""

    input: Decimal
    cached_input: Decimal
    cache_creation: Decimal
    output: Decimal
    reasoning: Decimal
    image_input: Decimal
    image_output: Decimal
    audio_input: Decimal
    audio_output: Decimal
    images: Decimal
    total: Decimal


class FunctionCall(Record):
    name: str
    arguments: str


class ToolCall(Record):
    _nested = {"function": (FunctionCall, False)}
    id: str
    type: str
    function: FunctionCall


class Message(Record):
    _nested = {"tool_calls": (ToolCall, True)}
    role: str
    content: Optional[Union[str, List[Dict[str, Any]]]]
    name: Optional[str]
    tool_calls: Optional[List[ToolCall]]
    tool_call_id: Optional[str]
    reasoning_content: Optional[str]
    refusal: Optional[str]


class Choice(Record):
    _nested = {"message": (Message, False)}
    index: int
    message: Message
    finish_reason: Optional[str]
    logprobs: Optional[Dict[str, Any]]


class ChatCompletion(Record):
    _nested = {"choices": (Choice, True), "usage": (Usage, False), "cost": (Cost, False)}
    id: str
    object: str
    created: int
    model: str
    choices: List[Choice]
    usage: Usage
    system_fingerprint: Optional[str]
    service_tier: Optional[str]
    provider: str
    cost: Optional[Cost]
    """Exact cost; ``None`` when the model is unpriced (unknown, not free)."""

    @property
    def text(self) -> Optional[str]:
        """The first choice's text content, if it is text."""
        choices = self._data.get("choices") or []
        content = choices[0]["message"].get("content") if choices else None
        return content if isinstance(content, str) else None


class FunctionCallDelta(Record):
    name: Optional[str]
    arguments: Optional[str]


class ToolCallDelta(Record):
    _nested = {"function": (FunctionCallDelta, False)}
    index: int
    id: Optional[str]
    type: Optional[str]
    function: Optional[FunctionCallDelta]


class Delta(Record):
    _nested = {"tool_calls": (ToolCallDelta, True)}
    role: Optional[str]
    content: Optional[str]
    reasoning_content: Optional[str]
    tool_calls: Optional[List[ToolCallDelta]]
    refusal: Optional[str]


class ChunkChoice(Record):
    _nested = {"delta": (Delta, False)}
    index: int
    delta: Delta
    finish_reason: Optional[str]
    logprobs: Optional[Dict[str, Any]]


class ChatCompletionChunk(Record):
    _nested = {"choices": (ChunkChoice, True), "usage": (Usage, False), "cost": (Cost, False)}
    id: str
    object: str
    created: int
    model: str
    choices: List[ChunkChoice]
    usage: Optional[Usage]
    """Set on the chunk that carries the usage (usually the last)."""
    system_fingerprint: Optional[str]
    service_tier: Optional[str]
    provider: str
    cost: Optional[Cost]
    """Set on the chunk that carries the usage, when the model is priced."""

    @property
    def text(self) -> str:
        """The first choice's content delta, or ``""``."""
        choices = self._data.get("choices") or []
        content = choices[0].get("delta", {}).get("content") if choices else None
        return content or ""


class CompletionChoice(Record):
    text: str
    index: int
    finish_reason: Optional[str]
    logprobs: Optional[Dict[str, Any]]


class Completion(Record):
    _nested = {"choices": (CompletionChoice, True), "usage": (Usage, False), "cost": (Cost, False)}
    id: str
    object: str
    created: int
    model: str
    choices: List[CompletionChoice]
    usage: Usage
    provider: str
    cost: Optional[Cost]

    @property
    def text(self) -> Optional[str]:
        """The first choice's text."""
        choices = self._data.get("choices") or []
        return choices[0]["text"] if choices else None


class Embedding(Record):
    object: str
    index: int
    embedding: List[float]


class EmbeddingResponse(Record):
    _nested = {"data": (Embedding, True), "usage": (Usage, False), "cost": (Cost, False)}
    object: str
    data: List[Embedding]
    model: str
    usage: Usage
    provider: str
    cost: Optional[Cost]

    @property
    def vectors(self) -> List[List[float]]:
        """The embedding vectors, in input order."""
        return [d["embedding"] for d in sorted(self._data.get("data") or [], key=lambda d: d["index"])]


class ImageData(Record):
    url: Optional[str]
    b64_json: Optional[str]
    revised_prompt: Optional[str]


class ImageResponse(Record):
    _nested = {"data": (ImageData, True), "usage": (Usage, False), "cost": (Cost, False)}
    created: int
    data: List[ImageData]
    usage: Optional[Usage]
    model: str
    provider: str
    cost: Optional[Cost]


class ModelInfo(Record):
    provider: str
    id: str
    name: str
    description: str
    modes: List[str]
    """``"chat"``, ``"completion"``, ``"embedding"``, ``"image"``."""
    capabilities: Dict[str, bool]
    context_window: Optional[int]
    max_output_tokens: Optional[int]
    output_vector_size: Optional[int]
    pricing: Dict[str, Any]
    """USD per 1M tokens as ``Decimal`` (``input``, ``output``, …), ``tiers``, ``images``,
    ``service_tiers`` (``priority``, ``flex``)."""
    deprecation_date: Optional[str]
    source: Optional[str]

    @property
    def full_id(self) -> str:
        """``provider/id``."""
        return f"{self._data['provider']}/{self._data['id']}"


class Balance(Record):
    username: str
    balance: Decimal
    available: Decimal
    """Balance minus credit held by requests in flight."""


class UsageRecord(Record):
    request_id: str
    endpoint: str
    provider: str
    model: str
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    images: int
    cost: Decimal
    status: str
    created_at: str


class UsagePage(Record):
    _nested = {"data": (UsageRecord, True)}
    data: List[UsageRecord]
    next_cursor: Optional[str]
