"""Selecting a LoRA adapter for one request, as each server dialect spells it.

``GenerateRequest(adapter="name")`` asks for one of the adapters the server has loaded.
Only some servers can switch per request, and each spells it its own way:

- ``"llama.cpp"`` (``llama-server``): a ``lora`` list of ``{"id", "scale"}`` in the body,
  the id being the adapter's position on the server's command line. The adapters must be
  listed in ``[model.local] adapters`` in that order (an autostarted server is given
  them from the same list). Adapters the list leaves out are off for that request, so
  exactly the named one applies, at its configured ``scale`` (or 1.0 when configured as
  0, which loads it switched off until a request selects it).
- ``"vllm"``: the adapter is served as a model of its own name, so the request's
  ``model`` becomes the adapter's name.
- every other dialect: :class:`~botticelli_error.UnsupportedInputError` naming
  ``"adapter"``, before anything is sent (llama-cpp-python applies its one adapter to
  every request; mistral.rs's server selects adapters through its own model ids).
"""

from __future__ import annotations

from collections.abc import Sequence

from botticelli_core import LoraAdapter
from botticelli_error import UnsupportedInputError
from botticelli_interface.capabilities import Feature
from botticelli_server.config import PROVIDER
from botticelli_server.request import ChatCompletionRequest

__all__ = ["PER_REQUEST_DIALECTS", "adapter_features", "select_adapter"]

PER_REQUEST_DIALECTS = frozenset({"llama.cpp", "vllm"})
"""The dialects that can select an adapter per request."""

_ADAPTER: frozenset[Feature] = frozenset({"adapter"})


def adapter_features(dialect: str) -> frozenset[Feature]:
    """``{"adapter"}`` for a dialect that selects adapters per request, else nothing.

    Examples:
        >>> sorted(adapter_features("vllm")), sorted(adapter_features("openai"))
        (['adapter'], [])
    """
    return _ADAPTER if dialect in PER_REQUEST_DIALECTS else frozenset()


def select_adapter(
    wire: ChatCompletionRequest, name: str, *, dialect: str, adapters: Sequence[LoraAdapter]
) -> ChatCompletionRequest:
    """``wire`` changed to apply the adapter ``name`` on a server of ``dialect``.

    Args:
        wire: The request as the plain protocol would send it.
        name: The adapter the request asks for.
        dialect: The server's dialect (``ServerConfig.dialect``).
        adapters: The adapters the server loaded, in its order (``ServerConfig.adapters``).

    Raises:
        UnsupportedInputError: ``input_type="adapter"``: the dialect cannot select adapters
            per request, or ``name`` is not among ``adapters``.

    Examples:
        >>> from botticelli_server.request import ChatMessage
        >>> wire = ChatCompletionRequest(model="tiny", messages=[ChatMessage(role="user", content="hi")])
        >>> loaded = [LoraAdapter(name="sql", path="sql.gguf"), LoraAdapter(name="tone", path="t.gguf", scale=0.5)]
        >>> select_adapter(wire, "tone", dialect="llama.cpp", adapters=loaded).to_json()
        b'{"model":"tiny","messages":[{"role":"user","content":"hi"}],"lora":[{"id":1,"scale":0.5}]}'
        >>> select_adapter(wire, "sql", dialect="vllm", adapters=loaded).model
        'sql'
    """
    if dialect == "llama.cpp":
        index = _position(name, adapters, required=True)
        assert index is not None  # required=True raises instead
        scale = adapters[index].scale or 1.0
        return wire.model_copy(update={"lora": [{"id": index, "scale": scale}]})
    if dialect == "vllm":
        _position(name, adapters, required=False)
        return wire.model_copy(update={"model": name})
    raise UnsupportedInputError(
        f"the {PROVIDER} backend cannot select a LoRA adapter per request on a {dialect!r} server "
        f"(dialects that can: {', '.join(sorted(PER_REQUEST_DIALECTS))}); set ServerConfig.dialect "
        "(INFERENCE_SERVER_DIALECT) if the server is one of them, or load the adapter at launch instead",
        provider=PROVIDER,
        input_type="adapter",
    )


def _position(name: str, adapters: Sequence[LoraAdapter], *, required: bool) -> int | None:
    """The adapter's index; ``None`` when none are listed and the dialect does not need them."""
    names = [adapter.name for adapter in adapters]
    if name in names:
        return names.index(name)
    if not names and not required:
        # vLLM may have adapters loaded at runtime that no setting lists: let the server judge.
        return None
    known = ", ".join(names) if names else "none are listed"
    raise UnsupportedInputError(
        f"no LoRA adapter named {name!r} is configured for the {PROVIDER} backend ({known}); "
        "list the server's adapters under [model.local] adapters, in the order the server loads them",
        provider=PROVIDER,
        input_type="adapter",
    )
