"""The transport's HTTP client: pooling, deadlines, retries and streams.

This module, :mod:`botticelli_transport._send` (the pool, and whole requests handed to it),
:mod:`botticelli_transport._open_stream` (opening a stream), :mod:`botticelli_transport._stream`
(the stream loop) and :mod:`botticelli_transport._failures` (httpx errors and unwanted replies
made typed) are the only ones that speak httpx; swapping the HTTP library touches only these five.
Typed errors are raised outside the ``except`` block that caught httpx's exception: that
exception holds the request, headers (API keys) included, so it is not even their
``__context__`` (see docs/errors.md).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import httpx

from botticelli_error import (
    BotticelliError,
    TransportError,
    error_for_status,
    redact_url,
    request_id,
)
from botticelli_transport._deadline import call_limits, deadline_after, min_limit, remaining, timeout_scope
from botticelli_transport._encoding import ACCEPT_ENCODING, inflated, inflater_for
from botticelli_transport._failures import ErrorMapper, ReplyErrors
from botticelli_transport._retry import retry_after
from botticelli_transport._send import Sender, caller_client, open_client
from botticelli_transport._tls import tls_context
from botticelli_transport.settings import HttpSettings

# The stream opener, the stream loop, its watchdog and the SSE decoder (with httpx-sse) are
# imported by the first stream: a program that builds a client, or only makes plain requests,
# never loads them.
if TYPE_CHECKING:
    from botticelli_transport._open_stream import OpeningStream
    from botticelli_transport.sse import ServerSentEvent

__all__ = ["ErrorMapper", "HttpResult", "HttpTransport"]

R = TypeVar("R")
T = TypeVar("T")


_MAX_ERROR_BODY = 64 * 1024
# The most a compressed stream inflates to in one step: several events' worth, never a bomb's.
_INFLATE_STEP = 256 * 1024


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A successful (2xx) reply to a non-streamed request."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    retries: int
    request_id: str | None


class HttpTransport:
    """A pooled HTTP connection to one provider, with retries, deadlines and SSE streaming.

    Args:
        settings: Where to connect, credentials, timeouts and retry policy.
        error_mapper: Turns error replies into typed errors; defaults to the
            OpenAI-compatible shapes.
        http_client: An ``httpx.AsyncClient`` of the caller's to send through (its auth,
            event hooks, proxies, mounts and pool), instead of one of botticelli's own on
            the aiohttp connection layer. The settings' headers and timeouts are sent
            with each request; its pool limits and TLS settings are the client's own.
            It is never closed here: its owner closes it.
    """

    def __init__(
        self,
        settings: HttpSettings,
        *,
        error_mapper: ErrorMapper = error_for_status,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self._errors = ReplyErrors(settings, error_mapper)
        # Released when this transport is garbage collected.
        settings.register_secrets(self)
        # Every body botticelli sends is JSON: a client-wide header costs nothing per request,
        # where a per-request one makes httpx merge two header sets on every call.
        headers = {"content-type": "application/json", "accept-encoding": ACCEPT_ENCODING, **settings.headers}
        headers.update({k: v.get_secret_value() for k, v in settings.secret_headers.items()})
        self._timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=None,  # waiting for a free connection is bounded by the call's deadline
        )
        self._headers = headers
        self._opened: Sender | None = None
        if http_client is not None:
            self._opened = caller_client(
                http_client, base_url=settings.base_url, headers=headers, timeout=self._timeout
            )
        self._closed = False
        stream_read = min_limit(settings.read_timeout, settings.stream_idle_timeout)
        self._stream_read_timeout = stream_read
        self._stream_timeout = httpx.Timeout(
            connect=settings.connect_timeout, read=stream_read, write=settings.read_timeout, pool=None
        )

    def __repr__(self) -> str:
        return f"HttpTransport(provider={self.settings.provider!r}, base_url={redact_url(self.settings.base_url)!r})"

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._closed

    async def aclose(self) -> None:
        """Close the connection pool; safe to call twice."""
        self._closed = True
        if self._opened is not None:
            await self._opened.aclose()

    @property
    def _sender(self) -> Sender:
        """The connection pool and what sends to it, made on first use: a client that has sent nothing costs nothing.

        Raises:
            TransportError: The transport was closed.
        """
        sender = self._opened
        if sender is None:
            if self._closed:
                raise TransportError(
                    "this client is closed; make a new one", provider=self.settings.provider, retryable=False
                )
            settings = self.settings
            sender = self._opened = open_client(
                base_url=settings.base_url,
                headers=self._headers,
                timeout=self._timeout,
                verify=tls_context(settings, provider=settings.provider),
                limits=httpx.Limits(
                    max_connections=settings.max_connections,
                    max_keepalive_connections=min(settings.max_connections, 100),
                ),
            )
        elif self._closed or sender.client.is_closed:
            raise TransportError(
                "this client is closed; make a new one", provider=self.settings.provider, retryable=False
            )
        return sender

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        retry: bool = True,
        total_timeout: float | None = None,
    ) -> HttpResult:
        """Send a request and read the whole reply, retrying per the settings.

        Args:
            method: HTTP method.
            path: Path relative to the base URL.
            content: JSON body, already encoded.
            params: Query parameters.
            retry: Whether retryable failures are retried.
            total_timeout: A total deadline for this call instead of the settings' one (a
                probe's short limit); a shorter per-call timeout still wins.

        Raises:
            BotticelliError: A typed error for anything but a 2xx reply.
        """
        limit, max_retries = call_limits(self.settings, probe_timeout=total_timeout)
        deadline = deadline_after(limit)
        # A read timeout means the server has the request and may still be working on it:
        # only a request that changes nothing is sent again unless the settings opt in.
        retry_read_timeout = method in ("GET", "HEAD") or self.settings.retry_read_timeouts

        async def exchange() -> tuple[httpx.Response, dict[str, str], bytes]:
            sender = self._sender
            response = await sender.send(sender.build(method, path, content, params))
            try:
                if response.status_code >= 300:
                    raise self._errors.from_reply(response, await self._read_head(response))
                parts: list[bytes] = []
                size, limit = 0, self.settings.max_response_bytes
                headers = _by_name(response.headers)
                async with aclosing(self._body(response, headers.get("content-encoding", ""))) as chunks:
                    async for part in chunks:
                        size += len(part)
                        if size > limit:
                            raise self._errors.too_large(response)
                        parts.append(part)
            finally:
                await response.aclose()
            return response, headers, parts[0] if len(parts) == 1 else b"".join(parts)

        async def attempt() -> tuple[httpx.Response, dict[str, str], bytes]:
            return await self._guard(exchange(), deadline, retry_read_timeout=retry_read_timeout, limit=limit)

        failure: BotticelliError | None = None
        try:
            # The first try awaits the guard directly: each coroutine layer is walked again on
            # every resumption of the exchange, a few thousand instructions a request.
            response, headers, body = await self._guard(
                exchange(), deadline, retry_read_timeout=retry_read_timeout, limit=limit
            )
            retries = 0
        except BotticelliError as exc:
            if not retry:
                raise
            failure = exc
        if failure is not None:
            (response, headers, body), retries = await retry_after(
                failure, attempt, self.settings, deadline, max_retries=max_retries
            )
        return HttpResult(
            status_code=response.status_code,
            headers=response.headers,
            content=body,
            retries=retries,
            request_id=request_id(headers),
        )

    def stream(
        self,
        path: str,
        *,
        content: bytes,
        reader: Callable[[], R],
        decode: Callable[[R, ServerSentEvent], T | None],
        params: Mapping[str, str] | None = None,
        unanswered: Callable[[R, bytes], None] | None = None,
    ) -> OpeningStream[R, T]:
        """POST ``content`` and open the reply as an event stream of ``decode(reader, event)`` items.

        Like ``httpx.AsyncClient.stream``, this is an async context manager; the
        :class:`StreamResponse` it yields has already produced its first item. Each attempt
        gets a fresh ``reader()``, so nothing one attempt decoded (a finish reason, usage,
        partial text) leaks into the next. Failures before the first item are retried per
        the settings, including error events the server sends first (``decode`` raises
        them); after that, errors propagate. ``None`` results of ``decode`` are skipped.
        Leaving the block, an error or a cancellation closes the response.

        ``unanswered(reader, unframed)`` is called when a stream ends before its first item,
        with the attempt's reader and the last line written outside SSE framing; the error it
        raises (a stream that ended without answering) is retried like any failure before the
        first item. Without it, such a stream opens empty.

        The per-call options in force when the block is entered
        (:func:`~botticelli_interface.options.call_options`) replace the settings'
        total timeout (which covers the whole stream) and retry count.

        Raises:
            BotticelliError: Typed errors: a bad status or body, a stall, an interruption.
        """
        from botticelli_transport._open_stream import OpeningStream  # noqa: PLC0415

        return OpeningStream(
            self, path, content=content, reader=reader, decode=decode, params=params, unanswered=unanswered
        )

    async def _guard(
        self,
        work: Awaitable[T],
        deadline: float | None,
        *,
        retry_read_timeout: bool = True,
        limit: float | None = None,
    ) -> T:
        """Await ``work`` under the call's deadline, translating httpx's errors.

        ``limit`` is the total timeout the deadline was set from, for the error's message
        (``None``: the settings' one).

        The typed error is raised outside the ``except`` block, so that httpx's exception,
        whose request holds the headers (API keys included), is not even its ``__context__``.
        """
        error: BotticelliError
        try:
            if deadline is None:
                # No deadline: a scope that can never fire would cost a timer object per call.
                return await work
            async with timeout_scope(remaining(deadline)):
                return await work
        except TimeoutError:
            error = self._errors.deadline(self.settings.total_timeout if limit is None else limit)
        except httpx.HTTPError as exc:
            error = self._errors.from_httpx(exc, retry_read_timeout=retry_read_timeout)
        raise error

    async def _read_head(self, response: httpx.Response) -> bytes:
        """The first bytes of an error body, inflated if need be; the rest is not read."""
        parts: list[bytes] = []
        size = 0
        async with aclosing(self._body(response)) as chunks:
            async for part in chunks:
                parts.append(part)
                size += len(part)
                if size >= _MAX_ERROR_BODY:
                    break
        return b"".join(parts)[:_MAX_ERROR_BODY]

    def _body(self, response: httpx.Response, encoding: str | None = None) -> AsyncGenerator[bytes, None]:
        """The body's bytes as they arrive, inflated in bounded steps if compressed.

        ``encoding`` is the reply's ``content-encoding``, when the caller has looked it up.
        """
        if response.is_stream_consumed:
            # Read already, by a response event hook of a caller's client or by a mock
            # transport; httpx has undone its content-encoding.
            return _once(response.content)
        if encoding is None:
            encoding = response.headers.get("content-encoding", "")
        inflater = inflater_for(encoding, provider=self.settings.provider) if encoding else None
        # The response's own stream, not aiter_raw, which is one more generator per chunk
        # around it (a byte count and a chunker of no size). What aiter_raw adds at the end,
        # closing the response, the callers do themselves.
        # An async generator on either connection layer (the stream's __aiter__), so it can be closed.
        stream: AsyncGenerator[bytes, None] = aiter(response.stream)  # type: ignore[arg-type]
        return stream if inflater is None else inflated(stream, inflater, step=_INFLATE_STEP)


async def _once(content: bytes) -> AsyncGenerator[bytes, None]:
    yield content


def _by_name(headers: httpx.Headers) -> dict[str, str]:
    """The headers by lower-case name, repeated ones joined with ", " as ``headers[name]`` does.

    One pass over the reply's few headers: each ``headers.get`` of a name the reply lacks
    scans them all and raises and catches a ``KeyError``, and a reply is asked for five
    (its encoding and four request-id names), which measured at about 45k instructions.
    """
    found: dict[str, str] = {}
    for name, value in headers.multi_items():
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found
