"""What each OpenAI-compatible server calls the features the protocol leaves unspecified.

Servers agree on messages and sampling, and disagree on structured output and thinking.
Each :class:`Dialect` says, as data, how one server spells them; the request builder
(:mod:`botticelli_server.options`) reads the profile and never asks which server it is.

``"auto"`` is resolved once per client by :func:`detect_dialect`, from what the server says
about itself in ``GET /v1/models`` (and Ollama's ``GET /api/version``); see docs/tools.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botticelli_interface.capabilities import Feature
from botticelli_server.config import DialectName

__all__ = [
    "DIALECTS",
    "Dialect",
    "SchemaStyle",
    "ThinkingSwitch",
    "ToolChoiceKind",
    "detect_dialect",
    "get_dialect",
]

SchemaStyle = Literal["json_schema", "json_object", "grammar"]
"""How a schema is sent: ``response_format: {"type": "json_schema", "json_schema": {...}}``,
``response_format: {"type": "json_object", "schema": ...}`` (llama-cpp-python, which refuses
``json_schema``), or mistral.rs's ``grammar: {"type": "json_schema", "value": ...}``."""

ThinkingSwitch = Literal["chat_template_kwargs", "enable_thinking"]
"""Where a server takes thinking on or off: ``chat_template_kwargs: {"enable_thinking": b}``
(llama.cpp, vLLM: the model's chat template reads it), or a top-level ``enable_thinking``
(mistral.rs)."""

ToolChoiceKind = Literal["auto", "none", "required", "named"]
"""A kind of ``tool_choice`` value: the three modes, or ``"named"``, one tool by name
(``{"type": "function", "function": {"name": ...}}`` on the wire)."""

_EVERY_CHOICE: frozenset[ToolChoiceKind] = frozenset({"auto", "none", "required", "named"})


@dataclass(frozen=True, slots=True)
class Dialect:
    """One server's spelling of the optional features.

    Attributes:
        name: The :data:`~botticelli_server.config.DialectName` it stands for.
        schema_style: How ``output_schema`` is sent; ``None``: the server has no way.
        effort_field: Whether the server reads ``reasoning_effort`` (``"low"``...``"high"``).
        effort_off: The ``reasoning_effort`` value that turns thinking off, if there is one.
        thinking_switch: Where the server takes thinking on or off, if anywhere.
        tools: Whether ``tools`` and tool messages are accepted.
        tool_choices: The kinds of ``tool_choice`` the server's field takes; empty when it
            has no such field (Ollama), whose only behaviour is then ``"auto"``. A kind it
            lacks is sent as its equivalent where there is one, and refused otherwise (see
            :func:`botticelli_server.tools.tool_fields`).
        auto_tool_choice: Whether ``"auto"`` is sent when the request leaves ``tool_choice``
            unset: llama-cpp-python's function-calling handler leaves the tools out of the
            prompt when the field is absent, where the other servers default to ``"auto"``.
        stream_usage: Whether the server can report usage on a stream at all (on a
            ``choices: []`` chunk when asked with ``stream_options.include_usage``, or on its
            last chunk unasked). ``False``: it never does, so the option is not sent and a
            stream's final chunk has ``usage=None``.
        slot_field: The body field that runs a request in a given server slot
            (``GenerateRequest.slot``); ``None``: the server has no slots to choose, and a
            request that names one is refused.
        cache_field: The body field that turns the server's reuse of a slot's cached prompt
            on or off (``ServerConfig.cache_prompt``); ``None``: the server has no such switch.

    Examples:
        >>> d = get_dialect("llama-cpp-python")
        >>> d.schema_style, sorted(d.features), sorted(d.tool_choices)
        ('json_object', ['output_schema', 'tools'], ['auto', 'named', 'none'])
        >>> get_dialect("llama.cpp").slot_field, get_dialect("vllm").slot_field
        ('id_slot', None)
    """

    name: DialectName
    schema_style: SchemaStyle | None = "json_schema"
    effort_field: bool = False
    effort_off: str | None = None
    thinking_switch: ThinkingSwitch | None = None
    tools: bool = True
    tool_choices: frozenset[ToolChoiceKind] = _EVERY_CHOICE
    auto_tool_choice: bool = False
    stream_usage: bool = True
    slot_field: str | None = None
    cache_field: str | None = None

    @property
    def forced_tool_choice(self) -> bool:
        """Whether the server can be made to call a tool (``"required"`` or a tool's name)."""
        return "required" in self.tool_choices or "named" in self.tool_choices

    @property
    def thinking(self) -> bool:
        """Whether the server can take any thinking control at all."""
        return self.effort_field or self.thinking_switch is not None

    @property
    def features(self) -> frozenset[Feature]:
        """The optional request features this server honours (``"adapter"`` is not among them)."""
        found: set[Feature] = set()
        if self.tools:
            found.add("tools")
        if self.schema_style is not None:
            found.add("output_schema")
        if self.thinking:
            found.add("thinking")
        return frozenset(found)


DIALECTS: Mapping[str, Dialect] = {
    d.name: d
    for d in (
        # The plain protocol: OpenAI's own spellings, which most servers copy.
        Dialect(name="openai", effort_field=True),
        # llama-cpp-python's server: JSON mode with a schema; no thinking control of any kind.
        # Its function-calling handler (chatml-function-calling) puts the tools in the prompt
        # only when tool_choice is given, and fails an assertion (HTTP 500) on "required".
        Dialect(
            name="llama-cpp-python",
            schema_style="json_object",
            tool_choices=frozenset({"auto", "none", "named"}),
            auto_tool_choice=True,
            # Its server has no stream_options: a stream never carries usage, asked or not.
            stream_usage=False,
            # No slot_field: its request model has no id_slot and drops unknown fields, so a
            # slot would be ignored without a word; it is refused instead.
        ),
        # llama-server: json_schema, and thinking through the chat template's switch. It reads
        # tool_choice as a string (auto, none, required): a named object would become "auto".
        # It runs requests in slots, each keeping the KV cache of its last prompt: id_slot
        # picks the slot, cache_prompt says whether a prompt may reuse that cache.
        Dialect(
            name="llama.cpp",
            thinking_switch="chat_template_kwargs",
            tool_choices=frozenset({"auto", "none", "required"}),
            slot_field="id_slot",
            cache_field="cache_prompt",
        ),
        # mistral.rs: its own grammar field, and a top-level switch beside reasoning_effort.
        Dialect(name="mistral.rs", schema_style="grammar", effort_field=True, thinking_switch="enable_thinking"),
        # vLLM: the template switch for on/off (Qwen3 and others), reasoning_effort for levels.
        Dialect(name="vllm", effort_field=True, thinking_switch="chat_template_kwargs"),
        # Ollama's /v1 endpoint turns response_format json_schema into its native `format`
        # and reasoning_effort ("none" included) into `think`; it has no tool_choice at all.
        Dialect(name="ollama", effort_field=True, effort_off="none", tool_choices=frozenset()),
    )
}
"""Every concrete dialect, by name (``"auto"`` is resolved to one of these)."""


def get_dialect(name: str) -> Dialect:
    """The profile of a concrete dialect; unknown names (and ``"auto"``) fall back to ``"openai"``.

    Examples:
        >>> get_dialect("vllm").thinking_switch
        'chat_template_kwargs'
        >>> get_dialect("auto").name
        'openai'
    """
    return DIALECTS.get(name, DIALECTS["openai"])


# owned_by values that name the server outright (llama-server says "llamacpp", vLLM "vllm").
_OWNERS: Mapping[str, DialectName] = {"llamacpp": "llama.cpp", "vllm": "vllm"}


def detect_dialect(models: object, *, ollama_version: object = None) -> DialectName:
    """Which server answered ``GET /v1/models`` (parsed JSON), by the marks each one leaves.

    The rule, in order:

    1. an entry's ``owned_by`` is ``"llamacpp"`` or an entry has ``meta``: llama.cpp;
       ``owned_by`` ``"vllm"`` or ``max_model_len``: vLLM;
    2. an entry has ``tools_available`` or a loading ``status`` (mistral.rs lists both);
    3. ``owned_by`` ``"me"`` with a ``permissions`` list: llama-cpp-python's server;
    4. ``GET /api/version`` answered with a ``version`` (``ollama_version``): Ollama;
    5. otherwise the plain ``"openai"`` protocol.

    Examples:
        >>> detect_dialect({"data": [{"id": "m", "owned_by": "vllm", "max_model_len": 2048}]})
        'vllm'
        >>> detect_dialect({"data": [{"id": "tiny", "owned_by": "me", "permissions": []}]})
        'llama-cpp-python'
        >>> detect_dialect({"data": []}, ollama_version={"version": "0.12.3"})
        'ollama'
        >>> detect_dialect("not json")
        'openai'
    """
    entries = models.get("data") if isinstance(models, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict):
            continue
        found = _from_entry(entry)
        if found is not None:
            return found
    if isinstance(ollama_version, dict) and isinstance(ollama_version.get("version"), str):
        return "ollama"
    return "openai"


def _from_entry(entry: dict[str, Any]) -> DialectName | None:
    owner = entry.get("owned_by")
    if isinstance(owner, str) and owner in _OWNERS:
        return _OWNERS[owner]
    if "meta" in entry:
        return "llama.cpp"
    if "max_model_len" in entry:
        return "vllm"
    if "tools_available" in entry or entry.get("status") in ("loaded", "unloaded", "reloading"):
        return "mistral.rs"
    if owner == "me" and isinstance(entry.get("permissions"), list):
        return "llama-cpp-python"
    return None
