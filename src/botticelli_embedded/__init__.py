"""The embedded backend: mistral.rs running a local GGUF model in this process.

Needs the ``embedded`` extra (``pip install 'botticelli[embedded]'``); ``mistralrs`` is
imported only when a model is first loaded.

Examples:
    >>> from botticelli_embedded import ENV_MODEL_PATH, PROVIDER
    >>> PROVIDER, ENV_MODEL_PATH
    ('embedded', 'BOTTICELLI_EMBEDDED_MODEL_PATH')

Use::

    async with EmbeddedModel(EmbeddedConfig(model_path="models/tiny.gguf")) as model:
        response = await model.generate(GenerateRequest.from_prompt("Hi", max_tokens=16))
"""

from botticelli_embedded.client import EmbeddedModel
from botticelli_embedded.config import ENV_MODEL, ENV_MODEL_PATH, PROVIDER, EmbeddedConfig

__all__ = ["ENV_MODEL", "ENV_MODEL_PATH", "PROVIDER", "EmbeddedConfig", "EmbeddedModel"]
