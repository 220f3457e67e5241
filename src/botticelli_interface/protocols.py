"""The protocols every backend implements.

A backend is any object with the right methods; nothing inherits from anything.
Capabilities beyond generation are separate small protocols, so a caller checks
``isinstance(model, SupportsHealth)`` before asking for health.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

if TYPE_CHECKING:  # annotations only: the protocols never build these types
    from botticelli_core import (
        EmbedResponse,
        GenerateRequest,
        GenerateResponse,
        HealthStatus,
        ModelInfo,
        StreamChunk,
        TokenCount,
    )

__all__ = [
    "ChunkStream",
    "GenerativeModel",
    "SupportsAclose",
    "SupportsCountTokens",
    "SupportsEmbed",
    "SupportsHealth",
    "SupportsListModels",
]


@runtime_checkable
class ChunkStream(Protocol):
    """A streamed answer: an async iterator of chunks that is also an async context manager.

    Leaving the ``async with`` block, breaking out of the loop, calling :meth:`aclose`
    or cancelling the task releases the underlying connection.
    """

    def __aiter__(self) -> AsyncIterator[StreamChunk]:
        """Iterate over the chunks as they arrive."""
        ...

    async def __anext__(self) -> StreamChunk:
        """The next chunk; ``StopAsyncIteration`` after the final one."""
        ...

    async def __aenter__(self) -> Self:
        """Enter the stream's context; the request is sent on first iteration."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the stream and release its connection."""
        ...

    async def aclose(self) -> None:
        """Close the stream early, releasing its connection. Safe to call twice."""
        ...


@runtime_checkable
class GenerativeModel(Protocol):
    """A model that generates text from messages, whole or streamed.

    Examples:
        >>> from botticelli_server import ServerClient, ServerConfig
        >>> client = ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="phi"))
        >>> isinstance(client, GenerativeModel), client.provider_name, client.model_name
        (True, 'local', 'phi')
    """

    @property
    def provider_name(self) -> str:
        """The backend's name, e.g. ``"local"`` or ``"gemini"``."""
        ...

    @property
    def model_name(self) -> str:
        """The model used when a request does not name one."""
        ...

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Generate a complete answer."""
        ...

    def generate_stream(self, request: GenerateRequest) -> ChunkStream:
        """Stream an answer chunk by chunk. Not a coroutine: use ``async with``/``async for``."""
        ...


@runtime_checkable
class SupportsHealth(Protocol):
    """A backend that can say whether it is ready, without spending tokens."""

    async def health(self) -> HealthStatus:
        """Readiness now; never raises for a server that is down or loading."""
        ...


@runtime_checkable
class SupportsListModels(Protocol):
    """A backend that can list the models it serves."""

    async def list_models(self) -> list[ModelInfo]:
        """The models available."""
        ...


@runtime_checkable
class SupportsAclose(Protocol):
    """A backend holding resources (connections, processes) to release."""

    async def aclose(self) -> None:
        """Release every resource. Safe to call twice."""
        ...


@runtime_checkable
class SupportsEmbed(Protocol):
    """A backend that turns texts into vectors.

    A backend without embeddings does not have the method, so ``isinstance`` says so
    before any call is made.

    Examples:
        >>> from botticelli_server import ServerClient, ServerConfig
        >>> client = ServerClient(ServerConfig(base_url="http://127.0.0.1:8080", model="nomic"))
        >>> isinstance(client, SupportsEmbed)
        True
    """

    async def embed(
        self,
        texts: Sequence[str],
        *,
        model: str | None = None,
        dimensions: int | None = None,
        task: str | None = None,
        truncate: bool = False,
    ) -> EmbedResponse:
        """One vector per text, in input order.

        Args:
            texts: The inputs. botticelli's backends and routers also take a single ``str``
                as one text (one vector back), and refuse anything but strings with a
                :class:`~botticelli_error.ConfigurationError`; a router hands its member a list.
            model: The embedding model; ``None`` means the backend's configured one.
            dimensions: Ask for vectors of this length, where the model can shorten them.
            task: What the vectors are for (e.g. Gemini's ``"RETRIEVAL_QUERY"``), where the
                backend distinguishes tasks; others ignore it.
            truncate: Cut inputs over the model's context instead of refusing them; a
                backend that cannot raises a typed error rather than ignoring the request.
        """
        ...


@runtime_checkable
class SupportsCountTokens(Protocol):
    """A backend that can say how many tokens a request's prompt costs, without generating."""

    async def count_tokens(self, request: GenerateRequest) -> TokenCount:
        """The prompt's token count, and whether it is exact (template included).

        botticelli's backends and routers also take a ``str`` as a one-turn prompt (as
        :meth:`GenerateRequest.from_prompt <botticelli_core.GenerateRequest.from_prompt>`
        builds it); a router hands its member a request.
        """
        ...
