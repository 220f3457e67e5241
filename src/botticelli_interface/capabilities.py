"""Which optional request features a backend honours, and the one refusal when it does not.

A request may ask for features that not every backend has (tools, structured output,
thinking, a LoRA adapter). Each backend declares the set it supports and calls
:func:`require_features` before sending anything, so an unsupported feature is a typed
:class:`~botticelli_error.UnsupportedInputError` naming it, never silently dropped; routers
read :func:`features_of` and each backend's :class:`SupportsFeatures` to send a request
where it can be served.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from botticelli_core import GenerateRequest, ToolCallInput, ToolResultInput
from botticelli_error import UnsupportedInputError

__all__ = ["ALL_FEATURES", "Feature", "SupportsFeatures", "declared_features", "features_of", "require_features"]

Feature = Literal["tools", "output_schema", "thinking", "adapter"]
"""An optional feature of a request: ``"tools"`` covers declared tools and tool calls or results
in the history; the others are the :class:`~botticelli_core.GenerateRequest` fields of that name."""

ALL_FEATURES: frozenset[Feature] = frozenset({"tools", "output_schema", "thinking", "adapter"})


@runtime_checkable
class SupportsFeatures(Protocol):
    """A backend that says which optional request features it honours."""

    @property
    def supported_features(self) -> frozenset[Feature]:
        """The features a request may use with this backend; others raise ``UnsupportedInputError``."""
        ...


def declared_features(model: object) -> frozenset[Feature]:
    """The features ``model`` declares, or :data:`ALL_FEATURES` if it declares none.

    A backend that does not say is assumed able to try: it still refuses what it cannot
    honour, with its own :class:`~botticelli_error.UnsupportedInputError`.

    Examples:
        >>> class Plain:
        ...     pass
        >>> declared_features(Plain()) == ALL_FEATURES
        True
        >>> class Json:
        ...     supported_features = frozenset({"output_schema"})
        >>> sorted(declared_features(Json()))
        ['output_schema']
    """
    if isinstance(model, SupportsFeatures):
        return model.supported_features
    return ALL_FEATURES


def features_of(request: GenerateRequest) -> frozenset[Feature]:
    """The optional features ``request`` uses.

    Examples:
        >>> from botticelli_core import ThinkingConfig, ToolDefinition
        >>> req = GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")])
        >>> sorted(features_of(req))
        ['tools']
        >>> sorted(features_of(GenerateRequest.from_prompt("Hi", thinking=ThinkingConfig(budget_tokens=0))))
        ['thinking']
    """
    used: set[Feature] = set()
    if request.tools or any(
        isinstance(part, ToolCallInput | ToolResultInput) for message in request.messages for part in message.content
    ):
        used.add("tools")
    if request.output_schema is not None:
        used.add("output_schema")
    if request.thinking is not None:
        used.add("thinking")
    if request.adapter is not None:
        used.add("adapter")
    return frozenset(used)


def require_features(request: GenerateRequest, supported: frozenset[Feature], *, provider: str) -> None:
    """Raise unless the backend named ``provider`` supports every feature ``request`` uses.

    Raises:
        UnsupportedInputError: Naming the first unsupported feature (alphabetically) in
            ``input_type``; nothing has been sent.

    Examples:
        >>> from botticelli_core import ToolDefinition
        >>> req = GenerateRequest.from_prompt("Hi", tools=[ToolDefinition(name="now")])
        >>> require_features(req, frozenset({"tools"}), provider="local")
        >>> try:
        ...     require_features(req, frozenset(), provider="embedded")
        ... except UnsupportedInputError as err:
        ...     print(err.input_type)
        tools
    """
    missing = sorted(features_of(request) - supported)
    if missing:
        raise UnsupportedInputError(
            f"the {provider} backend does not support {missing[0]} "
            f"(the request uses {', '.join(missing)}); route it to a backend that does",
            provider=provider,
            input_type=missing[0],
        )
