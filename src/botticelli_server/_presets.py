"""How to start each known OpenAI-compatible server: argv templates and readiness facts, as data.

An argv template is a list of strings with ``{placeholders}``, filled in by
:meth:`ServerPreset.argv`:

- ``{python}``: the running interpreter (for servers that are Python modules)
- ``{host}``, ``{port}``: where the server must listen
- ``{model}``: the model path as given; ``{model_dir}``, ``{model_file}``: its directory and file name
- ``{model_name}``: the name clients send as ``model``

A preset that can load a Hugging Face repository by its id (``vllm serve org/repo``,
``mistralrs serve -m org/repo``) has a second template, ``repo_argv``, used when the
model reference is a repository id; there ``{model}`` is that id, and ``{model_dir}`` and
``{model_file}`` have no value.

Each preset also says how that server is made to answer ``POST /v1/embeddings``
(``[server] embeddings = true``, ``InferenceServer(embeddings=True)``):

=====================  ==========================  ==============================================
preset                 arguments added             notes
=====================  ==========================  ==============================================
``llama-cpp-python``   ``--embedding true``        still generates; a model without a pooling
                                                   type gives token-level replies
``llama-server``       ``--embeddings``            the server then refuses completions
``vllm``               ``--runner pooling``        the server then serves no generation
``mistralrs``          none (repository id only)   mistral.rs embeds with an embedding model
                                                   loaded from its repository, never from GGUF
``mistralrs-server``   refused                     loads GGUF files only
=====================  ==========================  ==============================================
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from botticelli_core._base import is_secret_name
from botticelli_error import ConfigurationError
from botticelli_server.config import DialectName

__all__ = ["PRESETS", "ServerPreset", "fill_argv", "get_preset", "redact_argv", "secret_values", "shell_line"]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}")


class ServerPreset(BaseModel):
    """One way of starting an inference server.

    Attributes:
        name: The preset's name, as passed to ``InferenceServer``.
        argv: The command template (see the module docstring for placeholders).
        fixed_model_name: The model name the server always uses, whatever it is told
            (mistral.rs answers to ``"default"``); ``None`` when the preset passes
            ``{model_name}`` to the server.
        repo_argv: The template for a model given as a hub repository id, which the server
            downloads itself; ``None`` when the server needs a local file.
        needs_model: Whether ``{model}`` appears, so a model path is required.
        description: One line for error messages and docs.
        dialect: The dialect of the server it starts, given to the clients of
            :attr:`InferenceServer.config <botticelli_server.InferenceServer.config>`.
        embeddings_argv: The arguments that make the server answer ``POST /v1/embeddings``
            for a model file; ``None`` when it cannot (``embeddings_refusal`` says why).
        repo_embeddings_argv: The same for a model given as a hub repository id.
        embeddings_refusal: Why the server cannot embed where an ``*embeddings_argv`` is
            ``None``, and what works instead.

    Examples:
        >>> preset = get_preset("llama-server")
        >>> preset.argv_for(model="m/tiny.gguf", model_name="tiny", host="127.0.0.1", port=8080)[:3]
        ['llama-server', '-m', 'm/tiny.gguf']
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    argv: tuple[str, ...]
    fixed_model_name: str | None = None
    repo_argv: tuple[str, ...] | None = None
    description: str = ""
    dialect: DialectName = "openai"
    embeddings_argv: tuple[str, ...] | None = None
    repo_embeddings_argv: tuple[str, ...] | None = None
    embeddings_refusal: str = "it has no switch botticelli knows that turns on embeddings"

    @property
    def needs_model(self) -> bool:
        """Whether the command needs a model path."""
        return any("{model" in part and "{model_name}" not in part for part in self.argv)

    def argv_for(
        self,
        *,
        model: str | None,
        model_name: str,
        host: str,
        port: int,
        hub_repo: bool = False,
        embeddings: bool = False,
    ) -> list[str]:
        """Fill in the template for one launch.

        Args:
            model: Path to the model file (or, with ``hub_repo``, a repository id), or ``None``
                when the preset needs none.
            model_name: The name clients will send as ``model``.
            host: The address to listen on.
            port: The port to listen on.
            hub_repo: Whether ``model`` is a hub repository id for the server to load itself.
            embeddings: Add the arguments that make the server answer ``POST /v1/embeddings``
                (see :meth:`embeddings_args`).

        Returns:
            The command line, ready for ``subprocess``.

        Raises:
            ConfigurationError: If the preset needs a model and none was given, cannot
                load a repository by its id, or cannot serve embeddings when asked to.

        Examples:
            >>> get_preset("mistralrs").argv_for(
            ...     model="microsoft/Phi-3.5-mini-instruct", model_name="default", host="h", port=1, hub_repo=True
            ... )[-2:]
            ['-m', 'microsoft/Phi-3.5-mini-instruct']
            >>> get_preset("llama-server").argv_for(
            ...     model="m/embed.gguf", model_name="embed", host="h", port=1, embeddings=True
            ... )[-1]
            '--embeddings'
        """
        argv = self._filled(model=model, model_name=model_name, host=host, port=port, hub_repo=hub_repo)
        return [*argv, *self.embeddings_args(hub_repo=hub_repo)] if embeddings else argv

    def embeddings_args(self, *, hub_repo: bool = False) -> list[str]:
        """The arguments that make this server answer ``POST /v1/embeddings``.

        Args:
            hub_repo: Whether the model is a hub repository id rather than a file.

        Raises:
            ConfigurationError: The server cannot serve embeddings that way; the message says
                what works instead.

        Examples:
            >>> get_preset("llama-cpp-python").embeddings_args()
            ['--embedding', 'true']
            >>> get_preset("vllm").embeddings_args(hub_repo=True)
            ['--runner', 'pooling']
        """
        argv = self.repo_embeddings_argv if hub_repo else self.embeddings_argv
        if argv is None:
            refusal = self.embeddings_refusal
            raise ConfigurationError(f"the {self.name!r} server preset cannot serve embeddings: {refusal}")
        return list(argv)

    def _filled(self, *, model: str | None, model_name: str, host: str, port: int, hub_repo: bool) -> list[str]:
        """The template filled in for one launch (see :meth:`argv_for`)."""
        if self.needs_model and model is None:
            raise ConfigurationError(f"the {self.name!r} server preset needs a model path (model=...)")
        values = {"host": host, "port": str(port), "model_name": model_name, "python": sys.executable}
        what = f"the {self.name!r} server preset"
        if hub_repo:
            if self.repo_argv is None:
                raise ConfigurationError(
                    f"{what} loads a local model file, not the hub repository {model!r}; name one of its files "
                    f"as hf:{model}/FILE (botticelli downloads it), or use a preset that loads repositories "
                    f"({', '.join(sorted(n for n, p in PRESETS.items() if p.repo_argv is not None))})"
                )
            return fill_argv(self.repo_argv, values | {"model": str(model)}, what=what)
        if model is not None:
            path = Path(model)
            values |= {"model": str(model), "model_dir": str(path.parent), "model_file": path.name}
        return fill_argv(self.argv, values, what=what)


def fill_argv(template: Sequence[str], values: Mapping[str, str], *, what: str) -> list[str]:
    """Substitute ``{name}`` placeholders in each argument of a command template.

    Only ``{word}`` is a placeholder; ``{{`` and ``}}`` stand for literal braces, and any other
    brace (JSON, say) is left alone.

    Args:
        template: The arguments, each possibly holding placeholders.
        values: The value of each known placeholder.
        what: Names the command in error messages.

    Returns:
        The filled-in arguments.

    Raises:
        ConfigurationError: If an argument names a placeholder that has no value.

    Examples:
        >>> fill_argv(["srv", "--port={port}", '{"a": 1}', "{{port}}"], {"port": "81"}, what="a test")
        ['srv', '--port=81', '{"a": 1}', '{port}']
    """

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name not in values:
            known = ", ".join(f"{{{key}}}" for key in sorted(values))
            raise ConfigurationError(
                f"{what} uses the placeholder {{{name}}}, which has no value here (known: {known}); "
                "write {{ and }} for literal braces"
            )
        return values[name]

    return [_PLACEHOLDER.sub(substitute, part) for part in template]


PRESETS: Mapping[str, ServerPreset] = {
    preset.name: preset
    for preset in (
        ServerPreset(
            name="llama-cpp-python",
            # --interrupt_requests False: by default a new request aborts the stream that is running, so
            # concurrent clients lose streams. extra_args come after, so "--interrupt_requests True" still wins.
            argv=(
                "{python}", "-m", "llama_cpp.server", "--model", "{model}",
                "--host", "{host}", "--port", "{port}", "--model_alias", "{model_name}",
                "--interrupt_requests", "False",
            ),
            dialect="llama-cpp-python",
            description=(
                "llama-cpp-python's server (the 'llama-cpp-python[server]' package); no /health; "
                "requests queue instead of interrupting the running stream"
            ),
            # Generation keeps working beside it (checked against the real server by tests/api).
            embeddings_argv=("--embedding", "true"),
        ),
        ServerPreset(
            name="llama-server",
            argv=(
                "llama-server", "-m", "{model}", "--host", "{host}", "--port", "{port}",
                "--alias", "{model_name}",
            ),
            dialect="llama.cpp",
            description="llama.cpp's own llama-server binary",
            # llama-server then refuses completions ("Start it without `--embeddings`").
            embeddings_argv=("--embeddings",),
        ),
        ServerPreset(
            name="mistralrs",
            argv=(
                "mistralrs", "serve", "--host", "{host}", "-p", "{port}",
                "--format", "gguf", "-m", "{model_dir}", "-f", "{model_file}",
            ),
            # A repository id: mistral.rs fetches it; quantize in place with extra_args ["--isq", "q4k"].
            repo_argv=("mistralrs", "serve", "--host", "{host}", "-p", "{port}", "-m", "{model}"),
            fixed_model_name="default",
            dialect="mistral.rs",
            description=(
                "mistral.rs's current CLI (mistralrs serve) with a local GGUF file, or a hub repository id "
                "(-m org/repo; add --isq q4k in extra_args)"
            ),
            # No switch: `mistralrs serve -m org/repo` serves /v1/embeddings when the model is an
            # embedding architecture (EmbeddingGemma, Qwen3-Embedding), which it loads only from
            # its repository's safetensors, never from a GGUF file.
            repo_embeddings_argv=(),
            embeddings_refusal=(
                "mistral.rs embeds only with an embedding model (EmbeddingGemma, Qwen3-Embedding) loaded from "
                "its hub repository, never from a GGUF file; give model = \"google/embeddinggemma-300m\" instead"
            ),
        ),
        ServerPreset(
            name="mistralrs-server",
            argv=(
                "mistralrs-server", "--serve-ip", "{host}", "--port", "{port}",
                "gguf", "-m", "{model_dir}", "-f", "{model_file}",
            ),
            fixed_model_name="default",
            dialect="mistral.rs",
            description="mistral.rs's older mistralrs-server binary with a local GGUF file",
            embeddings_refusal=(
                "this preset loads GGUF files only, and mistral.rs embeds only with an embedding model "
                "loaded from its hub repository; use the 'mistralrs' preset with one "
                "(model = \"google/embeddinggemma-300m\")"
            ),
        ),
        ServerPreset(
            name="vllm",
            argv=(
                "vllm", "serve", "{model}", "--host", "{host}", "--port", "{port}",
                "--served-model-name", "{model_name}",
            ),
            repo_argv=(
                "vllm", "serve", "{model}", "--host", "{host}", "--port", "{port}",
                "--served-model-name", "{model_name}",
            ),
            description="vLLM's OpenAI-compatible server (a local model or a hub repository id)",
            dialect="vllm",
            # vLLM 0.10 and later (before: --task embed); the server then serves no generation.
            embeddings_argv=("--runner", "pooling"),
            repo_embeddings_argv=("--runner", "pooling"),
        ),
    )
}  # fmt: skip
"""The known presets, by name."""


def get_preset(name: str) -> ServerPreset:
    """Look up a preset by name.

    Args:
        name: One of the keys of :data:`PRESETS`.

    Returns:
        The preset.

    Raises:
        ConfigurationError: If no preset has that name; the message lists the valid ones.

    Examples:
        >>> get_preset("vllm").name
        'vllm'
    """
    try:
        return PRESETS[name]
    except KeyError:
        valid = ", ".join(sorted(PRESETS))
        raise ConfigurationError(
            f"unknown inference server preset {name!r}; choose one of {valid}, or pass a custom argv"
        ) from None


def redact_argv(argv: Sequence[str]) -> list[str]:
    """Hide the value of any flag that names a secret (``--api-key X``, ``--token=X``)."""
    shown: list[str] = []
    hide_next = False
    for part in argv:
        if hide_next:
            shown.append("***")
            hide_next = False
            continue
        flag, eq, _ = part.partition("=")
        # Values of flags named like credentials are hidden, so a key given on the command line never leaks.
        is_secret_flag = flag.startswith("-") and is_secret_name(flag)
        if is_secret_flag and eq:
            shown.append(f"{flag}=***")
        else:
            shown.append(part)
            hide_next = is_secret_flag
    return shown


def secret_values(argv: Sequence[str]) -> list[str]:
    """The values :func:`redact_argv` hides."""
    shown_argv = redact_argv(argv)
    return [
        part.partition("=")[2] if shown != "***" else part
        for part, shown in zip(argv, shown_argv, strict=True)
        if shown != part
    ]


def shell_line(argv: Sequence[str]) -> str:
    """The command as one quoted line for messages, its secrets hidden."""
    return "'" + " ".join(redact_argv(argv)) + "'"
