"""The embedded backend says which capabilities it lacks: the protocol check, not a runtime surprise."""

from __future__ import annotations

from botticelli_embedded import EmbeddedModel
from botticelli_interface import SupportsCountTokens, SupportsEmbed, SupportsHealth


def test_the_embedded_model_has_no_embeddings_and_no_token_counting() -> None:
    # mistralrs embeds only with its plain (safetensors) embedding architectures, never from a
    # GGUF file, which is all this backend loads.
    assert not issubclass(EmbeddedModel, SupportsEmbed)
    assert not issubclass(EmbeddedModel, SupportsCountTokens)
    assert issubclass(EmbeddedModel, SupportsHealth)
