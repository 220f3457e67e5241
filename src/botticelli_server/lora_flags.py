"""How each server preset is told, on its command line, which LoRA adapters to load.

The flags differ per server, and so does what they can express:

=====================  ==========================================  ==========  ============
preset                 flags                                       adapters    scale
=====================  ==========================================  ==========  ============
``llama-server``       ``--lora PATH`` / ``--lora-scaled PATH:S``  any number  any
``llama-cpp-python``   ``--lora_path PATH``                        one         1.0 only
``vllm``               ``--enable-lora --lora-modules NAME=PATH``  any number  1.0 only
``mistralrs*``         none (see below)                            refused     refused
=====================  ==========================================  ==========  ============

llama-cpp-python's server has no scale option (its ``Llama`` class has one, its settings
do not); vLLM applies adapters at full strength. mistral.rs's server loads adapters as
PEFT directories through its ``lora`` model selectors, with an ordering file its CLI
needs besides: that is beyond a flag list, so its presets refuse adapters and a custom
``command`` is the way to it. A refusal is a :class:`~botticelli_error.ConfigurationError`
at construction, before anything starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from botticelli_core import LoraAdapter
from botticelli_error import ConfigurationError

__all__ = ["ADAPTER_PRESETS", "adapter_flags"]


def _llama_server(adapters: Sequence[LoraAdapter]) -> list[str]:
    flags: list[str] = []
    for adapter in adapters:
        # The order matters: llama-server numbers its adapters by it, and per-request
        # selections name them by that id (see botticelli_server.adapters).
        if adapter.scale == 1.0:
            flags += ["--lora", adapter.path]
        else:
            flags += ["--lora-scaled", f"{adapter.path}:{adapter.scale:g}"]
    return flags


def _llama_cpp_python(adapters: Sequence[LoraAdapter]) -> list[str]:
    if len(adapters) > 1:
        raise ConfigurationError(
            f"the 'llama-cpp-python' server loads one LoRA adapter (--lora_path), not {len(adapters)}; "
            "use the 'llama-server' preset for several"
        )
    _full_strength(adapters, "llama-cpp-python")
    return ["--lora_path", adapters[0].path]


def _vllm(adapters: Sequence[LoraAdapter]) -> list[str]:
    _full_strength(adapters, "vllm")
    return ["--enable-lora", "--lora-modules", *(f"{adapter.name}={adapter.path}" for adapter in adapters)]


def _full_strength(adapters: Sequence[LoraAdapter], preset: str) -> None:
    scaled = [adapter.name for adapter in adapters if adapter.scale != 1.0]
    if scaled:
        raise ConfigurationError(
            f"the {preset!r} server takes no LoRA scale, so adapter {scaled[0]!r} must have scale 1.0; "
            "use the 'llama-server' preset for scaled adapters"
        )


ADAPTER_PRESETS: dict[str, Callable[[Sequence[LoraAdapter]], list[str]]] = {
    "llama-server": _llama_server,
    "llama-cpp-python": _llama_cpp_python,
    "vllm": _vllm,
}
"""The presets that can load adapters, and how each spells them."""


def adapter_flags(preset: str | None, adapters: Sequence[LoraAdapter]) -> list[str]:
    """The command-line flags that load ``adapters`` on the server ``preset`` starts.

    Args:
        preset: A preset name; ``None`` for a custom command, which must spell its own flags.
        adapters: The adapters, in the order the server should number them.

    Returns:
        The flags; empty when there are no adapters.

    Raises:
        ConfigurationError: The preset cannot load these adapters (see the module docstring).

    Examples:
        >>> sql = LoraAdapter(name="sql", path="sql.gguf")
        >>> adapter_flags("llama-server", [sql, LoraAdapter(name="tone", path="tone.gguf", scale=0.5)])
        ['--lora', 'sql.gguf', '--lora-scaled', 'tone.gguf:0.5']
        >>> adapter_flags("vllm", [LoraAdapter(name="sql", path="org/sql-lora")])
        ['--enable-lora', '--lora-modules', 'sql=org/sql-lora']
        >>> adapter_flags("mistralrs", [sql])
        Traceback (most recent call last):
        ...
        botticelli_error.errors.ConfigurationError: [botticelli] the 'mistralrs' server preset cannot load LoRA ...
    """
    if not adapters:
        return []
    if preset is None:
        raise ConfigurationError(
            "a custom server command cannot be given LoRA adapters to add: put the server's own adapter "
            "flags in the command, and list the adapters under [model.local] adapters for per-request use"
        )
    build = ADAPTER_PRESETS.get(preset)
    if build is None:
        raise ConfigurationError(
            f"the {preset!r} server preset cannot load LoRA adapters from botticelli's settings "
            f"(presets that can: {', '.join(sorted(ADAPTER_PRESETS))}); pass the server's own adapter "
            "flags in a custom command instead"
        )
    return build(adapters)
