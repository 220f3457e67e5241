"""Token counting through the tokenize endpoints OpenAI-compatible servers add, and how exact each is.

No server implements OpenAI's API for this, so each has its own route. They are tried
in this order, and the first one a server answers is remembered for the client's life:

=====================  =============================================  ======================
route                  servers                                        ``exact``
=====================  =============================================  ======================
``/apply-template``    llama.cpp: the chat template's output, then    true
+ ``/tokenize``        ``/tokenize`` of it with special tokens
``/tokenize``          vLLM: the messages with the generation         true
(messages)             prompt (``count``)
``/extras/tokenize/``  llama-cpp-python: raw text only (no template)  false
``count``
``/tokenize`` (text)   any other server with a raw tokenizer          false
=====================  =============================================  ======================

``exact`` is false when only the messages' text could be counted: the chat template
adds tokens (measured on llama-cpp-python: 10 tokens for the text of a request whose
generation reported 20 prompt tokens), so the count is a lower bound.

mistral.rs' HTTP server registers none of these routes (its router, read in
``mistralrs-server-core``, has ``/v1/embeddings`` but no tokenizer), so on it
:meth:`TokenizerProbe.count` raises :class:`~botticelli_error.NotFoundError`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any

from botticelli_core import TokenCount
from botticelli_error import BotticelliError, NotFoundError, ResponseDecodeError, loads_json
from botticelli_server.config import PROVIDER
from botticelli_server.request import ChatCompletionRequest, TextPart

__all__ = ["TokenRoute", "TokenizerProbe", "prompt_text"]

Post = Callable[[str, dict[str, Any]], Awaitable[bytes]]
"""POSTs a JSON body to a path and returns the 2xx reply's body; raises typed errors."""

# Statuses that mean "this server has no such route (or not in this form)": try the next one.
# llama.cpp answers 501 for /apply-template without a template; FastAPI 422s an unknown body.
_ABSENT = frozenset({404, 405, 422, 501})


class TokenRoute(Enum):
    """The tokenize dialect a server answered, in the order they are tried."""

    APPLY_TEMPLATE = "apply-template"
    """llama.cpp: render the chat template, then tokenize it (exact)."""
    MESSAGES = "tokenize-messages"
    """vLLM: tokenize the messages with the template (exact)."""
    EXTRAS_COUNT = "extras-tokenize-count"
    """llama-cpp-python: count the raw text (not exact)."""
    TEXT = "tokenize-text"
    """A raw ``/tokenize`` of the text (not exact)."""


def prompt_text(request: ChatCompletionRequest) -> str:
    r"""The text of every message, one per line: what a raw tokenizer can count.

    Examples:
        >>> from botticelli_server import ChatMessage
        >>> prompt_text(ChatCompletionRequest(model="m", messages=[
        ...     ChatMessage(role="system", content="Be terse."), ChatMessage(role="user", content="hi")]))
        'Be terse.\nhi'
    """
    parts: list[str] = []
    for message in request.messages:
        content = message.content
        if isinstance(content, str):
            parts.append(content)
        elif content:
            parts.extend(p.text for p in content if isinstance(p, TextPart))
    return "\n".join(parts)


class TokenizerProbe:
    """Finds a server's tokenize route once and counts through it afterwards.

    Examples:
        >>> TokenizerProbe().route is None
        True
    """

    def __init__(self) -> None:
        self.route: TokenRoute | None = None
        """The route the server answered, once one did."""

    async def count(self, request: ChatCompletionRequest, post: Post) -> TokenCount:
        """The request's prompt tokens, through the remembered route or the first that answers.

        Args:
            request: The chat request whose prompt to count.
            post: Sends one JSON POST (the client's transport, through its request log).

        Raises:
            NotFoundError: The server has none of the tokenize routes.
            BotticelliError: Any other failure, as the transport raised it.
        """
        routes = [self.route] if self.route is not None else list(TokenRoute)
        for route in routes:
            try:
                count = await _count(route, request, post)
            except BotticelliError as exc:
                if exc.status_code not in _ABSENT or self.route is not None:
                    raise
                continue
            if count is not None:
                self.route = route
                return count
        raise NotFoundError(
            "the server has no tokenize endpoint botticelli knows (/apply-template, /tokenize, /extras/tokenize/count)",
            provider=PROVIDER,
            status_code=404,
        )


async def _count(route: TokenRoute, request: ChatCompletionRequest, post: Post) -> TokenCount | None:
    messages = [m.model_dump(exclude_none=True) for m in request.messages]
    if route is TokenRoute.APPLY_TEMPLATE:
        rendered = _field(await post("/apply-template", {"messages": messages}), "prompt", str)
        if rendered is None:
            return None
        reply = await post("/tokenize", {"content": rendered, "add_special": True})
        return _counted(reply, exact=True)
    if route is TokenRoute.MESSAGES:
        body = {"model": request.model, "messages": messages, "add_generation_prompt": True}
        return _counted(await post("/tokenize", body), exact=True)
    text = prompt_text(request)
    if route is TokenRoute.EXTRAS_COUNT:
        count = _field(await post("/extras/tokenize/count", {"input": text, "model": request.model}), "count", int)
        return None if count is None else TokenCount(input_tokens=count, exact=False)
    return _counted(await post("/tokenize", {"content": text, "add_special": True}), exact=False)


def _counted(reply: bytes, *, exact: bool) -> TokenCount | None:
    """A count from a ``{"count": n}`` or ``{"tokens": [...]}`` reply; ``None`` for neither."""
    count = _field(reply, "count", int)
    if count is None:
        tokens = _field(reply, "tokens", list)
        # llama.cpp answers a /tokenize body without "content" with no tokens rather than an
        # error: an empty list is no count of a non-empty prompt.
        if not tokens:
            return None
        count = len(tokens)
    return TokenCount(input_tokens=count, exact=exact)


def _field(reply: bytes, name: str, kind: type[Any]) -> Any:
    body = loads_json(reply)
    if not isinstance(body, dict):
        raise ResponseDecodeError(
            "the server's tokenize reply is not a JSON object", provider=PROVIDER, body=reply.decode("utf-8", "replace")
        )
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, kind):
        return None
    return value
