"""Exceptions. Every error the client raises is an :class:`IndoxRouterError`.

Each carries ``code`` (a stable string such as ``"rate_limited"``),
``status`` (the HTTP status a gateway would answer with) and ``provider``
(the provider involved, when there is one).
"""

from __future__ import annotations

import builtins
from typing import List, Optional

__all__ = [
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
]


class IndoxRouterError(Exception):
    """Base class of every IndoxRouter error."""

    code: str
    """Stable machine-readable code, e.g. ``"rate_limited"``."""
    status: int
    """The HTTP status a gateway answers with for this error."""
    provider: Optional[str]
    """The provider involved, if any."""
    retry_after: Optional[float]
    """Seconds the provider asked to wait before retrying, if it said."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        status: int = 500,
        provider: Optional[str] = None,
        retry_after: Optional[float] = None,
        **details: object,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.provider = provider
        self.retry_after = retry_after
        for name, value in details.items():
            setattr(self, name, value)


class AuthenticationError(IndoxRouterError):
    """The provider (or server) rejected the credentials (401)."""


class PermissionDeniedError(IndoxRouterError):
    """The credentials lack access to this resource (403)."""


class NotFoundError(IndoxRouterError):
    """The resource does not exist (404)."""


class ModelNotFoundError(NotFoundError):
    """The model does not exist; ``suggestions`` lists close matches."""

    suggestions: List[str]


class InvalidParametersError(IndoxRouterError):
    """The request is malformed or has an invalid parameter (400); ``param``
    names it when known."""

    param: Optional[str]


class UnsupportedError(InvalidParametersError):
    """The provider does not offer this capability (e.g. Anthropic embeddings)."""


class RateLimitError(IndoxRouterError):
    """Too many requests (429); ``retry_after`` says how long to wait, if known."""


class InsufficientCreditsError(IndoxRouterError):
    """The provider account (or the hosted-mode balance) is out of credit (402)."""


class ProviderError(IndoxRouterError):
    """The provider failed (5xx); ``upstream_status`` is its HTTP status."""

    upstream_status: Optional[int]


class NetworkError(ProviderError):
    """The provider could not be reached: no response arrived."""


class StreamInterruptedError(ProviderError):
    """A stream ended before the provider's end marker."""


class ResponseDecodeError(ProviderError):
    """The provider's response could not be decoded."""


class TimeoutError(IndoxRouterError, builtins.TimeoutError):  # noqa: A001
    """No answer in time (504). Also a built-in ``TimeoutError``."""


class ProviderNotFoundError(IndoxRouterError):
    """The provider is not configured (no key) or not known; the message names
    the environment variable to set."""
