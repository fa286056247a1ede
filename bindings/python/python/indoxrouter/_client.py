"""``Client`` and ``AsyncClient``: thin facades over the native core client."""

from __future__ import annotations

import os
from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Callable,
    Generator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Type,
    Union,
    overload,
)

from . import _native
from ._errors import IndoxRouterError, InvalidParametersError
from ._types import (
    Balance,
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    Cost,
    EmbeddingResponse,
    ImageResponse,
    ModelInfo,
    Usage,
    UsagePage,
)

__all__ = ["Client", "AsyncClient", "ChatStream", "AsyncChatStream"]

DEFAULT_CHAT_MODEL = "openai/gpt-4o-mini"
DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"
DEFAULT_IMAGE_MODEL = "openai/dall-e-3"

Messages = Union[str, Sequence[Mapping[str, Any]]]


def _messages(messages: Any) -> Any:
    # A bare string is the common one-turn case.
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return messages


def _native_client(
    api_keys: Optional[Mapping[str, str]],
    base_urls: Optional[Mapping[str, str]],
    providers: Optional[Mapping[str, str]],
    timeout: Optional[float],
    connect_timeout: Optional[float],
    stream_idle_timeout: Optional[float],
    max_retries: Optional[int],
    use_env: bool,
    catalog_file: Optional[str],
    base_url: Optional[str],
    api_key: Optional[str],
    username: Optional[str],
    password: Optional[str],
) -> _native.NativeClient:
    if base_url is None and (api_key is not None or username is not None):
        base_url = os.environ.get("INDOXROUTER_BASE_URL")
        if base_url is None:
            raise InvalidParametersError(
                "hosted mode needs `base_url` (or INDOXROUTER_BASE_URL)",
                code="invalid_request",
                status=400,
                param="base_url",
            )
    return _native.NativeClient(
        api_keys=dict(api_keys) if api_keys else None,
        base_urls=dict(base_urls) if base_urls else None,
        providers=dict(providers) if providers else None,
        timeout=timeout,
        connect_timeout=connect_timeout,
        stream_idle_timeout=stream_idle_timeout,
        max_retries=max_retries,
        use_env=use_env,
        catalog_file=catalog_file,
        base_url=base_url,
        api_key=api_key,
        username=username,
        password=password,
    )


def _closed() -> IndoxRouterError:
    return IndoxRouterError("the client is closed", code="closed", status=400)


class _Base:
    """Construction, catalog lookups and the context-manager plumbing shared
    by both clients."""

    def __init__(
        self,
        api_keys: Optional[Mapping[str, str]] = None,
        *,
        base_urls: Optional[Mapping[str, str]] = None,
        providers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        stream_idle_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        use_env: bool = True,
        catalog_file: Optional[str] = None,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
    ) -> None:
        self._native: Optional[_native.NativeClient] = _native_client(
            api_keys,
            base_urls,
            providers,
            timeout,
            connect_timeout,
            stream_idle_timeout,
            max_retries,
            use_env,
            catalog_file,
            base_url,
            api_key,
            username,
            password,
        )

    def _n(self) -> _native.NativeClient:
        native = self._native
        if native is None:
            raise _closed()
        return native

    @property
    def providers(self) -> List[str]:
        """Ids of the providers this client can call."""
        return self._n().providers()

    @property
    def is_hosted(self) -> bool:
        """Whether this client talks to an IndoxRouter server."""
        return self._n().is_hosted()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native is None

    def models(self, provider: Optional[str] = None) -> List[ModelInfo]:
        """Every catalog model, or those of one provider."""
        return [ModelInfo(m) for m in self._n().models(provider)]

    def model(self, id: str) -> ModelInfo:
        """Catalog data for ``provider/model`` or an unambiguous bare id."""
        return ModelInfo(self._n().model(id))

    def cost(self, model: str, usage: Union[Usage, Mapping[str, Any]]) -> Optional[Cost]:
        """Exact cost of ``usage`` (``prompt_tokens``, ``completion_tokens``,
        details…) on ``model``; ``None`` when the model is unpriced."""
        cost = self._n().cost(model, usage)
        return None if cost is None else Cost(cost)

    def close(self) -> None:
        """Releases the connection pool once in-flight calls finish. Idempotent."""
        self._native = None

    def __repr__(self) -> str:
        if self._native is None:
            return f"{type(self).__name__}(closed)"
        return f"{type(self).__name__}(providers={self._native.providers()!r})"


class ChatStream:
    """An iterator of :class:`ChatCompletionChunk`. Leaving the loop early
    (``break``), :meth:`close`, or leaving a ``with`` block closes the
    connection, which cancels the upstream request."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.NativeStream) -> None:
        self._native = native

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> ChatCompletionChunk:
        chunk = self._native.next()
        if chunk is None:
            raise StopIteration
        return ChatCompletionChunk(chunk)

    def close(self) -> None:
        """Stops the stream and cancels the upstream request. Idempotent."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """Whether the stream was closed or has ended."""
        return self._native.closed

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # A `for` loop left by `break` drops its iterator; close promptly
        # even if a reference cycle keeps the native object alive.
        native = getattr(self, "_native", None)
        if native is not None:
            native.close()


class Client(_Base):
    """A blocking client; share one across threads.

    Direct mode (default): provider keys come from the environment
    (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``,
    ``COHERE_API_KEY``, ``MISTRAL_API_KEY``…) and/or ``api_keys={"openai":
    "sk-…"}``; ``base_urls`` points a provider elsewhere; ``providers`` adds
    OpenAI-compatible endpoints (``{"vllm": "http://host:8000/v1"}``).
    ``timeout`` (seconds, whole request), ``connect_timeout``,
    ``stream_idle_timeout`` and ``max_retries`` tune the transport;
    ``use_env=False`` ignores the environment.

    Hosted mode: ``Client(base_url="http://server:8000", api_key="ixr-…")``
    or ``username=…, password=…``.

    Calls release the GIL while waiting; Ctrl-C interrupts them.
    """

    @overload
    def chat(
        self,
        messages: Messages,
        model: str = ...,
        *,
        stream: Literal[False] = ...,
        **options: Any,
    ) -> ChatCompletion: ...

    @overload
    def chat(
        self, messages: Messages, model: str = ..., *, stream: Literal[True], **options: Any
    ) -> ChatStream: ...

    @overload
    def chat(
        self, messages: Messages, model: str = ..., *, stream: bool, **options: Any
    ) -> Union[ChatCompletion, ChatStream]: ...

    def chat(
        self,
        messages: Messages,
        model: str = DEFAULT_CHAT_MODEL,
        *,
        stream: bool = False,
        **options: Any,
    ) -> Union[ChatCompletion, ChatStream]:
        """A chat completion. ``messages`` are OpenAI-shaped dicts (or a
        string: one user turn); ``options`` are the OpenAI request fields
        (``temperature``, ``max_tokens``, ``tools``, ``tool_choice``,
        ``response_format``, ``seed``, ``stop``, ``n``…), ``fallbacks`` (models
        tried in order if this one fails) and provider-specific extras.
        ``stream=True`` returns a :class:`ChatStream`."""
        if stream:
            return self.chat_stream(messages, model, **options)
        options["model"] = model
        options["messages"] = _messages(messages)
        return ChatCompletion(self._n().chat(options))

    def chat_stream(self, messages: Messages, model: str = DEFAULT_CHAT_MODEL, **options: Any) -> ChatStream:
        """A streamed chat: an iterator of :class:`ChatCompletionChunk`. The
        chunk carrying usage also carries the exact ``cost``."""
        options["model"] = model
        options["messages"] = _messages(messages)
        return ChatStream(self._n().chat_stream(options))

    def completion(
        self, prompt: Union[str, Sequence[str]], model: str = DEFAULT_CHAT_MODEL, **options: Any
    ) -> Completion:
        """A text completion (``/completions`` for instruct models, else one
        chat turn per prompt, answered in the completions shape)."""
        options["model"] = model
        options["prompt"] = prompt
        return Completion(self._n().completion(options))

    def embeddings(
        self, text: Union[str, Sequence[str]], model: str = DEFAULT_EMBEDDING_MODEL, **options: Any
    ) -> EmbeddingResponse:
        """Embeds one text or a list (``dimensions``, ``input_type``… as options)."""
        options["model"] = model
        options["input"] = text
        return EmbeddingResponse(self._n().embeddings(options))

    def images(self, prompt: str, model: str = DEFAULT_IMAGE_MODEL, **options: Any) -> ImageResponse:
        """Generates images (``n``, ``size``, ``quality``, ``response_format``…)."""
        options["model"] = model
        options["prompt"] = prompt
        return ImageResponse(self._n().images(options))

    def balance(self) -> Balance:
        """Hosted mode: your balance on the server."""
        return Balance(self._n().balance())

    def usage(self, limit: int = 100, cursor: Optional[str] = None) -> UsagePage:
        """Hosted mode: a page of your metered requests, newest first."""
        return UsagePage(self._n().usage(limit, cursor))

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


class AsyncChatStream:
    """An async iterator of :class:`ChatCompletionChunk`. The request is sent
    by the first ``__anext__`` (or by ``await stream``, which raises errors
    up front). ``break`` out of ``async for``, :meth:`aclose`, or leaving an
    ``async with`` block cancels the upstream request."""

    __slots__ = ("_open", "_native")

    def __init__(self, open: Callable[[], Awaitable[_native.NativeStream]]) -> None:
        self._open: Optional[Callable[[], Awaitable[_native.NativeStream]]] = open
        self._native: Optional[_native.NativeStream] = None

    async def _start(self) -> _native.NativeStream:
        native = self._native
        if native is None:
            if self._open is None:
                raise IndoxRouterError("the stream is closed", code="closed", status=400)
            opener, self._open = self._open, None
            native = self._native = await opener()
        return native

    def __await__(self) -> Generator[Any, None, AsyncChatStream]:
        async def started() -> AsyncChatStream:
            await self._start()
            return self

        return started().__await__()

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        native = self._native
        if native is None:
            native = await self._start()
        chunk = await native.anext()
        if chunk is None:
            raise StopAsyncIteration
        return ChatCompletionChunk(chunk)

    def close(self) -> None:
        """Stops the stream and cancels the upstream request. Idempotent."""
        self._open = None
        if self._native is not None:
            self._native.close()

    async def aclose(self) -> None:
        """Same as :meth:`close`, for ``contextlib.aclosing`` and friends."""
        self.close()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is not None:
            native.close()


class AsyncClient(_Base):
    """The asyncio client: the same constructor and methods as
    :class:`Client`, as coroutines. One client serves any number of
    concurrent tasks."""

    @overload
    async def chat(
        self,
        messages: Messages,
        model: str = ...,
        *,
        stream: Literal[False] = ...,
        **options: Any,
    ) -> ChatCompletion: ...

    @overload
    async def chat(
        self, messages: Messages, model: str = ..., *, stream: Literal[True], **options: Any
    ) -> AsyncChatStream: ...

    @overload
    async def chat(
        self, messages: Messages, model: str = ..., *, stream: bool, **options: Any
    ) -> Union[ChatCompletion, AsyncChatStream]: ...

    async def chat(
        self,
        messages: Messages,
        model: str = DEFAULT_CHAT_MODEL,
        *,
        stream: bool = False,
        **options: Any,
    ) -> Union[ChatCompletion, AsyncChatStream]:
        """See :meth:`Client.chat`. ``stream=True`` returns an opened
        :class:`AsyncChatStream` (errors are raised here, as the OpenAI SDK does)."""
        if stream:
            return await self.chat_stream(messages, model, **options)
        options["model"] = model
        options["messages"] = _messages(messages)
        return ChatCompletion(await self._n().achat(options))

    def chat_stream(self, messages: Messages, model: str = DEFAULT_CHAT_MODEL, **options: Any) -> AsyncChatStream:
        """A streamed chat: ``async for chunk in client.chat_stream(...)``."""
        options["model"] = model
        options["messages"] = _messages(messages)
        native = self._n()
        return AsyncChatStream(lambda: native.achat_stream(options))

    async def completion(
        self, prompt: Union[str, Sequence[str]], model: str = DEFAULT_CHAT_MODEL, **options: Any
    ) -> Completion:
        """See :meth:`Client.completion`."""
        options["model"] = model
        options["prompt"] = prompt
        return Completion(await self._n().acompletion(options))

    async def embeddings(
        self, text: Union[str, Sequence[str]], model: str = DEFAULT_EMBEDDING_MODEL, **options: Any
    ) -> EmbeddingResponse:
        """See :meth:`Client.embeddings`."""
        options["model"] = model
        options["input"] = text
        return EmbeddingResponse(await self._n().aembeddings(options))

    async def images(self, prompt: str, model: str = DEFAULT_IMAGE_MODEL, **options: Any) -> ImageResponse:
        """See :meth:`Client.images`."""
        options["model"] = model
        options["prompt"] = prompt
        return ImageResponse(await self._n().aimages(options))

    async def balance(self) -> Balance:
        """Hosted mode: your balance on the server."""
        return Balance(await self._n().abalance())

    async def usage(self, limit: int = 100, cursor: Optional[str] = None) -> UsagePage:
        """Hosted mode: a page of your metered requests, newest first."""
        return UsagePage(await self._n().ausage(limit, cursor))

    async def aclose(self) -> None:
        """Same as :meth:`close`."""
        self.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

