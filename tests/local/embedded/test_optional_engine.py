"""mistralrs is an optional extra: importing the backend must not need it."""

import subprocess
import sys
from pathlib import Path

import pytest

from botticelli_core import GenerateRequest
from botticelli_embedded import EmbeddedConfig, EmbeddedModel
from botticelli_error import ConfigurationError


def test_importing_the_backend_does_not_import_the_engine() -> None:
    code = "import sys, botticelli_embedded; print('mistralrs' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.anyio
async def test_a_missing_engine_package_says_which_extra_to_install(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes `import mistralrs` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "mistralrs", None)
    async with EmbeddedModel(EmbeddedConfig(model_path=tiny_gguf)) as model:
        with pytest.raises(ConfigurationError, match=r"pip install 'botticelli\[embedded\]'") as info:
            await model.generate(GenerateRequest.from_prompt("Hi", max_tokens=2))
        assert info.value.provider == "embedded"
        assert isinstance(info.value.__cause__, ImportError)
        health = await model.health()
        assert not health.ready
        assert health.detail is not None
        assert "mistralrs" in health.detail
